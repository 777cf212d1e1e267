//! `hookline logs`: Lambda-format JSON log lines from CloudWatch Logs (AWS or
//! LocalStack, FilterLogEvents on the ingest and worker log groups) and
//! from local files (the hook's `hook.log`, a file `hookline serve` wrote),
//! filtered here by request id, trace id, level and time.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use aws_sdk_cloudwatchlogs::Client;
use chrono::{DateTime, Utc};
use hookline_core::ops::OpsError;
use hookline_core::ops::logs::{Level, LogFilter, LogLine, LogSearch, format_line, parse_line};
use hookline_core::ops::since::parse_since;

/// The log groups AWS gives the functions.
pub const DEFAULT_GROUPS: [&str; 2] =
    ["/aws/lambda/hookline-ingest", "/aws/lambda/hookline-worker"];

/// Where the lines come from.
#[derive(Debug, Clone, clap::Args)]
pub struct Sources {
    /// A local JSON log file (hook.log, serve's log); repeat for several.
    /// Without --group, only files are read.
    #[arg(long = "file", value_name = "PATH")]
    pub files: Vec<PathBuf>,
    /// A CloudWatch log group; repeat for several (default: the ingest and
    /// worker groups, when no --file is given).
    #[arg(long = "group", value_name = "NAME")]
    pub groups: Vec<String>,
}

impl Sources {
    fn groups(&self) -> Vec<String> {
        if self.groups.is_empty() && self.files.is_empty() {
            DEFAULT_GROUPS.iter().map(|g| (*g).to_owned()).collect()
        } else {
            self.groups.clone()
        }
    }
}

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Opts {
    #[command(subcommand)]
    ship: Option<Ship>,
    #[command(flatten)]
    sources: Sources,
    /// Only lines of this request id (also matches aws_request_id).
    #[arg(long)]
    request_id: Option<String>,
    /// Only lines of this trace id.
    #[arg(long)]
    trace_id: Option<String>,
    /// Only this level and more severe (trace, debug, info, warn, error).
    #[arg(long, value_parser = |s: &str| Level::parse(s).ok_or_else(|| format!("unknown level {s:?}")))]
    level: Option<Level>,
    /// Lines since then (30m, 24h, 7d, RFC 3339).
    #[arg(long, default_value = "1h", value_parser = parse_since)]
    since: DateTime<Utc>,
    /// Keep reading new lines until interrupted.
    #[arg(long)]
    follow: bool,
    /// Print each line as JSON instead of readable text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Subcommand)]
enum Ship {
    /// Copy JSON log lines from stdin or a file into CloudWatch Logs (a
    /// line's `function` field picks `/aws/lambda/<function>`).
    Ship(super::logs_ship::Opts),
}

/// Builds a CloudWatch Logs client from the environment (region,
/// credentials, `AWS_ENDPOINT_URL`), as the SQS client is built.
pub async fn client() -> Client {
    Client::new(&hookline_core::aws::loader(None).load().await)
}

/// A fresh [`Reader`] per search: every line since the filter's time.
#[async_trait::async_trait]
impl LogSearch for Sources {
    async fn search(&self, filter: &LogFilter) -> Result<Vec<LogLine>, OpsError> {
        let mut reader = Reader::new(self.clone()).await;
        reader
            .read(filter)
            .await
            .map_err(|e| OpsError::Logs(e.into()))
    }
}

/// Reads lines from every source, keeping those `filter` selects. `seen`
/// (CloudWatch event ids, file offsets) makes a second call read only what
/// is new.
pub struct Reader {
    sources: Sources,
    cw: Option<Client>,
    seen: HashSet<String>,
    offsets: Vec<u64>,
}

impl Reader {
    pub async fn new(sources: Sources) -> Reader {
        let cw = if sources.groups().is_empty() {
            None
        } else {
            Some(client().await)
        };
        let offsets = vec![0; sources.files.len()];
        Reader {
            sources,
            cw,
            seen: HashSet::new(),
            offsets,
        }
    }

    pub async fn read(&mut self, filter: &LogFilter) -> anyhow::Result<Vec<LogLine>> {
        let mut out = Vec::new();
        for (i, path) in self.sources.files.iter().enumerate() {
            let text = match std::fs::read(path) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
            };
            let start = usize::try_from(self.offsets[i])
                .unwrap_or(0)
                .min(text.len());
            // Only whole lines; a partial last line is read next time.
            let end = text[start..]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(start, |p| start + p + 1);
            self.offsets[i] = end as u64;
            let name = path.display().to_string();
            for line in String::from_utf8_lossy(&text[start..end]).lines() {
                out.extend(parse_line(&name, line, None).filter(|l| filter.matches(l)));
            }
        }
        if let Some(cw) = self.cw.clone() {
            for group in self.sources.groups() {
                out.extend(self.read_group(&cw, &group, filter).await?);
            }
        }
        out.sort_by_key(|l| l.timestamp);
        Ok(out)
    }

    async fn read_group(
        &mut self,
        cw: &Client,
        group: &str,
        filter: &LogFilter,
    ) -> anyhow::Result<Vec<LogLine>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut req = cw
                .filter_log_events()
                .log_group_name(group)
                .set_next_token(token.take());
            if let Some(s) = filter.since {
                req = req.start_time(s.timestamp_millis());
            }
            // A server-side hint only (LocalStack ignores patterns): every
            // line is filtered again below.
            if let Some(id) = filter.request_id.as_deref().or(filter.trace_id.as_deref()) {
                req = req.filter_pattern(format!("\"{}\"", id.replace('"', "")));
            }
            let page = match req.send().await {
                Ok(p) => p,
                Err(e) => {
                    let e = aws_sdk_cloudwatchlogs::error::DisplayErrorContext(e);
                    if e.to_string().contains("ResourceNotFound") {
                        tracing::warn!(group, "log group not found");
                        return Ok(out);
                    }
                    anyhow::bail!("FilterLogEvents {group}: {e}");
                }
            };
            for ev in page.events() {
                let id = ev.event_id().unwrap_or_default().to_owned();
                if !id.is_empty() && !self.seen.insert(id) {
                    continue;
                }
                let at = ev.timestamp().and_then(DateTime::from_timestamp_millis);
                let source = format!("{group}/{}", ev.log_stream_name().unwrap_or("-"));
                out.extend(
                    parse_line(&source, ev.message().unwrap_or_default(), at)
                        .filter(|l| filter.matches(l)),
                );
            }
            match page.next_token() {
                Some(t) if !t.is_empty() && !page.events().is_empty() => token = Some(t.to_owned()),
                _ => return Ok(out),
            }
        }
    }
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    if let Some(Ship::Ship(ship)) = opts.ship {
        return super::logs_ship::run(ship).await;
    }
    let filter = LogFilter {
        request_id: opts.request_id,
        trace_id: opts.trace_id,
        level: opts.level,
        since: Some(opts.since),
    };
    let mut reader = Reader::new(opts.sources).await;
    loop {
        for l in reader.read(&filter).await? {
            if opts.json {
                println!("{}", serde_json::to_string(&l)?);
            } else {
                println!("{}", format_line(&l));
            }
        }
        if !opts.follow {
            return Ok(());
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}
