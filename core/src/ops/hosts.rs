//! Hook installs and their heartbeats: which (user, host) pairs have gone
//! silent. The hook flags SessionStart, and one event an hour otherwise, as
//! its heartbeat; the worker keeps one `hosts` row per (user, host) with
//! the latest heartbeat's capture time. A host whose last heartbeat is
//! older than the threshold is silent: the hook stopped working there, or
//! nobody used Claude Code there for that long.
//!
//! [`host_report`] is what `hookline events stats`, the dashboard and the
//! scheduled check on AWS call; both stores hand over the same rows
//! ([`HostRow`]) and the classification is done here once.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::Ops;
use crate::error::StoreError;

/// Default threshold: a day without a heartbeat.
pub const DEFAULT_SILENT_AFTER_SECS: i64 = 24 * 3600;

/// One row of `hosts`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostRow {
    /// The OS user the hook stamped; empty when it could not tell.
    pub user_name: String,
    /// The host name the hook stamped; empty when it could not tell.
    pub host: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub hook_version: Option<String>,
    pub principal: Option<String>,
}

/// A host and whether it is silent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostStatus {
    #[serde(flatten)]
    pub row: HostRow,
    /// Seconds since its last heartbeat (0 when that is in the future).
    pub silent_for_secs: i64,
    /// No heartbeat for longer than the threshold.
    pub silent: bool,
}

/// Every known host, silent ones first (longest silent first), then the
/// live ones (most recent first).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostReport {
    pub at: DateTime<Utc>,
    pub silent_after_secs: i64,
    pub total: usize,
    pub silent: usize,
    pub live: usize,
    pub hosts: Vec<HostStatus>,
}

impl HostReport {
    /// Classifies `rows` at `now`: silent when the last heartbeat is older
    /// than `silent_after`.
    pub fn from_rows(rows: Vec<HostRow>, now: DateTime<Utc>, silent_after: Duration) -> Self {
        let mut hosts: Vec<HostStatus> = rows
            .into_iter()
            .map(|row| {
                let age = (now - row.last_seen).max(Duration::zero());
                HostStatus {
                    silent: age > silent_after,
                    silent_for_secs: age.num_seconds(),
                    row,
                }
            })
            .collect();
        // Silent first, longest silent first; then live, most recent first.
        hosts.sort_by(|a, b| {
            b.silent.cmp(&a.silent).then(if a.silent {
                a.row.last_seen.cmp(&b.row.last_seen)
            } else {
                b.row.last_seen.cmp(&a.row.last_seen)
            })
        });
        let silent = hosts.iter().filter(|h| h.silent).count();
        HostReport {
            at: now,
            silent_after_secs: silent_after.num_seconds(),
            total: hosts.len(),
            silent,
            live: hosts.len() - silent,
            hosts,
        }
    }

    /// The silent hosts, longest silent first.
    pub fn silent_hosts(&self) -> &[HostStatus] {
        &self.hosts[..self.silent]
    }
}

/// Reads the `hosts` table and classifies it: the function the dashboard
/// calls (`host_report(ops, Utc::now(), Duration::hours(24))`, then
/// `.silent_hosts()`).
pub async fn host_report(
    ops: &dyn Ops,
    now: DateTime<Utc>,
    silent_after: Duration,
) -> Result<HostReport, StoreError> {
    Ok(HostReport::from_rows(ops.hosts().await?, now, silent_after))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(user: &str, host: &str, last_seen: DateTime<Utc>) -> HostRow {
        HostRow {
            user_name: user.into(),
            host: host.into(),
            first_seen: last_seen - Duration::days(30),
            last_seen,
            hook_version: Some("0.1.0".into()),
            principal: None,
        }
    }

    #[test]
    fn hosts_past_the_threshold_are_silent_and_listed_first() {
        let now = Utc::now();
        let rows = vec![
            row("alice", "live-1", now - Duration::hours(2)),
            row("bob", "gone-long", now - Duration::days(9)),
            row("carol", "live-2", now - Duration::minutes(5)),
            row("dave", "gone", now - Duration::hours(25)),
            row("erin", "edge", now - Duration::hours(24)),
        ];
        let r = HostReport::from_rows(rows, now, Duration::hours(24));
        let names: Vec<&str> = r.hosts.iter().map(|h| h.row.host.as_str()).collect();
        assert_eq!(names, ["gone-long", "gone", "live-2", "live-1", "edge"]);
        assert_eq!((r.total, r.silent, r.live), (5, 2, 3));
        let silent: Vec<&str> = r
            .silent_hosts()
            .iter()
            .map(|h| h.row.host.as_str())
            .collect();
        assert_eq!(silent, ["gone-long", "gone"]);
        assert_eq!(r.silent_hosts()[1].silent_for_secs, 25 * 3600);
    }
}
