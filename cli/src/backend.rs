//! Choosing the store and the queue of `hookline serve` (and of the operator
//! commands) from the configuration:
//!
//! | setting | absent | value |
//! | --- | --- | --- |
//! | `DATABASE_URL` | SQLite `hookline.db` in the data dir | `sqlite://PATH` or `postgres://…` |
//! | `HOOKLINE_QUEUE_URL` | embedded queue in `queue.db` in the data dir (DLQ `hookline-events-dlq`) | an SQS queue URL |

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hookline_core::ops::Ops;
use hookline_core::queue::Queue;
use hookline_core::queue::sqs::{Purpose, SqsQueue, client};
use hookline_core::store::{Reader, Store};
use hookline_queue_sqlite::QueueDb;
use hookline_store_postgres::PgStore;
use hookline_store_sqlite::SqliteStore;
use sqlx::postgres::PgPoolOptions;

/// Name of the embedded queue (its DLQ is `<name>-dlq`).
pub const EMBEDDED_QUEUE: &str = "hookline-events";

/// The data directory: `HOOKLINE_DATA_DIR`, else `$XDG_DATA_HOME/hookline`,
/// else `~/.local/share/hookline`.
pub fn data_dir(explicit: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let dir = match explicit {
        Some(d) => d,
        None => match std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
            Some(x) => PathBuf::from(x).join("hookline"),
            None => PathBuf::from(
                std::env::var_os("HOME").context("HOME is not set; set HOOKLINE_DATA_DIR")?,
            )
            .join(".local/share/hookline"),
        },
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the data dir {}", dir.display()))?;
    Ok(dir)
}

pub struct Stores {
    pub store: Arc<dyn Store>,
    /// The same store's operator capabilities (retention purge).
    pub ops: Arc<dyn Ops>,
    pub reader: Arc<dyn Reader>,
    pub description: String,
}

/// Opens (and migrates) the store.
pub async fn open_store(database_url: Option<&str>, data_dir: &Path) -> anyhow::Result<Stores> {
    match database_url.filter(|u| !u.is_empty()) {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(5))
                .connect(url)
                .await
                .context("could not connect to DATABASE_URL")?;
            let store = PgStore::new(pool);
            store
                .migrate()
                .await
                .context("Postgres migrations failed")?;
            let store = Arc::new(store);
            Ok(Stores {
                store: store.clone(),
                reader: store.clone(),
                ops: store,
                description: "Postgres (DATABASE_URL)".into(),
            })
        }
        Some(url) if url.starts_with("sqlite:") => {
            let opts = hookline_store_sqlite::options_from_url(url)
                .context("DATABASE_URL is not a valid sqlite URL")?;
            let pool = hookline_store_sqlite::connect(opts)
                .await
                .context("could not open the SQLite database")?;
            sqlite_store(pool, url.to_owned()).await
        }
        Some(other) => anyhow::bail!(
            "DATABASE_URL {:?} is neither postgres:// nor sqlite://",
            other.split(':').next().unwrap_or_default()
        ),
        None => {
            let path = data_dir.join("hookline.db");
            let pool = hookline_store_sqlite::connect(hookline_store_sqlite::options(&path))
                .await
                .with_context(|| format!("could not open {}", path.display()))?;
            sqlite_store(pool, path.display().to_string()).await
        }
    }
}

async fn sqlite_store(pool: sqlx::SqlitePool, at: String) -> anyhow::Result<Stores> {
    let store = SqliteStore::new(pool);
    store.migrate().await.context("SQLite migrations failed")?;
    let store = Arc::new(store);
    Ok(Stores {
        store: store.clone(),
        reader: store.clone(),
        ops: store,
        description: format!("SQLite {at}"),
    })
}

pub struct Queues {
    pub queue: Arc<dyn Queue>,
    pub dlq: Option<Arc<dyn Queue>>,
    pub description: String,
}

/// Opens the queue and its dead-letter queue.
pub async fn open_queue(
    queue_url: Option<&str>,
    dlq_url: Option<&str>,
    data_dir: &Path,
    max_receive_count: u32,
    visibility_timeout: Duration,
) -> anyhow::Result<Queues> {
    if let Some(url) = queue_url.filter(|u| !u.is_empty()) {
        let sqs = client(Purpose::Poll).await;
        let dlq = dlq_url.map(|d| Arc::new(SqsQueue::new(sqs.clone(), d)) as Arc<dyn Queue>);
        return Ok(Queues {
            queue: Arc::new(SqsQueue::new(sqs, url)),
            dlq,
            description: format!("SQS {url}"),
        });
    }
    let path = data_dir.join("queue.db");
    let pool = hookline_store_sqlite::open(&path)
        .await
        .with_context(|| format!("could not open the embedded queue {}", path.display()))?;
    let db = QueueDb::new(pool);
    let (queue, dlq) = db
        .queue_with_dlq(EMBEDDED_QUEUE, visibility_timeout, max_receive_count)
        .await
        .context("could not create the embedded queue")?;
    Ok(Queues {
        queue: Arc::new(queue),
        dlq: Some(Arc::new(dlq)),
        description: format!(
            "embedded queue {} (DLQ after {max_receive_count} receives)",
            path.display()
        ),
    })
}
