//! `hookline sessions export`: one session, its thread, or the sessions of
//! a date range, as Markdown, one self-contained HTML file, or the stored
//! transcript lines (docs/export.md).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, Utc};

use crate::config::{PriceArgs, Role, StoreArgs};
use crate::export::{self, Format, Loader, Pricing};

const ABOUT: &str = "\
Formats:
  md     Markdown for GitHub: a facts table (times, model, tokens, cost where a
         price is known), each prompt and reply with its time, each tool call
         folded in <details> with its input and result.
  html   One self-contained file (inline CSS, no script, font or link), tool
         calls folded; opens without a network.
  jsonl  The transcript lines hookline stored, one JSON object a line: the
         main transcript's, then each subagent's, in file order. Lines
         without a uuid (file-history-snapshot, queue-operation, summary) are
         not stored, so not exported.

Examples:
  hookline sessions export 3f2a -o session.md
  hookline sessions export 3f2a --thread --format html -o thread.html
  hookline sessions export --since 2026-12-01 --until 2026-12-01 --format jsonl -o day.jsonl";

#[derive(Debug, clap::Args)]
#[command(after_long_help = ABOUT)]
pub struct Opts {
    /// Session id, or a unique prefix of it (or give --since/--until).
    #[arg(value_name = "ID", required_unless_present_any = ["since", "until"], conflicts_with_all = ["since", "until"])]
    id: Option<String>,
    /// Export the whole thread: every session linked to this one by resume,
    /// fork, clear or compact, oldest first.
    #[arg(long, requires = "id")]
    thread: bool,
    /// md, html or jsonl.
    #[arg(long, value_enum, default_value_t = Format::Md)]
    format: Format,
    /// Write to FILE instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Every session started at or after: a day (2026-12-01), an RFC 3339
    /// time, or back from now (30m, 24h, 7d).
    #[arg(long, value_name = "WHEN", value_parser = super::search::since)]
    since: Option<DateTime<Utc>>,
    /// Every session started before: an RFC 3339 time, a duration back from
    /// now, or a day (that day included).
    #[arg(long, value_name = "WHEN", value_parser = super::search::until)]
    until: Option<DateTime<Utc>>,
    #[command(flatten)]
    prices: PriceArgs,
}

pub async fn run(opts: Opts, store: StoreArgs) -> anyhow::Result<()> {
    if let (Some(s), Some(u)) = (opts.since, opts.until) {
        anyhow::ensure!(s < u, "--since is not before --until");
    }
    let stores = store.open(Role::Operator).await?;
    let loader = Loader {
        reader: stores.reader.as_ref(),
        pricing: Some(Pricing::load(stores.usage.as_ref(), opts.prices.overrides()?).await?),
        format: opts.format,
    };
    let todo = match &opts.id {
        Some(id) => loader.sessions_of(id, opts.thread).await?,
        None => loader
            .sessions_between(opts.since, opts.until)
            .await?
            .into_iter()
            .map(|s| (s, None))
            .collect(),
    };
    // A bar for a long export to a file (stderr, hidden when not a terminal).
    let bar = match (&opts.output, todo.len()) {
        (Some(_), n) if n > 1 => indicatif::ProgressBar::new(n as u64),
        _ => indicatif::ProgressBar::hidden(),
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} sessions {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut parts = Vec::with_capacity(todo.len());
    for (sid, link) in todo {
        parts.push(loader.part(&sid, link).await?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let text = export::render(opts.format, &parts);
    match &opts.output {
        Some(path) => {
            std::fs::write(path, &text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "wrote {} ({} session{}, {} bytes)",
                path.display(),
                parts.len(),
                if parts.len() == 1 { "" } else { "s" },
                text.len()
            );
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .context("cannot write to standard output")?;
        }
    }
    Ok(())
}
