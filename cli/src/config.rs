//! Where the store and the queue are, read once: [`StoreArgs`] and
//! [`QueueArgs`], flattened into every command that opens them (`serve`,
//! `dashboard`, `sessions`, `dlq`, `events`, `trace`, `purge`), and the one
//! place that opens them ([`StoreArgs::open`], [`QueueArgs::open`]).
//!
//! | setting | absent | value |
//! | --- | --- | --- |
//! | `HOOKLINE_DATA_DIR` | `$XDG_DATA_HOME/hookline`, else `~/.local/share/hookline` | a directory |
//! | `DATABASE_URL` | SQLite `hookline.db` in the data dir | `sqlite://PATH` or `postgres://…` |
//! | `HOOKLINE_QUEUE_URL` | embedded queue in `queue.db` in the data dir (DLQ `hookline-events-dlq`) | an SQS queue URL |
//! | `HOOKLINE_DLQ_URL` | (the embedded queue's DLQ) | the SQS queue's DLQ URL |
//! | `HOOKLINE_PRICES_FILE` | no overrides | a TOML file of negotiated prices ([`PriceArgs`]) |
//! | `HOOKLINE_OIDC_*`, `HOOKLINE_LOOPBACK_LOGIN` | token login only | dashboard sign-in ([`SignInArgs`]) |

mod sign_in;

pub use sign_in::{OidcSettings, SignInArgs, SignInConfigError};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hookline_core::ops::Ops;
use hookline_core::ops::replay::Queues;
use hookline_core::queue::Queue;
use hookline_core::queue::sqs::{Purpose, SqsQueue, client};
use hookline_core::search::SearchStore;
use hookline_core::store::{LoginStore, Reader, Store};
use hookline_core::tokens::TokenStore;
use hookline_core::usage::{Price, UsageStore};
use hookline_queue_sqlite::QueueDb;
use hookline_store_postgres::PgStore;
use hookline_store_sqlite::SqliteStore;

/// Name of the embedded queue (its DLQ is `<name>-dlq`).
pub const EMBEDDED_QUEUE: &str = "hookline-events";

/// Where the store is.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct StoreArgs {
    /// Data dir of `hookline serve`: its SQLite database, embedded queue and
    /// token file (default ~/.local/share/hookline).
    #[arg(long, global = true, env = "HOOKLINE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Store: absent → SQLite in the data dir; sqlite://PATH; postgres://….
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// The deployment's negotiated prices, which win over the pinned and
/// imported ones (docs/usage.md).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct PriceArgs {
    /// TOML file of price overrides (USD per million tokens per model:
    /// input, output, cache_write_5m, cache_write_1h, cache_read, optional
    /// valid_from and long-context tier_*); see docs/usage.md.
    #[arg(long, global = true, env = "HOOKLINE_PRICES_FILE", value_name = "FILE")]
    pub prices_file: Option<PathBuf>,
}

impl PriceArgs {
    /// From `HOOKLINE_PRICES_FILE` alone (`hookline serve`'s dashboard).
    pub fn from_env() -> PriceArgs {
        PriceArgs {
            prices_file: std::env::var_os("HOOKLINE_PRICES_FILE")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        }
    }

    /// The overrides, read and checked (an error names the file, model and
    /// field); none when no file is set.
    pub fn overrides(&self) -> anyhow::Result<Vec<Price>> {
        let Some(path) = self.prices_file.as_deref() else {
            return Ok(Vec::new());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read HOOKLINE_PRICES_FILE {}", path.display()))?;
        hookline_core::usage::price::parse_overrides(&text, &path.display().to_string())
            .with_context(|| format!("HOOKLINE_PRICES_FILE {}", path.display()))
    }
}

/// Where the queue and its dead-letter queue are.
#[derive(Clone, Debug, clap::Args)]
pub struct QueueArgs {
    /// Queue: absent → the embedded queue in the data dir; an SQS queue URL
    /// (LocalStack or AWS).
    #[arg(long, global = true, env = "HOOKLINE_QUEUE_URL")]
    pub queue_url: Option<String>,
    /// Dead-letter queue URL of an SQS --queue-url (DLQ commands, the
    /// dashboard's DLQ page and replay, retention).
    #[arg(long, global = true, env = "HOOKLINE_DLQ_URL")]
    pub dlq_url: Option<String>,
    /// Receives before a failing message goes to the dead-letter queue
    /// (the embedded queue's maxReceiveCount; keep it equal to serve's).
    #[arg(
        long,
        global = true,
        env = "HOOKLINE_MAX_RECEIVE_COUNT",
        default_value_t = 5
    )]
    pub max_receive_count: u32,
    /// Seconds a received message stays invisible (embedded queue): after a
    /// crash, what was in flight is processed again this long after the
    /// restart.
    #[arg(
        long,
        global = true,
        env = "HOOKLINE_VISIBILITY_TIMEOUT",
        default_value_t = 30
    )]
    pub visibility_timeout: u64,
}

