//! Sending spooled entries, oldest first, one process at a time
//! (`state/drain.lock`), within a time budget.
//!
//! Rules, per entry in request-id order:
//! - sent when new (never tried), when its next-attempt time has come, or
//!   when its last send got no answer at all (server down, black-holed) and
//!   the server has answered since, in this drain (a successful probe or
//!   send drains the backlog); with [`Mode::All`], always;
//! - an entry held back that way holds back the later entries of its
//!   session, so each session arrives in order (an entry the server
//!   answered with 408/429/5xx just waits for its time: it holds nothing
//!   back, so one troublesome entry cannot stall its session for hours);
//! - 2xx removes it, a refusal (4xx but 408/429) moves it to `failed/` with
//!   the answer, anything else records the attempt, opens the circuit
//!   breaker and stops the drain (the server is struggling; later entries
//!   would only cost more time);
//! - a send cut short by the budget (less than half the configured timeout
//!   was left, and it ran out with no answer) is not counted against the
//!   entry;
//! - once the hook has caught a termination signal ([`AfterSignal`]), only
//!   its own entries are still sent; any other entry that would be sent is
//!   left for the next hook and holds back its session, so the hook's own
//!   entry never overtakes an older one of its session;
//! - whoever drains looks at `pending/` again once it has released the
//!   lock ([`drain_then_release`]): an entry a process left to it while it
//!   held the lock is not left behind.

mod attempt;

pub use attempt::{Attempt, attempt, drain_then_release};

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::json;

use crate::breaker::Breaker;
use crate::config::Config;
use crate::log::Logger;
use crate::net::{Client, Outcome};
use crate::signals::Signals;
use crate::spool::{Area, EntryName, Listed, RetryState, Spool};

/// No request is started with less time than this left.
const MIN_SEND: Duration = Duration::from_millis(10);
/// Passes over the pending list (a pass re-reads it: entries spooled
/// meanwhile, sessions released by a success).
const MAX_PASSES: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// What is due (the retry schedule holds).
    Due,
    /// Everything pending, ignoring the schedule.
    All,
}

#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    pub mode: Mode,
    /// End of the time budget; `None`: no limit.
    pub deadline: Option<Instant>,
    /// Longest wait for one answer (the budget may cut it shorter).
    pub request_timeout: Duration,
    /// Send even while the breaker is open (it is probed first).
    pub ignore_breaker: bool,
    /// The hook's: what is still sent once it has caught a signal.
    pub after_signal: Option<AfterSignal<'a>>,
}

/// Once `signals` has caught a signal, only `own` is sent.
#[derive(Clone, Copy, Debug)]
pub struct AfterSignal<'a> {
    pub signals: &'a Signals,
    /// Request ids of the entries this hook spooled.
    pub own: &'a [String],
}

impl AfterSignal<'_> {
    /// The signal's name when `request_id` must be left for the next hook.
    fn leaves(&self, request_id: &str) -> Option<&'static str> {
        self.signals
            .caught()
            .filter(|_| !self.own.iter().any(|r| r == request_id))
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub sent: usize,
    pub refused: usize,
    pub retry_later: usize,
    pub gave_up: usize,
    /// Why the drain stopped early, if it did.
    pub stopped: Option<String>,
    /// It stopped because the time budget ran out (entries may be left
    /// that another process, with more time, can send).
    pub out_of_time: bool,
    /// The circuit breaker was open when it ended (found open, or tripped
    /// by this drain).
    pub circuit_open: bool,
}

struct Run<'a> {
    spool: &'a Spool,
    client: &'a Client,
    cfg: &'a Config,
    log: &'a Logger,
    opts: Options<'a>,
    breaker: Option<Breaker>,
    server_up: bool,
    report: Report,
    /// Request ids of every entry a pass listed.
    seen: HashSet<String>,
}

