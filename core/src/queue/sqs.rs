//! The SQS adapter (AWS or LocalStack). One client per process, built by
//! [`client`], which honours `AWS_ENDPOINT_URL`, so LocalStack and AWS
//! differ by environment only. Retries and timeouts are bounded: a send
//! that cannot reach SQS fails within about 3 s (ingest then answers 503).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageAttributeValue, MessageSystemAttributeName,
    QueueAttributeName,
};
use chrono::DateTime;

use super::{OutMessage, Queue, QueueError, Received};

/// What a client is for: its timeouts follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Ingest: short timeouts, so a client waits seconds at most.
    Send,
    /// Poller and CLI: room for 20 s long polls.
    Poll,
}

/// Builds an SQS client from the environment (region, credentials,
/// `AWS_ENDPOINT_URL`). Region defaults to us-east-1; when an endpoint is set
/// and no credentials are, LocalStack's `test` credentials are used.
pub async fn client(purpose: Purpose) -> Client {
    client_at(purpose, None).await
}

/// Like [`client`], with an explicit endpoint instead of `AWS_ENDPOINT_URL`.
pub async fn client_at(purpose: Purpose, endpoint: Option<&str>) -> Client {
    let timeouts = match purpose {
        Purpose::Send => TimeoutConfig::builder()
            .connect_timeout(Duration::from_millis(1000))
            .operation_attempt_timeout(Duration::from_millis(1500))
            .operation_timeout(Duration::from_millis(3000))
            .build(),
        Purpose::Poll => TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(2))
            .operation_attempt_timeout(Duration::from_secs(25))
            .operation_timeout(Duration::from_secs(30))
            .build(),
    };
    let loader = crate::aws::loader(endpoint)
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .timeout_config(timeouts);
    Client::new(&loader.load().await)
}

/// One SQS queue.
#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    e: SdkError<E, aws_sdk_sqs::config::http::HttpResponse>,
) -> QueueError {
    let text = match &e {
        SdkError::ServiceError(se) => format!(
            "{}: {}",
            se.err().code().unwrap_or("error"),
            se.err().message().unwrap_or_default()
        ),
        other => format!(
            "{other}: {}",
            std::error::Error::source(other)
                .map(ToString::to_string)
                .unwrap_or_default()
        ),
    };
    match &e {
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or_default();
            let status = se.raw().status().as_u16();
            if code.contains("ReceiptHandleIsInvalid") || code.contains("MessageNotInflight") {
                QueueError::StaleReceipt(text)
            } else if status >= 500
                || [
                    "Throttl",
                    "OverLimit",
                    "NonExistentQueue",
                    "QueueDoesNotExist",
                ]
                .iter()
                .any(|c| code.contains(c))
            {
                // A missing queue is an operator's problem to fix, not the
                // client's: the client keeps the event and retries.
                QueueError::Unavailable(text)
            } else {
                QueueError::Rejected(text)
            }
        }
        SdkError::ConstructionFailure(_) => QueueError::Rejected(text),
        _ => QueueError::Unavailable(text),
    }
}

#[async_trait::async_trait]
impl Queue for SqsQueue {
    fn name(&self) -> &str {
        self.url.rsplit('/').next().unwrap_or(&self.url)
    }

    async fn send(&self, msg: &OutMessage) -> Result<String, QueueError> {
        let mut attrs = HashMap::new();
        for (k, v) in &msg.attributes {
            let value = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
                .map_err(|e| QueueError::Rejected(e.to_string()))?;
            attrs.insert(k.clone(), value);
        }
        let out = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(&msg.body)
            .set_message_attributes(Some(attrs))
            .send()
            .await
            .map_err(classify)?;
        Ok(out.message_id.unwrap_or_default())
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Received>, QueueError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max.clamp(1, 10) as i32)
            .wait_time_seconds(wait.as_secs().min(20) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(classify)?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| {
                let system = m.attributes.unwrap_or_default();
                let sys = |k: MessageSystemAttributeName| system.get(&k).cloned();
                Received {
                    message_id: m.message_id.unwrap_or_default(),
                    receipt: m.receipt_handle.unwrap_or_default(),
                    body: m.body.unwrap_or_default(),
                    attributes: m
                        .message_attributes
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|(k, v)| v.string_value.map(|s| (k, s)))
                        .collect::<BTreeMap<_, _>>(),
                    receive_count: sys(MessageSystemAttributeName::ApproximateReceiveCount)
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(1),
                    sent_at: sys(MessageSystemAttributeName::SentTimestamp)
                        .and_then(|t| t.parse::<i64>().ok())
                        .and_then(DateTime::from_timestamp_millis),
                }
            })
            .collect())
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// One DeleteMessageBatch call per 10 receipts.
    async fn delete_batch(&self, receipts: &[&str]) -> Vec<Result<(), QueueError>> {
        let mut out = Vec::with_capacity(receipts.len());
        for chunk in receipts.chunks(10) {
            let entries: Result<Vec<_>, _> = chunk
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(*r)
                        .build()
                })
                .collect();
            let sent = match entries {
                Ok(entries) => self
                    .client
                    .delete_message_batch()
                    .queue_url(&self.url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .map_err(classify),
                Err(e) => Err(QueueError::Rejected(e.to_string())),
            };
            match sent {
                Ok(resp) => {
                    let mut results: Vec<Result<(), QueueError>> = chunk
                        .iter()
                        .map(|_| {
                            Err(QueueError::Unavailable(
                                "no result for this entry in DeleteMessageBatch".into(),
                            ))
                        })
                        .collect();
                    for ok in resp.successful() {
                        if let Some(slot) = ok
                            .id()
                            .parse::<usize>()
                            .ok()
                            .and_then(|i| results.get_mut(i))
                        {
                            *slot = Ok(());
                        }
                    }
                    for f in resp.failed() {
                        if let Some(slot) = f
                            .id()
                            .parse::<usize>()
                            .ok()
                            .and_then(|i| results.get_mut(i))
                        {
                            let msg = format!("{}: {}", f.code(), f.message().unwrap_or_default());
                            *slot = Err(if f.code().contains("ReceiptHandle") {
                                QueueError::StaleReceipt(msg)
                            } else {
                                QueueError::Unavailable(msg)
                            });
                        }
                    }
                    out.extend(results);
                }
                Err(e) => {
                    let msg = e.to_string();
                    out.extend(
                        chunk
                            .iter()
                            .map(|_| Err(QueueError::Unavailable(msg.clone()))),
                    );
                }
            }
        }
        out
    }

    async fn change_visibility(&self, receipt: &str, timeout: Duration) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .visibility_timeout(timeout.as_secs().min(43_200) as i32)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn depth(&self) -> Result<u64, QueueError> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(classify)?;
        let attrs = out.attributes.unwrap_or_default();
        let n = |k| {
            attrs
                .get(&k)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Ok(n(QueueAttributeName::ApproximateNumberOfMessages)
            + n(QueueAttributeName::ApproximateNumberOfMessagesNotVisible))
    }
}
