//! The queue's operations, each a few statements inside the writer's
//! transaction (see [`super::writer`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::DateTime;
use hookline_core::queue::Received;

use hookline_store_sqlite::store::Tx;

/// One operation of the queue.
#[derive(Debug)]
pub(super) enum Op {
    Send {
        queue: Arc<str>,
        message_id: String,
        body: String,
        attributes: String,
        sent_at_ms: i64,
    },
    /// Redrive, then claim up to `max` visible messages.
    Receive {
        queue: Arc<str>,
        max: i64,
        visibility_ms: i64,
        /// Dead-letter queue and maxReceiveCount.
        redrive: Option<(Arc<str>, i64)>,
    },
    Delete {
        queue: Arc<str>,
        receipt: String,
    },
    ChangeVisibility {
        queue: Arc<str>,
        receipt: String,
        timeout_ms: i64,
    },
}

/// What an operation did.
#[derive(Debug)]
pub(super) enum Done {
    /// Rows changed (send, delete, change visibility).
    Rows(u64),
    /// Messages received, and how many were moved to the dead-letter queue.
    Received(Vec<Received>, u64),
}

pub(super) async fn apply(tx: &mut Tx, op: &Op, now: i64) -> sqlx::Result<Done> {
    let rows = match op {
        Op::Send {
            queue,
            message_id,
            body,
            attributes,
            sent_at_ms,
        } => {
            let queue: &str = queue;
            sqlx::query!(
                r#"INSERT INTO queue_messages (queue, message_id, body, attributes, sent_at_ms, visible_at_ms)
                   VALUES (?1, ?2, ?3, ?4, ?5, ?5)"#,
                queue,
                message_id,
                body,
                attributes,
                sent_at_ms,
            )
            .execute(&mut **tx)
            .await?
        }
        Op::Receive {
            queue,
            max,
            visibility_ms,
            redrive,
        } => {
            let moved = match redrive {
                Some((dlq, max_receive_count)) => {
                    redrive_exhausted(tx, queue, dlq, *max_receive_count, now).await?
                }
                None => 0,
            };
            let visible_at = now.saturating_add(*visibility_ms);
            let got = claim(tx, queue, *max, visible_at, now).await?;
            return Ok(Done::Received(got, moved));
        }
        Op::Delete { queue, receipt } => {
            let queue: &str = queue;
            sqlx::query!(
                "DELETE FROM queue_messages WHERE receipt = ?1 AND queue = ?2",
                receipt,
                queue
            )
            .execute(&mut **tx)
            .await?
        }
        Op::ChangeVisibility {
            queue,
            receipt,
            timeout_ms,
        } => {
            // Only a message in flight under this receipt (SQS answers
            // MessageNotInflight otherwise).
            let queue: &str = queue;
            let visible_at = now.saturating_add(*timeout_ms);
            sqlx::query!(
                r#"UPDATE queue_messages SET visible_at_ms = ?1
                   WHERE receipt = ?2 AND queue = ?3 AND visible_at_ms > ?4"#,
                visible_at,
                receipt,
                queue,
                now,
            )
            .execute(&mut **tx)
            .await?
        }
    };
    Ok(Done::Rows(rows.rows_affected()))
}

/// Moves the visible messages that have had their `max_receive_count`
/// receives to the dead-letter queue, instead of a further delivery. They
/// keep id, body, attributes and sent time; their count starts again.
async fn redrive_exhausted(
    tx: &mut Tx,
    queue: &str,
    dlq: &str,
    max_receive_count: i64,
    now: i64,
) -> sqlx::Result<u64> {
    // `receive_count > 0` selects the partial index of retried messages.
    let moved = sqlx::query!(
        r#"UPDATE queue_messages
           SET queue = ?1, dead_letter_source = queue, receive_count = 0, visible_at_ms = ?2,
               receipt = NULL
           WHERE queue = ?3 AND visible_at_ms <= ?2 AND receive_count > 0 AND receive_count >= ?4"#,
        dlq,
        now,
        queue,
        max_receive_count,
    )
    .execute(&mut **tx)
    .await?;
    Ok(moved.rows_affected())
}

/// Claims up to `max` of the longest-visible messages: one more receive,
/// a new receipt, invisible until `visible_at`.
async fn claim(
    tx: &mut Tx,
    queue: &str,
    max: i64,
    visible_at: i64,
    now: i64,
) -> sqlx::Result<Vec<Received>> {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let mut rows = sqlx::query!(
        r#"UPDATE queue_messages
           SET receive_count = receive_count + 1, visible_at_ms = ?1, receipt = ?2 || '.' || seq
           WHERE seq IN (SELECT seq FROM queue_messages
                         WHERE queue = ?3 AND visible_at_ms <= ?4
                         ORDER BY visible_at_ms, seq LIMIT ?5)
           RETURNING seq AS "seq!: i64", message_id AS "message_id!: String",
                     body AS "body!: String", attributes AS "attributes!: String",
                     receive_count AS "receive_count!: i64", sent_at_ms AS "sent_at_ms!: i64",
                     receipt AS "receipt!: String""#,
        visible_at,
        nonce,
        queue,
        now,
        max,
    )
    .fetch_all(&mut **tx)
    .await?;
    rows.sort_by_key(|r| r.seq);
    Ok(rows
        .into_iter()
        .map(|r| Received {
            message_id: r.message_id,
            receipt: r.receipt,
            body: r.body,
            // Written by `send` from a map of strings (and CHECKed as JSON).
            attributes: serde_json::from_str::<BTreeMap<String, String>>(&r.attributes)
                .unwrap_or_default(),
            receive_count: u32::try_from(r.receive_count).unwrap_or(u32::MAX),
            sent_at: DateTime::from_timestamp_millis(r.sent_at_ms),
        })
        .collect())
}
