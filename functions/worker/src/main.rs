//! hookline worker function: SQS event source → Postgres, and the scheduled
//! silent-hosts check (`{"hookline_check": "silent-hosts"}`).
//! Configuration: [`hookline_core::config::WorkerConfig`].

use anyhow::Context;
use hookline_core::config::WorkerConfig;
use hookline_store_postgres::PgStore;
use hookline_worker::Function;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hookline_core::telemetry::init("hookline-worker", "info");
    let cfg = WorkerConfig::from_env()?;
    // Built once per cold start; connections open on first use.
    let pool = hookline_store_postgres::pool(&cfg.database_url, cfg.pool_size)
        .context("DATABASE_URL is not a valid Postgres URL")?;
    let function = &Function::new(PgStore::new(pool), cfg);
    let handler =
        move |event: LambdaEvent<Value>| async move { function.invoke(event.payload).await };
    lambda_runtime::run(service_fn(handler)).await
}
