//! The suite's factory for the embedded SQLite queue: each pair in a new
//! database file.

use std::sync::Arc;
use std::time::Duration;

use hookline_queue_sqlite::QueueDb;

use super::{QueueFactory, QueuePair};

/// Queues of `hookline_queue_sqlite`, one temporary file per pair.
#[derive(Clone, Copy, Debug, Default)]
pub struct SqliteQueueFactory;

#[async_trait::async_trait]
impl QueueFactory for SqliteQueueFactory {
    async fn pair(
        &self,
        max_receive_count: u32,
        visibility: Duration,
    ) -> anyhow::Result<QueuePair> {
        let dir = tempfile::tempdir()?;
        let pool = hookline_store_sqlite::open(&dir.path().join("queue.db")).await?;
        let db = QueueDb::new(pool);
        let (main, dlq) = db
            .queue_with_dlq("hookline-test", visibility, max_receive_count)
            .await?;
        Ok(QueuePair {
            main: Arc::new(main),
            dlq: Arc::new(dlq),
            guard: Some(Box::new(dir)),
        })
    }
}
