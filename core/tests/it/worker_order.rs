//! Redelivery and reordering change nothing.

use hookline_core::store::PgStore;
use hookline_core::worker::{WorkerConfig, process_batch};
use sqlx::PgPool;

use crate::helpers::{dump, session};

/// Asserts two dumps are equal, showing the first rows that differ.
fn assert_same(got: &[String], want: &[String], what: &str) {
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

async fn reset(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::query("TRUNCATE webhook_events, webhook_event_attempts, conversations CASCADE")
        .execute(pool)
        .await?;
    Ok(())
}

#[sqlx::test(migrator = "hookline_core::store::PG_MIGRATOR")]
async fn redelivered_and_reversed_messages_give_identical_tables(
    pool: PgPool,
) -> anyhow::Result<()> {
    let store = PgStore::new(pool.clone());
    let cfg = WorkerConfig::default();
    let records = session()?;

    assert!(process_batch(&store, &cfg, &records).await.is_empty());
    let forward = dump(&pool).await?;
    assert!(forward.len() > 20, "the session writes rows: {forward:#?}");

    // Every message delivered a second time: nothing changes.
    assert!(process_batch(&store, &cfg, &records).await.is_empty());
    assert_same(&dump(&pool).await?, &forward, "redelivered");
    let duplicates: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM webhook_event_attempts WHERE status = 'DUPLICATE'",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!(
        duplicates,
        records.len() as i64,
        "each redelivery is recorded as DUPLICATE"
    );

    // The same messages in reverse order, each twice, into empty tables.
    reset(&pool).await?;
    let mut reversed: Vec<_> = records.iter().rev().cloned().collect();
    reversed.extend(records.iter().rev().cloned());
    assert!(process_batch(&store, &cfg, &reversed).await.is_empty());
    assert_same(&dump(&pool).await?, &forward, "reversed");

    // And interleaved: odd positions first, then even ones.
    reset(&pool).await?;
    let interleaved: Vec<_> = records
        .iter()
        .skip(1)
        .step_by(2)
        .chain(records.iter().step_by(2))
        .cloned()
        .collect();
    assert!(process_batch(&store, &cfg, &interleaved).await.is_empty());
    assert_same(&dump(&pool).await?, &forward, "interleaved");
    Ok(())
}
