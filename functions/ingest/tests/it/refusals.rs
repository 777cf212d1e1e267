//! What ingest refuses before (or instead of) queueing, through the real
//! router in front of the real embedded SQLite queue
//! (`hookline-queue-sqlite`): no LocalStack, so these run in
//! `scripts/test --quick`. Each test gets its own queue file.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use futures::StreamExt;
use hookline_core::envelope::QueueMessage;
use hookline_core::http::{IngestState, app};
use hookline_core::queue::sqs::{Purpose, SqsQueue, client_at};
use serde_json::json;
use std::sync::Arc;
use tower::ServiceExt;

use crate::{TOKEN, TestQueue, event, post, refused, send, state};

#[tokio::test]
async fn a_missing_or_wrong_token_is_401_without_detail_and_not_queued() -> anyhow::Result<()> {
    let q = TestQueue::embedded().await?;
    let st = state(q.queue())?;
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
        q.drain().await?.is_empty(),
        "unauthenticated requests are logged only"
    );
    Ok(())
}

#[tokio::test]
async fn bad_requests_get_clear_4xx_and_leave_invalid_audit_records() -> anyhow::Result<()> {
    let q = TestQueue::embedded().await?;
    let st = state(q.queue())?;

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
    let msgs = q.drain().await?;
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
    let q = TestQueue::embedded().await?;
    let st = state(q.queue())?;
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
        q.drain().await?.is_empty(),
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
    let msgs = q.drain().await?;
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
    let q = TestQueue::embedded().await?;
    let st = state(q.queue())?;
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
    let q = TestQueue::embedded().await?;
    let st = IngestState {
        body_timeout: Duration::from_millis(500),
        ..state(q.queue())?
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
    for m in q.drain().await? {
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
    let q = TestQueue::embedded().await?;
    let st = state(q.queue())?;
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

    let msgs = q.drain().await?;
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
