//! `hookline-hook backfill`: send Claude Code's transcripts on disk, so
//! whatever the hooks missed (hooks that never fired, outages, the Stop
//! race, sessions from before the install) reaches the server before Claude
//! Code deletes them after 30 days.
//!
//! Every line is sent again, in batches whose request ids are derived from
//! their content: the server keeps transcript rows by (session, uuid) and
//! requests by request id, so what it has is not duplicated and a second
//! run adds nothing. Batches go through the spool, so an outage during a
//! backfill loses nothing: the rest is sent by the next `flush` or hook.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;

use crate::backfill::{self, Filter};
use crate::config::Config;
use crate::drain::{self, Mode};
use crate::log::Logger;
use crate::net::Client;
use crate::spool::{Area, EntryName, Spool};

#[derive(Debug, Args)]
pub struct Opts {
    /// Only sessions with a transcript modified on or after DATE
    /// (YYYY-MM-DD, UTC, or an RFC 3339 time).
    #[arg(long, value_name = "DATE", value_parser = parse_since)]
    pub since: Option<DateTime<Utc>>,
    /// Only the sessions Claude Code ran in this folder.
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// Count what would be sent; write and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Spool the batches but do not send them now (the next flush or hook does).
    #[arg(long)]
    pub no_send: bool,
}

fn parse_since(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .ok_or_else(|| format!("{s} is not a date"));
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("{s} is neither YYYY-MM-DD nor an RFC 3339 time"))
}

/// A progress line on stderr, redrawn at most every 200 ms, only on a terminal.
struct Progress {
    tty: bool,
    last: Option<Instant>,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            tty: std::io::stderr().is_terminal(),
            last: None,
        }
    }

    fn show(&mut self, line: impl FnOnce() -> String) {
        if !self.tty
            || self
                .last
                .is_some_and(|t| t.elapsed() < Duration::from_millis(200))
        {
            return;
        }
        self.last = Some(Instant::now());
        let _ = write!(std::io::stderr(), "\r\x1b[2K{}", line());
    }

    fn done(&self) {
        if self.tty && self.last.is_some() {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

#[derive(Debug, Default)]
struct Totals {
    sessions: usize,
    files: usize,
    entries: usize,
    batches: usize,
    bytes: usize,
    skipped: usize,
    unreadable: usize,
}

pub fn run(opts: &Opts, cfg: &Config, log: &Logger) -> Result<(), String> {
    let root = backfill::claude_dir();
    let filter = Filter {
        since: opts.since.map(SystemTime::from),
        project: opts.project.clone(),
    };
    let sessions = backfill::scan(&root, &filter)
        .map_err(|e| format!("cannot read {}: {e}", root.join("projects").display()))?;
    let spool = if opts.dry_run {
        None
    } else {
        Some(
            Spool::open(&cfg.spool_dir)
                .map_err(|e| format!("cannot open the spool {}: {e}", cfg.spool_dir.display()))?,
        )
    };
    let who = crate::identity::lookup(&cfg.spool_dir.join("state"));
    // The same masking as live capture: nothing leaves unredacted.
    let redactor = crate::stamp::redactor(cfg, log);
    let mut t = Totals::default();
    let mut progress = Progress::new();
    for (i, s) in sessions.iter().enumerate() {
        let mut counted = false;
        for f in &s.files {
            progress.show(|| {
                format!(
                    "backfill: session {}/{} ({}), {} entries in {} batches",
                    i + 1,
                    sessions.len(),
                    s.session_id,
                    t.entries,
                    t.batches
                )
            });
            let fb = match backfill::batches(s, f, &who, cfg.body_limit, redactor.as_ref()) {
                Ok(fb) => fb,
                Err(e) => {
                    t.unreadable += 1;
                    log.warn(
                        "backfill: cannot read the transcript",
                        &[
                            ("path", f.path.to_string_lossy().into()),
                            crate::log::err_field(&e),
                        ],
                    );
                    continue;
                }
            };
            t.skipped += fb.skipped;
            if fb.batches.is_empty() {
                continue;
            }
            t.files += 1;
            if !counted {
                t.sessions += 1;
                counted = true;
            }
            for b in &fb.batches {
                t.entries += b.entries;
                t.batches += 1;
                t.bytes += b.body.len();
                if let Some(spool) = &spool {
                    spool
                        .write_pending(&EntryName::new(&b.request_id, &s.session_id), &b.body)
                        .map_err(|e| format!("cannot write to the spool: {e}"))?;
                }
            }
        }
    }
    progress.done();
    let summary = format!(
        "{} sessions, {} files, {} transcript entries in {} requests ({:.1} MB)",
        t.sessions,
        t.files,
        t.entries,
        t.batches,
        t.bytes as f64 / 1e6
    );
    let mut notes = Vec::new();
    if t.skipped > 0 {
        notes.push(format!("{} lines that are not JSON skipped", t.skipped));
    }
    if t.unreadable > 0 {
        notes.push(format!("{} files unreadable (see hook.log)", t.unreadable));
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join(", "))
    };
    log.info(
        "backfill",
        &[
            ("sessions", t.sessions.into()),
            ("entries", t.entries.into()),
            ("requests", t.batches.into()),
            ("dry_run", opts.dry_run.into()),
        ],
    );
    let Some(spool) = spool else {
        println!("would send {summary}{notes} from {}", root.display());
        return Ok(());
    };
    println!("spooled {summary}{notes} from {}", root.display());
    if opts.no_send || t.batches == 0 {
        return Ok(());
    }
    let Some(client) = Client::new(cfg) else {
        println!(
            "no URL configured: kept in the spool (set HOOKLINE_URL, then run `hookline-hook flush`)"
        );
        return Ok(());
    };
    let lock_path = spool.state_dir().join("drain.lock");
    let held = crate::lock::acquire(&lock_path, Some(Instant::now() + Duration::from_secs(30)))
        .map_err(|e| format!("cannot take {}: {e}", lock_path.display()))?
        .ok_or("another process has been sending for 30 s; the batches stay in the spool")?;
    if progress.tty {
        let _ = write!(
            std::io::stderr(),
            "backfill: sending {} requests…",
            t.batches
        );
    }
    let r = drain::drain_then_release(
        held,
        &lock_path,
        &spool,
        &client,
        cfg,
        log,
        drain::Options {
            mode: Mode::All,
            deadline: None,
            request_timeout: cfg.timeout.max(Duration::from_secs(5)),
            ignore_breaker: true,
            after_signal: None,
        },
    );
    if progress.tty {
        let _ = write!(std::io::stderr(), "\r\x1b[2K");
    }
    let left = spool.list(Area::Pending).map_or(0, |l| l.len());
    println!(
        "sent {}, refused {} (moved to failed/), kept for a retry {}; {left} still pending",
        r.sent, r.refused, r.retry_later
    );
    match &r.stopped {
        Some(why) => Err(format!(
            "stopped early: {why}; the rest stays in the spool (run `hookline-hook flush`)"
        )),
        None => Ok(()),
    }
}
