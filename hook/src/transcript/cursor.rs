//! Per-session transcript offsets: `state/transcripts/<session_key>.json`
//! maps each transcript file read for the session to the byte offset up to
//! which its lines are in the spool. It is read and written under
//! `<session_key>.lock`, so two hooks of one session never take the same
//! lines. The offset moves only after the lines are durably spooled; the
//! spool then delivers them at least once (ingest dedups by request id, the
//! worker by entry uuid).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::lock::{self, Lock};
use crate::spool::entry::session_key;

/// Offsets of sessions untouched this long are forgotten (Claude Code
/// deletes transcripts after 30 days).
const FORGET_AFTER: Duration = Duration::from_secs(35 * 24 * 3600);

/// Reads of a subagent transcript that found nothing new before it is
/// forgotten: Claude Code may still be writing the file when SubagentStop
/// fires, so it is read again on the session's later transcript events
/// until it stops growing.
pub const AGENT_IDLE_READS: u32 = 2;

/// Most subagent transcripts followed per session (the oldest go first).
pub const MAX_AGENT_FILES: usize = 16;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Offsets {
    session_id: String,
    files: BTreeMap<String, u64>,
    /// Subagent transcripts a SubagentStop named, still followed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    agents: BTreeMap<String, AgentFile>,
    #[serde(default)]
    updated_at: Option<DateTime<Utc>>,
}

/// A followed subagent transcript.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct AgentFile {
    #[serde(default)]
    agent_id: Option<String>,
    /// Later reads in a row that found nothing new.
    #[serde(default)]
    unchanged: u32,
    /// When SubagentStop named it (the oldest is dropped past the cap).
    #[serde(default)]
    since: Option<DateTime<Utc>>,
}

/// A session's offsets, locked until dropped.
#[derive(Debug)]
pub struct Cursor {
    path: PathBuf,
    dir: PathBuf,
    offsets: Offsets,
    _lock: Lock,
}

fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join("transcripts")
}

impl Cursor {
    /// Locks and reads the session's offsets; `Ok(None)` if another hook of
    /// the session holds them past `until`.
    pub fn open(state_dir: &Path, session_id: &str, until: Instant) -> io::Result<Option<Cursor>> {
        let dir = dir(state_dir);
        crate::fsutil::create_private_dir(&dir)?;
        let key = session_key(session_id);
        let Some(lock) = lock::acquire(&dir.join(format!("{key}.lock")), Some(until))? else {
            return Ok(None);
        };
        let path = dir.join(format!("{key}.json"));
        let offsets = match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Offsets::default(),
            Err(e) => return Err(e),
        };
        let offsets = Offsets {
            session_id: session_id.to_owned(),
            ..offsets
        };
        Ok(Some(Cursor {
            path,
            dir,
            offsets,
            _lock: lock,
        }))
    }

    /// Offset already spooled for `file` (0 if never read).
    pub fn offset(&self, file: &str) -> u64 {
        self.offsets.files.get(file).copied().unwrap_or(0)
    }

    pub fn set(&mut self, file: &str, offset: u64) {
        self.offsets.files.insert(file.to_owned(), offset);
    }

    /// Follows the subagent transcript `file` (named by a SubagentStop) on
    /// the session's later events; at most [`MAX_AGENT_FILES`] are kept.
    pub fn follow_agent(&mut self, file: &str, agent_id: Option<&str>) {
        let agents = &mut self.offsets.agents;
        agents.insert(
            file.to_owned(),
            AgentFile {
                agent_id: agent_id.map(str::to_owned),
                unchanged: 0,
                since: Some(Utc::now()),
            },
        );
        while agents.len() > MAX_AGENT_FILES {
            let oldest = agents
                .iter()
                .min_by_key(|(_, a)| a.since)
                .map(|(p, _)| p.clone());
            match oldest {
                Some(p) => agents.remove(&p),
                None => break,
            };
        }
    }

    /// The followed subagent transcripts: (path, agent id).
    pub fn followed_agents(&self) -> Vec<(String, Option<String>)> {
        self.offsets
            .agents
            .iter()
            .map(|(p, a)| (p.clone(), a.agent_id.clone()))
            .collect()
    }

    /// Records a later read of a followed file: one that grew is followed
    /// on; one that found nothing new [`AGENT_IDLE_READS`] times in a row
    /// (or is gone) is forgotten.
    pub fn agent_read(&mut self, file: &str, grew: bool) {
        let Some(a) = self.offsets.agents.get_mut(file) else {
            return;
        };
        a.unchanged = if grew { 0 } else { a.unchanged + 1 };
        if a.unchanged >= AGENT_IDLE_READS {
            self.offsets.agents.remove(file);
        }
    }

    /// Writes the offsets durably, then releases the lock.
    pub fn save(mut self) -> io::Result<()> {
        self.offsets.updated_at = Some(Utc::now());
        let bytes = serde_json::to_vec_pretty(&self.offsets).map_err(io::Error::other)?;
        crate::fsutil::write_atomic(&self.path, &bytes, &self.dir)
    }
}

/// Forgets offsets (and lock files) of sessions idle for 35 days.
pub fn forget_old(state_dir: &Path) -> io::Result<usize> {
    let mut removed = 0;
    let Ok(entries) = std::fs::read_dir(dir(state_dir)) else {
        return Ok(0);
    };
    for e in entries {
        let e = e?;
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > FORGET_AFTER));
        if old && std::fs::remove_file(e.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_persist_and_the_lock_excludes_a_second_reader() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let soon = || Instant::now() + Duration::from_millis(20);
        let mut c = Cursor::open(dir.path(), "s1", soon())?.ok_or(io::ErrorKind::WouldBlock)?;
        assert_eq!(c.offset("/t.jsonl"), 0);
        assert!(Cursor::open(dir.path(), "s1", soon())?.is_none());
        assert!(
            Cursor::open(dir.path(), "s2", soon())?.is_some(),
            "other sessions are free"
        );
        c.set("/t.jsonl", 42);
        c.save()?;
        let c = Cursor::open(dir.path(), "s1", soon())?.ok_or(io::ErrorKind::WouldBlock)?;
        assert_eq!(c.offset("/t.jsonl"), 42);
        Ok(())
    }

    #[test]
    fn a_followed_agent_file_is_forgotten_once_it_stops_growing() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let soon = || Instant::now() + Duration::from_millis(20);
        let mut c = Cursor::open(dir.path(), "s1", soon())?.ok_or(io::ErrorKind::WouldBlock)?;
        assert!(
            c.followed_agents().is_empty(),
            "no agent files: no extra reads"
        );
        c.follow_agent("/a.jsonl", Some("a"));
        c.save()?;
        let mut c = Cursor::open(dir.path(), "s1", soon())?.ok_or(io::ErrorKind::WouldBlock)?;
        assert_eq!(c.followed_agents(), [("/a.jsonl".into(), Some("a".into()))]);
        c.agent_read("/a.jsonl", false);
        c.agent_read("/a.jsonl", true);
        c.agent_read("/a.jsonl", false);
        assert_eq!(c.followed_agents().len(), 1, "it grew in between");
        c.agent_read("/a.jsonl", false);
        assert!(c.followed_agents().is_empty());
        for i in 0..MAX_AGENT_FILES + 3 {
            c.follow_agent(&format!("/agent-{i:02}.jsonl"), None);
        }
        let followed = c.followed_agents();
        assert_eq!(followed.len(), MAX_AGENT_FILES);
        assert!(
            !followed.iter().any(|(p, _)| p == "/agent-00.jsonl"),
            "the oldest go first"
        );
        Ok(())
    }
}
