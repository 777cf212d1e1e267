//! The SQS event of Lambda's event source mapping: converting queue messages
//! to it and back, and handling one with the worker. The worker function,
//! the local poller and `hookline serve` all go through here, so they run
//! the same code on the same event shape.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};

use crate::queue::{Received, attr};
use crate::store::Store;
use crate::worker::{QueueRecord, WorkerConfig, process_batch};

/// Reads what the worker needs from one SQS message of an event.
pub fn record_of(m: &SqsMessage) -> QueueRecord {
    let sys = |k: &str| m.attributes.get(k).map(String::as_str);
    QueueRecord {
        message_id: m.message_id.clone().unwrap_or_default(),
        body: m.body.clone().unwrap_or_default(),
        receive_count: sys("ApproximateReceiveCount")
            .and_then(|c| c.parse().ok())
            .unwrap_or(1),
        sent_at: sys("SentTimestamp")
            .and_then(|t| t.parse::<i64>().ok())
            .and_then(DateTime::<Utc>::from_timestamp_millis),
        request_id_attr: m
            .message_attributes
            .get(attr::REQUEST_ID)
            .and_then(|a| a.string_value.clone()),
    }
}

/// Builds the SQS event Lambda would deliver for these messages.
pub fn event_of(messages: &[Received], source_arn: &str) -> SqsEvent {
    let records = messages
        .iter()
        .map(|r| {
            let attrs: serde_json::Map<String, serde_json::Value> = r
                .attributes
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::json!({"stringValue": v, "dataType": "String"})))
                .collect();
            serde_json::json!({
                "messageId": r.message_id,
                "receiptHandle": r.receipt,
                "body": r.body,
                "attributes": {
                    "ApproximateReceiveCount": r.receive_count.to_string(),
                    "SentTimestamp": r.sent_at.map(|t| t.timestamp_millis().to_string()).unwrap_or_default(),
                },
                "messageAttributes": attrs,
                "eventSource": "aws:sqs",
                "eventSourceARN": source_arn,
            })
        })
        .collect::<Vec<_>>();
    serde_json::from_value(serde_json::json!({ "Records": records })).unwrap_or_default()
}

/// Processes one SQS event; the response lists the messages to redeliver.
pub async fn handle(store: &dyn Store, cfg: &WorkerConfig, event: &SqsEvent) -> SqsBatchResponse {
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
