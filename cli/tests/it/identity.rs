//! Identity and the silence alarm as an operator sees them, on Postgres
//! and SQLite alike: `hookline sessions list --user/--host` filters the
//! conversations by who and where, and `hookline events stats` lists the
//! hook installs whose last heartbeat is older than `--silent-after`. The
//! rows are written by the real worker from queue records.

use chrono::{DateTime, Duration, Utc};
use hookline_core::store::Store;
use hookline_core::worker::{QueueRecord, WorkerConfig, process_batch};
use hookline_store_postgres::PgStore;
use hookline_store_sqlite::SqliteStore;
use hookline_test_support::db::pg_url;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::hookline;

/// A SessionStart of `session` by `user`@`host`, captured `at`, flagged as
/// the hook's heartbeat.
fn record(n: usize, session: &str, user: &str, host: &str, at: DateTime<Utc>) -> QueueRecord {
    let request_id = format!("00000000-0000-7000-8000-{n:012}");
    let body = json!({
        "type": "hook_event.v1", "request_id": request_id, "received_at": at.to_rfc3339(),
        "principal": "team",
        "payload": {"encoding": "json", "data": {
            "session_id": session, "transcript_path": "/t.jsonl", "cwd": "/w",
            "hook_event_name": "SessionStart", "source": "startup",
            "hookline": {"v": 1, "request_id": request_id, "captured_at": at.to_rfc3339(),
                "client": {"name": "hookline-hook", "version": "0.1.0"},
                "user": user, "host": host, "heartbeat": true}
        }}
    });
    QueueRecord {
        message_id: format!("m{n}"),
        body: body.to_string(),
        receive_count: 1,
        sent_at: Some(at),
        request_id_attr: Some(request_id),
    }
}

/// Three sessions: alice on two machines, bob on one that went silent 30 h ago.
fn records(now: DateTime<Utc>) -> Vec<QueueRecord> {
    vec![
        record(
            1,
            "s-alice-laptop",
            "alice",
            "laptop",
            now - Duration::hours(1),
        ),
        record(2, "s-alice-desk", "alice", "desk", now - Duration::hours(3)),
        record(3, "s-bob-desk", "bob", "old-box", now - Duration::hours(30)),
    ]
}

async fn fill(store: &dyn Store, now: DateTime<Utc>) -> anyhow::Result<()> {
    let failed = process_batch(store, &WorkerConfig::default(), &records(now)).await;
    anyhow::ensure!(failed.is_empty(), "records failed: {failed:?}");
    Ok(())
}

