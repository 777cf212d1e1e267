//! File helpers: private folders and atomic, durable writes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Creates `dir` and its parents; new folders are private (0700 on Unix):
/// the spool holds prompts, tool output and tokens' effects.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Opens a new file for writing, private (0600 on Unix).
pub fn create_private_file(path: &Path) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)
}

/// Writes `bytes` to a new file in `tmp_dir` (same file system as `path`),
/// fsyncs it, renames it to `path`, then fsyncs `path`'s folder: after this
/// returns, `path` holds all of `bytes` even across a crash, and a reader
/// never sees a partial file.
pub fn write_atomic(path: &Path, bytes: &[u8], tmp_dir: &Path) -> io::Result<()> {
    write_via_tmp(path, bytes, tmp_dir, true)
}

/// Like [`write_atomic`] without the fsyncs: readers never see a partial
/// file, but a crash may lose the write. For state that is cheap to lose
/// (retry counts, the circuit breaker, caches).
pub fn write_replace(path: &Path, bytes: &[u8], tmp_dir: &Path) -> io::Result<()> {
    write_via_tmp(path, bytes, tmp_dir, false)
}

fn write_via_tmp(path: &Path, bytes: &[u8], tmp_dir: &Path, durable: bool) -> io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = tmp_dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let result = (|| {
        let mut f = create_private_file(&tmp)?;
        f.write_all(bytes)?;
        if durable {
            f.sync_all()?;
        }
        drop(f);
        fs::rename(&tmp, path)?;
        if durable {
            sync_dir(path.parent().unwrap_or(Path::new(".")))?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Makes a file [`write_replace`] wrote durable: fsync of the file, then of
/// its folder (a file gone meanwhile is fine: it was sent and removed).
pub fn sync_file(path: &Path) -> io::Result<()> {
    match File::open(path) {
        Ok(f) => f.sync_all()?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    }
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// fsync of a folder, so a rename in it survives a crash (no-op off Unix).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Removes a file; a file that is already gone is fine.
pub fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_the_whole_file() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("a.json");
        write_atomic(&p, b"first, longer", dir.path())?;
        write_atomic(&p, b"second", dir.path())?;
        assert_eq!(fs::read(&p)?, b"second");
        assert_eq!(
            fs::read_dir(dir.path())?.count(),
            1,
            "no temporary file left"
        );
        Ok(())
    }
}
