//! # hookline-hook
//!
//! The Claude Code hook client. Claude Code runs `hookline-hook` (no
//! arguments) on every hook event with the event JSON on stdin; it spools
//! the event durably before any network I/O, sends what is due for 150 ms
//! at most (never waiting for another process's send) and leaves the rest
//! to a detached sender, never prints to stdout and always exits 0; on Stop
//! and SessionEnd, which Claude Code runs synchronously, it sends nothing
//! and leaves the transcript and the sending to the detached sender
//! ([`tail`]). People run its subcommands (`flush`, `status`, `install`,
//! `uninstall`, `doctor`, `backfill`).
//! docs/hook.md is the user's guide; docs/wire-format.md the body it sends.
//!
//! # Layout
//!
//! - [`cli`]: the command line (clap); no subcommand is the hook.
//! - [`capture`]: the hook itself: stdin → body → spool → drain.
//! - [`stdin`]: reading one JSON object, bounded, without waiting for EOF;
//!   after a signal, not waiting for an event Claude Code never wrote.
//! - [`body`]: the event's checks and splicing the `hookline` object into
//!   Claude Code's JSON without re-serialising it.
//! - [`transcript`]: which events read transcripts, per-session offsets
//!   ([`transcript::cursor`]) and the delta reader ([`transcript::reader`]).
//! - [`split`]: one event and its transcript delta → bodies under the limit;
//!   [`truncate`] cuts an entry too large for any body.
//! - [`spool`]: the on-disk queue (`pending/`, `failed/`, `tmp/`, `state/`),
//!   entry names and retry state ([`spool::entry`]), the retry schedule
//!   ([`spool::schedule`]).
//! - [`drain`]: sending spooled entries in order, one process at a time;
//!   [`drain::attempt`] for a process with other work (breaker, lock try or
//!   wait); [`drain::drain_then_release`], how every holder of the lock
//!   drains: after its release it looks at `pending/` again, so an entry
//!   left to it while it sent is not left behind.
//! - [`tail`]: the transcript of Stop and SessionEnd, read after the hook
//!   exited: the jobs on disk ([`tail::marker`]) and the detached sender
//!   (`send-tails`, [`tail::sender`]).
//! - [`breaker`]: the circuit breaker that keeps a dead server from costing
//!   a deadline per event.
//! - [`net`]: HTTP (ureq, rustls) and what each answer means.
//! - [`lock`]: file locks bounded by a deadline.
//! - [`config`], [`paths`]: the config file, environment overrides, default
//!   locations.
//! - [`log`]: the JSON-lines log file with size rotation.
//! - [`redact`]: masking secrets before anything is spooled.
//! - [`stamp`]: a request's `hookline` object and its redactor.
//! - [`identity`]: host, OS user, git e-mail (cached).
//! - [`heartbeat`]: which events carry the heartbeat (SessionStart, hourly).
//! - [`fsutil`]: private folders, atomic durable writes.
//! - [`signals`]: SIGTERM, SIGHUP and SIGINT set a flag instead of killing
//!   the hook, so it still spools its event (a person's command is not
//!   affected).
//! - [`settings`]: Claude Code's settings.json, order-preserving
//!   ([`settings::ordered`]), and hookline's entries in it
//!   ([`settings::hooks`]).
//! - [`backfill`]: finding transcripts on disk and cutting them into
//!   batches with content-derived request ids (`hookline-hook backfill`).
//! - [`cmd`]: one module per subcommand.

pub mod backfill;
pub mod body;
pub mod breaker;
pub mod capture;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod drain;
pub mod fsutil;
pub mod heartbeat;
pub mod identity;
pub mod lock;
pub mod log;
pub mod net;
pub mod paths;
pub mod redact;
pub mod settings;
pub mod signals;
pub mod split;
pub mod spool;
pub mod stamp;
pub mod stdin;
pub mod tail;
pub mod transcript;
pub mod truncate;

use std::process::ExitCode;
use std::time::Instant;

use cli::{Cli, Command};
use config::Config;
use log::Logger;
use signals::Signals;

/// Runs a parsed command line. The hook (no subcommand) always returns
/// success; a person's command returns failure when it failed. `signals`
/// were caught since `main` started; only the hook keeps catching them.
pub fn run(cli: Cli, started: Instant, signals: &Signals) -> ExitCode {
    if !matches!(
        cli.command,
        None | Some(Command::Capture | Command::SendTails(_))
    ) {
        signals.release();
    }
    let cfg = Config::load();
    let log = Logger::new(cfg.log_file.clone(), cfg.log_max_bytes);
    let result = match cli.command {
        None | Some(Command::Capture) => {
            capture::run(&cfg, &log, std::io::stdin().lock(), started, signals);
            Ok(())
        }
        Some(Command::Flush(o)) => cmd::flush::run(&o, &cfg, &log),
        Some(Command::Status(o)) => cmd::status::run(&o, &cfg),
        Some(Command::Install(o)) => cmd::install::run(&o, &cfg),
        Some(Command::Uninstall(o)) => cmd::uninstall::run(&o),
        Some(Command::Doctor(o)) => cmd::doctor::run(&o, &cfg),
        Some(Command::Backfill(o)) => cmd::backfill::run(&o, &cfg, &log),
        Some(Command::SendTails(o)) => {
            tail::sender::run(&o, &cfg, &log, signals);
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hookline-hook: {e}");
            ExitCode::FAILURE
        }
    }
}
