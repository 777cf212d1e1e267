//! The worker function's wiring. The logic is in `hookline_core::lambda`
//! (SQS event → `process_batch` → `SqsBatchResponse`), shared with the local
//! poller and `hookline serve`.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use hookline_core::store::Store;
use hookline_core::worker::WorkerConfig;

/// Processes one SQS event; the response lists the messages to redeliver.
pub async fn handle(store: &dyn Store, cfg: &WorkerConfig, event: SqsEvent) -> SqsBatchResponse {
    hookline_core::lambda::handle(store, cfg, &event).await
}
