//! `hookline dlq` as an operator runs it: the real binary against real
//! LocalStack SQS + Postgres, and against the embedded queue + SQLite of
//! `hookline serve`. A poisoned event (the store fails for it until the
//! "fix") reaches the DLQ; `dlq list` shows it with the error; a dry run
//! moves nothing; a filtered replay moves only the matching messages; after
//! the fix the replayed events end SUCCESS exactly once.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use hookline_core::poller::{InProcess, Poller};
use hookline_core::queue::sqs::{Purpose, SqsQueue, client};
use hookline_core::queue::{OutMessage, Queue};
use hookline_core::store::Store;
use hookline_core::worker::WorkerConfig;
use hookline_queue_sqlite::QueueDb;
use hookline_store_postgres::PgStore;
use hookline_store_sqlite::SqliteStore;
use hookline_test_support::db::pg_url;
use hookline_test_support::events;
use hookline_test_support::stores::{Fault, Faulty};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::hookline;

/// A SessionStart, or a prompt, of `session` as ingest queues it.
fn message(request_id: &str, kind: &str, session: &str) -> OutMessage {
    let data = match kind {
        "SessionStart" => events::event(session, kind),
        _ => events::prompt(session, &format!("prompt of {request_id}")),
    };
    events::message(request_id, data)
}

/// Poisoned: the store fails (transiently) for request ids starting with
/// `poison` until its switch is cleared: the cause, then the fix.
fn poisoned(inner: Arc<dyn Store>) -> Faulty {
    Faulty::new(inner, Fault::Transient, |id| id.starts_with("poison"))
}

fn listed(json_out: &str) -> anyhow::Result<Vec<Value>> {
    Ok(serde_json::from_str::<Vec<Value>>(json_out)?)
}

fn ids(list: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = list
        .iter()
        .filter_map(|m| m["request_id"].as_str().map(str::to_owned))
        .collect();
    v.sort();
    v
}

/// Polls until `done` holds or 40 s pass.
async fn poll_until(
    poller: &Poller,
    mut done: impl AsyncFnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(40);
    while !done().await? {
        anyhow::ensure!(Instant::now() < deadline, "timed out");
        poller.poll_once().await.map_err(anyhow::Error::msg)?;
    }
    Ok(())
}

/// (status, SUCCESS attempts, REPLAYED attempts) of a request, via SQL.
async fn pg_state(pool: &PgPool, id: &str) -> anyhow::Result<(String, i64, i64)> {
    let status: String =
        sqlx::query_scalar("SELECT status FROM webhook_events WHERE request_id = $1")
            .bind(id)
            .fetch_one(pool)
            .await?;
    let n = |s: &'static str| {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM webhook_event_attempts WHERE request_id = $1 AND status = $2",
        )
        .bind(id)
        .bind(s)
        .fetch_one(pool)
    };
    Ok((status, n("SUCCESS").await?, n("REPLAYED").await?))
}

