//! The default command, what Claude Code runs on every hook event: read the
//! event, add the `hookline` object (and the transcript delta), spool it
//! durably, then send what is due within its sending time. Every problem is
//! logged; nothing is printed; the caller exits 0.
//!
//! Stop and SessionEnd end a turn, and Claude Code waits for their hooks
//! (registered synchronously on unix: `settings::hooks::SYNCHRONOUS`): the
//! hook spools the event alone, leaves its transcript and the sending to a
//! detached sender ([`crate::tail`]) and exits, with no lock wait and no
//! network (on unix; elsewhere it does the same work itself, then sends).
//!
//! No hook waits for the drain lock: while another process holds it, the
//! event is left to that process, which looks at the spool again once it
//! has released the lock ([`drain::drain_then_release`]). A hook sends for
//! [`INLINE_BUDGET`] at most and leaves what is still due to a detached
//! sender.
//!
//! After a termination signal ([`Signals`]) the hook still spools its event
//! and tries to send it, but it does not send the backlog or read again the
//! subagent files it follows: those wait for the next hook.

use std::io::Read;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::body::Input;
use crate::config::Config;
use crate::drain::{self, AfterSignal, Attempt, Mode};
use crate::identity;
use crate::log::{Logger, err_chain, err_field};
use crate::net::{Client, Outcome};
use crate::settings::hooks;
use crate::signals::Signals;
use crate::split::{self, Planned};
use crate::spool::{EntryName, Spool};
use crate::stamp::{self, redactor};
use crate::{heartbeat, tail, transcript};

/// The longest a hook sends itself, from the moment it has read the event,
/// on unix: what is not
/// sent by then is left to a detached sender ([`tail::sender::hand_off`]),
/// so a slow, hung or stopped server never keeps a hook alive when Claude
/// Code ends a turn (2.1.332 cancels the hooks still running then, and
/// waits 1.5 s for them). A send to a server that answers takes a few ms.
pub const INLINE_BUDGET: Duration = Duration::from_millis(150);

/// The hook's own sending time: `timeout_ms`, at most [`INLINE_BUDGET`] on
/// unix (elsewhere there is no detached sender to leave the rest to).
pub fn inline_budget(cfg: &Config) -> Duration {
    if cfg!(unix) {
        cfg.timeout.min(INLINE_BUDGET)
    } else {
        cfg.timeout
    }
}

