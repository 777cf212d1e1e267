//! End to end on the local AWS stack, exactly as a user runs it: events
//! POSTed to the ingest function URL served by `cargo lambda watch`, through
//! LocalStack SQS, processed by the worker (invoked through `cargo lambda
//! watch` by `hookline dev poll`), into Postgres.
//!
//! Needs the stack up; `scripts/test` starts it and runs this with
//! `--ignored`. Environment: `HOOKLINE_E2E_URL` (the function URL base,
//! e.g. http://127.0.0.1:9000/lambda-url/hookline-ingest), `HOOKLINE_E2E_TOKEN`,
//! `HOOKLINE_QUEUE_URL`, `DATABASE_URL` (the database the worker writes),
//! `HOOKLINE_E2E_WATCH_LOG` (cargo lambda watch's output).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use hookline_core::queue::Queue;
use hookline_core::queue::sqs::{Purpose, SqsQueue, client};
use serde_json::Value;
use sqlx::postgres::PgPoolOptions;

const KINDS: [&str; 12] = [
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "Notification",
    "SubagentStart",
    "SubagentStop",
    "PreCompact",
    "Stop",
    "SessionEnd",
    "PermissionRequest",
];

fn env(k: &str) -> anyhow::Result<String> {
    std::env::var(k).map_err(|_| anyhow::anyhow!("{k} is not set: run this through scripts/test"))
}

#[tokio::test]
#[ignore = "needs the local AWS stack; scripts/test runs it"]
async fn every_event_kind_flows_from_the_function_url_to_postgres() -> anyhow::Result<()> {
    let (url, token, queue_url, db) = (
        env("HOOKLINE_E2E_URL")?,
        env("HOOKLINE_E2E_TOKEN")?,
        env("HOOKLINE_QUEUE_URL")?,
        env("DATABASE_URL")?,
    );
    let session = format!("e2e-{}", uuid::Uuid::new_v4().simple());
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/events");
    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    for kind in KINDS {
        let mut body: Value = serde_json::from_str(&std::fs::read_to_string(
            fixtures.join(format!("{kind}.json")),
        )?)?;
        body["session_id"] = Value::String(session.clone());
        let request_id = format!("{session}-{kind}");
        let resp = http
            .post(format!("{url}/v1/events"))
            .bearer_auth(&token)
            .header("x-request-id", &request_id)
            .json(&body)
            .send()
            .await?;
        assert_eq!(
            resp.status().as_u16(),
            202,
            "{kind}: {}",
            resp.text().await?
        );
        ids.push(request_id);
    }

    // The request id travels as an SQS message attribute. Peek at the
    // messages (kept invisible while peeking, so each is seen once), then
    // make them visible again for the poller.
    let queue = SqsQueue::new(client(Purpose::Poll).await, queue_url.clone());
    let mut seen = Vec::new();
    let mut receipts = Vec::new();
    for _ in 0..20 {
        for m in queue.receive(10, Duration::from_secs(1)).await? {
            if let Some(id) = m.attributes.get("request_id") {
                seen.push(id.clone());
            }
            receipts.push(m.receipt);
        }
        if ids.iter().all(|i| seen.contains(i)) {
            break;
        }
    }
    for r in &receipts {
        queue.change_visibility(r, Duration::ZERO).await?;
    }
    assert!(
        ids.iter().all(|i| seen.contains(i)),
        "every request id is an SQS attribute: saw {seen:?}"
    );

    // The poller invokes the worker through cargo lambda watch.
    let poll = Command::new(env!("CARGO_BIN_EXE_hookline"))
        .args([
            "dev",
            "poll",
            "--until-empty",
            "--wait",
            "2",
            "--queue-url",
            &queue_url,
        ])
        .status()?;
    assert!(poll.success(), "hookline dev poll failed");

    let pool = PgPoolOptions::new().max_connections(1).connect(&db).await?;
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT request_id, status FROM webhook_events WHERE session_id = $1 ORDER BY request_id",
    )
    .bind(&session)
    .fetch_all(&pool)
    .await?;
    assert_eq!(rows.len(), KINDS.len(), "{rows:?}");
    assert!(rows.iter().all(|(_, s)| s == "SUCCESS"), "{rows:?}");
    let (title, reason, tools): (Option<String>, Option<String>, i32) = sqlx::query_as(
        "SELECT title, end_reason, tool_use_count FROM conversations WHERE session_id = $1",
    )
    .bind(&session)
    .fetch_one(&pool)
    .await?;
    assert_eq!(
        title.as_deref(),
        Some("Write a function to calculate the factorial of a number")
    );
    assert_eq!(reason.as_deref(), Some("other"));
    assert_eq!(tools, 2);

    // The same request id is in the ingest function's log line.
    let log = std::fs::read_to_string(env("HOOKLINE_E2E_WATCH_LOG")?)?;
    for id in &ids {
        assert!(
            log.lines()
                .any(|l| l.contains("event queued") && l.contains(id.as_str())),
            "ingest logged request id {id}"
        );
    }
    assert!(!log.contains(&token), "the token never reaches a log");
    Ok(())
}
