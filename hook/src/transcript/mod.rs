//! Transcript capture: on the events after which Claude Code has written
//! new transcript lines, read what the session's transcript (and on
//! SubagentStop the subagent's, `agent_transcript_path`) gained since the
//! offset last spooled, and attach it to the event (`hookline.transcript`).
//!
//! The transcript is written asynchronously and lags (Stop can fire before
//! the last reply is on disk), so what is missing is picked up by the next
//! such event of the session; UserPromptSubmit is one of them, so the tail
//! of a turn goes out when the next turn starts, and SessionEnd takes the
//! rest. The subagent transcripts SubagentStops named are read again on
//! the session's later such events until they stop growing (SubagentStop
//! can fire before Claude Code has finished writing the file), at most
//! [`cursor::MAX_AGENT_FILES`] of them, each forgotten after
//! [`cursor::AGENT_IDLE_READS`] reads that found nothing new.

pub mod cursor;
pub mod reader;

use std::time::{Duration, Instant};

use hookline_core::meta::TranscriptSource;
use serde_json::json;

use crate::body::Peek;
use crate::config::Config;
use crate::log::Logger;
use cursor::Cursor;
use reader::Delta;

/// Events on which transcripts are read.
pub const EVENTS: [&str; 5] = [
    "Stop",
    "SubagentStop",
    "PreCompact",
    "SessionEnd",
    "UserPromptSubmit",
];

/// Longest wait for another hook of the same session to finish reading.
const CURSOR_WAIT: Duration = Duration::from_millis(250);

/// The new part of one transcript file.
#[derive(Debug)]
pub struct FileDelta {
    pub source: TranscriptSource,
    /// The path as Claude Code gave it.
    pub path: String,
    pub agent_id: Option<String>,
    pub delta: Delta,
}

/// What was read, with the session's offsets still locked: call
/// [`Collected::commit`] once the entries are durably spooled.
#[derive(Debug)]
pub struct Collected {
    pub files: Vec<FileDelta>,
    cursor: Cursor,
}

impl Collected {
    pub fn entry_count(&self) -> usize {
        self.files.iter().map(|f| f.delta.lines.len()).sum()
    }

    /// Masks the secrets in every line read (before anything is spooled).
    pub fn mask(&mut self, r: &crate::redact::Redactor) {
        for line in self.files.iter_mut().flat_map(|f| f.delta.lines.iter_mut()) {
            r.redact_value(&mut line.value, &mut line.redactions);
        }
    }

    /// Moves the offsets past what was read.
    pub fn commit(mut self) -> std::io::Result<()> {
        for f in &self.files {
            self.cursor.set(&f.path, f.delta.end);
        }
        self.cursor.save()
    }
}

