//! The default command, what Claude Code runs on every hook event: read the
//! event, add the `hookline` object (and the transcript delta), spool it
//! durably, then send what is due within the deadline. Every problem is
//! logged; nothing is printed; the caller exits 0.
//!
//! After a termination signal ([`Signals`]) the hook still spools its event
//! and tries to send it, but it does not wait for the drain lock, send the
//! backlog or read again the subagent files it follows: those wait for the
//! next hook.

use std::io::Read;
use std::time::Instant;

use chrono::Utc;
use hookline_core::meta::{ClientInfo, HooklineMeta, META_VERSION};
use serde_json::json;

use crate::body::Input;
use crate::breaker::Breaker;
use crate::config::Config;
use crate::drain::{self, AfterSignal, Mode};
use crate::identity::{self, Identity};
use crate::log::{Logger, err_field};
use crate::net::{CLIENT_NAME, Client, Outcome};
use crate::redact::Redactor;
use crate::settings::hooks;
use crate::signals::Signals;
use crate::split::{self, Planned};
use crate::spool::{EntryName, Spool};
use crate::{heartbeat, lock, transcript};

/// Runs the hook. `started` is when the process started: the deadline
/// (`timeout_ms`) counts from there. `signals` says whether a termination
/// signal has come (then only the event itself is made durable and sent).
pub fn run(cfg: &Config, log: &Logger, stdin: impl Read, started: Instant, signals: &Signals) {
    let deadline = started + cfg.timeout;
    for p in &cfg.problems {
        log.warn("configuration problem", &[("problem", p.as_str().into())]);
    }
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
    let mut meta = new_meta(&request_id, identity::lookup(&state_dir));
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
    let mut collected =
        transcript::collect(&input.peek, cfg, &state_dir, log, !signals.is_caught());
    if let (Some(r), Some(c)) = (&redactor, collected.as_mut()) {
        let started = Instant::now();
        for line in c.files.iter_mut().flat_map(|f| f.delta.lines.iter_mut()) {
            r.redact_value(&mut line.value, &mut line.redactions);
        }
        redact_time += started.elapsed();
    }
    let redact_us = u64::try_from(redact_time.as_micros()).unwrap_or(u64::MAX);
    let files = collected.as_ref().map_or(&[][..], |c| c.files.as_slice());
    let (heartbeat, captured_at) = (meta.heartbeat, meta.captured_at);
    let mut mint = || uuid::Uuid::now_v7().to_string();
    let mut planned = match split::bodies(&input, meta, files, cfg.body_limit, &mut mint) {
        Ok(p) => p,
        Err(e) => {
            log.error("cannot build the request body", &[err_field(&e)]);
            return;
        }
    };
    let mut all_spooled = true;
    for p in &planned {
        if let Err(e) = spool.write_pending(&EntryName::new(&p.request_id, &session), &p.body) {
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
    // Stop or SessionEnd: the tail of the transcript may be written now,
    // and no later event may read it.
    if all_spooled
        && let Some(first) = planned.first().map(|p| p.request_id.clone())
        && transcript::tail_may_follow(&input.peek)
    {
        let index = u32::try_from(planned.len()).unwrap_or(u32::MAX);
        let late = late_tail(
            cfg, log, &input, &state_dir, &spool, &session, &first, index,
        );
        planned.extend(late);
    }
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
    if input
        .peek
        .event_name()
        .is_some_and(|e| hooks::RUN_INLINE.contains(&e))
    {
        // Claude Code waits for this one: the next event sends it.
        let mut fields = fields();
        fields.push(("ms", json!(started.elapsed().as_millis() as u64)));
        log.info(
            "event spooled; sent with the next event (Claude Code runs this event inline)",
            &fields,
        );
        return;
    }
    // While the circuit is open, do not even wait for the lock; after a
    // signal, do not wait for it either (its holder or the next hook sends
    // the event).
    let own: Vec<String> = planned.iter().map(|p| p.request_id.clone()).collect();
    let give_up = || signals.is_caught();
    let (report, stopped) = match Breaker::load(&state_dir).filter(|b| b.blocks(Utc::now())) {
        Some(b) => (None, format!("circuit open until {}", b.next_probe_at)),
        None => match lock::acquire_unless(&state_dir.join("drain.lock"), Some(deadline), &give_up)
        {
            Ok(Some(_held)) => {
                let opts = drain::Options {
                    mode: Mode::Due,
                    deadline: Some(deadline),
                    request_timeout: cfg.timeout,
                    ignore_breaker: false,
                    after_signal: Some(AfterSignal { signals, own: &own }),
                };
                let r = drain::drain(&spool, &client, cfg, log, opts);
                let stopped = r.stopped.clone().unwrap_or_default();
                (Some(r), stopped)
            }
            Ok(None) if signals.is_caught() => (
                None,
                "signalled while another hook was sending: left to it or the next hook".to_owned(),
            ),
            Ok(None) => (None, "another hook is sending".to_owned()),
            Err(e) => {
                log.error("cannot take the drain lock", &[err_field(&e)]);
                (None, "no lock".to_owned())
            }
        },
    };
    let mut fields = fields();
    fields.extend([
        ("sent", json!(report.as_ref().map(|r| r.sent))),
        ("stopped", json!(Some(stopped).filter(|s| !s.is_empty()))),
        ("ms", json!(started.elapsed().as_millis() as u64)),
    ]);
    log.info("event captured", &fields);
}

/// Waits for the transcript to stop growing (bounded), reads what it
/// gained since this event was spooled, and spools it as a continuation
/// part of the event (`parent`). `None` when nothing was added.
#[allow(clippy::too_many_arguments)]
fn late_tail(
    cfg: &Config,
    log: &Logger,
    input: &Input,
    state_dir: &std::path::Path,
    spool: &Spool,
    session: &str,
    parent: &str,
    index: u32,
) -> Option<Planned> {
    let started = Instant::now();
    // Leave time to send before the SIGKILL that follows SIGTERM by 1.5 s.
    transcript::settle(&input.peek, started + std::time::Duration::from_millis(700));
    let mut c = transcript::collect(&input.peek, cfg, state_dir, log, false)?;
    if c.entry_count() == 0 {
        return None;
    }
    if let Some(r) = redactor(cfg, log) {
        for line in c.files.iter_mut().flat_map(|f| f.delta.lines.iter_mut()) {
            r.redact_value(&mut line.value, &mut line.redactions);
        }
    }
    let meta = new_meta(
        &uuid::Uuid::now_v7().to_string(),
        identity::lookup(state_dir),
    );
    let part = match split::late_part(input, meta, &c.files, cfg.body_limit, parent, index) {
        Ok(Some(p)) => p,
        Ok(None) => {
            log.info(
                "transcript tail too large for one part; read on a later event",
                &[],
            );
            return None;
        }
        Err(e) => {
            log.error("cannot build the request body", &[err_field(&e)]);
            return None;
        }
    };
    if let Err(e) = spool.write_pending(&EntryName::new(&part.request_id, session), &part.body) {
        log.error(
            "cannot write to the spool; the tail waits for a later event",
            &[err_field(&e)],
        );
        return None;
    }
    let entries = c.entry_count();
    if let Err(e) = c.commit() {
        log.error(
            "cannot save the transcript offsets (lines will be sent again)",
            &[err_field(&e)],
        );
    }
    log.info(
        "transcript tail written after the event was read; spooled as a continuation part",
        &[
            ("transcript_entries", json!(entries)),
            ("ms", json!(started.elapsed().as_millis() as u64)),
        ],
    );
    Some(part)
}

fn total_redactions(planned: &[Planned]) -> crate::redact::Counts {
    let mut all = crate::redact::Counts::new();
    for p in planned {
        crate::redact::add(&mut all, &p.redactions);
    }
    all
}

/// The rule set, compiled once for this event; `None` when redaction is off.
pub(crate) fn redactor(cfg: &Config, log: &Logger) -> Option<Redactor> {
    if cfg.redaction.enabled == Some(false) {
        return None;
    }
    let (r, problems) = Redactor::new(&cfg.redaction);
    for p in problems {
        log.warn("configuration problem", &[("problem", p.into())]);
    }
    Some(r)
}

fn new_meta(request_id: &str, who: Identity) -> HooklineMeta {
    HooklineMeta {
        v: META_VERSION,
        request_id: request_id.to_owned(),
        captured_at: Utc::now(),
        client: ClientInfo {
            name: CLIENT_NAME.into(),
            version: hookline_core::VERSION.into(),
        },
        host: who.host,
        user: who.user,
        git_email: who.git_email,
        heartbeat: false,
        part: None,
        transcript: Vec::new(),
        redactions: Default::default(),
    }
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
