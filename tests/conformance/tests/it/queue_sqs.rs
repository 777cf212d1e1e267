//! The shared `Queue` suite on SQS: LocalStack at `AWS_ENDPOINT_URL`
//! (scripts/test starts it), a fresh queue and DLQ per test, deleted after.
//! The same checks as the embedded queue passes (`queue_sqlite`).

use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use hookline_conformance::queue_suite::{QueueFactory, QueuePair};
use hookline_core::queue::sqs::{Purpose, SqsQueue, client};

/// Deletes the test's queues when the test ends.
struct Cleanup {
    sqs: aws_sdk_sqs::Client,
    urls: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let (sqs, urls) = (self.sqs.clone(), std::mem::take(&mut self.urls));
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                for u in urls {
                    let _ = sqs.delete_queue().queue_url(u).send().await;
                }
            });
        }
    }
}

pub struct LocalStackFactory;

#[async_trait::async_trait]
impl QueueFactory for LocalStackFactory {
    async fn pair(
        &self,
        max_receive_count: u32,
        visibility: Duration,
    ) -> anyhow::Result<QueuePair> {
        let sqs = client(Purpose::Poll).await;
        let name = format!("conformance-{}", uuid::Uuid::new_v4().simple());
        let vis = visibility.as_secs().to_string();
        let dlq_url = sqs
            .create_queue()
            .queue_name(format!("{name}-dlq"))
            .attributes(QueueAttributeName::VisibilityTimeout, &vis)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!("LocalStack SQS is needed (scripts/localstack-up): {e:?}")
            })?
            .queue_url
            .unwrap_or_default();
        let dlq_arn = sqs
            .get_queue_attributes()
            .queue_url(&dlq_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await?
            .attributes
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .unwrap_or_default();
        let redrive = serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count.to_string()});
        let main_url = sqs
            .create_queue()
            .queue_name(&name)
            .attributes(QueueAttributeName::VisibilityTimeout, &vis)
            .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
            .send()
            .await?
            .queue_url
            .unwrap_or_default();
        Ok(QueuePair {
            main: std::sync::Arc::new(SqsQueue::new(sqs.clone(), main_url.clone())),
            dlq: std::sync::Arc::new(SqsQueue::new(sqs.clone(), dlq_url.clone())),
            guard: Some(Box::new(Cleanup {
                sqs,
                urls: vec![main_url, dlq_url],
            })),
        })
    }
}

mod suite {
    hookline_conformance::queue_conformance_tests!(super::LocalStackFactory);
}
