//! Keyset pages of the sessions list (issue 22): a page is read from a
//! cursor, the (start time, session id) of the last session the previous
//! page showed, never from an offset, so the 100th page costs what the
//! first does. The list's order is `started_at DESC, session_id DESC`
//! (newest first, ties by id), and a cursor names one place in it.
//!
//! The stores answer [`Reader::session_rows`] (one query per direction);
//! the page's size, its links and the cursor's text form are here, once.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};

use super::read::{Reader, SessionFilter, SessionSummary};
use crate::error::StoreError;

/// A place in the sessions list: the session at (`started_at`,
/// `session_id`). Its text form is `STARTED_AT,SESSION_ID` (RFC 3339 with
/// microseconds, UTC), e.g. `2026-12-03T14:20:00.123456Z,7f3e…`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SessionCursor {
    pub started_at: DateTime<Utc>,
    pub session_id: String,
}

/// Why a cursor's text is not one: names the part that is wrong.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CursorError {
    #[error("cursor {input:?}: want STARTED_AT,SESSION_ID (no ',' found)")]
    Shape { input: String },
    #[error("cursor {input:?}: started_at is not an RFC 3339 time: {source}")]
    StartedAt {
        input: String,
        #[source]
        source: chrono::ParseError,
    },
    #[error("cursor {input:?}: session_id is empty")]
    SessionId { input: String },
}

impl SessionCursor {
    /// The place of `s` in the list.
    pub fn of(s: &SessionSummary) -> SessionCursor {
        SessionCursor {
            started_at: s.started_at,
            session_id: s.session_id.clone(),
        }
    }

    /// The text form, [`SessionCursor::parse`]'s input.
    pub fn encode(&self) -> String {
        format!(
            "{},{}",
            self.started_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            self.session_id
        )
    }

    /// A cursor from its text form (the time up to the first `,`, the
    /// session id after it, which may itself hold commas).
    pub fn parse(input: &str) -> Result<SessionCursor, CursorError> {
        let Some((at, id)) = input.trim().split_once(',') else {
            return Err(CursorError::Shape {
                input: input.to_owned(),
            });
        };
        let started_at = DateTime::parse_from_rfc3339(at)
            .map_err(|source| CursorError::StartedAt {
                input: input.to_owned(),
                source,
            })?
            .with_timezone(&Utc);
        if id.is_empty() {
            return Err(CursorError::SessionId {
                input: input.to_owned(),
            });
        }
        Ok(SessionCursor {
            started_at,
            session_id: id.to_owned(),
        })
    }
}

impl fmt::Display for SessionCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

impl FromStr for SessionCursor {
    type Err = CursorError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SessionCursor::parse(s)
    }
}

/// Which rows [`Reader::session_rows`] reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Seek {
    /// From the newest, newest first.
    #[default]
    First,
    /// Older than the cursor, newest first (the "older" link).
    Before(SessionCursor),
    /// Newer than the cursor, *oldest first* (the "newer" link; the page
    /// turns them around).
    After(SessionCursor),
}

/// One page of the list, newest first, with the cursors of its links.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionPage {
    pub sessions: Vec<SessionSummary>,
    /// Where the next older page starts (`Seek::Before`); `None`: this is
    /// the last.
    pub older: Option<SessionCursor>,
    /// Where the next newer page starts (`Seek::After`); `None`: this is
    /// the first.
    pub newer: Option<SessionCursor>,
}

/// Largest page [`page`] reads.
pub const MAX_PAGE: i64 = 10_000;

/// The page of at most `size` sessions (1 to [`MAX_PAGE`]) that `filter`
/// selects at `at`. One extra row is read to know whether there is a page
/// beyond it; the page before it exists when `at` came from a cursor.
pub async fn page<R: Reader + ?Sized>(
    r: &R,
    filter: &SessionFilter,
    at: &Seek,
    size: i64,
) -> Result<SessionPage, StoreError> {
    let size = size.clamp(1, MAX_PAGE);
    let mut rows = r.session_rows(filter, at, size + 1).await?;
    let more = rows.len() as i64 > size;
    rows.truncate(usize::try_from(size).unwrap_or(usize::MAX));
    if matches!(at, Seek::After(_)) {
        rows.reverse();
    }
    let first = rows.first().map(SessionCursor::of);
    let last = rows.last().map(SessionCursor::of);
    let (older, newer) = match at {
        Seek::First => (last.filter(|_| more), None),
        // Came from a newer page: it is there (unless it was purged since).
        Seek::Before(c) => (last.filter(|_| more), first.or(Some(c.clone()))),
        Seek::After(c) => (last.or(Some(c.clone())), first.filter(|_| more)),
    };
    Ok(SessionPage {
        sessions: rows,
        older,
        newer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_with_commas_in_the_id() {
        let c = SessionCursor {
            started_at: DateTime::parse_from_rfc3339("2026-12-03T14:20:00.123456Z")
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default(),
            session_id: "a,b c".into(),
        };
        assert_eq!(c.encode(), "2026-12-03T14:20:00.123456Z,a,b c");
        assert_eq!(SessionCursor::parse(&c.encode()), Ok(c));
    }

    #[test]
    fn bad_cursors_name_the_wrong_part() {
        let shape = SessionCursor::parse("2026-12-03").map_err(|e| e.to_string());
        assert!(shape.is_err_and(|e| e.contains("STARTED_AT,SESSION_ID")));
        let time = SessionCursor::parse("yesterday,abc").map_err(|e| e.to_string());
        assert!(time.is_err_and(|e| e.contains("started_at")));
        let id = SessionCursor::parse("2026-12-03T14:20:00Z,").map_err(|e| e.to_string());
        assert!(id.is_err_and(|e| e.contains("session_id")));
    }
}
