//! The `Queue` conformance suite: the SQS semantics hookline relies on,
//! written against `&dyn Queue` so that every implementation runs the same
//! checks (the embedded SQLite queue here; SQS on LocalStack or AWS through
//! a factory of its own).
//!
//! Each check is a plain async fn taking a [`QueueFactory`]; the
//! [`queue_conformance_tests!`](crate::queue_conformance_tests) macro turns
//! them all into `#[tokio::test]`s:
//!
//! ```ignore
//! mod sqs {
//!     hookline_conformance::queue_conformance_tests!(my_localstack_factory());
//! }
//! ```
//!
//! Timings are whole seconds (SQS's unit for visibility timeouts and long
//! polls), and every "eventually" waits with a deadline, so that a queue
//! whose counts are approximate (SQS) passes when it behaves.

mod cases;
mod sqlite;

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use hookline_core::queue::{Queue, Received};
use tokio::time::Instant;

pub use cases::*;
pub use sqlite::SqliteQueueFactory;

/// A fresh, empty queue and its dead-letter queue.
pub struct QueuePair {
    pub main: Arc<dyn Queue>,
    pub dlq: Arc<dyn Queue>,
    /// Whatever must live as long as the queues (a temporary directory, a
    /// client that deletes the queues on drop).
    pub guard: Option<Box<dyn Any + Send + Sync>>,
}

/// Makes queues for the suite.
#[async_trait::async_trait]
pub trait QueueFactory: Send + Sync {
    /// A new, empty queue whose redrive policy moves a message to the new,
    /// empty `dlq` on the receive after the `max_receive_count`-th, with
    /// `visibility` as the visibility timeout of both.
    async fn pair(&self, max_receive_count: u32, visibility: Duration)
    -> anyhow::Result<QueuePair>;
}

/// Receives until `n` messages have arrived or `timeout` has passed.
pub async fn receive_until(
    q: &dyn Queue,
    n: usize,
    timeout: Duration,
) -> anyhow::Result<Vec<Received>> {
    let deadline = Instant::now() + timeout;
    let mut got = Vec::new();
    while got.len() < n && Instant::now() < deadline {
        let want = (n - got.len()).min(10);
        got.extend(q.receive(want, Duration::from_secs(1)).await?);
    }
    Ok(got)
}

/// Waits until `q.depth()` is `n` (SQS's count is approximate and lags);
/// returns the last depth seen.
pub async fn depth_becomes(q: &dyn Queue, n: u64, timeout: Duration) -> anyhow::Result<u64> {
    let deadline = Instant::now() + timeout;
    loop {
        let depth = q.depth().await?;
        if depth == n || Instant::now() >= deadline {
            return Ok(depth);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One `#[tokio::test]` per check of the suite, each on queues from
/// `$factory` (an expression evaluated in each test, inside its runtime).
#[macro_export]
macro_rules! queue_conformance_tests {
    ($factory:expr) => {
        $crate::queue_conformance_tests!(@each $factory;
            a_sent_message_is_received_with_its_body_attributes_and_id,
            a_received_message_is_invisible_until_its_visibility_timeout_ends,
            changing_visibility_to_zero_makes_a_message_receivable_at_once,
            changing_visibility_extends_the_time_a_message_stays_hidden,
            a_deleted_message_is_never_received_again,
            a_message_moves_to_the_dlq_on_the_receive_after_max_receive_count,
            replaying_from_the_dlq_delivers_the_message_to_the_main_queue_again,
            depth_counts_visible_and_in_flight_messages,
            receive_returns_at_most_max_and_each_message_once_while_in_flight,
            a_long_poll_returns_a_message_sent_while_it_waits,
            an_empty_receive_waits_for_the_requested_time,
        );
    };
    (@each $factory:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() -> $crate::anyhow::Result<()> {
                let factory = $factory;
                $crate::queue_suite::$name(&factory).await
            }
        )*
    };
}
