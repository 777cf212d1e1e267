//! Tail jobs on disk: `state/tails/<request_id>.json`, one per Stop or
//! SessionEnd whose transcript is still to be read, written durably by the
//! hook once the event itself is in `pending/`, and removed once the
//! transcript's parts are. It holds the event as it was spooled (masked:
//! nothing unmasked reaches the disk), so a sender started much later
//! still knows what to read and which event the parts continue.
//! `state/tails.lock` is held by the one process that works on them.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::TailError;
use crate::spool::entry::minted_at;

/// Format version of a marker.
const VERSION: u32 = 1;

/// A tail job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    pub v: u32,
    /// The request id of the event (part 0) the transcript parts continue.
    pub parent_request_id: String,
    /// The index of the next part of that event.
    pub next_index: u32,
    /// The event as spooled, secrets masked, without the `hookline` object.
    pub event: String,
}

impl Marker {
    /// When the event was captured: its request id is a UUID v7 (the file
    /// name too), so the time is not stored twice.
    pub fn captured_at(&self) -> Option<DateTime<Utc>> {
        minted_at(&self.parent_request_id)
    }
}

impl Marker {
    pub fn new(parent_request_id: &str, next_index: u32, event: String) -> Marker {
        Marker {
            v: VERSION,
            parent_request_id: parent_request_id.to_owned(),
            next_index,
            event,
        }
    }
}

/// A marker found on disk.
#[derive(Debug)]
pub struct Job {
    pub path: PathBuf,
    pub marker: Marker,
}

pub fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join("tails")
}

/// The lock of whoever works on the markers (a sender, `flush`).
pub fn lock_path(state_dir: &Path) -> PathBuf {
    state_dir.join("tails.lock")
}

/// Writes the marker whole (rename); with `durable`, fsynced (file, then
/// folder), else the caller has [`crate::fsutil::sync_file`] do it.
pub fn write(
    state_dir: &Path,
    tmp_dir: &Path,
    m: &Marker,
    durable: bool,
) -> Result<PathBuf, TailError> {
    let dir = dir(state_dir);
    let path = dir.join(format!("{}.json", m.parent_request_id));
    let bytes = serde_json::to_vec(m).map_err(TailError::Encode)?;
    crate::fsutil::create_private_dir(&dir)
        .and_then(|()| {
            if durable {
                crate::fsutil::write_atomic(&path, &bytes, tmp_dir)
            } else {
                crate::fsutil::write_replace(&path, &bytes, tmp_dir)
            }
        })
        .map_err(|source| TailError::WriteMarker {
            path: path.clone(),
            source,
        })?;
    Ok(path)
}

/// The markers' files, oldest (smallest request id) first; none when the
/// folder does not exist.
pub fn files(state_dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = match fs::read_dir(dir(state_dir)) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    out.sort();
    Ok(out)
}

/// Reads one marker.
pub fn read(path: &Path) -> Result<Job, TailError> {
    let bytes = fs::read(path).map_err(|source| TailError::ReadMarker {
        path: path.to_owned(),
        source,
    })?;
    let marker = serde_json::from_slice(&bytes).map_err(|source| TailError::BadMarker {
        path: path.to_owned(),
        source,
    })?;
    Ok(Job {
        path: path.to_owned(),
        marker,
    })
}

pub fn remove(path: &Path) -> Result<(), TailError> {
    crate::fsutil::remove_if_exists(path).map_err(|source| TailError::RemoveMarker {
        path: path.to_owned(),
        source,
    })
}

/// Whether a marker is older than `age` (by its file name, a UUID v7: no
/// read). What a hook checks on every event: a read of the folder.
pub fn any_older_than(state_dir: &Path, age: Duration) -> bool {
    let Ok(rd) = fs::read_dir(dir(state_dir)) else {
        return false;
    };
    let now = Utc::now();
    rd.filter_map(Result::ok).any(|e| {
        let name = e.file_name();
        let minted = name
            .to_str()
            .and_then(|n| n.strip_suffix(".json"))
            .and_then(minted_at);
        minted.is_some_and(|t| (now - t).to_std().is_ok_and(|d| d >= age))
    })
}

/// Whether some process holds the markers' lock now (a sender at work).
/// Takes it for an instant when it is free.
pub fn busy(state_dir: &Path) -> bool {
    matches!(
        crate::lock::acquire(&lock_path(state_dir), Some(std::time::Instant::now())),
        Ok(None)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_round_trips_and_lists_oldest_first() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let (state, tmp) = (dir.path().join("state"), dir.path().join("tmp"));
        fs::create_dir_all(&tmp)?;
        let second = Marker::new(&uuid::Uuid::now_v7().to_string(), 1, "{}".into());
        let first = Marker::new("01938f0e-8c6e-7d2a-9a51-0f4c2b1e7a10", 1, "{}".into());
        write(&state, &tmp, &second, true)?;
        let path = write(&state, &tmp, &first, false)?;
        let listed = files(&state)?;
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0], path);
        assert_eq!(read(&path)?.marker, first);
        assert!(any_older_than(&state, Duration::from_secs(3600)));
        remove(&path)?;
        assert!(!any_older_than(&state, Duration::from_secs(3600)));
        assert!(!busy(&state));
        Ok(())
    }
}
