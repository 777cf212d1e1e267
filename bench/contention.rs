//! Concurrent batches of the same sessions (issue 22 item 4): the worker's
//! own path (`process_batch`, batches of 10) called by `N` tasks at once,
//! as `N` worker instances take batches off one queue, on a fresh Postgres
//! database; the events of `S` sessions interleaved as `bench/volume.py`
//! sends them (`S` = 1: one session after another, so that concurrent
//! batches are of the same session). While it runs, `pg_stat_activity`
//! is sampled every 50 ms: who waits on a lock, on which statement, and
//! what the backend holding it is doing.
//!
//!   DATABASE_URL=postgres://… cargo bench -p hookline-conformance --bench contention
//!
//! `HOOKLINE_CONTENTION_EVENTS` (default 1500) events per run,
//! `HOOKLINE_CONTENTION_CONCURRENCY` (`1,5`) and
//! `HOOKLINE_CONTENTION_SESSIONS` (`1,50`): one run per pair, each on its
//! own database (test-support's `PgDatabase::create`, dropped after). A
//! batch whose records the worker reports as failed is redelivered
//! (receive count + 1) at the end of the queue, as SQS would. Prints one line per run:
//!
//!   contention<TAB>N<TAB>S<TAB>events/s<TAB>batch p50 ms<TAB>batch p95 ms<TAB>redelivered<TAB>attempts by status
//!
//! then the samples: the share of samples with a backend waiting on a
//! lock, the statements waited in, the blocker's state and what it last
//! ran, and how long the blocker's transaction had been open.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use hookline_conformance::generate;
use hookline_core::worker::{QueueRecord, WorkerConfig, process_batch};
use hookline_store_postgres::PgStore;
use hookline_test_support::db::PgDatabase;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tokio::sync::Mutex;

const BATCH: usize = 10;

fn list(name: &str, default: &str) -> Vec<usize> {
    std::env::var(name)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect()
}

/// The events of `events` generated events' sessions, `k` sessions at a
/// time, one event of each in turn (`bench/volume.py`'s `interleave`).
fn interleaved(events: usize, k: usize) -> anyhow::Result<Vec<QueueRecord>> {
    let sessions: Vec<Vec<QueueRecord>> = generate::sessions(1, events, Utc::now())
        .map(|s| s.map(|s| s.records))
        .collect::<anyhow::Result<_>>()?;
    let mut out = Vec::new();
    for group in sessions.chunks(k.max(1)) {
        let longest = group.iter().map(Vec::len).max().unwrap_or(0);
        for i in 0..longest {
            out.extend(group.iter().filter_map(|s| s.get(i).cloned()));
        }
    }
    out.truncate(events);
    Ok(out)
}

/// One sample of a backend waiting on a lock.
struct Wait {
    query: String,
    blocker_state: String,
    blocker_query: String,
    blocker_xact_ms: f64,
    blocker_idle_ms: f64,
}

/// The blocker's figures over the samples of one kind of wait.
#[derive(Default)]
struct Ages {
    xact: Vec<f64>,
    idle: Vec<f64>,
}

fn head(sql: &str) -> String {
    let flat: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    flat.chars().take(60).collect()
}

async fn sample(pool: &PgPool, db: &str) -> anyhow::Result<Vec<Wait>> {
    let rows: Vec<(String, String, String, f64, f64)> = sqlx::query_as(
        "SELECT w.query, b.state, b.query,
                EXTRACT(EPOCH FROM now() - b.xact_start)::float8 * 1000,
                EXTRACT(EPOCH FROM now() - b.state_change)::float8 * 1000
         FROM pg_stat_activity w
         CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS bp(pid)
         JOIN pg_stat_activity b ON b.pid = bp.pid
         WHERE w.datname = $1 AND w.wait_event_type = 'Lock'",
    )
    .bind(db)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(q, s, bq, x, i)| Wait {
            query: head(&q),
            blocker_state: s,
            blocker_query: head(&bq),
            blocker_xact_ms: x,
            blocker_idle_ms: i,
        })
        .collect())
}

fn pct(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1]
}

async fn run(records: &[QueueRecord], n: usize, k: usize) -> anyhow::Result<()> {
    let db = PgDatabase::create().await?;
    let result = measure(&db, records, n, k).await;
    db.drop_database().await?;
    result
}

