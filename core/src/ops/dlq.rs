//! The dead-letter queue, generic over [`Queue`]: list (peek), replay and
//! purge, the same on SQS and on the embedded queue.
//!
//! A queue has no "peek": listing receives the messages (which hides them
//! for the DLQ's visibility timeout) and makes them visible again at the
//! end. A message seen twice in one scan ends it (its visibility timeout
//! ran out while scanning), so a scan never loops.
//!
//! A replay is, per message: mark the audit row REPLAYED, send the body and
//! attributes to the source queue, then delete it from the DLQ. A crash
//! between the send and the delete duplicates it (the worker's idempotency
//! absorbs that) but never loses it.

use std::collections::HashSet;
use std::time::Duration;

use serde::Serialize;

use super::Ops;
pub use super::dlq_message::{DlqMessage, Filter, describe};
use crate::error::StoreError;
use crate::queue::{OutMessage, Queue, QueueError, Received};

/// Why an operator use case stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpsError {
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The request was refused as given (nothing was done).
    #[error("{0}")]
    Refused(&'static str),
    /// An SQS call of the native move task failed.
    #[error("{op} failed")]
    Sqs {
        op: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The native move task failed or could not be followed.
    #[error("{0}")]
    MoveTask(String),
    /// A log source could not be read.
    #[error("cannot read the logs")]
    Logs(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// How long a scan waits for the next batch before it concludes the queue
/// is empty.
pub const SCAN_WAIT: Duration = Duration::from_secs(1);

/// Receives up to `limit` messages (holding them invisible); stops early
/// when the queue is empty or a message comes round a second time.
async fn scan(dlq: &dyn Queue, limit: usize) -> Result<Vec<Received>, QueueError> {
    let mut seen = HashSet::new();
    let mut held = Vec::new();
    while held.len() < limit {
        let batch = dlq.receive((limit - held.len()).min(10), SCAN_WAIT).await?;
        if batch.is_empty() {
            break;
        }
        let mut again = false;
        for m in batch {
            if seen.insert(m.message_id.clone()) {
                held.push(m);
            } else {
                again = true;
                release(dlq, std::slice::from_ref(&m)).await;
            }
        }
        if again {
            break;
        }
    }
    Ok(held)
}

/// Makes held messages visible again (best effort: at worst they come
/// back after the visibility timeout).
async fn release(dlq: &dyn Queue, held: &[Received]) {
    for m in held {
        if let Err(e) = dlq.change_visibility(&m.receipt, Duration::ZERO).await {
            tracing::warn!(message_id = %m.message_id, error = %e, "could not release a DLQ message; it comes back after its visibility timeout");
        }
    }
}

/// Up to `limit` messages of the DLQ, oldest first, left in the DLQ.
pub async fn list(
    dlq: &dyn Queue,
    ops: &dyn Ops,
    limit: usize,
) -> Result<Vec<DlqMessage>, OpsError> {
    let held = scan(dlq, limit).await?;
    let mut out = Vec::with_capacity(held.len());
    let mut failed = None;
    for m in &held {
        match describe(ops, m).await {
            Ok(d) => out.push(d),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    release(dlq, &held).await;
    if let Some(e) = failed {
        return Err(e);
    }
    out.sort_by_key(|m| (m.first_failure_at(), m.message_id.clone()));
    Ok(out)
}

/// The DLQ message whose message id or request id is `id`, among the
/// first `limit` (left in the DLQ).
pub async fn find(
    dlq: &dyn Queue,
    ops: &dyn Ops,
    id: &str,
    limit: usize,
) -> Result<Option<DlqMessage>, OpsError> {
    Ok(list(dlq, ops, limit)
        .await?
        .into_iter()
        .find(|m| m.message_id == id || m.request_id.as_deref() == Some(id)))
}

/// Settings of a replay.
#[derive(Clone, Debug, Default)]
pub struct ReplayOpts {
    pub filter: Filter,
    /// Report what would move; move nothing.
    pub dry_run: bool,
    /// Move at most this many.
    pub max: Option<usize>,
    /// At most this many messages per second.
    pub rate: Option<f64>,
}

/// What a replay did (or, dry, would do).
#[derive(Clone, Debug, Default, Serialize)]
pub struct ReplayReport {
    pub dry_run: bool,
    /// Matching messages: moved, or that would move.
    pub matched: Vec<DlqMessage>,
    pub moved: usize,
    /// Messages left in the DLQ because they did not match (or over --max).
    pub left: usize,
}

/// Replays the matching messages of `dlq` to `source`. `progress` is called
/// after each message moved.
pub async fn replay(
    dlq: &dyn Queue,
    source: &dyn Queue,
    ops: &dyn Ops,
    opts: &ReplayOpts,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<ReplayReport, OpsError> {
    let max = opts.max.unwrap_or(usize::MAX);
    let pause = opts
        .rate
        .filter(|r| *r > 0.0)
        .map(|r| Duration::from_secs_f64(1.0 / r));
    let mut report = ReplayReport {
        dry_run: opts.dry_run,
        ..ReplayReport::default()
    };
    let mut held: Vec<Received> = Vec::new();
    let mut seen = HashSet::new();
    let result: Result<(), OpsError> = async {
        'scan: while report.matched.len() < max {
            let batch = dlq.receive(10, SCAN_WAIT).await?;
            if batch.is_empty() {
                break;
            }
            for m in batch {
                if !seen.insert(m.message_id.clone()) {
                    held.push(m);
                    break 'scan;
                }
                let d = describe(ops, &m).await?;
                if report.matched.len() >= max || !opts.filter.matches(&d) {
                    held.push(m);
                    continue;
                }
                if opts.dry_run {
                    held.push(m);
                } else {
                    move_one(dlq, source, ops, &m, d.request_id.as_deref()).await?;
                    report.moved += 1;
                    progress(report.moved);
                    if let Some(p) = pause {
                        tokio::time::sleep(p).await;
                    }
                }
                report.matched.push(d);
            }
        }
        Ok(())
    }
    .await;
    report.left = held.len();
    release(dlq, &held).await;
    result.map(|()| report)
}

/// Marks, sends, deletes: one message back to its source.
async fn move_one(
    dlq: &dyn Queue,
    source: &dyn Queue,
    ops: &dyn Ops,
    m: &Received,
    request_id: Option<&str>,
) -> Result<(), OpsError> {
    if let Some(id) = request_id {
        ops.mark_replayed(id, &m.message_id).await?;
    }
    let id = source
        .send(&OutMessage {
            body: m.body.clone(),
            attributes: m.attributes.clone(),
        })
        .await?;
    dlq.delete(&m.receipt).await?;
    tracing::info!(request_id = request_id.unwrap_or("-"), dlq_message_id = %m.message_id, message_id = %id, "replayed from the DLQ");
    Ok(())
}

/// Deletes every message of the DLQ; returns how many. `progress` is
/// called after each.
pub async fn purge(
    dlq: &dyn Queue,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<usize, QueueError> {
    let mut n = 0;
    loop {
        let batch = dlq.receive(10, SCAN_WAIT).await?;
        if batch.is_empty() {
            return Ok(n);
        }
        for m in batch {
            dlq.delete(&m.receipt).await?;
            n += 1;
            progress(n);
        }
    }
}
