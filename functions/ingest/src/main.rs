//! hookline ingest function: Lambda function URL → SQS.
//!
//! Under Lambda (or `cargo lambda watch`) `AWS_LAMBDA_RUNTIME_API` is set and
//! the router runs under `lambda_http`; otherwise it listens on
//! `HOOKLINE_LISTEN` (default 127.0.0.1:3000), the same router either way.
//!
//! Configuration (environment): `HOOKLINE_QUEUE_URL` (required),
//! `HOOKLINE_TOKENS` (`name:sha256hex` pairs, required), `HOOKLINE_MAX_BODY`
//! (bytes, default 1 MiB), `AWS_ENDPOINT_URL` (LocalStack), `AWS_REGION`,
//! `AWS_LAMBDA_LOG_LEVEL` / `RUST_LOG`.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use hookline_core::http::{DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY, IngestState, TokenSet, app};
use hookline_core::queue::Queue;
use hookline_core::queue::sqs::{Purpose, SqsQueue, client};

async fn state() -> anyhow::Result<IngestState> {
    let url = std::env::var("HOOKLINE_QUEUE_URL").context("HOOKLINE_QUEUE_URL is not set")?;
    let tokens = TokenSet::parse(&std::env::var("HOOKLINE_TOKENS").unwrap_or_default())?;
    anyhow::ensure!(
        !tokens.is_empty(),
        "HOOKLINE_TOKENS is empty: every request would be refused"
    );
    let max_body = match std::env::var("HOOKLINE_MAX_BODY") {
        Ok(v) => v
            .parse()
            .with_context(|| format!("HOOKLINE_MAX_BODY={v:?} is not a number of bytes"))?,
        Err(_) => DEFAULT_MAX_BODY,
    };
    // Built once per cold start and warmed now (credentials, connection), so
    // the first request does not pay for it.
    let queue = SqsQueue::new(client(Purpose::Send).await, url);
    if let Err(e) = queue.depth().await {
        tracing::warn!(error = %e, queue = queue.name(), "queue not reachable during init");
    }
    Ok(IngestState {
        queue: Arc::new(queue),
        tokens: Arc::new(tokens),
        max_body,
        body_timeout: DEFAULT_BODY_TIMEOUT,
    })
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hookline_core::telemetry::init("hookline-ingest", "info");
    let router = app(state().await?);
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return lambda_http::run(router).await;
    }
    let listen = std::env::var("HOOKLINE_LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(%listen, "ingest listening");
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
