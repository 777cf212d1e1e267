//! The embedded SQLite queue: the shared `Queue` suite, then what only an
//! embedded queue can show (concurrency of one process, kill -9, a poison
//! message through the worker into the dead-letter queue).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hookline_conformance::db::{Backend, TestDb, run};
use hookline_conformance::fixtures::{event, record, stamped};
use hookline_conformance::queue_suite::{QueueFactory, SqliteQueueFactory, receive_until};
use hookline_core::queue::{OutMessage, Queue, QueueError};
use hookline_core::worker::{QueueRecord, WorkerConfig, process_batch};
use hookline_queue_sqlite::QueueDb;
use hookline_test_support::stores::{Fault, Faulty};

mod suite {
    hookline_conformance::queue_conformance_tests!(
        hookline_conformance::queue_suite::SqliteQueueFactory
    );
}

fn msg(n: usize) -> OutMessage {
    OutMessage {
        body: format!("message {n}"),
        attributes: Default::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_senders_and_receivers_move_each_message_exactly_once() -> anyhow::Result<()> {
    let q = SqliteQueueFactory.pair(5, Duration::from_secs(60)).await?;
    let sends = (0..400).map(|n| {
        let main = q.main.clone();
        tokio::spawn(async move { main.send(&msg(n)).await })
    });
    let mut sent = BTreeSet::new();
    for s in futures::future::join_all(sends).await {
        sent.insert(s??);
    }
    assert_eq!(sent.len(), 400, "every send got its own id");
    assert_eq!(q.main.depth().await?, 400);

    let receivers = (0..8).map(|_| {
        let main = q.main.clone();
        tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let batch = main.receive(10, Duration::ZERO).await?;
                if batch.is_empty() {
                    return Ok::<_, QueueError>(got);
                }
                for m in batch {
                    main.delete(&m.receipt).await?;
                    got.push(m.message_id);
                }
            }
        })
    });
    let mut received = Vec::new();
    for r in futures::future::join_all(receivers).await {
        received.extend(r??);
    }
    let distinct: BTreeSet<String> = received.iter().cloned().collect();
    assert_eq!(
        distinct.len(),
        received.len(),
        "no message given to two receivers"
    );
    assert_eq!(distinct, sent);
    assert_eq!(q.main.depth().await?, 0);
    Ok(())
}

#[tokio::test]
async fn a_stale_receipt_cannot_change_visibility() -> anyhow::Result<()> {
    let q = SqliteQueueFactory.pair(5, Duration::from_secs(60)).await?;
    q.main.send(&msg(1)).await?;
    let got = receive_until(&*q.main, 1, Duration::from_secs(5)).await?;
    let receipt = &got.first().map(|m| m.receipt.clone()).unwrap_or_default();
    q.main.delete(receipt).await?;
    let err = q.main.change_visibility(receipt, Duration::ZERO).await;
    assert!(matches!(err, Err(QueueError::StaleReceipt(_))), "{err:?}");
    Ok(())
}

const CHILD_DB: &str = "HOOKLINE_TEST_CHILD_DB";

/// Run by `every_acknowledged_send_survives_kill_9` in a child process:
/// sends from 32 tasks and prints each acknowledged message id until killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child process of every_acknowledged_send_survives_kill_9"]
async fn child_sends_until_killed() -> anyhow::Result<()> {
    let path = std::env::var(CHILD_DB)?;
    let db = QueueDb::new(hookline_store_sqlite::open(path.as_ref()).await?);
    let (main, _dlq) = db
        .queue_with_dlq("kill", Duration::from_secs(30), 5)
        .await?;
    let main = Arc::new(main);
    let tasks = (0..32).map(|t| {
        let main = main.clone();
        tokio::spawn(async move {
            for n in 0.. {
                let id = main.send(&msg(t * 1_000_000 + n)).await?;
                let mut out = std::io::stdout().lock();
                writeln!(out, "ACK {id}")?;
                out.flush()?;
            }
            Ok::<_, anyhow::Error>(())
        })
    });
    futures::future::join_all(tasks).await;
    Ok(())
}

#[tokio::test]
async fn every_acknowledged_send_survives_kill_9() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("queue.db");
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "--ignored",
            "--exact",
            "queue_sqlite::child_sends_until_killed",
        ])
        .args(["--nocapture", "--test-threads=1"])
        .env(CHILD_DB, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut out = BufReader::new(child.stdout.take().ok_or(anyhow::anyhow!("no stdout"))?);
    let mut acked = BTreeSet::new();
    let mut line = String::new();
    let started = Instant::now();
    while acked.len() < 2000 && started.elapsed() < Duration::from_secs(60) {
        line.clear();
        if out.read_line(&mut line)? == 0 {
            break;
        }
        if let Some(id) = line.strip_prefix("ACK ").and_then(|l| l.strip_suffix('\n')) {
            acked.insert(id.to_owned());
        }
    }
    child.kill()?; // SIGKILL, mid-burst
    child.wait()?;
    // Acknowledgements already written before the kill count too.
    for l in out.lines().map_while(Result::ok) {
        if let Some(id) = l.strip_prefix("ACK ") {
            acked.insert(id.to_owned());
        }
    }
    assert!(
        acked.len() >= 2000,
        "the child acknowledged {} sends",
        acked.len()
    );
    let pool = hookline_store_sqlite::open(&path).await?;
    let stored: BTreeSet<String> = sqlx::query_scalar("SELECT message_id FROM queue_messages")
        .fetch_all(&pool)
        .await?
        .into_iter()
        .collect();
    let lost: Vec<&String> = acked.difference(&stored).take(5).collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
    Ok(())
}

#[tokio::test]
async fn a_poison_message_reaches_the_dlq_marked_failed() -> anyhow::Result<()> {
    run(Backend::Sqlite, |db: TestDb| async move {
        let pool = db.sqlite_pool().ok_or(anyhow::anyhow!("sqlite"))?.clone();
        let (main, dlq) = QueueDb::new(pool)
            .queue_with_dlq("work", Duration::from_secs(60), 3)
            .await?;
        let body = stamped(event("Stop")?, "poison", 1);
        main.send(&OutMessage {
            body: record("poison", body)?.body,
            attributes: Default::default(),
        })
        .await?;
        // A store that panics on every record: a poison message.
        let store = Faulty::new(db.store_arc(), Fault::Panic, |_| true);
        let cfg = WorkerConfig {
            max_receive_count: 3,
        };
        // The worker loop: failed records become visible again at once.
        for _ in 0..4 {
            for m in main.receive(10, Duration::from_secs(1)).await? {
                let rec = QueueRecord {
                    message_id: m.message_id.clone(),
                    body: m.body.clone(),
                    receive_count: m.receive_count,
                    sent_at: m.sent_at,
                    request_id_attr: None,
                };
                if process_batch(&store, &cfg, &[rec]).await.is_empty() {
                    main.delete(&m.receipt).await?;
                } else {
                    main.change_visibility(&m.receipt, Duration::ZERO).await?;
                }
            }
        }
        assert_eq!(main.depth().await?, 0);
        assert_eq!(dlq.depth().await?, 1, "moved on the fourth receive");
        assert_eq!(db.status_of("poison").await?, "FAILED");
        assert_eq!(
            db.count("webhook_event_attempts", "status = 'RETRYING'")
                .await?,
            2
        );
        assert_eq!(
            db.count("webhook_event_attempts", "status = 'FAILED'")
                .await?,
            1
        );
        Ok(())
    })
    .await
}
