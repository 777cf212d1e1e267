//! The ingest HTTP contract, through the real router and a real queue
//! (LocalStack SQS at `AWS_ENDPOINT_URL`, default http://127.0.0.1:4566,
//! started by scripts/test). Each test gets its own queue.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use futures::StreamExt;
use hookline_core::envelope::{Payload, QueueMessage};
use hookline_core::http::{IngestState, TokenSet, app, hash_hex};
use hookline_core::queue::sqs::{Purpose, SqsQueue, client, client_at};
use hookline_core::queue::{Queue, Received};
use serde_json::{Value, json};
use tower::ServiceExt;

const TOKEN: &str = "hl_test_token_0123456789";

fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| "http://127.0.0.1:4566".into())
}

async fn new_queue() -> anyhow::Result<SqsQueue> {
    let client = client(Purpose::Poll).await;
    let name = format!("ingest-test-{}", uuid::Uuid::new_v4().simple());
    let out = client
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "LocalStack SQS at {} is needed (scripts/localstack-up): {e:?}",
                endpoint()
            )
        })?;
    Ok(SqsQueue::new(client, out.queue_url.unwrap_or_default()))
}

fn state(queue: Arc<dyn Queue>) -> anyhow::Result<IngestState> {
    let tokens = TokenSet::parse(&format!("alice:{}", hash_hex(TOKEN)))?;
    Ok(IngestState {
        queue,
        tokens: Arc::new(tokens),
        max_body: 64 * 1024,
        body_timeout: hookline_core::http::DEFAULT_BODY_TIMEOUT,
    })
}

fn event() -> Value {
    json!({"session_id": "s-1", "transcript_path": "/t.jsonl", "cwd": "/w",
           "hook_event_name": "UserPromptSubmit", "prompt": "hello"})
}

fn post(path: &str) -> axum::http::request::Builder {
    Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, "application/json")
}

async fn send(st: &IngestState, req: Request<Body>) -> anyhow::Result<(StatusCode, Value)> {
    let resp = app(st.clone()).oneshot(req).await?;
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await?;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)?
    };
    Ok((status, body))
}

async fn drain(q: &SqsQueue) -> anyhow::Result<Vec<Received>> {
    let mut all = Vec::new();
    loop {
        let got = q.receive(10, Duration::from_secs(1)).await?;
        if got.is_empty() {
            return Ok(all);
        }
        for m in &got {
            q.delete(&m.receipt).await?;
        }
        all.extend(got);
    }
}

