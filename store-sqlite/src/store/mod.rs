//! The SQLite store: `hookline_core::store::Store` with the behaviour of the
//! Postgres one (`hookline_store_postgres::PgStore`): the same audit row and
//! attempt history, the same duplicate and terminal-status logic, the same
//! domain rows merged the same order-independent way. Every statement is
//! checked at compile time against the SQLite schema (offline data in the
//! workspace's `.sqlx/`).
//!
//! SQLite holds NUL in text, so nothing is escaped: values read back equal
//! what Postgres gives after `hookline_core::text::unescape_*`.

mod domain;

use std::collections::BTreeSet;
use std::time::Instant;

use chrono::Utc;
use hookline_core::error::StoreError;
use hookline_core::mapping::Plan;
use hookline_core::store::{
    AuditRecord, BatchItem, BatchResult, Failure, Outcome, Status, Store, Work,
};
use serde_json::Value;
use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::store_error;
use crate::time::{to_text, to_text_opt};

pub type Tx = Transaction<'static, Sqlite>;

/// Every write transaction takes the write lock up front: a deferred one
/// that reads first could fail to upgrade (SQLITE_BUSY) instead of waiting.
pub const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

fn json(v: &Value) -> String {
    v.to_string()
}

fn json_opt(v: &Option<Value>) -> Option<String> {
    v.as_ref().map(json)
}

fn ms_since(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

impl SqliteStore {
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Applies the embedded migrations.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        crate::MIGRATOR.run(&self.pool).await
    }

    pub(crate) async fn begin(&self) -> Result<Tx, StoreError> {
        self.pool.begin_with(BEGIN_WRITE).await.map_err(store_error)
    }
}

/// Inserts the audit row if new; returns its status. The transaction holds
/// the write lock, so nobody else changes it before the commit.
async fn lock_audit(tx: &mut Tx, a: &AuditRecord) -> sqlx::Result<Status> {
    let captured_at = to_text_opt(a.captured_at);
    let received_at = to_text(a.received_at);
    let enqueued_at = to_text_opt(a.enqueued_at);
    sqlx::query!(
        r#"INSERT INTO webhook_events (request_id, event_type, session_id, status, payload,
               payload_text, headers, source_ip, user_agent, client, principal, trace_id,
               span_id, message_id, captured_at, received_at, enqueued_at)
           VALUES (?1, ?2, ?3, 'PROCESSING', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
           ON CONFLICT (request_id) DO NOTHING"#,
        a.request_id,
        a.event_type,
        a.session_id,
        json_opt(&a.payload),
        a.payload_text,
        json(&a.headers),
        a.source_ip,
        a.user_agent,
        a.client,
        a.principal,
        a.trace_id,
        a.span_id,
        a.message_id,
        captured_at,
        received_at,
        enqueued_at,
    )
    .execute(&mut **tx)
    .await?;
    let status = sqlx::query_scalar!(
        "SELECT status FROM webhook_events WHERE request_id = ?1",
        a.request_id
    )
    .fetch_one(&mut **tx)
    .await?;
    // The column's CHECK admits only known statuses.
    Status::parse(&status)
        .ok_or_else(|| sqlx::Error::Protocol(format!("unknown status {status} in database")))
}

