//! Failures affect exactly the records they hit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hookline_conformance::db::TestDb;
use hookline_conformance::fixtures::{event, record, session, stamped};
use hookline_core::error::StoreError;
use hookline_core::store::{AuditRecord, Failure, Outcome, Store, Work};
use hookline_core::worker::{WorkerConfig, process_batch};
use hookline_store_postgres::PgStore;
use hookline_store_sqlite::SqliteStore;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::{ConnectOptions, SqlitePool};

on_both!(
    a_panic_in_one_record_fails_only_that_record,
    the_last_allowed_receive_marks_failed_before_the_dlq,
    the_record_span_never_leaks_into_other_work,
);
on_backends!(
    a_closed_connection_fails_only_the_affected_record: postgres => Postgres;
    a_locked_database_fails_only_the_affected_record: sqlite => Sqlite;
);

/// A real store plus one misfortune for one request id.
struct Faulty {
    inner: Arc<dyn Store>,
    victim: &'static str,
    fault: Fault,
}

enum Fault {
    Panic,
    /// Postgres closes the store's connection just before the victim.
    ConnectionKilled(Box<PgConnectOptions>),
    /// Another connection holds SQLite's write lock during the victim.
    Locked(SqlitePool),
}

#[async_trait::async_trait]
impl Store for Faulty {
    async fn apply(
        &self,
        a: &AuditRecord,
        w: Work<'_>,
        started: Instant,
    ) -> Result<Outcome, StoreError> {
        if a.request_id != self.victim {
            return self.inner.apply(a, w, started).await;
        }
        match &self.fault {
            Fault::Panic => panic!("boom in {}", a.request_id),
            Fault::ConnectionKilled(admin) => {
                let mut admin = admin.connect().await.map_err(setup)?;
                sqlx::query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE datname = current_database() AND pid <> pg_backend_pid()",
                )
                .execute(&mut admin)
                .await
                .map_err(setup)?;
                self.inner.apply(a, w, started).await
            }
            Fault::Locked(other) => {
                let blocker = other.begin_with("BEGIN IMMEDIATE").await.map_err(setup)?;
                let result = self.inner.apply(a, w, started).await;
                blocker.rollback().await.map_err(setup)?;
                result
            }
        }
    }

    async fn record_failure(&self, a: &AuditRecord, f: &Failure<'_>) -> Result<(), StoreError> {
        self.inner.record_failure(a, f).await
    }
}

/// A failure of the fault injection itself (not of the store under test).
fn setup(e: sqlx::Error) -> StoreError {
    StoreError::permanent(e)
}

fn panicking(db: &TestDb, victim: &'static str) -> Faulty {
    Faulty {
        inner: db.store_arc(),
        victim,
        fault: Fault::Panic,
    }
}

async fn success_count(db: &TestDb) -> anyhow::Result<i64> {
    db.count("webhook_events", "status = 'SUCCESS'").await
}

/// The victim's record failed transiently, every other one succeeded, and
/// a redelivery of the victim on a healthy store succeeds.
async fn only_the_victim_failed(db: &TestDb, store: &Faulty) -> anyhow::Result<()> {
    let records = session()?;
    let failed = process_batch(store, &WorkerConfig::default(), &records).await;
    let victim_msg = format!("msg-{}", store.victim);
    assert_eq!(
        failed,
        std::slice::from_ref(&victim_msg),
        "exactly the record hit"
    );
    assert_eq!(db.status_of(store.victim).await?, "RETRYING");
    assert_eq!(success_count(db).await?, records.len() as i64 - 1);

    let again: Vec<_> = records
        .into_iter()
        .filter(|r| r.message_id == victim_msg)
        .collect();
    let failed = process_batch(db.store(), &WorkerConfig::default(), &again).await;
    assert!(failed.is_empty(), "redelivered, it succeeds: {failed:?}");
    assert_eq!(db.status_of(store.victim).await?, "SUCCESS");
    Ok(())
}

