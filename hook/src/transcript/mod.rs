//! Transcript capture: on the events after which Claude Code has written
//! new transcript lines, read what the session's transcript (and on
//! SubagentStop the subagent's, `agent_transcript_path`) gained since the
//! offset last spooled, and attach it to the event (`hookline.transcript`).
//!
//! The transcript is written asynchronously and lags (Stop can fire before
//! the last reply is on disk), so what is missing is picked up by the next
//! such event of the session; UserPromptSubmit is one of them, so the tail
//! of a turn goes out when the next turn starts, and SessionEnd takes the
//! rest.

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

    /// Moves the offsets past what was read.
    pub fn commit(mut self) -> std::io::Result<()> {
        for f in &self.files {
            self.cursor.set(&f.path, f.delta.end);
        }
        self.cursor.save()
    }
}

/// Reads the transcript deltas for this event, if it is one that has them.
pub fn collect(
    peek: &Peek,
    cfg: &Config,
    state_dir: &std::path::Path,
    log: &Logger,
) -> Option<Collected> {
    if !cfg.transcripts || !peek.event_name().is_some_and(|n| EVENTS.contains(&n)) {
        return None;
    }
    let session = peek.session_id()?;
    let mut sources = Vec::new();
    if let Some(p) = peek.transcript_path() {
        sources.push((TranscriptSource::Main, p, None));
    }
    if let Some(p) = peek.agent_transcript_path() {
        sources.push((TranscriptSource::Agent, p, peek.agent_id()));
    }
    if sources.is_empty() {
        return None;
    }
    let cursor = match Cursor::open(state_dir, session, Instant::now() + CURSOR_WAIT) {
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
    let mut files = Vec::new();
    for (source, path, agent_id) in sources {
        let from = cursor.offset(path);
        let full = crate::paths::expand_tilde(path);
        match reader::read_delta(&full, from, cfg.transcript_max_bytes) {
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
                if delta.end != delta.start || delta.reset {
                    files.push(FileDelta {
                        source,
                        path: path.to_owned(),
                        agent_id: agent_id.map(str::to_owned),
                        delta,
                    });
                }
            }
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
