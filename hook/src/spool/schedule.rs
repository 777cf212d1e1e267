//! The retry schedule (the seed's): after the first send fails, an entry is
//! retried 1 m, 5 m, 15 m, 1 h and 2 h after each failure; when the fifth
//! retry fails too, it moves to `failed/` (kept, never deleted).

use std::time::Duration;

/// Waits before retry 1..=5.
pub const RETRY_DELAYS: [Duration; 5] = [
    Duration::from_secs(60),
    Duration::from_secs(5 * 60),
    Duration::from_secs(15 * 60),
    Duration::from_secs(60 * 60),
    Duration::from_secs(2 * 60 * 60),
];

/// Retries before an entry is given up on.
pub const MAX_RETRIES: u32 = RETRY_DELAYS.len() as u32;

/// The wait after `failed_sends` failed sends (1 = the first send failed),
/// or `None` when the entry is to be moved to `failed/`.
pub fn next_delay(failed_sends: u32) -> Option<Duration> {
    let i = usize::try_from(failed_sends.checked_sub(1)?).ok()?;
    RETRY_DELAYS.get(i).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_seed_schedule_then_gives_up() {
        let mins: Vec<u64> = (1..=5)
            .map(|n| next_delay(n).map_or(0, |d| d.as_secs() / 60))
            .collect();
        assert_eq!(mins, [1, 5, 15, 60, 120]);
        assert_eq!(next_delay(6), None, "the fifth retry was the last");
        assert_eq!(next_delay(0), None);
    }
}
