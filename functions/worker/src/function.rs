//! One instance of the worker function: its configuration and store, and
//! what each invocation does (a batch, then the retention purge when due;
//! or the silent-hosts check).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hookline_core::config::WorkerConfig;
use hookline_core::ops::Ops;
use hookline_core::store::Store;
use serde_json::{Value, json};

use crate::{Invocation, check_silent_hosts, handle};

/// Built once per cold start.
pub struct Function<S> {
    store: S,
    cfg: WorkerConfig,
    last_retention: Mutex<Option<Instant>>,
}

impl<S: Store + Ops> Function<S> {
    pub fn new(store: S, cfg: WorkerConfig) -> Self {
        Function {
            store,
            cfg,
            last_retention: Mutex::new(None),
        }
    }

    /// One invocation's event to its response.
    pub async fn invoke(&self, event: Value) -> Result<Value, lambda_runtime::Error> {
        match Invocation::parse(event)? {
            Invocation::Batch(batch) => {
                let response = handle(&self.store, &self.cfg.processing, batch).await;
                let days = self.cfg.retention_days;
                if days > 0
                    && self.retention_due()
                    && let Err(e) =
                        hookline_core::ops::purge::apply_retention(&self.store, None, days).await
                {
                    tracing::error!(error = %e, "retention purge failed; tried again within the hour");
                }
                Ok(serde_json::to_value(response)?)
            }
            Invocation::SilentHostsCheck => {
                let now = chrono::Utc::now();
                let (report, line) =
                    check_silent_hosts(&self.store, now, self.cfg.silent_after, &self.cfg.stack)
                        .await?;
                // On stdout, alone on its line: CloudWatch Logs extracts the metrics.
                println!("{line}");
                Ok(json!({"hosts": report.total, "silent": report.silent}))
            }
        }
    }

    /// True at most once an hour per instance (and on its first batch).
    fn retention_due(&self) -> bool {
        let Ok(mut last) = self.last_retention.lock() else {
            return false;
        };
        if last.is_some_and(|t| t.elapsed() < Duration::from_secs(3600)) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }
}