impl Default for QueueArgs {
    fn default() -> Self {
        QueueArgs {
            queue_url: None,
            dlq_url: None,
            max_receive_count: 5,
            visibility_timeout: 30,
        }
    }
}

/// Who opens the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// `hookline serve`: more connections, Postgres migrated on start.
    Serve,
    /// The operator commands and `hookline dashboard`: two connections;
    /// Postgres is migrated by `hookline migrate` only.
    Operator,
}

/// One store, seen through each of its traits.
pub struct Stores {
    pub store: Arc<dyn Store>,
    pub ops: Arc<dyn Ops>,
    pub reader: Arc<dyn Reader>,
    pub usage: Arc<dyn UsageStore>,
    pub search: Arc<dyn SearchStore>,
    /// The dashboard's sessions (logins).
    pub logins: Arc<dyn LoginStore>,
    /// Whose each session is: the ingest's early write check.
    pub owners: Arc<dyn hookline_core::store::owner::SessionOwners>,
    /// The token table (`hookline tokens`).
    pub tokens: Arc<dyn TokenStore>,
    /// What the store is, for people (no password).
    pub description: String,
}

impl Stores {
    fn of<
        S: Store + Ops + Reader + UsageStore + SearchStore + LoginStore + TokenStore + 'static,
    >(
        store: S,
        description: String,
    ) -> Stores {
        let store = Arc::new(store);
        Stores {
            store: store.clone(),
            ops: store.clone(),
            reader: store.clone(),
            usage: store.clone(),
            search: store.clone(),
            owners: store.clone(),
            logins: store.clone(),
            tokens: store,
            description,
        }
    }
}

/// Who runs an operator command, for the operator audit and `purges`:
/// `cli:` and the OS user (`$USER`, else `$LOGNAME`) at the host.
pub fn cli_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "unknown".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into());
    format!("cli:{user}@{host}")
}

/// The queue and, when known, its dead-letter queue.
pub struct QueueSet {
    pub queue: Arc<dyn Queue>,
    pub dlq: Option<Arc<dyn Queue>>,
    /// The SQS handles, for StartMessageMoveTask.
    sqs: Option<(SqsQueue, SqsQueue)>,
    pub description: String,
}

impl QueueSet {
    /// The pair the operator use cases act on, or why there is none.
    pub fn operator(&self) -> Result<Queues, String> {
        let dlq = self.dlq.clone().ok_or_else(|| {
            "set HOOKLINE_DLQ_URL or --dlq-url (the DLQ of the SQS queue)".to_owned()
        })?;
        Ok(Queues {
            source: self.queue.clone(),
            dlq,
            sqs: self.sqs.clone(),
        })
    }
}

