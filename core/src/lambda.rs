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

/// The received messages do not make an SQS event (the event type refused
/// the JSON built from them): nothing can be handed to the worker.
#[derive(Debug, thiserror::Error)]
#[error("the received messages do not make an SQS event")]
pub struct EventError(#[source] serde_json::Error);

/// Builds the SQS event Lambda would deliver for these messages.
pub fn event_of(messages: &[Received], source_arn: &str) -> Result<SqsEvent, EventError> {
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
    decode(serde_json::json!({ "Records": records }))
}

/// An SQS event from its JSON.
fn decode(event: serde_json::Value) -> Result<SqsEvent, EventError> {
    serde_json::from_value(event).map_err(EventError)
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

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::{decode, event_of, record_of};
    use crate::queue::Received;

    #[test]
    fn an_undecodable_event_is_an_error_not_an_empty_batch() {
        let e = decode(serde_json::json!({ "Records": [{ "messageId": 5 }] }))
            .err()
            .map(|e| (e.to_string(), e.source().is_some()));
        assert_eq!(
            e,
            Some((
                "the received messages do not make an SQS event".to_owned(),
                true
            ))
        );
    }

    #[test]
    fn received_messages_make_the_event_the_worker_reads() -> Result<(), super::EventError> {
        let r = Received {
            message_id: "m-1".into(),
            receipt: "r-1".into(),
            body: "{}".into(),
            receive_count: 3,
            sent_at: None,
            attributes: Default::default(),
        };
        let event = event_of(&[r], "arn:aws:sqs:local:000000000000:q")?;
        let records: Vec<_> = event.records.iter().map(record_of).collect();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].message_id, "m-1");
        assert_eq!(records[0].receive_count, 3);
        Ok(())
    }
}
