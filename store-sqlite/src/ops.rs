//! `hookline_core::ops::Ops` on SQLite: the same answers as the Postgres
//! implementation (`hookline_core::store::pg_ops`).

use chrono::{DateTime, Utc};
use hookline_core::error::StoreError;
use hookline_core::ops::stats::{ErrorStats, StatCount, StatDuration};
use hookline_core::ops::{Attempt, AuditBody, AuditRow, HostRow, Ops, StatRow, StatSummary};

use crate::store::SqliteStore;
use crate::store_error;
use crate::time::{from_text, to_text};

pub(crate) fn time(s: &str) -> Result<DateTime<Utc>, StoreError> {
    from_text(s).ok_or_else(|| StoreError::refused(format!("bad timestamp {s:?} in the database")))
}

pub(crate) fn time_opt(s: Option<String>) -> Result<Option<DateTime<Utc>>, StoreError> {
    s.as_deref().map(time).transpose()
}

fn json(s: Option<String>) -> Option<serde_json::Value> {
    s.and_then(|s| serde_json::from_str(&s).ok())
}

#[async_trait::async_trait]
impl Ops for SqliteStore {
    async fn audit_row(&self, request_id: &str) -> Result<Option<AuditRow>, StoreError> {
        let r = sqlx::query!(
            r#"SELECT w.request_id, w.event_type, w.session_id, w.status, w.trace_id, w.message_id,
                      w.received_at, w.enqueued_at, w.processed_at, w.processing_ms, w.attempts,
                      w.error_code, w.error_message,
                      (SELECT min(a.at) FROM webhook_event_attempts a
                        WHERE a.request_id = w.request_id AND a.status IN ('RETRYING', 'FAILED'))
                        AS "first_failure_at?: String"
               FROM webhook_events w WHERE w.request_id = ?1"#,
            request_id
        )
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?;
        let Some(r) = r else { return Ok(None) };
        Ok(Some(AuditRow {
            request_id: r.request_id,
            event_type: r.event_type,
            session_id: r.session_id,
            status: r.status,
            trace_id: r.trace_id,
            message_id: r.message_id,
            received_at: time(&r.received_at)?,
            enqueued_at: time_opt(r.enqueued_at)?,
            processed_at: time_opt(r.processed_at)?,
            processing_ms: r.processing_ms,
            attempts: r.attempts,
            error_code: r.error_code,
            error_message: r.error_message,
            first_failure_at: time_opt(r.first_failure_at)?,
        }))
    }

    async fn audit_body(&self, request_id: &str) -> Result<AuditBody, StoreError> {
        let body = sqlx::query!(
            r#"SELECT payload, payload_text, validation_errors,
                      json_extract(payload, '$.tool_use_id') AS "tool_use_id?: String"
               FROM webhook_events WHERE request_id = ?1"#,
            request_id
        )
        .fetch_one(self.pool())
        .await
        .map_err(store_error)?;
        Ok(AuditBody {
            payload: json(body.payload),
            payload_text: body.payload_text,
            validation_errors: json(body.validation_errors),
            tool_use_id: body.tool_use_id,
        })
    }

