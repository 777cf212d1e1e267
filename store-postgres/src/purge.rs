//! Purge on Postgres (`Ops::purge_rows`, `Ops::record_purge`): the selected
//! sessions, then one DELETE per table in one transaction. A dry run runs
//! the same DELETEs and rolls them back, so its counts are exactly what a
//! purge of the same data deletes.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::PgStore;
use crate::store::Tx;
use crate::store_error;
use hookline_core::error::StoreError;
use hookline_core::ops::purge::{PurgeRecord, PurgeRows, Selection, TABLES};
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

/// Deletes the rows of `ids` (and, `sessionless`, the audit rows without a
/// session received before `before`); rows per table.
async fn delete(
    tx: &mut Tx<'_>,
    ids: &[String],
    sessionless: bool,
    before: Option<DateTime<Utc>>,
) -> Result<BTreeMap<String, i64>, StoreError> {
    let mut n = Vec::with_capacity(TABLES.len());
    n.push(
        sqlx::query!(
            r#"DELETE FROM webhook_event_attempts WHERE request_id IN (
                   SELECT request_id FROM webhook_events
                   WHERE session_id = ANY($1)
                      OR ($2 AND session_id IS NULL AND received_at < $3))"#,
            ids,
            sessionless,
            before
        )
        .execute(&mut **tx)
        .await
        .map_err(store_error)?
        .rows_affected(),
    );
    n.push(
        sqlx::query!(
            r#"DELETE FROM webhook_events
               WHERE session_id = ANY($1) OR ($2 AND session_id IS NULL AND received_at < $3)"#,
            ids,
            sessionless,
            before
        )
        .execute(&mut **tx)
        .await
        .map_err(store_error)?
        .rows_affected(),
    );
    n.push(
        sqlx::query!(
            "DELETE FROM transcript_entries WHERE session_id = ANY($1)",
            ids
        )
        .execute(&mut **tx)
        .await
        .map_err(store_error)?
        .rows_affected(),
    );
    n.push(
        sqlx::query!("DELETE FROM subagents WHERE session_id = ANY($1)", ids)
            .execute(&mut **tx)
            .await
            .map_err(store_error)?
            .rows_affected(),
    );
    n.push(
        sqlx::query!("DELETE FROM tool_uses WHERE session_id = ANY($1)", ids)
            .execute(&mut **tx)
            .await
            .map_err(store_error)?
            .rows_affected(),
    );
    n.push(
        sqlx::query!("DELETE FROM messages WHERE session_id = ANY($1)", ids)
            .execute(&mut **tx)
            .await
            .map_err(store_error)?
            .rows_affected(),
    );
    n.push(
        sqlx::query!("DELETE FROM conversations WHERE session_id = ANY($1)", ids)
            .execute(&mut **tx)
            .await
            .map_err(store_error)?
            .rows_affected(),
    );
    Ok(TABLES
        .iter()
        .zip(n)
        .map(|(t, n)| ((*t).to_owned(), i64::try_from(n).unwrap_or(i64::MAX)))
        .collect())
}

impl PgStore {
    pub(super) async fn purge_rows_pg(
        &self,
        sel: &Selection,
        dry_run: bool,
    ) -> Result<PurgeRows, StoreError> {
        let mut tx = self.pool().begin().await.map_err(store_error)?;
        let ids = selected(&mut tx, sel).await?;
        let counts = delete(&mut tx, &ids, sel.takes_sessionless(), sel.before).await?;
        if dry_run {
            tx.rollback().await.map_err(store_error)?;
        } else {
            tx.commit().await.map_err(store_error)?;
        }
        Ok(PurgeRows {
            sessions: ids.iter().map(|s| unescape_str(s).into_owned()).collect(),
            counts,
        })
    }

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