/// Drains the spool; the report, and the request ids of every entry it
/// listed. The caller holds the drain lock: [`drain_then_release`], the
/// only caller, looks again once it has released it.
fn drain_seen(
    spool: &Spool,
    client: &Client,
    cfg: &Config,
    log: &Logger,
    opts: Options<'_>,
) -> (Report, HashSet<String>) {
    let state = spool.state_dir();
    let breaker = Breaker::load(&state);
    let mut run = Run {
        spool,
        client,
        cfg,
        log,
        opts,
        breaker,
        server_up: false,
        report: Report::default(),
        seen: HashSet::new(),
    };
    if let Some(b) = run.breaker.clone() {
        if b.blocks(Utc::now()) && !opts.ignore_breaker {
            run.report.stopped = Some(format!("circuit open until {}", b.next_probe_at));
            return run.finish();
        }
        if !run.probe() {
            return run.finish();
        }
    }
    for _ in 0..MAX_PASSES {
        let before = run.report.sent;
        if !run.pass() || run.report.sent == before {
            break;
        }
    }
    run.finish()
}

impl Run<'_> {
    /// The report (with the breaker's state at the end) and the ids listed.
    fn finish(mut self) -> (Report, HashSet<String>) {
        self.report.circuit_open = self.breaker.as_ref().is_some_and(|b| b.blocks(Utc::now()));
        (self.report, self.seen)
    }

    fn remaining(&self) -> Option<Duration> {
        self.opts
            .deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    fn timeout(&self) -> Option<Duration> {
        let full = self.opts.request_timeout;
        let t = self.remaining().map_or(full, |r| r.min(full));
        (t >= MIN_SEND).then_some(t)
    }

    /// `GET /health` while the breaker is open; true if the server answers
    /// (any status below 500: a server without `/health` still counts).
    fn probe(&mut self) -> bool {
        let Some(timeout) = self.timeout() else {
            self.report.stopped = Some("no time left to probe".into());
            self.report.out_of_time = true;
            return false;
        };
        match self.client.health(timeout) {
            Ok(status) if status < 500 => {
                self.close_breaker();
                true
            }
            other => {
                let error = match other {
                    Ok(s) => format!("health answered {s}"),
                    Err(e) => e,
                };
                self.trip(&error);
                self.report.stopped = Some(format!("probe failed: {error}"));
                false
            }
        }
    }

    fn close_breaker(&mut self) {
        self.server_up = true;
        if self.breaker.take().is_some() {
            let _ = Breaker::close(&self.spool.state_dir());
            self.log.info("circuit closed: the server answers", &[]);
        }
    }

    fn trip(&mut self, error: &str) {
        let state = self.spool.state_dir();
        match Breaker::trip(
            &state,
            self.breaker.as_ref(),
            error,
            self.cfg.probe_interval,
        ) {
            Ok(b) => {
                self.log.warn(
                    "circuit open: sending paused",
                    &[
                        ("error", error.into()),
                        ("next_probe_at", b.next_probe_at.to_rfc3339().into()),
                    ],
                );
                self.breaker = Some(b);
            }
            Err(e) => self.log.error(
                "cannot write the breaker state",
                &[crate::log::err_field(&e)],
            ),
        }
    }

    /// One pass over the pending list; false when draining should stop.
    fn pass(&mut self) -> bool {
        let listed = match self.spool.list(Area::Pending) {
            Ok(l) => l,
            Err(e) => {
                self.log
                    .error("cannot list the spool", &[crate::log::err_field(&e)]);
                return false;
            }
        };
        let mut held: HashSet<String> = HashSet::new();
        self.seen
            .extend(listed.iter().map(|l| l.name.request_id.clone()));
        for Listed { name, has_state } in listed {
            if held.contains(&name.session_key) {
                continue;
            }
            let state = if has_state {
                self.spool.read_state(Area::Pending, &name)
            } else {
                None
            };
            if !self.eligible(state.as_ref()) {
                if state.as_ref().is_some_and(|s| s.unreachable) {
                    held.insert(name.session_key.clone());
                }
                continue;
            }
            if let Some(sig) = self
                .opts
                .after_signal
                .and_then(|a| a.leaves(&name.request_id))
            {
                held.insert(name.session_key.clone());
                self.report.stopped = Some(format!("{sig}: the rest is left for the next hook"));
                continue;
            }
            let Some(timeout) = self.timeout() else {
                self.report.stopped = Some("time budget spent".into());
                self.report.out_of_time = true;
                return false;
            };
            if !self.send(&name, state, timeout) {
                return false;
            }
        }
        true
    }

    fn eligible(&self, state: Option<&RetryState>) -> bool {
        match state {
            None => true,
            Some(_) if self.opts.mode == Mode::All => true,
            Some(s) => Utc::now() >= s.next_attempt_at || (s.unreachable && self.server_up),
        }
    }

    /// Sends one entry; false when draining should stop.
    fn send(&mut self, name: &EntryName, state: Option<RetryState>, timeout: Duration) -> bool {
        let rid = name.request_id.as_str();
        let body = match self.spool.read_body(Area::Pending, name) {
            Ok(b) => b,
            Err(e) => {
                // Gone (sent by an earlier holder of the lock) or unreadable.
                self.log.warn(
                    "cannot read a spool entry",
                    &[("request_id", rid.into()), crate::log::err_field(&e)],
                );
                return true;
            }
        };
        let started = Instant::now();
        let outcome = self.client.post_event(&body, rid, timeout);
        let took = started.elapsed();
        let ms = took.as_millis() as u64;
        match outcome {
            Outcome::Accepted => {
                self.close_breaker();
                self.report.sent += 1;
                if let Err(e) = self.spool.remove_pending(name) {
                    self.log.error(
                        "sent, but cannot remove the spool entry",
                        &[("request_id", rid.into()), crate::log::err_field(&e)],
                    );
                }
                self.log
                    .debug("sent", &[("request_id", rid.into()), ("ms", ms.into())]);
                true
            }
            Outcome::Refused { status, ref answer } => {
                self.server_up = true;
                let reason = format!("HTTP {status}: {}", crate::net::short(answer));
                let st = RetryState::refused(state.as_ref(), status, &reason);
                self.report.refused += 1;
                self.log.error(
                    "refused by the server; moved to failed/",
                    &[
                        ("request_id", rid.into()),
                        ("status", status.into()),
                        ("answer", crate::net::short(answer).into()),
                    ],
                );
                if let Err(e) = self.spool.move_to_failed(name, &st, Some(answer)) {
                    self.log.error(
                        "cannot move the entry to failed/",
                        &[("request_id", rid.into()), crate::log::err_field(&e)],
                    );
                }
                true
            }
            Outcome::Retry { status, ref error } => {
                // No answer in the short time the budget left (a refused
                // connection, which takes no time, still counts).
                let cut_short =
                    timeout < self.opts.request_timeout / 2 && took + MIN_SEND >= timeout;
                if status.is_none() && cut_short {
                    self.report.stopped = Some(format!("time budget spent ({error})"));
                    self.report.out_of_time = true;
                    return false;
                }
                self.retry_later(name, state.as_ref(), error, status);
                self.trip(error);
                self.report.stopped = Some(error.clone());
                false
            }
        }
    }

    fn retry_later(
        &mut self,
        name: &EntryName,
        prev: Option<&RetryState>,
        error: &str,
        status: Option<u16>,
    ) {
        let rid = name.request_id.as_str();
        let st = RetryState::after_failure(prev, error, status);
        let fields = [
            ("request_id", json!(rid)),
            ("attempts", json!(st.attempts)),
            ("error", json!(error)),
        ];
        let result = if st.failed_reason.is_none() {
            self.report.retry_later += 1;
            self.log.warn("send failed; kept for a retry", &fields);
            self.spool.write_state(name, &st)
        } else {
            self.report.gave_up += 1;
            self.log
                .error("send failed for the last time; moved to failed/", &fields);
            self.spool.move_to_failed(name, &st, None)
        };
        if let Err(e) = result {
            self.log.error(
                "cannot record the failed send",
                &[("request_id", rid.into()), crate::log::err_field(&e)],
            );
        }
    }
}
