//! [`Ops`] on Postgres: audit rows with their history, REPLAYED marks, the
//! rows behind `hookline events stats`. Values come back unescaped.

use chrono::{DateTime, Utc};

use crate::PgStore;
use crate::store_error;
use hookline_core::error::StoreError;
use hookline_core::ops::stats::{ErrorStats, StatCount, StatDuration};
use hookline_core::ops::{Attempt, AuditBody, AuditRow, HostRow, Ops, StatRow, StatSummary};
use hookline_core::text::{escape_str, unescape_json, unescape_str};

fn un(s: Option<String>) -> Option<String> {
    s.map(|s| unescape_str(&s).into_owned())
}

#[async_trait::async_trait]
impl Ops for PgStore {
    async fn audit_row(&self, request_id: &str) -> Result<Option<AuditRow>, StoreError> {
        let id = escape_str(request_id).into_owned();
        let r = sqlx::query!(
            r#"SELECT w.request_id, w.event_type, w.session_id, w.status, w.trace_id, w.message_id,
                      w.received_at, w.enqueued_at, w.processed_at, w.processing_ms, w.attempts,
                      w.error_code, w.error_message,
                      (SELECT min(a.at) FROM webhook_event_attempts a
                        WHERE a.request_id = w.request_id AND a.status IN ('RETRYING', 'FAILED'))
                        AS "first_failure_at: DateTime<Utc>"
               FROM webhook_events w WHERE w.request_id = $1"#,
            id
        )
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?;
        Ok(r.map(|r| AuditRow {
            request_id: unescape_str(&r.request_id).into_owned(),
            event_type: unescape_str(&r.event_type).into_owned(),
            session_id: un(r.session_id),
            status: r.status,
            trace_id: r.trace_id,
            message_id: r.message_id,
            received_at: r.received_at,
            enqueued_at: r.enqueued_at,
            processed_at: r.processed_at,
            processing_ms: r.processing_ms.map(i64::from),
            attempts: r.attempts.into(),
            error_code: r.error_code,
            error_message: un(r.error_message),
            first_failure_at: r.first_failure_at,
        }))
    }

    async fn audit_body(&self, request_id: &str) -> Result<AuditBody, StoreError> {
        let id = escape_str(request_id).into_owned();
        let body = sqlx::query!(
            r#"SELECT payload, payload_text, validation_errors, payload->>'tool_use_id' AS tool_use_id
               FROM webhook_events WHERE request_id = $1"#,
            id
        )
        .fetch_one(self.pool())
        .await
        .map_err(store_error)?;
        Ok(AuditBody {
            payload: body.payload.map(|v| unescape_json(&v).into_owned()),
            payload_text: un(body.payload_text),
            validation_errors: body
                .validation_errors
                .map(|v| unescape_json(&v).into_owned()),
            tool_use_id: un(body.tool_use_id),
        })
    }

