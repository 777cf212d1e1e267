//! The worker function's wiring. The logic is in `hookline_core::lambda`
//! (SQS event → `process_batch` → `SqsBatchResponse`), shared with the local
//! poller and `hookline serve`.
//!
//! The same function also runs the scheduled silent-hosts check: an
//! EventBridge schedule invokes it with `{"hookline_check": "silent-hosts"}`
//! (infra/template.yaml); it reads the `hosts` table, logs one `host silent`
//! line per silent hook install and one CloudWatch embedded-metric-format
//! line (`hookline` / `SilentHosts`, `Hosts`), which the SilentHosts alarm
//! watches.

mod function;

pub use function::Function;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Duration, Utc};
use hookline_core::error::StoreError;
use hookline_core::ops::{HostReport, Ops, host_report};
use hookline_core::store::Store;
use hookline_core::worker::WorkerConfig;
use serde_json::{Value, json};

/// The value of `hookline_check` that runs the silent-hosts check.
pub const SILENT_HOSTS_CHECK: &str = "silent-hosts";

/// Namespace of the metrics the check emits.
pub const METRIC_NAMESPACE: &str = "hookline";

/// Processes one SQS event; the response lists the messages to redeliver.
pub async fn handle(store: &dyn Store, cfg: &WorkerConfig, event: SqsEvent) -> SqsBatchResponse {
    hookline_core::lambda::handle(store, cfg, &event).await
}

/// What one invocation asks for.
#[derive(Debug)]
pub enum Invocation {
    /// A batch from the SQS event source.
    Batch(SqsEvent),
    /// The scheduled check.
    SilentHostsCheck,
}

impl Invocation {
    /// Reads the invocation's event: `{"hookline_check": "silent-hosts"}`,
    /// else an SQS event.
    pub fn parse(event: Value) -> Result<Invocation, String> {
        match event.get("hookline_check").map(|c| c.as_str()) {
            Some(Some(SILENT_HOSTS_CHECK)) => Ok(Invocation::SilentHostsCheck),
            Some(other) => Err(format!("unknown hookline_check {other:?}")),
            None => serde_json::from_value(event)
                .map(Invocation::Batch)
                .map_err(|e| format!("neither an SQS event nor a hookline_check: {e}")),
        }
    }
}

/// One CloudWatch embedded-metric-format log line: `SilentHosts` and
/// `Hosts` (Count) in namespace `hookline`, dimension `Stack`.
pub fn emf_line(report: &HostReport, stack: &str) -> Value {
    json!({
        "_aws": {
            "Timestamp": report.at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": METRIC_NAMESPACE,
                "Dimensions": [["Stack"]],
                "Metrics": [
                    {"Name": "SilentHosts", "Unit": "Count"},
                    {"Name": "Hosts", "Unit": "Count"}
                ]
            }]
        },
        "Stack": stack,
        "SilentHosts": report.silent,
        "Hosts": report.total,
        "SilentAfterSeconds": report.silent_after_secs,
    })
}

/// The scheduled check: classifies the hosts at `now`, logs a `host silent`
/// warning for each silent one, and returns the report and its EMF line
/// (the caller prints the line on stdout, where Lambda's log agent picks
/// it up).
pub async fn check_silent_hosts(
    ops: &dyn Ops,
    now: DateTime<Utc>,
    silent_after: Duration,
    stack: &str,
) -> Result<(HostReport, Value), StoreError> {
    let report = host_report(ops, now, silent_after).await?;
    for h in report.silent_hosts() {
        tracing::warn!(
            user_name = %h.row.user_name,
            host = %h.row.host,
            last_seen = %h.row.last_seen.to_rfc3339(),
            silent_for_secs = h.silent_for_secs,
            hook_version = h.row.hook_version.as_deref().unwrap_or("-"),
            "host silent"
        );
    }
    tracing::info!(
        hosts = report.total,
        silent = report.silent,
        silent_after_secs = report.silent_after_secs,
        "silent-hosts check"
    );
    let line = emf_line(&report, stack);
    Ok((report, line))
}
