//! `hookline search`: full-text search over what was captured, on the
//! store's own engine (docs/search.md).

use std::io::IsTerminal;

use chrono::{DateTime, TimeDelta, Utc};
use hookline_core::search::{self, Filters, Hit, Kind, Page, Search, snippet};

use crate::config::{Role, StoreArgs};
use crate::text::one_line;

const SYNTAX: &str = "\
Query syntax:
  pool timeout          every word, in any order
  \"connection pool\"     the words next to each other, in this order
  migrat*               words starting with `migrat`
  -flaky  -\"test run\"   not this word (or phrase)
A word is a run of letters and digits, case-insensitive: src/main.rs is the
phrase `src main rs`, parse_query the phrase `parse query`. No stemming:
use a prefix (`deploy*` finds deployed, deploying). Hits holding the query's
words as one phrase rank first, then by relevance (ts_rank on Postgres,
bm25 on SQLite).

Searched: prompts, assistant replies, tool inputs, tool results and errors,
file paths of tool calls (file_path, path, notebook_path); each document's
first 100,000 characters. Secrets the hook redacted are stored as
[REDACTED:rule] and cannot be found by their value.

Examples:
  hookline search '\"connection pool\" timeout' --since 7d
  hookline search 'migrat*' --tool Bash --project ~/src/app
  hookline search deadline --user alice --json";

#[derive(Debug, clap::Args)]
#[command(after_long_help = SYNTAX)]
pub struct Opts {
    /// The query (several arguments are joined with spaces); see --help.
    #[arg(required = true, num_args = 1.., value_name = "QUERY")]
    query: Vec<String>,
    /// Only sessions of this OS user (as the hook stamped it).
    #[arg(long, value_name = "NAME")]
    user: Option<String>,
    /// Only sessions captured on this host.
    #[arg(long, value_name = "NAME")]
    host: Option<String>,
    /// Only sessions whose working directory is DIR or below it.
    #[arg(long, value_name = "DIR")]
    project: Option<String>,
    /// Only calls of this tool (case-insensitive; leaves messages out).
    #[arg(long, value_name = "NAME")]
    tool: Option<String>,
    /// Only hits of this kind: prompt, reply, tool_input, tool_result, path.
    #[arg(long, value_parser = kind)]
    kind: Option<Kind>,
    /// Hits at or after: a day (2026-12-01), an RFC 3339 time, or back from
    /// now (30m, 24h, 7d).
    #[arg(long, value_name = "WHEN", value_parser = since)]
    since: Option<DateTime<Utc>>,
    /// Hits before: an RFC 3339 time, a duration back from now, or a day
    /// (that day included).
    #[arg(long, value_name = "WHEN", value_parser = until)]
    until: Option<DateTime<Utc>>,
    /// Only this session (its id or a prefix of it).
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// How many hits to show.
    #[arg(long, default_value_t = 20)]
    limit: i64,
    /// Skip this many hits (the next page: what the last one printed).
    #[arg(long, default_value_t = 0)]
    offset: i64,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArgs,
}

pub fn kind(s: &str) -> Result<Kind, String> {
    Kind::parse(s)
        .ok_or_else(|| format!("{s:?} is not one of prompt, reply, tool_input, tool_result, path"))
}

pub fn since(s: &str) -> Result<DateTime<Utc>, String> {
    hookline_core::ops::since::parse_since(s).or_else(|e| {
        hookline_core::usage::price::parse_day_or_time(s)
            .ok_or_else(|| format!("{e}, or a day (YYYY-MM-DD)"))
    })
}

pub fn until(s: &str) -> Result<DateTime<Utc>, String> {
    match hookline_core::ops::since::parse_since(s) {
        Ok(t) => Ok(t),
        // A day is included: until its end.
        Err(e) => hookline_core::usage::price::parse_day_or_time(s)
            .map(|d| d + TimeDelta::days(1))
            .ok_or_else(|| format!("{e}, or a day (YYYY-MM-DD)")),
    }
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    if let (Some(s), Some(u)) = (opts.since, opts.until) {
        anyhow::ensure!(s < u, "--since is not before --until");
    }
    let filters = Filters {
        user: opts.user,
        host: opts.host,
        project: opts.project,
        tool: opts.tool,
        since: opts.since,
        until: opts.until,
        session: opts.session,
        kind: opts.kind,
        // A local command with database credentials: an operator, unscoped.
        owners: None,
    };
    let text = opts.query.join(" ");
    let s = Search::parse(&text, filters)
        .map_err(|e| anyhow::anyhow!("cannot search {text:?}: {e} (hookline search --help)"))?;
    let s = Search {
        limit: opts.limit.clamp(1, search::MAX_LIMIT),
        offset: opts.offset.max(0),
        ..s
    };
    let stores = opts.store.open(Role::Operator).await?;
    let page = search::search(stores.search.as_ref(), &s).await?;
    if opts.json {
        println!("{}", serde_json::to_string_pretty(&page)?);
    } else {
        print!("{}", table(&page, std::io::stdout().is_terminal()));
    }
    Ok(())
}

fn what(h: &Hit) -> String {
    match &h.tool_name {
        Some(t) => format!("{} {t}", h.kind.as_str()),
        None => h.kind.as_str().to_owned(),
    }
}

/// Two lines a hit: when, what, session, title; the snippet, its words
/// bold on a terminal.
pub fn table(page: &Page, tty: bool) -> String {
    let (open, close) = if tty {
        ("\x1b[1;33m", "\x1b[0m")
    } else {
        ("", "")
    };
    let mut out = String::new();
    for h in &page.hits {
        out += &format!(
            "{}  {:<18}  {}  {}\n    {}\n",
            h.at.format("%Y-%m-%d %H:%M:%S"),
            one_line(&what(h), 18),
            h.session_id,
            one_line(h.title.as_deref().unwrap_or("-"), 60),
            snippet::marked(&h.snippet, open, close),
        );
    }
    match (page.hits.is_empty(), page.next_offset) {
        (true, _) => out += "(no hits)\n",
        (false, Some(next)) => out += &format!("(more: --offset {next})\n"),
        (false, None) => {}
    }
    out
}
