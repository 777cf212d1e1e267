//! `hookline_core::store::LoginStore` on Postgres: the statements of the
//! dashboard sessions (the row mapping is core's).

use chrono::{DateTime, Utc};
use hookline_core::error::StoreError;
use hookline_core::store::login::{DashboardLogin, LoginRow, LoginStore, users_column};

use crate::PgStore;
use crate::store_error;

#[async_trait::async_trait]
impl LoginStore for PgStore {
    async fn insert_login(&self, id_hash: &str, l: &DashboardLogin) -> Result<(), StoreError> {
        sqlx::query!(
            "INSERT INTO dashboard_sessions
                 (id_hash, principal, users, role, csrf, via, created_at, expires_at)
             VALUES ($1, $2, $3::text::jsonb, $4, $5, $6, $7, $8)",
            id_hash,
            l.grant.principal,
            users_column(&l.grant.users),
            l.grant.role.as_str(),
            l.csrf,
            l.via.as_str(),
            l.created_at,
            l.expires_at
        )
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn find_login(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DashboardLogin>, StoreError> {
        let row = sqlx::query_as!(
            LoginRow,
            r#"SELECT principal, users::text AS users, role, csrf, via, created_at, expires_at
               FROM dashboard_sessions WHERE id_hash = $1 AND expires_at > $2"#,
            id_hash,
            now
        )
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?;
        row.map(DashboardLogin::try_from).transpose()
    }

    async fn delete_login(&self, id_hash: &str) -> Result<bool, StoreError> {
        let r = sqlx::query!("DELETE FROM dashboard_sessions WHERE id_hash = $1", id_hash)
            .execute(self.pool())
            .await
            .map_err(store_error)?;
        Ok(r.rows_affected() > 0)
    }

    async fn purge_logins(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let r = sqlx::query!("DELETE FROM dashboard_sessions WHERE expires_at <= $1", now)
            .execute(self.pool())
            .await
            .map_err(store_error)?;
        Ok(r.rows_affected())
    }
}