/// Reads the transcript deltas for this event, if it is one that has them.
/// Without `follow`, the subagent files earlier SubagentStops named are not
/// read again this time (the hook caught a signal: they wait for the next
/// event); the files this event names always are.
pub fn collect(
    peek: &Peek,
    cfg: &Config,
    state_dir: &std::path::Path,
    log: &Logger,
    follow: bool,
) -> Option<Collected> {
    if !cfg.transcripts || !peek.event_name().is_some_and(|n| EVENTS.contains(&n)) {
        return None;
    }
    let session = peek.session_id()?;
    let named_agent = peek.agent_transcript_path();
    if peek.transcript_path().is_none() && named_agent.is_none() {
        return None;
    }
    let mut cursor = match Cursor::open(state_dir, session, Instant::now() + CURSOR_WAIT) {
        Ok(Some(c)) => c,
        Ok(None) => {
            log.info(
                "transcript busy (another hook of this session reads it); left for the next event",
                &[],
            );
            return None;
        }
        Err(e) => {
            log.error(
                "cannot open the transcript offsets",
                &[crate::log::err_field(&e)],
            );
            return None;
        }
    };
    // The session's transcript, the subagent's this SubagentStop names,
    // and those earlier SubagentStops named that may still be growing
    // (Claude Code can fire SubagentStop before the file is complete).
    let mut sources: Vec<(TranscriptSource, String, Option<String>)> = Vec::new();
    if let Some(p) = peek.transcript_path() {
        sources.push((TranscriptSource::Main, p.to_owned(), None));
    }
    if let Some(p) = named_agent {
        cursor.follow_agent(p, peek.agent_id());
    }
    for (p, agent_id) in cursor.followed_agents() {
        if follow || Some(p.as_str()) == named_agent {
            sources.push((TranscriptSource::Agent, p, agent_id));
        }
    }
    let mut files = Vec::new();
    for (source, path, agent_id) in sources {
        let path = path.as_str();
        let from = cursor.offset(path);
        let full = crate::paths::expand_tilde(path);
        let read = reader::read_delta(&full, from, cfg.transcript_max_bytes);
        if source == TranscriptSource::Agent && Some(path) != named_agent {
            // Still growing: new lines, or a last line not complete yet.
            let grew = read.as_ref().is_ok_and(|d| {
                d.end != d.start
                    || d.reset
                    || std::fs::metadata(&full).is_ok_and(|m| m.len() > d.end)
            });
            cursor.agent_read(path, grew);
        }
        match read {
            Ok(delta) => {
                if delta.reset {
                    log.warn(
                        "transcript is shorter than the saved offset; read from the start",
                        &[("path", path.into()), ("offset", from.into())],
                    );
                }
                if delta.skipped > 0 {
                    log.warn(
                        "transcript lines that are not JSON objects were skipped",
                        &[("path", path.into()), ("skipped", delta.skipped.into())],
                    );
                }
                // A first read of the session's transcript with no entry the
                // server can read the session's origin from (only a `mode`
                // line, say: Claude Code 2.1.197 writes it before a fork's
                // copied entries): kept back, so the part at offset 0 that
                // the server reads the origin from holds the first entry.
                let origin_missing = source == TranscriptSource::Main
                    && delta.start == 0
                    && !delta
                        .lines
                        .iter()
                        .any(|l| hookline_core::mapping::is_origin_evidence(&l.value));
                if origin_missing {
                    log.debug(
                        "transcript holds no entry yet; read from the start on a later event",
                        &[("path", json!(path))],
                    );
                } else if delta.end != delta.start || delta.reset {
                    files.push(FileDelta {
                        source,
                        path: path.to_owned(),
                        agent_id,
                        delta,
                    });
                }
            }
            // Claude Code creates the file after the first events of a
            // session (the first UserPromptSubmit comes before it): normal,
            // not a problem worth a warning.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && from == 0 => log.debug(
                "transcript not written yet; read on a later event",
                &[("path", json!(path))],
            ),
            Err(e) => log.warn(
                "cannot read the transcript",
                &[("path", json!(path)), crate::log::err_field(&e)],
            ),
        }
    }
    if peek.event_name() == Some("SessionEnd") {
        let _ = cursor::forget_old(state_dir);
    }
    Some(Collected { files, cursor })
}

/// How often the transcript is looked at while it settles, and how many
/// looks in a row without growth take it as complete (400 ms).
const SETTLE_POLL: Duration = Duration::from_millis(40);
const SETTLE_QUIET: u32 = 10;

/// Whether the tail of the session's transcript may still be written once
/// this event is spooled, with no later event of the session to read it:
/// Stop and SessionEnd (Claude Code 2.1.197 in print mode writes the last
/// reply as it exits, some 80 ms after Stop started, and may fire no
/// SessionEnd). The hook leaves their transcript to [`crate::tail`].
pub fn tail_may_follow(peek: &Peek) -> bool {
    matches!(peek.event_name(), Some("SessionEnd" | "Stop"))
}

/// Waits until the session's transcript has not grown for `SETTLE_QUIET`
/// polls of `SETTLE_POLL`, and not past `until`. Returns whether it grew
/// meanwhile.
pub fn settle(peek: &Peek, until: Instant) -> bool {
    let Some(path) = peek.transcript_path() else {
        return false;
    };
    let full = crate::paths::expand_tilde(path);
    let len = || std::fs::metadata(&full).map_or(0, |m| m.len());
    let (first, mut last, mut quiet) = (len(), len(), 0);
    while quiet < SETTLE_QUIET && Instant::now() + SETTLE_POLL < until {
        std::thread::sleep(SETTLE_POLL);
        let now = len();
        quiet = if now == last { quiet + 1 } else { 0 };
        last = now;
    }
    last != first
}
