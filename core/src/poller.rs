//! The event-source poller: Lambda's SQS event source mapping, locally.
//! Long-polls a queue, hands each batch to an [`Invoker`] as a real SQS
//! event, deletes what succeeded and leaves the reported failures to come
//! back after their visibility timeout (ReportBatchItemFailures). A failed
//! invocation leaves the whole batch, as Lambda does.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};

use crate::lambda::{event_of, handle};
use crate::queue::{Queue, Received};
use crate::store::Store;
use crate::worker::WorkerConfig;

/// Runs the worker on one SQS event.
#[async_trait::async_trait]
pub trait Invoker: Send + Sync {
    async fn invoke(&self, event: &SqsEvent) -> Result<SqsBatchResponse, String>;
}

/// Calls the worker logic in this process.
pub struct InProcess {
    pub store: Arc<dyn Store>,
    pub cfg: WorkerConfig,
}

#[async_trait::async_trait]
impl Invoker for InProcess {
    async fn invoke(&self, event: &SqsEvent) -> Result<SqsBatchResponse, String> {
        Ok(handle(self.store.as_ref(), &self.cfg, event).await)
    }
}

/// What one poll did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PollStats {
    pub received: usize,
    pub deleted: usize,
    pub failed: usize,
}

pub struct Poller {
    pub queue: Arc<dyn Queue>,
    pub invoker: Arc<dyn Invoker>,
    /// Messages per batch (1..=10), as the mapping's BatchSize.
    pub batch_size: usize,
    /// Long-poll wait.
    pub wait: Duration,
    /// The ARN put in the event's `eventSourceARN`.
    pub source_arn: String,
}

impl Poller {
    /// Receives one batch and processes it.
    pub async fn poll_once(&self) -> Result<PollStats, String> {
        let messages = self
            .queue
            .receive(self.batch_size, self.wait)
            .await
            .map_err(|e| e.to_string())?;
        Ok(self.process(messages).await)
    }

    /// Invokes the worker with received messages and deletes the successes.
    pub async fn process(&self, messages: Vec<Received>) -> PollStats {
        let mut stats = PollStats {
            received: messages.len(),
            ..PollStats::default()
        };
        if messages.is_empty() {
            return stats;
        }
        let event = match event_of(&messages, &self.source_arn) {
            Ok(event) => event,
            Err(e) => {
                tracing::error!(error = %e, cause = ?std::error::Error::source(&e), messages = messages.len(), "no SQS event for the batch; it will be redelivered");
                stats.failed = messages.len();
                return stats;
            }
        };
        let response = match self.invoker.invoke(&event).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, messages = messages.len(), "invocation failed; the batch will be redelivered");
                stats.failed = messages.len();
                return stats;
            }
        };
        let failed: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        let done: Vec<&Received> = messages
            .iter()
            .filter(|m| !failed.contains(&m.message_id.as_str()))
            .collect();
        stats.failed = messages.len() - done.len();
        let receipts: Vec<&str> = done.iter().map(|m| m.receipt.as_str()).collect();
        for (m, result) in done.iter().zip(self.queue.delete_batch(&receipts).await) {
            match result {
                Ok(()) => stats.deleted += 1,
                Err(e) => {
                    tracing::warn!(message_id = %m.message_id, error = %e, "delete failed; it will be redelivered")
                }
            }
        }
        stats
    }

    /// Polls until `shutdown` resolves. Only the wait for messages is
    /// interrupted: a batch being processed is finished first.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut backoff = Duration::from_millis(200);
        loop {
            let received = tokio::select! {
                biased;
                () = &mut shutdown => break,
                r = self.queue.receive(self.batch_size, self.wait) => r,
            };
            match received {
                Ok(messages) => {
                    backoff = Duration::from_millis(200);
                    let stats = self.process(messages).await;
                    if stats.received > 0 {
                        tracing::info!(
                            received = stats.received,
                            deleted = stats.deleted,
                            failed = stats.failed,
                            "batch done"
                        );
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "receive failed");
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}
