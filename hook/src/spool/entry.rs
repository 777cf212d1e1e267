//! Names and retry state of spool entries.
//!
//! An entry is `<request_id>.<session_key>.json`, the exact request body.
//! Request ids are UUID v7, so names sort in capture order; the session key
//! (16 hex digits of a hash of `session_id`) lets a drain keep each session's
//! order without opening bodies. Beside it, `<stem>.state` holds the retry
//! state once a send has failed, and in `failed/`, `<stem>.response` holds
//! the server's answer to a refused request.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryName {
    pub request_id: String,
    pub session_key: String,
}

impl EntryName {
    pub fn new(request_id: &str, session_id: &str) -> EntryName {
        EntryName {
            request_id: request_id.to_owned(),
            session_key: session_key(session_id),
        }
    }

    /// `<request_id>.<session_key>`
    pub fn stem(&self) -> String {
        format!("{}.{}", self.request_id, self.session_key)
    }

    pub fn body_file(&self) -> String {
        format!("{}.json", self.stem())
    }

    pub fn state_file(&self) -> String {
        format!("{}.state", self.stem())
    }

    pub fn response_file(&self) -> String {
        format!("{}.response", self.stem())
    }

    /// Parses `<request_id>.<session_key>.<ext>`, returning the extension.
    pub fn parse(file_name: &str) -> Option<(EntryName, &str)> {
        let mut it = file_name.splitn(3, '.');
        let (rid, key, ext) = (it.next()?, it.next()?, it.next()?);
        let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
        let rid_ok = rid.len() == 36 && uuid::Uuid::try_parse(rid).is_ok();
        (rid_ok && hex(key, 16)).then(|| {
            (
                EntryName {
                    request_id: rid.to_owned(),
                    session_key: key.to_owned(),
                },
                ext,
            )
        })
    }
}

/// The time a UUID v7 request id was minted.
pub fn minted_at(request_id: &str) -> Option<DateTime<Utc>> {
    let (secs, nanos) = uuid::Uuid::try_parse(request_id)
        .ok()?
        .get_timestamp()?
        .to_unix();
    DateTime::from_timestamp(i64::try_from(secs).ok()?, nanos)
}

/// FNV-1a 64 of the session id, as 16 hex digits.
pub fn session_key(session_id: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in session_id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The retry state of an entry (`<stem>.state`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetryState {
    /// Failed sends so far.
    pub attempts: u32,
    /// Not sent again before this time (unless `unreachable` and the server
    /// has answered since).
    pub next_attempt_at: DateTime<Utc>,
    pub last_attempt_at: DateTime<Utc>,
    pub last_error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<u16>,
    /// The last send got no answer at all (connection refused, timeout, DNS):
    /// it said nothing about this entry.
    #[serde(default)]
    pub unreachable: bool,
    /// Set in `failed/`: why the entry was given up on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_reason: Option<String>,
}

impl RetryState {
    /// The state after one more failed send that may be retried: the next
    /// attempt on the schedule, or, when the schedule is spent,
    /// `failed_reason` set (the entry is to move to `failed/`).
    pub fn after_failure(
        prev: Option<&RetryState>,
        error: &str,
        status: Option<u16>,
    ) -> RetryState {
        let mut st = Self::failed_once_more(prev, error, status);
        match super::schedule::next_delay(st.attempts) {
            Some(wait) => {
                st.next_attempt_at += chrono::Duration::from_std(wait).unwrap_or_default()
            }
            None => {
                st.failed_reason = Some(format!("gave up after {} sends: {error}", st.attempts))
            }
        }
        st
    }

    /// The state of an entry the server refused (to move to `failed/`).
    pub fn refused(prev: Option<&RetryState>, status: u16, reason: &str) -> RetryState {
        let mut st = Self::failed_once_more(prev, reason, Some(status));
        st.failed_reason = Some(reason.to_owned());
        st
    }

    fn failed_once_more(prev: Option<&RetryState>, error: &str, status: Option<u16>) -> RetryState {
        let now = Utc::now();
        RetryState {
            attempts: prev.map_or(0, |s| s.attempts).saturating_add(1),
            next_attempt_at: now,
            last_attempt_at: now,
            last_error: error.to_owned(),
            last_status: status,
            unreachable: status.is_none(),
            failed_reason: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sort_by_request_id() {
        let a = EntryName::new("01938f0e-8c6e-7d2a-9a51-0f4c2b1e7a10", "s1");
        let file = a.body_file();
        let (back, ext) = EntryName::parse(&file).unwrap_or_else(|| panic!("parses"));
        assert_eq!((back.clone(), ext), (a.clone(), "json"));
        assert_eq!(
            EntryName::parse(&a.state_file()).map(|p| p.1),
            Some("state")
        );
        assert!(EntryName::parse(".x.tmp").is_none());
        assert!(EntryName::parse("not-a-uuid.0123456789abcdef.json").is_none());
        let b = EntryName::new("01938f0e-8c6e-7d2a-9a51-0f4c2b1e7a11", "s0");
        assert!(a < b);
    }

    #[test]
    fn retry_state_follows_the_schedule_and_gives_up_after_the_fifth_retry() {
        let mut st = RetryState::after_failure(None, "refused", None);
        assert!(st.unreachable);
        assert_eq!((st.next_attempt_at - st.last_attempt_at).num_seconds(), 60);
        for _ in 0..4 {
            st = RetryState::after_failure(Some(&st), "HTTP 503", Some(503));
            assert!(st.failed_reason.is_none());
        }
        assert_eq!(
            (st.next_attempt_at - st.last_attempt_at).num_seconds(),
            7200
        );
        st = RetryState::after_failure(Some(&st), "HTTP 503", Some(503));
        assert_eq!(st.attempts, 6);
        assert!(!st.unreachable);
        assert!(st.failed_reason.is_some_and(|r| r.contains("6 sends")));
    }

    #[test]
    fn session_key_is_stable_hex() {
        assert_eq!(session_key("abc"), session_key("abc"));
        assert_ne!(session_key("abc"), session_key("abd"));
        assert_eq!(session_key("").len(), 16);
    }
}
