//! Export of captured sessions (`hookline sessions export`, the session
//! page's downloads): what is exported ([`Part`], loaded once from the
//! store) and the three renderings, written once for the CLI and the
//! dashboard: Markdown ([`markdown`]), one self-contained HTML file
//! ([`html`]) and the stored transcript lines as JSONL ([`jsonl`]).

pub mod html;
pub mod jsonl;
pub mod markdown;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hookline_core::error::StoreError;
use hookline_core::store::read::{Lookup, lookup, view_of};
use hookline_core::store::{Reader, SessionView, ThreadLink};
use hookline_core::usage::price::PriceBook;
use hookline_core::usage::{Price, UsageStore};

/// Most sessions one date-range export holds.
pub const MAX_SESSIONS: i64 = 10_000;

/// An export's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Markdown that reads well on GitHub (tool calls in `<details>`).
    #[value(alias = "markdown")]
    Md,
    /// One self-contained HTML file (inline CSS, no script, no network).
    Html,
    /// The transcript lines as captured, one JSON object a line.
    Jsonl,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Md => "md",
            Format::Html => "html",
            Format::Jsonl => "jsonl",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Md => "text/markdown; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
            Format::Jsonl => "application/x-ndjson",
        }
    }
}

/// Why nothing could be exported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    #[error("no session {0:?} is captured")]
    UnknownSession(String),
    #[error("several sessions start with {0:?}; give more of the id")]
    AmbiguousPrefix(String),
    #[error("no session started in the range {0}")]
    EmptyRange(String),
    #[error("cannot read the store")]
    Store(#[from] StoreError),
}

/// What the costs of a session's messages are, where a price is known.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Costs {
    /// Per message key: the cost in picodollars, `None` for an unpriced model.
    pub by_message: HashMap<String, Option<i128>>,
    /// The priced messages' sum.
    pub total: i128,
    /// Messages of models without a price.
    pub unpriced: usize,
}

/// One exported session.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    pub view: SessionView,
    /// Its place in the thread, when the export is a thread.
    pub link: Option<ThreadLink>,
    /// `None` when no usage store was given.
    pub costs: Option<Costs>,
    /// The stored transcript entries (loaded for JSONL only).
    pub entries: Vec<serde_json::Value>,
}

/// Where costs come from: the usage store and the deployment's overrides.
pub struct Pricing<'a> {
    pub store: &'a dyn UsageStore,
    /// Loaded once for the whole export (not once per session).
    pub book: PriceBook,
}

impl<'a> Pricing<'a> {
    /// The store's prices with the deployment's `overrides`.
    pub async fn load(
        store: &'a dyn UsageStore,
        overrides: Vec<Price>,
    ) -> Result<Pricing<'a>, StoreError> {
        let book = hookline_core::usage::book(store, overrides).await?;
        Ok(Pricing { store, book })
    }
}

/// Loads what an export of `format` needs.
pub struct Loader<'a> {
    pub reader: &'a dyn Reader,
    pub pricing: Option<Pricing<'a>>,
    pub format: Format,
}

