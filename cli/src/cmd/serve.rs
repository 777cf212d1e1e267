//! `hookline serve`: the whole pipeline in one process: the ingest HTTP API
//! (the same router as the Lambda function), the queue, and the worker loop
//! (the same code as the worker function, invoked in-process), on an
//! embedded SQLite store and queue unless told otherwise.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hookline_core::http::{DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY, IngestState, app};
use hookline_core::poller::{InProcess, Poller};
use hookline_core::worker::WorkerConfig;
use tokio::sync::watch;

use super::logs::Sources;
use crate::config::{QueueArgs, Role, StoreArgs};
use crate::dashboard::{self, Config, Dashboard};
use crate::tokens;

/// Everything `hookline serve` is configured with.
#[derive(Debug, clap::Args)]
pub struct Opts {
    /// Address to listen on. Anything but loopback needs configured tokens.
    #[arg(long, env = "HOOKLINE_LISTEN", default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub queue: QueueArgs,
    /// Accepted tokens as name:sha256hex pairs; absent → the data dir's
    /// token file, created with a new token on first start.
    #[arg(long, env = "HOOKLINE_TOKENS", hide_env_values = true)]
    pub tokens: Option<String>,
    /// Largest accepted body, in bytes.
    #[arg(long, env = "HOOKLINE_MAX_BODY", default_value_t = DEFAULT_MAX_BODY)]
    pub max_body: usize,
    /// Seconds to receive a whole body; a slower client is answered 408.
    #[arg(long, env = "HOOKLINE_BODY_TIMEOUT", default_value_t = DEFAULT_BODY_TIMEOUT.as_secs())]
    pub body_timeout: u64,
    /// A JSON log file the dashboard's Logs and Trace pages read (serve's
    /// own stderr redirected to a file, the hook's hook.log); repeat for
    /// several.
    #[arg(long = "log-file", value_name = "PATH")]
    pub log_files: Vec<PathBuf>,
    /// Do not serve the dashboard under /ui/.
    #[arg(long)]
    pub no_dashboard: bool,
    #[command(flatten)]
    pub sign_in: crate::config::SignInArgs,
    /// Delete sessions whose last activity is older than this many days,
    /// from the store and the DLQ, at start and then every
    /// --retention-interval seconds (absent or 0: keep everything).
    #[arg(long, env = "HOOKLINE_RETENTION_DAYS")]
    pub retention_days: Option<u32>,
    /// Seconds between two retention purges.
    #[arg(long, env = "HOOKLINE_RETENTION_INTERVAL", default_value_t = 3600)]
    pub retention_interval: u64,
    /// Seconds a token read from the token table is trusted before it is
    /// read again: a revoked token is refused at most this long after
    /// (1-30).
    #[arg(long, env = "HOOKLINE_TOKEN_CACHE_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=30))]
    pub token_cache_secs: u64,
    /// Messages per worker batch (1-10).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u8).range(1..=10))]
    pub batch_size: u8,
}

/// `hookline serve`: binds `--listen` and runs until SIGINT or SIGTERM.
pub async fn main(opts: Opts) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .with_context(|| format!("cannot listen on {}", opts.listen))?;
    run(opts, listener, async {
        shutdown_signal().await;
        eprintln!("hookline serve: stopping (finishing requests and the batch in progress)");
    })
    .await
}

