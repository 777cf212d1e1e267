//! `hookline migrate`: apply the embedded migrations to the database.

use anyhow::Context;
use hookline_store_postgres::MIGRATOR as PG_MIGRATOR;

use crate::config::StoreArgs;

#[derive(Debug, clap::Args)]
pub struct Opts {
    /// The database to migrate: --database-url (postgres://…).
    #[command(flatten)]
    store: StoreArgs,
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    let url = opts.store.database_url.as_deref().unwrap_or_default();
    anyhow::ensure!(
        url.starts_with("postgres://") || url.starts_with("postgresql://"),
        "DATABASE_URL must be a postgres:// URL (SQLite is migrated by `hookline serve`)"
    );
    let pool = hookline_store_postgres::pool(url, 1)
        .context("DATABASE_URL is not a valid Postgres URL")?;
    PG_MIGRATOR.run(&pool).await.context("migration failed")?;
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&pool)
        .await
        .context("could not read the migration table")?;
    println!("hookline migrate: database is at the latest schema ({applied} migrations applied)");
    Ok(())
}
