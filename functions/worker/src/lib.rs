//! The worker function's wiring: an SQS event in, a `SqsBatchResponse` out.
//! The logic is `hookline_core::worker::process_batch`; this crate only
//! converts the Lambda event, so the local poller and tests call the same
//! code in-process.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};
use hookline_core::store::Store;
use hookline_core::worker::{QueueRecord, WorkerConfig, process_batch};

/// Reads what the worker needs from one SQS message.
pub fn record_of(m: &SqsMessage) -> QueueRecord {
    let attr = |k: &str| m.attributes.get(k).map(String::as_str);
    QueueRecord {
        message_id: m.message_id.clone().unwrap_or_default(),
        body: m.body.clone().unwrap_or_default(),
        receive_count: attr("ApproximateReceiveCount")
            .and_then(|c| c.parse().ok())
            .unwrap_or(1),
        sent_at: attr("SentTimestamp")
            .and_then(|t| t.parse::<i64>().ok())
            .and_then(DateTime::<Utc>::from_timestamp_millis),
        request_id_attr: m
            .message_attributes
            .get("request_id")
            .and_then(|a| a.string_value.clone()),
    }
}

/// Processes one SQS event; the response lists the messages to redeliver.
pub async fn handle(store: &dyn Store, cfg: &WorkerConfig, event: SqsEvent) -> SqsBatchResponse {
    let records: Vec<QueueRecord> = event.records.iter().map(record_of).collect();
    let failed = process_batch(store, cfg, &records).await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    response
}