#[tokio::test]
async fn a_valid_event_is_queued_with_its_request_id_trace_and_principal() -> anyhow::Result<()> {
    let q = new_queue().await?;
    let st = state(Arc::new(q.clone()))?;
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

    let msgs = drain(&q).await?;
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
    let q = new_queue().await?;
    let st = state(Arc::new(q.clone()))?;
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
    let q = new_queue().await?;
    let st = state(Arc::new(q.clone()))?;
    let (status, body) = send(&st, post("/v1/hook").body(Body::from(event().to_string()))?).await?;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    assert_eq!(drain(&q).await?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_401_without_detail_and_not_queued() -> anyhow::Result<()> {
    let q = new_queue().await?;
    let st = state(Arc::new(q.clone()))?;
    let mut bodies = Vec::new();
    for auth in [
        None,
        Some("Bearer wrong"),
        Some(format!("Basic {TOKEN}").as_str()),
        Some("Bearer"),
    ] {
        let mut req = Request::post("/v1/events").header(header::CONTENT_TYPE, "application/json");
        if let Some(a) = auth {
            req = req.header(header::AUTHORIZATION, a);
        }
        let (status, body) = send(&st, req.body(Body::from(event().to_string()))?).await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        bodies.push(body);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "the same answer whatever failed: {bodies:?}"
    );
    assert!(
        drain(&q).await?.is_empty(),
        "unauthenticated requests are logged only"
    );
    Ok(())
}

async fn refused(
    st: &IngestState,
    req: Request<Body>,
    want: StatusCode,
    code: &str,
) -> anyhow::Result<Value> {
    let (status, body) = send(st, req).await?;
    assert_eq!(status, want, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    Ok(body)
}

#[tokio::test]
async fn bad_requests_get_clear_4xx_and_leave_invalid_audit_records() -> anyhow::Result<()> {
    let q = new_queue().await?;
    let st = state(Arc::new(q.clone()))?;

    let body = refused(
        &st,
        post("/v1/events").body(Body::from("{not json"))?,
        StatusCode::BAD_REQUEST,
        "invalid_json",
    )
    .await?;
    assert_eq!(body["error"]["field"], "$");
    let body = refused(
        &st,
        post("/v1/events").body(Body::from("[1,2]"))?,
        StatusCode::BAD_REQUEST,
        "invalid_event",
    )
    .await?;
    assert_eq!(body["error"]["field"], "$");
    let mut e = event();
    e.as_object_mut().map(|o| o.remove("session_id"));
    e["prompt"] = json!(42);
    let body = refused(
        &st,
        post("/v1/events").body(Body::from(e.to_string()))?,
        StatusCode::BAD_REQUEST,
        "invalid_event",
    )
    .await?;
    assert_eq!(body["error"]["field"], "session_id");
    let fields: Vec<&str> = body["error"]["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["session_id", "prompt"], "every problem is listed");
    let mut long = event();
    long["session_id"] = json!("s".repeat(10_000));
    refused(
        &st,
        post("/v1/events").body(Body::from(long.to_string()))?,
        StatusCode::BAD_REQUEST,
        "invalid_event",
    )
    .await?;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    refused(
        &st,
        post("/v1/events").body(Body::from(deep))?,
        StatusCode::BAD_REQUEST,
        "invalid_json",
    )
    .await?;
    refused(
        &st,
        post("/v1/events").body(Body::from(vec![0xff, 0xfe, b'{']))?,
        StatusCode::BAD_REQUEST,
        "invalid_json",
    )
    .await?;
    let bad_id = post("/v1/events")
        .header("x-request-id", "no spaces allowed")
        .body(Body::from(event().to_string()))?;
    let body = refused(&st, bad_id, StatusCode::BAD_REQUEST, "invalid_event").await?;
    assert_eq!(body["error"]["field"], "X-Request-Id");
    let text = Request::post("/v1/events")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("hello"))?;
    refused(
        &st,
        text,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await?;
    let big = "x".repeat(65 * 1024);
    refused(
        &st,
        post("/v1/events").body(Body::from(big.clone()))?,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
    )
    .await?;
    // Without a Content-Length (a stream), the limit still holds.
    let stream = Body::from_stream(futures::stream::iter(
        (0..70).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1024])),
    ));
    refused(
        &st,
        post("/v1/events").body(stream)?,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
    )
    .await?;

    // Each authenticated refusal left an INVALID audit record in the queue.
    let msgs = drain(&q).await?;
    assert_eq!(msgs.len(), 10);
    for m in &msgs {
        let env = QueueMessage::decode(&m.body)?;
        let reasons = env.envelope().invalid.clone().unwrap_or_default();
        assert!(
            !reasons.is_empty(),
            "flagged invalid with reasons: {}",
            m.body.chars().take(300).collect::<String>()
        );
        assert!(!m.body.contains(TOKEN));
    }
    Ok(())
}

/// Found by scripts/chaos: a hook whose deadline cut its upload short got an
/// INVALID `body_too_large` record under its request id, so its resend of the
/// same event was taken for a duplicate and never stored.
#[tokio::test]
async fn an_upload_cut_short_records_nothing_and_its_resend_is_queued() -> anyhow::Result<()> {
    let q = new_queue().await?;
    let st = state(Arc::new(q.clone()))?;
    let id = "01938f0e-8c6e-7d2a-9a51-0f4c2b1e7a77";
    let full = event().to_string();
    let half = full.as_bytes()[..full.len() / 2].to_vec();
    let cut = Body::from_stream(futures::stream::iter(vec![
        Ok(half),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "the client went away",
        )),
    ]));
    refused(
        &st,
        post("/v1/events")
            .header("x-request-id", id)
            .header(header::CONTENT_LENGTH, full.len())
            .body(cut)?,
        StatusCode::REQUEST_TIMEOUT,
        "body_incomplete",
    )
    .await?;
    assert!(
        drain(&q).await?.is_empty(),
        "nothing is queued for an incomplete body"
    );

    let (status, answer) = send(
        &st,
        post("/v1/events")
            .header("x-request-id", id)
            .body(Body::from(full))?,
    )
    .await?;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let msgs = drain(&q).await?;
    assert_eq!(msgs.len(), 1);
    let env = QueueMessage::decode(&msgs[0].body)?;
    assert_eq!(env.envelope().request_id.as_str(), id);
    assert!(
        env.envelope().invalid.is_none(),
        "the resend is a valid event"
    );
    Ok(())
}

