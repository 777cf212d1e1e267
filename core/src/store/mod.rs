//! The store: where audit and domain rows are written. One trait, one
//! implementation per database (`hookline-store-postgres`,
//! `hookline-store-sqlite`), the same behaviour (idempotent, order-free).

pub mod login;
pub mod owner;
pub mod page;
pub mod purge;
pub mod read;
pub mod scope;
pub mod write;

use chrono::{DateTime, Utc};
use serde_json::Value;

pub use login::{DashboardLogin, LoginStore, LoginVia};
pub use page::{CursorError, Seek, SessionCursor, SessionPage};
pub use purge::{PurgeTx, Purging};
pub use read::{
    Reader, SessionFilter, SessionHead, SessionSummary, SessionView, Step, ThreadLink, thread,
};
pub use write::{Savepoint, Transactional, WriteTx};

use crate::error::StoreError;
use crate::mapping::Plan;
use crate::validate::ValidationErrors;

/// Statuses of an audit row (`webhook_events.status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Received,
    Processing,
    Success,
    Duplicate,
    Invalid,
    Retrying,
    Failed,
    Replayed,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Received,
        Status::Processing,
        Status::Success,
        Status::Duplicate,
        Status::Invalid,
        Status::Retrying,
        Status::Failed,
        Status::Replayed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "RECEIVED",
            Status::Processing => "PROCESSING",
            Status::Success => "SUCCESS",
            Status::Duplicate => "DUPLICATE",
            Status::Invalid => "INVALID",
            Status::Retrying => "RETRYING",
            Status::Failed => "FAILED",
            Status::Replayed => "REPLAYED",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// A request whose audit row has this status is done: a redelivery of it
    /// is a duplicate and writes nothing.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Success | Status::Invalid)
    }
}

/// What the audit row of one queue record holds.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditRecord {
    pub request_id: String,
    pub event_type: String,
    pub session_id: Option<String>,
    /// The body when it is JSON.
    pub payload: Option<Value>,
    /// The body when it is not JSON (invalid requests).
    pub payload_text: Option<String>,
    pub headers: Value,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub client: Option<String>,
    pub principal: Option<String>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub message_id: String,
    pub receive_count: i32,
    pub captured_at: Option<DateTime<Utc>>,
    pub received_at: DateTime<Utc>,
    pub enqueued_at: Option<DateTime<Utc>>,
}

/// What to do with a record.
#[derive(Clone, Copy, Debug)]
pub enum Work<'a> {
    /// A valid event: write its rows.
    Apply(&'a Plan),
    /// A valid event of a member (docs/teams.md, "Roles"): its rows if its
    /// session is new or belongs to one of `users`; else an INVALID audit
    /// row (`forbidden_session`, field `session_id`) and no domain rows.
    ApplyOwn { plan: &'a Plan, users: &'a [String] },
    /// A valid event that writes no domain rows (`hookline-hook doctor`'s
    /// probe): a SUCCESS audit row only.
    AuditOnly,
    /// An invalid one: an INVALID audit row with the reasons, no domain rows.
    Invalid {
        code: &'a str,
        errors: &'a ValidationErrors,
    },
}

impl<'a> Work<'a> {
    /// The session whose rows this work may write (its lock is taken
    /// first, `WriteTx::lock_session`); `None` for an audit row only.
    pub fn session(&self) -> Option<&'a str> {
        match *self {
            Work::Apply(plan) | Work::ApplyOwn { plan, .. } => Some(plan.session_id.as_str()),
            Work::AuditOnly | Work::Invalid { .. } => None,
        }
    }
}

/// The result of writing a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Already done before: nothing written but the attempt history.
    Duplicate,
    Invalid,
}

/// One record of a batch handed to [`Store::apply_batch`].
#[derive(Clone, Copy, Debug)]
pub struct BatchItem<'a> {
    pub audit: &'a AuditRecord,
    pub work: Work<'a>,
    pub started: std::time::Instant,
}

/// What [`Store::apply_batch`] returns: one result per item, in order, or an
/// error of the batch as a whole (nothing of it was written).
pub type BatchResult = Result<Vec<Result<Outcome, StoreError>>, StoreError>;

/// A failed attempt, recorded outside the failed transaction.
#[derive(Clone, Debug)]
pub struct Failure<'a> {
    /// RETRYING (will be retried) or FAILED (will not, or leaves for the DLQ).
    pub status: Status,
    pub code: &'a str,
    pub message: &'a str,
    pub processing_ms: i32,
}

#[async_trait::async_trait]
pub trait Store: Send + Sync {
    /// Writes the audit row and, for valid events, the domain rows, in one
    /// transaction. A record whose audit row is already terminal is a
    /// duplicate: only its history grows.
    async fn apply(
        &self,
        audit: &AuditRecord,
        work: Work<'_>,
        started: std::time::Instant,
    ) -> Result<Outcome, StoreError>;

    /// Writes several records, as [`Store::apply`] would one by one, in as
    /// few commits as the store can. An error of one record (the database
    /// refused its rows) is that record's result and leaves the others
    /// written; `Err` means the batch as a whole failed (connection lost,
    /// commit refused) and none of it is written, so the caller retries the
    /// records one by one. This default applies them one by one.
    async fn apply_batch(&self, items: &[BatchItem<'_>]) -> BatchResult {
        let mut out = Vec::with_capacity(items.len());
        for it in items {
            out.push(self.apply(it.audit, it.work, it.started).await);
        }
        Ok(out)
    }

    /// Records a failed attempt (upserting the audit row). Best effort: the
    /// database may be the thing that failed.
    async fn record_failure(
        &self,
        audit: &AuditRecord,
        failure: &Failure<'_>,
    ) -> Result<(), StoreError>;
}
