//! A drain by a process with something else to do (the hook, the tail
//! sender): none while the circuit is open, and none unless the drain lock
//! comes in time (the hook tries it once: it never waits for it).

use std::time::Instant;

use chrono::{DateTime, Utc};

use super::{Options, Report, drain};
use crate::breaker::Breaker;
use crate::config::Config;
use crate::log::Logger;
use crate::net::Client;
use crate::spool::Spool;

/// What [`attempt`] did.
#[derive(Debug)]
pub enum Attempt {
    Drained(Report),
    /// The breaker is open until then: nothing was tried.
    CircuitOpen(DateTime<Utc>),
    /// Another process held the drain lock until `lock_until`, or until
    /// `give_up` said so.
    Busy,
    NoLock(std::io::Error),
}

/// Drains unless the circuit is open, once the drain lock is taken (waiting
/// until `lock_until` at most, or until `give_up()`; one try when that is
/// now).
pub fn attempt(
    spool: &Spool,
    client: &Client,
    cfg: &Config,
    log: &Logger,
    opts: Options<'_>,
    lock_until: Instant,
    give_up: &dyn Fn() -> bool,
) -> Attempt {
    let state = spool.state_dir();
    if let Some(b) = Breaker::load(&state).filter(|b| b.blocks(Utc::now())) {
        return Attempt::CircuitOpen(b.next_probe_at);
    }
    match crate::lock::acquire_unless(&state.join("drain.lock"), Some(lock_until), give_up) {
        Ok(Some(_held)) => Attempt::Drained(drain(spool, client, cfg, log, opts)),
        Ok(None) => Attempt::Busy,
        Err(e) => Attempt::NoLock(e),
    }
}
