//! The tail sender, `hookline-hook send-tails` (hidden from `--help`: the
//! hook starts it, and `flush` does the same work for a person). It takes
//! `state/tails.lock` (waiting for another sender, bounded, so each sender
//! started at least sees its own job done), does the jobs, then sends what
//! is due under the drain lock (waiting for it; the circuit breaker holds),
//! again until no job is left or its budget is spent, and exits. A hook
//! that ran out of its own short sending time starts one too, for the
//! sending alone ([`hand_off`]). It logs to `hook.log`
//! like the hook, with `process: "tail-sender"` and each job's
//! `request_id`, `session_id` and `event_type`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{Done, SETTLE_FOR, TailError, marker};
use crate::config::Config;
use crate::drain::{self, AfterSignal, Attempt, Mode};
use crate::log::{Logger, err_chain};
use crate::net::Client;
use crate::signals::Signals;
use crate::spool::Spool;

/// The subcommand the hook starts.
pub const SUBCOMMAND: &str = "send-tails";
/// A job this old with no process at work on the jobs was left by a sender
/// that did not finish: the next hook starts one.
pub const LEFTOVER_AGE: Duration = Duration::from_secs(2);
/// Longest wait for the sender before this one.
const LOCK_WAIT: Duration = Duration::from_secs(40);
/// Time for the jobs and the sending, once the lock is taken.
const BUDGET: Duration = Duration::from_secs(30);

/// The sender's arguments.
#[derive(Debug, clap::Args)]
pub struct Opts {
    /// Files the hook wrote without fsync, made durable first thing.
    #[arg(long, value_name = "PATH")]
    pub sync: Vec<PathBuf>,
}