/// Runs the hook. `started` is when the process started (the `ms` of its
/// log line); its sending time ([`inline_budget`]) counts from the moment
/// the event has been read, so a start slowed by a loaded machine, or a
/// Claude Code slow to write the event, does not eat it. `signals` says whether a termination
/// signal has come (then only the event itself is made durable and sent).
pub fn run(cfg: &Config, log: &Logger, stdin: impl Read, started: Instant, signals: &Signals) {
    for p in &cfg.problems {
        log.warn("configuration problem", &[("problem", p.as_str().into())]);
    }
    let (log_file, log_max) = (cfg.log_file.clone(), cfg.log_max_bytes);
    let stdin = crate::stdin::watched(stdin, signals.clone(), move |sig| {
        Logger::new(log_file, log_max).warn(
            "Claude Code ended the hook before it sent the event (nothing on stdin): nothing captured",
            &[("signal", json!(sig))],
        );
    });
    let mut input = match Input::read(stdin) {
        Ok(i) => i,
        Err(e) => {
            log.error(
                "stdin is not a hook event; nothing captured",
                &[err_field(&e)],
            );
            return;
        }
    };
    let deadline = Instant::now() + inline_budget(cfg);
    let redactor = redactor(cfg, log);
    // Only the masking itself is timed (not the I/O between the two
    // passes), so `redact_us` is what its name says.
    let redact_started = Instant::now();
    if let Some(r) = &redactor {
        input.redact(r);
    }
    let mut redact_time = redact_started.elapsed();
    let session = input.peek.session_id().unwrap_or("").to_owned();
    log.set("event_type", input.peek.event_name().unwrap_or(""));
    log.set("session_id", session.as_str());
    let request_id = uuid::Uuid::now_v7().to_string();
    log.set("request_id", request_id.as_str());
    let client = Client::new(cfg);
    let state_dir = cfg.spool_dir.join("state");
    let spool = Spool::open(&cfg.spool_dir);
    let mut meta = stamp::meta(&request_id, identity::lookup(&state_dir));
    meta.heartbeat = heartbeat::due(&state_dir, input.peek.event_name(), meta.captured_at);
    let spool = match spool {
        Ok(s) => s,
        Err(e) => {
            log.error(
                "cannot open the spool; sending without it",
                &[err_field(&e)],
            );
            let planned = split::bodies(&input, meta, &[], usize::MAX, &mut || String::new());
            for p in planned.iter().flatten() {
                send_unspooled(p, client.as_ref(), log, deadline);
            }
            return;
        }
    };
    // Stop and SessionEnd: the transcript is read after the hook ([`tail`]).
    let ends_turn = transcript::tail_may_follow(&input.peek);
    let mut collected = if ends_turn {
        None
    } else {
        transcript::collect(&input.peek, cfg, &state_dir, log, !signals.is_caught())
    };
    if let (Some(r), Some(c)) = (&redactor, collected.as_mut()) {
        let started = Instant::now();
        c.mask(r);
        redact_time += started.elapsed();
    }
    let redact_us = u64::try_from(redact_time.as_micros()).unwrap_or(u64::MAX);
    let files = collected.as_ref().map_or(&[][..], |c| c.files.as_slice());
    let (heartbeat, captured_at) = (meta.heartbeat, meta.captured_at);
    let mut mint = || uuid::Uuid::now_v7().to_string();
    let planned = match split::bodies(&input, meta, files, cfg.body_limit, &mut mint) {
        Ok(p) => p,
        Err(e) => {
            log.error("cannot build the request body", &[err_field(&e)]);
            return;
        }
    };
    // At the end of a turn even the fsyncs (2-8 ms each on a busy disk)
    // are left to the sender: it makes these files durable first thing,
    // before anything is sent.
    let deferred = ends_turn && cfg!(unix);
    let mut unsynced = Vec::new();
    let mut all_spooled = true;
    for p in &planned {
        let name = EntryName::new(&p.request_id, &session);
        let written = if deferred {
            spool
                .write_pending_unsynced(&name, &p.body)
                .map(|path| unsynced.push(path))
        } else {
            spool.write_pending(&name, &p.body)
        };
        if let Err(e) = written {
            log.error(
                "cannot write to the spool; sending without it",
                &[
                    ("part_request_id", p.request_id.as_str().into()),
                    err_field(&e),
                ],
            );
            send_unspooled(p, client.as_ref(), log, deadline);
            all_spooled = false;
        }
    }
    if heartbeat
        && all_spooled
        && let Err(e) = heartbeat::record(&state_dir, captured_at)
    {
        log.warn("cannot save the heartbeat time", &[err_field(&e)]);
    }
    // Offsets move only when every line is durably spooled; otherwise the
    // lines are read (and sent) again next time.
    if let Some(c) = collected.filter(|_| all_spooled)
        && let Err(e) = c.commit()
    {
        log.error(
            "cannot save the transcript offsets (lines will be sent again)",
            &[err_field(&e)],
        );
    }
    // Stop or SessionEnd: the job for the transcript, and a sender for it.
    let job = (all_spooled && ends_turn)
        .then(|| planned.first())
        .flatten()
        .and_then(
            |p| match tail::write_job(&spool, &input, &p.request_id, !deferred) {
                Ok(path) => {
                    unsynced.extend(deferred.then(|| path.clone()));
                    Some(path)
                }
                Err(e) => {
                    log.error(
                        "cannot write the tail job; a later event reads the transcript",
                        &[err_chain(&e)],
                    );
                    None
                }
            },
        );
    let sender = match job {
        Some(_) => tail::sender::start(cfg, log, &spool, started, &unsynced),
        None => {
            tail::sender::sync_now(&unsynced, log);
            #[cfg(unix)]
            tail::sender::spawn_for_leftovers(&state_dir, log);
            None
        }
    };
    let summary = [
        ("parts", json!(planned.len())),
        (
            "bytes",
            json!(planned.iter().map(|p| p.body.len()).sum::<usize>()),
        ),
        (
            "transcript_entries",
            json!(planned.iter().map(|p| p.entries).sum::<usize>()),
        ),
        ("redactions", json!(total_redactions(&planned))),
        ("redact_us", json!(redact_us)),
    ];
    // The summary, and the signal if one came by the time of the line.
    let fields = || {
        let mut f = summary.to_vec();
        if let Some(sig) = signals.caught() {
            f.push(("signal", json!(sig)));
        }
        f
    };
    let Some(client) = client else {
        log.warn(
            "no URL configured (HOOKLINE_URL or the config file): kept in the spool",
            &fields(),
        );
        return;
    };
    let inline = input
        .peek
        .event_name()
        .is_some_and(|e| hooks::RUN_INLINE.contains(&e));
    if inline || sender.is_some() {
        // Claude Code waits for this one (the next event sends it), or the
        // sender sends it: not this process.
        let mut fields = fields();
        let message = match sender {
            Some(pid) => {
                fields.push(("tail_sender_pid", json!(pid)));
                "event captured; the tail sender reads the transcript and sends"
            }
            None => "event spooled; sent with the next event (Claude Code runs this event inline)",
        };
        fields.push(("ms", json!(started.elapsed().as_millis() as u64)));
        log.info(message, &fields);
        return;
    }
    // Stop or SessionEnd without a tail sender (no job, or it did not
    // start): Claude Code waits for this hook (`hooks::SYNCHRONOUS`), so
    // it sends nothing itself either.
    #[cfg(unix)]
    if deferred {
        let mut fields = fields();
        fields.push(("sender_pid", json!(tail::sender::hand_off(log))));
        fields.push(("ms", json!(started.elapsed().as_millis() as u64)));
        log.info("event spooled; a sender sends it", &fields);
        return;
    }
    // No wait for the lock: while another process sends, the event is left
    // to it (it looks again after its release); while the circuit is open,
    // nothing is tried. After a signal only the hook's own entries are sent.
    let own: Vec<String> = planned.iter().map(|p| p.request_id.clone()).collect();
    let opts = drain::Options {
        mode: Mode::Due,
        deadline: Some(deadline),
        request_timeout: cfg.timeout,
        ignore_breaker: false,
        after_signal: Some(AfterSignal { signals, own: &own }),
    };
    let give_up = || signals.is_caught();
    let attempt = drain::attempt(&spool, &client, cfg, log, opts, Instant::now(), &give_up);
    let (report, stopped) = match attempt {
        Attempt::Drained(r) => {
            let stopped = r.stopped.clone().unwrap_or_default();
            (Some(r), stopped)
        }
        Attempt::CircuitOpen(at) => (None, format!("circuit open until {at}")),
        Attempt::Busy => (None, "another process is sending: left to it".to_owned()),
        Attempt::NoLock(e) => {
            log.error("cannot take the drain lock", &[err_field(&e)]);
            (None, "no lock".to_owned())
        }
    };
    let mut fields = fields();
    fields.extend([
        ("sent", json!(report.as_ref().map(|r| r.sent))),
        ("stopped", json!(Some(stopped).filter(|s| !s.is_empty()))),
    ]);
    // Out of its short time with entries still due (the server is slow,
    // hung or down, or other hooks left entries to it while it sent): a
    // sender, which Claude Code does not wait for, sends them, and records
    // the failure that opens the circuit.
    #[cfg(unix)]
    if report.as_ref().is_some_and(|r| r.out_of_time) && !cfg.timeout.is_zero() {
        fields.push(("sender_pid", json!(tail::sender::hand_off(log))));
    }
    fields.push(("ms", json!(started.elapsed().as_millis() as u64)));
    log.info("event captured", &fields);
}

fn total_redactions(planned: &[Planned]) -> crate::redact::Counts {
    let mut all = crate::redact::Counts::new();
    for p in planned {
        crate::redact::add(&mut all, &p.redactions);
    }
    all
}

/// Last resort when the spool cannot be written: one direct send.
fn send_unspooled(p: &Planned, client: Option<&Client>, log: &Logger, deadline: Instant) {
    let rid = ("part_request_id", json!(p.request_id));
    let Some(client) = client else {
        log.error("event lost: no spool and no URL to send it to", &[rid]);
        return;
    };
    match client.post_event(
        &p.body,
        &p.request_id,
        deadline.saturating_duration_since(Instant::now()),
    ) {
        Outcome::Accepted => log.warn("sent without the spool", &[rid]),
        other => log.error(
            "event lost: no spool and the send failed",
            &[rid, ("outcome", format!("{other:?}").into())],
        ),
    }
}