impl Loader<'_> {
    /// The session `id` names (an id or a unique prefix): its id, or why not.
    pub async fn resolve(&self, id: &str) -> Result<String, ExportError> {
        match lookup(self.reader, id).await? {
            Lookup::Found(h) => Ok(h.summary.session_id),
            Lookup::Unknown => Err(ExportError::UnknownSession(id.to_owned())),
            Lookup::Ambiguous => Err(ExportError::AmbiguousPrefix(id.to_owned())),
        }
    }

    /// The sessions to export for `id`: itself, or with `thread` every
    /// session of its thread, oldest first, each with its link.
    pub async fn sessions_of(
        &self,
        id: &str,
        thread: bool,
    ) -> Result<Vec<(String, Option<ThreadLink>)>, ExportError> {
        let sid = self.resolve(id).await?;
        if !thread {
            return Ok(vec![(sid, None)]);
        }
        let links = hookline_core::store::thread(self.reader, &sid).await?;
        if links.is_empty() {
            return Ok(vec![(sid, None)]);
        }
        Ok(links
            .into_iter()
            .map(|l| (l.session_id.clone(), Some(l)))
            .collect())
    }

    /// The sessions started in `[since, until)`, oldest first.
    pub async fn sessions_between(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<String>, ExportError> {
        let ids = self
            .reader
            .sessions_started_between(since, until, None, MAX_SESSIONS)
            .await?;
        if ids.is_empty() {
            let show = |t: Option<DateTime<Utc>>| t.map_or("…".to_owned(), |t| t.to_rfc3339());
            return Err(ExportError::EmptyRange(format!(
                "[{}, {})",
                show(since),
                show(until)
            )));
        }
        Ok(ids)
    }

    /// One session, whole (`session_id` exact).
    pub async fn part(
        &self,
        session_id: &str,
        link: Option<ThreadLink>,
    ) -> Result<Part, ExportError> {
        let Lookup::Found(head) = lookup(self.reader, session_id).await? else {
            return Err(ExportError::UnknownSession(session_id.to_owned()));
        };
        let view = view_of(self.reader, *head).await?;
        // JSONL carries the transcript lines only: no costs to read.
        let costs = match (&self.pricing, self.format) {
            (Some(p), Format::Md | Format::Html) => Some(costs(p, &view.summary.session_id).await?),
            _ => None,
        };
        let entries = match self.format {
            Format::Jsonl => {
                self.reader
                    .session_entries(&view.summary.session_id)
                    .await?
            }
            Format::Md | Format::Html => Vec::new(),
        };
        Ok(Part {
            view,
            link,
            costs,
            entries,
        })
    }
}

async fn costs(p: &Pricing<'_>, session_id: &str) -> Result<Costs, StoreError> {
    let mut out = Costs::default();
    for m in p.store.message_usage(session_id).await? {
        let c = hookline_core::usage::message_cost(&p.book, &m);
        match c {
            Some(c) => out.total += c,
            None => out.unpriced += 1,
        }
        out.by_message.insert(m.message_key, c);
    }
    Ok(out)
}

/// The export of `parts` in `format`.
pub fn render(format: Format, parts: &[Part]) -> String {
    match format {
        Format::Md => markdown::render(parts),
        Format::Html => html::render(parts),
        Format::Jsonl => jsonl::render(parts),
    }
}

/// A file name for the export of `parts`: the first session's id (and
/// `-thread` or the count for several).
pub fn file_name(format: Format, parts: &[Part]) -> String {
    let first = parts
        .first()
        .map_or("sessions", |p| p.view.summary.session_id.as_str());
    let safe: String = first
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let suffix = match parts.len() {
        0 | 1 => String::new(),
        n => format!("-{n}-sessions"),
    };
    format!("hookline-{safe}{suffix}.{}", format.extension())
}

/// `$0.0123` (four places).
pub fn usd(pico: i128) -> String {
    format!("${}", hookline_core::usage::price::usd_rounded(pico, 4))
}

/// How long, from seconds: `45s`, `3m07s`, `2h05m`.
pub fn duration(secs: i64) -> String {
    match secs {
        d if d < 60 => format!("{d}s"),
        d if d < 3600 => format!("{}m{:02}s", d / 60, d % 60),
        d => format!("{}h{:02}m", d / 3600, (d % 3600) / 60),
    }
}

/// A tool result as text: a JSON string as itself, anything else pretty.
pub fn result_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        // Claude Code's content blocks: their texts, one after another.
        serde_json::Value::Array(blocks)
            if !blocks.is_empty()
                && blocks
                    .iter()
                    .all(|b| b.get("type").and_then(|t| t.as_str()) == Some("text")) =>
        {
            blocks
                .iter()
                .filter_map(|b| b.get("text").and_then(|t| t.as_str()))
                .collect::<Vec<_>>()
                .join("\n")
        }
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// JSON, pretty.
pub fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}
