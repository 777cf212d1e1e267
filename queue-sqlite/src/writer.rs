//! Group commit: one task per queue database owns every write (send,
//! receive, delete, change visibility). Callers hand it an operation and
//! wait; it takes every operation that is waiting, applies them in order in
//! one transaction, commits (one fsync under `synchronous=FULL`), then
//! answers each caller. While a commit is on disk the next operations
//! gather, so the fsync rate, not the operation rate, is the limit; and a
//! caller is answered only once its operation is durable.
//!
//! Being the only writer of the process, the task never waits for SQLite's
//! lock except on another process (the CLI replaying from the DLQ), and two
//! receives never claim the same message.

use std::sync::Arc;

use sqlx::SqlitePool;
use tokio::sync::{Notify, mpsc, oneshot};

use super::ops::{Done, Op, apply};
use hookline_store_sqlite::store::BEGIN_WRITE;
use hookline_store_sqlite::time::now_ms;

/// Most operations committed in one transaction.
pub(super) const MAX_GROUP: usize = 1024;

/// An operation and where its answer goes (or the database's error).
pub(super) type Request = (Op, oneshot::Sender<Result<Done, String>>);

/// Runs until every sender is dropped. `arrived` is woken after each commit
/// that may have made messages visible, for long-polling receivers.
pub(super) async fn run(pool: SqlitePool, mut rx: mpsc::Receiver<Request>, arrived: Arc<Notify>) {
    let mut group: Vec<Request> = Vec::with_capacity(MAX_GROUP);
    while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
        match commit(&pool, &group).await {
            Ok(answers) => {
                let arrivals = answers.iter().zip(&group).any(|(done, (op, _))| {
                    matches!(op, Op::Send { .. } | Op::ChangeVisibility { .. })
                        || matches!(done, Done::Received(_, moved) if *moved > 0)
                });
                if arrivals {
                    arrived.notify_waiters();
                }
                for ((_, reply), done) in group.drain(..).zip(answers) {
                    // A caller that gave up waiting: its write stands (a
                    // received message comes back after its timeout).
                    let _ = reply.send(Ok(done));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, ops = group.len(), "queue commit failed");
                let msg = e.to_string();
                for (_, reply) in group.drain(..) {
                    let _ = reply.send(Err(msg.clone()));
                }
            }
        }
    }
}

async fn commit(pool: &SqlitePool, group: &[Request]) -> sqlx::Result<Vec<Done>> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let now = now_ms();
    let mut answers = Vec::with_capacity(group.len());
    for (op, _) in group {
        answers.push(apply(&mut tx, op, now).await?);
    }
    tx.commit().await?;
    Ok(answers)
}
