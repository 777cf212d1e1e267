//! What a valid event becomes in the queue the Lambda function sends to:
//! the real router in front of SQS (LocalStack at `AWS_ENDPOINT_URL`,
//! default http://127.0.0.1:4566, started by scripts/test): attributes,
//! request ids, the envelope. Each test gets its own queue.

use axum::body::Body;
use axum::http::StatusCode;
use hookline_core::envelope::{Payload, QueueMessage};
use serde_json::{Value, json};

use crate::{TOKEN, TestQueue, event, post, send, state};

#[tokio::test]
async fn a_valid_event_is_queued_with_its_request_id_trace_and_principal() -> anyhow::Result<()> {
    let q = TestQueue::sqs("ingest-test").await?;
    let st = state(q.queue())?;
    let req = post("/v1/events")
        .header("x-request-id", "req-123")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .header("x-forwarded-for", "203.0.113.7, 10.0.0.1")
        .header("x-hookline-client", "hookline-hook/0.1.0")
        .body(Body::from(event().to_string()))?;
    let (status, body) = send(&st, req).await?;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body, json!({"request_id": "req-123", "status": "queued"}));

    let msgs = q.drain().await?;
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    assert_eq!(
        m.attributes.get("request_id").map(String::as_str),
        Some("req-123")
    );
    assert_eq!(
        m.attributes.get("trace_id").map(String::as_str),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    assert_eq!(
        m.attributes.get("event_type").map(String::as_str),
        Some("UserPromptSubmit")
    );
    assert!(!m.body.contains(TOKEN), "the token never reaches the queue");
    let env = QueueMessage::decode(&m.body)?;
    let env = env.envelope();
    assert_eq!(env.principal.as_deref(), Some("alice"));
    assert_eq!(env.source_ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(env.span_id.as_deref(), Some("00f067aa0ba902b7"));
    assert_eq!(
        env.headers.get("authorization").map(String::as_str),
        Some("[REDACTED]")
    );
    assert!(env.invalid.is_none());
    assert_eq!(env.payload, Payload::Json(event()));
    Ok(())
}

#[tokio::test]
async fn the_request_id_comes_from_the_hook_when_no_header_and_is_minted_otherwise()
-> anyhow::Result<()> {
    let q = TestQueue::sqs("ingest-test").await?;
    let st = state(q.queue())?;
    let mut body = event();
    body["hookline"] = json!({"v": 1, "request_id": "01938f0e-8c6e-7d2a-9a51-0f4c2b1e7a10",
        "captured_at": "2026-11-29T03:40:00Z", "client": {"name": "hookline-hook", "version": "0.1.0"}});
    let (status, answer) = send(
        &st,
        post("/api/claude-hooks").body(Body::from(body.to_string()))?,
    )
    .await?;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["request_id"], "01938f0e-8c6e-7d2a-9a51-0f4c2b1e7a10");
    let (_, minted) = send(
        &st,
        post("/v1/events").body(Body::from(event().to_string()))?,
    )
    .await?;
    let id = minted["request_id"].as_str().unwrap_or_default();
    assert_eq!(
        uuid::Uuid::parse_str(id)?.get_version_num(),
        7,
        "a new request id is a UUID v7"
    );
    Ok(())
}

#[tokio::test]
async fn native_http_hooks_get_204_with_an_empty_body() -> anyhow::Result<()> {
    let q = TestQueue::sqs("ingest-test").await?;
    let st = state(q.queue())?;
    let (status, body) = send(&st, post("/v1/hook").body(Body::from(event().to_string()))?).await?;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    assert_eq!(q.drain().await?.len(), 1);
    Ok(())
}
