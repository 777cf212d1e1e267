//! `hookline_core::ops::audit::OperatorAudit` on SQLite: the same rows as
//! the Postgres store's, `detail` as JSON text.

use hookline_core::error::StoreError;
use hookline_core::ops::audit::{Operation, OperationQuery, OperatorAudit};

use crate::ops::time;
use crate::store::SqliteStore;
use crate::store_error;
use crate::time::{to_text, to_text_opt};

#[async_trait::async_trait]
impl OperatorAudit for SqliteStore {
    async fn record_operation(&self, op: &Operation) -> Result<i64, StoreError> {
        let (at, detail) = (to_text(op.at), op.detail.to_string());
        // The write lock first, as every write (see `tokens.rs`).
        let mut tx = self.begin().await?;
        let id = sqlx::query_scalar!(
            r#"INSERT INTO operator_audit (at, actor, action, target, count, detail)
               VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id AS "id!: i64""#,
            at,
            op.actor,
            op.action,
            op.target,
            op.count,
            detail
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        Ok(id)
    }

    async fn operations(&self, q: &OperationQuery) -> Result<Vec<Operation>, StoreError> {
        let since = to_text_opt(q.since);
        let action = q.action.map(|a| a.as_str());
        let limit = q.limit.max(1);
        let rows = sqlx::query!(
            r#"SELECT id AS "id!: i64", at, actor, action, target, count, detail
               FROM operator_audit
               WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR action = ?2)
               ORDER BY at DESC, id DESC
               LIMIT ?3"#,
            since,
            action,
            limit
        )
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|r| {
                Ok(Operation {
                    id: r.id,
                    at: time(&r.at)?,
                    actor: r.actor,
                    action: r.action,
                    target: r.target,
                    count: r.count,
                    detail: serde_json::from_str(&r.detail).map_err(StoreError::permanent)?,
                })
            })
            .collect()
    }
}
