//! The write protocol of the store, written once for every backend.
//!
//! A backend provides its statements ([`WriteTx`], one small method per
//! statement or group of statements) and a way to open a write transaction
//! ([`Transactional`]); the orchestrators here decide what runs in which
//! order: lock the audit row, stop at a duplicate, write the plan, finish
//! the audit row, refresh each touched session once, and, for a batch, one
//! savepoint per record. `hookline-store-postgres` and
//! `hookline-store-sqlite` implement `Store` by calling [`apply`],
//! [`apply_batch`] and [`record_failure`].

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::time::Instant;

use serde_json::Value;

use super::{AuditRecord, BatchItem, BatchResult, Failure, Outcome, Status, Work, owner};
use crate::error::StoreError;
use crate::mapping::{
    ConversationOp, EntryOp, HeartbeatOp, MessageOp, Plan, SubagentOp, ToolUseOp,
};
use crate::validate::ValidationErrors;

/// The savepoint statements of a batch; the same SQL on every backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Savepoint {
    Begin,
    Release,
    RollbackTo,
}

impl Savepoint {
    pub fn sql(self) -> &'static str {
        match self {
            Savepoint::Begin => "SAVEPOINT record",
            Savepoint::Release => "RELEASE SAVEPOINT record",
            Savepoint::RollbackTo => "ROLLBACK TO SAVEPOINT record",
        }
    }
}

/// The statements of a write transaction, per backend. Values are passed
/// as the plan holds them; the backend encodes them (Postgres escapes NUL,
/// SQLite stores times as text).
#[async_trait::async_trait]
pub trait WriteTx: Send {
    /// Inserts the audit row if new (status PROCESSING) and locks it;
    /// returns its status.
    async fn lock_audit(&mut self, a: &AuditRecord) -> Result<Status, StoreError>;
    /// Adds one row to the audit row's attempt history.
    async fn history(
        &mut self,
        a: &AuditRecord,
        status: Status,
        ms: Option<i32>,
        error: Option<(&str, &str)>,
    ) -> Result<(), StoreError>;
    /// Sets the audit row's status, processing time, error and validation
    /// errors (one more attempt).
    async fn finish(
        &mut self,
        a: &AuditRecord,
        status: Status,
        ms: i32,
        error: Option<(&str, &str)>,
        validation: Option<Value>,
    ) -> Result<(), StoreError>;
    /// The user of session `sid` (`conversations.user_name`): `None` when
    /// the session is not captured yet, `Some(None)` when it has no user.
    async fn session_user(&mut self, sid: &str) -> Result<Option<Option<String>>, StoreError>;
    async fn conversation(&mut self, sid: &str, c: &ConversationOp) -> Result<(), StoreError>;
    async fn entry(&mut self, sid: &str, e: &EntryOp) -> Result<(), StoreError>;
    async fn message(&mut self, sid: &str, m: &MessageOp) -> Result<(), StoreError>;
    async fn tool_use(&mut self, sid: &str, t: &ToolUseOp) -> Result<(), StoreError>;
    async fn subagent(&mut self, sid: &str, s: &SubagentOp) -> Result<(), StoreError>;
    async fn heartbeat(&mut self, h: &HeartbeatOp) -> Result<(), StoreError>;
    /// Conversation stitching (docs/schema.md): records what the session's
    /// first entry says about the session it continues and resolves the
    /// links of this session and of the sessions hanging from its entries.
    async fn stitch(
        &mut self,
        sid: &str,
        c: &ConversationOp,
        has_entries: bool,
    ) -> Result<(), StoreError>;
    /// Recomputes a session's derived state from its rows (counts, token
    /// totals, durations, prompts kept once, Stop de-duplication).
    async fn refresh(&mut self, sid: &str) -> Result<(), StoreError>;
    /// Runs one savepoint statement ([`Savepoint::sql`]).
    async fn savepoint(&mut self, step: Savepoint) -> Result<(), StoreError>;
    async fn commit(self) -> Result<(), StoreError>;
}

/// A backend that opens write transactions.
#[async_trait::async_trait]
pub trait Transactional: Send + Sync {
    type Tx: WriteTx;
    async fn begin(&self) -> Result<Self::Tx, StoreError>;
}

fn ms_since(started: Instant) -> i32 {
    i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX)
}

/// `Store::apply`: one record in its own transaction.
pub async fn apply<B: Transactional>(
    backend: &B,
    audit: &AuditRecord,
    work: Work<'_>,
    started: Instant,
) -> Result<Outcome, StoreError> {
    let mut tx = backend.begin().await?;
    let (outcome, session) = apply_in(&mut tx, audit, work, started).await?;
    if let Some(sid) = session {
        tx.refresh(sid).await?;
    }
    tx.commit().await?;
    Ok(outcome)
}

