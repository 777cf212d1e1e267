//! Throughput of the embedded SQLite queue (`hookline_queue_sqlite`)
//! with its durability settings (WAL, synchronous=FULL: every acknowledged
//! send is fsync'd). Prints each figure beside the limit it is held to.
//!
//!   cargo bench -p hookline-queue-sqlite --bench sqlite_queue
//!
//! `HOOKLINE_BENCH_DIR` chooses where the database file goes (default: the
//! system temp dir; it must be a real disk, not tmpfs, for fsync to count);
//! `HOOKLINE_BENCH_MESSAGES` how many messages per run (default 20000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hookline_core::queue::{OutMessage, Queue, attr};
use hookline_queue_sqlite::{QueueDb, SqliteQueue};

/// What `hookline serve` must sustain (issue 5).
const SEND_TARGET: f64 = 5_000.0;

fn body(n: usize) -> OutMessage {
    // About the size of a typical enveloped hook event.
    let payload = "x".repeat(1_500);
    OutMessage {
        body: format!(r#"{{"type":"HookEventV1","n":{n},"payload":"{payload}"}}"#),
        attributes: [(attr::REQUEST_ID.to_owned(), format!("req-{n}"))].into(),
    }
}

async fn fresh(dir: &std::path::Path, name: &str) -> anyhow::Result<SqliteQueue> {
    let pool = hookline_store_sqlite::open(&dir.join(format!("{name}.db"))).await?;
    let (main, _dlq) = QueueDb::new(pool)
        .queue_with_dlq("bench", Duration::from_secs(60), 5)
        .await?;
    Ok(main)
}

/// Sends `total` messages from `senders` concurrent tasks; messages/s.
async fn sends(q: &SqliteQueue, total: usize, senders: usize) -> anyhow::Result<f64> {
    let q = Arc::new(q.clone());
    let started = Instant::now();
    let tasks: Vec<_> = (0..senders)
        .map(|s| {
            let q = q.clone();
            tokio::spawn(async move {
                for n in (s..total).step_by(senders) {
                    q.send(&body(n)).await?;
                }
                Ok::<_, anyhow::Error>(())
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// Receives and deletes everything with `consumers` concurrent consumers,
/// each deleting a batch's messages concurrently; messages/s.
async fn drain(q: &SqliteQueue, total: usize, consumers: usize) -> anyhow::Result<f64> {
    let q = Arc::new(q.clone());
    let started = Instant::now();
    let tasks: Vec<_> = (0..consumers)
        .map(|_| {
            let q = q.clone();
            tokio::spawn(async move {
                let mut n = 0usize;
                loop {
                    let batch = q.receive(10, Duration::ZERO).await?;
                    if batch.is_empty() {
                        return Ok::<_, anyhow::Error>(n);
                    }
                    n += batch.len();
                    let deletes = batch.iter().map(|m| q.delete(&m.receipt));
                    for d in futures::future::join_all(deletes).await {
                        d?;
                    }
                }
            })
        })
        .collect();
    let mut done = 0;
    for t in tasks {
        done += t.await??;
    }
    anyhow::ensure!(done == total, "drained {done} of {total}");
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

fn line(what: &str, rate: f64, limit: &str) {
    println!("{what:<48} {rate:>9.0} msg/s   {limit}");
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let total: usize = std::env::var("HOOKLINE_BENCH_MESSAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let base = std::env::var_os("HOOKLINE_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::tempdir_in(base)?;
    println!(
        "embedded SQLite queue, WAL + synchronous=FULL, {total} messages of ~1.6 KB, in {}",
        dir.path().display()
    );

    let one = fresh(dir.path(), "one").await?;
    let serial = sends(&one, total.min(500), 1).await?;
    line(
        "durable sends/s, 1 sender (one fsync each)",
        serial,
        "(the disk's fsync rate)",
    );
    for senders in [16, 64, 256] {
        let q = fresh(dir.path(), &format!("s{senders}")).await?;
        let rate = sends(&q, total, senders).await?;
        let verdict = if rate >= SEND_TARGET { "ok" } else { "BELOW" };
        line(
            &format!("durable sends/s, {senders} concurrent senders"),
            rate,
            &format!("target >= {SEND_TARGET:.0}: {verdict}"),
        );
        if senders == 64 {
            for consumers in [1, 4] {
                if consumers > 1 {
                    sends(&q, total, 64).await?;
                }
                let rate = drain(&q, total, consumers).await?;
                line(
                    &format!("receive(10) + delete/s, {consumers} consumer(s)"),
                    rate,
                    "(receives and deletes share group commits)",
                );
            }
        }
    }
    Ok(())
}