fn sessions(env: &[(&str, String)], filter: &[&str]) -> anyhow::Result<Vec<String>> {
    let mut args = vec!["sessions", "list", "--json"];
    args.extend(filter);
    let list: Value = serde_json::from_str(&hookline().run(env, &args)?)?;
    let mut ids: Vec<String> = list
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s["session_id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    Ok(ids)
}

#[sqlx::test(migrator = "hookline_store_postgres::MIGRATOR")]
async fn sessions_list_filters_by_user_and_host_on_both_stores(pool: PgPool) -> anyhow::Result<()> {
    let now = Utc::now();
    let dir = tempfile::tempdir()?;
    let lite = hookline_store_sqlite::open(&dir.path().join("hookline.db")).await?;
    fill(&PgStore::new(pool.clone()), now).await?;
    fill(&SqliteStore::new(lite), now).await?;
    for env in [
        vec![("DATABASE_URL", pg_url(&pool))],
        vec![("HOOKLINE_DATA_DIR", dir.path().display().to_string())],
    ] {
        assert_eq!(sessions(&env, &[])?.len(), 3);
        assert_eq!(
            sessions(&env, &["--user", "alice"])?,
            ["s-alice-desk", "s-alice-laptop"]
        );
        assert_eq!(sessions(&env, &["--host", "desk"])?, ["s-alice-desk"]);
        assert_eq!(
            sessions(&env, &["--user", "alice", "--host", "laptop"])?,
            ["s-alice-laptop"]
        );
        assert!(sessions(&env, &["--user", "bob", "--host", "laptop"])?.is_empty());
        let table = hookline().run(&env, &["sessions", "list", "--user", "bob"])?;
        assert!(table.contains("bob@old-box"), "{table}");
        // A deep page by cursor: older than the newest session, the other two.
        let newest: Value = serde_json::from_str(
            &hookline().run(&env, &["sessions", "list", "--json", "--limit", "1"])?,
        )?;
        let cursor = format!(
            "{},{}",
            newest[0]["started_at"].as_str().unwrap_or_default(),
            newest[0]["session_id"].as_str().unwrap_or_default()
        );
        assert_eq!(newest[0]["session_id"], "s-alice-laptop");
        assert_eq!(
            sessions(&env, &["--before", &cursor])?,
            ["s-alice-desk", "s-bob-desk"]
        );
        assert_eq!(sessions(&env, &["--after", &cursor])?, Vec::<String>::new());
        let bad = hookline().run(&env, &["sessions", "list", "--before", "nope"]);
        assert!(
            bad.as_ref()
                .is_err_and(|e| e.to_string().contains("STARTED_AT,SESSION_ID")),
            "{bad:?}"
        );
    }
    Ok(())
}

fn silent(stats: &Value) -> Vec<(String, String)> {
    stats["hosts"]["hosts"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|h| h["silent"] == true)
                .map(|h| {
                    let s = |k: &str| h[k].as_str().unwrap_or_default().to_owned();
                    (s("user_name"), s("host"))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[sqlx::test(migrator = "hookline_store_postgres::MIGRATOR")]
async fn events_stats_lists_the_silent_host_and_not_the_live_ones(
    pool: PgPool,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let dir = tempfile::tempdir()?;
    let lite = hookline_store_sqlite::open(&dir.path().join("hookline.db")).await?;
    fill(&PgStore::new(pool.clone()), now).await?;
    fill(&SqliteStore::new(lite), now).await?;
    let mut answers = Vec::new();
    for env in [
        vec![("DATABASE_URL", pg_url(&pool))],
        vec![("HOOKLINE_DATA_DIR", dir.path().display().to_string())],
    ] {
        let stats: Value =
            serde_json::from_str(&hookline().run(&env, &["events", "stats", "--json"])?)?;
        assert_eq!(silent(&stats), [("bob".into(), "old-box".into())]);
        assert_eq!(
            (
                stats["hosts"]["total"].as_u64(),
                stats["hosts"]["live"].as_u64(),
                stats["hosts"]["silent"].as_u64()
            ),
            (Some(3), Some(2), Some(1))
        );
        let longer: Value = serde_json::from_str(
            &hookline().run(&env, &["events", "stats", "--silent-after", "2d", "--json"])?,
        )?;
        assert!(silent(&longer).is_empty(), "30 h is not 2 days");
        let shorter: Value = serde_json::from_str(
            &hookline().run(&env, &["events", "stats", "--silent-after", "2h", "--json"])?,
        )?;
        assert_eq!(silent(&shorter).len(), 2, "desk (3 h) and old-box");
        let text = hookline().run(&env, &["events", "stats"])?;
        assert!(
            text.contains("3 hook installs, 2 live, 1 silent") && text.contains("old-box"),
            "{text}"
        );
        // Each run reads the clock itself: the silent time may differ by a
        // second between the two; everything else must be equal.
        let mut hosts = stats["hosts"]["hosts"].clone();
        if let Some(list) = hosts.as_array_mut() {
            for h in list {
                if let Some(h) = h.as_object_mut() {
                    h.remove("silent_for_secs");
                }
            }
        }
        answers.push(hosts);
    }
    assert_eq!(answers[0], answers[1], "both stores answer alike");
    Ok(())
}