/// `Store::apply_batch`: one transaction for the batch (one WAL flush or
/// fsync instead of one per record), a savepoint per record so that a
/// record the database refuses is rolled back alone. Records are written in
/// (session, request id) order so that concurrent batches take row locks in
/// the same order; each touched session's derived state is refreshed once,
/// at the end.
pub async fn apply_batch<B: Transactional>(backend: &B, items: &[BatchItem<'_>]) -> BatchResult {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| {
        let key = |i: usize| (&items[i].audit.session_id, &items[i].audit.request_id);
        key(a).cmp(&key(b))
    });
    // (index, result) in write order; `order` visits every index once.
    let mut done: Vec<(usize, Result<Outcome, StoreError>)> = Vec::with_capacity(items.len());
    let mut sessions = BTreeSet::new();
    let mut tx = backend.begin().await?;
    for i in order {
        let it = &items[i];
        tx.savepoint(Savepoint::Begin).await?;
        match apply_in(&mut tx, it.audit, it.work, it.started).await {
            Ok((outcome, session)) => {
                tx.savepoint(Savepoint::Release).await?;
                sessions.extend(session);
                done.push((i, Ok(outcome)));
            }
            Err(e) => {
                // An error that ended the whole transaction (connection
                // lost, disk full) fails the rollback too: the batch as a
                // whole.
                tx.savepoint(Savepoint::RollbackTo).await?;
                tx.savepoint(Savepoint::Release).await?;
                tracing::warn!(request_id = %it.audit.request_id, error = %e, "record rolled back within its batch");
                done.push((i, Err(e)));
            }
        }
    }
    for sid in sessions {
        tx.refresh(sid).await?;
    }
    tx.commit().await?;
    done.sort_unstable_by_key(|(i, _)| *i);
    Ok(done.into_iter().map(|(_, r)| r).collect())
}

/// `Store::record_failure`: the failed attempt, in its own transaction,
/// unless the record is already done.
pub async fn record_failure<B: Transactional>(
    backend: &B,
    a: &AuditRecord,
    f: &Failure<'_>,
) -> Result<(), StoreError> {
    let mut tx = backend.begin().await?;
    let status = tx.lock_audit(a).await?;
    if !status.is_terminal() {
        let error = Some((f.code, f.message));
        tx.finish(a, f.status, f.processing_ms, error, None).await?;
        tx.history(a, f.status, Some(f.processing_ms), error)
            .await?;
    }
    tx.commit().await
}

/// What a record writes, once the write rule is applied.
enum Decided<'p> {
    Write(&'p Plan),
    AuditOnly,
    Invalid(&'p str, Cow<'p, ValidationErrors>),
}

/// Writes one record inside `tx`, without the session's derived state (the
/// caller refreshes each touched session once). Returns the outcome and the
/// session whose rows were written, if any.
async fn apply_in<'p, T: WriteTx>(
    tx: &mut T,
    audit: &AuditRecord,
    work: Work<'p>,
    started: Instant,
) -> Result<(Outcome, Option<&'p str>), StoreError> {
    let status = tx.lock_audit(audit).await?;
    if status.is_terminal() {
        let ms = Some(ms_since(started));
        tx.history(audit, Status::Duplicate, ms, None).await?;
        return Ok((Outcome::Duplicate, None));
    }
    let decided = match work {
        Work::Apply(plan) => Decided::Write(plan),
        Work::ApplyOwn { plan, users } => {
            let owner = tx.session_user(&plan.session_id).await?;
            if owner::may_write(users, owner.as_ref().map(Option::as_deref)) {
                Decided::Write(plan)
            } else {
                let refusal = owner::forbidden_session(plan.session_id.as_str(), users);
                Decided::Invalid("VALIDATION", Cow::Owned(ValidationErrors(vec![refusal])))
            }
        }
        Work::AuditOnly => Decided::AuditOnly,
        Work::Invalid { code, errors } => Decided::Invalid(code, Cow::Borrowed(errors)),
    };
    let (outcome, status, error, validation, session) = match decided {
        Decided::Write(plan) => {
            write_plan(tx, plan).await?;
            let session = Some(plan.session_id.as_str());
            (Outcome::Success, Status::Success, None, None, session)
        }
        Decided::AuditOnly => (Outcome::Success, Status::Success, None, None, None),
        Decided::Invalid(code, errors) => {
            let first = errors.first().map(ToString::to_string).unwrap_or_default();
            let json = serde_json::to_value(errors.as_ref()).ok();
            (
                Outcome::Invalid,
                Status::Invalid,
                Some((code, first)),
                json,
                None,
            )
        }
    };
    let ms = ms_since(started);
    let error = error.as_ref().map(|(code, msg)| (*code, msg.as_str()));
    tx.finish(audit, status, ms, error, validation).await?;
    tx.history(audit, status, Some(ms), error).await?;
    Ok((outcome, session))
}

/// The domain rows of one plan, in the order their foreign keys need.
async fn write_plan<T: WriteTx>(tx: &mut T, p: &Plan) -> Result<(), StoreError> {
    let sid = p.session_id.as_str();
    tx.conversation(sid, &p.conversation).await?;
    for e in &p.entries {
        tx.entry(sid, e).await?;
    }
    for m in &p.messages {
        tx.message(sid, m).await?;
    }
    for t in &p.tool_uses {
        tx.tool_use(sid, t).await?;
    }
    for s in &p.subagents {
        tx.subagent(sid, s).await?;
    }
    tx.stitch(sid, &p.conversation, !p.entries.is_empty())
        .await?;
    if let Some(h) = &p.heartbeat {
        tx.heartbeat(h).await?;
    }
    Ok(())
}
