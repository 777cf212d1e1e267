//! Purge and retention: deleting what was captured of a selection of
//! sessions (by id, by user, by age) from every table and from the DLQ,
//! with a dry-run count and a record of the purge itself (`purges`: who,
//! when, the selection and the counts, never the content).
//!
//! A session is purged or kept as a whole: its conversation row, messages,
//! tool uses, subagents, transcript entries, audit rows (`webhook_events`,
//! payloads included) and their attempt history. With `before` alone, audit
//! rows without a session (unreadable requests) received before the date go
//! too. docs/privacy.md is the user's description.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::Ops;
use super::audit::{self, Action, Operation};
use super::dlq::{OpsError, SCAN_WAIT};
use crate::envelope::{Payload, QueueMessage};
use crate::error::StoreError;
use crate::queue::{Queue, Received};

/// The tables a purge deletes from, in deletion order.
pub const TABLES: [&str; 7] = [
    "webhook_event_attempts",
    "webhook_events",
    "transcript_entries",
    "subagents",
    "tool_uses",
    "messages",
    "conversations",
];

/// Key of the DLQ in [`PurgeReport::counts`].
pub const DLQ: &str = "dlq";

/// Which sessions to purge; the given criteria all apply (AND).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Selection {
    /// This session id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// Sessions whose conversation has this user (stamped by the hook).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Sessions whose last activity (start, end, latest audit row) is
    /// before this time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<DateTime<Utc>>,
}

impl Selection {
    /// No criterion: would select everything; refused.
    pub fn is_empty(&self) -> bool {
        self.session.is_none() && self.user.is_none() && self.before.is_none()
    }

    /// Whether sessionless audit rows received before `before` go too.
    pub fn takes_sessionless(&self) -> bool {
        self.session.is_none() && self.user.is_none() && self.before.is_some()
    }

    /// A DLQ message selected by what it says itself (for sessions the
    /// store does not know).
    fn matches_message(&self, m: &MessageFacts) -> bool {
        let eq = |want: &Option<String>, got: &Option<String>| {
            want.as_ref().is_none_or(|w| got.as_ref() == Some(w))
        };
        !self.is_empty()
            && eq(&self.session, &m.session)
            && eq(&self.user, &m.user)
            && self.before.is_none_or(|b| m.sent_at.is_some_and(|t| t < b))
    }
}

/// What a store counted (dry run) or deleted.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PurgeRows {
    /// The selected session ids.
    pub sessions: Vec<String>,
    /// Rows per table (every name of [`TABLES`]).
    pub counts: BTreeMap<String, i64>,
}

/// The row of `purges` describing one purge.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PurgeRecord {
    pub at: DateTime<Utc>,
    /// Who ran it: the OS user and host of `hookline purge`, or
    /// `retention` for the periodic purge.
    pub actor: String,
    pub selection: Value,
    /// Rows per table and DLQ messages deleted.
    pub counts: Value,
}

/// What [`purge`] did, or would do.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PurgeReport {
    pub dry_run: bool,
    pub sessions: Vec<String>,
    /// Rows per table, and `dlq`: DLQ messages.
    pub counts: BTreeMap<String, i64>,
    /// Id of the `purges` row (not on a dry run).
    pub purge_id: Option<i64>,
}

impl PurgeReport {
    pub fn total(&self) -> i64 {
        self.counts.values().sum()
    }
}

/// Deletes (or, `dry_run`, counts) the selection's rows and DLQ messages
/// and records the purge. `dlq` is `None` when there is no DLQ to purge.
pub async fn purge(
    ops: &dyn Ops,
    dlq: Option<&dyn Queue>,
    sel: &Selection,
    dry_run: bool,
    actor: &str,
) -> Result<PurgeReport, OpsError> {
    run(ops, dlq, sel, dry_run, actor, true).await
}