#[sqlx::test(migrator = "hookline_store_postgres::MIGRATOR")]
async fn sqs_poisoned_events_reach_the_dlq_and_replay_to_success_exactly_once(
    pool: PgPool,
) -> anyhow::Result<()> {
    let sqs = client(Purpose::Poll).await;
    let sfx = uuid::Uuid::new_v4().simple().to_string();
    let dlq_name = format!("ops-{sfx}-dlq");
    let dlq_url = sqs
        .create_queue()
        .queue_name(&dlq_name)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("LocalStack SQS is needed (scripts/localstack-up): {e:?}"))?
        .queue_url
        .unwrap_or_default();
    let redrive = json!({"deadLetterTargetArn": format!("arn:aws:sqs:us-east-1:000000000000:{dlq_name}"),
        "maxReceiveCount": "2"});
    let main_url = sqs
        .create_queue()
        .queue_name(format!("ops-{sfx}"))
        .attributes("RedrivePolicy".into(), redrive.to_string())
        .attributes("VisibilityTimeout".into(), "1")
        .send()
        .await?
        .queue_url
        .unwrap_or_default();
    let main = Arc::new(SqsQueue::new(sqs.clone(), &main_url));
    let dlq = SqsQueue::new(sqs, &dlq_url);
    let (a, b) = (format!("poison-a-{sfx}"), format!("poison-b-{sfx}"));
    main.send(&message(&a, "SessionStart", &format!("s-a-{sfx}")))
        .await?;
    main.send(&message(&b, "UserPromptSubmit", &format!("s-b-{sfx}")))
        .await?;
    main.send(&message(
        &format!("healthy-{sfx}"),
        "SessionStart",
        &format!("s-h-{sfx}"),
    ))
    .await?;

    let store = poisoned(Arc::new(PgStore::new(pool.clone())));
    let broken = store.armed();
    let poller = Poller {
        queue: main.clone(),
        invoker: Arc::new(InProcess {
            store: Arc::new(store),
            cfg: WorkerConfig {
                max_receive_count: 2,
            },
        }),
        batch_size: 10,
        wait: Duration::from_millis(500),
        source_arn: "arn:aws:sqs:us-east-1:000000000000:ops".into(),
    };
    poll_until(&poller, async || {
        Ok(dlq.depth().await? >= 2 && main.depth().await? == 0)
    })
    .await?;

    let db_url = pg_url(&pool);
    let env = [
        ("DATABASE_URL", db_url),
        ("HOOKLINE_QUEUE_URL", main_url.clone()),
        ("HOOKLINE_DLQ_URL", dlq_url.clone()),
    ];
    let run = |args: &[&str]| hookline().run(&env, args);

    // See it: both poisoned events, with their error.
    let list = listed(&run(&["dlq", "list", "--json"])?)?;
    assert_eq!(ids(&list), [a.clone(), b.clone()]);
    for m in &list {
        assert_eq!(m["audit"]["status"], "FAILED");
        assert_eq!(m["audit"]["error_code"], "DB_TRANSIENT");
        assert!(
            m["audit"]["error_message"]
                .as_str()
                .is_some_and(|e| e.contains("simulated outage")),
            "{m}"
        );
    }
    let table = run(&["dlq", "list"])?;
    assert!(
        table.contains(&a) && table.contains("simulated outage"),
        "{table}"
    );
    let show = run(&["dlq", "show", &b])?;
    assert!(
        show.contains("RETRYING") && show.contains("FAILED"),
        "history shown: {show}"
    );

    // A dry run moves nothing.
    let dry = run(&["dlq", "replay", "--all", "--dry-run"])?;
    assert!(dry.contains("2 message(s) would move"), "{dry}");
    assert_eq!(
        ids(&listed(&run(&["dlq", "list", "--json"])?)?),
        [a.clone(), b.clone()]
    );

    // The fix, then a filtered replay: only the SessionStart event moves.
    broken.store(false, Ordering::SeqCst);
    let moved = run(&["dlq", "replay", "--event-type", "SessionStart"])?;
    assert!(moved.contains("replayed 1 message(s)"), "{moved}");
    assert_eq!(
        pg_state(&pool, &a).await?.0,
        "REPLAYED",
        "marked before it is reprocessed"
    );
    assert_eq!(
        ids(&listed(&run(&["dlq", "list", "--json"])?)?),
        std::slice::from_ref(&b)
    );
    poll_until(&poller, async || {
        Ok(pg_state(&pool, &a).await?.0 == "SUCCESS")
    })
    .await?;

    // The rest, with --all (StartMessageMoveTask on SQS).
    let all = run(&["dlq", "replay", "--all"])?;
    assert!(
        all.contains("replayed 1 message(s)") && all.contains("StartMessageMoveTask"),
        "{all}"
    );
    poll_until(&poller, async || {
        Ok(pg_state(&pool, &b).await?.0 == "SUCCESS")
    })
    .await?;
    for id in [&a, &b] {
        assert_eq!(
            pg_state(&pool, id).await?,
            ("SUCCESS".to_owned(), 1, 1),
            "{id}"
        );
    }
    assert!(listed(&run(&["dlq", "list", "--json"])?)?.is_empty());
    assert_eq!(main.depth().await?, 0);
    Ok(())
}

