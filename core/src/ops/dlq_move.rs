//! `hookline dlq replay --all` on SQS: the native StartMessageMoveTask,
//! with its progress from ListMessageMoveTasks. The audit rows of the
//! messages are marked REPLAYED first (the task itself cannot).

use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;

use super::{Ops, OpsError, dlq};
use crate::queue::sqs::SqsQueue;

fn sqs_error(op: &'static str, e: impl std::error::Error + Send + Sync + 'static) -> OpsError {
    OpsError::Sqs {
        op,
        source: Box::new(e),
    }
}

async fn arn(q: &SqsQueue) -> Result<String, OpsError> {
    let out = q
        .client()
        .get_queue_attributes()
        .queue_url(q.url())
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| sqs_error("GetQueueAttributes", e))?;
    out.attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .ok_or_else(|| OpsError::MoveTask(format!("no QueueArn for {}", q.url())))
}

/// Moves every message of `dlq` back to `source`; returns how many moved.
/// `progress` gets the count moved and the count to move.
pub async fn native(
    ops: &dyn Ops,
    source: &SqsQueue,
    dlq_q: &SqsQueue,
    rate: Option<f64>,
    progress: &mut (dyn FnMut(usize, Option<usize>) + Send),
) -> Result<i64, OpsError> {
    let (source_arn, dlq_arn) = (arn(source).await?, arn(dlq_q).await?);
    let waiting = dlq::list(dlq_q, ops, usize::MAX).await?;
    if waiting.is_empty() {
        return Ok(0);
    }
    for m in &waiting {
        if let Some(id) = &m.request_id {
            ops.mark_replayed(id, &m.message_id).await?;
        }
    }
    let mut start = dlq_q
        .client()
        .start_message_move_task()
        .source_arn(&dlq_arn)
        .destination_arn(&source_arn);
    if let Some(r) = rate.filter(|r| *r >= 1.0) {
        start = start.max_number_of_messages_per_second(r as i32);
    }
    let handle = start
        .send()
        .await
        .map_err(|e| sqs_error("StartMessageMoveTask", e))?
        .task_handle
        .unwrap_or_default();
    let total = waiting.len();
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let tasks = dlq_q
            .client()
            .list_message_move_tasks()
            .source_arn(&dlq_arn)
            .max_results(10)
            .send()
            .await
            .map_err(|e| sqs_error("ListMessageMoveTasks", e))?;
        let task = tasks
            .results()
            .iter()
            .find(|t| {
                t.task_handle()
                    .is_none_or(|h| h == handle || handle.is_empty())
            })
            .or_else(|| tasks.results().first())
            .ok_or_else(|| OpsError::MoveTask("the move task is not listed".into()))?;
        let moved = task.approximate_number_of_messages_moved();
        let to_move = task
            .approximate_number_of_messages_to_move()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(total);
        progress(usize::try_from(moved).unwrap_or(0), Some(to_move));
        match task.status().unwrap_or_default() {
            "COMPLETED" => return Ok(moved),
            "FAILED" | "CANCELLED" | "CANCELLING" => {
                return Err(OpsError::MoveTask(format!(
                    "move task {}: {}",
                    task.status().unwrap_or_default(),
                    task.failure_reason().unwrap_or("no reason given")
                )));
            }
            _ => {}
        }
    }
}
