//! `hookline events stats`: per event type counts, success rate,
//! processing and end-to-end percentiles, error codes with a sample, and
//! the hook installs that went silent, on Postgres or SQLite.

use chrono::{DateTime, Utc};
use hookline_core::ops::stats::Percentiles;
use hookline_core::ops::{HostReport, Stats, host_report};

use crate::config::{Role, Target};
use hookline_core::ops::since::{parse_duration, parse_since};

#[derive(Debug, clap::Args)]
pub struct Opts {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Counts, success rate, p50/p95/p99 processing and end-to-end times,
    /// and errors, per event type.
    Stats {
        /// Window: events received since then (30m, 24h, 7d, RFC 3339).
        #[arg(long, default_value = "24h", value_parser = parse_since)]
        since: DateTime<Utc>,
        /// A hook install (user, host) is silent when its last heartbeat
        /// is older than this (30m, 24h, 7d).
        #[arg(long, default_value = "24h", value_parser = parse_duration)]
        silent_after: chrono::Duration,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    let ops = opts.target.store.open(Role::Operator).await?.ops;
    match opts.command {
        Command::Stats {
            since,
            silent_after,
            json,
        } => {
            let stats = Stats::from_summary(since, &ops.stat_summary(since).await?);
            let hosts = host_report(ops.as_ref(), Utc::now(), silent_after).await?;
            if json {
                let mut report = serde_json::to_value(&stats)?;
                report["hosts"] = serde_json::to_value(&hosts)?;
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}{}", text(&stats), hosts_text(&hosts));
            }
        }
    }
    Ok(())
}

fn ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.0}"))
}

fn pct(p: &Percentiles) -> String {
    format!("{}/{}/{}", ms(p.p50), ms(p.p95), ms(p.p99))
}

/// The readable report.
pub fn text(s: &Stats) -> String {
    let mut out = format!(
        "Events received since {} ({} in all)\n",
        s.since.format("%Y-%m-%d %H:%M:%S UTC"),
        s.total
    );
    let statuses: Vec<String> = s
        .by_status
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    out += &format!(
        "  by status: {}\n\n",
        if statuses.is_empty() {
            "-".into()
        } else {
            statuses.join(", ")
        }
    );
    out += &format!(
        "{:<20} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8}  {:<20} {:<20}\n",
        "EVENT TYPE",
        "TOTAL",
        "SUCCESS",
        "INVALID",
        "FAILED",
        "PENDING",
        "SUCCESS%",
        "PROC MS p50/95/99",
        "E2E MS p50/95/99"
    );
    for t in &s.event_types {
        out += &format!(
            "{:<20} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8}  {:<20} {:<20}\n",
            t.event_type,
            t.total,
            t.success,
            t.invalid,
            t.failed,
            t.pending,
            t.success_rate.map_or("-".into(), |r| format!("{r:.1}")),
            pct(&t.processing_ms),
            pct(&t.end_to_end_ms)
        );
    }
    if s.event_types.is_empty() {
        out += "(no events in this window)\n";
    }
    out += "\nERRORS\n";
    for e in &s.errors {
        out += &format!(
            "{:<14} {:>6}  {}\n",
            e.error_code,
            e.count,
            e.sample
                .as_deref()
                .unwrap_or("-")
                .chars()
                .take(120)
                .collect::<String>()
        );
    }
    if s.errors.is_empty() {
        out += "(none)\n";
    }
    out
}

fn ago(secs: i64) -> String {
    match secs {
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 2 * 86_400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// The hosts section: counts, then every silent host.
pub fn hosts_text(r: &HostReport) -> String {
    let mut out = format!(
        "\nHOSTS: {} hook installs, {} live, {} silent (no heartbeat for more than {})\n",
        r.total,
        r.live,
        r.silent,
        ago(r.silent_after_secs)
    );
    if r.silent == 0 {
        return out;
    }
    out += &format!(
        "{:<20} {:<28} {:<20} {:>9}  {:<10} {}\n",
        "USER", "HOST", "LAST SEEN (UTC)", "SILENT", "HOOK", "PRINCIPAL"
    );
    for h in r.silent_hosts() {
        let or_dash = |s: &str| {
            if s.is_empty() {
                "-".to_owned()
            } else {
                s.to_owned()
            }
        };
        out += &format!(
            "{:<20} {:<28} {:<20} {:>9}  {:<10} {}\n",
            or_dash(&h.row.user_name),
            or_dash(&h.row.host),
            h.row.last_seen.format("%Y-%m-%d %H:%M:%S"),
            ago(h.silent_for_secs),
            h.row.hook_version.as_deref().unwrap_or("-"),
            h.row.principal.as_deref().unwrap_or("-"),
        );
    }
    out
}
