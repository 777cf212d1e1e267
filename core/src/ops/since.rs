//! `--since` and the dashboard's `since` fields: a duration back from now
//! (`90s`, `30m`, `24h`, `7d`) or an RFC 3339 time.

use chrono::{DateTime, Utc};

/// A duration: `90s`, `30m`, `24h`, `7d` (a bare number is minutes).
pub fn parse_duration(s: &str) -> Result<chrono::Duration, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected e.g. 30m, 24h or 7d"))?;
    let secs = match unit {
        "s" => n,
        "m" | "" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("{s:?}: unit must be s, m, h or d")),
    };
    Ok(chrono::Duration::seconds(secs))
}

/// A duration back from now or an RFC 3339 time.
pub fn parse_since(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let d = parse_duration(s)
        .map_err(|_| format!("{s:?}: expected e.g. 30m, 24h, 7d or an RFC 3339 time"))?;
    Ok(Utc::now() - d)
}
