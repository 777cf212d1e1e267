//! The conformance suites. Worker behaviours run once per backend (a fresh
//! Postgres database from `DATABASE_URL`, a fresh SQLite file), named
//! `<behaviour>::postgres` and `<behaviour>::sqlite`; the `Queue` suite runs
//! on the embedded SQLite queue and on LocalStack SQS.

/// For each `behaviour: test => Backend, ...;`, a module `behaviour` with one
/// `#[tokio::test] fn test` per backend, running `behaviour(db)` on a fresh
/// database of that backend.
macro_rules! on_backends {
    ($($name:ident: $($test:ident => $backend:ident),+;)*) => {$(
        mod $name {$(
            #[tokio::test]
            async fn $test() -> anyhow::Result<()> {
                use hookline_conformance::db::{Backend, run};
                run(Backend::$backend, super::$name).await
            }
        )+}
    )*};
}

/// Each named behaviour on Postgres and on SQLite.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        on_backends!($($name: postgres => Postgres, sqlite => Sqlite;)*);
    };
}

mod ccusage;
mod cross_backend;
mod generate;
mod logins;
mod paging;
mod purge;
mod queue_sqlite;
mod queue_sqs;
mod roles;
mod search;
mod spotter;
mod stats;
mod tokens;
mod usage;
mod worker_faults;
mod worker_mapping;
mod worker_order;
mod worker_stitch;
