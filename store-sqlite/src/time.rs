//! Timestamps in SQLite: TEXT in RFC 3339, UTC, with exactly six fractional
//! digits (`2026-11-29T03:40:00.000000Z`). Fixed width makes text order
//! time order, so `min`, `max`, `<` and indexes work on the text; six digits
//! are Postgres's precision (microseconds), so both stores hold the same
//! instants. The migrations CHECK this shape.

use chrono::{DateTime, SecondsFormat, Utc};

/// The stored form of `t`, truncated to microseconds as Postgres stores it.
pub fn to_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// [`to_text`] of an optional time.
pub fn to_text_opt(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(to_text)
}

/// The time a stored text denotes.
pub fn from_text(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Now, in milliseconds since the Unix epoch (the queue's clock).
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn text_is_fixed_width_and_sorts_as_time() {
        let a = Utc.timestamp_opt(1_795_923_600, 5_000).single();
        let b = Utc.timestamp_opt(1_795_923_600, 123_456_789).single();
        let c = Utc.timestamp_opt(1_795_923_601, 0).single();
        let texts: Vec<String> = [a, b, c].into_iter().flatten().map(to_text).collect();
        assert_eq!(texts[0], "2026-11-29T03:40:00.000005Z");
        assert_eq!(texts[1], "2026-11-29T03:40:00.123456Z", "truncated to µs");
        assert_eq!(texts[2], "2026-11-29T03:40:01.000000Z");
        assert!(texts.windows(2).all(|w| w[0] < w[1]));
        assert!(texts.iter().all(|t| t.len() == 27));
        assert_eq!(
            from_text(&texts[1]).map(to_text).as_deref(),
            Some(texts[1].as_str())
        );
    }
}
