//! The Lambda wiring: a real SQS event JSON in, a `SqsBatchResponse` out,
//! against a real Postgres (`#[sqlx::test]`, `DATABASE_URL`).

use aws_lambda_events::event::sqs::SqsEvent;
use hookline_core::worker::WorkerConfig;
use hookline_store_postgres::PgStore;
use serde_json::json;
use sqlx::PgPool;

fn body(request_id: &str, session_id: &str) -> String {
    json!({
        "type": "hook_event.v1",
        "request_id": request_id,
        "received_at": "2026-11-29T03:40:00Z",
        "payload": {"encoding": "json", "data": {
            "session_id": session_id,
            "transcript_path": "/t.jsonl",
            "cwd": "/w",
            "hook_event_name": "SessionStart",
            "source": "startup"
        }}
    })
    .to_string()
}

/// An SQS event as Lambda's event source mapping delivers it.
fn sqs_event(records: &[(&str, String, &str)]) -> anyhow::Result<SqsEvent> {
    let records: Vec<_> = records
        .iter()
        .map(|(id, body, receives)| {
            json!({
                "messageId": id,
                "receiptHandle": format!("rh-{id}"),
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": receives,
                    "SentTimestamp": "1796010000000",
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": "1796010000100"
                },
                "messageAttributes": {
                    "request_id": {"stringValue": id, "dataType": "String"}
                },
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:hookline-events",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    Ok(serde_json::from_value(json!({ "Records": records }))?)
}

#[sqlx::test(migrator = "hookline_store_postgres::MIGRATOR")]
async fn a_batch_reports_no_failures_and_writes_rows(pool: PgPool) -> anyhow::Result<()> {
    let store = PgStore::new(pool.clone());
    let event = sqs_event(&[("m1", body("r1", "s1"), "1"), ("m2", body("r2", "s2"), "1")])?;
    let response = hookline_worker::handle(&store, &WorkerConfig::default(), event).await;
    assert!(response.batch_item_failures.is_empty());
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM conversations")
        .fetch_one(&pool)
        .await?;
    assert_eq!(n, 2);
    let enqueued: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT enqueued_at FROM webhook_events WHERE request_id = 'r1'")
            .fetch_one(&pool)
            .await?;
    assert_eq!(
        enqueued.map(|t| t.timestamp_millis()),
        Some(1_796_010_000_000),
        "SentTimestamp kept"
    );
    Ok(())
}

#[sqlx::test(migrator = "hookline_store_postgres::MIGRATOR")]
async fn an_unreachable_database_reports_every_record_for_redelivery(
    pool: PgPool,
) -> anyhow::Result<()> {
    // A pool pointing at a port where nothing listens.
    let dead = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_millis(500))
        .connect_lazy("postgres://postgres@127.0.0.1:9/none")?;
    let store = PgStore::new(dead);
    let event = sqs_event(&[("m1", body("r1", "s1"), "1"), ("m2", body("r2", "s2"), "2")])?;
    let response = hookline_worker::handle(&store, &WorkerConfig::default(), event).await;
    let ids: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(ids, ["m1", "m2"]);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_events")
        .fetch_one(&pool)
        .await?;
    assert_eq!(n, 0, "nothing could be written anywhere");
    Ok(())
}
