//! # hookline conformance suites
//!
//! One behaviour, every implementation: the worker's behaviour on each
//! `Store` (Postgres, SQLite), the SQS semantics on each `Queue` (the
//! embedded SQLite queue, SQS on LocalStack). The tests live in
//! `tests/it/`; this library holds what they share, so that another crate
//! (the SQS adapter's tests) can run the same suite.
//!
//! # Layout
//!
//! - [`db`]: a fresh database per test on either backend ([`db::run`]), and
//!   its rows read back in one shape whatever the backend.
//! - [`fixtures`]: recorded hook payloads and transcripts as queue records.
//! - [`generate`]: seeded synthetic history (spotter-shaped sessions) for
//!   the scale bench.
//! - [`queue_suite`]: the `Queue` checks as plain async fns over a
//!   [`queue_suite::QueueFactory`], the SQLite factory, and
//!   [`queue_conformance_tests!`] to turn them into tests.
//! - [`usage`]: what the usage reports of the spotter transcripts must say,
//!   read from the JSONL alone.

pub mod db;
pub mod fixtures;
pub mod generate;
pub mod queue_suite;
pub mod spotter;
pub mod usage;

/// For the macros' expansions.
pub use anyhow;
