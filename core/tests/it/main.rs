//! Integration tests of the core against a real Postgres (`DATABASE_URL`;
//! `#[sqlx::test]` creates and drops a database per test).

mod helpers;
mod worker_faults;
mod worker_mapping;
mod worker_order;
