//! `hookline_core::tokens::TokenStore` on SQLite: the same rows as the
//! Postgres store's, times as fixed-width text ([`crate::time`]). Writes
//! take the write lock first (`BEGIN IMMEDIATE`), as the store's other
//! writes do.

use chrono::{DateTime, Utc};
use hookline_core::error::StoreError;
use hookline_core::http::Role;
use hookline_core::tokens::{StoredToken, TokenStore, stored_role};

use crate::ops::{time, time_opt};
use crate::store::SqliteStore;
use crate::store_error;
use crate::time::{to_text, to_text_opt};

struct Row {
    id: String,
    user_name: String,
    role: String,
    hash: String,
    label: Option<String>,
    created_at: String,
    created_by: String,
    expires_at: Option<String>,
    revoked_at: Option<String>,
}

impl TryFrom<Row> for StoredToken {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<StoredToken, StoreError> {
        Ok(StoredToken {
            role: stored_role(&r.role)?,
            created_at: time(&r.created_at)?,
            expires_at: time_opt(r.expires_at)?,
            revoked_at: time_opt(r.revoked_at)?,
            id: r.id,
            user_name: r.user_name,
            hash: r.hash,
            label: r.label,
            created_by: r.created_by,
        })
    }
}

#[async_trait::async_trait]
impl TokenStore for SqliteStore {
    async fn insert_token(&self, t: &StoredToken) -> Result<(), StoreError> {
        let (role, created) = (t.role.as_str(), to_text(t.created_at));
        let (expires, revoked) = (to_text_opt(t.expires_at), to_text_opt(t.revoked_at));
        let mut tx = self.begin().await?;
        sqlx::query!(
            r#"INSERT INTO api_tokens (id, user_name, role, hash, label, created_at, created_by, expires_at, revoked_at)
               VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"#,
            t.id,
            t.user_name,
            role,
            t.hash,
            t.label,
            created,
            t.created_by,
            expires,
            revoked
        )
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<StoredToken>, StoreError> {
        let r = sqlx::query_as!(
            Row,
            r#"SELECT id AS "id!", user_name, role, hash, label, created_at, created_by, expires_at, revoked_at
               FROM api_tokens WHERE hash = ?1"#,
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
            r#"SELECT id AS "id!", user_name, role, hash, label, created_at, created_by, expires_at, revoked_at
               FROM api_tokens WHERE id = ?1"#,
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
            r#"SELECT id AS "id!", user_name, role, hash, label, created_at, created_by, expires_at, revoked_at
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
        let at = to_text(at);
        let mut tx = self.begin().await?;
        let r = sqlx::query!(
            "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            id,
            at
        )
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if r.rows_affected() > 0 {
            end_token_logins(&mut tx, id).await?;
        }
        tx.commit().await.map_err(store_error)?;
        Ok(r.rows_affected() > 0)
    }

    async fn set_token_role(&self, id: &str, role: Role) -> Result<bool, StoreError> {
        let role = role.as_str();
        let mut tx = self.begin().await?;
        let r = sqlx::query!(
            "UPDATE api_tokens SET role = ?2 WHERE id = ?1 AND role <> ?2",
            id,
            role
        )
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if r.rows_affected() > 0 {
            end_token_logins(&mut tx, id).await?;
        }
        tx.commit().await.map_err(store_error)?;
        Ok(r.rows_affected() > 0)
    }
}

/// Ends the dashboard sessions that token `id`'s user signed in with a
/// token: after a revocation or a role change they sign in again (with
/// what they are now allowed).
async fn end_token_logins(tx: &mut crate::store::Tx, id: &str) -> Result<(), StoreError> {
    sqlx::query!(
        "DELETE FROM dashboard_sessions WHERE via = 'token'
           AND principal = (SELECT user_name FROM api_tokens WHERE id = ?1)",
        id
    )
    .execute(&mut **tx)
    .await
    .map_err(store_error)?;
    Ok(())
}
