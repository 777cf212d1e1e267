//! Purge on SQLite: the statements of `hookline_core::store::PurgeTx` (the
//! purge itself is `hookline_core::store::purge`), the same selection and
//! DELETEs as Postgres; and `Ops::record_purge`.

use hookline_core::error::StoreError;
use hookline_core::ops::purge::{PurgeRecord, Selection};
use hookline_core::store::purge::{PurgeTx, Purging, Table};

use crate::store::{SqliteStore, Tx};
use crate::store_error;
use crate::time::{to_text, to_text_opt};

async fn selected(tx: &mut Tx, sel: &Selection) -> sqlx::Result<Vec<String>> {
    let before = to_text_opt(sel.before);
    sqlx::query_scalar!(
        r#"WITH s AS (
               SELECT session_id FROM conversations
               UNION SELECT session_id FROM webhook_events WHERE session_id IS NOT NULL
           )
           SELECT s.session_id AS "session_id!: String"
           FROM s LEFT JOIN conversations c ON c.session_id = s.session_id
           WHERE (?1 IS NULL OR s.session_id = ?1)
             AND (?2 IS NULL OR c.user_name = ?2)
             AND (?3 IS NULL OR max(coalesce(c.started_at, ''), coalesce(c.ended_at, ''),
                   coalesce((SELECT max(w.received_at) FROM webhook_events w
                             WHERE w.session_id = s.session_id), '')) < ?3)
           ORDER BY 1"#,
        sel.session,
        sel.user,
        before
    )
    .fetch_all(&mut **tx)
    .await
}

/// A purge transaction on SQLite (it holds the write lock).
pub struct SqlitePurgeTx(Tx);

#[async_trait::async_trait]
impl Purging for SqliteStore {
    type Tx = SqlitePurgeTx;

    async fn begin_purge(&self) -> Result<SqlitePurgeTx, StoreError> {
        self.begin().await.map(SqlitePurgeTx)
    }
}

#[async_trait::async_trait]
impl PurgeTx for SqlitePurgeTx {
    async fn selected(&mut self, sel: &Selection) -> Result<Vec<String>, StoreError> {
        selected(&mut self.0, sel).await.map_err(store_error)
    }

    /// The ids go in as one JSON array (`json_each`).
    async fn delete(
        &mut self,
        table: Table,
        ids: &[String],
        sel: &Selection,
    ) -> Result<u64, StoreError> {
        let ids = serde_json::to_string(ids).map_err(StoreError::permanent)?;
        let (sessionless, before) = (sel.takes_sessionless(), to_text_opt(sel.before));
        let tx = &mut *self.0;
        let done = match table {
            Table::Attempts => sqlx::query!(
                r#"DELETE FROM webhook_event_attempts WHERE request_id IN (
                       SELECT request_id FROM webhook_events
                       WHERE session_id IN (SELECT value FROM json_each(?1))
                          OR (?2 AND session_id IS NULL AND received_at < ?3))"#,
                ids,
                sessionless,
                before
            )
            .execute(tx)
            .await,
            Table::Events => sqlx::query!(
                r#"DELETE FROM webhook_events
                   WHERE session_id IN (SELECT value FROM json_each(?1))
                      OR (?2 AND session_id IS NULL AND received_at < ?3)"#,
                ids,
                sessionless,
                before
            )
            .execute(tx)
            .await,
            Table::Entries => sqlx::query!(
                "DELETE FROM transcript_entries WHERE session_id IN (SELECT value FROM json_each(?1))",
                ids
            )
            .execute(tx)
            .await,
            Table::Subagents => sqlx::query!(
                "DELETE FROM subagents WHERE session_id IN (SELECT value FROM json_each(?1))",
                ids
            )
            .execute(tx)
            .await,
            Table::ToolUses => sqlx::query!(
                "DELETE FROM tool_uses WHERE session_id IN (SELECT value FROM json_each(?1))",
                ids
            )
            .execute(tx)
            .await,
            Table::Messages => sqlx::query!(
                "DELETE FROM messages WHERE session_id IN (SELECT value FROM json_each(?1))",
                ids
            )
            .execute(tx)
            .await,
            Table::Conversations => sqlx::query!(
                "DELETE FROM conversations WHERE session_id IN (SELECT value FROM json_each(?1))",
                ids
            )
            .execute(tx)
            .await,
        };
        Ok(done.map_err(store_error)?.rows_affected())
    }

    async fn end(self, keep: bool) -> Result<(), StoreError> {
        if keep {
            self.0.commit().await
        } else {
            self.0.rollback().await
        }
        .map_err(store_error)
    }
}

impl SqliteStore {
    pub(crate) async fn record_purge_sqlite(&self, rec: &PurgeRecord) -> Result<i64, StoreError> {
        let at = to_text(rec.at);
        let selection = rec.selection.to_string();
        let counts = rec.counts.to_string();
        sqlx::query_scalar!(
            r#"INSERT INTO purges (purged_at, actor, selection, counts)
               VALUES (?1, ?2, ?3, ?4) RETURNING id AS "id!: i64""#,
            at,
            rec.actor,
            selection,
            counts
        )
        .fetch_one(self.pool())
        .await
        .map_err(store_error)
    }
}
