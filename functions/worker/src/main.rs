//! hookline worker function: SQS event source → Postgres, and the scheduled
//! silent-hosts check (`{"hookline_check": "silent-hosts"}`).
//!
//! Configuration (environment): `DATABASE_URL` (required),
//! `HOOKLINE_MAX_RECEIVE_COUNT` (the queue's redrive maxReceiveCount,
//! default 5), `HOOKLINE_DB_POOL` (connections, default 2),
//! `HOOKLINE_RETENTION_DAYS` (purge sessions older than this, at most once
//! an hour per instance, after a batch; absent or 0: keep everything),
//! `HOOKLINE_SILENT_AFTER_HOURS` (a host is silent after this long without a
//! heartbeat, default 24), `HOOKLINE_STACK` (the metric's `Stack`
//! dimension, default `hookline`), `AWS_LAMBDA_LOG_LEVEL` / `RUST_LOG`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use hookline_core::worker::WorkerConfig;
use hookline_store_postgres::PgStore;
use hookline_worker::{Invocation, check_silent_hosts};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};
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
    let silent_after = chrono::Duration::hours(env_num("HOOKLINE_SILENT_AFTER_HOURS", 24)?.into());
    let stack = std::env::var("HOOKLINE_STACK").unwrap_or_else(|_| "hookline".into());
    // Built once per cold start; connections open on first use.
    let pool = PgPoolOptions::new()
        .max_connections(env_num("HOOKLINE_DB_POOL", 2)?)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy(&url)
        .context("DATABASE_URL is not a valid Postgres URL")?;
    let store = PgStore::new(pool);
    let retention_days = env_num("HOOKLINE_RETENTION_DAYS", 0)?;
    let last_retention: Mutex<Option<Instant>> = Mutex::new(None);
    let (store, cfg, stack, last_retention) = (&store, &cfg, stack.as_str(), &last_retention);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        match Invocation::parse(event.payload)? {
            Invocation::Batch(batch) => {
                let response = hookline_worker::handle(store, cfg, batch).await;
                if retention_days > 0
                    && retention_due(last_retention)
                    && let Err(e) =
                        hookline_core::ops::purge::apply_retention(store, None, retention_days).await
                {
                    tracing::error!(error = %e, "retention purge failed; tried again within the hour");
                }
                Ok::<Value, lambda_runtime::Error>(serde_json::to_value(response)?)
            }
            Invocation::SilentHostsCheck => {
                let now = chrono::Utc::now();
                let (report, line) = check_silent_hosts(store, now, silent_after, stack).await?;
                // On stdout, alone on its line: CloudWatch Logs extracts the metrics.
                println!("{line}");
                Ok(json!({"hosts": report.total, "silent": report.silent}))
            }
        }
    }))
    .await
}

/// True at most once an hour per instance (and on its first batch).
fn retention_due(last: &Mutex<Option<Instant>>) -> bool {
    let Ok(mut last) = last.lock() else {
        return false;
    };
    if last.is_some_and(|t| t.elapsed() < Duration::from_secs(3600)) {
        return false;
    }
    *last = Some(Instant::now());
    true
}
