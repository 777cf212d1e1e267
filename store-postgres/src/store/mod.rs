//! The Postgres store. Every statement is checked at compile time (sqlx
//! offline data in `.sqlx/`). Text and JSON are escaped for Postgres
//! (`hookline_core::text`): NUL is kept, never dropped.

mod domain;

use std::collections::BTreeSet;
use std::time::Instant;

use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};

use crate::store_error;
use domain::{
    insert_entry, refresh, stitch, upsert_conversation, upsert_heartbeat, upsert_message,
    upsert_subagent, upsert_tool_use,
};
use hookline_core::error::StoreError;
use hookline_core::mapping::Plan;
use hookline_core::store::{
    AuditRecord, BatchItem, BatchResult, Failure, Outcome, Status, Store, Work,
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

    /// Inserts the audit row if new and locks it; returns its status. One
    /// statement: the no-op update of a conflict locks the existing row and
    /// returns its status unchanged.
    async fn lock_audit(tx: &mut Tx<'_>, a: &AuditRecord) -> Result<Status, StoreError> {
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
        .fetch_one(&mut **tx)
        .await.map_err(store_error)?;
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
        .await.map_err(store_error)?;
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
        .await
        .map_err(store_error)?;
        Self::history(tx, a, status, Some(ms), error).await
    }
}

/// Writes one record inside `tx`, without the session's derived state (the
/// caller refreshes each touched session once). Returns the outcome and the
/// session whose rows were written, if any.
async fn apply_in<'p>(
    tx: &mut Tx<'_>,
    audit: &AuditRecord,
    work: Work<'p>,
    started: Instant,
) -> Result<(Outcome, Option<&'p str>), StoreError> {
    let status = PgStore::lock_audit(tx, audit).await?;
    if status.is_terminal() {
        let ms = Some(ms_since(started));
        PgStore::history(tx, audit, Status::Duplicate, ms, None).await?;
        return Ok((Outcome::Duplicate, None));
    }
    match work {
        Work::Apply(plan) => {
            write_plan(tx, plan).await?;
            let ms = ms_since(started);
            PgStore::finish(tx, audit, Status::Success, ms, None, None).await?;
            Ok((Outcome::Success, Some(plan.session_id.as_str())))
        }
        Work::AuditOnly => {
            let ms = ms_since(started);
            PgStore::finish(tx, audit, Status::Success, ms, None, None).await?;
            Ok((Outcome::Success, None))
        }
        Work::Invalid { code, errors } => {
            let first = errors.first().map(ToString::to_string).unwrap_or_default();
            let json = serde_json::to_value(errors).ok();
            let ms = ms_since(started);
            let error = Some((code, first.as_str()));
            PgStore::finish(tx, audit, Status::Invalid, ms, error, json).await?;
            Ok((Outcome::Invalid, None))
        }
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
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        let (outcome, session) = apply_in(&mut tx, audit, work, started).await?;
        if let Some(sid) = session {
            refresh(&mut tx, &escape_str(sid)).await?;
        }
        tx.commit().await.map_err(store_error)?;
        Ok(outcome)
    }

    /// One transaction for the batch, a savepoint per record: a record the
    /// database refuses is rolled back alone, the others commit together
    /// (one WAL flush for the batch instead of one per record). Records are
    /// written in (session, request id) order so that concurrent batches
    /// take row locks in the same order; each touched session's derived
    /// state is refreshed once, at the end.
    #[tracing::instrument(skip_all, fields(records = items.len()), err)]
    async fn apply_batch(&self, items: &[BatchItem<'_>]) -> BatchResult {
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by(|&a, &b| {
            let key = |i: usize| (&items[i].audit.session_id, &items[i].audit.request_id);
            key(a).cmp(&key(b))
        });
        // (index, result) in write order; `order` visits every index once.
        let mut done: Vec<(usize, Result<Outcome, StoreError>)> = Vec::with_capacity(items.len());
        let mut sessions = BTreeSet::new();
        let mut tx = self.pool.begin().await.map_err(store_error)?;
        for i in order {
            let it = &items[i];
            let mut sp = sqlx::Acquire::begin(&mut *tx).await.map_err(store_error)?;
            match apply_in(&mut sp, it.audit, it.work, it.started).await {
                Ok((outcome, session)) => {
                    sp.commit().await.map_err(store_error)?;
                    sessions.extend(session.map(|s| escape_str(s).into_owned()));
                    done.push((i, Ok(outcome)));
                }
                Err(e) => {
                    // A lost connection fails here too: the batch as a whole.
                    sp.rollback().await.map_err(store_error)?;
                    tracing::warn!(request_id = %it.audit.request_id, error = %e, "record rolled back within its batch");
                    done.push((i, Err(e)));
                }
            }
        }
        for sid in &sessions {
            refresh(&mut tx, sid).await?;
        }
        tx.commit().await.map_err(store_error)?;
        done.sort_unstable_by_key(|(i, _)| *i);
        Ok(done.into_iter().map(|(_, r)| r).collect())
    }

    async fn record_failure(&self, a: &AuditRecord, f: &Failure<'_>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(store_error)?;
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
        tx.commit().await.map_err(store_error)?;
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
    if let Some(h) = &p.heartbeat {
        upsert_heartbeat(tx, h).await?;
    }
    Ok(())
}
