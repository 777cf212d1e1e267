//! # hookline on Postgres
//!
//! What the Lambda worker and `hookline` run on in production. Every
//! statement is checked at compile time against the Postgres schema
//! (`DATABASE_URL`, or the workspace's offline data in `.sqlx/`).
//!
//! # Layout
//!
//! - this file: the embedded [`MIGRATOR`], the one [`pool`] builder, and
//!   the mapping of Postgres
//!   errors to transient or permanent ones.
//! - [`store`]: [`PgStore`], `hookline_core::store::Store` (audit rows and
//!   the domain rows of a plan, merged order-independently).
//! - `read`: `hookline_core::store::Reader` on Postgres (what `hookline
//!   sessions` shows).
//! - `ops`, `purge`: `hookline_core::ops::Ops` on Postgres (audit detail,
//!   statistics, purge).
//! - `usage`: `hookline_core::usage::UsageStore` (the rollup, prices).
//! - `login`: `hookline_core::store::LoginStore` (dashboard sessions).
//! - `tokens`: `hookline_core::tokens::TokenStore` (`api_tokens`).
//! - `audit`: `hookline_core::ops::audit::OperatorAudit` (`operator_audit`).
//! - `search`: `hookline_core::search::SearchStore` on the `tsvector`
//!   columns (one fixed statement, run with `sqlx::query`: the
//!   conformance tests `search::*` run it on every filter).

mod audit;
mod login;
mod ops;
mod purge;
mod read;
mod search;
pub mod store;
mod tokens;
mod usage;

use hookline_core::error::StoreError;

pub use store::{MIGRATOR, PgStore};

/// How long a statement waits for a free connection of the pool.
pub const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The one Postgres pool builder (the worker function, `hookline serve`,
/// the operator commands, `hookline migrate`): `max_connections`
/// connections, opened on first use; only a malformed `url` fails here.
pub fn pool(url: &str, max_connections: u32) -> Result<sqlx::PgPool, sqlx::Error> {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_lazy(url)
}

/// A store error from a sqlx error, Postgres's SQLSTATEs classified; the
/// sqlx error is its source.
pub(crate) fn store_error(e: sqlx::Error) -> StoreError {
    if is_transient(&e) {
        StoreError::transient(e)
    } else {
        StoreError::permanent(e)
    }
}

fn is_transient(e: &sqlx::Error) -> bool {
    use sqlx::Error as E;
    match e {
        E::Io(_) | E::Tls(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => true,
        E::Database(db) => {
            // 40001 serialization_failure, 40P01 deadlock_detected, 55P03
            // lock_not_available, 57P01..03 admin shutdown / crash shutdown /
            // cannot connect now, 53xxx insufficient resources, 08xxx
            // connection exceptions.
            let code = db.code().unwrap_or_default();
            matches!(code.as_ref(), "40001" | "40P01" | "55P03")
                || code.starts_with("57P")
                || code.starts_with("53")
                || code.starts_with("08")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    #[test]
    fn a_pool_timeout_is_transient_and_keeps_the_sqlx_error() {
        let e = super::store_error(sqlx::Error::PoolTimedOut);
        assert!(e.is_transient());
        let source = e.source().and_then(|s| s.downcast_ref::<sqlx::Error>());
        assert!(matches!(source, Some(sqlx::Error::PoolTimedOut)), "{e:?}");
        let e = super::store_error(sqlx::Error::RowNotFound);
        assert!(!e.is_transient());
    }
}
