//! A fresh database per test on either backend, and its rows read back in
//! one shape whatever the backend, so that one test body runs on both.
//!
//! - Postgres: a new database named by a UUID, created through
//!   `DATABASE_URL`, migrated, dropped after the test (even a failed one)
//!   (`hookline_test_support::db::PgDatabase`).
//! - SQLite: a new file in a temporary directory, migrated, removed after
//!   (`hookline_test_support::db::SqliteFile`).
//!
//! [`TestDb::rows`] runs a query and returns each row as a JSON object: JSON
//! columns as JSON, timestamps as `2026-11-29T03:40:00.000000Z`, text as the
//! user would read it (Postgres's NUL escaping undone).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use anyhow::{Context, bail};
use futures::FutureExt;
use hookline_core::ops::Ops;
use hookline_core::store::{Reader, Store};
use hookline_core::text::unescape_json;
use hookline_store_postgres::PgStore;
use hookline_store_sqlite::SqliteStore;
use hookline_test_support::db::{PgDatabase, SqliteFile};
use serde_json::{Map, Value};
use sqlx::{AssertSqlSafe, Executor, PgPool, SqlitePool};

mod rows;

use rows::normalized;
pub use rows::{quote, sqlite_row};

/// A database behind a `Store`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// The domain tables and their keys, for [`TestDb::dump`].
const DOMAIN: &[(&str, &str)] = &[
    ("conversations", "session_id"),
    ("messages", "session_id, message_key"),
    ("tool_uses", "tool_use_id"),
    ("subagents", "session_id, agent_id"),
    ("transcript_entries", "session_id, uuid"),
    (
        "usage_hourly",
        "session_id, hour, model, agent_id, context_band",
    ),
    (
        "usage_tool_hourly",
        "session_id, hour, model, agent_id, context_band, tool",
    ),
];

/// A fresh, migrated database and a store on it.
#[derive(Clone)]
pub struct TestDb {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    conn: Conn,
}

enum Conn {
    Postgres(Box<PgDatabase>),
    Sqlite(SqliteFile),
}

