//! The integration tests of `hookline-ingest`, as one test binary: the
//! real router (`hookline_core::http::app`) in front of a real queue, one
//! module per area:
//!
//! - `refusals`, `identity`: the embedded SQLite queue
//!   (`hookline-queue-sqlite`), no services (`scripts/test --quick`).
//! - `token_table`: the token table on Postgres (`DATABASE_URL`).
//! - `accepted`: LocalStack SQS, the queue of the Lambda function.
//!
//! To add tests: put `NAME.rs` here and add `mod NAME;` below (alphabetical
//! order); the helpers are below.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hookline_core::http::{IngestState, TokenSet, app, hash_hex};
use hookline_core::queue::sqs::{Purpose, SqsQueue, client};
use hookline_core::queue::{Queue, Received};
use serde_json::{Value, json};
use tower::ServiceExt;

mod accepted;
mod identity;
mod refusals;
mod roles;
mod token_table;

const TOKEN: &str = "hl_test_token_0123456789";

/// A queue of its own for one test, and how long to wait on a receive.
struct TestQueue {
    queue: Arc<dyn Queue>,
    wait: Duration,
    _dir: Option<tempfile::TempDir>,
}

impl TestQueue {
    /// The embedded SQLite queue in a new file.
    async fn embedded() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let pool = hookline_store_sqlite::open(&dir.path().join("queue.db")).await?;
        let (main, _dlq) = hookline_queue_sqlite::QueueDb::new(pool)
            .queue_with_dlq("ingest-test", Duration::from_secs(30), 5)
            .await?;
        Ok(TestQueue {
            queue: Arc::new(main),
            wait: Duration::from_millis(100),
            _dir: Some(dir),
        })
    }

    /// A new SQS queue `PREFIX-<uuid>` on LocalStack.
    async fn sqs(prefix: &str) -> anyhow::Result<Self> {
        let endpoint =
            std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| "http://127.0.0.1:4566".into());
        let client = client(Purpose::Poll).await;
        let name = format!("{prefix}-{}", uuid::Uuid::new_v4().simple());
        let out = client
            .create_queue()
            .queue_name(&name)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "LocalStack SQS at {endpoint} is needed (scripts/localstack-up): {e:?}"
                )
            })?;
        Ok(TestQueue {
            queue: Arc::new(SqsQueue::new(client, out.queue_url.unwrap_or_default())),
            wait: Duration::from_secs(1),
            _dir: None,
        })
    }

    fn queue(&self) -> Arc<dyn Queue> {
        self.queue.clone()
    }

    /// Receives and deletes every message in the queue.
    async fn drain(&self) -> anyhow::Result<Vec<Received>> {
        let mut all = Vec::new();
        loop {
            let got = self.queue.receive(10, self.wait).await?;
            if got.is_empty() {
                return Ok(all);
            }
            for m in &got {
                self.queue.delete(&m.receipt).await?;
            }
            all.extend(got);
        }
    }
}

/// Ingest in front of `queue`, with `TOKEN` for alice.
fn state(queue: Arc<dyn Queue>) -> anyhow::Result<IngestState> {
    let tokens = TokenSet::parse(&format!("alice:{}", hash_hex(TOKEN)))?;
    Ok(IngestState {
        queue,
        tokens: Arc::new(tokens),
        sessions: None,
        max_body: 64 * 1024,
        body_timeout: hookline_core::http::DEFAULT_BODY_TIMEOUT,
    })
}

fn event() -> Value {
    json!({"session_id": "s-1", "transcript_path": "/t.jsonl", "cwd": "/w",
           "hook_event_name": "UserPromptSubmit", "prompt": "hello"})
}

/// A POST to `path` with `TOKEN` and a JSON content type.
fn post(path: &str) -> axum::http::request::Builder {
    Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, "application/json")
}

/// The router's answer to `req`: status and JSON body (null when empty).
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

/// Sends `req`, expects `want` with the error `code` and a message; the body.
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
