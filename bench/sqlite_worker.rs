//! The worker on SQLite (what `hookline serve`'s worker does: the embedded
//! queue, batches of 10, `process_batch` into the SQLite store, deletes),
//! against SQLite writing the same rows itself, one transaction per event,
//! with the same durability (WAL, synchronous=FULL). Prints one
//! tab-separated line per figure for bench/run:
//!
//!   cargo bench -p hookline-conformance --bench sqlite_worker
//!
//! `HOOKLINE_BENCH_DIR` chooses where the database files go (default: the
//! system temp dir; a real disk, not tmpfs, for fsync to count);
//! `HOOKLINE_BENCH_EVENTS` how many events (default 3000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hookline_conformance::fixtures::{event, record, stamped};
use hookline_core::poller::{InProcess, Poller};
use hookline_core::queue::{OutMessage, Queue, attr};
use hookline_core::worker::WorkerConfig;
use hookline_queue_sqlite::QueueDb;
use hookline_store_sqlite::SqliteStore;
use hookline_store_sqlite::time::to_text;

fn now() -> String {
    to_text(chrono::Utc::now())
}

const SESSION: &str = "00893aaf-19fa-41d2-8238-13269b9b3ca0";

/// The enveloped PostToolUse fixture event number `n`, as ingest queues it.
fn message(n: usize) -> anyhow::Result<OutMessage> {
    let id = format!("bench-{n}");
    let rec = record(&id, stamped(event("PostToolUse")?, &id, n as i64))?;
    Ok(OutMessage {
        body: rec.body,
        attributes: [(attr::REQUEST_ID.to_owned(), id)].into(),
    })
}

/// serve's pipeline minus HTTP: send `total` events to the embedded queue,
/// then drain it with serve's poller and worker; events/s of the drain.
async fn worker(dir: &std::path::Path, total: usize) -> anyhow::Result<f64> {
    let pool = hookline_store_sqlite::open(&dir.join("worker.db")).await?;
    let (queue, _dlq) = QueueDb::new(pool.clone())
        .queue_with_dlq("bench", Duration::from_secs(60), 5)
        .await?;
    let queue = Arc::new(queue);
    let sends: Vec<_> = (0..total)
        .map(|n| {
            let q = queue.clone();
            let m = message(n);
            tokio::spawn(async move { q.send(&m?).await.map_err(anyhow::Error::from) })
        })
        .collect();
    for s in sends {
        s.await??;
    }
    let poller = Poller {
        queue: queue.clone(),
        invoker: Arc::new(InProcess {
            store: Arc::new(SqliteStore::new(pool.clone())),
            cfg: WorkerConfig::default(),
        }),
        batch_size: 10,
        wait: Duration::ZERO,
        source_arn: "arn:aws:sqs:local:000000000000:bench".into(),
    };
    let started = Instant::now();
    let mut done = 0;
    loop {
        let stats = poller.poll_once().await.map_err(anyhow::Error::msg)?;
        done += stats.deleted;
        if stats.received == 0 {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM webhook_events WHERE status = 'SUCCESS'")
            .fetch_one(&pool)
            .await?;
    anyhow::ensure!(
        done == total && stored == total as i64,
        "worker: {done} deleted, {stored} SUCCESS rows of {total}"
    );
    Ok(total as f64 / secs)
}

/// The limit: the rows the worker writes for one PostToolUse event (the
/// audit row with its payload, its attempt, the conversation and the tool
/// use upserted), one transaction per event, as bench/worker_pgbench.sql
/// does on Postgres.
async fn baseline(dir: &std::path::Path, total: usize) -> anyhow::Result<f64> {
    let pool = hookline_store_sqlite::open(&dir.join("baseline.db")).await?;
    let payload = event("PostToolUse")?.to_string();
    let started = Instant::now();
    for n in 0..total {
        let id = format!("base-{n}");
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "INSERT INTO webhook_events (request_id, event_type, session_id, status, payload, headers,
                 principal, message_id, received_at, enqueued_at, processed_at, processing_ms, attempts)
             VALUES (?1, 'PostToolUse', ?2, 'SUCCESS', ?3, '{}', 'bench', 'm', ?4, ?4, ?4, 1, 1)",
        )
        .bind(&id)
        .bind(SESSION)
        .bind(&payload)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO webhook_event_attempts (request_id, status, message_id, receive_count, processing_ms)
             VALUES (?1, 'SUCCESS', 'm', 1, 1)",
        )
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO conversations (session_id, principal, cwd, transcript_path, permission_mode, started_at, tool_use_count)
             VALUES (?1, 'bench', '/home/user/my-project', '/t.jsonl', 'default', ?2, 1)
             ON CONFLICT (session_id) DO UPDATE SET cwd = excluded.cwd,
               permission_mode = excluded.permission_mode,
               started_at = min(conversations.started_at, excluded.started_at)",
        )
        .bind(SESSION)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO tool_uses (tool_use_id, session_id, tool_name, input, input_source, response, status, post_at, duration_ms)
             VALUES ('toolu_01WRITE', ?1, 'Write', '{\"file_path\":\"/path/to/file.txt\",\"content\":\"file content\"}', 'post',
                     '{\"filePath\":\"/path/to/file.txt\",\"success\":true}', 'succeeded', ?2, 12)
             ON CONFLICT (tool_use_id) DO UPDATE SET response = excluded.response, status = excluded.status,
               post_at = excluded.post_at, duration_ms = excluded.duration_ms",
        )
        .bind(SESSION)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let total: usize = std::env::var("HOOKLINE_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000);
    let base = std::env::var_os("HOOKLINE_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::tempdir_in(base)?;
    let w = worker(dir.path(), total).await?;
    let b = baseline(dir.path(), total).await?;
    println!("sqlite_worker_per_s\t{w:.0}");
    println!("sqlite_baseline_per_s\t{b:.0}");
    eprintln!(
        "worker on SQLite: {w:.0} events/s; SQLite writing the same rows, one transaction per event: {b:.0}/s ({total} events)"
    );
    Ok(())
}
