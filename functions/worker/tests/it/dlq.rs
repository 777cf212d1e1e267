//! A message whose processing keeps failing reaches the dead-letter queue
//! after maxReceiveCount receives, its audit row FAILED; the rest of its
//! batch is stored. Real LocalStack SQS (redrive policy) and real Postgres;
//! the poison is a record whose handling panics.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hookline_core::poller::{InProcess, Poller};
use hookline_core::queue::sqs::{Purpose, SqsQueue, client};
use hookline_core::queue::{OutMessage, Queue};
use hookline_core::worker::WorkerConfig;
use hookline_store_postgres::PgStore;
use hookline_test_support::events;
use hookline_test_support::stores::{Fault, Faulty};
use serde_json::json;
use sqlx::PgPool;

/// A SessionStart of its own session, as ingest queues it.
fn message(request_id: &str) -> OutMessage {
    events::message(
        request_id,
        events::event(&format!("s-{request_id}"), "SessionStart"),
    )
}

#[sqlx::test(migrator = "hookline_store_postgres::MIGRATOR")]
async fn a_poison_message_reaches_the_dlq_after_max_receives_marked_failed(
    pool: PgPool,
) -> anyhow::Result<()> {
    let sqs = client(Purpose::Poll).await;
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let dlq_url = sqs
        .create_queue()
        .queue_name(format!("dlq-test-{suffix}-dlq"))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("LocalStack SQS is needed (scripts/localstack-up): {e:?}"))?
        .queue_url
        .unwrap_or_default();
    let dlq_arn = format!("arn:aws:sqs:us-east-1:000000000000:dlq-test-{suffix}-dlq");
    let redrive = json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"}).to_string();
    let main_url = sqs
        .create_queue()
        .queue_name(format!("dlq-test-{suffix}"))
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy,
            redrive,
        )
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
            "1",
        )
        .send()
        .await?
        .queue_url
        .unwrap_or_default();
    let main = Arc::new(SqsQueue::new(sqs.clone(), main_url));
    let dlq = SqsQueue::new(sqs, dlq_url);
    main.send(&message("poison")).await?;
    main.send(&message("healthy")).await?;

    let poller = Poller {
        queue: main.clone(),
        invoker: Arc::new(InProcess {
            // A bug that hits every attempt of "poison".
            store: Arc::new(Faulty::new(
                Arc::new(PgStore::new(pool.clone())),
                Fault::Panic,
                |id| id == "poison",
            )),
            cfg: WorkerConfig {
                max_receive_count: 2,
            },
        }),
        batch_size: 10,
        wait: Duration::from_secs(1),
        source_arn: "arn:aws:sqs:us-east-1:000000000000:dlq-test".into(),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut in_dlq = Vec::new();
    while in_dlq.is_empty() && Instant::now() < deadline {
        poller.poll_once().await.map_err(anyhow::Error::msg)?;
        in_dlq = dlq.receive(10, Duration::from_millis(200)).await?;
    }
    assert_eq!(in_dlq.len(), 1, "the poison message is in the DLQ");
    assert_eq!(
        in_dlq[0].attributes.get("request_id").map(String::as_str),
        Some("poison"),
        "attributes travel with it"
    );
    assert_eq!(main.depth().await?, 0, "nothing left in the source queue");

    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT request_id, status FROM webhook_events ORDER BY request_id")
            .fetch_all(&pool)
            .await?;
    assert_eq!(
        rows,
        [
            ("healthy".to_owned(), "SUCCESS".to_owned()),
            ("poison".to_owned(), "FAILED".to_owned())
        ]
    );
    let attempts: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM webhook_event_attempts WHERE request_id = 'poison'",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!(
        attempts, 2,
        "one RETRYING, then FAILED on the last allowed receive"
    );
    Ok(())
}