    async fn attempts(&self, request_id: &str) -> Result<Vec<Attempt>, StoreError> {
        sqlx::query!(
            r#"SELECT at, status, message_id, receive_count, processing_ms, error_code, error_message
               FROM webhook_event_attempts WHERE request_id = ?1 ORDER BY at, id"#,
            request_id
        )
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|a| {
            Ok(Attempt {
                at: time(&a.at)?,
                status: a.status,
                message_id: a.message_id,
                receive_count: a.receive_count,
                processing_ms: a.processing_ms,
                error_code: a.error_code,
                error_message: a.error_message,
            })
        })
        .collect()
    }

    async fn session_counts(&self, session_id: &str) -> Result<Option<(i64, i64)>, StoreError> {
        Ok(sqlx::query!(
            "SELECT message_count, tool_use_count FROM conversations WHERE session_id = ?1",
            session_id
        )
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?
        .map(|c| (c.message_count, c.tool_use_count)))
    }

    async fn request_messages(
        &self,
        session_id: &str,
        request_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar!(
            r#"SELECT message_key FROM messages
                   WHERE session_id = ?1 AND message_key IN ('prompt:' || ?2, 'stop:' || ?2)
                   ORDER BY message_key"#,
            session_id,
            request_id
        )
        .fetch_all(self.pool())
        .await
        .map_err(store_error)
    }

    async fn tool_use_status(
        &self,
        tool_use_id: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        Ok(sqlx::query!(
            "SELECT tool_use_id, status FROM tool_uses WHERE tool_use_id = ?1",
            tool_use_id
        )
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?
        .map(|t| (t.tool_use_id, t.status)))
    }

    async fn mark_replayed(&self, request_id: &str, message_id: &str) -> Result<bool, StoreError> {
        let now = to_text(Utc::now());
        let mut tx = self
            .pool()
            .begin_with(crate::store::BEGIN_WRITE)
            .await
            .map_err(store_error)?;
        let changed = sqlx::query!(
            r#"UPDATE webhook_events SET status = 'REPLAYED', updated_at = ?2
               WHERE request_id = ?1 AND status NOT IN ('SUCCESS', 'INVALID', 'REPLAYED')"#,
            request_id,
            now
        )
        .execute(&mut *tx)
        .await
        .map_err(store_error)?
        .rows_affected();
        if changed > 0 {
            sqlx::query!(
                r#"INSERT INTO webhook_event_attempts (request_id, status, message_id, at)
                   VALUES (?1, 'REPLAYED', ?2, ?3)"#,
                request_id,
                message_id,
                now
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
        let since = to_text(since);
        let rows = sqlx::query!(
            r#"SELECT request_id, event_type, status, processing_ms, error_code, error_message,
                      received_at, processed_at
               FROM webhook_events
               WHERE received_at >= ?1 AND (NOT ?2 OR status IN ('INVALID', 'FAILED'))
               ORDER BY received_at DESC LIMIT ?3"#,
            since,
            failed_only,
            limit
        )
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|r| {
                let received = time(&r.received_at)?;
                let processed = time_opt(r.processed_at)?;
                Ok(StatRow {
                    request_id: r.request_id,
                    event_type: r.event_type,
                    received_at: received,
                    status: r.status,
                    processing_ms: r.processing_ms,
                    end_to_end_ms: processed.map(|p| (p - received).num_milliseconds()),
                    error_code: r.error_code,
                    error_message: r.error_message,
                })
            })
            .collect()
    }

    async fn stat_summary(&self, since: DateTime<Utc>) -> Result<StatSummary, StoreError> {
        let since = to_text(since);
        // All three read webhook_events_stats_idx only (docs/performance.md),
        // named: without statistics (no ANALYZE) SQLite prefers the status
        // or type index, a scan of the whole history.
        let counts = sqlx::query!(
            r#"SELECT event_type, status, count(*) AS "count!: i64"
               FROM webhook_events INDEXED BY webhook_events_stats_idx
               WHERE received_at >= ?1 GROUP BY event_type, status"#,
            since
        )
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|r| StatCount {
            event_type: r.event_type,
            status: r.status,
            count: u64::try_from(r.count).unwrap_or(0),
        })
        .collect();
        let errors = sqlx::query!(
            r#"SELECT error_code AS "error_code!", count(*) AS "count!: i64",
                      (SELECT m.error_message FROM webhook_events m
                       INDEXED BY webhook_events_stats_idx
                       WHERE m.error_code = e.error_code AND m.received_at >= ?1
                         AND m.status IN ('FAILED', 'INVALID', 'RETRYING')
                         AND m.error_message IS NOT NULL
                       ORDER BY m.received_at LIMIT 1) AS "sample?: String"
               FROM webhook_events e INDEXED BY webhook_events_stats_idx
               WHERE received_at >= ?1 AND status IN ('FAILED', 'INVALID', 'RETRYING')
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
            sample: r.sample,
        })
        .collect();
        let durations = sqlx::query!(
            r#"SELECT event_type, processing_ms, received_at, processed_at
               FROM webhook_events INDEXED BY webhook_events_stats_idx
               WHERE received_at >= ?1 AND status = 'SUCCESS'"#,
            since
        )
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?
        .into_iter()
        .map(|r| {
            let received = time(&r.received_at)?;
            Ok(StatDuration {
                event_type: r.event_type,
                processing_ms: r.processing_ms,
                end_to_end_ms: time_opt(r.processed_at)?.map(|p| (p - received).num_milliseconds()),
            })
        })
        .collect::<Result<_, StoreError>>()?;
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
        self.record_purge_sqlite(rec).await
    }

    async fn hosts(&self) -> Result<Vec<HostRow>, StoreError> {
        let rows = sqlx::query!(
            r#"SELECT user_name, host, first_seen, last_seen, hook_version, principal
               FROM hosts ORDER BY user_name, host"#
        )
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter()
            .map(|r| {
                Ok(HostRow {
                    first_seen: time(&r.first_seen)?,
                    last_seen: time(&r.last_seen)?,
                    user_name: r.user_name,
                    host: r.host,
                    hook_version: r.hook_version,
                    principal: r.principal,
                })
            })
            .collect()
    }
}
