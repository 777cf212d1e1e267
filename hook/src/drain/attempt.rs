//! A drain by a process with something else to do (the hook, the tail
//! sender): none while the circuit is open, and none unless the drain lock
//! comes in time (the hook tries it once: it never waits for it).
//!
//! Every holder of the drain lock (these, `flush`, `backfill`) drains with
//! [`drain_then_release`]: once it has released the lock it reads
//! `pending/` once more. A process that found the lock taken left its entry
//! to the holder, and it wrote the entry before its try, so before the
//! release: the look after the release sees it, even when the holder's
//! last pass listed `pending/` before the entry was there (issue 16).

use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::{MIN_SEND, Mode, Options, Report, drain_seen};
use crate::breaker::Breaker;
use crate::config::Config;
use crate::lock::Lock;
use crate::log::Logger;
use crate::net::Client;
use crate::spool::{Area, Spool};

/// Most takes of the drain lock in one [`drain_then_release`]: each one
/// for entries spooled while this process held the lock.
const MAX_TAKES: usize = 4;

/// What [`attempt`] did.
#[derive(Debug)]
pub enum Attempt {
    Drained(Report),
    /// The breaker is open until then: nothing was tried.
    CircuitOpen(DateTime<Utc>),
    /// Another process held the drain lock until `lock_until`, or until
    /// `give_up` said so.
    Busy,
    NoLock(std::io::Error),
}

/// Drains unless the circuit is open, once the drain lock is taken (waiting
/// until `lock_until` at most, or until `give_up()`; one try when that is
/// now), with [`drain_then_release`].
pub fn attempt(
    spool: &Spool,
    client: &Client,
    cfg: &Config,
    log: &Logger,
    opts: Options<'_>,
    lock_until: Instant,
    give_up: &dyn Fn() -> bool,
) -> Attempt {
    let state = spool.state_dir();
    if let Some(b) = Breaker::load(&state).filter(|b| b.blocks(Utc::now())) {
        return Attempt::CircuitOpen(b.next_probe_at);
    }
    let path = state.join("drain.lock");
    match crate::lock::acquire_unless(&path, Some(lock_until), give_up) {
        Ok(Some(held)) => Attempt::Drained(drain_then_release(
            held, &path, spool, client, cfg, log, opts,
        )),
        Ok(None) => Attempt::Busy,
        Err(e) => Attempt::NoLock(e),
    }
}

/// Drains with the drain lock `held` (taken at `lock_path`), releases it,
/// then lists `pending/` once more. If an entry is due there that none of
/// its passes listed (spooled by a process that found the lock taken), it
/// tries the lock once more (no wait) and drains again, and so on, 4 takes
/// at most; while another process holds the lock, that one looks again
/// after its own drain. It does not look again after a drain that ran out
/// of time (its caller leaves the rest to a sender with more time) or
/// while the circuit is open (the next probe sends what is left). When it
/// finds such an entry but has no time left, may not send it (after a
/// signal the hook sends only its own), or has taken the lock
/// `MAX_TAKES` times, it starts the detached sender
/// ([`crate::tail::sender::hand_off`]), which waits for the lock (off unix,
/// or with `timeout_ms = 0`, the next hook sends it).
pub fn drain_then_release(
    held: Lock,
    lock_path: &Path,
    spool: &Spool,
    client: &Client,
    cfg: &Config,
    log: &Logger,
    opts: Options<'_>,
) -> Report {
    let mut report = Report::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut held = Some(held);
    for take in 1.. {
        let (r, listed) = drain_seen(spool, client, cfg, log, opts);
        merge(&mut report, r);
        seen.extend(listed);
        drop(held.take());
        if report.out_of_time || report.circuit_open {
            break;
        }
        let spooled_meanwhile = match new_due(spool, &seen, opts.mode) {
            Ok(n) => n,
            Err(e) => {
                log.warn(
                    "cannot list the spool after the drain",
                    &[crate::log::err_field(&e)],
                );
                break;
            }
        };
        if spooled_meanwhile == 0 {
            break;
        }
        let no_time = opts
            .deadline
            .is_some_and(|d| d.saturating_duration_since(Instant::now()) < MIN_SEND);
        let signalled = opts.after_signal.is_some_and(|a| a.signals.is_caught());
        if no_time || signalled || take >= MAX_TAKES {
            leave(cfg, log, spooled_meanwhile, &mut report);
            break;
        }
        held = match crate::lock::acquire(lock_path, Some(Instant::now())) {
            Ok(Some(l)) => Some(l),
            // The holder now looks again after its drain.
            Ok(None) => break,
            Err(e) => {
                log.error(
                    "cannot take the drain lock again",
                    &[crate::log::err_field(&e)],
                );
                break;
            }
        };
        log.debug(
            "entries spooled while this process sent: sending them",
            &[("entries", spooled_meanwhile.into())],
        );
    }
    report
}

/// Leaves `count` entries spooled while this process sent to a sender
/// (none with `timeout_ms = 0`, spool only, or off unix: the next hook).
fn leave(cfg: &Config, log: &Logger, count: usize, report: &mut Report) {
    #[cfg(unix)]
    if !cfg.timeout.is_zero() {
        let pid = crate::tail::sender::hand_off(log);
        log.info(
            "entries spooled while this process sent: left to a sender",
            &[("entries", count.into()), ("sender_pid", pid.into())],
        );
        report.stopped = Some(format!(
            "{count} entries spooled while this process sent: left to a sender"
        ));
        return;
    }
    let _ = (cfg, log);
    report.stopped = Some(format!(
        "{count} entries spooled while this process sent: left to the next hook"
    ));
}

/// The entries in `pending/` due now (as `mode` says) that are not in `seen`.
fn new_due(spool: &Spool, seen: &HashSet<String>, mode: Mode) -> std::io::Result<usize> {
    let now = Utc::now();
    Ok(spool
        .list(Area::Pending)?
        .into_iter()
        .filter(|l| !seen.contains(&l.name.request_id))
        .filter(|l| {
            !l.has_state
                || mode == Mode::All
                || spool
                    .read_state(Area::Pending, &l.name)
                    .is_none_or(|s| now >= s.next_attempt_at)
        })
        .count())
}

/// `r`, a later drain's report, added to `all`.
fn merge(all: &mut Report, r: Report) {
    all.sent += r.sent;
    all.refused += r.refused;
    all.retry_later += r.retry_later;
    all.gave_up += r.gave_up;
    all.out_of_time |= r.out_of_time;
    all.circuit_open = r.circuit_open;
    if r.stopped.is_some() {
        all.stopped = r.stopped;
    }
}
