//! The Postgres store. Every statement is checked at compile time (sqlx
//! offline data in `.sqlx/`). Text and JSON are escaped for Postgres
//! (`crate::text`): NUL is kept, never dropped.

use std::time::Instant;

use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};

use super::pg_domain::{
    insert_entry, refresh, stitch, upsert_conversation, upsert_message, upsert_subagent,
    upsert_tool_use,
};
use super::{AuditRecord, Failure, Outcome, Status, Store, Work};
use crate::error::StoreError;
use crate::mapping::Plan;
use crate::text::{escape_json, escape_str};

pub(super) type Tx<'a> = Transaction<'a, Postgres>;

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

fn ms_since(started: Instant) -> i32 {
    i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX)
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

    /// Inserts the audit row if new and locks it; returns its status.
    async fn lock_audit(tx: &mut Tx<'_>, a: &AuditRecord) -> Result<Status, StoreError> {
        sqlx::query!(
            r#"INSERT INTO webhook_events (request_id, event_type, session_id, status, payload,
                   payload_text, headers, source_ip, user_agent, client, principal, trace_id,
                   span_id, message_id, captured_at, received_at, enqueued_at)
               VALUES ($1, $2, $3, 'PROCESSING', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
               ON CONFLICT (request_id) DO NOTHING"#,
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
        .execute(&mut **tx)
        .await?;
        let status = sqlx::query_scalar!(
            "SELECT status FROM webhook_events WHERE request_id = $1 FOR UPDATE",
            a.request_id
        )
        .fetch_one(&mut **tx)
        .await?;
        Status::parse(&status)
            .ok_or_else(|| StoreError::Permanent(format!("unknown status {status} in database")))
    }

    async fn history(
        tx: &mut Tx<'_>,
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
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn finish(
        tx: &mut Tx<'_>,
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
        .execute(&mut **tx)
        .await?;
        Self::history(tx, a, status, Some(ms), error).await
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
        let mut tx = self.pool.begin().await?;
        let status = Self::lock_audit(&mut tx, audit).await?;
        if status.is_terminal() {
            Self::history(
                &mut tx,
                audit,
                Status::Duplicate,
                Some(ms_since(started)),
                None,
            )
            .await?;
            tx.commit().await?;
            return Ok(Outcome::Duplicate);
        }
        let outcome = match work {
            Work::Apply(plan) => {
                write_plan(&mut tx, plan).await?;
                Self::finish(
                    &mut tx,
                    audit,
                    Status::Success,
                    ms_since(started),
                    None,
                    None,
                )
                .await?;
                Outcome::Success
            }
            Work::Invalid { code, errors } => {
                let first = errors.first().map(ToString::to_string).unwrap_or_default();
                let json = serde_json::to_value(errors).ok();
                let ms = ms_since(started);
                Self::finish(
                    &mut tx,
                    audit,
                    Status::Invalid,
                    ms,
                    Some((code, &first)),
                    json,
                )
                .await?;
                Outcome::Invalid
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn record_failure(&self, a: &AuditRecord, f: &Failure<'_>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let status = Self::lock_audit(&mut tx, a).await?;
        if !status.is_terminal() {
            Self::finish(
                &mut tx,
                a,
                f.status,
                f.processing_ms,
                Some((f.code, f.message)),
                None,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

async fn write_plan(tx: &mut Tx<'_>, p: &Plan) -> Result<(), StoreError> {
    let sid = escape_str(&p.session_id).into_owned();
    upsert_conversation(tx, &sid, &p.conversation).await?;
    for e in &p.entries {
        insert_entry(tx, &sid, e).await?;
    }
    for m in &p.messages {
        upsert_message(tx, &sid, m).await?;
    }
    for t in &p.tool_uses {
        upsert_tool_use(tx, &sid, t).await?;
    }
    for s in &p.subagents {
        upsert_subagent(tx, &sid, s).await?;
    }
    stitch(tx, &sid, &p.conversation, !p.entries.is_empty()).await?;
    refresh(tx, &sid).await
}
