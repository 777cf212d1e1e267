//! hookline ingest function: Lambda function URL → SQS. Under Lambda (or
//! `cargo lambda watch`) `AWS_LAMBDA_RUNTIME_API` is set and the router runs
//! under `lambda_http`; otherwise it listens on `HOOKLINE_LISTEN`.
//! Configuration: [`hookline_core::config::IngestConfig`]; with
//! `DATABASE_URL` tokens are also checked against the token table.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use hookline_core::config::{IngestConfig, IngestDb};
use hookline_core::http::app;
use hookline_core::queue::Queue;
use hookline_core::queue::sqs::{Purpose, SqsQueue, client};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hookline_core::telemetry::init("hookline-ingest", "info");
    let cfg = IngestConfig::from_env()?;
    // Built once per cold start and warmed now (credentials, connection), so
    // the first request does not pay for it.
    let queue = SqsQueue::new(client(Purpose::Send).await, &cfg.queue_url);
    if let Err(e) = queue.depth().await {
        tracing::warn!(error = %e, queue = queue.name(), "queue not reachable during init");
    }
    // With DATABASE_URL the token table is read too (`hookline tokens`), and
    // a member's event into another user's session is refused at once;
    // the pool opens lazily, so an unreachable database does not stop the
    // configured tokens from working.
    let table = match cfg.database_url.as_deref() {
        Some(url) => {
            let pool = hookline_store_postgres::pool(url, 2)
                .context("DATABASE_URL is not a valid Postgres URL")?;
            Some(Arc::new(hookline_store_postgres::PgStore::new(pool)) as Arc<dyn IngestDb>)
        }
        None => None,
    };
    let listen = cfg.listen.clone();
    let router = app(cfg.state(Arc::new(queue), table));
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return lambda_http::run(router).await;
    }
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(%listen, "ingest listening");
    let router = router.into_make_service_with_connect_info::<SocketAddr>();
    Ok(axum::serve(listener, router).await?)
}
