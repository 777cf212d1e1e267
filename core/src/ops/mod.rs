//! Operations: what an operator does when something went wrong (see it,
//! trace it, fix it, replay it), as library code the `hookline` commands
//! wire to a terminal.
//!
//! # Layout
//!
//! - this file: [`Ops`], the store capabilities the operator commands need
//!   beyond [`crate::store::Store`] and [`crate::store::Reader`] (audit rows
//!   and their history, marking REPLAYED, the rows behind the statistics),
//!   with the types they return. Postgres implements it in
//!   `hookline_store_postgres::ops`, SQLite in `hookline_store_sqlite::ops`.
//! - [`dlq`]: listing, replaying and purging a dead-letter queue, generic
//!   over [`crate::queue::Queue`] (SQS and the embedded queue alike);
//!   `dlq_message.rs`: a DLQ message with its audit row, and the replay
//!   filter.
//! - [`purge`]: deleting a selection of sessions from every table and the
//!   DLQ, the retention period, the `purges` record.
//! - [`audit`]: the operator audit (`operator_audit`): replays, purges,
//!   token and role changes, who and how many; [`audit::OperatorAudit`],
//!   a supertrait of [`Ops`], so every use case given an `Ops` records.
//! - [`stats`]: per event type counts, success rate, percentiles, errors.
//! - [`hosts`]: hook installs and their heartbeats; which went silent.
//! - [`logs`]: Lambda-format JSON log lines: parsing, filtering (done here,
//!   not by the log service: LocalStack does not apply filter patterns) and
//!   printing; [`logs::LogSearch`], a source of lines (files, CloudWatch).
//!
//! The use cases, each called by a terminal command and a dashboard page
//! that only parse input and render the result:
//!
//! - [`replay`]: replay from the DLQ (StartMessageMoveTask or message by
//!   message), with [`replay::Queues`], the queue pair operators act on.
//! - [`trace`]: everything known about one request.
//! - [`health`]: the health page's figures over a window.
//! - [`since`]: `--since` values (`30m`, `7d`, RFC 3339).

pub mod audit;
pub mod dlq;
mod dlq_message;
mod dlq_move;
pub mod health;
pub mod hosts;
pub mod logs;
pub mod purge;
pub mod replay;
pub mod since;
pub mod stats;
pub mod trace;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::error::StoreError;
pub use dlq::OpsError;
pub use hosts::{HostReport, HostRow, HostStatus, host_report};
pub use stats::{StatRow, StatSummary, Stats};

/// The audit row of one request, as the operator commands show it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditRow {
    pub request_id: String,
    pub event_type: String,
    pub session_id: Option<String>,
    pub status: String,
    pub trace_id: Option<String>,
    pub message_id: Option<String>,
    pub received_at: DateTime<Utc>,
    pub enqueued_at: Option<DateTime<Utc>>,
    pub processed_at: Option<DateTime<Utc>>,
    pub processing_ms: Option<i64>,
    pub attempts: i64,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// The first RETRYING or FAILED attempt, if any.
    pub first_failure_at: Option<DateTime<Utc>>,
}

/// One row of `webhook_event_attempts`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    pub status: String,
    pub message_id: Option<String>,
    pub receive_count: Option<i64>,
    pub processing_ms: Option<i64>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// The domain rows one request wrote or touched.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DomainRows {
    /// The conversation of the request's session: (messages, tool uses).
    pub conversation: Option<(i64, i64)>,
    /// Keys of the messages this request wrote (`prompt:<id>`, `stop:<id>`).
    pub messages: Vec<String>,
    /// The tool use named by the payload's `tool_use_id`, and its status.
    pub tool_use: Option<(String, String)>,
}

/// Everything stored about one request.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditDetail {
    #[serde(flatten)]
    pub row: AuditRow,
    pub payload: Option<Value>,
    pub payload_text: Option<String>,
    pub validation_errors: Option<Value>,
    pub history: Vec<Attempt>,
    pub domain: DomainRows,
}

