//! The SQLite store: the statements of `hookline_core::store::WriteTx` (the
//! write protocol is `hookline_core::store::write`), with the behaviour of the
//! Postgres one (`hookline_store_postgres::PgStore`): the same audit row and
//! attempt history, the same duplicate and terminal-status logic, the same
//! domain rows merged the same order-independent way. Every statement is
//! checked at compile time against the SQLite schema (offline data in the
//! workspace's `.sqlx/`).
//!
//! SQLite holds NUL in text, so nothing is escaped: values read back equal
//! what Postgres gives after `hookline_core::text::unescape_*`.

mod domain;
mod rollup;

use std::time::Instant;

use chrono::Utc;
use hookline_core::error::StoreError;
use hookline_core::mapping::{
    ConversationOp, EntryOp, HeartbeatOp, MessageOp, SubagentOp, ToolUseOp,
};
use hookline_core::store::{
    AuditRecord, BatchItem, BatchResult, Failure, Outcome, Savepoint, Status, Store, Transactional,
    Work, WriteTx, write,
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
    ms: Option<i32>,
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

/// The end of an attempt: the audit row's status, times and error.
async fn finish(
    tx: &mut Tx,
    a: &AuditRecord,
    status: Status,
    ms: i32,
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
    Ok(())
}

/// A write transaction on SQLite (it holds the write lock, `BEGIN_WRITE`).
pub struct SqliteTx(Tx);

/// The user of session `sid` (`Reader::session_user`, `WriteTx::session_user`).
pub(crate) async fn session_user<'e, E: sqlx::SqliteExecutor<'e>>(
    ex: E,
    sid: &str,
) -> Result<Option<Option<String>>, StoreError> {
    sqlx::query_scalar!(
        "SELECT user_name FROM conversations WHERE session_id = ?1",
        sid
    )
    .fetch_optional(ex)
    .await
    .map_err(store_error)
}

#[async_trait::async_trait]
impl Transactional for SqliteStore {
    type Tx = SqliteTx;
    /// The write transaction (`BEGIN IMMEDIATE`) locks the whole database:
    /// one per batch, one commit.
    const ROW_LOCKS: bool = false;

    async fn begin(&self) -> Result<SqliteTx, StoreError> {
        SqliteStore::begin(self).await.map(SqliteTx)
    }
}

#[async_trait::async_trait]
impl WriteTx for SqliteTx {
    async fn lock_audit(&mut self, a: &AuditRecord) -> Result<Status, StoreError> {
        lock_audit(&mut self.0, a).await.map_err(store_error)
    }

    async fn history(
        &mut self,
        a: &AuditRecord,
        status: Status,
        ms: Option<i32>,
        error: Option<(&str, &str)>,
    ) -> Result<(), StoreError> {
        history(&mut self.0, a, status, ms, error)
            .await
            .map_err(store_error)
    }

    async fn finish(
        &mut self,
        a: &AuditRecord,
        status: Status,
        ms: i32,
        error: Option<(&str, &str)>,
        validation: Option<Value>,
    ) -> Result<(), StoreError> {
        finish(&mut self.0, a, status, ms, error, validation)
            .await
            .map_err(store_error)
    }

    async fn session_user(&mut self, sid: &str) -> Result<Option<Option<String>>, StoreError> {
        session_user(&mut *self.0, sid).await
    }

    /// Nothing to take: the transaction holds the database's write lock.
    async fn lock_session(&mut self, _sid: &str) -> Result<(), StoreError> {
        Ok(())
    }

    async fn conversation(&mut self, sid: &str, c: &ConversationOp) -> Result<(), StoreError> {
        domain::upsert_conversation(&mut self.0, sid, c)
            .await
            .map_err(store_error)
    }

    async fn entry(&mut self, sid: &str, e: &EntryOp) -> Result<(), StoreError> {
        domain::insert_entry(&mut self.0, sid, e)
            .await
            .map_err(store_error)
    }

    async fn message(&mut self, sid: &str, m: &MessageOp) -> Result<(), StoreError> {
        domain::upsert_message(&mut self.0, sid, m)
            .await
            .map_err(store_error)
    }

    async fn tool_use(&mut self, sid: &str, t: &ToolUseOp) -> Result<(), StoreError> {
        domain::upsert_tool_use(&mut self.0, sid, t)
            .await
            .map_err(store_error)
    }

    async fn subagent(&mut self, sid: &str, s: &SubagentOp) -> Result<(), StoreError> {
        domain::upsert_subagent(&mut self.0, sid, s)
            .await
            .map_err(store_error)
    }

    async fn heartbeat(&mut self, h: &HeartbeatOp) -> Result<(), StoreError> {
        domain::upsert_heartbeat(&mut self.0, h)
            .await
            .map_err(store_error)
    }

    async fn stitch(
        &mut self,
        sid: &str,
        c: &ConversationOp,
        has_entries: bool,
    ) -> Result<(), StoreError> {
        domain::stitch(&mut self.0, sid, c, has_entries)
            .await
            .map_err(store_error)
    }

    async fn refresh(&mut self, sid: &str) -> Result<(), StoreError> {
        domain::refresh(&mut self.0, sid).await.map_err(store_error)
    }

    async fn savepoint(&mut self, step: Savepoint) -> Result<(), StoreError> {
        sqlx::query(step.sql())
            .execute(&mut *self.0)
            .await
            .map(drop)
            .map_err(store_error)
    }

    async fn commit(self) -> Result<(), StoreError> {
        self.0.commit().await.map_err(store_error)
    }

    /// A plain commit: one transaction per batch here ([`Transactional::ROW_LOCKS`]
    /// is false), always the batch's last.
    async fn commit_unflushed(self) -> Result<(), StoreError> {
        self.commit().await
    }
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
        write::apply(self, audit, work, started).await
    }

    #[tracing::instrument(skip_all, fields(records = items.len()), err)]
    async fn apply_batch(&self, items: &[BatchItem<'_>]) -> BatchResult {
        write::apply_batch(self, items).await
    }

    async fn record_failure(&self, a: &AuditRecord, f: &Failure<'_>) -> Result<(), StoreError> {
        write::record_failure(self, a, f).await
    }
}
