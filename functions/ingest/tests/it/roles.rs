//! The write rule's early check (docs/teams.md, "Roles"): with a store to
//! read (`IngestState::sessions`, as `hookline serve` gives it), a member's
//! event into another user's session is 403 `forbidden_session` naming
//! `session_id`, queued as an INVALID record; what is accepted carries the
//! sender's role and users for the worker's own check, which is all there
//! is when the store cannot be read.

use std::sync::Arc;
use std::time::Instant;

use axum::http::StatusCode;
use hookline_core::envelope::QueueMessage;
use hookline_core::http::{IngestState, TokenSet, hash_hex};
use hookline_core::worker::{QueueRecord, WorkerConfig, process_batch};
use hookline_store_sqlite::SqliteStore;
use serde_json::{Value, json};

use crate::TestQueue;
use crate::identity::post;

const ALICE: &str = "5eed0000-0000-4000-8000-00000000a11c";

fn event(session: &str, user: &str) -> Value {
    json!({"session_id": session, "transcript_path": "/t.jsonl", "cwd": "/w",
        "hook_event_name": "UserPromptSubmit", "prompt": "hello",
        "hookline": {"v": 1, "request_id": uuid::Uuid::now_v7().to_string(),
            "captured_at": "2026-12-01T09:00:00Z", "client": {"name": "hookline-hook", "version": "t"},
            "host": "devbox", "user": user}})
}

/// A store holding alice's session, written by the worker.
async fn store(dir: &std::path::Path) -> anyhow::Result<SqliteStore> {
    let store = SqliteStore::new(hookline_store_sqlite::open(&dir.join("store.db")).await?);
    let body = json!({"type": "hook_event.v1", "request_id": "seed-1",
        "received_at": "2026-12-01T09:00:00Z",
        "payload": {"encoding": "json", "data": event(ALICE, "alice")}});
    let record = QueueRecord {
        message_id: "m-seed".into(),
        body: body.to_string(),
        receive_count: 1,
        sent_at: None,
        request_id_attr: None,
    };
    let failed = process_batch(&store, &WorkerConfig::default(), &[record]).await;
    anyhow::ensure!(failed.is_empty(), "seed: {failed:?}");
    Ok(store)
}

fn state(q: &TestQueue, store: &SqliteStore) -> anyhow::Result<IngestState> {
    let spec = format!(
        "alice:{}:alice:member bob:{}:bob:member ops:{}:*:admin",
        hash_hex("tok-alice"),
        hash_hex("tok-bob"),
        hash_hex("tok-ops"),
    );
    Ok(IngestState {
        queue: q.queue(),
        tokens: Arc::new(TokenSet::parse(&spec)?),
        sessions: Some(Arc::new(store.clone())),
        max_body: 64 * 1024,
        body_timeout: hookline_core::http::DEFAULT_BODY_TIMEOUT,
    })
}

/// Each queued message: (role, users, the first refusal's field and code).
async fn drain(
    q: &TestQueue,
) -> anyhow::Result<
    Vec<(
        Option<String>,
        Option<Vec<String>>,
        Option<(String, String)>,
    )>,
> {
    let mut out = Vec::new();
    for m in q.drain().await? {
        let QueueMessage::HookEventV1(env) = QueueMessage::decode(&m.body)?;
        let refusal = env
            .invalid
            .as_ref()
            .and_then(|e| e.first())
            .map(|e| (e.field.clone(), e.code.clone()));
        out.push((env.role, env.users, refusal));
    }
    out.sort();
    Ok(out)
}

#[tokio::test]
async fn a_members_event_into_another_users_session_is_403_and_queued_invalid() -> anyhow::Result<()>
{
    let dir = tempfile::tempdir()?;
    let store = store(dir.path()).await?;
    let q = TestQueue::embedded().await?;
    let st = state(&q, &store)?;

    let (status, body) = post(&st, "tok-bob", &event(ALICE, "bob")).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "forbidden_session");
    assert_eq!(body["error"]["field"], "session_id");
    for (token, session, user) in [
        ("tok-alice", ALICE, "alice"),
        ("tok-bob", "5eed0000-0000-4000-8000-0000000000ee", "bob"),
        ("tok-ops", ALICE, "ops"),
    ] {
        let (status, body) = post(&st, token, &event(session, user)).await?;
        assert_eq!(
            status,
            StatusCode::ACCEPTED,
            "{token} into {session}: {body}"
        );
    }
    let member = |u: &str| (Some("member".to_owned()), Some(vec![u.to_owned()]));
    let admin = (Some("admin".to_owned()), None);
    let refused = Some(("session_id".to_owned(), "forbidden_session".to_owned()));
    assert_eq!(
        drain(&q).await?,
        vec![
            (admin.0, admin.1, None),
            (member("alice").0, member("alice").1, None),
            (member("bob").0, member("bob").1, None),
            (member("bob").0, member("bob").1, refused),
        ]
    );

    // The store cannot be read: accepted (no 5xx for a check the worker
    // makes anyway), with the sender's role and users for it.
    store.pool().close().await;
    let started = Instant::now();
    let (status, body) = post(&st, "tok-bob", &event(ALICE, "bob")).await?;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert!(started.elapsed().as_secs() < 5);
    assert_eq!(
        drain(&q).await?,
        vec![(member("bob").0, member("bob").1, None)]
    );
    Ok(())
}
