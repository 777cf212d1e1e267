//! The health use case: the dashboard's health page and its JSON poll
//! over the last minutes (counts, success rate, percentiles, events per
//! minute by type, queue and DLQ depth).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Timelike, Utc};
use serde::Serialize;

use super::replay::Queues;
use super::stats::{Percentiles, percentile};
use super::{Ops, OpsError, Stats};

/// The figures of one window.
#[derive(Serialize)]
pub struct Health {
    pub now: DateTime<Utc>,
    pub window_minutes: i64,
    pub total: u64,
    pub success_rate: Option<f64>,
    pub processing_ms: Percentiles,
    pub end_to_end_ms: Percentiles,
    pub queue_depth: Option<u64>,
    pub dlq_depth: Option<u64>,
    pub queue_error: Option<String>,
    /// Minute start → event type → events received.
    pub per_minute: Vec<(DateTime<Utc>, BTreeMap<String, u64>)>,
    pub stats: Stats,
}

/// The last `minutes` (5 minutes to a day) up to `now`; `queues` are the
/// queues whose depth is shown, or why they are not available.
pub async fn health(
    ops: &dyn Ops,
    queues: Result<&Queues, &str>,
    now: DateTime<Utc>,
    minutes: i64,
) -> Result<Health, OpsError> {
    let minutes = minutes.clamp(5, 24 * 60);
    let start = (now - Duration::minutes(minutes - 1))
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(now);
    let rows = ops.stat_rows(start, false, i64::MAX).await?;
    let stats = Stats::from_rows(start, &rows);
    let mut per_minute: Vec<(DateTime<Utc>, BTreeMap<String, u64>)> = (0..minutes)
        .map(|i| (start + Duration::minutes(i), BTreeMap::new()))
        .collect();
    let (mut ok, mut failed, mut proc_ms, mut e2e) = (0u64, 0u64, Vec::new(), Vec::new());
    for r in &rows {
        let i = (r.received_at - start).num_minutes();
        if let Some((_, m)) = usize::try_from(i).ok().and_then(|i| per_minute.get_mut(i)) {
            *m.entry(r.event_type.clone()).or_insert(0) += 1;
        }
        match r.status.as_str() {
            "SUCCESS" => {
                ok += 1;
                proc_ms.extend(r.processing_ms);
                e2e.extend(r.end_to_end_ms);
            }
            "FAILED" => failed += 1,
            _ => {}
        }
    }
    let pct = |mut v: Vec<i64>| {
        v.sort_unstable();
        Percentiles {
            p50: percentile(&v, 0.5),
            p95: percentile(&v, 0.95),
            p99: percentile(&v, 0.99),
        }
    };
    let (queue_depth, dlq_depth, queue_error) = match queues {
        Ok(q) => match (q.source.depth().await, q.dlq.depth().await) {
            (Ok(a), Ok(b)) => (Some(a), Some(b), None),
            (a, b) => (
                a.as_ref().ok().copied(),
                b.as_ref().ok().copied(),
                a.err().or(b.err()).map(|e| e.to_string()),
            ),
        },
        Err(e) => (None, None, Some(e.to_owned())),
    };
    Ok(Health {
        now,
        window_minutes: minutes,
        total: rows.len() as u64,
        success_rate: (ok + failed > 0).then(|| 100.0 * ok as f64 / (ok + failed) as f64),
        processing_ms: pct(proc_ms),
        end_to_end_ms: pct(e2e),
        queue_depth,
        dlq_depth,
        queue_error,
        per_minute,
        stats,
    })
}
