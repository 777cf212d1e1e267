//! The queue: what ingest sends to and the worker receives from. One trait,
//! with the semantics of SQS that hookline relies on (at-least-once,
//! visibility timeout, receive count, redrive to a dead-letter queue after
//! `maxReceiveCount` receives). Implementations: SQS (`sqs`, AWS or
//! LocalStack) and the embedded SQLite queue of `hookline serve`.
//!
//! A dead-letter queue is itself a [`Queue`]; replaying is receive from the
//! DLQ, send to the source, then delete from the DLQ (a crash in between
//! duplicates, which the worker absorbs, and never loses).

pub mod sqs;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// Names of the message attributes hookline sets on every message.
pub mod attr {
    pub const REQUEST_ID: &str = "request_id";
    pub const TRACE_ID: &str = "trace_id";
    pub const EVENT_TYPE: &str = "event_type";
}

/// A message to send.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutMessage {
    pub body: String,
    /// String message attributes (see [`attr`]).
    pub attributes: BTreeMap<String, String>,
}

/// A received message, invisible to other receivers until its visibility
/// timeout ends or it is deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub message_id: String,
    /// Handle for `delete` and `change_visibility` (SQS receipt handle).
    pub receipt: String,
    pub body: String,
    pub attributes: BTreeMap<String, String>,
    /// 1 on the first receive.
    pub receive_count: u32,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Why a queue call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    /// The queue cannot be reached now (network, throttling, timeout): the
    /// caller keeps the message and tries later (ingest answers 503).
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    /// The queue refused this message (too large, bad attribute): retrying
    /// the same message will not help.
    #[error("queue rejected the message: {0}")]
    Rejected(String),
    /// A receipt that is no longer valid (message already deleted or
    /// received again by someone else).
    #[error("receipt is no longer valid: {0}")]
    StaleReceipt(String),
}

#[async_trait::async_trait]
pub trait Queue: Send + Sync {
    /// A short name for logs and CLI output (queue name or URL).
    fn name(&self) -> &str;

    /// Sends one message; returns its message id.
    async fn send(&self, msg: &OutMessage) -> Result<String, QueueError>;

    /// Receives up to `max` (1..=10) messages, waiting up to `wait` for the
    /// first one (long polling).
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Received>, QueueError>;

    /// Deletes a received message.
    async fn delete(&self, receipt: &str) -> Result<(), QueueError>;

    /// Deletes several received messages (up to 10, as SQS allows in one
    /// call); returns, in order, each one's result. This default deletes
    /// them one by one.
    async fn delete_batch(&self, receipts: &[&str]) -> Vec<Result<(), QueueError>> {
        let mut out = Vec::with_capacity(receipts.len());
        for r in receipts {
            out.push(self.delete(r).await);
        }
        out
    }

    /// Makes a received message visible again after `timeout` (zero: now).
    async fn change_visibility(&self, receipt: &str, timeout: Duration) -> Result<(), QueueError>;

    /// Approximate number of messages (visible and in flight).
    async fn depth(&self) -> Result<u64, QueueError>;
}
