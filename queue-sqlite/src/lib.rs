//! The embedded durable queue: `hookline_core::queue::Queue` on SQLite, with
//! the semantics of an SQS standard queue that hookline relies on.
//!
//! Every operation that writes (all but `depth`) goes through one writer
//! task per database, which commits whatever is waiting in one transaction
//! and answers each caller after the commit (group commit, see `writer.rs`).
//!
//! - **send** is durable when it returns: committed and fsync'd
//!   (`synchronous=FULL`), so it survives kill -9 and power loss.
//! - **receive** claims up to 10 visible messages, oldest-visible first,
//!   inside the writer's transaction (a single writer: no two receivers get
//!   the same message): each gets `receive_count + 1`, a new receipt, and
//!   stays invisible for the queue's visibility timeout. It long-polls up
//!   to `wait` (20 s at most), woken by sends.
//! - **redrive**: a message that would be received more than the queue's
//!   `max_receive_count` times moves to its dead-letter queue instead of
//!   being delivered, as SQS does on the receive after the last allowed one.
//!   It keeps its message id, body, attributes and sent time; its receive
//!   count starts again (LocalStack does the same).
//! - **delete** and **change visibility** take the receipt of the latest
//!   receive. Deleting with a receipt that no longer matches succeeds and
//!   changes nothing (SQS does the same); changing visibility of a message
//!   not in flight under that receipt is `QueueError::StaleReceipt`.
//! - The dead-letter queue is a queue like any other, so replay is receive
//!   from it, send to the source, delete from it.

mod ops;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use hookline_core::queue::{OutMessage, Queue, QueueError, Received};
use sqlx::SqlitePool;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::Instant;

use hookline_store_sqlite::time::now_ms;
use ops::{Done, Op};
use writer::MAX_GROUP;

/// SQS's limit on one message: body plus attribute names and values.
pub const MAX_MESSAGE_BYTES: usize = 1_048_576;
/// SQS's longest long poll.
pub const MAX_WAIT: Duration = Duration::from_secs(20);
/// SQS's longest visibility timeout.
pub const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 3600);
/// A waiting receive looks again at least this often, so that sends from
/// another process are seen.
const MAX_NAP: Duration = Duration::from_millis(500);

/// Attributes of a queue (what CreateQueue sets on SQS).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueSettings {
    /// How long a received message stays invisible.
    pub visibility_timeout: Duration,
    /// Redrive policy: `(dead-letter queue name, maxReceiveCount)`.
    pub redrive: Option<(String, u32)>,
}

/// A queue database: one writer task and any number of queues in one file.
#[derive(Clone, Debug)]
pub struct QueueDb {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    pool: SqlitePool,
    writer: mpsc::Sender<writer::Request>,
    /// Woken when messages arrive (sent or redriven), for long polls.
    arrived: Arc<Notify>,
}

fn unavailable(e: impl std::fmt::Display) -> QueueError {
    QueueError::Unavailable(e.to_string())
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl QueueDb {
    /// Starts the writer task on a migrated pool (see [`hookline_store_sqlite::open`]). Must
    /// be called within a Tokio runtime.
    pub fn new(pool: SqlitePool) -> Self {
        let (tx, rx) = mpsc::channel(MAX_GROUP * 4);
        let arrived = Arc::new(Notify::new());
        tokio::spawn(writer::run(pool.clone(), rx, arrived.clone()));
        Self {
            shared: Arc::new(Shared {
                pool,
                writer: tx,
                arrived,
            }),
        }
    }

    /// The queue `name`, created or updated with `settings` (its
    /// dead-letter queue, if any, must exist).
    pub async fn queue(
        &self,
        name: &str,
        settings: &QueueSettings,
    ) -> Result<SqliteQueue, QueueError> {
        let visibility = millis(settings.visibility_timeout.min(MAX_VISIBILITY));
        let dlq = settings.redrive.as_ref().map(|r| r.0.as_str());
        let max_receive_count = settings.redrive.as_ref().map(|r| i64::from(r.1.max(1)));
        sqlx::query!(
            r#"INSERT INTO queues (name, visibility_timeout_ms, dead_letter_queue, max_receive_count)
               VALUES (?1, ?2, ?3, ?4)
               ON CONFLICT (name) DO UPDATE SET visibility_timeout_ms = excluded.visibility_timeout_ms,
                 dead_letter_queue = excluded.dead_letter_queue, max_receive_count = excluded.max_receive_count"#,
            name,
            visibility,
            dlq,
            max_receive_count,
        )
        .execute(&self.shared.pool)
        .await
        .map_err(|e| QueueError::Rejected(format!("queue {name}: {e}")))?;
        Ok(SqliteQueue {
            name: name.into(),
            visibility_ms: visibility,
            redrive: dlq.map(Arc::from).zip(max_receive_count),
            db: self.shared.clone(),
        })
    }

    /// The queue `name` and its dead-letter queue `<name>-dlq`, which gets a
    /// message on the receive after the `max_receive_count`-th.
    pub async fn queue_with_dlq(
        &self,
        name: &str,
        visibility_timeout: Duration,
        max_receive_count: u32,
    ) -> Result<(SqliteQueue, SqliteQueue), QueueError> {
        let dlq_name = format!("{name}-dlq");
        let plain = QueueSettings {
            visibility_timeout,
            redrive: None,
        };
        let dlq = self.queue(&dlq_name, &plain).await?;
        let redrive = QueueSettings {
            visibility_timeout,
            redrive: Some((dlq_name, max_receive_count)),
        };
        Ok((self.queue(name, &redrive).await?, dlq))
    }
}

/// One queue of a [`QueueDb`].
#[derive(Clone, Debug)]
pub struct SqliteQueue {
    name: Arc<str>,
    visibility_ms: i64,
    /// Dead-letter queue and maxReceiveCount.
    redrive: Option<(Arc<str>, i64)>,
    db: Arc<Shared>,
}

impl SqliteQueue {
    /// Hands `op` to the writer; answers once it is committed.
    async fn write(&self, op: Op) -> Result<Done, QueueError> {
        let (reply, answer) = oneshot::channel();
        self.db
            .writer
            .send((op, reply))
            .await
            .map_err(|_| unavailable("the queue's writer has stopped"))?;
        answer
            .await
            .map_err(|_| unavailable("the queue's writer has stopped"))?
            .map_err(unavailable)
    }

    /// How long until the next in-flight message becomes visible, if any.
    async fn next_visible_in(&self) -> sqlx::Result<Option<Duration>> {
        let name: &str = &self.name;
        let next = sqlx::query_scalar!(
            r#"SELECT min(visible_at_ms) AS "next: i64" FROM queue_messages WHERE queue = ?1"#,
            name
        )
        .fetch_one(&self.db.pool)
        .await?;
        Ok(next.map(|at| Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0))))
    }
}

