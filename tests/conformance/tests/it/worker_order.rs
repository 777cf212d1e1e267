//! Redelivery and reordering change nothing.

use hookline_conformance::db::TestDb;
use hookline_conformance::fixtures::session;
use hookline_core::worker::{WorkerConfig, process_batch};

on_both!(redelivered_and_reversed_messages_give_identical_tables);

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
