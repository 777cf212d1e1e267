//! Purge on SQLite: the same selection and the same DELETEs as Postgres
//! (`hookline_core::store::pg_purge`), in one write transaction; a dry run
//! rolls them back, so its counts are what a purge deletes.

use std::collections::BTreeMap;

use hookline_core::error::StoreError;
use hookline_core::ops::purge::{PurgeRecord, PurgeRows, Selection, TABLES};

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

async fn delete(
    tx: &mut Tx,
    ids: &str,
    sessionless: bool,
    before: Option<String>,
) -> sqlx::Result<BTreeMap<String, i64>> {
    let mut n = Vec::with_capacity(TABLES.len());
    n.push(
        sqlx::query!(
            r#"DELETE FROM webhook_event_attempts WHERE request_id IN (
                   SELECT request_id FROM webhook_events
                   WHERE session_id IN (SELECT value FROM json_each(?1))
                      OR (?2 AND session_id IS NULL AND received_at < ?3))"#,
            ids,
            sessionless,
            before
        )
        .execute(&mut **tx)
        .await?
        .rows_affected(),
    );
    n.push(
        sqlx::query!(
            r#"DELETE FROM webhook_events
               WHERE session_id IN (SELECT value FROM json_each(?1))
                  OR (?2 AND session_id IS NULL AND received_at < ?3)"#,
            ids,
            sessionless,
            before
        )
        .execute(&mut **tx)
        .await?
        .rows_affected(),
    );
    n.push(
        sqlx::query!(
            "DELETE FROM transcript_entries WHERE session_id IN (SELECT value FROM json_each(?1))",
            ids
        )
        .execute(&mut **tx)
        .await?
        .rows_affected(),
    );
    n.push(
        sqlx::query!(
            "DELETE FROM subagents WHERE session_id IN (SELECT value FROM json_each(?1))",
            ids
        )
        .execute(&mut **tx)
        .await?
        .rows_affected(),
    );
    n.push(
        sqlx::query!(
            "DELETE FROM tool_uses WHERE session_id IN (SELECT value FROM json_each(?1))",
            ids
        )
        .execute(&mut **tx)
        .await?
        .rows_affected(),
    );
    n.push(
        sqlx::query!(
            "DELETE FROM messages WHERE session_id IN (SELECT value FROM json_each(?1))",
            ids
        )
        .execute(&mut **tx)
        .await?
        .rows_affected(),
    );
    n.push(
        sqlx::query!(
            "DELETE FROM conversations WHERE session_id IN (SELECT value FROM json_each(?1))",
            ids
        )
        .execute(&mut **tx)
        .await?
        .rows_affected(),
    );
    Ok(TABLES
        .iter()
        .zip(n)
        .map(|(t, n)| ((*t).to_owned(), i64::try_from(n).unwrap_or(i64::MAX)))
        .collect())
}

impl SqliteStore {
    pub(crate) async fn purge_rows_sqlite(
        &self,
        sel: &Selection,
        dry_run: bool,
    ) -> Result<PurgeRows, StoreError> {
        let mut tx = self.begin().await?;
        let ids = selected(&mut tx, sel).await.map_err(store_error)?;
        let json = serde_json::to_string(&ids)
            .map_err(|e| StoreError::Permanent(format!("session ids: {e}")))?;
        let counts = delete(
            &mut tx,
            &json,
            sel.takes_sessionless(),
            to_text_opt(sel.before),
        )
        .await
        .map_err(store_error)?;
        if dry_run {
            tx.rollback().await.map_err(store_error)?;
        } else {
            tx.commit().await.map_err(store_error)?;
        }
        Ok(PurgeRows {
            sessions: ids,
            counts,
        })
    }

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
