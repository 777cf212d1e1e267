//! hookline worker function: SQS event source → Postgres.
//!
//! Configuration (environment): `DATABASE_URL` (required),
//! `HOOKLINE_MAX_RECEIVE_COUNT` (the queue's redrive maxReceiveCount,
//! default 5), `HOOKLINE_DB_POOL` (connections, default 2),
//! `AWS_LAMBDA_LOG_LEVEL` / `RUST_LOG`.

use std::time::Duration;

use anyhow::Context;
use aws_lambda_events::event::sqs::SqsEvent;
use hookline_core::store::PgStore;
use hookline_core::worker::WorkerConfig;
use lambda_runtime::{LambdaEvent, service_fn};
use sqlx::postgres::PgPoolOptions;

fn env_num(key: &str, default: u32) -> anyhow::Result<u32> {
    match std::env::var(key) {
        Ok(v) => v
            .parse()
            .with_context(|| format!("{key}={v:?} is not a whole number")),
        Err(_) => Ok(default),
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hookline_core::telemetry::init("hookline-worker", "info");
    let url = std::env::var("DATABASE_URL").context("DATABASE_URL is not set")?;
    let cfg = WorkerConfig {
        max_receive_count: env_num("HOOKLINE_MAX_RECEIVE_COUNT", 5)?,
    };
    // Built once per cold start; connections open on first use.
    let pool = PgPoolOptions::new()
        .max_connections(env_num("HOOKLINE_DB_POOL", 2)?)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy(&url)
        .context("DATABASE_URL is not a valid Postgres URL")?;
    let store = PgStore::new(pool);
    let (store, cfg) = (&store, &cfg);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(hookline_worker::handle(store, cfg, event.payload).await)
    }))
    .await
}
