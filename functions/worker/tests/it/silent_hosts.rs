//! The silence alarm's two halves on real Postgres (`#[sqlx::test]`,
//! `DATABASE_URL`): heartbeats that arrive through the Lambda SQS event
//! fill `hosts`, and the scheduled check finds the host whose last
//! heartbeat is older than the threshold, not the live one, and emits the
//! metric line the alarm watches.

use chrono::{DateTime, Duration, Utc};
use hookline_core::worker::WorkerConfig;
use hookline_store_postgres::PgStore;
use hookline_worker::{Invocation, check_silent_hosts, handle};
use serde_json::{Value, json};
use sqlx::PgPool;

/// A queue message body of `kind` from `user`@`host`, captured at `at`,
/// flagged as a heartbeat.
fn heartbeat(request_id: &str, user: &str, host: &str, at: DateTime<Utc>, kind: &str) -> String {
    json!({
        "type": "hook_event.v1",
        "request_id": request_id,
        "received_at": at.to_rfc3339(),
        "principal": "team",
        "payload": {"encoding": "json", "data": {
            "session_id": format!("s-{request_id}"), "transcript_path": "/t.jsonl", "cwd": "/w",
            "hook_event_name": kind, "source": "startup",
            "hookline": {"v": 1, "request_id": request_id, "captured_at": at.to_rfc3339(),
                "client": {"name": "hookline-hook", "version": "0.1.0"},
                "user": user, "host": host, "heartbeat": true}
        }}
    })
    .to_string()
}

fn sqs_event(bodies: &[(&str, String)]) -> anyhow::Result<Invocation> {
    let records: Vec<Value> = bodies
        .iter()
        .map(|(id, body)| {
            json!({"messageId": id, "receiptHandle": format!("rh-{id}"), "body": body,
                "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                "eventSource": "aws:sqs"})
        })
        .collect();
    Invocation::parse(json!({ "Records": records })).map_err(anyhow::Error::msg)
}

#[sqlx::test(migrator = "hookline_store_postgres::MIGRATOR")]
async fn the_scheduled_check_finds_the_silent_host_and_not_the_live_one(
    pool: PgPool,
) -> anyhow::Result<()> {
    let store = PgStore::new(pool.clone());
    let now = Utc::now();
    let Invocation::Batch(batch) = sqs_event(&[
        (
            "m1",
            heartbeat(
                "00000000-0000-7000-8000-000000000001",
                "alice",
                "laptop",
                now - Duration::hours(2),
                "SessionStart",
            ),
        ),
        (
            "m2",
            heartbeat(
                "00000000-0000-7000-8000-000000000002",
                "bob",
                "desk",
                now - Duration::hours(30),
                "SessionStart",
            ),
        ),
        // An older heartbeat of alice arriving late changes nothing.
        (
            "m3",
            heartbeat(
                "00000000-0000-7000-8000-000000000003",
                "alice",
                "laptop",
                now - Duration::hours(50),
                "Stop",
            ),
        ),
    ])?
    else {
        anyhow::bail!("not a batch");
    };
    let resp = handle(&store, &WorkerConfig::default(), batch).await;
    assert!(resp.batch_item_failures.is_empty(), "{resp:?}");
    let rows: Vec<(String, String, DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
        "SELECT user_name, host, first_seen, last_seen FROM hosts ORDER BY user_name",
    )
    .fetch_all(&pool)
    .await?;
    assert_eq!(rows.len(), 2);
    let micros = |t: DateTime<Utc>| t.timestamp_micros();
    assert_eq!(
        (micros(rows[0].2), micros(rows[0].3)),
        (
            micros(now - Duration::hours(50)),
            micros(now - Duration::hours(2))
        ),
        "first_seen the earliest heartbeat, last_seen the latest"
    );

    let (report, line) = check_silent_hosts(&store, now, Duration::hours(24), "hl-test").await?;
    let silent: Vec<(&str, &str)> = report
        .silent_hosts()
        .iter()
        .map(|h| (h.row.user_name.as_str(), h.row.host.as_str()))
        .collect();
    assert_eq!(silent, [("bob", "desk")]);
    assert_eq!((report.total, report.live), (2, 1));
    assert_eq!(line["SilentHosts"], 1);
    assert_eq!(line["Hosts"], 2);
    assert_eq!(line["Stack"], "hl-test");
    assert_eq!(
        line["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "hookline"
    );
    assert_eq!(
        line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
        "SilentHosts"
    );

    // With a longer threshold nobody is silent.
    let (report, line) = check_silent_hosts(&store, now, Duration::hours(48), "hl-test").await?;
    assert_eq!((report.silent, line["SilentHosts"].as_u64()), (0, Some(0)));
    Ok(())
}

#[test]
fn the_schedule_input_and_sqs_events_are_told_apart() {
    assert!(matches!(
        Invocation::parse(json!({"hookline_check": "silent-hosts"})),
        Ok(Invocation::SilentHostsCheck)
    ));
    assert!(Invocation::parse(json!({"hookline_check": "other"})).is_err());
    assert!(matches!(
        Invocation::parse(json!({"Records": []})),
        Ok(Invocation::Batch(_))
    ));
}