/// Runs `test` on a fresh database of `backend`, then drops the database,
/// whether the test passed, failed or panicked.
pub async fn run<F, Fut>(backend: Backend, test: F) -> anyhow::Result<()>
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let db = TestDb::new(backend).await?;
    let result = AssertUnwindSafe(test(db.clone())).catch_unwind().await;
    let dropped = db.drop_database().await;
    match result {
        Ok(outcome) => outcome.and(dropped),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

impl TestDb {
    pub async fn new(backend: Backend) -> anyhow::Result<Self> {
        let conn = match backend {
            Backend::Postgres => Conn::Postgres(Box::new(PgDatabase::create().await?)),
            Backend::Sqlite => Conn::Sqlite(SqliteFile::create().await?),
        };
        let store: Arc<dyn Store> = match &conn {
            Conn::Postgres(db) => Arc::new(PgStore::new(db.pool.clone())),
            Conn::Sqlite(SqliteFile { pool, .. }) => Arc::new(SqliteStore::new(pool.clone())),
        };
        Ok(Self {
            inner: Arc::new(Inner { store, conn }),
        })
    }

    pub fn backend(&self) -> Backend {
        match self.inner.conn {
            Conn::Postgres(_) => Backend::Postgres,
            Conn::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// The store under test.
    pub fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    /// The same database's operator capabilities (`Ops`: purge, stats…).
    pub fn ops(&self) -> Arc<dyn Ops> {
        match &self.inner.conn {
            Conn::Postgres(db) => Arc::new(PgStore::new(db.pool.clone())),
            Conn::Sqlite(SqliteFile { pool, .. }) => Arc::new(SqliteStore::new(pool.clone())),
        }
    }

    /// The token table of the same database.
    pub fn tokens(&self) -> Arc<dyn hookline_core::tokens::TokenStore> {
        match &self.inner.conn {
            Conn::Postgres(db) => Arc::new(PgStore::new(db.pool.clone())),
            Conn::Sqlite(SqliteFile { pool, .. }) => Arc::new(SqliteStore::new(pool.clone())),
        }
    }

    /// The read side on the same database.
    pub fn reader(&self) -> Arc<dyn Reader> {
        match &self.inner.conn {
            Conn::Postgres(db) => Arc::new(PgStore::new(db.pool.clone())),
            Conn::Sqlite(SqliteFile { pool, .. }) => Arc::new(SqliteStore::new(pool.clone())),
        }
    }

    /// The usage reads and prices on the same database.
    pub fn usage(&self) -> Arc<dyn hookline_core::usage::UsageStore> {
        match &self.inner.conn {
            Conn::Postgres(db) => Arc::new(PgStore::new(db.pool.clone())),
            Conn::Sqlite(SqliteFile { pool, .. }) => Arc::new(SqliteStore::new(pool.clone())),
        }
    }

    /// Full-text search on the same database.
    pub fn search(&self) -> Arc<dyn hookline_core::search::SearchStore> {
        match &self.inner.conn {
            Conn::Postgres(db) => Arc::new(PgStore::new(db.pool.clone())),
            Conn::Sqlite(SqliteFile { pool, .. }) => Arc::new(SqliteStore::new(pool.clone())),
        }
    }

    /// The store, shared (for wrappers).
    pub fn logins(&self) -> Arc<dyn hookline_core::store::LoginStore> {
        match &self.inner.conn {
            Conn::Postgres(db) => Arc::new(PgStore::new(db.pool.clone())),
            Conn::Sqlite(SqliteFile { pool, .. }) => Arc::new(SqliteStore::new(pool.clone())),
        }
    }

    pub fn store_arc(&self) -> Arc<dyn Store> {
        self.inner.store.clone()
    }

    pub fn pg_pool(&self) -> Option<&PgPool> {
        match &self.inner.conn {
            Conn::Postgres(db) => Some(&db.pool),
            Conn::Sqlite(_) => None,
        }
    }

    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.inner.conn {
            Conn::Sqlite(SqliteFile { pool, .. }) => Some(pool),
            Conn::Postgres(_) => None,
        }
    }

    /// The SQLite file, for opening more connections to it.
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        match &self.inner.conn {
            Conn::Sqlite(SqliteFile { path, .. }) => Some(path),
            Conn::Postgres(_) => None,
        }
    }

    /// The rows of `sql` (a plain SELECT in SQL both databases read), each
    /// as a JSON object of column name to value.
    pub async fn rows(&self, sql: &str) -> anyhow::Result<Vec<Map<String, Value>>> {
        match &self.inner.conn {
            Conn::Postgres(db) => {
                let pool = &db.pool;
                let wrapped = format!("SELECT to_jsonb(q) FROM ({sql}) q");
                let rows: Vec<Value> = sqlx::query_scalar(AssertSqlSafe(wrapped))
                    .fetch_all(pool)
                    .await?;
                rows.into_iter()
                    .map(|r| match unescape_json(&r).into_owned() {
                        Value::Object(m) => Ok(normalized(m)),
                        other => bail!("not a row: {other}"),
                    })
                    .collect()
            }
            Conn::Sqlite(SqliteFile { pool, .. }) => {
                let rows = sqlx::query(AssertSqlSafe(sql.to_owned()))
                    .fetch_all(pool)
                    .await?;
                rows.iter().map(sqlite_row).collect()
            }
        }
    }

    /// The only row of `sql`.
    pub async fn row(&self, sql: &str) -> anyhow::Result<Map<String, Value>> {
        let mut rows = self.rows(sql).await?;
        match rows.len() {
            1 => Ok(rows.remove(0)),
            n => bail!("{n} rows, not one, from {sql}"),
        }
    }

    /// The value of the only column of the only row of `sql`.
    pub async fn value(&self, sql: &str) -> anyhow::Result<Value> {
        let row = self.row(sql).await?;
        if row.len() != 1 {
            bail!("{} columns, not one, from {sql}", row.len());
        }
        row.into_iter()
            .next()
            .map(|(_, v)| v)
            .with_context(|| format!("no column from {sql}"))
    }

    /// `count(*)` of the rows `where_clause` selects from `table`.
    pub async fn count(&self, table: &str, where_clause: &str) -> anyhow::Result<i64> {
        let v = self
            .value(&format!(
                "SELECT count(*) AS n FROM {table} WHERE {where_clause}"
            ))
            .await?;
        v.as_i64()
            .with_context(|| format!("count is not a number: {v}"))
    }

    /// The status of the audit row of `request_id`.
    pub async fn status_of(&self, request_id: &str) -> anyhow::Result<String> {
        let v = self
            .value(&format!(
                "SELECT status FROM webhook_events WHERE request_id = {}",
                quote(request_id)
            ))
            .await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// The domain tables in key order (without surrogate ids), then each
    /// audit row's request id, status and type: what two runs that should
    /// have written the same data are compared on.
    pub async fn dump(&self) -> anyhow::Result<Vec<String>> {
        let mut out = Vec::new();
        for (table, order) in DOMAIN {
            for mut row in self
                .rows(&format!("SELECT * FROM {table} ORDER BY {order}"))
                .await?
            {
                // `id` is a surrogate key that counts inserts; it is not data.
                row.remove("id");
                // Postgres's search columns are the index, derived from the data.
                row.retain(|k, _| !k.starts_with("search_"));
                out.push(format!("{table}: {}", Value::Object(row)));
            }
        }
        let audit = self
            .rows("SELECT request_id, status, event_type FROM webhook_events ORDER BY request_id")
            .await?;
        out.extend(audit.iter().map(|r| {
            let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default();
            format!("{} {} {}", s("request_id"), s("status"), s("event_type"))
        }));
        Ok(out)
    }

    /// Empties every table.
    pub async fn reset(&self) -> anyhow::Result<()> {
        match &self.inner.conn {
            Conn::Postgres(db) => {
                db.pool
                    .execute(
                        "TRUNCATE webhook_events, webhook_event_attempts, conversations CASCADE",
                    )
                    .await?;
            }
            Conn::Sqlite(SqliteFile { pool, .. }) => {
                pool.execute(
                    "DELETE FROM webhook_event_attempts; DELETE FROM webhook_events; DELETE FROM usage_hourly; DELETE FROM usage_tool_hourly;
                     DELETE FROM transcript_entries; DELETE FROM subagents; DELETE FROM tool_uses;
                     DELETE FROM messages; DELETE FROM conversations;",
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Drops the Postgres database (a SQLite file goes with its temporary
    /// directory); what [`run`] does after the test, for a caller holding
    /// a `TestDb` alone (the scale bench).
    pub async fn drop_database(&self) -> anyhow::Result<()> {
        match &self.inner.conn {
            Conn::Postgres(db) => db.drop_database().await,
            Conn::Sqlite(_) => Ok(()),
        }
    }
}
