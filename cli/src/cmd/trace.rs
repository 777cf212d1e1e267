//! `hookline trace <request-id>`: one event's whole path. The hook's log
//! lines, ingest's, the queue attempts (the attempt history, and whether it
//! sits in the DLQ now), the worker's lines, the audit row and the domain
//! rows it wrote.

use std::fmt::Write as _;

use hookline_core::ops::AuditDetail;
use hookline_core::ops::logs::{LogLine, LogSearch, format_line};
use hookline_core::ops::trace::{Gathered, gather, stage_of};
use serde_json::json;

use super::logs::Sources;
use hookline_core::ops::since::parse_since;

use crate::config::{Role, Target};

#[derive(Debug, clap::Args)]
pub struct Opts {
    /// The request id (X-Request-Id, the hook's `hookline.request_id`).
    request_id: String,
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    sources: Sources,
    /// Look for log lines since then (30m, 24h, 7d, RFC 3339).
    #[arg(long, default_value = "7d", value_parser = parse_since)]
    since: chrono::DateTime<chrono::Utc>,
    /// Skip the log sources (store and queue only).
    #[arg(long)]
    no_logs: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    let id = opts.request_id.clone();
    let ops = opts.target.store.open(Role::Operator).await?.ops;
    let queues = opts.target.queues().await.map_err(|e| format!("{e:#}"));
    let dlq_q = match &queues {
        Ok(q) => Ok(q.dlq.as_ref()),
        Err(e) => Err(e.clone()),
    };
    let sources = (!opts.no_logs).then_some(&opts.sources as &dyn LogSearch);
    let g = gather(ops.as_ref(), dlq_q, sources, &id, opts.since).await?;
    anyhow::ensure!(
        !g.is_empty(),
        "nothing known about request {id:?} (no audit row, no DLQ message, no log line)"
    );
    let Gathered {
        detail,
        in_dlq,
        lines,
    } = &g;
    if opts.json {
        let stage = |s: &str| g.stage(s);
        let v = json!({
            "request_id": id,
            "hook": stage("hook"), "ingest": stage("ingest"), "worker": stage("worker"), "other": stage("other"),
            "queue": { "in_dlq": in_dlq.as_ref().ok().map(Option::is_some), "dlq_message": in_dlq.as_ref().ok().cloned().flatten(),
                       "attempts": detail.as_ref().map(|d| &d.history) },
            "audit": detail,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let mut out = format!("Request {id}\n");
    for stage in ["hook", "ingest"] {
        out += &section(stage, lines);
    }
    out += "\n== queue\n";
    match &detail {
        Some(d) => {
            let _ = writeln!(
                out,
                "  enqueued {}  message {}",
                d.row.enqueued_at.map_or("-".into(), |t| t.to_rfc3339()),
                d.row.message_id.as_deref().unwrap_or("-")
            );
            for a in &d.history {
                let _ = writeln!(
                    out,
                    "  {}  {:<9} receive {}  message {}",
                    a.at.format("%H:%M:%S%.3f"),
                    a.status,
                    a.receive_count.map_or("-".into(), |r| r.to_string()),
                    a.message_id.as_deref().unwrap_or("-")
                );
            }
        }
        None => out += "  no attempts recorded\n",
    }
    match &in_dlq {
        Ok(Some(m)) => {
            let _ = writeln!(
                out,
                "  IN THE DLQ now: message {} (hookline dlq replay {id})",
                m.message_id
            );
        }
        Ok(None) => out += "  not in the DLQ\n",
        Err(e) => {
            let _ = writeln!(out, "  DLQ not checked: {e}");
        }
    }
    out += &section("worker", lines);
    if lines.iter().any(|l| stage_of(l) == "other") {
        out += &section("other", lines);
    }
    match &detail {
        Some(d) => out += &audit_text(d),
        None => out += "\n== audit\n  no audit row\n",
    }
    print!("{out}");
    Ok(())
}

fn section(stage: &str, lines: &[LogLine]) -> String {
    let mine: Vec<&LogLine> = lines.iter().filter(|l| stage_of(l) == stage).collect();
    let mut out = format!("\n== {stage} ({} log line(s))\n", mine.len());
    for l in mine {
        let _ = writeln!(out, "  {}", format_line(l));
    }
    out
}

/// The audit row, its history and the domain rows, as text.
pub fn audit_text(d: &AuditDetail) -> String {
    let r = &d.row;
    let mut out = String::from("\n== audit\n");
    let _ = writeln!(
        out,
        "  status {}  event {}  session {}",
        r.status,
        r.event_type,
        r.session_id.as_deref().unwrap_or("-")
    );
    let _ = writeln!(
        out,
        "  received {}  processed {}  {} ms  attempts {}",
        r.received_at.to_rfc3339(),
        r.processed_at.map_or("-".into(), |t| t.to_rfc3339()),
        r.processing_ms.map_or("-".into(), |m| m.to_string()),
        r.attempts
    );
    if let Some(code) = &r.error_code {
        let _ = writeln!(
            out,
            "  last error {code}: {}",
            r.error_message.as_deref().unwrap_or("-")
        );
    }
    if let Some(red) = d
        .payload
        .as_ref()
        .and_then(|p| p.get("hookline")?.get("redactions"))
        .and_then(|r| r.as_object())
        .filter(|r| !r.is_empty())
    {
        let list: Vec<String> = red.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(out, "  redacted by the hook: {}", list.join(", "));
    }
    out += "  history:\n";
    for a in &d.history {
        let err = a.error_code.as_ref().map_or(String::new(), |c| {
            format!("  {c}: {}", a.error_message.as_deref().unwrap_or(""))
        });
        let _ = writeln!(
            out,
            "    {}  {:<9} receive {}  {} ms{err}",
            a.at.to_rfc3339(),
            a.status,
            a.receive_count.map_or("-".into(), |c| c.to_string()),
            a.processing_ms.map_or("-".into(), |m| m.to_string())
        );
    }
    out += "\n== domain\n";
    match d.domain.conversation {
        Some((m, t)) => {
            let _ = writeln!(
                out,
                "  conversation {} ({m} messages, {t} tool uses)",
                r.session_id.as_deref().unwrap_or("-")
            );
        }
        None => out += "  no conversation row\n",
    }
    for k in &d.domain.messages {
        let _ = writeln!(out, "  message {k}");
    }
    if let Some((t, s)) = &d.domain.tool_use {
        let _ = writeln!(out, "  tool use {t} ({s})");
    }
    out
}
