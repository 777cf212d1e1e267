//! Advisory file locks (`flock` on Unix, via std), taken without blocking
//! past a deadline: a hook never waits longer than its budget.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

/// Poll interval while another process holds the lock.
const POLL: Duration = Duration::from_millis(5);

/// Held until dropped (the OS also releases it if the process dies).
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Takes the lock at `path`, waiting until `until` at most (`None`: wait as
/// long as it takes). `Ok(None)`: another process still holds it.
pub fn acquire(path: &Path, until: Option<Instant>) -> io::Result<Option<Lock>> {
    acquire_unless(path, until, &|| false)
}

/// [`acquire`], but the wait also ends as soon as `give_up()` is true
/// (checked between tries; the first try is always made).
pub fn acquire_unless(
    path: &Path,
    until: Option<Instant>,
    give_up: &dyn Fn() -> bool,
) -> io::Result<Option<Lock>> {
    let mut opts = OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let file = opts.open(path)?;
    let Some(until) = until else {
        file.lock()?;
        return Ok(Some(Lock { _file: file }));
    };
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(Lock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => {
                let now = Instant::now();
                if now >= until || give_up() {
                    return Ok(None);
                }
                std::thread::sleep(POLL.min(until - now));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_gives_up_at_its_deadline() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("x.lock");
        let held = acquire(&p, Some(Instant::now()))?;
        assert!(held.is_some());
        let t = Instant::now();
        assert!(acquire(&p, Some(t + Duration::from_millis(30)))?.is_none());
        assert!(t.elapsed() >= Duration::from_millis(30));
        drop(held);
        assert!(acquire(&p, Some(Instant::now()))?.is_some());
        Ok(())
    }

    #[test]
    fn a_taker_that_gives_up_stops_waiting_at_once() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("x.lock");
        let _held = acquire(&p, None)?;
        let t = Instant::now();
        let got = acquire_unless(&p, Some(t + Duration::from_secs(5)), &|| true)?;
        assert!(got.is_none());
        assert!(t.elapsed() < Duration::from_secs(1));
        Ok(())
    }
}
