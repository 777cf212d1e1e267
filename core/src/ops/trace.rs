//! The trace use case: everything known about one request (its audit
//! detail, whether it sits in the DLQ now, its log lines by request id and
//! then by trace id), what `hookline trace` prints and the dashboard's
//! trace page shows.

use chrono::{DateTime, Utc};

use super::dlq::{self, DlqMessage};
use super::logs::{LogFilter, LogLine, LogSearch};
use super::{AuditDetail, Ops, OpsError};
use crate::queue::Queue;

/// How many DLQ messages a trace looks through for the request.
pub const DLQ_SCAN: usize = 1000;

/// The stage a log line belongs to: by its `function` field, its source
/// (log group or file name), else its message.
pub fn stage_of(l: &LogLine) -> &'static str {
    let f = l.function.as_deref().unwrap_or_default();
    let s = l.source.as_str();
    if f == "hookline-hook" || s.ends_with("hook.log") || s.contains("hook.log.") {
        "hook"
    } else if f.contains("ingest")
        || s.contains("ingest")
        || l.message == "event queued"
        || l.message == "request refused"
    {
        "ingest"
    } else if f.contains("worker") || s.contains("worker") || l.message.starts_with("record ") {
        "worker"
    } else {
        "other"
    }
}

/// Everything known about one request.
pub struct Gathered {
    pub detail: Option<AuditDetail>,
    /// The DLQ message, or why the DLQ was not checked.
    pub in_dlq: Result<Option<DlqMessage>, String>,
    /// Log lines, oldest first.
    pub lines: Vec<LogLine>,
}

impl Gathered {
    /// No audit row, no DLQ message, no log line.
    pub fn is_empty(&self) -> bool {
        self.detail.is_none() && self.lines.is_empty() && !matches!(self.in_dlq, Ok(Some(_)))
    }

    /// The lines of one stage (see [`stage_of`]).
    pub fn stage(&self, stage: &str) -> Vec<&LogLine> {
        self.lines.iter().filter(|l| stage_of(l) == stage).collect()
    }
}

/// Gathers request `id`: `dlq` is the DLQ or why it is not available;
/// `logs` the log sources, if any; log lines since `since`.
pub async fn gather(
    ops: &dyn Ops,
    dlq: Result<&dyn Queue, String>,
    logs: Option<&dyn LogSearch>,
    id: &str,
    since: DateTime<Utc>,
) -> Result<Gathered, OpsError> {
    let detail = ops.audit_detail(id).await?;
    let in_dlq = match dlq {
        Ok(q) => dlq::find(q, ops, id, DLQ_SCAN)
            .await
            .map(|m| m.filter(|m| m.request_id.as_deref() == Some(id)))
            .map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    let mut lines = Vec::new();
    if let Some(logs) = logs {
        let by_req = LogFilter {
            request_id: Some(id.to_owned()),
            since: Some(since),
            ..LogFilter::default()
        };
        lines = logs.search(&by_req).await?;
        if let Some(trace) = detail.as_ref().and_then(|d| d.row.trace_id.clone()) {
            let by_trace = LogFilter {
                trace_id: Some(trace),
                since: Some(since),
                ..LogFilter::default()
            };
            for l in logs.search(&by_trace).await? {
                if !lines.contains(&l) {
                    lines.push(l);
                }
            }
            lines.sort_by_key(|l| l.timestamp);
        }
    }
    Ok(Gathered {
        detail,
        in_dlq,
        lines,
    })
}