#[tokio::test]
async fn wrong_methods_and_paths_are_json_errors() -> anyhow::Result<()> {
    let q = new_queue().await?;
    let st = state(Arc::new(q))?;
    refused(
        &st,
        Request::get("/v1/events").body(Body::empty())?,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await?;
    refused(
        &st,
        Request::get("/nope").body(Body::empty())?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    let (status, body) = send(&st, Request::get("/health").body(Body::empty())?).await?;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    Ok(())
}

#[tokio::test]
async fn an_unreachable_queue_is_a_quick_503_never_500() -> anyhow::Result<()> {
    // Nothing listens on port 9 of loopback: connection refused.
    let dead = SqsQueue::new(
        client_at(Purpose::Send, Some("http://127.0.0.1:9")).await,
        "http://127.0.0.1:9/000000000000/nowhere",
    );
    let st = state(Arc::new(dead))?;
    let started = Instant::now();
    let resp = app(st)
        .oneshot(post("/v1/events").body(Body::from(event().to_string()))?)
        .await?;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.headers().contains_key(header::RETRY_AFTER));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered in {:?}",
        started.elapsed()
    );
    Ok(())
}

#[tokio::test]
async fn a_stalled_body_is_408_and_a_broken_one_408_unrecorded_not_413() -> anyhow::Result<()> {
    let q = new_queue().await?;
    let st = IngestState {
        body_timeout: Duration::from_millis(500),
        ..state(Arc::new(q.clone()))?
    };

    // A body that starts and never ends: 408 once the body timeout is over
    // (before: the request waited forever).
    let stalled = Body::from_stream(
        futures::stream::iter([Ok::<_, std::io::Error>(b"{".to_vec())])
            .chain(futures::stream::pending()),
    );
    let started = Instant::now();
    refused(
        &st,
        post("/v1/events")
            .header("x-request-id", "stalled")
            .body(stalled)?,
        StatusCode::REQUEST_TIMEOUT,
        "body_timeout",
    )
    .await?;
    assert!(started.elapsed() < Duration::from_secs(3));

    // A body that fails while being read is 408 body_incomplete and not
    // recorded (before: 413 body_too_large, which it is not; an INVALID
    // record would make the client's resend a duplicate).
    let broken = Body::from_stream(futures::stream::iter([
        Ok(b"{".to_vec()),
        Err(std::io::Error::other("connection reset")),
    ]));
    refused(
        &st,
        post("/v1/events")
            .header("x-request-id", "broken")
            .body(broken)?,
        StatusCode::REQUEST_TIMEOUT,
        "body_incomplete",
    )
    .await?;

    let mut reasons = std::collections::BTreeMap::new();
    for m in drain(&q).await? {
        let env = QueueMessage::decode(&m.body)?;
        let first = env.envelope().invalid.clone().unwrap_or_default().0;
        let first = first.first().map(|e| (e.field.clone(), e.code.clone()));
        reasons.insert(env.envelope().request_id.to_string(), first);
    }
    let want = |f: &str, c: &str| Some(Some((f.to_owned(), c.to_owned())));
    assert_eq!(reasons.get("stalled").cloned(), want("$", "body_timeout"));
    assert_eq!(
        reasons.get("broken"),
        None,
        "an incomplete body is not recorded"
    );
    Ok(())
}

#[tokio::test]
async fn a_single_field_error_keeps_its_own_code_in_the_audit_record() -> anyhow::Result<()> {
    let q = new_queue().await?;
    let st = state(Arc::new(q.clone()))?;
    // Before: the answer's code (invalid_event) replaced the field's own
    // code when there was only one error.
    let mut long = event();
    long["session_id"] = json!("s".repeat(10_000));
    refused(
        &st,
        post("/v1/events")
            .header("x-request-id", "long")
            .body(Body::from(long.to_string()))?,
        StatusCode::BAD_REQUEST,
        "invalid_event",
    )
    .await?;

    let msgs = drain(&q).await?;
    assert_eq!(msgs.len(), 1);
    let env = QueueMessage::decode(&msgs[0].body)?;
    let reasons = env.envelope().invalid.clone().unwrap_or_default().0;
    let got: Vec<(&str, &str)> = reasons
        .iter()
        .map(|e| (e.field.as_str(), e.code.as_str()))
        .collect();
    assert_eq!(got, [("session_id", "too_long")]);
    Ok(())
}
