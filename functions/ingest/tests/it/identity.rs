//! Tokens bound to users: a token whose `HOOKLINE_TOKENS` entry names the
//! users it may send events of gets 403 (naming `hookline.user`) for any
//! other user's event, and the refusal leaves an INVALID audit record; an
//! entry without the field, or with `*`, sends anyone's. Through the real
//! router in front of the embedded SQLite queue, as `refusals.rs`.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hookline_core::envelope::{Payload, QueueMessage};
use hookline_core::http::{IngestState, TokenSet, app, hash_hex};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::TestQueue;

/// Four tokens: `alice-laptop` bound to alice, `team` to bob or carol,
/// `ci` to anyone (`*`), `legacy` in the old two-field form.
async fn state() -> anyhow::Result<(IngestState, TestQueue)> {
    let q = TestQueue::embedded().await?;
    let spec = format!(
        "alice-laptop:{}:alice team:{}:bob|carol,ci:{}:* legacy:{}",
        hash_hex("tok-alice"),
        hash_hex("tok-team"),
        hash_hex("tok-ci"),
        hash_hex("tok-legacy"),
    );
    let st = IngestState {
        queue: q.queue(),
        tokens: Arc::new(TokenSet::parse(&spec)?),
        sessions: None,
        max_body: 64 * 1024,
        body_timeout: hookline_core::http::DEFAULT_BODY_TIMEOUT,
    };
    Ok((st, q))
}

pub(crate) fn event(user: Option<&str>) -> Value {
    let mut e = json!({"session_id": "s-1", "transcript_path": "/t.jsonl", "cwd": "/w",
        "hook_event_name": "UserPromptSubmit", "prompt": "hello"});
    if let Some(u) = user {
        e["hookline"] = json!({"v": 1, "request_id": uuid::Uuid::now_v7().to_string(),
            "captured_at": "2026-11-29T03:40:00Z", "client": {"name": "hookline-hook", "version": "t"},
            "host": "devbox", "user": u});
    }
    e
}

pub(crate) async fn post(
    st: &IngestState,
    token: &str,
    body: &Value,
) -> anyhow::Result<(StatusCode, Value)> {
    let req = Request::post("/v1/events")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))?;
    let resp = app(st.clone()).oneshot(req).await?;
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await?;
    Ok((status, serde_json::from_slice(&bytes)?))
}

/// Every message in the queue: (invalid?, principal, hookline.user).
async fn drain(q: &TestQueue) -> anyhow::Result<Vec<(bool, String, Option<String>)>> {
    let mut all = Vec::new();
    for m in q.drain().await? {
        let msg = QueueMessage::decode(&m.body)?;
        let env = msg.envelope();
        let user = match &env.payload {
            Payload::Json(v) => v["hookline"]["user"].as_str().map(str::to_owned),
            _ => None,
        };
        all.push((
            env.invalid.is_some(),
            env.principal.clone().unwrap_or_default(),
            user,
        ));
    }
    all.sort();
    Ok(all)
}

#[tokio::test]
async fn a_token_bound_to_a_user_sends_that_users_events_only() -> anyhow::Result<()> {
    let (st, q) = state().await?;
    let (status, _) = post(&st, "tok-alice", &event(Some("alice"))).await?;
    assert_eq!(status, StatusCode::ACCEPTED, "own user");

    let (status, body) = post(&st, "tok-alice", &event(Some("mallory"))).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "forbidden_user");
    assert_eq!(body["error"]["field"], "hookline.user");
    let msg = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("\"mallory\"") && msg.contains("alice"),
        "names who is stamped and who is allowed: {msg}"
    );

    let (status, body) = post(&st, "tok-alice", &event(None)).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "an unstamped event: {body}");
    assert_eq!(body["error"]["field"], "hookline.user");

    // Every authenticated request leaves an audit record, refused ones as INVALID.
    assert_eq!(
        drain(&q).await?,
        vec![
            (false, "alice-laptop".into(), Some("alice".into())),
            (true, "alice-laptop".into(), None),
            (true, "alice-laptop".into(), Some("mallory".into())),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn a_user_list_wildcard_and_the_old_form_are_honoured() -> anyhow::Result<()> {
    let (st, q) = state().await?;
    for (token, user, want) in [
        ("tok-team", Some("bob"), StatusCode::ACCEPTED),
        ("tok-team", Some("carol"), StatusCode::ACCEPTED),
        ("tok-team", Some("alice"), StatusCode::FORBIDDEN),
        ("tok-ci", Some("anyone"), StatusCode::ACCEPTED),
        ("tok-ci", None, StatusCode::ACCEPTED),
        ("tok-legacy", Some("whoever"), StatusCode::ACCEPTED),
        ("tok-legacy", None, StatusCode::ACCEPTED),
    ] {
        let (status, body) = post(&st, token, &event(user)).await?;
        assert_eq!(status, want, "{token} sending {user:?}: {body}");
    }
    let queued = drain(&q).await?;
    assert_eq!(queued.len(), 7);
    assert_eq!(queued.iter().filter(|m| m.0).count(), 1, "one refusal");
    Ok(())
}
