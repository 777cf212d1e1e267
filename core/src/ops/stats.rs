//! `hookline events stats`: the seed's monitoring queries as one report.
//! Both stores hand over the same aggregates ([`StatSummary`], grouped in
//! SQL), or rows ([`StatRow`], reduced to the same aggregates by
//! [`StatSummary::of_rows`]); the report is made here once, so Postgres
//! and SQLite answer alike. Percentiles follow
//! `percentile_cont` (linear interpolation), the SQL in docs/schema.md.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One audit row, reduced to what the statistics need.
#[derive(Clone, Debug, PartialEq)]
pub struct StatRow {
    pub request_id: String,
    pub event_type: String,
    pub received_at: DateTime<Utc>,
    pub status: String,
    pub processing_ms: Option<i64>,
    /// processed_at − received_at, in milliseconds.
    pub end_to_end_ms: Option<i64>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

/// What [`Stats`] needs of a window, aggregated by the store
/// ([`super::Ops::stat_summary`]): counts grouped in SQL, and only the
/// durations of the successful events (the percentiles are exact, so they
/// need the values), read from a covering index rather than the rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatSummary {
    /// Rows per (event type, status).
    pub counts: Vec<StatCount>,
    /// Rows per error code among FAILED, INVALID and RETRYING.
    pub errors: Vec<ErrorStats>,
    /// One per SUCCESS row.
    pub durations: Vec<StatDuration>,
}

impl StatSummary {
    /// What the store's aggregate query gives for these rows: counts per
    /// (event type, status), per error code among FAILED, INVALID and
    /// RETRYING with the first message seen as its sample, and the
    /// durations of the SUCCESS rows.
    pub fn of_rows(rows: &[StatRow]) -> StatSummary {
        let mut counts: BTreeMap<(&str, &str), u64> = BTreeMap::new();
        let mut errors: BTreeMap<&str, (u64, Option<&str>)> = BTreeMap::new();
        let mut durations = Vec::new();
        for r in rows {
            *counts.entry((&r.event_type, &r.status)).or_default() += 1;
            if r.status == "SUCCESS" {
                durations.push(StatDuration {
                    event_type: r.event_type.clone(),
                    processing_ms: r.processing_ms,
                    end_to_end_ms: r.end_to_end_ms,
                });
            }
            if matches!(r.status.as_str(), "FAILED" | "INVALID" | "RETRYING")
                && let Some(code) = &r.error_code
            {
                let e = errors.entry(code).or_default();
                e.0 += 1;
                if e.1.is_none() {
                    e.1 = r.error_message.as_deref();
                }
            }
        }
        StatSummary {
            counts: counts
                .into_iter()
                .map(|((event_type, status), count)| StatCount {
                    event_type: event_type.to_owned(),
                    status: status.to_owned(),
                    count,
                })
                .collect(),
            errors: errors
                .into_iter()
                .map(|(code, (count, sample))| ErrorStats {
                    error_code: code.to_owned(),
                    count,
                    sample: sample.map(str::to_owned),
                })
                .collect(),
            durations,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct StatCount {
    pub event_type: String,
    pub status: String,
    pub count: u64,
}

/// A successful event's times.
#[derive(Clone, Debug, PartialEq)]
pub struct StatDuration {
    pub event_type: String,
    pub processing_ms: Option<i64>,
    /// processed_at − received_at, in milliseconds.
    pub end_to_end_ms: Option<i64>,
}

/// p50, p95 and p99 of a set of durations, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

/// One event type.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TypeStats {
    pub event_type: String,
    pub total: u64,
    pub success: u64,
    pub invalid: u64,
    pub failed: u64,
    /// RETRYING, REPLAYED, RECEIVED, PROCESSING: not finished yet.
    pub pending: u64,
    /// success / (success + failed), in percent; None when neither.
    pub success_rate: Option<f64>,
    /// Processing time of successful events.
    pub processing_ms: Percentiles,
    /// Received by ingest → processed, for successful events.
    pub end_to_end_ms: Percentiles,
}

/// One error code.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ErrorStats {
    pub error_code: String,
    pub count: u64,
    pub sample: Option<String>,
}

/// The report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stats {
    pub since: DateTime<Utc>,
    pub total: u64,
    pub by_status: BTreeMap<String, u64>,
    pub event_types: Vec<TypeStats>,
    pub errors: Vec<ErrorStats>,
}

