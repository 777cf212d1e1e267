//! Opening the store named by `DATABASE_URL` for the read and operator
//! commands.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hookline_core::store::{PgStore, Reader};
use sqlx::postgres::PgPoolOptions;

#[derive(Debug, clap::Args)]
pub struct DbOpts {
    /// Database to read (postgres://…).
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

pub async fn open_reader(opts: &DbOpts) -> anyhow::Result<Arc<dyn Reader>> {
    let url = opts
        .database_url
        .as_deref()
        .context("set DATABASE_URL or --database-url")?;
    anyhow::ensure!(
        url.starts_with("postgres"),
        "unsupported database URL scheme (postgres:// expected)"
    );
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await
        .context("could not connect to the database")?;
    Ok(Arc::new(PgStore::new(pool)))
}
