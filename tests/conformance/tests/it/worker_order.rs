//! Redelivery and reordering change nothing.

use hookline_conformance::db::TestDb;
use hookline_conformance::fixtures::session;
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
/// worker instances take a backlog off one queue), every event three
/// times: the same tables as the events written one after another, every
/// event stored once, and no attempt retried or failed (a lock timeout, a
/// deadlock or a serialization failure would leave one).
///
/// (The fixtures' session, not a generated one: the generator gives every
/// transcript chunk `start_offset` 0, so whichever Stop arrives first is
/// taken for the transcript's start and sets `first_uuid`.)
async fn concurrent_batches_of_one_session_give_the_same_tables(db: TestDb) -> anyhow::Result<()> {
    const WORKERS: usize = 4;
    let records = session()?;
    assert!(
        process_batch(db.store(), &WorkerConfig::default(), &records)
            .await
            .is_empty()
    );
    let want = db.dump().await?;
    db.reset().await?;

    // In order, reversed, in order again; batches of 3 dealt to the
    // workers in turn, so that they hold neighbouring events of the
    // session (the same tool calls, messages and subagent) at once.
    let mut all: Vec<QueueRecord> = records.clone();
    all.extend(records.iter().rev().cloned());
    all.extend(records.iter().cloned());
    let batches: Vec<Vec<QueueRecord>> = all.chunks(3).map(<[QueueRecord]>::to_vec).collect();
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
    let n = records.len() as i64;
    assert_eq!(
        db.count("webhook_events", "status = 'SUCCESS'").await?,
        n,
        "every event stored once"
    );
    assert_eq!(
        db.count("webhook_event_attempts", "status IN ('RETRYING', 'FAILED')")
            .await?,
        0,
        "no attempt failed"
    );
    assert_eq!(
        db.count("webhook_event_attempts", "status = 'DUPLICATE'")
            .await?,
        2 * n,
        "each later delivery is one DUPLICATE"
    );
    Ok(())
}
