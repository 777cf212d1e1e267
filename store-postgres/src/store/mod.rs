//! The Postgres store: the statements of `hookline_core::store::WriteTx`
//! (the write protocol itself is `hookline_core::store::write`, once for
//! every backend). Every statement is checked at compile time (offline data
//! in `store-postgres/.sqlx/`). Text and JSON are escaped for Postgres
//! (`hookline_core::text`): NUL is kept, never dropped.

mod domain;
mod rollup;

use std::time::Instant;

use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};

use crate::store_error;
use hookline_core::error::StoreError;
use hookline_core::mapping::{
    ConversationOp, EntryOp, HeartbeatOp, MessageOp, SubagentOp, ToolUseOp,
};
use hookline_core::store::{
    AuditRecord, BatchItem, BatchResult, Failure, Outcome, Savepoint, Status, Store, Transactional,
    Work, WriteTx, write,
};
use hookline_core::text::{escape_json, escape_str};

pub(crate) type Tx<'a> = Transaction<'a, Postgres>;

/// Postgres migrations, embedded.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
}

fn esc(s: &Option<String>) -> Option<String> {
    s.as_deref().map(|s| escape_str(s).into_owned())
}

fn esc_json(v: &Option<Value>) -> Option<Value> {
    v.as_ref().map(|v| escape_json(v).into_owned())
}

impl PgStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies the embedded migrations.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        MIGRATOR.run(&self.pool).await
    }
}

/// The user of session `sid` (`Reader::session_user`, `WriteTx::session_user`).
pub(crate) async fn session_user<'e, E: sqlx::PgExecutor<'e>>(
    ex: E,
    sid: &str,
) -> Result<Option<Option<String>>, StoreError> {
    let user: Option<Option<String>> = sqlx::query_scalar!(
        "SELECT user_name FROM conversations WHERE session_id = $1",
        escape_str(sid).into_owned(),
    )
    .fetch_optional(ex)
    .await
    .map_err(store_error)?;
    Ok(user.map(|u| u.map(|u| hookline_core::text::unescape_str(&u).into_owned())))
}

/// The first key of the advisory locks that [`WriteTx::lock_session`]
/// takes (the second is the session id's `hashtext`): a class of its own,
/// apart from the single-key advisory locks. "hlse".
pub const SESSION_LOCK_CLASS: i32 = 0x686c_7365;

