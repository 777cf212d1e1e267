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

#[derive(Debug, Default, Serialize, Deserialize)]
struct Offsets {
    session_id: String,
    files: BTreeMap<String, u64>,
    #[serde(default)]
    updated_at: Option<DateTime<Utc>>,
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
}
