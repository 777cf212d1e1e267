//! A database per test: a fresh Postgres database on the server of
//! `DATABASE_URL` (scripts/test: 127.0.0.1:5432, user postgres), or a
//! fresh SQLite file; both migrated.
//!
//! Tests that take a pool from `#[sqlx::test(migrator =
//! "hookline_store_postgres::MIGRATOR")]` get the same (sqlx makes and
//! drops the database); [`pg_url`] gives its URL to a process.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Executor, PgPool, SqlitePool};

/// The URL of `pool`'s database, for a `hookline` process (no password:
/// the test server trusts loopback).
pub fn pg_url(pool: &PgPool) -> String {
    let o = pool.connect_options();
    format!(
        "postgres://{}@{}:{}/{}",
        o.get_username(),
        o.get_host(),
        o.get_port(),
        o.get_database().unwrap_or_default()
    )
}

/// A new, migrated Postgres database; dropped by [`PgDatabase::drop_database`].
pub struct PgDatabase {
    pub pool: PgPool,
    pub name: String,
    admin: PgConnectOptions,
}

impl PgDatabase {
    /// A database named by a UUID on `DATABASE_URL`'s server, migrated.
    pub async fn create() -> anyhow::Result<Self> {
        crate::log::init();
        let url = std::env::var("DATABASE_URL")
            .context("the Postgres tests need DATABASE_URL (a server to create databases on)")?;
        let admin: PgConnectOptions = url.parse()?;
        let name = format!("hookline_test_{}", uuid::Uuid::new_v4().simple());
        let mut c = admin.connect().await?;
        c.execute(AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
            .await?;
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(admin.clone().database(&name))
            .await?;
        hookline_store_postgres::MIGRATOR.run(&pool).await?;
        Ok(PgDatabase { pool, name, admin })
    }

    /// Its URL, for a process.
    pub fn url(&self) -> String {
        pg_url(&self.pool)
    }

    /// Connect options of the server (not of this database), e.g. to
    /// terminate this database's connections from outside.
    pub fn admin(&self) -> &PgConnectOptions {
        &self.admin
    }

    /// Closes the pool and drops the database.
    pub async fn drop_database(&self) -> anyhow::Result<()> {
        self.pool.close().await;
        let mut c = self.admin.connect().await?;
        c.execute(AssertSqlSafe(format!(
            r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#,
            self.name
        )))
        .await?;
        Ok(())
    }
}

/// A new, migrated SQLite file (`hookline.db`) in a temporary directory,
/// removed when dropped.
pub struct SqliteFile {
    pub pool: SqlitePool,
    pub path: PathBuf,
    dir: tempfile::TempDir,
}

impl SqliteFile {
    /// Opened the way serve opens it (`hookline_store_sqlite::open`: WAL,
    /// synchronous=FULL, migrated).
    pub async fn create() -> anyhow::Result<Self> {
        crate::log::init();
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("hookline.db");
        let pool = hookline_store_sqlite::open(&path).await?;
        Ok(SqliteFile { pool, path, dir })
    }

    /// Its directory (a data dir for `hookline serve`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `sqlite://PATH`, for a process.
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }
}
