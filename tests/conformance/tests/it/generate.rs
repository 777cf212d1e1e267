//! The scale bench's generator (`hookline_conformance::generate`): seeded,
//! and what it makes is stored by the worker as the rows it promises.

use chrono::{TimeZone, Utc};
use hookline_conformance::db::TestDb;
use hookline_conformance::generate::{Expect, sessions};
use hookline_core::worker::{WorkerConfig, process_batch};

on_both!(generated_history_is_accepted_by_the_worker_with_the_rows_expected);

fn end() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

#[test]
fn the_same_seed_gives_the_same_events() -> anyhow::Result<()> {
    let bodies = |seed| -> anyhow::Result<Vec<String>> {
        let mut out = Vec::new();
        for s in sessions(seed, 600, end()) {
            out.extend(s?.records.into_iter().map(|r| r.body));
        }
        Ok(out)
    };
    let (a, b, c) = (bodies(7)?, bodies(7)?, bodies(8)?);
    assert!(a.len() >= 600, "about the size asked: {}", a.len());
    assert_eq!(a, b, "seed 7 twice");
    assert_ne!(a, c, "seeds 7 and 8");
    Ok(())
}

async fn generated_history_is_accepted_by_the_worker_with_the_rows_expected(
    db: TestDb,
) -> anyhow::Result<()> {
    let cfg = WorkerConfig::default();
    let mut want = Expect::default();
    let mut ids = Vec::new();
    for s in sessions(3, 400, end()) {
        let s = s?;
        for batch in s.records.chunks(10) {
            let failed = process_batch(db.store(), &cfg, batch).await;
            assert!(failed.is_empty(), "failed: {failed:?}");
        }
        want.events += s.expect.events;
        want.prompts += s.expect.prompts;
        want.assistant += s.expect.assistant;
        want.tool_uses += s.expect.tool_uses;
        want.subagents += s.expect.subagents;
        ids.push(s.session_id);
    }
    let got = Expect {
        events: db.count("webhook_events", "status = 'SUCCESS'").await? as usize,
        prompts: db.count("messages", "role = 'user'").await? as usize,
        assistant: db.count("messages", "role = 'assistant'").await? as usize,
        tool_uses: db.count("tool_uses", "true").await? as usize,
        subagents: db.count("subagents", "true").await? as usize,
    };
    assert_eq!(got, want);
    assert_eq!(db.count("conversations", "true").await?, ids.len() as i64);
    assert_eq!(
        db.count("webhook_events", "true").await? as usize,
        want.events
    );
    Ok(())
}
