//! The write protocol of the store, written once for every backend.
//!
//! A backend provides its statements ([`WriteTx`], one small method per
//! statement or group of statements) and a way to open a write transaction
//! ([`Transactional`]); the orchestrators here decide what runs in which
//! order: lock the audit row, stop at a duplicate, write the plan, finish
//! the audit row, refresh each touched session once, and, for a batch, the
//! transactions (one per session where the backend locks rows), each
//! session's lock first, one savepoint per record.
//! `hookline-store-postgres` and `hookline-store-sqlite` implement `Store`
//! by calling [`apply`], [`apply_batch`] and [`record_failure`].

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
    /// Takes the lock of session `sid` before the transaction writes any of
    /// its records, audit rows included, so that two transactions of one
    /// session never wait on each other's audit rows while holding it
    /// (Postgres: an advisory lock on the id, which exists before the
    /// session's row does, then its `conversations` row when it exists).
    /// Every transaction that writes a session's rows ([`apply`],
    /// [`apply_batch`]) takes it first. A backend whose write transaction
    /// locks the whole database does nothing.
    async fn lock_session(&mut self, sid: &str) -> Result<(), StoreError>;
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
    /// Commits without waiting for the commit to reach the disk (Postgres:
    /// `synchronous_commit` off for this transaction). It becomes durable
    /// with the next durable commit on the same server, which flushes the
    /// log up to itself, so everything committed before it; a crash before
    /// then loses it. [`apply_batch`] reports such records done only after a
    /// durable commit followed.
    async fn commit_unflushed(self) -> Result<(), StoreError>;
}

/// A backend that opens write transactions.
#[async_trait::async_trait]
pub trait Transactional: Send + Sync {
    type Tx: WriteTx;
    /// Whether concurrent write transactions lock rows (Postgres), rather
    /// than the whole database (SQLite): then [`apply_batch`] commits each
    /// session of a batch on its own, so that a session's lock is not held
    /// while the batch writes other sessions.
    const ROW_LOCKS: bool;
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
    if let Some(sid) = work.session() {
        tx.lock_session(sid).await?;
    }
    let (outcome, session) = apply_in(&mut tx, audit, work, started).await?;
    if let Some(sid) = session {
        tx.refresh(sid).await?;
    }
    tx.commit().await?;
    Ok(outcome)
}

/// `Store::apply_batch`: the records in (session, request id) order, a
/// savepoint per record so that a record the database refuses is rolled
/// back alone, each touched session's derived state refreshed once.
///
/// How many transactions: where the backend locks rows
/// ([`Transactional::ROW_LOCKS`], Postgres), one per session of the batch,
/// committed as soon as that session's records are written, the last one
/// durably and the others without waiting for the disk
/// ([`WriteTx::commit_unflushed`]): still one log flush per batch; else
/// (SQLite, whose write transaction locks the whole database) one for the
/// batch, one commit.
///
/// Every write of a session's rows takes the session's lock first
/// ([`WriteTx::lock_session`]: on Postgres an advisory lock on its id, then
/// its `conversations` row) and holds it to the commit, so that the statements
/// that merge or recompute from a session's rows (a message's blocks, the
/// stitching, [`WriteTx::refresh`]) see every other transaction's rows of
/// that session. One transaction for a whole batch held the lock of each of
/// its sessions until the batch's end: concurrent batches carrying events
/// of the same sessions then waited on each other batch by batch
/// (docs/performance.md, "Volume"). A session's transaction holds one
/// session's lock, for that session's records only.
///
/// A transaction that fails as a whole (connection lost, commit refused, a
/// deadlock) is rolled back and its records are written one by one
/// ([`apply`]), so that it holds back no other record; the records of the
/// sessions committed before it stay written.
pub async fn apply_batch<B: Transactional>(backend: &B, items: &[BatchItem<'_>]) -> BatchResult {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| {
        let key = |i: usize| (session_of(&items[i]), &items[i].audit.request_id);
        key(a).cmp(&key(b))
    });
    let groups: Vec<&[usize]> = if B::ROW_LOCKS {
        order
            .chunk_by(|&a, &b| session_of(&items[a]) == session_of(&items[b]))
            .collect()
    } else {
        vec![order.as_slice()]
    };
    // (index, result); the groups visit every index once.
    let mut done: Vec<(usize, Result<Outcome, StoreError>)> = Vec::with_capacity(items.len());
    // Positions in `done` of the records committed since the last durable
    // commit.
    let mut unflushed: Vec<usize> = Vec::new();
    let last = groups.len().saturating_sub(1);
    for (g, group) in groups.into_iter().enumerate() {
        let durable = g == last;
        match write_group(backend, items, group, durable).await {
            Ok(results) => {
                if durable {
                    unflushed.clear();
                } else {
                    unflushed.extend(done.len()..done.len() + results.len());
                }
                done.extend(results);
            }
            Err(e) => {
                tracing::warn!(error = %e, records = group.len(), "a transaction of the batch failed as a whole; writing its records one by one");
                for &i in group {
                    let it = &items[i];
                    let result = apply(backend, it.audit, it.work, it.started).await;
                    if result.is_ok() {
                        unflushed.clear();
                    }
                    done.push((i, result));
                }
            }
        }
    }
    // No durable commit followed these (every later transaction failed):
    // they may be lost in a crash, so they are not done. Redelivered, they
    // are duplicates if their commit did reach the disk.
    for at in unflushed {
        if let (_, r @ Ok(_)) = &mut done[at] {
            *r = Err(StoreError::Transient {
                message: "committed, but no durable commit of the batch followed".into(),
                source: None,
            });
        }
    }
    done.sort_unstable_by_key(|(i, _)| *i);
    Ok(done.into_iter().map(|(_, r)| r).collect())
}

/// The session whose rows an item writes, else the one its audit row
/// names: the order and the grouping of a batch.
fn session_of<'a>(it: &BatchItem<'a>) -> Option<&'a str> {
    it.work.session().or(it.audit.session_id.as_deref())
}

/// The records `group` of `items` in one transaction: the session's lock
/// first when they write rows, a savepoint per record, the refresh of each
/// touched session, the commit (`durable`: waiting for the disk). `Err`:
/// the transaction as a whole failed and none of it is written.
async fn write_group<B: Transactional>(
    backend: &B,
    items: &[BatchItem<'_>],
    group: &[usize],
    durable: bool,
) -> Result<Vec<(usize, Result<Outcome, StoreError>)>, StoreError> {
    let mut done = Vec::with_capacity(group.len());
    let mut sessions = BTreeSet::new();
    let mut tx = backend.begin().await?;
    let writes: BTreeSet<&str> = group
        .iter()
        .filter_map(|&i| items[i].work.session())
        .collect();
    for sid in writes {
        tx.lock_session(sid).await?;
    }
    for &i in group {
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
                // lost, disk full) fails the rollback too: the transaction
                // as a whole.
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
    if durable {
        tx.commit().await?;
    } else {
        tx.commit_unflushed().await?;
    }
    Ok(done)
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