/// `percentile_cont(q)` of sorted values.
pub fn percentile(sorted: &[i64], q: f64) -> Option<f64> {
    let (first, last) = (sorted.first()?, sorted.last()?);
    if sorted.len() == 1 {
        return Some(*first as f64);
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let (a, b) = (
        *sorted.get(lo).unwrap_or(first) as f64,
        *sorted.get(hi).unwrap_or(last) as f64,
    );
    Some(a + (b - a) * (pos - lo as f64))
}

fn percentiles(mut v: Vec<i64>) -> Percentiles {
    v.sort_unstable();
    Percentiles {
        p50: percentile(&v, 0.5),
        p95: percentile(&v, 0.95),
        p99: percentile(&v, 0.99),
    }
}

impl Stats {
    /// The report of the window starting at `since` from the store's
    /// aggregates: what [`Stats::from_rows`] gives for the window's rows.
    pub fn from_summary(since: DateTime<Utc>, s: &StatSummary) -> Stats {
        #[derive(Default)]
        struct Acc {
            t: u64,
            ok: u64,
            invalid: u64,
            failed: u64,
            pending: u64,
            proc: Vec<i64>,
            e2e: Vec<i64>,
        }
        let mut by_status = BTreeMap::new();
        let mut types: BTreeMap<&str, Acc> = BTreeMap::new();
        for c in &s.counts {
            *by_status.entry(c.status.clone()).or_insert(0) += c.count;
            let a = types.entry(&c.event_type).or_default();
            a.t += c.count;
            match c.status.as_str() {
                "SUCCESS" => a.ok += c.count,
                "INVALID" => a.invalid += c.count,
                "FAILED" => a.failed += c.count,
                _ => a.pending += c.count,
            }
        }
        for d in &s.durations {
            let a = types.entry(&d.event_type).or_default();
            a.proc.extend(d.processing_ms);
            a.e2e.extend(d.end_to_end_ms);
        }
        let mut errors = s.errors.clone();
        errors.sort_by(|a, b| b.count.cmp(&a.count).then(a.error_code.cmp(&b.error_code)));
        let mut event_types: Vec<TypeStats> = types
            .into_iter()
            .map(|(name, a)| TypeStats {
                event_type: name.to_owned(),
                total: a.t,
                success: a.ok,
                invalid: a.invalid,
                failed: a.failed,
                pending: a.pending,
                success_rate: (a.ok + a.failed > 0)
                    .then(|| 100.0 * a.ok as f64 / (a.ok + a.failed) as f64),
                processing_ms: percentiles(a.proc),
                end_to_end_ms: percentiles(a.e2e),
            })
            .collect();
        event_types.sort_by(|a, b| b.total.cmp(&a.total).then(a.event_type.cmp(&b.event_type)));
        Stats {
            since,
            total: s.counts.iter().map(|c| c.count).sum(),
            by_status,
            event_types,
            errors,
        }
    }

    /// Aggregates the rows of the window starting at `since`: the same
    /// report as the store's aggregates of those rows ([`StatSummary::of_rows`]).
    pub fn from_rows(since: DateTime<Utc>, rows: &[StatRow]) -> Stats {
        Stats::from_summary(since, &StatSummary::of_rows(rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(t: &str, status: &str, ms: i64, code: Option<&str>) -> StatRow {
        StatRow {
            request_id: format!("{t}-{status}-{ms}"),
            event_type: t.into(),
            received_at: Utc::now(),
            status: status.into(),
            processing_ms: Some(ms),
            end_to_end_ms: Some(ms * 10),
            error_code: code.map(Into::into),
            error_message: code.map(|c| format!("{c} happened")),
        }
    }

    #[test]
    fn percentiles_interpolate_like_percentile_cont() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&v, 0.5), Some(5.5));
        assert_eq!(
            percentile(&v, 0.95).map(|p| (p * 100.0).round()),
            Some(955.0)
        );
        assert_eq!(percentile(&[7], 0.99), Some(7.0));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn stats_count_per_type_with_success_rate_and_errors() {
        let rows = [
            row("Stop", "SUCCESS", 10, None),
            row("Stop", "SUCCESS", 20, None),
            row("Stop", "FAILED", 5, Some("DB_TRANSIENT")),
            row("PreToolUse", "INVALID", 1, Some("VALIDATION")),
            row("PreToolUse", "RETRYING", 1, Some("DB_TRANSIENT")),
        ];
        let s = Stats::from_rows(Utc::now(), &rows);
        assert_eq!(s.total, 5);
        let stop = &s.event_types[0];
        assert_eq!(
            (
                stop.event_type.as_str(),
                stop.total,
                stop.success,
                stop.failed
            ),
            ("Stop", 3, 2, 1)
        );
        assert_eq!(stop.success_rate.map(|r| r.round()), Some(67.0));
        assert_eq!(stop.processing_ms.p50, Some(15.0));
        assert_eq!(stop.end_to_end_ms.p50, Some(150.0));
        assert_eq!(s.errors[0].error_code, "DB_TRANSIENT");
        assert_eq!(s.errors[0].count, 2);
        assert_eq!(s.errors[0].sample.as_deref(), Some("DB_TRANSIENT happened"));
        assert_eq!(s.by_status.get("SUCCESS"), Some(&2));
    }
}
