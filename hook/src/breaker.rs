//! The circuit breaker: after a failed send, later invocations only spool
//! until the next probe time, so a dead or black-holed server costs Claude
//! Code one deadline, not one per event. The state is `state/breaker.json`;
//! no file means closed. Probes back off from the configured interval
//! (default 15 s), doubling up to 5 minutes; the first success closes it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest wait between probes.
pub const MAX_PROBE_INTERVAL: Duration = Duration::from_secs(5 * 60);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Breaker {
    pub opened_at: DateTime<Utc>,
    /// Consecutive failed sends or probes.
    pub failures: u32,
    pub next_probe_at: DateTime<Utc>,
    pub last_error: String,
}

fn path(state_dir: &Path) -> PathBuf {
    state_dir.join("breaker.json")
}

impl Breaker {
    /// The breaker, or `None` when closed (or unreadable: fail open).
    pub fn load(state_dir: &Path) -> Option<Breaker> {
        let bytes = std::fs::read(path(state_dir)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// True while no request may be made.
    pub fn blocks(&self, now: DateTime<Utc>) -> bool {
        now < self.next_probe_at
    }

    /// Records a failure: opens the breaker, or pushes the next probe out.
    pub fn trip(
        state_dir: &Path,
        previous: Option<&Breaker>,
        error: &str,
        interval: Duration,
    ) -> std::io::Result<Breaker> {
        let now = Utc::now();
        let failures = previous.map_or(0, |b| b.failures).saturating_add(1);
        let wait = interval
            .saturating_mul(1u32 << (failures - 1).min(16))
            .min(MAX_PROBE_INTERVAL);
        let b = Breaker {
            opened_at: previous.map_or(now, |b| b.opened_at),
            failures,
            next_probe_at: now + chrono::Duration::from_std(wait).unwrap_or_default(),
            last_error: error.to_owned(),
        };
        let bytes = serde_json::to_vec_pretty(&b).map_err(std::io::Error::other)?;
        crate::fsutil::write_replace(&path(state_dir), &bytes, state_dir)?;
        Ok(b)
    }

    /// Closes the breaker.
    pub fn close(state_dir: &Path) -> std::io::Result<()> {
        crate::fsutil::remove_if_exists(&path(state_dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_back_off_to_five_minutes_and_close_on_success() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let s = dir.path();
        assert!(Breaker::load(s).is_none());
        let mut b = Breaker::trip(s, None, "refused", Duration::from_secs(15))?;
        assert!(b.blocks(Utc::now()));
        let first = b.next_probe_at - Utc::now();
        assert!(first <= chrono::Duration::seconds(15) && first > chrono::Duration::seconds(13));
        for _ in 0..10 {
            b = Breaker::trip(s, Some(&b), "refused", Duration::from_secs(15))?;
        }
        assert_eq!(b.failures, 11);
        assert!(b.next_probe_at - Utc::now() <= chrono::Duration::seconds(300));
        assert_eq!(Breaker::load(s).as_ref(), Some(&b));
        Breaker::close(s)?;
        assert!(Breaker::load(s).is_none());
        Ok(())
    }
}