/// What the audit row holds of its request (the reads behind
/// [`Ops::audit_detail`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuditBody {
    pub payload: Option<Value>,
    pub payload_text: Option<String>,
    pub validation_errors: Option<Value>,
    /// The payload's `tool_use_id`.
    pub tool_use_id: Option<String>,
}

/// Store capabilities of the operator commands (the operator audit
/// included: every use case that acts records what it did).
#[async_trait::async_trait]
pub trait Ops: audit::OperatorAudit + Send + Sync {
    /// The audit row of `request_id`, if any.
    async fn audit_row(&self, request_id: &str) -> Result<Option<AuditRow>, StoreError>;

    /// The audit row with its payload, attempt history and domain rows;
    /// written once over the reads below.
    async fn audit_detail(&self, request_id: &str) -> Result<Option<AuditDetail>, StoreError> {
        let Some(row) = self.audit_row(request_id).await? else {
            return Ok(None);
        };
        let body = self.audit_body(request_id).await?;
        let history = self.attempts(request_id).await?;
        let mut domain = DomainRows::default();
        if let Some(sid) = row.session_id.as_deref() {
            domain.conversation = self.session_counts(sid).await?;
            domain.messages = self.request_messages(sid, request_id).await?;
        }
        if let Some(tid) = body.tool_use_id.as_deref() {
            domain.tool_use = self.tool_use_status(tid).await?;
        }
        Ok(Some(AuditDetail {
            row,
            payload: body.payload,
            payload_text: body.payload_text,
            validation_errors: body.validation_errors,
            history,
            domain,
        }))
    }

    /// The payload, body text and validation errors of an existing audit row.
    async fn audit_body(&self, request_id: &str) -> Result<AuditBody, StoreError>;

    /// An audit row's attempt history, oldest first.
    async fn attempts(&self, request_id: &str) -> Result<Vec<Attempt>, StoreError>;

    /// A conversation's (messages, tool uses).
    async fn session_counts(&self, session_id: &str) -> Result<Option<(i64, i64)>, StoreError>;

    /// Keys of the messages a request wrote in its session (`prompt:<id>`,
    /// `stop:<id>`).
    async fn request_messages(
        &self,
        session_id: &str,
        request_id: &str,
    ) -> Result<Vec<String>, StoreError>;

    /// A tool use's id and status.
    async fn tool_use_status(
        &self,
        tool_use_id: &str,
    ) -> Result<Option<(String, String)>, StoreError>;

    /// Before a replay: sets the audit row to REPLAYED (unless it is
    /// already SUCCESS, INVALID or REPLAYED) and adds a REPLAYED attempt naming the
    /// DLQ message. Returns whether a row was changed.
    async fn mark_replayed(&self, request_id: &str, message_id: &str) -> Result<bool, StoreError>;

    /// The audit rows received since `since`, newest first, at most
    /// `limit`; with `failed_only` only the INVALID and FAILED ones (the
    /// failures page). The health page reads them all, up to a day.
    async fn stat_rows(
        &self,
        since: DateTime<Utc>,
        failed_only: bool,
        limit: i64,
    ) -> Result<Vec<StatRow>, StoreError>;

    /// What [`Stats`] needs of the rows received since `since`, aggregated
    /// in SQL ([`Stats::from_summary`]); the error sample is the first
    /// message of its code in received order.
    async fn stat_summary(&self, since: DateTime<Utc>) -> Result<StatSummary, StoreError>;

    /// Counts (`dry_run`) or deletes, in one transaction, every row of the
    /// sessions `sel` selects (see [`purge`]).
    async fn purge_rows(
        &self,
        sel: &purge::Selection,
        dry_run: bool,
    ) -> Result<purge::PurgeRows, StoreError>;

    /// Adds a row to `purges`; returns its id.
    async fn record_purge(&self, rec: &purge::PurgeRecord) -> Result<i64, StoreError>;

    /// Every row of `hosts` (one per hook install that sent a heartbeat);
    /// see [`hosts::host_report`].
    async fn hosts(&self) -> Result<Vec<HostRow>, StoreError>;
}
