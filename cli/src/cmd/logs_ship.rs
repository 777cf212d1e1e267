//! `hookline logs ship`: copies JSON log lines from stdin or a file into
//! CloudWatch Logs, so that locally (functions under `cargo lambda watch`,
//! `hookline serve`) the lines land in the log groups AWS would use and the
//! same `hookline logs` and `aws logs` commands work.
//!
//! A line with a `function` field goes to `/aws/lambda/<function>`; others
//! to `--group`. Lines are sent in time order, at most every second.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use chrono::Utc;
use hookline_core::ops::logs::parse_line;
use tokio::sync::mpsc;

#[derive(Debug, clap::Args)]
pub struct Opts {
    /// Log group of lines without a `function` field.
    #[arg(long, default_value = "/aws/lambda/hookline-worker")]
    group: String,
    /// Log stream (default: `<date>/[$LATEST]hookline-<pid>`).
    #[arg(long)]
    stream: Option<String>,
    /// File to read; absent or `-`: stdin (until it closes).
    input: Option<PathBuf>,
    /// Keep reading the file as it grows (stdin is always followed).
    #[arg(long)]
    follow: bool,
}

/// Reads lines on a blocking thread.
fn reader(input: Option<PathBuf>, follow: bool, tx: mpsc::Sender<String>) -> anyhow::Result<()> {
    let boxed: Box<dyn BufRead + Send> = match input.filter(|p| p.as_os_str() != "-") {
        Some(p) => Box::new(std::io::BufReader::new(
            std::fs::File::open(&p).with_context(|| format!("cannot open {}", p.display()))?,
        )),
        None => Box::new(std::io::BufReader::new(std::io::stdin())),
    };
    let mut r = boxed;
    let mut line = String::new();
    loop {
        line.clear();
        let n = r.read_line(&mut line)?;
        if n == 0 {
            if !follow {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(500));
            continue;
        }
        if tx.blocking_send(line.trim_end().to_owned()).is_err() {
            return Ok(());
        }
    }
}

async fn ensure(cw: &Client, group: &str, stream: &str) -> anyhow::Result<()> {
    let exists = |e: &str| e.contains("ResourceAlreadyExists") || e.contains("already exists");
    if let Err(e) = cw.create_log_group().log_group_name(group).send().await {
        let e = aws_sdk_cloudwatchlogs::error::DisplayErrorContext(e).to_string();
        anyhow::ensure!(exists(&e), "CreateLogGroup {group}: {e}");
    }
    if let Err(e) = cw
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await
    {
        let e = aws_sdk_cloudwatchlogs::error::DisplayErrorContext(e).to_string();
        anyhow::ensure!(exists(&e), "CreateLogStream {group}/{stream}: {e}");
    }
    Ok(())
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    let cw = super::logs::client().await;
    let stream = opts.stream.clone().unwrap_or_else(|| {
        format!(
            "{}/[$LATEST]hookline-{}",
            Utc::now().format("%Y/%m/%d"),
            std::process::id()
        )
    });
    let (tx, mut rx) = mpsc::channel::<String>(10_000);
    let (input, follow) = (opts.input.clone(), opts.follow);
    let reading = tokio::task::spawn_blocking(move || reader(input, follow, tx));
    let mut ready = std::collections::HashSet::new();
    let mut sent = 0usize;
    loop {
        let mut batch: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
        let first = rx.recv().await;
        let Some(first) = first else { break };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
        let mut next = Some(first);
        while let Some(line) = next.take() {
            if let Some(parsed) = parse_line("-", &line, Some(Utc::now())) {
                let group = parsed
                    .function
                    .as_deref()
                    .map_or(opts.group.clone(), |f| format!("/aws/lambda/{f}"));
                let at = parsed.timestamp.unwrap_or_else(Utc::now).timestamp_millis();
                batch.entry(group).or_default().push((at, line));
            }
            if batch.values().map(Vec::len).sum::<usize>() >= 1000 {
                break;
            }
            next = tokio::time::timeout_at(deadline, rx.recv())
                .await
                .ok()
                .flatten();
        }
        for (group, mut lines) in batch {
            if ready.insert(group.clone()) {
                ensure(&cw, &group, &stream).await?;
            }
            lines.sort_by_key(|l| l.0);
            let mut put = cw
                .put_log_events()
                .log_group_name(&group)
                .log_stream_name(&stream);
            for (at, line) in &lines {
                put = put.log_events(
                    InputLogEvent::builder()
                        .timestamp(*at)
                        .message(line)
                        .build()?,
                );
            }
            put.send().await.map_err(|e| {
                anyhow::anyhow!(
                    "PutLogEvents {group}: {}",
                    aws_sdk_cloudwatchlogs::error::DisplayErrorContext(e)
                )
            })?;
            sent += lines.len();
        }
        crate::text::progress("shipped", sent, None);
    }
    reading.await.context("the reader stopped")??;
    eprintln!();
    println!("shipped {sent} line(s) to stream {stream}");
    Ok(())
}
