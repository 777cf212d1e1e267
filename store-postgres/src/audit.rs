//! `hookline_core::ops::audit::OperatorAudit` on Postgres: the
//! `operator_audit` rows, text and JSON NUL-escaped as everywhere else.

use chrono::{DateTime, Utc};
use hookline_core::error::StoreError;
use hookline_core::ops::audit::{Operation, OperationQuery, OperatorAudit};
use hookline_core::text::{escape_json, escape_str, unescape_json, unescape_str};

use crate::PgStore;
use crate::store_error;

#[async_trait::async_trait]
impl OperatorAudit for PgStore {
    async fn record_operation(&self, op: &Operation) -> Result<i64, StoreError> {
        sqlx::query_scalar!(
            r#"INSERT INTO operator_audit (at, actor, action, target, count, detail)
               VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"#,
            op.at,
            escape_str(&op.actor).into_owned(),
            op.action,
            op.target.as_deref().map(|t| escape_str(t).into_owned()),
            op.count,
            escape_json(&op.detail).into_owned()
        )
        .fetch_one(self.pool())
        .await
        .map_err(store_error)
    }

    async fn operations(&self, q: &OperationQuery) -> Result<Vec<Operation>, StoreError> {
        let rows = sqlx::query!(
            r#"SELECT id, at AS "at: DateTime<Utc>", actor, action, target, count, detail
               FROM operator_audit
               WHERE ($1::timestamptz IS NULL OR at >= $1)
                 AND ($2::text IS NULL OR action = $2)
               ORDER BY at DESC, id DESC
               LIMIT $3"#,
            q.since,
            q.action.map(|a| a.as_str()),
            q.limit.max(1)
        )
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|r| Operation {
                id: r.id,
                at: r.at,
                actor: unescape_str(&r.actor).into_owned(),
                action: r.action,
                target: r.target.map(|t| unescape_str(&t).into_owned()),
                count: r.count,
                detail: unescape_json(&r.detail).into_owned(),
            })
            .collect())
    }
}