/// A write transaction on Postgres.
pub struct PgTx(Tx<'static>);

#[async_trait::async_trait]
impl Transactional for PgStore {
    type Tx = PgTx;
    const ROW_LOCKS: bool = true;

    async fn begin(&self) -> Result<PgTx, StoreError> {
        self.pool.begin().await.map(PgTx).map_err(store_error)
    }
}

#[async_trait::async_trait]
impl WriteTx for PgTx {
    /// One statement: the no-op update of a conflict locks the existing row
    /// and returns its status unchanged.
    async fn lock_audit(&mut self, a: &AuditRecord) -> Result<Status, StoreError> {
        let status = sqlx::query_scalar!(
            r#"INSERT INTO webhook_events (request_id, event_type, session_id, status, payload,
                   payload_text, headers, source_ip, user_agent, client, principal, trace_id,
                   span_id, message_id, captured_at, received_at, enqueued_at)
               VALUES ($1, $2, $3, 'PROCESSING', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
               ON CONFLICT (request_id) DO UPDATE SET request_id = EXCLUDED.request_id
               RETURNING status"#,
            escape_str(&a.request_id).into_owned(),
            escape_str(&a.event_type).into_owned(),
            esc(&a.session_id),
            esc_json(&a.payload),
            esc(&a.payload_text),
            escape_json(&a.headers).into_owned(),
            esc(&a.source_ip),
            esc(&a.user_agent),
            esc(&a.client),
            esc(&a.principal),
            a.trace_id,
            a.span_id,
            a.message_id,
            a.captured_at,
            a.received_at,
            a.enqueued_at,
        )
        .fetch_one(&mut *self.0)
        .await
        .map_err(store_error)?;
        Status::parse(&status)
            .ok_or_else(|| StoreError::refused(format!("unknown status {status} in database")))
    }

    async fn history(
        &mut self,
        a: &AuditRecord,
        status: Status,
        ms: Option<i32>,
        error: Option<(&str, &str)>,
    ) -> Result<(), StoreError> {
        sqlx::query!(
            r#"INSERT INTO webhook_event_attempts
                   (request_id, status, message_id, receive_count, processing_ms, error_code, error_message)
               VALUES ($1, $2, $3, $4, $5, $6, $7)"#,
            a.request_id,
            status.as_str(),
            a.message_id,
            a.receive_count,
            ms,
            error.map(|e| e.0),
            error.map(|e| escape_str(e.1).into_owned()),
        )
        .execute(&mut *self.0)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn finish(
        &mut self,
        a: &AuditRecord,
        status: Status,
        ms: i32,
        error: Option<(&str, &str)>,
        validation: Option<Value>,
    ) -> Result<(), StoreError> {
        sqlx::query!(
            r#"UPDATE webhook_events
               SET status = $2, processed_at = now(), processing_ms = $3, attempts = attempts + 1,
                   message_id = $4, error_code = $5, error_message = $6, validation_errors = $7,
                   updated_at = now()
               WHERE request_id = $1"#,
            a.request_id,
            status.as_str(),
            ms,
            a.message_id,
            error.map(|e| e.0),
            error.map(|e| escape_str(e.1).into_owned()),
            validation.map(|v| escape_json(&v).into_owned()),
        )
        .execute(&mut *self.0)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn session_user(&mut self, sid: &str) -> Result<Option<Option<String>>, StoreError> {
        session_user(&mut *self.0, sid).await
    }

    /// A transaction-scoped advisory lock on the session's id
    /// ([`SESSION_LOCK_CLASS`], `hashtext`), then its `conversations` row
    /// `FOR NO KEY UPDATE` (the lock of the session's upsert; other
    /// sessions' rows may still reference it, their foreign keys take `FOR
    /// KEY SHARE`). The advisory lock is what serializes the writers of a
    /// session that is not captured yet: with no row to lock, two
    /// transactions would each insert an audit row and then wait on the
    /// other's insert of the session's row (a deadlock, seen in
    /// `worker_order::concurrent_batches_of_one_session_give_the_same_tables`).
    /// Two sessions whose ids hash alike only wait on each other.
    async fn lock_session(&mut self, sid: &str) -> Result<(), StoreError> {
        let sid = escape_str(sid).into_owned();
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind(SESSION_LOCK_CLASS)
            .bind(&sid)
            .execute(&mut *self.0)
            .await
            .map_err(store_error)?;
        sqlx::query("SELECT 1 FROM conversations WHERE session_id = $1 FOR NO KEY UPDATE")
            .bind(&sid)
            .fetch_optional(&mut *self.0)
            .await
            .map(drop)
            .map_err(store_error)
    }

    async fn conversation(&mut self, sid: &str, c: &ConversationOp) -> Result<(), StoreError> {
        domain::upsert_conversation(&mut self.0, &escape_str(sid), c).await
    }

    async fn entry(&mut self, sid: &str, e: &EntryOp) -> Result<(), StoreError> {
        domain::insert_entry(&mut self.0, &escape_str(sid), e).await
    }

    async fn message(&mut self, sid: &str, m: &MessageOp) -> Result<(), StoreError> {
        domain::upsert_message(&mut self.0, &escape_str(sid), m).await
    }

    async fn tool_use(&mut self, sid: &str, t: &ToolUseOp) -> Result<(), StoreError> {
        domain::upsert_tool_use(&mut self.0, &escape_str(sid), t).await
    }

    async fn subagent(&mut self, sid: &str, s: &SubagentOp) -> Result<(), StoreError> {
        domain::upsert_subagent(&mut self.0, &escape_str(sid), s).await
    }

    async fn heartbeat(&mut self, h: &HeartbeatOp) -> Result<(), StoreError> {
        domain::upsert_heartbeat(&mut self.0, h).await
    }

    async fn stitch(
        &mut self,
        sid: &str,
        c: &ConversationOp,
        has_entries: bool,
    ) -> Result<(), StoreError> {
        domain::stitch(&mut self.0, &escape_str(sid), c, has_entries).await
    }

    async fn refresh(&mut self, sid: &str) -> Result<(), StoreError> {
        domain::refresh(&mut self.0, &escape_str(sid)).await
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

    async fn commit_unflushed(mut self) -> Result<(), StoreError> {
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *self.0)
            .await
            .map_err(store_error)?;
        self.commit().await
    }
}

#[async_trait::async_trait]
impl Store for PgStore {
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
