//! Purge on Postgres: the statements of `hookline_core::store::PurgeTx`
//! (the purge itself is `hookline_core::store::purge`), and
//! `Ops::record_purge`.

use crate::PgStore;
use crate::store::Tx;
use crate::store_error;
use hookline_core::error::StoreError;
use hookline_core::ops::purge::{PurgeRecord, Selection};
use hookline_core::store::purge::{PurgeTx, Purging, Table};
use hookline_core::text::{escape_str, unescape_str};

/// The stored (escaped) ids of the sessions `sel` selects.
async fn selected(tx: &mut Tx<'_>, sel: &Selection) -> Result<Vec<String>, StoreError> {
    let session = sel.session.as_deref().map(|s| escape_str(s).into_owned());
    let user = sel.user.as_deref().map(|s| escape_str(s).into_owned());
    sqlx::query_scalar!(
        r#"WITH s AS (
               SELECT session_id FROM conversations
               UNION SELECT session_id FROM webhook_events WHERE session_id IS NOT NULL
           )
           SELECT s.session_id AS "session_id!"
           FROM s LEFT JOIN conversations c ON c.session_id = s.session_id
           WHERE ($1::text IS NULL OR s.session_id = $1)
             AND ($2::text IS NULL OR c.user_name = $2)
             AND ($3::timestamptz IS NULL OR GREATEST(c.started_at, c.ended_at,
                   (SELECT max(w.received_at) FROM webhook_events w
                     WHERE w.session_id = s.session_id)) < $3)
           ORDER BY 1"#,
        session,
        user,
        sel.before
    )
    .fetch_all(&mut **tx)
    .await
    .map_err(store_error)
}

/// A purge transaction on Postgres.
pub struct PgPurgeTx(Tx<'static>);

#[async_trait::async_trait]
impl Purging for PgStore {
    type Tx = PgPurgeTx;

    async fn begin_purge(&self) -> Result<PgPurgeTx, StoreError> {
        self.pool()
            .begin()
            .await
            .map(PgPurgeTx)
            .map_err(store_error)
    }
}

#[async_trait::async_trait]
impl PurgeTx for PgPurgeTx {
    async fn selected(&mut self, sel: &Selection) -> Result<Vec<String>, StoreError> {
        let ids = selected(&mut self.0, sel).await?;
        Ok(ids.iter().map(|s| unescape_str(s).into_owned()).collect())
    }

    async fn delete(
        &mut self,
        table: Table,
        ids: &[String],
        sel: &Selection,
    ) -> Result<u64, StoreError> {
        let ids: Vec<String> = ids.iter().map(|s| escape_str(s).into_owned()).collect();
        let (sessionless, before) = (sel.takes_sessionless(), sel.before);
        let tx = &mut *self.0;
        let done = match table {
            Table::Attempts => {
                sqlx::query!(
                    r#"DELETE FROM webhook_event_attempts WHERE request_id IN (
                       SELECT request_id FROM webhook_events
                       WHERE session_id = ANY($1)
                          OR ($2 AND session_id IS NULL AND received_at < $3))"#,
                    &ids,
                    sessionless,
                    before
                )
                .execute(tx)
                .await
            }
            Table::Events => {
                sqlx::query!(
                    r#"DELETE FROM webhook_events
                   WHERE session_id = ANY($1) OR ($2 AND session_id IS NULL AND received_at < $3)"#,
                    &ids,
                    sessionless,
                    before
                )
                .execute(tx)
                .await
            }
            Table::Entries => {
                sqlx::query!(
                    "DELETE FROM transcript_entries WHERE session_id = ANY($1)",
                    &ids
                )
                .execute(tx)
                .await
            }
            Table::Subagents => {
                sqlx::query!("DELETE FROM subagents WHERE session_id = ANY($1)", &ids)
                    .execute(tx)
                    .await
            }
            Table::ToolUses => {
                sqlx::query!("DELETE FROM tool_uses WHERE session_id = ANY($1)", &ids)
                    .execute(tx)
                    .await
            }
            Table::Messages => {
                sqlx::query!("DELETE FROM messages WHERE session_id = ANY($1)", &ids)
                    .execute(tx)
                    .await
            }
            Table::Conversations => {
                sqlx::query!("DELETE FROM conversations WHERE session_id = ANY($1)", &ids)
                    .execute(tx)
                    .await
            }
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

impl PgStore {
    pub(super) async fn record_purge_pg(&self, rec: &PurgeRecord) -> Result<i64, StoreError> {
        sqlx::query_scalar!(
            r#"INSERT INTO purges (purged_at, actor, selection, counts)
               VALUES ($1, $2, $3, $4) RETURNING id"#,
            rec.at,
            escape_str(&rec.actor).into_owned(),
            hookline_core::text::escape_json(&rec.selection).into_owned(),
            rec.counts
        )
        .fetch_one(self.pool())
        .await
        .map_err(store_error)
    }
}
