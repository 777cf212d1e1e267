//! `hookline dlq` as an operator runs it: the real binary against real
//! LocalStack SQS + Postgres, and against the embedded queue + SQLite of
//! `hookline serve`. A poisoned event (the store fails for it until the
//! "fix") reaches the DLQ; `dlq list` shows it with the error; a dry run
//! moves nothing; a filtered replay moves only the matching messages; after
//! the fix the replayed events end SUCCESS exactly once.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hookline_core::error::StoreError;
use hookline_core::poller::{InProcess, Poller};
use hookline_core::queue::sqs::{Purpose, SqsQueue, client};
use hookline_core::queue::{OutMessage, Queue};
use hookline_core::store::{AuditRecord, Failure, Outcome, Store, Work};
use hookline_core::worker::WorkerConfig;
use hookline_queue_sqlite::QueueDb;
use hookline_store_postgres::PgStore;
use hookline_store_sqlite::SqliteStore;
use serde_json::{Value, json};
use sqlx::PgPool;

/// A store that fails (transiently) for request ids starting with
/// `poison` until `broken` is cleared: the cause, then the fix.
struct Poisoned<S> {
    inner: S,
    broken: Arc<AtomicBool>,
}

#[async_trait::async_trait]
impl<S: Store> Store for Poisoned<S> {
    async fn apply(&self, a: &AuditRecord, w: Work<'_>, t: Instant) -> Result<Outcome, StoreError> {
        if self.broken.load(Ordering::SeqCst) && a.request_id.starts_with("poison") {
            return Err(StoreError::transient(format!(
                "simulated outage for {}",
                a.request_id
            )));
        }
        self.inner.apply(a, w, t).await
    }
    async fn record_failure(&self, a: &AuditRecord, f: &Failure<'_>) -> Result<(), StoreError> {
        self.inner.record_failure(a, f).await
    }
}

fn message(request_id: &str, kind: &str, session: &str) -> OutMessage {
    let mut data = json!({"session_id": session, "transcript_path": "/t", "cwd": "/w",
        "hook_event_name": kind});
    match kind {
        "SessionStart" => data["source"] = json!("startup"),
        _ => data["prompt"] = json!(format!("prompt of {request_id}")),
    }
    let body = json!({"type": "hook_event.v1", "request_id": request_id,
        "received_at": "2026-11-29T03:40:00Z", "payload": {"encoding": "json", "data": data}});
    OutMessage {
        body: body.to_string(),
        attributes: [
            ("request_id".to_owned(), request_id.to_owned()),
            ("event_type".to_owned(), kind.to_owned()),
        ]
        .into(),
    }
}

/// Runs `hookline` with `env` (and without the variables in `remove`).
fn hookline(env: &[(&str, String)], remove: &[&str], args: &[&str]) -> anyhow::Result<String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hookline"));
    cmd.args(args);
    for k in remove {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output()?;
    anyhow::ensure!(
        out.status.success(),
        "hookline {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
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

    let broken = Arc::new(AtomicBool::new(true));
    let store = Poisoned {
        inner: PgStore::new(pool.clone()),
        broken: broken.clone(),
    };
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

    let o = pool.connect_options();
    let db_url = format!(
        "postgres://{}@{}:{}/{}",
        o.get_username(),
        o.get_host(),
        o.get_port(),
        o.get_database().unwrap_or_default()
    );
    let env = [
        ("DATABASE_URL", db_url),
        ("HOOKLINE_QUEUE_URL", main_url.clone()),
        ("HOOKLINE_DLQ_URL", dlq_url.clone()),
    ];
    let run = |args: &[&str]| hookline(&env, &[], args);

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
    let broken = Arc::new(AtomicBool::new(true));
    let poller = Poller {
        queue: main.clone(),
        invoker: Arc::new(InProcess {
            store: Arc::new(Poisoned {
                inner: store.clone(),
                broken: broken.clone(),
            }),
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
    let remove = ["DATABASE_URL", "HOOKLINE_QUEUE_URL", "HOOKLINE_DLQ_URL"];
    let run = |args: &[&str]| hookline(&env, &remove, args);
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
    Ok(())
}