async fn a_closed_connection_fails_only_the_affected_record(db: TestDb) -> anyhow::Result<()> {
    let Some(pool) = db.pg_pool() else {
        anyhow::bail!("a Postgres test");
    };
    let opts = pool.connect_options().as_ref().clone();
    // One connection, handed out without a health check: the killed
    // connection is the one the victim's transaction gets.
    let single = PgPoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .connect_with(opts.clone())
        .await?;
    let store = Faulty {
        inner: Arc::new(PgStore::new(single)),
        victim: "r05",
        fault: Fault::ConnectionKilled(Box::new(opts)),
    };
    only_the_victim_failed(&db, &store).await
}

async fn a_locked_database_fails_only_the_affected_record(db: TestDb) -> anyhow::Result<()> {
    let (Some(path), Some(pool)) = (db.sqlite_path(), db.sqlite_pool()) else {
        anyhow::bail!("a SQLite test");
    };
    // A store that gives up on the lock quickly (SQLITE_BUSY).
    let impatient = SqlitePoolOptions::new()
        .connect_with(hookline_store_sqlite::options(path).busy_timeout(Duration::from_millis(50)))
        .await?;
    let store = Faulty {
        inner: Arc::new(SqliteStore::new(impatient)),
        victim: "r05",
        fault: Fault::Locked(pool.clone()),
    };
    only_the_victim_failed(&db, &store).await?;
    let row = db
        .row("SELECT error_code, error_message FROM webhook_event_attempts WHERE request_id = 'r05' AND status = 'RETRYING'")
        .await?;
    assert_eq!(row["error_code"], "DB_TRANSIENT", "{row:?}");
    Ok(())
}

async fn a_panic_in_one_record_fails_only_that_record(db: TestDb) -> anyhow::Result<()> {
    let store = panicking(&db, "r03");
    let records = session()?;
    let failed = process_batch(&store, &WorkerConfig::default(), &records).await;
    assert_eq!(failed, ["msg-r03"]);
    let row = db
        .row("SELECT status, error_code FROM webhook_events WHERE request_id = 'r03'")
        .await?;
    assert_eq!(row["status"], "RETRYING");
    assert_eq!(row["error_code"], "PANIC");
    assert_eq!(success_count(&db).await?, records.len() as i64 - 1);
    Ok(())
}

async fn the_last_allowed_receive_marks_failed_before_the_dlq(db: TestDb) -> anyhow::Result<()> {
    let store = panicking(&db, "p1");
    let mut rec = record("p1", stamped(event("Stop")?, "p1", 1))?;
    rec.receive_count = 5;
    let cfg = WorkerConfig {
        max_receive_count: 5,
    };
    let failed = process_batch(&store, &cfg, &[rec]).await;
    assert_eq!(
        failed,
        ["msg-p1"],
        "still reported, so that the queue moves it to the DLQ"
    );
    let row = db
        .row("SELECT status, error_message FROM webhook_events WHERE request_id = 'p1'")
        .await?;
    assert_eq!(row["status"], "FAILED");
    let message = row["error_message"].as_str().unwrap_or_default();
    assert!(message.contains("DLQ"), "{message}");
    Ok(())
}

on_both!(a_record_the_database_refuses_fails_alone_within_its_batch);
on_backends!(
    a_connection_lost_mid_batch_retries_each_record_alone: postgres => Postgres;
);

/// Runs DDL on the test database (the Postgres or the SQLite statement).
async fn ddl(db: &TestDb, pg: &'static str, sqlite: &'static str) -> anyhow::Result<()> {
    if let Some(pool) = db.pg_pool() {
        sqlx::raw_sql(pg).execute(pool).await?;
    } else if let Some(pool) = db.sqlite_pool() {
        sqlx::raw_sql(sqlite).execute(pool).await?;
    }
    Ok(())
}