#[async_trait::async_trait]
impl Queue for SqliteQueue {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, msg: &OutMessage) -> Result<String, QueueError> {
        let size = msg.body.len()
            + msg
                .attributes
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>();
        if size > MAX_MESSAGE_BYTES {
            return Err(QueueError::Rejected(format!(
                "message is {size} bytes, over the {MAX_MESSAGE_BYTES}-byte limit"
            )));
        }
        let message_id = uuid::Uuid::new_v4().to_string();
        let attributes = serde_json::to_string(&msg.attributes)
            .map_err(|e| QueueError::Rejected(e.to_string()))?;
        self.write(Op::Send {
            queue: self.name.clone(),
            message_id: message_id.clone(),
            body: msg.body.clone(),
            attributes,
            sent_at_ms: now_ms(),
        })
        .await?;
        Ok(message_id)
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Received>, QueueError> {
        let max = i64::try_from(max.clamp(1, 10)).unwrap_or(1);
        let deadline = Instant::now() + wait.min(MAX_WAIT);
        loop {
            // Registered before looking, so a send committed in between
            // still wakes this receive.
            let arrived = self.db.arrived.notified();
            let op = Op::Receive {
                queue: self.name.clone(),
                max,
                visibility_ms: self.visibility_ms,
                redrive: self.redrive.clone(),
            };
            let got = match self.write(op).await? {
                Done::Received(got, _) => got,
                Done::Rows(_) => Vec::new(),
            };
            let now = Instant::now();
            if !got.is_empty() || now >= deadline {
                return Ok(got);
            }
            let next = self.next_visible_in().await.map_err(unavailable)?;
            let nap = (deadline - now)
                .min(next.unwrap_or(MAX_NAP))
                .min(MAX_NAP)
                .max(Duration::from_millis(2));
            tokio::select! {
                () = arrived => {}
                () = tokio::time::sleep(nap) => {}
            }
        }
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        self.write(Op::Delete {
            queue: self.name.clone(),
            receipt: receipt.to_owned(),
        })
        .await?;
        Ok(())
    }

    /// All at once, so that the writer commits them together.
    async fn delete_batch(&self, receipts: &[&str]) -> Vec<Result<(), QueueError>> {
        futures::future::join_all(receipts.iter().map(|r| self.delete(r))).await
    }

    async fn change_visibility(&self, receipt: &str, timeout: Duration) -> Result<(), QueueError> {
        let done = self
            .write(Op::ChangeVisibility {
                queue: self.name.clone(),
                receipt: receipt.to_owned(),
                timeout_ms: millis(timeout.min(MAX_VISIBILITY)),
            })
            .await?;
        if matches!(done, Done::Rows(0)) {
            return Err(QueueError::StaleReceipt(format!(
                "no message in flight in {} under this receipt",
                self.name
            )));
        }
        Ok(())
    }

    async fn depth(&self) -> Result<u64, QueueError> {
        let name: &str = &self.name;
        let n = sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!: i64" FROM queue_messages WHERE queue = ?1"#,
            name
        )
        .fetch_one(&self.db.pool)
        .await
        .map_err(unavailable)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
