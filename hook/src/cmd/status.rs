//! `hookline-hook status`: what is in the spool and why.

use chrono::{DateTime, Utc};
use clap::Args;
use serde_json::json;

use crate::breaker::Breaker;
use crate::config::Config;
use crate::spool::entry::minted_at;
use crate::spool::{Area, Spool};
use crate::tail;

#[derive(Debug, Args)]
pub struct Opts {
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

fn age(t: DateTime<Utc>) -> String {
    span(Utc::now() - t)
}

fn span(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86400 => format!("{:.1} h", s as f64 / 3600.0),
        _ => format!("{:.1} days", s as f64 / 86400.0),
    }
}

pub fn run(opts: &Opts, cfg: &Config) -> Result<(), String> {
    let spool = Spool::open(&cfg.spool_dir)
        .map_err(|e| format!("cannot open the spool {}: {e}", cfg.spool_dir.display()))?;
    let pending = spool.list(Area::Pending).map_err(|e| e.to_string())?;
    let failed = spool.list(Area::Failed).map_err(|e| e.to_string())?;
    let now = Utc::now();
    let states: Vec<_> = pending
        .iter()
        .filter(|l| l.has_state)
        .filter_map(|l| spool.read_state(Area::Pending, &l.name))
        .collect();
    let later: Vec<_> = states.iter().filter(|s| s.next_attempt_at > now).collect();
    // Entries whose send got no answer go as soon as the server answers.
    let waiting = later.iter().filter(|s| s.unreachable).count();
    let due = pending.len() - later.len();
    let oldest = pending.first().and_then(|l| minted_at(&l.name.request_id));
    let failed_states: Vec<_> = failed
        .iter()
        .filter_map(|l| spool.read_state(Area::Failed, &l.name))
        .collect();
    let last_error = states
        .iter()
        .chain(failed_states.iter())
        .max_by_key(|s| s.last_attempt_at)
        .map(|s| {
            (
                s.last_attempt_at,
                s.failed_reason
                    .clone()
                    .unwrap_or_else(|| s.last_error.clone()),
            )
        });
    let breaker = Breaker::load(&spool.state_dir());
    // Stop and SessionEnd transcripts still to read, and whether a sender
    // (or `flush`) is at it.
    let tails = tail::marker::files(&spool.state_dir()).map_err(|e| e.to_string())?;
    let oldest_tail = tails
        .first()
        .and_then(|p| p.file_stem()?.to_str().and_then(minted_at));
    let sender_running = tail::marker::busy(&spool.state_dir());
    if opts.json {
        let v = json!({
            "spool_dir": cfg.spool_dir, "log_file": cfg.log_file, "config_file": cfg.config_path,
            "url": cfg.url, "pending": pending.len(), "due": due, "waiting_for_server": waiting, "failed": failed.len(),
            "oldest_pending_at": oldest, "breaker": breaker,
            "tail_jobs": tails.len(), "oldest_tail_job_at": oldest_tail, "tail_sender_running": sender_running,
            "last_error": last_error.as_ref().map(|(at, e)| json!({"at": at, "error": e})),
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?
        );
        return Ok(());
    }
    println!("spool:      {}", cfg.spool_dir.display());
    println!(
        "url:        {}",
        cfg.url.as_deref().unwrap_or("(not configured)")
    );
    let oldest = oldest
        .map(|t| format!(", oldest {} old", age(t)))
        .unwrap_or_default();
    println!(
        "pending:    {} ({due} due now, {waiting} waiting for the server{oldest})",
        pending.len()
    );
    println!("failed:     {}", failed.len());
    let oldest_tail = oldest_tail
        .map(|t| format!(", oldest {} old", age(t)))
        .unwrap_or_default();
    let running = if sender_running {
        "a sender is at work"
    } else {
        "no sender at work: the next hook or `flush` reads them"
    };
    match tails.len() {
        0 if sender_running => println!("tails:      none left (a sender is sending)"),
        0 => println!("tails:      none"),
        n => println!(
            "tails:      {n} transcripts of Stop or SessionEnd to read ({running}{oldest_tail})"
        ),
    }
    match &breaker {
        None => println!("circuit:    closed"),
        Some(b) if b.blocks(now) => println!(
            "circuit:    open for {} ({} failures), next probe in {}: {}",
            age(b.opened_at),
            b.failures,
            span(b.next_probe_at - now),
            b.last_error
        ),
        Some(b) => println!(
            "circuit:    open, probe due ({} failures): {}",
            b.failures, b.last_error
        ),
    }
    match last_error {
        Some((at, e)) => println!("last error: {} ago: {e}", age(at)),
        None => println!("last error: none"),
    }
    println!("log:        {}", cfg.log_file.display());
    Ok(())
}
