//! The transcript of the end-of-turn events (Stop, SessionEnd), read after
//! the hook has exited, so Claude Code never waits for it.
//!
//! When a `claude -p` turn ends, Claude Code 2.1.332 cancels the async
//! hooks still running (SIGTERM to the hook's group, SIGKILL 1.5 s later)
//! and waits for them to exit; any hook still running then costs the whole
//! 1.5 s. Claude Code may also write the last reply after Stop has fired
//! (2.1.197 in print mode, some 80 ms later). So on these two events the
//! hook spools the event alone (part 0), writes a tail job
//! ([`marker`]), starts a detached sender ([`sender`]) and exits. The
//! sender waits for the transcript to settle, reads the session's deltas
//! (main transcript and followed subagent files), masks them, spools them
//! as continuation parts of the event, moves the offsets, removes the job,
//! and sends what is due.
//!
//! A job whose sender died is done later: the next hook of any event starts
//! a sender for jobs older than [`sender::LEFTOVER_AGE`], and `flush` does
//! them before it sends.

pub mod marker;
pub mod sender;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::json;

use crate::body::{Input, InputError};
use crate::config::Config;
use crate::log::{Level, Logger, err_chain};
use crate::redact::Redactor;
use crate::spool::{EntryName, Spool};
use crate::{identity, split, stamp, transcript};
pub use marker::{Job, Marker};

/// How long after its event a job's transcript may still be growing: the
/// settle wait ends then at the latest.
pub const SETTLE_FOR: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum TailError {
    #[error("cannot write the tail job {path}")]
    WriteMarker {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the tail job {path}")]
    ReadMarker {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the tail job {path} is not valid")]
    BadMarker {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot remove the tail job {path}")]
    RemoveMarker {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the tail job's event is not a hook event")]
    Event(#[source] InputError),
    #[error("cannot encode a tail job or its parts")]
    Encode(#[source] serde_json::Error),
    #[error("cannot write a transcript part to the spool")]
    Spool(#[source] std::io::Error),
    #[error("cannot save the transcript offsets (lines will be sent again)")]
    Offsets(#[source] std::io::Error),
    #[error("cannot start the tail sender")]
    Spawn(#[source] std::io::Error),
}

/// What a run over the jobs did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Done {
    pub jobs: usize,
    pub parts: usize,
    pub entries: usize,
}

/// Does the jobs on disk, oldest first, until none is left or `deadline`
/// (or a signal: `stop()`) comes between two; each job's transcript may
/// settle until `settle` after its event. The caller holds
/// [`marker::lock_path`]. A job is removed once done, and also when it
/// failed (logged): its lines stay past the saved offsets, for the
/// session's next transcript event.
pub fn run_jobs(
    cfg: &Config,
    log: &Logger,
    spool: &Spool,
    settle: Duration,
    deadline: Instant,
    stop: &dyn Fn() -> bool,
) -> Done {
    let redactor = stamp::redactor(cfg, log);
    let mut done = Done::default();
    let paths = match marker::files(&spool.state_dir()) {
        Ok(p) => p,
        Err(e) => {
            log.error("cannot list the tail jobs", &[err_chain(&e)]);
            return done;
        }
    };
    for path in paths {
        if stop() || Instant::now() >= deadline {
            break;
        }
        let job = match marker::read(&path) {
            Ok(j) => j,
            // Done meanwhile by another process (no lock: the non-unix hook).
            Err(TailError::ReadMarker { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                continue;
            }
            Err(e) => {
                log.error("tail job dropped", &[err_chain(&e)]);
                let _ = marker::remove(&path);
                continue;
            }
        };
        log.set("request_id", job.marker.parent_request_id.as_str());
        let started = Instant::now();
        let until = settle_until(&job.marker, settle);
        let result = process(cfg, log, spool, &job, redactor.as_ref(), until);
        if let Err(e) = marker::remove(&job.path) {
            log.error("tail job done but not removed", &[err_chain(&e)]);
        }
        done.jobs += 1;
        match result {
            Ok((parts, entries, grew)) => {
                done.parts += parts;
                done.entries += entries;
                let level = if parts > 0 { Level::Info } else { Level::Debug };
                log.log(
                    level,
                    "transcript read after the event; spooled as continuation parts",
                    &[
                        ("parts", json!(parts)),
                        ("transcript_entries", json!(entries)),
                        ("grew_after_event", json!(grew)),
                        ("ms", json!(started.elapsed().as_millis() as u64)),
                    ],
                );
            }
            Err(e) => log.error(
                "cannot spool the transcript after the event; a later event reads it",
                &[err_chain(&e)],
            ),
        }
    }
    done
}

/// When the settle wait of `m` ends: `settle` after its event.
fn settle_until(m: &Marker, settle: Duration) -> Instant {
    let after = chrono::Duration::from_std(settle).unwrap_or_default();
    let left = m.captured_at().map_or(settle, |at| {
        (at + after - Utc::now()).to_std().unwrap_or_default()
    });
    Instant::now() + left.min(settle)
}

/// One job: waits (until `settle_until`) for the transcript to stop
/// growing, reads the deltas, masks them, spools them as continuation parts
/// of the job's event, then moves the offsets. Returns the parts and
/// entries spooled, and whether the transcript grew during the wait.
fn process(
    cfg: &Config,
    log: &Logger,
    spool: &Spool,
    job: &Job,
    redactor: Option<&Redactor>,
    settle_until: Instant,
) -> Result<(usize, usize, bool), TailError> {
    let input = Input::parse(job.marker.event.clone().into_bytes()).map_err(TailError::Event)?;
    log.set("event_type", input.peek.event_name().unwrap_or(""));
    let session = input.peek.session_id().unwrap_or("").to_owned();
    log.set("session_id", session.as_str());
    let grew = cfg.transcripts && transcript::settle(&input.peek, settle_until);
    let state_dir = spool.state_dir();
    let Some(mut c) = transcript::collect(&input.peek, cfg, &state_dir, log, true) else {
        return Ok((0, 0, grew));
    };
    if let Some(r) = redactor {
        c.mask(r);
    }
    let first = uuid::Uuid::now_v7().to_string();
    let meta = stamp::meta(&first, identity::lookup(&state_dir));
    let mut mint = || uuid::Uuid::now_v7().to_string();
    let parts = split::continuations(
        &input,
        meta,
        &c.files,
        cfg.body_limit,
        &job.marker.parent_request_id,
        job.marker.next_index,
        &mut mint,
    )
    .map_err(TailError::Encode)?;
    for p in &parts {
        spool
            .write_pending(&EntryName::new(&p.request_id, &session), &p.body)
            .map_err(TailError::Spool)?;
    }
    let entries = c.entry_count();
    // Only once every part is durably spooled.
    c.commit().map_err(TailError::Offsets)?;
    Ok((parts.len(), entries, grew))
}

/// Writes the tail job of an event just spooled as `parent` (part 0);
/// without `durable`, the sender makes it durable ([`sender::spawn`]).
pub fn write_job(
    spool: &Spool,
    input: &Input,
    parent: &str,
    durable: bool,
) -> Result<PathBuf, TailError> {
    let event = String::from_utf8_lossy(input.raw()).into_owned();
    marker::write(
        &spool.state_dir(),
        &spool.tmp_dir(),
        &Marker::new(parent, 1, event),
        durable,
    )
}
