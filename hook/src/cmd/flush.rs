//! `hookline-hook flush`: send spooled events now, even while the circuit
//! breaker is open (the server is probed first). The transcript tails
//! Stop and SessionEnd left to read (their sender did not finish) are read
//! and spooled first.

use std::time::{Duration, Instant};

use clap::Args;

use crate::config::Config;
use crate::drain::{self, Mode};
use crate::log::Logger;
use crate::net::Client;
use crate::spool::{Area, Spool};
use crate::tail;

#[derive(Debug, Args)]
pub struct Opts {
    /// Send every pending entry, ignoring the retry schedule.
    #[arg(long)]
    pub all: bool,
    /// First move the entries in failed/ back to pending (retry count reset), then send everything.
    #[arg(long)]
    pub failed: bool,
    /// Stop after this many seconds (default: when done or when the server fails).
    #[arg(long, value_name = "SECS")]
    pub budget: Option<u64>,
}

pub fn run(opts: &Opts, cfg: &Config, log: &Logger) -> Result<(), String> {
    let client = Client::new(cfg)
        .ok_or("no URL configured: set HOOKLINE_URL or run `hookline-hook install --url ...`")?;
    let spool = Spool::open(&cfg.spool_dir)
        .map_err(|e| format!("cannot open the spool {}: {e}", cfg.spool_dir.display()))?;
    let deadline = opts.budget.map(|s| Instant::now() + Duration::from_secs(s));
    tails(cfg, log, &spool, deadline)?;
    let lock_path = spool.state_dir().join("drain.lock");
    let held = crate::lock::acquire(&lock_path, Some(Instant::now() + Duration::from_secs(30)))
        .map_err(|e| format!("cannot take {}: {e}", lock_path.display()))?
        .ok_or("another process has been sending for 30 s; try again")?;
    let _ = spool.tidy();
    if opts.failed {
        let failed = spool.list(Area::Failed).map_err(|e| e.to_string())?;
        for l in &failed {
            spool
                .requeue_failed(&l.name)
                .map_err(|e| format!("cannot requeue {}: {e}", l.name.request_id))?;
        }
        println!("moved {} failed entries back to pending", failed.len());
        log.info(
            "failed entries requeued by flush --failed",
            &[("count", failed.len().into())],
        );
    }
    let options = drain::Options {
        mode: if opts.all || opts.failed {
            Mode::All
        } else {
            Mode::Due
        },
        deadline,
        // A person waits: at least a second per answer.
        request_timeout: cfg.unhurried_timeout(),
        ignore_breaker: true,
        after_signal: None,
    };
    let r = drain::drain_then_release(held, &lock_path, &spool, &client, cfg, log, options);
    let left = spool.list(Area::Pending).map_or(0, |l| l.len());
    println!(
        "sent {}, refused {} (moved to failed/), kept for a retry {}, given up {}; {left} still pending",
        r.sent, r.refused, r.retry_later, r.gave_up
    );
    if let Some(why) = &r.stopped {
        println!("stopped early: {why}");
    }
    log.info(
        "flush",
        &[
            ("sent", r.sent.into()),
            ("refused", r.refused.into()),
            ("pending", left.into()),
        ],
    );
    match &r.stopped {
        Some(why) if r.sent == 0 && left > 0 => Err(format!("nothing could be sent: {why}")),
        _ => Ok(()),
    }
}

/// Does the tail jobs waiting (the lock taken, then released before the
/// drain), and says so when there were any.
fn tails(
    cfg: &Config,
    log: &Logger,
    spool: &Spool,
    deadline: Option<Instant>,
) -> Result<(), String> {
    let state = spool.state_dir();
    if tail::marker::files(&state).map_or(true, |f| f.is_empty()) {
        return Ok(());
    }
    let lock_path = tail::marker::lock_path(&state);
    let _held = crate::lock::acquire(&lock_path, Some(Instant::now() + Duration::from_secs(30)))
        .map_err(|e| format!("cannot take {}: {e}", lock_path.display()))?
        .ok_or("another process has been reading transcript tails for 30 s; try again")?;
    let until = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(600));
    let d = tail::run_jobs(cfg, log, spool, tail::SETTLE_FOR, until, &|| false);
    if d.jobs > 0 {
        println!(
            "read {} transcript tails left by Stop or SessionEnd: {} entries in {} parts",
            d.jobs, d.entries, d.parts
        );
    }
    Ok(())
}