#[tokio::test]
async fn embedded_poisoned_events_reach_the_dlq_and_replay_to_success_exactly_once()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store =
        SqliteStore::new(hookline_store_sqlite::open(&dir.path().join("hookline.db")).await?);
    let qdb = QueueDb::new(hookline_store_sqlite::open(&dir.path().join("queue.db")).await?);
    let (main, dlq) = qdb
        .queue_with_dlq("hookline-events", Duration::from_secs(1), 2)
        .await?;
    let main = Arc::new(main);
    main.send(&message("poison-a", "SessionStart", "s-a"))
        .await?;
    main.send(&message("poison-b", "UserPromptSubmit", "s-b"))
        .await?;
    main.send(&message("healthy", "SessionStart", "s-h"))
        .await?;
    let faulty = poisoned(Arc::new(store.clone()));
    let broken = faulty.armed();
    let poller = Poller {
        queue: main.clone(),
        invoker: Arc::new(InProcess {
            store: Arc::new(faulty),
            cfg: WorkerConfig {
                max_receive_count: 2,
            },
        }),
        batch_size: 10,
        wait: Duration::from_millis(500),
        source_arn: "arn:hookline:serve:embedded".into(),
    };
    poll_until(&poller, async || Ok(dlq.depth().await? >= 2)).await?;

    let d = dir.path().display().to_string();
    let env = [
        ("HOOKLINE_DATA_DIR", d),
        ("HOOKLINE_MAX_RECEIVE_COUNT", "2".to_owned()),
        ("HOOKLINE_VISIBILITY_TIMEOUT", "1".to_owned()),
    ];
    let run = |args: &[&str]| hookline().run(&env, args);
    let state = async |id: &str| -> anyhow::Result<(String, i64)> {
        let status: String =
            sqlx::query_scalar("SELECT status FROM webhook_events WHERE request_id = ?1")
                .bind(id)
                .fetch_one(store.pool())
                .await?;
        let ok: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM webhook_event_attempts WHERE request_id = ?1 AND status = 'SUCCESS'",
        )
        .bind(id)
        .fetch_one(store.pool())
        .await?;
        Ok((status, ok))
    };

    let list = listed(&run(&["dlq", "list", "--json"])?)?;
    assert_eq!(ids(&list), ["poison-a", "poison-b"]);
    assert!(
        list.iter()
            .all(|m| m["audit"]["error_code"] == "DB_TRANSIENT")
    );

    let dry = run(&["dlq", "replay", "--session", "s-b", "--dry-run"])?;
    assert!(dry.contains("1 message(s) would move"), "{dry}");
    assert_eq!(dlq.depth().await?, 2, "a dry run moves nothing");

    broken.store(false, Ordering::SeqCst);
    let moved = run(&["dlq", "replay", "--session", "s-b"])?;
    assert!(moved.contains("replayed 1 message(s)"), "{moved}");
    assert_eq!(state("poison-b").await?.0, "REPLAYED");
    assert_eq!(
        ids(&listed(&run(&["dlq", "list", "--json"])?)?),
        ["poison-a"]
    );
    let all = run(&["dlq", "replay", "--all"])?;
    assert!(all.contains("replayed 1 message(s)"), "{all}");
    poll_until(&poller, async || {
        Ok(state("poison-a").await?.0 == "SUCCESS" && state("poison-b").await?.0 == "SUCCESS")
    })
    .await?;
    for id in ["poison-a", "poison-b", "healthy"] {
        assert_eq!(state(id).await?, ("SUCCESS".to_owned(), 1), "{id}");
    }
    assert_eq!(dlq.depth().await?, 0);

    // Purge: the count first, nothing deleted without --yes.
    dlq.send(&message("stray", "SessionStart", "s-x")).await?;
    let count = run(&["dlq", "purge"])?;
    assert!(
        count.contains("1 message(s)") && count.contains("nothing deleted"),
        "{count}"
    );
    assert_eq!(dlq.depth().await?, 1);
    assert!(run(&["dlq", "purge", "--yes"])?.contains("purged 1 message(s)"));
    assert_eq!(dlq.depth().await?, 0);

    // Each replay and the purge in the operator audit, as the OS user.
    let audit: Vec<Value> = serde_json::from_str(&run(&["audit", "--json"])?)?;
    let seen: Vec<(&str, i64)> = audit
        .iter()
        .filter_map(|r| Some((r["action"].as_str()?, r["count"].as_i64()?)))
        .collect();
    assert_eq!(seen, [("dlq.purge", 1), ("replay", 1), ("replay", 1)]);
    assert!(
        audit
            .iter()
            .all(|r| r["actor"].as_str().is_some_and(|a| a.starts_with("cli:")))
    );
    assert_eq!(audit[2]["detail"]["session"], "s-b");
    let table = run(&["audit", "--action", "replay"])?;
    assert!(table.contains("2 operation(s)"), "{table}");
    Ok(())
}