/// The whole pipeline on `listener` (`config.listen` is not used: the
/// listener is bound already, on port 0 in tests) until `shutdown`
/// completes; then the requests in progress and the worker's batch finish.
pub async fn run(
    config: Opts,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let opts = config;
    let local = listener.local_addr()?;
    let data_dir = opts.store.data_dir()?;
    let resolved = tokens::resolve(opts.tokens.as_deref(), &data_dir, local)?;
    let stores = opts.store.open(Role::Serve).await?;
    let configured = tokens::or_table(resolved, stores.tokens.as_ref(), local).await?;
    let queues = opts.queue.open(&data_dir).await?;
    eprintln!(
        "hookline serve: store {}; queue {}",
        stores.description, queues.description
    );
    if let Some(dlq) = &queues.dlq {
        match dlq.depth().await {
            Ok(0) => {}
            Ok(n) => eprintln!(
                "hookline serve: the dead-letter queue holds {n} messages (hookline dlq list)"
            ),
            Err(e) => eprintln!("hookline serve: cannot read the dead-letter queue: {e}"),
        }
    }
    let (store, queue) = (stores.store.clone(), queues.queue.clone());
    let tokens = tokens::authenticator(
        configured,
        stores.tokens.clone(),
        Duration::from_secs(opts.token_cache_secs),
    );
    let overrides = crate::config::PriceArgs::from_env().overrides()?;
    let read = crate::read_api::router(
        crate::history::Local::of(&stores, overrides.clone()),
        tokens.clone(),
    );
    let usage = dashboard::Usage {
        store: stores.usage.clone(),
        overrides,
    };
    let sign_in = dashboard::SignIn::configured(&opts.sign_in, stores.logins.clone())?;
    let dashboard = (!opts.no_dashboard).then(|| {
        dashboard::router(Dashboard::with_all(
            Config {
                reader: stores.reader.clone(),
                ops: stores.ops.clone(),
                queues: queues.operator(),
                tokens: tokens.clone(),
                logs: (!opts.log_files.is_empty()).then(|| Sources {
                    files: opts.log_files.clone(),
                    groups: Vec::new(),
                }),
                description: format!("{}; {}", stores.description, queues.description),
                sign_in,
            },
            usage,
            stores.search.clone(),
        ))
    });
    if let Some(days) = opts.retention_days.filter(|d| *d > 0) {
        eprintln!("hookline serve: retention {days} days (sessions older are purged)");
        let every = Duration::from_secs(opts.retention_interval.max(1));
        tokio::spawn(retention(
            stores.ops.clone(),
            queues.dlq.clone(),
            days,
            every,
        ));
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = move |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };

    let state = IngestState {
        queue: queue.clone(),
        tokens,
        sessions: Some(stores.owners.clone()),
        max_body: opts.max_body,
        body_timeout: Duration::from_secs(opts.body_timeout.max(1)),
    };
    eprintln!(
        "hookline serve: listening on http://{local} (POST /v1/events{})",
        if dashboard.is_some() {
            "; dashboard /ui/"
        } else {
            ""
        }
    );
    let router = match dashboard {
        Some(d) => d.merge(read).merge(app(state)),
        None => read.merge(app(state)),
    };
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stopped(stop_rx.clone()));

    let poller = Poller {
        queue,
        invoker: Arc::new(InProcess {
            store,
            cfg: WorkerConfig {
                max_receive_count: opts.queue.max_receive_count,
            },
        }),
        batch_size: opts.batch_size.into(),
        wait: Duration::from_secs(1),
        source_arn: "arn:hookline:serve:embedded".into(),
    };
    let worker = tokio::spawn({
        let rx = stop_rx.clone();
        async move { poller.run(stopped(rx)).await }
    });

    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    server.await.context("HTTP server failed")?;
    worker.await.context("worker loop failed")?;
    eprintln!("hookline serve: stopped");
    Ok(())
}

/// The retention period: purges old sessions now and then every `every`.
async fn retention(
    ops: Arc<dyn hookline_core::ops::Ops>,
    dlq: Option<Arc<dyn hookline_core::queue::Queue>>,
    days: u32,
    every: Duration,
) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match hookline_core::ops::purge::apply_retention(ops.as_ref(), dlq.as_deref(), days).await {
            Ok(r) if r.total() > 0 => eprintln!(
                "hookline serve: retention purged {} sessions ({} rows and messages, purge {})",
                r.sessions.len(),
                r.total(),
                r.purge_id.unwrap_or_default()
            ),
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "retention purge failed; tried again next interval")
            }
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