/// The batch path of the real stores (one transaction, a savepoint per
/// record): a trigger refuses r05's SUCCESS; r05 alone is FAILED, the other
/// records of the same batch are stored.
async fn a_record_the_database_refuses_fails_alone_within_its_batch(
    db: TestDb,
) -> anyhow::Result<()> {
    ddl(
        &db,
        "CREATE FUNCTION refuse_r05() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.request_id = 'r05' AND NEW.status = 'SUCCESS' THEN
             RAISE EXCEPTION 'r05 is refused' USING ERRCODE = 'check_violation';
           END IF;
           RETURN NEW;
         END $$;
         CREATE TRIGGER refuse_r05 BEFORE UPDATE ON webhook_events
           FOR EACH ROW EXECUTE FUNCTION refuse_r05();",
        "CREATE TRIGGER refuse_r05 BEFORE UPDATE ON webhook_events
           WHEN NEW.request_id = 'r05' AND NEW.status = 'SUCCESS'
         BEGIN SELECT RAISE(ABORT, 'r05 is refused'); END;",
    )
    .await?;
    let records = session()?;
    let failed = process_batch(db.store(), &WorkerConfig::default(), &records).await;
    assert!(
        failed.is_empty(),
        "a permanent failure is not redelivered: {failed:?}"
    );
    let row = db
        .row("SELECT status, error_code FROM webhook_events WHERE request_id = 'r05'")
        .await?;
    assert_eq!(row["status"], "FAILED", "{row:?}");
    assert_eq!(row["error_code"], "DB_PERMANENT", "{row:?}");
    assert_eq!(success_count(&db).await?, records.len() as i64 - 1);
    // Nothing of r05's domain rows survived its rollback: its attempt
    // history holds the failure only.
    let attempts = db
        .count(
            "webhook_event_attempts",
            "request_id = 'r05' AND status = 'SUCCESS'",
        )
        .await?;
    assert_eq!(attempts, 0);
    Ok(())
}

/// r05's SUCCESS kills the connection it is written on: the batch fails as
/// a whole, each record is retried on its own, and only r05 is redelivered.
async fn a_connection_lost_mid_batch_retries_each_record_alone(db: TestDb) -> anyhow::Result<()> {
    ddl(
        &db,
        "CREATE FUNCTION kill_r05() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.request_id = 'r05' AND NEW.status = 'SUCCESS' THEN
             PERFORM pg_terminate_backend(pg_backend_pid());
           END IF;
           RETURN NEW;
         END $$;
         CREATE TRIGGER kill_r05 BEFORE UPDATE ON webhook_events
           FOR EACH ROW EXECUTE FUNCTION kill_r05();",
        "",
    )
    .await?;
    let records = session()?;
    let failed = process_batch(db.store(), &WorkerConfig::default(), &records).await;
    assert_eq!(
        failed,
        ["msg-r05"],
        "exactly the record that kills its connection"
    );
    assert_eq!(db.status_of("r05").await?, "RETRYING");
    assert_eq!(success_count(&db).await?, records.len() as i64 - 1);

    ddl(&db, "DROP TRIGGER kill_r05 ON webhook_events", "").await?;
    let again: Vec<_> = records
        .into_iter()
        .filter(|r| r.message_id == "msg-r05")
        .collect();
    let failed = process_batch(db.store(), &WorkerConfig::default(), &again).await;
    assert!(failed.is_empty(), "redelivered, it succeeds: {failed:?}");
    assert_eq!(db.status_of("r05").await?, "SUCCESS");
    Ok(())
}

/// Found by scripts/chaos: `hookline serve` panicked in the tracing registry
/// ("tried to clone a span that already closed") and its queue writer died,
/// because the worker held the `record` span entered across awaits, so work
/// polled meanwhile on the same thread ran inside it. Here a probe polled
/// between the worker's awaits must never see the span as current.
async fn the_record_span_never_leaks_into_other_work(db: TestDb) -> anyhow::Result<()> {
    let _registry = tracing::subscriber::set_default(tracing_subscriber::registry());
    let records = session()?;
    let cfg = WorkerConfig::default();
    let mut leaks = 0usize;
    let mut polls = 0usize;
    let probe = async {
        loop {
            polls += 1;
            if tracing::Span::current()
                .metadata()
                .is_some_and(|m| m.name() == "record")
            {
                leaks += 1;
            }
            tokio::task::yield_now().await;
        }
    };
    let failed = tokio::select! {
        biased;
        failed = process_batch(db.store(), &cfg, &records) => failed,
        () = probe => unreachable!("the probe never ends"),
    };
    assert!(failed.is_empty(), "{failed:?}");
    assert!(polls > 0, "the probe ran between the worker's awaits");
    assert_eq!(
        leaks, 0,
        "polls of other work that ran inside the record span"
    );
    assert_eq!(success_count(&db).await?, records.len() as i64);
    Ok(())
}
