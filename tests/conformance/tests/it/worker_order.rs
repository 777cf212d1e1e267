//! Redelivery and reordering change nothing.

use hookline_conformance::db::TestDb;
use hookline_conformance::fixtures::{session, t0};
use hookline_conformance::generate::{self, Expect};
use hookline_core::worker::{QueueRecord, WorkerConfig, process_batch};

on_both!(
    redelivered_and_reversed_messages_give_identical_tables,
    concurrent_batches_of_one_session_give_the_same_tables,
);

/// Asserts two dumps are equal, showing the first rows that differ.
pub fn assert_same(got: &[String], want: &[String], what: &str) {
    let diff: Vec<(&String, &String)> = got
        .iter()
        .zip(want)
        .filter(|(g, w)| g != w)
        .take(2)
        .collect();
    assert!(
        diff.is_empty() && got.len() == want.len(),
        "{what}: rows differ: {diff:#?} ({} vs {} rows)",
        got.len(),
        want.len()
    );
}

async fn redelivered_and_reversed_messages_give_identical_tables(db: TestDb) -> anyhow::Result<()> {
    let store = db.store();
    let cfg = WorkerConfig::default();
    let records = session()?;

    assert!(process_batch(store, &cfg, &records).await.is_empty());
    let forward = db.dump().await?;
    assert!(forward.len() > 20, "the session writes rows: {forward:#?}");

    // Every message delivered a second time: nothing changes.
    assert!(process_batch(store, &cfg, &records).await.is_empty());
    assert_same(&db.dump().await?, &forward, "redelivered");
    assert_eq!(
        db.count("webhook_event_attempts", "status = 'DUPLICATE'")
            .await?,
        records.len() as i64,
        "each redelivery is recorded as DUPLICATE"
    );

    // The same messages in reverse order, each twice, into empty tables.
    db.reset().await?;
    let mut reversed: Vec<_> = records.iter().rev().cloned().collect();
    reversed.extend(records.iter().rev().cloned());
    assert!(process_batch(store, &cfg, &reversed).await.is_empty());
    assert_same(&db.dump().await?, &forward, "reversed");

    // And interleaved: odd positions first, then even ones.
    db.reset().await?;
    let interleaved: Vec<_> = records
        .iter()
        .skip(1)
        .step_by(2)
        .chain(records.iter().step_by(2))
        .cloned()
        .collect();
    assert!(process_batch(store, &cfg, &interleaved).await.is_empty());
    assert_same(&db.dump().await?, &forward, "interleaved");
    Ok(())
}

/// Workers writing batches of the same session at once (as concurrent
/// worker instances take a backlog off one queue), every event twice: the
/// same tables as the events written one after another, the rows the
/// generator promises, every event stored once, and no attempt retried or
/// failed (a lock timeout, a deadlock or a serialization failure would
/// leave one).
async fn concurrent_batches_of_one_session_give_the_same_tables(db: TestDb) -> anyhow::Result<()> {
    const WORKERS: usize = 4;
    let cfg = WorkerConfig::default();
    let s = generate::session(5, 0, t0())?;
    assert!(process_batch(db.store(), &cfg, &s.records).await.is_empty());
    let want = db.dump().await?;
    db.reset().await?;

    // Each event twice, the second time in reverse order; batches of 4
    // dealt to the workers in turn, so that they hold neighbouring events
    // of the session (the same messages and tool calls) at the same time.
    let mut all: Vec<QueueRecord> = s.records.clone();
    all.extend(s.records.iter().rev().cloned());
    let batches: Vec<Vec<QueueRecord>> = all.chunks(4).map(<[QueueRecord]>::to_vec).collect();
    let workers = (0..WORKERS).map(|w| {
        let store = db.store_arc();
        let mine: Vec<Vec<QueueRecord>> =
            batches.iter().skip(w).step_by(WORKERS).cloned().collect();
        tokio::spawn(async move {
            let mut failed = Vec::new();
            for batch in mine {
                failed
                    .extend(process_batch(store.as_ref(), &WorkerConfig::default(), &batch).await);
            }
            failed
        })
    });
    for worker in futures::future::join_all(workers).await {
        let failed = worker?;
        assert!(failed.is_empty(), "reported for redelivery: {failed:?}");
    }
    assert_same(&db.dump().await?, &want, "concurrent");
    let got = Expect {
        events: db.count("webhook_events", "status = 'SUCCESS'").await? as usize,
        prompts: db.count("messages", "role = 'user'").await? as usize,
        assistant: db.count("messages", "role = 'assistant'").await? as usize,
        tool_uses: db.count("tool_uses", "true").await? as usize,
        subagents: db.count("subagents", "true").await? as usize,
    };
    assert_eq!(got, s.expect, "the rows of the generated session");
    assert_eq!(
        db.count("webhook_event_attempts", "status IN ('RETRYING', 'FAILED')")
            .await?,
        0,
        "no attempt failed"
    );
    assert_eq!(
        db.count("webhook_event_attempts", "status = 'DUPLICATE'")
            .await?,
        s.records.len() as i64,
        "each second delivery is one DUPLICATE"
    );
    Ok(())
}
