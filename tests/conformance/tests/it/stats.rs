//! `events stats` from the store's SQL aggregates (`Ops::stat_summary`,
//! issue 22) on both stores: the report equals the one summed from the
//! window's rows one by one (`Stats::from_rows`, the former path), and its
//! counts equal counts of the rows taken independently.

use hookline_conformance::db::TestDb;
use hookline_conformance::fixtures::{event, record, record_at, session, stamped, t0};
use hookline_core::ops::Stats;
use hookline_core::worker::{WorkerConfig, process_batch};
use serde_json::json;

on_both!(the_aggregate_equals_the_rows_counted_one_by_one);

async fn the_aggregate_equals_the_rows_counted_one_by_one(db: TestDb) -> anyhow::Result<()> {
    let mut recs = session()?;
    for (id, second) in [("v1", 20), ("v2", 21)] {
        let mut body = event("UserPromptSubmit")?;
        body["session_id"] = json!("not a valid id!");
        recs.push(record(id, stamped(body, id, second))?);
    }
    let mut unreadable = record("e1", event("Stop")?)?;
    unreadable.body = "{not json".into();
    recs.push(unreadable);
    // Before the window: received two days earlier.
    for i in 0..3 {
        let id = format!("old-{i}");
        let mut body = event("UserPromptSubmit")?;
        body["session_id"] = json!("5eed0000-0000-4000-8000-0000000000aa");
        recs.push(record_at(
            &id,
            stamped(body, &id, i),
            t0() - chrono::TimeDelta::days(2),
        )?);
    }
    let failed = process_batch(db.store(), &WorkerConfig::default(), &recs).await;
    assert!(failed.is_empty(), "{failed:?}");

    let ops = db.ops();
    let since = t0() - chrono::TimeDelta::days(1);
    let got = Stats::from_summary(since, &ops.stat_summary(since).await?);
    let by_rows = Stats::from_rows(since, &ops.stat_rows(since, false, i64::MAX).await?);
    assert_eq!(got, by_rows);

    let count = |w: &str| {
        let db = &db;
        let w = w.to_owned();
        async move { Ok::<u64, anyhow::Error>(u64::try_from(db.count("webhook_events", &w).await?)?) }
    };
    let in_window = "request_id NOT LIKE 'old-%'";
    assert_eq!(got.total, count(in_window).await?);
    assert_eq!(got.total, 15, "12 of the session, 2 invalid, 1 unreadable");
    for status in ["SUCCESS", "INVALID"] {
        assert_eq!(
            got.by_status.get(status).copied().unwrap_or(0),
            count(&format!("{in_window} AND status = '{status}'")).await?,
            "{status}"
        );
    }
    let codes: Vec<(&str, u64)> = got
        .errors
        .iter()
        .map(|e| (e.error_code.as_str(), e.count))
        .collect();
    assert_eq!(codes, [("VALIDATION", 2), ("ENVELOPE", 1)]);
    assert!(
        got.errors[0]
            .sample
            .as_deref()
            .is_some_and(|s| s.starts_with("session_id:")),
        "{:?}",
        got.errors[0]
    );
    let prompts = got
        .event_types
        .iter()
        .find(|t| t.event_type == "UserPromptSubmit");
    assert_eq!(
        prompts.map(|t| (t.total, t.success, t.invalid)),
        Some((3, 1, 2))
    );
    assert!(prompts.is_some_and(|t| t.processing_ms.p50.is_some()));
    // The failures page's rows: the invalid ones only, newest first, bounded.
    let failed = ops.stat_rows(since, true, 2).await?;
    assert_eq!(failed.len(), 2);
    assert!(failed.iter().all(|r| r.status == "INVALID"));
    assert!(failed[0].received_at >= failed[1].received_at);
    // The whole history: the old rows too.
    let all = Stats::from_summary(
        since - chrono::TimeDelta::days(2),
        &ops.stat_summary(since - chrono::TimeDelta::days(2)).await?,
    );
    assert_eq!(all.total, count("true").await?);
    Ok(())
}
