//! `hookline_core::store::LoginStore` on SQLite: the statements of the
//! dashboard sessions (the row mapping is core's), times as
//! [`crate::time`] text.

use chrono::{DateTime, Utc};
use hookline_core::error::StoreError;
use hookline_core::store::login::{DashboardLogin, LoginRow, LoginStore, users_column};

use crate::store::SqliteStore;
use crate::store_error;
use crate::time::{from_text, to_text};

fn time(column: &str, text: &str) -> Result<DateTime<Utc>, StoreError> {
    from_text(text).ok_or_else(|| {
        StoreError::refused(format!(
            "dashboard_sessions.{column} {text:?} is not a time"
        ))
    })
}

#[async_trait::async_trait]
impl LoginStore for SqliteStore {
    async fn insert_login(&self, id_hash: &str, l: &DashboardLogin) -> Result<(), StoreError> {
        let (users, role, via) = (
            users_column(&l.grant.users),
            l.grant.role.as_str(),
            l.via.as_str(),
        );
        let (created, expires) = (to_text(l.created_at), to_text(l.expires_at));
        sqlx::query!(
            "INSERT INTO dashboard_sessions
                 (id_hash, principal, users, role, csrf, via, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            id_hash,
            l.grant.principal,
            users,
            role,
            l.csrf,
            via,
            created,
            expires
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
        let now = to_text(now);
        let Some(r) = sqlx::query!(
            "SELECT principal, users, role, csrf, via, created_at, expires_at
             FROM dashboard_sessions WHERE id_hash = ?1 AND expires_at > ?2",
            id_hash,
            now
        )
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?
        else {
            return Ok(None);
        };
        DashboardLogin::try_from(LoginRow {
            created_at: time("created_at", &r.created_at)?,
            expires_at: time("expires_at", &r.expires_at)?,
            principal: r.principal,
            users: r.users,
            role: r.role,
            csrf: r.csrf,
            via: r.via,
        })
        .map(Some)
    }

    async fn delete_login(&self, id_hash: &str) -> Result<bool, StoreError> {
        let r = sqlx::query!("DELETE FROM dashboard_sessions WHERE id_hash = ?1", id_hash)
            .execute(self.pool())
            .await
            .map_err(store_error)?;
        Ok(r.rows_affected() > 0)
    }

    async fn purge_logins(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let now = to_text(now);
        let r = sqlx::query!("DELETE FROM dashboard_sessions WHERE expires_at <= ?1", now)
            .execute(self.pool())
            .await
            .map_err(store_error)?;
        Ok(r.rows_affected())
    }
}
