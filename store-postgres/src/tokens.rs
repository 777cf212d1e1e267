//! `hookline_core::tokens::TokenStore` on Postgres: the `api_tokens` rows.
//! User names are plain names (`is_name`) and labels carry no control
//! characters (checked by `tokens::issue`), so nothing here needs the NUL
//! escaping.

use chrono::{DateTime, Utc};
use hookline_core::error::StoreError;
use hookline_core::http::Role;
use hookline_core::tokens::{StoredToken, TokenStore, stored_role};

use crate::PgStore;
use crate::store_error;

struct Row {
    id: String,
    user_name: String,
    role: String,
    hash: String,
    label: Option<String>,
    created_at: DateTime<Utc>,
    created_by: String,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<Row> for StoredToken {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<StoredToken, StoreError> {
        Ok(StoredToken {
            role: stored_role(&r.role)?,
            id: r.id,
            user_name: r.user_name,
            hash: r.hash,
            label: r.label,
            created_at: r.created_at,
            created_by: r.created_by,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
        })
    }
}

#[async_trait::async_trait]
impl TokenStore for PgStore {
    async fn insert_token(&self, t: &StoredToken) -> Result<(), StoreError> {
        sqlx::query!(
            r#"INSERT INTO api_tokens (id, user_name, role, hash, label, created_at, created_by, expires_at, revoked_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"#,
            t.id,
            t.user_name,
            t.role.as_str(),
            t.hash,
            t.label,
            t.created_at,
            t.created_by,
            t.expires_at,
            t.revoked_at
        )
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<StoredToken>, StoreError> {
        let r = sqlx::query_as!(
            Row,
            r#"SELECT id, user_name, role, hash, label, created_at, created_by, expires_at, revoked_at
               FROM api_tokens WHERE hash = $1"#,
            hash
        )
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?;
        r.map(StoredToken::try_from).transpose()
    }

    async fn token(&self, id: &str) -> Result<Option<StoredToken>, StoreError> {
        let r = sqlx::query_as!(
            Row,
            r#"SELECT id, user_name, role, hash, label, created_at, created_by, expires_at, revoked_at
               FROM api_tokens WHERE id = $1"#,
            id
        )
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?;
        r.map(StoredToken::try_from).transpose()
    }

    async fn tokens(&self) -> Result<Vec<StoredToken>, StoreError> {
        sqlx::query_as!(
            Row,
            r#"SELECT id, user_name, role, hash, label, created_at, created_by, expires_at, revoked_at
               FROM api_tokens ORDER BY created_at DESC, id"#
        )
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?
        .into_iter()
        .map(StoredToken::try_from)
        .collect()
    }

    async fn revoke_token(&self, id: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let changed = sqlx::query_scalar!(
            r#"WITH t AS (
                 UPDATE api_tokens SET revoked_at = $2
                  WHERE id = $1 AND revoked_at IS NULL
                 RETURNING user_name),
               d AS (
                 DELETE FROM dashboard_sessions s USING t
                  WHERE s.via = 'token' AND s.principal = t.user_name)
               SELECT count(*) AS "n!" FROM t"#,
            id,
            at
        )
        .fetch_one(self.pool())
        .await
        .map_err(store_error)?;
        Ok(changed > 0)
    }

    async fn set_token_role(&self, id: &str, role: Role) -> Result<bool, StoreError> {
        let changed = sqlx::query_scalar!(
            r#"WITH t AS (
                 UPDATE api_tokens SET role = $2
                  WHERE id = $1 AND role <> $2
                 RETURNING user_name),
               d AS (
                 DELETE FROM dashboard_sessions s USING t
                  WHERE s.via = 'token' AND s.principal = t.user_name)
               SELECT count(*) AS "n!" FROM t"#,
            id,
            role.as_str()
        )
        .fetch_one(self.pool())
        .await
        .map_err(store_error)?;
        Ok(changed > 0)
    }
}
