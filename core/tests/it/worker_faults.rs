//! Failures affect exactly the records they hit.

use std::time::Instant;

use hookline_core::error::StoreError;
use hookline_core::store::{AuditRecord, Failure, Outcome, PgStore, Store, Work};
use hookline_core::worker::{WorkerConfig, process_batch};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};

use crate::helpers::{event, record, session, stamped, status_of};

/// A real store plus one misfortune for one request id.
struct Faulty {
    inner: PgStore,
    victim: &'static str,
    fault: Fault,
    admin: PgConnectOptions,
}

#[derive(Clone, Copy)]
enum Fault {
    /// The database closes the store's connection just before the victim.
    ConnectionKilled,
    Panic,
}

#[async_trait::async_trait]
impl Store for Faulty {
    async fn apply(
        &self,
        a: &AuditRecord,
        w: Work<'_>,
        started: Instant,
    ) -> Result<Outcome, StoreError> {
        if a.request_id == self.victim {
            match self.fault {
                Fault::Panic => panic!("boom in {}", a.request_id),
                Fault::ConnectionKilled => {
                    let mut admin = self.admin.connect().await?;
                    sqlx::query(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                         WHERE datname = current_database() AND pid <> pg_backend_pid()",
                    )
                    .execute(&mut admin)
                    .await?;
                }
            }
        }
        self.inner.apply(a, w, started).await
    }

    async fn record_failure(&self, a: &AuditRecord, f: &Failure<'_>) -> Result<(), StoreError> {
        self.inner.record_failure(a, f).await
    }
}

async fn faulty(pool: &PgPool, victim: &'static str, fault: Fault) -> anyhow::Result<Faulty> {
    let opts = pool.connect_options().as_ref().clone();
    // One connection, handed out without a health check: the killed
    // connection is the one the victim's transaction gets.
    let single = PgPoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .connect_with(opts.clone())
        .await?;
    Ok(Faulty {
        inner: PgStore::new(single),
        victim,
        fault,
        admin: opts,
    })
}

#[sqlx::test(migrator = "hookline_core::store::PG_MIGRATOR")]
async fn a_closed_connection_fails_only_the_affected_record(pool: PgPool) -> anyhow::Result<()> {
    let store = faulty(&pool, "r05", Fault::ConnectionKilled).await?;
    let records = session()?;
    let failed = process_batch(&store, &WorkerConfig::default(), &records).await;
    assert_eq!(
        failed,
        ["msg-r05"],
        "exactly the record that hit the closed connection"
    );
    assert_eq!(status_of(&pool, "r05").await?, "RETRYING");
    let ok: i64 =
        sqlx::query_scalar("SELECT count(*) FROM webhook_events WHERE status = 'SUCCESS'")
            .fetch_one(&pool)
            .await?;
    assert_eq!(ok, records.len() as i64 - 1);

    // Redelivered, it succeeds.
    let healthy = PgStore::new(pool.clone());
    let again: Vec<_> = records
        .iter()
        .filter(|r| r.message_id == "msg-r05")
        .cloned()
        .collect();
    assert!(
        process_batch(&healthy, &WorkerConfig::default(), &again)
            .await
            .is_empty()
    );
    assert_eq!(status_of(&pool, "r05").await?, "SUCCESS");
    Ok(())
}

#[sqlx::test(migrator = "hookline_core::store::PG_MIGRATOR")]
async fn a_panic_in_one_record_fails_only_that_record(pool: PgPool) -> anyhow::Result<()> {
    let store = faulty(&pool, "r03", Fault::Panic).await?;
    let records = session()?;
    let failed = process_batch(&store, &WorkerConfig::default(), &records).await;
    assert_eq!(failed, ["msg-r03"]);
    let (status, code): (String, String) =
        sqlx::query_as("SELECT status, error_code FROM webhook_events WHERE request_id = 'r03'")
            .fetch_one(&pool)
            .await?;
    assert_eq!((status.as_str(), code.as_str()), ("RETRYING", "PANIC"));
    let ok: i64 =
        sqlx::query_scalar("SELECT count(*) FROM webhook_events WHERE status = 'SUCCESS'")
            .fetch_one(&pool)
            .await?;
    assert_eq!(ok, records.len() as i64 - 1);
    Ok(())
}

#[sqlx::test(migrator = "hookline_core::store::PG_MIGRATOR")]
async fn the_last_allowed_receive_marks_failed_before_the_dlq(pool: PgPool) -> anyhow::Result<()> {
    let store = faulty(&pool, "p1", Fault::Panic).await?;
    let mut rec = record("p1", stamped(event("Stop")?, "p1", 1))?;
    rec.receive_count = 5;
    let failed = process_batch(
        &store,
        &WorkerConfig {
            max_receive_count: 5,
        },
        &[rec],
    )
    .await;
    assert_eq!(
        failed,
        ["msg-p1"],
        "still reported, so that the queue moves it to the DLQ"
    );
    let (status, message): (String, String) =
        sqlx::query_as("SELECT status, error_message FROM webhook_events WHERE request_id = 'p1'")
            .fetch_one(&pool)
            .await?;
    assert_eq!(status, "FAILED");
    assert!(message.contains("DLQ"), "{message}");
    Ok(())
}
