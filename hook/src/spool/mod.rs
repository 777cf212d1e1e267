//! The spool: every event is written here before any network I/O, and
//! removed only when the server has acknowledged it.
//!
//! ```text
//! <spool>/pending/   entries to send: <request_id>.<session_key>.json (+ .state)
//! <spool>/failed/    given up on: .json, .state (why), .response (server's answer)
//! <spool>/tmp/       files being written (renamed into place when complete)
//! <spool>/state/     drain.lock, breaker.json, identity.json, transcripts/
//! ```

pub mod entry;
pub mod schedule;

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use entry::{EntryName, RetryState};

use crate::fsutil;

/// Which folder an entry is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    Pending,
    Failed,
}

/// A listed entry: its name and whether a `.state` file is beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub name: EntryName,
    pub has_state: bool,
}

#[derive(Clone, Debug)]
pub struct Spool {
    root: PathBuf,
}

impl Spool {
    /// Opens the spool at `root`, creating its folders (private) if needed.
    pub fn open(root: &Path) -> io::Result<Spool> {
        let spool = Spool {
            root: root.to_path_buf(),
        };
        for dir in ["pending", "failed", "tmp", "state"] {
            fsutil::create_private_dir(&root.join(dir))?;
        }
        Ok(spool)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn dir(&self, area: Area) -> PathBuf {
        self.root.join(match area {
            Area::Pending => "pending",
            Area::Failed => "failed",
        })
    }

    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    pub fn state_dir(&self) -> PathBuf {
        self.root.join("state")
    }

    /// Writes a new pending entry durably (fsync, then rename).
    pub fn write_pending(&self, name: &EntryName, body: &[u8]) -> io::Result<()> {
        let path = self.dir(Area::Pending).join(name.body_file());
        fsutil::write_atomic(&path, body, &self.tmp_dir())
    }

    /// Writes a new pending entry whole (rename) but without the fsyncs:
    /// the caller has it made durable ([`fsutil::sync_file`] on the path
    /// returned) before it is sent.
    pub fn write_pending_unsynced(&self, name: &EntryName, body: &[u8]) -> io::Result<PathBuf> {
        let path = self.dir(Area::Pending).join(name.body_file());
        fsutil::write_replace(&path, body, &self.tmp_dir())?;
        Ok(path)
    }

    /// The entries of `area`, oldest (smallest request id) first.
    pub fn list(&self, area: Area) -> io::Result<Vec<Listed>> {
        let mut bodies = Vec::new();
        let mut states = HashSet::new();
        for dirent in fs::read_dir(self.dir(area))? {
            let Ok(file_name) = dirent?.file_name().into_string() else {
                continue;
            };
            match EntryName::parse(&file_name) {
                Some((name, "json")) => bodies.push(name),
                Some((name, "state")) => {
                    states.insert(name);
                }
                _ => {}
            }
        }
        bodies.sort();
        Ok(bodies
            .into_iter()
            .map(|name| Listed {
                has_state: states.contains(&name),
                name,
            })
            .collect())
    }

    pub fn read_body(&self, area: Area, name: &EntryName) -> io::Result<Vec<u8>> {
        fs::read(self.dir(area).join(name.body_file()))
    }

    pub fn read_state(&self, area: Area, name: &EntryName) -> Option<RetryState> {
        let bytes = fs::read(self.dir(area).join(name.state_file())).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn read_response(&self, name: &EntryName) -> Option<Vec<u8>> {
        fs::read(self.dir(Area::Failed).join(name.response_file())).ok()
    }

    /// Records a failed send of a pending entry.
    pub fn write_state(&self, name: &EntryName, state: &RetryState) -> io::Result<()> {
        let bytes = serde_json::to_vec_pretty(state).map_err(io::Error::other)?;
        let path = self.dir(Area::Pending).join(name.state_file());
        // Losing a retry count in a crash only means one more retry.
        fsutil::write_replace(&path, &bytes, &self.tmp_dir())
    }

    /// Forgets an acknowledged entry.
    pub fn remove_pending(&self, name: &EntryName) -> io::Result<()> {
        let dir = self.dir(Area::Pending);
        fsutil::remove_if_exists(&dir.join(name.body_file()))?;
        fsutil::remove_if_exists(&dir.join(name.state_file()))
    }

    /// Gives up on an entry: its state (with the reason) and the server's
    /// answer are written to `failed/` first, then the body is moved there.
    pub fn move_to_failed(
        &self,
        name: &EntryName,
        state: &RetryState,
        response: Option<&[u8]>,
    ) -> io::Result<()> {
        let (pending, failed, tmp) = (
            self.dir(Area::Pending),
            self.dir(Area::Failed),
            self.tmp_dir(),
        );
        let bytes = serde_json::to_vec_pretty(state).map_err(io::Error::other)?;
        fsutil::write_atomic(&failed.join(name.state_file()), &bytes, &tmp)?;
        if let Some(resp) = response {
            fsutil::write_atomic(&failed.join(name.response_file()), resp, &tmp)?;
        }
        fs::rename(
            pending.join(name.body_file()),
            failed.join(name.body_file()),
        )?;
        fsutil::sync_dir(&failed)?;
        fsutil::remove_if_exists(&pending.join(name.state_file()))
    }

    /// Puts a failed entry back in `pending/` with a fresh retry count.
    pub fn requeue_failed(&self, name: &EntryName) -> io::Result<()> {
        let (pending, failed) = (self.dir(Area::Pending), self.dir(Area::Failed));
        fs::rename(
            failed.join(name.body_file()),
            pending.join(name.body_file()),
        )?;
        fsutil::sync_dir(&pending)?;
        fsutil::remove_if_exists(&failed.join(name.state_file()))?;
        fsutil::remove_if_exists(&failed.join(name.response_file()))
    }

    /// Removes leftovers: `.state` files whose body is gone (a crash between
    /// the two removals) and temporary files older than an hour.
    pub fn tidy(&self) -> io::Result<usize> {
        let mut removed = 0;
        for area in [Area::Pending, Area::Failed] {
            let bodies: HashSet<EntryName> = self.list(area)?.into_iter().map(|l| l.name).collect();
            for dirent in fs::read_dir(self.dir(area))? {
                let dirent = dirent?;
                let Ok(file_name) = dirent.file_name().into_string() else {
                    continue;
                };
                if let Some((name, "state" | "response")) = EntryName::parse(&file_name)
                    && !bodies.contains(&name)
                    && fs::remove_file(dirent.path()).is_ok()
                {
                    removed += 1;
                }
            }
        }
        for dirent in fs::read_dir(self.tmp_dir())? {
            let dirent = dirent?;
            let old = dirent
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age.as_secs() > 3600));
            if old && fs::remove_file(dirent.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}
