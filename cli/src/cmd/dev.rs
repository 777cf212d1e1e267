//! `hookline dev`: the local AWS stack's missing piece, the SQS event source
//! mapping. `hookline dev poll` long-polls the queue and invokes the worker
//! through `cargo lambda watch` (or in this process), deleting what
//! succeeded and leaving reported failures for redelivery.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use hookline_core::poller::{InProcess, Invoker, Poller};
use hookline_core::queue::sqs::{Purpose, SqsQueue, client};
use hookline_core::worker::WorkerConfig;
use hookline_store_postgres::PgStore;

use crate::config::{QueueArgs, StoreArgs};

#[derive(Debug, clap::Args)]
pub struct Opts {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Poll the queue and invoke the worker with each batch, like Lambda's
    /// SQS event source mapping (BatchSize, ReportBatchItemFailures).
    Poll(PollOpts),
}

#[derive(Debug, clap::Args)]
struct PollOpts {
    /// The SQS queue to poll (--queue-url, required) and its
    /// maxReceiveCount (--max-receive-count, for --in-process): the shared
    /// queue settings of every command.
    #[command(flatten)]
    queue: QueueArgs,
    /// Base URL of the Lambda runtime emulator (`cargo lambda watch`).
    #[arg(
        long,
        env = "HOOKLINE_INVOKE_URL",
        default_value = "http://127.0.0.1:9000"
    )]
    invoke_url: String,
    /// Function to invoke.
    #[arg(long, default_value = "hookline-worker")]
    function: String,
    /// Run the worker in this process against DATABASE_URL instead of
    /// invoking it over HTTP.
    #[arg(long)]
    in_process: bool,
    /// The database of --in-process: --database-url (postgres://…).
    #[command(flatten)]
    store: StoreArgs,
    /// Messages per batch (1-10).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u8).range(1..=10))]
    batch_size: u8,
    /// Long-poll wait in seconds (0-20).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u8).range(0..=20))]
    wait: u8,
    /// Stop after the queue has been empty for one poll (for scripts and tests).
    #[arg(long)]
    until_empty: bool,
    /// Batches processed at once (1-10), like the mapping's maximum
    /// concurrency: each poller receives, invokes and deletes on its own.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=10))]
    concurrency: u8,
}

/// Invokes a function through the Lambda invoke API of `cargo lambda watch`.
struct HttpInvoker {
    http: reqwest::Client,
    url: String,
}

#[async_trait::async_trait]
impl Invoker for HttpInvoker {
    async fn invoke(&self, event: &SqsEvent) -> Result<SqsBatchResponse, String> {
        let response = self
            .http
            .post(&self.url)
            .json(event)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!(
                "invoke answered {status}: {}",
                text.chars().take(500).collect::<String>()
            ));
        }
        serde_json::from_str(&text).map_err(|e| {
            format!(
                "unexpected invoke answer ({e}): {}",
                text.chars().take(500).collect::<String>()
            )
        })
    }
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    let Command::Poll(o) = opts.command;
    let queue_url = o
        .queue
        .queue_url
        .clone()
        .context("hookline dev poll polls an SQS queue: --queue-url or HOOKLINE_QUEUE_URL")?;
    let invoker: Arc<dyn Invoker> = if o.in_process {
        let url = o
            .store
            .database_url
            .as_deref()
            .context("--in-process needs DATABASE_URL")?;
        let pool = hookline_store_postgres::pool(url, u32::from(o.concurrency) + 1)
            .context("DATABASE_URL is not a valid Postgres URL")?;
        Arc::new(InProcess {
            store: Arc::new(PgStore::new(pool)),
            cfg: WorkerConfig {
                max_receive_count: o.queue.max_receive_count,
            },
        })
    } else {
        let url = format!(
            "{}/2015-03-31/functions/{}/invocations",
            o.invoke_url.trim_end_matches('/'),
            o.function
        );
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(300)) // the first invocation under watch compiles the function
            .build()?;
        Arc::new(HttpInvoker { http, url })
    };
    let name = queue_url.rsplit('/').next().unwrap_or("queue").to_owned();
    let poller = Arc::new(Poller {
        queue: Arc::new(SqsQueue::new(
            client(Purpose::Poll).await,
            queue_url.clone(),
        )),
        invoker,
        batch_size: o.batch_size.into(),
        wait: Duration::from_secs(o.wait.into()),
        source_arn: format!("arn:aws:sqs:us-east-1:000000000000:{name}"),
    });
    eprintln!(
        "hookline dev poll: polling {} (batch {}, wait {} s, {} at once)",
        queue_url, o.batch_size, o.wait, o.concurrency
    );
    let mut tasks = tokio::task::JoinSet::new();
    if o.until_empty {
        for _ in 0..o.concurrency {
            let poller = Arc::clone(&poller);
            tasks.spawn(async move {
                let mut total = 0;
                loop {
                    let stats = poller.poll_once().await.map_err(anyhow::Error::msg)?;
                    total += stats.deleted;
                    if stats.received == 0 {
                        return anyhow::Ok(total);
                    }
                }
            });
        }
        let mut total = 0;
        while let Some(done) = tasks.join_next().await {
            total += done??;
        }
        eprintln!("hookline dev poll: queue empty, {total} messages processed");
        return Ok(());
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    for _ in 0..o.concurrency {
        let poller = Arc::clone(&poller);
        let mut stopped = stopped.clone();
        tasks.spawn(async move {
            poller
                .run(async move {
                    stopped.wait_for(|s| *s).await.ok();
                })
                .await;
            anyhow::Ok(0usize)
        });
    }
    tokio::signal::ctrl_c().await.ok();
    stop.send(true).ok();
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}