    async fn attempts(&self, request_id: &str) -> Result<Vec<Attempt>, StoreError> {
        let id = escape_str(request_id).into_owned();
        Ok(sqlx::query!(
            r#"SELECT at, status, message_id, receive_count, processing_ms, error_code, error_message
               FROM webhook_event_attempts WHERE request_id = $1 ORDER BY at, id"#,
            id
        )
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|a| Attempt {
            at: a.at,
            status: a.status,
            message_id: a.message_id,
            receive_count: a.receive_count.map(i64::from),
            processing_ms: a.processing_ms.map(i64::from),
            error_code: a.error_code,
            error_message: un(a.error_message),
        })
        .collect())
    }

    async fn session_counts(&self, session_id: &str) -> Result<Option<(i64, i64)>, StoreError> {
        let sid = escape_str(session_id).into_owned();
        Ok(sqlx::query!(
            "SELECT message_count, tool_use_count FROM conversations WHERE session_id = $1",
            sid
        )
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?
        .map(|c| (c.message_count.into(), c.tool_use_count.into())))
    }

    async fn request_messages(
        &self,
        session_id: &str,
        request_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        let (sid, id) = (escape_str(session_id), escape_str(request_id));
        Ok(sqlx::query_scalar!(
            r#"SELECT message_key FROM messages
                   WHERE session_id = $1 AND message_key IN ('prompt:' || $2, 'stop:' || $2)
                   ORDER BY message_key"#,
            sid.as_ref(),
            id.as_ref()
        )
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|k| unescape_str(&k).into_owned())
        .collect())
    }

    async fn tool_use_status(
        &self,
        tool_use_id: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        let tid = escape_str(tool_use_id).into_owned();
        Ok(sqlx::query!(
            "SELECT tool_use_id, status FROM tool_uses WHERE tool_use_id = $1",
            tid
        )
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?
        .map(|t| (unescape_str(&t.tool_use_id).into_owned(), t.status)))
    }

    async fn mark_replayed(&self, request_id: &str, message_id: &str) -> Result<bool, StoreError> {
        let id = escape_str(request_id).into_owned();
        let mut tx = self.pool().begin().await.map_err(store_error)?;
        let changed = sqlx::query!(
            r#"UPDATE webhook_events SET status = 'REPLAYED', updated_at = now()
               WHERE request_id = $1 AND status NOT IN ('SUCCESS', 'INVALID', 'REPLAYED')"#,
            id
        )
        .execute(&mut *tx)
        .await
        .map_err(store_error)?
        .rows_affected();
        if changed > 0 {
            sqlx::query!(
                r#"INSERT INTO webhook_event_attempts (request_id, status, message_id)
                   VALUES ($1, 'REPLAYED', $2)"#,
                id,
                message_id
            )
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)?;
        Ok(changed > 0)
    }

    async fn stat_rows(
        &self,
        since: DateTime<Utc>,
        failed_only: bool,
        limit: i64,
    ) -> Result<Vec<StatRow>, StoreError> {
        Ok(sqlx::query!(
            r#"SELECT request_id, event_type, received_at, status, processing_ms, error_code,
                      error_message,
                      (EXTRACT(EPOCH FROM (processed_at - received_at)) * 1000)::bigint AS e2e_ms
               FROM webhook_events
               WHERE received_at >= $1 AND (NOT $2 OR status IN ('INVALID', 'FAILED'))
               ORDER BY received_at DESC LIMIT $3"#,
            since,
            failed_only,
            limit
        )
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|r| StatRow {
            request_id: unescape_str(&r.request_id).into_owned(),
            event_type: unescape_str(&r.event_type).into_owned(),
            received_at: r.received_at,
            status: r.status,
            processing_ms: r.processing_ms.map(i64::from),
            end_to_end_ms: r.e2e_ms,
            error_code: r.error_code,
            error_message: un(r.error_message),
        })
        .collect())
    }

    async fn stat_summary(&self, since: DateTime<Utc>) -> Result<StatSummary, StoreError> {
        // All three read webhook_events_stats_idx (docs/performance.md).
        let counts = sqlx::query!(
            r#"SELECT event_type, status, count(*) AS "count!"
               FROM webhook_events WHERE received_at >= $1 GROUP BY event_type, status"#,
            since
        )
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|r| StatCount {
            event_type: unescape_str(&r.event_type).into_owned(),
            status: r.status,
            count: u64::try_from(r.count).unwrap_or(0),
        })
        .collect();
        let errors = sqlx::query!(
            r#"SELECT error_code AS "error_code!", count(*) AS "count!",
                      (SELECT m.error_message FROM webhook_events m
                       WHERE m.error_code = e.error_code AND m.received_at >= $1
                         AND m.status IN ('FAILED', 'INVALID', 'RETRYING')
                         AND m.error_message IS NOT NULL
                       ORDER BY m.received_at LIMIT 1) AS sample
               FROM webhook_events e
               WHERE received_at >= $1 AND status IN ('FAILED', 'INVALID', 'RETRYING')
                 AND error_code IS NOT NULL
               GROUP BY error_code"#,
            since
        )
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|r| ErrorStats {
            error_code: r.error_code,
            count: u64::try_from(r.count).unwrap_or(0),
            sample: un(r.sample),
        })
        .collect();
        let durations = sqlx::query!(
            r#"SELECT event_type, processing_ms,
                      (EXTRACT(EPOCH FROM (processed_at - received_at)) * 1000)::bigint AS e2e_ms
               FROM webhook_events WHERE received_at >= $1 AND status = 'SUCCESS'"#,
            since
        )
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|r| StatDuration {
            event_type: unescape_str(&r.event_type).into_owned(),
            processing_ms: r.processing_ms.map(i64::from),
            end_to_end_ms: r.e2e_ms,
        })
        .collect();
        Ok(StatSummary {
            counts,
            errors,
            durations,
        })
    }

    async fn purge_rows(
        &self,
        sel: &hookline_core::ops::purge::Selection,
        dry_run: bool,
    ) -> Result<hookline_core::ops::purge::PurgeRows, StoreError> {
        hookline_core::store::purge::purge_rows(self, sel, dry_run).await
    }

    async fn record_purge(
        &self,
        rec: &hookline_core::ops::purge::PurgeRecord,
    ) -> Result<i64, StoreError> {
        self.record_purge_pg(rec).await
    }

    async fn hosts(&self) -> Result<Vec<HostRow>, StoreError> {
        Ok(sqlx::query!(
            r#"SELECT h.user_name, h.host, h.first_seen, h.last_seen, h.hook_version, h.principal
               FROM hosts h ORDER BY h.user_name, h.host"#
        )
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|r| HostRow {
            user_name: unescape_str(&r.user_name).into_owned(),
            host: unescape_str(&r.host).into_owned(),
            first_seen: r.first_seen,
            last_seen: r.last_seen,
            hook_version: un(r.hook_version),
            principal: un(r.principal),
        })
        .collect())
    }
}
