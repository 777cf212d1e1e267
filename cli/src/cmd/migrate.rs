//! `hookline migrate`: apply the embedded migrations to the database.

use anyhow::Context;
use hookline_store_postgres::MIGRATOR as PG_MIGRATOR;
use sqlx::postgres::PgPoolOptions;

#[derive(Debug, clap::Args)]
pub struct Opts {
    /// Database to migrate (postgres://…).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    anyhow::ensure!(
        opts.database_url.starts_with("postgres://")
            || opts.database_url.starts_with("postgresql://"),
        "DATABASE_URL must be a postgres:// URL (SQLite is migrated by `hookline serve`)"
    );
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .connect(&opts.database_url)
        .await
        .context("could not connect to DATABASE_URL")?;
    PG_MIGRATOR.run(&pool).await.context("migration failed")?;
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&pool)
        .await
        .context("could not read the migration table")?;
    println!("hookline migrate: database is at the latest schema ({applied} migrations applied)");
    Ok(())
}