async fn measure(
    db: &PgDatabase,
    records: &[QueueRecord],
    n: usize,
    k: usize,
) -> anyhow::Result<()> {
    let name = db.name.as_str();
    // Two connections per worker (the migrated database's own pool has 4).
    let pool = PgPoolOptions::new()
        .max_connections(u32::try_from(n * 2).unwrap_or(10))
        .connect_with(db.admin().clone().database(name))
        .await?;
    let monitor = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(db.admin().clone())
        .await?;
    let store = Arc::new(PgStore::new(pool.clone()));
    let queue: Arc<Mutex<VecDeque<Vec<QueueRecord>>>> = Arc::new(Mutex::new(
        records.chunks(BATCH).map(<[QueueRecord]>::to_vec).collect(),
    ));
    let busy = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let redelivered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let cfg = WorkerConfig::default();
    let started = Instant::now();
    let workers: Vec<_> = (0..n)
        .map(|_| {
            let (queue, store, busy, redelivered, cfg) = (
                queue.clone(),
                store.clone(),
                busy.clone(),
                redelivered.clone(),
                cfg.clone(),
            );
            tokio::spawn(async move {
                let mut times = Vec::new();
                loop {
                    use std::sync::atomic::Ordering::SeqCst;
                    let batch = {
                        let mut q = queue.lock().await;
                        let b = q.pop_front();
                        if b.is_some() {
                            busy.fetch_add(1, SeqCst);
                        }
                        b
                    };
                    let Some(batch) = batch else {
                        if busy.load(SeqCst) == 0 {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    };
                    let t = Instant::now();
                    let failed = process_batch(store.as_ref(), &cfg, &batch).await;
                    times.push(t.elapsed().as_secs_f64() * 1000.0);
                    if !failed.is_empty() {
                        redelivered.fetch_add(failed.len(), SeqCst);
                        let again: Vec<QueueRecord> = batch
                            .into_iter()
                            .filter(|r| failed.contains(&r.message_id))
                            .map(|mut r| {
                                r.receive_count += 1;
                                r
                            })
                            .collect();
                        queue.lock().await.push_back(again);
                    }
                    busy.fetch_sub(1, SeqCst);
                }
                times
            })
        })
        .collect();
    let mut waits = Vec::new();
    let mut samples = 0usize;
    let mut with_wait = 0usize;
    while !workers.iter().all(tokio::task::JoinHandle::is_finished) {
        let w = sample(&monitor, name).await?;
        samples += 1;
        with_wait += usize::from(!w.is_empty());
        waits.extend(w);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut times = Vec::new();
    for w in workers {
        times.extend(w.await?);
    }
    let secs = started.elapsed().as_secs_f64();
    let statuses: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, count(*) FROM webhook_event_attempts GROUP BY 1 ORDER BY 1")
            .fetch_all(&pool)
            .await?;
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM webhook_events WHERE status = 'SUCCESS'")
            .fetch_one(&pool)
            .await?;
    let statuses: Vec<String> = statuses.iter().map(|(s, c)| format!("{s} {c}")).collect();
    println!(
        "contention\t{n}\t{k}\t{:.2}\t{:.0}\t{:.0}\t{}\t{} (SUCCESS rows {rows} of {})",
        records.len() as f64 / secs,
        pct(&mut times.clone(), 0.5),
        pct(&mut times, 0.95),
        redelivered.load(std::sync::atomic::Ordering::SeqCst),
        statuses.join(", "),
        records.len(),
    );
    println!(
        "  samples {samples}, with a lock wait {with_wait} ({:.0} %)",
        100.0 * with_wait as f64 / samples.max(1) as f64
    );
    // (waiter's statement, blocker's state, blocker's statement) -> the
    // blocker's transaction ages and times in that state, one per sample.
    let mut by: BTreeMap<(String, String, String), Ages> = BTreeMap::new();
    for w in waits {
        let e = by
            .entry((w.query, w.blocker_state, w.blocker_query))
            .or_default();
        e.xact.push(w.blocker_xact_ms);
        e.idle.push(w.blocker_idle_ms);
    }
    let mut by: Vec<_> = by.into_iter().collect();
    by.sort_by_key(|(_, a)| std::cmp::Reverse(a.xact.len()));
    for ((q, s, bq), Ages { mut xact, mut idle }) in by.into_iter().take(6) {
        let count = xact.len();
        println!(
            "  {count} waits in [{q}] on a blocker {s} after [{bq}]; blocker's transaction open p50 {:.0} ms, max {:.0} ms; in that state p50 {:.0} ms",
            pct(&mut xact, 0.5),
            pct(&mut xact, 1.0),
            pct(&mut idle, 0.5),
        );
    }
    anyhow::ensure!(
        usize::try_from(rows).unwrap_or(0) == records.len(),
        "{rows} SUCCESS rows for {} events",
        records.len()
    );
    pool.close().await;
    monitor.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let events = list("HOOKLINE_CONTENTION_EVENTS", "1500")
        .first()
        .copied()
        .unwrap_or(1500);
    for k in list("HOOKLINE_CONTENTION_SESSIONS", "1,50") {
        let records = interleaved(events, k)?;
        for n in list("HOOKLINE_CONTENTION_CONCURRENCY", "1,5") {
            run(&records, n, k).await?;
        }
    }
    Ok(())
}
