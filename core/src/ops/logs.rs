//! Log lines in Lambda's JSON format (`timestamp`, `level`, `message`, plus
//! `request_id`, `trace_id`, `span_id`, `aws_request_id`, `function`, ...),
//! wherever they come from (CloudWatch Logs, the hook's `hook.log`, a file
//! `hookline serve` wrote). Filtering happens here: LocalStack does not
//! apply CloudWatch filter patterns, and files have none.
//!
//! Lambda's own field names are understood too (`requestId`, upper-case
//! levels), and tracing's nested `fields`/`span` objects are searched.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// Severity, ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.to_ascii_lowercase().as_str() {
            "trace" => Level::Trace,
            "debug" => Level::Debug,
            "info" => Level::Info,
            "warn" | "warning" => Level::Warn,
            "error" | "fatal" | "critical" => Level::Error,
            _ => return None,
        })
    }
}

/// One log line, parsed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogLine {
    /// Where it came from: a log group (and stream) or a file.
    pub source: String,
    pub timestamp: Option<DateTime<Utc>>,
    pub level: Option<Level>,
    pub message: String,
    pub request_id: Option<String>,
    pub trace_id: Option<String>,
    pub function: Option<String>,
    /// The whole line as JSON (a non-JSON line is a string).
    pub raw: Value,
}

/// A field by any of its names, at the top level or in tracing's nested
/// objects (`fields`, `span`, `spans[]`).
fn field(v: &Value, names: &[&str]) -> Option<String> {
    let as_text = |x: &Value| match x {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let direct = |o: &Value| names.iter().find_map(|n| o.get(*n).and_then(as_text));
    direct(v)
        .or_else(|| v.get("fields").and_then(direct))
        .or_else(|| v.get("span").and_then(direct))
        .or_else(|| {
            v.get("spans")
                .and_then(Value::as_array)
                .and_then(|s| s.iter().rev().find_map(direct))
        })
}

/// Parses one line. `fallback_time` is used when the line has no timestamp
/// (CloudWatch gives every event one). Blank lines give None.
pub fn parse_line(
    source: &str,
    line: &str,
    fallback_time: Option<DateTime<Utc>>,
) -> Option<LogLine> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(line) else {
        return Some(LogLine {
            source: source.to_owned(),
            timestamp: fallback_time,
            level: None,
            message: line.to_owned(),
            request_id: None,
            trace_id: None,
            function: None,
            raw: Value::String(line.to_owned()),
        });
    };
    let timestamp = field(&v, &["timestamp", "time", "ts"])
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc))
        .or(fallback_time);
    Some(LogLine {
        source: source.to_owned(),
        timestamp,
        level: field(&v, &["level", "severity"]).and_then(|l| Level::parse(&l)),
        message: field(&v, &["message", "msg"]).unwrap_or_default(),
        request_id: field(&v, &["request_id", "requestId"]),
        trace_id: field(&v, &["trace_id", "traceId"]),
        function: field(&v, &["function", "function_name"]),
        raw: v,
    })
}

/// A place log lines are read from (files, CloudWatch Logs): the logs use
/// case of `hookline logs`, the dashboard's Logs page and [`super::trace`].
#[async_trait::async_trait]
pub trait LogSearch: Send + Sync {
    /// Every line `filter` keeps, oldest first.
    async fn search(&self, filter: &LogFilter) -> Result<Vec<LogLine>, super::OpsError>;
}

/// Which lines to keep.
#[derive(Clone, Debug, Default)]
pub struct LogFilter {
    pub request_id: Option<String>,
    pub trace_id: Option<String>,
    /// This level or more severe.
    pub level: Option<Level>,
    pub since: Option<DateTime<Utc>>,
}

impl LogFilter {
    pub fn matches(&self, l: &LogLine) -> bool {
        let aws_request_id = || field(&l.raw, &["aws_request_id"]);
        self.request_id.as_deref().is_none_or(|want| {
            l.request_id.as_deref() == Some(want) || aws_request_id().as_deref() == Some(want)
        }) && self
            .trace_id
            .as_deref()
            .is_none_or(|want| l.trace_id.as_deref() == Some(want))
            && self
                .level
                .is_none_or(|want| l.level.is_some_and(|got| got >= want))
            && self
                .since
                .is_none_or(|s| l.timestamp.is_some_and(|t| t >= s))
    }
}

/// One readable line: time, level, source, message, then the other fields.
pub fn format_line(l: &LogLine) -> String {
    let mut out = format!(
        "{} {:<5} {} {}",
        l.timestamp.map_or("-".into(), |t| t
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()),
        l.level
            .map_or("-".into(), |v| format!("{v:?}").to_uppercase()),
        l.source,
        l.message
    );
    if let Value::Object(map) = &l.raw {
        for (k, v) in map {
            if matches!(k.as_str(), "timestamp" | "level" | "message") {
                continue;
            }
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let _ = write!(out, " {k}={v}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracing_and_lambda_lines_parse_to_the_same_fields() {
        let ours = r#"{"timestamp":"2026-11-29T04:00:00.123Z","level":"INFO","message":"event queued","request_id":"r1","trace_id":"t1","function":"hookline-ingest"}"#;
        let lambda = r#"{"timestamp":"2026-11-29T04:00:01Z","level":"ERROR","message":"boom","requestId":"r1"}"#;
        let nested = r#"{"timestamp":"2026-11-29T04:00:02Z","level":"WARN","fields":{"message":"slow"},"span":{"request_id":"r2"}}"#;
        let a = parse_line("f", ours, None);
        let b = parse_line("f", lambda, None);
        let c = parse_line("f", nested, None);
        assert_eq!(a.as_ref().and_then(|l| l.request_id.as_deref()), Some("r1"));
        assert_eq!(
            a.as_ref().and_then(|l| l.function.as_deref()),
            Some("hookline-ingest")
        );
        assert_eq!(b.as_ref().and_then(|l| l.level), Some(Level::Error));
        assert_eq!(c.as_ref().map(|l| l.message.as_str()), Some("slow"));
        assert_eq!(c.as_ref().and_then(|l| l.request_id.as_deref()), Some("r2"));
        assert!(parse_line("f", "  ", None).is_none());
        assert_eq!(
            parse_line("f", "START RequestId: x", None).map(|l| l.message),
            Some("START RequestId: x".into())
        );
    }

    #[test]
    fn the_filter_selects_by_request_trace_level_and_time() {
        let line = |l: &str| parse_line("f", l, None);
        let Some(info) = line(
            r#"{"timestamp":"2026-11-29T04:00:00Z","level":"INFO","message":"m","request_id":"r1","trace_id":"t1"}"#,
        ) else {
            panic!("parses");
        };
        let by_req = LogFilter {
            request_id: Some("r1".into()),
            ..LogFilter::default()
        };
        let other = LogFilter {
            request_id: Some("r2".into()),
            ..LogFilter::default()
        };
        let warn = LogFilter {
            level: Some(Level::Warn),
            ..LogFilter::default()
        };
        let trace = LogFilter {
            trace_id: Some("t1".into()),
            level: Some(Level::Info),
            ..LogFilter::default()
        };
        let later = LogFilter {
            since: "2026-11-29T05:00:00Z".parse().ok(),
            ..LogFilter::default()
        };
        assert!(by_req.matches(&info));
        assert!(!other.matches(&info));
        assert!(!warn.matches(&info));
        assert!(trace.matches(&info));
        assert!(!later.matches(&info));
        assert!(format_line(&info).contains("request_id=r1"));
    }
}