impl StoreArgs {
    /// The data directory, created if missing.
    pub fn data_dir(&self) -> anyhow::Result<PathBuf> {
        let dir = match self.data_dir.clone() {
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

    /// Opens the store (SQLite is always migrated; Postgres for `serve`).
    pub async fn open(&self, role: Role) -> anyhow::Result<Stores> {
        match self.database_url.as_deref().filter(|u| !u.is_empty()) {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let size = if role == Role::Serve { 8 } else { 2 };
                let pool = hookline_store_postgres::pool(url, size)
                    .context("DATABASE_URL is not a valid Postgres URL")?;
                // Connect now, so a wrong URL fails at start, not on the
                // first request.
                drop(
                    pool.acquire()
                        .await
                        .context("could not connect to DATABASE_URL")?,
                );
                let store = PgStore::new(pool);
                if role == Role::Serve {
                    store
                        .migrate()
                        .await
                        .context("Postgres migrations failed")?;
                }
                Ok(Stores::of(store, "Postgres (DATABASE_URL)".into()))
            }
            Some(url) if url.starts_with("sqlite:") => {
                let opts = hookline_store_sqlite::options_from_url(url)
                    .context("DATABASE_URL is not a valid sqlite URL")?;
                sqlite(opts, url.to_owned()).await
            }
            Some(other) => anyhow::bail!(
                "DATABASE_URL {:?} is neither postgres:// nor sqlite://",
                other.split(':').next().unwrap_or_default()
            ),
            None => {
                let path = self.data_dir()?.join("hookline.db");
                let opts = hookline_store_sqlite::options(&path);
                sqlite(opts, path.display().to_string())
                    .await
                    .with_context(|| format!("could not open {}", path.display()))
            }
        }
    }
}

async fn sqlite(opts: sqlx::sqlite::SqliteConnectOptions, at: String) -> anyhow::Result<Stores> {
    let pool = hookline_store_sqlite::connect(opts)
        .await
        .context("could not open the SQLite database")?;
    let store = SqliteStore::new(pool);
    store.migrate().await.context("SQLite migrations failed")?;
    Ok(Stores::of(store, format!("SQLite {at}")))
}

impl QueueArgs {
    /// The embedded queue's file in `data_dir`.
    pub fn embedded_path(data_dir: &std::path::Path) -> PathBuf {
        data_dir.join("queue.db")
    }

    /// Whether the queue is an SQS queue.
    pub fn is_sqs(&self) -> bool {
        self.queue_url.as_deref().is_some_and(|u| !u.is_empty())
    }

    /// Opens the queue and its DLQ: SQS (the DLQ from `--dlq-url`), else the
    /// embedded queue in `data_dir`.
    pub async fn open(&self, data_dir: &std::path::Path) -> anyhow::Result<QueueSet> {
        if let Some(url) = self.queue_url.as_deref().filter(|u| !u.is_empty()) {
            let sqs = client(Purpose::Poll).await;
            let source = SqsQueue::new(sqs.clone(), url);
            let dlq = self
                .dlq_url
                .as_deref()
                .filter(|u| !u.is_empty())
                .map(|d| SqsQueue::new(sqs, d));
            return Ok(QueueSet {
                queue: Arc::new(source.clone()),
                dlq: dlq.clone().map(|d| Arc::new(d) as Arc<dyn Queue>),
                sqs: dlq.map(|d| (source, d)),
                description: format!("SQS {url}"),
            });
        }
        let path = Self::embedded_path(data_dir);
        let pool = hookline_store_sqlite::open(&path)
            .await
            .with_context(|| format!("could not open the embedded queue {}", path.display()))?;
        let visibility = Duration::from_secs(self.visibility_timeout.max(1));
        let (queue, dlq) = QueueDb::new(pool)
            .queue_with_dlq(EMBEDDED_QUEUE, visibility, self.max_receive_count)
            .await
            .context("could not create the embedded queue")?;
        Ok(QueueSet {
            queue: Arc::new(queue),
            dlq: Some(Arc::new(dlq)),
            sqs: None,
            description: format!(
                "embedded queue {} (DLQ after {} receives)",
                path.display(),
                self.max_receive_count
            ),
        })
    }
}

/// What the operator commands open: the store, the queue pair.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct Target {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub queue: QueueArgs,
}

impl Target {
    /// The operator pair (source and DLQ); an SQS queue needs `--dlq-url`.
    pub async fn queues(&self) -> anyhow::Result<Queues> {
        let set = self.queue.open(&self.store.data_dir()?).await?;
        set.operator().map_err(anyhow::Error::msg)
    }
}
