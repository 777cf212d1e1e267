//! Full-text search over prompts, replies, tool inputs and results, and
//! file paths (issue 20; docs/search.md), on each database's own engine:
//! Postgres `tsvector` + GIN, SQLite FTS5. The query language is parsed
//! once ([`query`]); each store renders it ([`Query::tsquery`],
//! [`Query::fts5`]) and ranks and filters in SQL ([`SearchStore`]); the
//! snippets are made here ([`snippet`]), the same on both.

pub mod query;
pub mod snippet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use query::{Query, QueryError};
pub use snippet::Fragment;

use crate::error::StoreError;

/// Most hits of one page.
pub const MAX_LIMIT: i64 = 200;

/// What a hit is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A person's prompt (a user message).
    Prompt,
    /// An assistant reply.
    Reply,
    /// A tool call's input (its string values, the path apart).
    ToolInput,
    /// A tool call's result or error.
    ToolResult,
    /// A tool call's file path (`file_path`, `path`, `notebook_path`).
    Path,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Prompt,
        Kind::Reply,
        Kind::ToolInput,
        Kind::ToolResult,
        Kind::Path,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Prompt => "prompt",
            Kind::Reply => "reply",
            Kind::ToolInput => "tool_input",
            Kind::ToolResult => "tool_result",
            Kind::Path => "path",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Which hits a search keeps. `None` keeps all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    /// The session's OS user, as the hook stamped it (exact).
    pub user: Option<String>,
    /// The session's host (exact).
    pub host: Option<String>,
    /// The session's cwd is this directory or below it.
    pub project: Option<String>,
    /// Tool calls of this tool only (case-insensitive name; messages are
    /// left out).
    pub tool: Option<String>,
    /// The hit's time is at or after this.
    pub since: Option<DateTime<Utc>>,
    /// The hit's time is before this.
    pub until: Option<DateTime<Utc>>,
    /// The session id, or a prefix of it.
    pub session: Option<String>,
    /// Only sessions whose user is one of these: the viewer's scope, set by
    /// [`crate::store::scope`], never from a caller's argument. `None`: any.
    pub owners: Option<Vec<String>>,
    /// Hits of this kind only.
    pub kind: Option<Kind>,
}

/// One search: the query, its filters, a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Search {
    pub query: Query,
    pub filters: Filters,
    pub limit: i64,
    pub offset: i64,
}

impl Search {
    /// Parses `text`; the first page of 20.
    pub fn parse(text: &str, filters: Filters) -> Result<Search, QueryError> {
        Ok(Search {
            query: Query::parse(text)?,
            filters,
            limit: 20,
            offset: 0,
        })
    }

    /// The LIKE pattern of the session filter (`\` escapes).
    pub fn session_pattern(&self) -> Option<String> {
        self.filters
            .session
            .as_deref()
            .map(|s| format!("{}%", crate::store::owner::like_escape(s)))
    }

    /// The project directory without its trailing `/`.
    pub fn project_dir(&self) -> Option<String> {
        self.filters
            .project
            .as_deref()
            .map(|p| p.trim_end_matches('/').to_owned())
    }

    /// The project directory with a trailing `/`, for "below it".
    pub fn project_below(&self) -> Option<String> {
        self.project_dir().map(|p| format!("{p}/"))
    }

    /// Whether a filter on the session's row (user, host, project,
    /// session) is set: the stores then scan only those sessions' rows.
    pub fn scoped(&self) -> bool {
        let f = &self.filters;
        f.user.is_some()
            || f.host.is_some()
            || f.project.is_some()
            || f.session.is_some()
            || f.owners.is_some()
    }

    /// Whether any filter is set. Without one every match of the query is
    /// on the list the page is cut from, so the stores rank the matches
    /// alone and read the rows of only those that can be on the page (the
    /// ones scoring at least the `offset + limit`th best score, ties kept).
    pub fn filtered(&self) -> bool {
        let Filters {
            user,
            host,
            project,
            tool,
            since,
            until,
            session,
            owners,
            kind,
        } = &self.filters;
        user.is_some()
            || host.is_some()
            || project.is_some()
            || tool.is_some()
            || since.is_some()
            || until.is_some()
            || session.is_some()
            || owners.is_some()
            || kind.is_some()
    }
}

/// A hit as the store finds it: ranked, filtered, with the text of its
/// document (its first 100,000 characters, as indexed).
#[derive(Clone, Debug, PartialEq)]
pub struct RawHit {
    pub session_id: String,
    pub title: Option<String>,
    pub kind: Kind,
    pub tool_name: Option<String>,
    pub at: DateTime<Utc>,
    /// The message key (prompt, reply) or tool use id: the anchor of the
    /// hit on the session page.
    pub anchor: String,
    /// Higher is better; comparable within one search only.
    pub score: f64,
    pub body: String,
}

/// A hit as it is shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub session_id: String,
    pub title: Option<String>,
    pub kind: Kind,
    pub tool_name: Option<String>,
    pub at: DateTime<Utc>,
    pub anchor: String,
    pub score: f64,
    pub snippet: Vec<Fragment>,
}

/// A page of hits, best first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub hits: Vec<Hit>,
    /// The offset of the next page, when there is one.
    pub next_offset: Option<i64>,
}

/// Searching a store: one implementation per database, where only the SQL
/// differs.
#[async_trait::async_trait]
pub trait SearchStore: Send + Sync {
    /// The hits of `s`, best first (score, then newest), `s.limit` of them
    /// from `s.offset`.
    async fn search_hits(&self, s: &Search) -> Result<Vec<RawHit>, StoreError>;
}

/// A page of `s` with snippets; asks the store for one hit more than the
/// page to know whether another page follows.
pub async fn search<S: SearchStore + ?Sized>(store: &S, s: &Search) -> Result<Page, StoreError> {
    let limit = s.limit.clamp(1, MAX_LIMIT);
    let probe = Search {
        limit: limit + 1,
        offset: s.offset.max(0),
        ..s.clone()
    };
    let mut raw = store.search_hits(&probe).await?;
    let more = raw.len() as i64 > limit;
    raw.truncate(limit as usize);
    let hits = raw
        .into_iter()
        .map(|h| Hit {
            snippet: snippet::snippet(&h.body, &s.query),
            session_id: h.session_id,
            title: h.title,
            kind: h.kind,
            tool_name: h.tool_name,
            at: h.at,
            anchor: h.anchor,
            score: h.score,
        })
        .collect();
    Ok(Page {
        hits,
        next_offset: more.then_some(probe.offset + limit),
    })
}
