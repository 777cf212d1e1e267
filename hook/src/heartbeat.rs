//! The heartbeat: the hook flags SessionStart, and the first event after an
//! hour without a heartbeat, with `hookline.heartbeat: true`, so that the
//! server can tell which installs went silent (`hookline events stats`).
//! It rides on an event the hook sends anyway: no extra request, no extra
//! spool file. The time of the last one is kept in the spool's state folder
//! (`state/heartbeat.json`), written only once the flagged event is durably
//! spooled.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// At most one heartbeat per this many seconds, SessionStart aside.
pub const INTERVAL_SECS: i64 = 3600;

const FILE: &str = "heartbeat.json";

#[derive(Serialize, Deserialize)]
struct Last {
    at: DateTime<Utc>,
}

/// When the last heartbeat was spooled, if the file says so.
pub fn last(state_dir: &Path) -> Option<DateTime<Utc>> {
    std::fs::read(state_dir.join(FILE))
        .ok()
        .and_then(|b| serde_json::from_slice::<Last>(&b).ok())
        .map(|l| l.at)
}

/// Whether this event carries a heartbeat: every SessionStart, and any
/// event once the last heartbeat is an hour old (or unknown, or in the
/// future after a clock change).
pub fn due(state_dir: &Path, event_name: Option<&str>, now: DateTime<Utc>) -> bool {
    if event_name == Some("SessionStart") {
        return true;
    }
    match last(state_dir) {
        Some(at) => at > now || now - at >= Duration::seconds(INTERVAL_SECS),
        None => true,
    }
}

/// Records a spooled heartbeat. Losing this write costs one early
/// heartbeat, so it is not fsynced.
pub fn record(state_dir: &Path, at: DateTime<Utc>) -> std::io::Result<()> {
    let bytes = serde_json::to_vec(&Last { at }).map_err(std::io::Error::other)?;
    crate::fsutil::write_replace(&state_dir.join(FILE), &bytes, state_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_hourly_except_on_session_start() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let d = dir.path();
        let t = Utc::now();
        assert!(due(d, Some("Stop"), t), "no heartbeat yet");
        record(d, t)?;
        assert_eq!(last(d), Some(t));
        assert!(!due(d, Some("Stop"), t + Duration::minutes(59)));
        assert!(due(d, Some("SessionStart"), t + Duration::minutes(1)));
        assert!(due(d, Some("Stop"), t + Duration::minutes(60)));
        assert!(
            due(d, Some("Stop"), t - Duration::minutes(5)),
            "clock went back"
        );
        std::fs::write(d.join(FILE), b"garbage")?;
        assert!(due(d, None, t), "an unreadable file means due");
        Ok(())
    }
}
