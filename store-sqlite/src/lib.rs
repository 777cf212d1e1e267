//! # hookline on SQLite
//!
//! What `hookline serve` runs on when there is no Postgres: one SQLite file
//! holding the same tables as Postgres. The embedded queue
//! (`hookline-queue-sqlite`) opens its file with [`open`] too.
//!
//! # Layout
//!
//! - this file: opening a database ([`options`], [`connect`]) with the
//!   settings durability needs (WAL, `synchronous=FULL`, busy timeout,
//!   foreign keys), the embedded [`MIGRATOR`], and the mapping of SQLite
//!   errors to transient or permanent ones.
//! - [`store`]: [`SqliteStore`], `hookline_core::store::Store` with the
//!   Postgres store's (`hookline-store-postgres`) behaviour (same rows, same order-independent merges).
//! - [`read`]: `hookline_core::store::Reader` on SQLite (what `hookline
//!   sessions` shows).
//! - `search`: `hookline_core::search::SearchStore` on FTS5.
//! - `login`: `hookline_core::store::LoginStore` (dashboard sessions).
//! - `tokens`, `audit`: `hookline_core::tokens::TokenStore` (`api_tokens`)
//!   and `hookline_core::ops::audit::OperatorAudit` (`operator_audit`).
//! - [`time`]: timestamps as fixed-precision RFC 3339 text, so that text
//!   order is time order.

mod audit;
mod login;
pub mod ops;
mod purge;
pub mod read;
mod search;
pub mod store;
pub mod time;
mod tokens;
mod usage;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use hookline_core::error::StoreError;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use store::SqliteStore;

/// SQLite migrations (the store's tables and the queue's), embedded.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// How long a connection waits for another one's write lock before the
/// statement fails with SQLITE_BUSY (then a transient error).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connection settings for the database file at `path`, created if missing.
pub fn options(path: &Path) -> SqliteConnectOptions {
    durable(SqliteConnectOptions::new().filename(path))
}

/// Connection settings from a `sqlite://path` URL (query parameters as
/// sqlx reads them), with the same durability settings as [`options`].
pub fn options_from_url(url: &str) -> Result<SqliteConnectOptions, sqlx::Error> {
    Ok(durable(SqliteConnectOptions::from_str(url)?))
}

fn durable(opts: SqliteConnectOptions) -> SqliteConnectOptions {
    opts.create_if_missing(true)
        // WAL: readers do not block the writer; with synchronous=FULL every
        // commit is fsync'd before it returns, so what was committed
        // survives kill -9 and power loss.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true)
}

/// Opens a pool on `opts`. SQLite has one writer at a time; a few
/// connections serve concurrent readers.
pub async fn connect(opts: SqliteConnectOptions) -> Result<SqlitePool, sqlx::Error> {
    SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(opts)
        .await
}

/// Opens the database file at `path` and applies the migrations.
pub async fn open(path: &Path) -> Result<SqlitePool, sqlx::migrate::MigrateError> {
    let pool = connect(options(path)).await?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

/// SQLite result codes worth retrying, compared on the primary code (the
/// low byte: sqlx reports extended codes such as 517, SQLITE_BUSY_SNAPSHOT).
fn is_transient_code(code: &str) -> bool {
    const BUSY: i32 = 5;
    const LOCKED: i32 = 6;
    const IOERR: i32 = 10;
    const FULL: i32 = 13;
    code.parse::<i32>()
        .is_ok_and(|c| matches!(c & 0xff, BUSY | LOCKED | IOERR | FULL))
}

/// Whether a sqlx error from SQLite is worth retrying (busy, locked, I/O,
/// disk full, pool exhausted).
pub(crate) fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db.code().is_some_and(|c| is_transient_code(&c)),
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        _ => false,
    }
}

/// A store error from a sqlx error, SQLite's codes classified; the sqlx
/// error is its source.
pub(crate) fn store_error(e: sqlx::Error) -> StoreError {
    if is_transient(&e) {
        StoreError::transient(e)
    } else {
        StoreError::permanent(e)
    }
}

#[cfg(test)]
mod tests {
    use super::is_transient_code;

    #[tokio::test]
    async fn a_database_opens_with_the_durability_settings() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let pool = super::open(&dir.path().join("h.db")).await?;
        let mut conn = pool.acquire().await?;
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await?;
        assert_eq!(journal, "wal");
        for (pragma, want) in [
            ("synchronous", 2), // FULL: fsync at every commit
            ("foreign_keys", 1),
            ("busy_timeout", 5000),
        ] {
            let got: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("PRAGMA {pragma}")))
                .fetch_one(&mut *conn)
                .await?;
            assert_eq!(got, want, "PRAGMA {pragma}");
        }
        Ok(())
    }

    #[tokio::test]
    async fn the_bundled_sqlite_has_fts5_with_contentless_delete() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let pool = super::open(&dir.path().join("h.db")).await?;
        let options: Vec<String> = sqlx::query_scalar("PRAGMA compile_options")
            .fetch_all(&pool)
            .await?;
        assert!(options.iter().any(|o| o == "ENABLE_FTS5"), "{options:?}");
        // contentless_delete (search_fts) needs 3.43.
        let version: String = sqlx::query_scalar("SELECT sqlite_version()")
            .fetch_one(&pool)
            .await?;
        let parts: Vec<u32> = version.split('.').filter_map(|p| p.parse().ok()).collect();
        assert!(parts >= vec![3, 43], "{version}");
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM search_fts WHERE search_fts MATCH 'x'")
                .fetch_one(&pool)
                .await?;
        assert_eq!(n, 0, "the migrated search index answers");
        Ok(())
    }

    #[test]
    fn busy_and_locked_are_transient_in_every_extended_form() {
        // SQLITE_BUSY, _RECOVERY, _SNAPSHOT, _TIMEOUT; SQLITE_LOCKED, _SHAREDCACHE.
        for code in ["5", "261", "517", "773", "6", "262", "13"] {
            assert!(is_transient_code(code), "{code}");
        }
        // SQLITE_CONSTRAINT_CHECK, _UNIQUE; SQLITE_ERROR; not a number.
        for code in ["275", "2067", "1", "x"] {
            assert!(!is_transient_code(code), "{code}");
        }
    }
}