async fn run(
    ops: &dyn Ops,
    dlq: Option<&dyn Queue>,
    sel: &Selection,
    dry_run: bool,
    actor: &str,
    record_empty: bool,
) -> Result<PurgeReport, OpsError> {
    if sel.is_empty() {
        return Err(StoreError::refused("a purge needs a session, a user or a date").into());
    }
    let rows = ops.purge_rows(sel, dry_run).await?;
    let mut counts = rows.counts;
    if let Some(dlq) = dlq {
        let sessions: HashSet<&str> = rows.sessions.iter().map(String::as_str).collect();
        let n = purge_dlq(dlq, sel, &sessions, dry_run).await?;
        counts.insert(DLQ.into(), i64::try_from(n).unwrap_or(i64::MAX));
    }
    let mut report = PurgeReport {
        dry_run,
        sessions: rows.sessions,
        counts,
        purge_id: None,
    };
    if !dry_run && (record_empty || report.total() > 0) {
        let rec = PurgeRecord {
            at: Utc::now(),
            actor: actor.to_owned(),
            selection: json!({
                "session": sel.session,
                "user": sel.user,
                "before": sel.before,
                "sessions": report.sessions.len(),
            }),
            counts: serde_json::to_value(&report.counts).unwrap_or(Value::Null),
        };
        report.purge_id = Some(ops.record_purge(&rec).await?);
        let mut detail = json!({ "selection": rec.selection, "counts": rec.counts });
        detail["purge_id"] = json!(report.purge_id);
        let target = sel
            .session
            .clone()
            .or_else(|| sel.user.as_ref().map(|u| format!("user:{u}")));
        let sessions = i64::try_from(report.sessions.len()).unwrap_or(i64::MAX);
        audit::record(
            ops,
            Operation::new(actor, Action::Purge, target, sessions, detail),
        )
        .await?;
        tracing::info!(
            actor,
            total = report.total(),
            sessions = report.sessions.len(),
            "purged"
        );
    }
    Ok(report)
}

/// What a DLQ message says about itself.
struct MessageFacts {
    session: Option<String>,
    user: Option<String>,
    sent_at: Option<DateTime<Utc>>,
}

fn facts(m: &Received) -> MessageFacts {
    let env = QueueMessage::decode(&m.body).ok();
    let body = env.as_ref().and_then(|e| match &e.envelope().payload {
        Payload::Json(v) => Some(v.clone()),
        _ => None,
    });
    let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    MessageFacts {
        session: s(body.as_ref().and_then(|b| b.get("session_id"))),
        user: s(body
            .as_ref()
            .and_then(|b| b.get(crate::meta::META_FIELD))
            .and_then(|h| h.get("user"))),
        sent_at: m
            .sent_at
            .or_else(|| env.as_ref().map(|e| e.envelope().received_at)),
    }
}

/// Deletes (or counts) the DLQ messages of the selected sessions, and
/// those the selection matches by their own fields. Every other message is
/// made visible again at the end.
async fn purge_dlq(
    dlq: &dyn Queue,
    sel: &Selection,
    sessions: &HashSet<&str>,
    dry_run: bool,
) -> Result<usize, OpsError> {
    let mut held: Vec<Received> = Vec::new();
    let mut seen = HashSet::new();
    let mut n = 0;
    let result: Result<(), OpsError> = async {
        'scan: loop {
            let batch = dlq.receive(10, SCAN_WAIT).await?;
            if batch.is_empty() {
                break;
            }
            for m in batch {
                if !seen.insert(m.message_id.clone()) {
                    held.push(m);
                    break 'scan;
                }
                let f = facts(&m);
                let hit = f.session.as_deref().is_some_and(|s| sessions.contains(s))
                    || sel.matches_message(&f);
                if !hit {
                    held.push(m);
                    continue;
                }
                n += 1;
                if dry_run {
                    held.push(m);
                } else {
                    dlq.delete(&m.receipt).await?;
                }
            }
        }
        Ok(())
    }
    .await;
    for m in &held {
        if let Err(e) = dlq
            .change_visibility(&m.receipt, std::time::Duration::ZERO)
            .await
        {
            tracing::warn!(message_id = %m.message_id, error = %e, "could not release a DLQ message; it comes back after its visibility timeout");
        }
    }
    result.map(|()| n)
}

/// The actor of the periodic purge in `purges`.
pub const RETENTION_ACTOR: &str = "retention";

/// The periodic purge of sessions whose last activity is older than `days`
/// (`HOOKLINE_RETENTION_DAYS`); recorded in `purges` only when it deleted
/// something.
pub async fn apply_retention(
    ops: &dyn Ops,
    dlq: Option<&dyn Queue>,
    days: u32,
) -> Result<PurgeReport, OpsError> {
    let sel = Selection {
        before: Some(Utc::now() - chrono::Duration::days(i64::from(days))),
        ..Selection::default()
    };
    run(ops, dlq, &sel, false, RETENTION_ACTOR, false).await
}