/// Starts a sender, detached from the hook: in its own process group (the
/// signal Claude Code sends the hook's group does not reach it), with
/// stdin, stdout and stderr on /dev/null (no pipe of Claude Code's is kept
/// open), in the same environment. It makes `sync` durable (fsync) before
/// anything else. Returns its pid.
#[cfg(unix)]
pub fn spawn(sync: &[PathBuf]) -> Result<u32, TailError> {
    use std::os::unix::process::CommandExt;
    use std::process::Stdio;
    let exe = std::env::current_exe().map_err(TailError::Spawn)?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg(SUBCOMMAND);
    for p in sync {
        cmd.arg("--sync").arg(p);
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(TailError::Spawn)?;
    Ok(child.id())
}

/// The job written, the sender that does it: its pid, or `None` when this
/// process is to send (the sender could not start: the next hook starts
/// one for the job; not on unix: the job is done here, within the hook's
/// 1.5 s before Claude Code's SIGKILL, as the hook always did).
#[cfg(unix)]
pub fn start(
    _cfg: &Config,
    log: &Logger,
    _spool: &Spool,
    _started: Instant,
    unsynced: &[std::path::PathBuf],
) -> Option<u32> {
    match spawn(unsynced) {
        Ok(pid) => Some(pid),
        Err(e) => {
            log.error("cannot start the tail sender", &[err_chain(&e)]);
            sync_now(unsynced, log);
            None
        }
    }
}

/// What no sender makes durable, the hook does.
pub fn sync_now(unsynced: &[std::path::PathBuf], log: &Logger) {
    for p in unsynced {
        if let Err(e) = crate::fsutil::sync_file(p) {
            log.error("cannot make a spooled file durable", &[err_chain(&e)]);
        }
    }
}

#[cfg(not(unix))]
pub fn start(
    cfg: &Config,
    log: &Logger,
    spool: &Spool,
    started: Instant,
    _unsynced: &[std::path::PathBuf],
) -> Option<u32> {
    let settle = std::time::Duration::from_millis(700);
    let _ = super::run_jobs(cfg, log, spool, settle, started + settle, &|| false);
    None
}

/// For the hook of any other event: starts a sender if a job older than
/// [`LEFTOVER_AGE`] waits and no process works on the jobs (its sender was
/// killed, or the machine went down). Otherwise it costs a read of the
/// jobs' folder.
#[cfg(unix)]
pub fn spawn_for_leftovers(state_dir: &std::path::Path, log: &Logger) {
    if !marker::any_older_than(state_dir, LEFTOVER_AGE) || marker::busy(state_dir) {
        return;
    }
    match spawn(&[]) {
        Ok(pid) => log.info(
            "transcript tails left by a sender that did not finish; a sender is started",
            &[("tail_sender_pid", json!(pid))],
        ),
        Err(e) => log.error("cannot start the tail sender", &[err_chain(&e)]),
    }
}

/// For a hook that left entries to send (its own time ran out, or it sends
/// nothing itself: [`crate::settings::hooks::SYNCHRONOUS`]): starts a
/// sender, which sends them with the time the hook did not have. Returns
/// its pid; `None` (logged) when it could not start: the next hook or
/// `flush` sends them.
#[cfg(unix)]
pub fn hand_off(log: &Logger) -> Option<u32> {
    match spawn(&[]) {
        Ok(pid) => Some(pid),
        Err(e) => {
            log.error(
                "cannot start the sender; the next hook or flush sends the spool",
                &[err_chain(&e)],
            );
            None
        }
    }
}

/// The sender's work (the `send-tails` subcommand). A signal lets the job
/// at hand finish and stops the rest (the next sender does it).
pub fn run(opts: &Opts, cfg: &Config, log: &Logger, signals: &Signals) {
    let started = Instant::now();
    log.set("process", "tail-sender");
    for p in &opts.sync {
        if let Err(e) = crate::fsutil::sync_file(p) {
            log.error(
                "cannot make a spooled file durable",
                &[("path", json!(p)), err_chain(&e)],
            );
        }
    }
    let state_dir = cfg.spool_dir.join("state");
    let spool = match Spool::open(&cfg.spool_dir) {
        Ok(s) => s,
        Err(e) => {
            log.error("cannot open the spool", &[err_chain(&e)]);
            return;
        }
    };
    let stop = || signals.is_caught();
    let lock = crate::lock::acquire_unless(
        &marker::lock_path(&state_dir),
        Some(started + LOCK_WAIT),
        &stop,
    );
    let _held = match lock {
        Ok(Some(l)) => l,
        Ok(None) => {
            log.info(
                "another process still works on the transcript tails; left to it",
                &[],
            );
            return;
        }
        Err(e) => {
            log.error("cannot take the tail lock", &[err_chain(&e)]);
            return;
        }
    };
    let deadline = Instant::now() + BUDGET;
    let (mut done, mut sent, mut stopped) = (Done::default(), 0, None);
    // Sends at least once: a hook that ran out of time, or whose tail job
    // the sender before this one did, left entries to send.
    for round in 0.. {
        let d = super::run_jobs(cfg, log, &spool, SETTLE_FOR, deadline, &stop);
        for key in ["request_id", "session_id", "event_type"] {
            log.unset(key);
        }
        if d.jobs == 0 && round > 0 {
            break;
        }
        done.jobs += d.jobs;
        done.parts += d.parts;
        done.entries += d.entries;
        let (n, why) = send(cfg, log, &spool, deadline, signals);
        (sent, stopped) = (sent + n, why);
        if stop() || Instant::now() >= deadline {
            break;
        }
    }
    if done.jobs == 0 && sent == 0 && stopped.is_none() {
        // Nothing left to do: the process before this one did it.
        return;
    }
    let mut fields = vec![
        ("jobs", json!(done.jobs)),
        ("parts", json!(done.parts)),
        ("transcript_entries", json!(done.entries)),
        ("sent", json!(sent)),
        ("stopped", json!(stopped)),
        ("ms", json!(started.elapsed().as_millis() as u64)),
    ];
    if let Some(sig) = signals.caught() {
        fields.push(("signal", json!(sig)));
    }
    log.info("tail sender finished", &fields);
}

/// Sends what is due (not after a signal); the count sent, and why it
/// stopped early if it did.
fn send(
    cfg: &Config,
    log: &Logger,
    spool: &Spool,
    deadline: Instant,
    signals: &Signals,
) -> (usize, Option<String>) {
    if cfg.timeout.is_zero() {
        return (0, Some("timeout_ms is 0: spool only".into()));
    }
    let Some(client) = Client::new(cfg) else {
        return (0, Some("no URL configured".into()));
    };
    let opts = drain::Options {
        mode: Mode::Due,
        deadline: Some(deadline),
        request_timeout: cfg.unhurried_timeout(),
        ignore_breaker: false,
        after_signal: Some(AfterSignal { signals, own: &[] }),
    };
    // The lock is waited for (no one waits for this process): what this
    // sender was started for it sends itself, rather than leave it to the
    // holder (which would also send it: it looks again after its release).
    let give_up = || signals.is_caught();
    match drain::attempt(spool, &client, cfg, log, opts, deadline, &give_up) {
        Attempt::Drained(r) => (r.sent, r.stopped),
        Attempt::CircuitOpen(at) => (0, Some(format!("circuit open until {at}"))),
        Attempt::Busy => (0, Some("another process kept sending".into())),
        Attempt::NoLock(e) => {
            log.error("cannot take the drain lock", &[err_chain(&e)]);
            (0, Some("no lock".into()))
        }
    }
}
