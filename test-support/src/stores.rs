//! Fault injection: a real store (Postgres or SQLite, never a mock) that
//! fails for chosen request ids while armed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use hookline_core::error::StoreError;
use hookline_core::store::{AuditRecord, Failure, Outcome, Store, Work};

/// What happens to a victim's record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// `apply` fails with a transient store error (an outage).
    Transient,
    /// `apply` panics (a bug that hits every attempt).
    Panic,
}

/// `inner`, but `apply` of a record whose request id `victim` selects
/// meets `fault` while [`Faulty::armed`] is set (from the start);
/// `record_failure` always reaches `inner`.
pub struct Faulty {
    inner: Arc<dyn Store>,
    fault: Fault,
    victim: Box<dyn Fn(&str) -> bool + Send + Sync>,
    armed: Arc<AtomicBool>,
}

impl Faulty {
    pub fn new(
        inner: Arc<dyn Store>,
        fault: Fault,
        victim: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> Self {
        Faulty {
            inner,
            fault,
            victim: Box::new(victim),
            armed: Arc::new(AtomicBool::new(true)),
        }
    }

    /// The switch: clear it and the victims are stored (the fix).
    pub fn armed(&self) -> Arc<AtomicBool> {
        self.armed.clone()
    }
}

#[async_trait::async_trait]
impl Store for Faulty {
    async fn apply(
        &self,
        a: &AuditRecord,
        w: Work<'_>,
        started: Instant,
    ) -> Result<Outcome, StoreError> {
        if self.armed.load(Ordering::SeqCst) && (self.victim)(&a.request_id) {
            match self.fault {
                Fault::Transient => {
                    return Err(StoreError::transient(format!(
                        "simulated outage for {}",
                        a.request_id
                    )));
                }
                Fault::Panic => panic!("poison {}", a.request_id),
            }
        }
        self.inner.apply(a, w, started).await
    }

    async fn record_failure(&self, a: &AuditRecord, f: &Failure<'_>) -> Result<(), StoreError> {
        self.inner.record_failure(a, f).await
    }
}
