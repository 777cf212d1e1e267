//! What the operator commands (`dlq`, `events`, `trace`) open: the store
//! and the queue with its dead-letter queue, chosen from the configuration
//! exactly as `hookline serve` chooses them (see `backend.rs`), plus the
//! parsing of `--since`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hookline_core::ops::Ops;
pub use hookline_core::ops::replay::Queues;
pub use hookline_core::ops::since::parse_since;
use hookline_core::queue::sqs::{Purpose, SqsQueue, client};
use hookline_core::store::Reader;
use hookline_store_postgres::PgStore;
use hookline_store_sqlite::SqliteStore;
use sqlx::postgres::PgPoolOptions;

use crate::backend;

/// Where the store and the queues are (the settings of `hookline serve`).
#[derive(Debug, clap::Args)]
pub struct Target {
    /// Data dir of `hookline serve` (its SQLite database and embedded queue).
    #[arg(long, global = true, env = "HOOKLINE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Store: absent → SQLite in the data dir; sqlite://PATH; postgres://….
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Source queue: absent → the embedded queue in the data dir; an SQS URL.
    #[arg(long, global = true, env = "HOOKLINE_QUEUE_URL")]
    pub queue_url: Option<String>,
    /// Dead-letter queue URL (needed with an SQS --queue-url).
    #[arg(long, global = true, env = "HOOKLINE_DLQ_URL")]
    pub dlq_url: Option<String>,
    /// The embedded queue's maxReceiveCount (keep it equal to serve's).
    #[arg(
        long,
        global = true,
        env = "HOOKLINE_MAX_RECEIVE_COUNT",
        default_value_t = 5
    )]
    pub max_receive_count: u32,
    /// The embedded queue's visibility timeout in seconds (keep it equal to serve's).
    #[arg(
        long,
        global = true,
        env = "HOOKLINE_VISIBILITY_TIMEOUT",
        default_value_t = 30
    )]
    pub visibility_timeout: u64,
}

/// Opens the store for the operator commands (migrating SQLite as `serve`
/// would; Postgres is migrated by `hookline migrate`).
pub async fn open_ops(t: &Target) -> anyhow::Result<Arc<dyn Ops>> {
    Ok(open_ops_reader(t).await?.0)
}

/// The store as [`Ops`] and as [`Reader`] (what the dashboard needs).
pub async fn open_ops_reader(t: &Target) -> anyhow::Result<(Arc<dyn Ops>, Arc<dyn Reader>)> {
    match t.database_url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let pool = PgPoolOptions::new()
                .max_connections(2)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await
                .context("could not connect to DATABASE_URL")?;
            let store = Arc::new(PgStore::new(pool));
            Ok((store.clone(), store))
        }
        Some(url) if url.starts_with("sqlite:") => {
            let opts = hookline_store_sqlite::options_from_url(url)
                .context("DATABASE_URL is not a valid sqlite URL")?;
            sqlite(hookline_store_sqlite::connect(opts).await).await
        }
        Some(_) => anyhow::bail!("DATABASE_URL is neither postgres:// nor sqlite://"),
        None => {
            let path = backend::data_dir(t.data_dir.clone())?.join("hookline.db");
            sqlite(hookline_store_sqlite::connect(hookline_store_sqlite::options(&path)).await)
                .await
                .with_context(|| format!("could not open {}", path.display()))
        }
    }
}

async fn sqlite(
    pool: Result<sqlx::SqlitePool, sqlx::Error>,
) -> anyhow::Result<(Arc<dyn Ops>, Arc<dyn Reader>)> {
    let store = SqliteStore::new(pool.context("could not open the SQLite database")?);
    store.migrate().await.context("SQLite migrations failed")?;
    let store = Arc::new(store);
    Ok((store.clone(), store))
}

pub async fn open_queues(t: &Target) -> anyhow::Result<Queues> {
    if let Some(url) = t.queue_url.as_deref().filter(|u| !u.is_empty()) {
        let dlq_url = t
            .dlq_url
            .as_deref()
            .filter(|u| !u.is_empty())
            .context("set HOOKLINE_DLQ_URL or --dlq-url (the DLQ of the SQS queue)")?;
        let sqs = client(Purpose::Poll).await;
        let (source, dlq) = (SqsQueue::new(sqs.clone(), url), SqsQueue::new(sqs, dlq_url));
        return Ok(Queues {
            source: Arc::new(source.clone()),
            dlq: Arc::new(dlq.clone()),
            sqs: Some((source, dlq)),
        });
    }
    let dir = backend::data_dir(t.data_dir.clone())?;
    let q = backend::open_queue(
        None,
        None,
        &dir,
        t.max_receive_count,
        Duration::from_secs(t.visibility_timeout.max(1)),
    )
    .await?;
    Ok(Queues {
        source: q.queue,
        dlq: q.dlq.context("the embedded queue has no DLQ")?,
        sqs: None,
    })
}

/// A single line of progress on stderr, rewritten in place.
pub fn progress(label: &str, done: usize, total: Option<usize>) {
    use std::io::Write as _;
    let line = match total {
        Some(t) if t > 0 => {
            let width = 30;
            let filled = (done.min(t) * width) / t;
            format!(
                "\r{label} [{}{}] {done}/{t}",
                "#".repeat(filled),
                " ".repeat(width - filled)
            )
        }
        _ => format!("\r{label} {done}"),
    };
    let mut err = std::io::stderr();
    let _ = err.write_all(line.as_bytes());
    let _ = err.flush();
}