async fn history(
    tx: &mut Tx,
    a: &AuditRecord,
    status: Status,
    ms: Option<i64>,
    error: Option<(&str, &str)>,
) -> sqlx::Result<()> {
    let status = status.as_str();
    let (code, message) = (error.map(|e| e.0), error.map(|e| e.1));
    sqlx::query!(
        r#"INSERT INTO webhook_event_attempts
               (request_id, status, message_id, receive_count, processing_ms, error_code, error_message)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"#,
        a.request_id,
        status,
        a.message_id,
        a.receive_count,
        ms,
        code,
        message,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The end of an attempt: the audit row's status, times and error, and its
/// history row.
async fn finish(
    tx: &mut Tx,
    a: &AuditRecord,
    status: Status,
    ms: i64,
    error: Option<(&str, &str)>,
    validation: Option<Value>,
) -> sqlx::Result<()> {
    let now = to_text(Utc::now());
    let st = status.as_str();
    let (code, message) = (error.map(|e| e.0), error.map(|e| e.1));
    let validation = json_opt(&validation);
    sqlx::query!(
        r#"UPDATE webhook_events
           SET status = ?2, processed_at = ?3, processing_ms = ?4, attempts = attempts + 1,
               message_id = ?5, error_code = ?6, error_message = ?7, validation_errors = ?8,
               updated_at = ?3
           WHERE request_id = ?1"#,
        a.request_id,
        st,
        now,
        ms,
        a.message_id,
        code,
        message,
        validation,
    )
    .execute(&mut **tx)
    .await?;
    history(tx, a, status, Some(ms), error).await
}

/// Writes one record inside `tx`, without the session's derived state (the
/// caller refreshes each touched session once). Returns the outcome and the
/// session whose rows were written, if any.
async fn apply_in<'p>(
    tx: &mut Tx,
    audit: &AuditRecord,
    work: Work<'p>,
    started: Instant,
) -> sqlx::Result<(Outcome, Option<&'p str>)> {
    let status = lock_audit(tx, audit).await?;
    if status.is_terminal() {
        let ms = ms_since(started);
        history(tx, audit, Status::Duplicate, Some(ms), None).await?;
        return Ok((Outcome::Duplicate, None));
    }
    match work {
        Work::Apply(plan) => {
            write_plan(tx, plan).await?;
            finish(tx, audit, Status::Success, ms_since(started), None, None).await?;
            Ok((Outcome::Success, Some(plan.session_id.as_str())))
        }
        Work::AuditOnly => {
            finish(tx, audit, Status::Success, ms_since(started), None, None).await?;
            Ok((Outcome::Success, None))
        }
        Work::Invalid { code, errors } => {
            let first = errors.first().map(ToString::to_string).unwrap_or_default();
            let errors = serde_json::to_value(errors).ok();
            let ms = ms_since(started);
            finish(tx, audit, Status::Invalid, ms, Some((code, &first)), errors).await?;
            Ok((Outcome::Invalid, None))
        }
    }
}

async fn write_plan(tx: &mut Tx, p: &Plan) -> sqlx::Result<()> {
    let sid = p.session_id.as_str();
    domain::upsert_conversation(tx, sid, &p.conversation).await?;
    for e in &p.entries {
        domain::insert_entry(tx, sid, e).await?;
    }
    for m in &p.messages {
        domain::upsert_message(tx, sid, m).await?;
    }
    for t in &p.tool_uses {
        domain::upsert_tool_use(tx, sid, t).await?;
    }
    for s in &p.subagents {
        domain::upsert_subagent(tx, sid, s).await?;
    }
    domain::stitch(tx, sid, &p.conversation, !p.entries.is_empty()).await?;
    if let Some(h) = &p.heartbeat {
        domain::upsert_heartbeat(tx, h).await?;
    }
    Ok(())
}

async fn exec(tx: &mut Tx, sql: &'static str) -> sqlx::Result<()> {
    sqlx::query(sql).execute(&mut **tx).await.map(drop)
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    #[tracing::instrument(skip_all, fields(request_id = %audit.request_id), err)]
    async fn apply(
        &self,
        audit: &AuditRecord,
        work: Work<'_>,
        started: Instant,
    ) -> Result<Outcome, StoreError> {
        let mut tx = self.begin().await?;
        let (outcome, session) = apply_in(&mut tx, audit, work, started)
            .await
            .map_err(store_error)?;
        if let Some(sid) = session {
            domain::refresh(&mut tx, sid).await.map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)?;
        Ok(outcome)
    }

    /// One write transaction for the batch (one fsync instead of one per
    /// record), a savepoint per record so that a record the database
    /// refuses is rolled back alone; each touched session's derived state
    /// is refreshed once, at the end.
    #[tracing::instrument(skip_all, fields(records = items.len()), err)]
    async fn apply_batch(&self, items: &[BatchItem<'_>]) -> BatchResult {
        let mut results = Vec::with_capacity(items.len());
        let mut sessions = BTreeSet::new();
        let mut tx = self.begin().await?;
        for it in items {
            exec(&mut tx, "SAVEPOINT record")
                .await
                .map_err(store_error)?;
            match apply_in(&mut tx, it.audit, it.work, it.started).await {
                Ok((outcome, session)) => {
                    exec(&mut tx, "RELEASE record").await.map_err(store_error)?;
                    sessions.extend(session);
                    results.push(Ok(outcome));
                }
                Err(e) => {
                    // An error that ended the whole transaction (disk full,
                    // I/O) fails the rollback too: the batch as a whole.
                    exec(&mut tx, "ROLLBACK TO record")
                        .await
                        .map_err(store_error)?;
                    exec(&mut tx, "RELEASE record").await.map_err(store_error)?;
                    tracing::warn!(request_id = %it.audit.request_id, error = %e, "record rolled back within its batch");
                    results.push(Err(store_error(e)));
                }
            }
        }
        for sid in sessions {
            domain::refresh(&mut tx, sid).await.map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)?;
        Ok(results)
    }

    async fn record_failure(&self, a: &AuditRecord, f: &Failure<'_>) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let status = lock_audit(&mut tx, a).await.map_err(store_error)?;
        if !status.is_terminal() {
            let error = Some((f.code, f.message));
            finish(&mut tx, a, f.status, f.processing_ms.into(), error, None)
                .await
                .map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)
    }
}
