//! Reading the captured history through one interface, [`History`], over a
//! local store ([`Local`]: core's read paths on SQLite or Postgres) or a
//! remote `hookline serve` ([`Remote`]: its read-only JSON API,
//! `/v1/read/*`, docs/api.md). The MCP tools (`hookline mcp`) are written
//! once against it; `serve` answers its read API through [`Local`], so both
//! modes give the same answers.
//!
//! The arguments ([`SearchArgs`], [`SessionsArgs`], [`UsageArgs`]) are the
//! MCP tools' arguments and the read API's query parameters alike, checked
//! in one place ([`ArgError`] names the argument and says why).

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use hookline_core::error::StoreError;
use hookline_core::search::{self, Filters, Page, Search, SearchStore};
use hookline_core::store::scope::Viewer;
use hookline_core::store::{Reader, SessionFilter, SessionSummary, SessionView};
use hookline_core::usage::{self, By, Period, Price, ReportOptions, UsageStore};
use serde::{Deserialize, Serialize};

/// Most sessions one `recent_sessions` answer lists.
pub const MAX_SESSIONS: i64 = 100;

/// An argument that cannot be used: which one, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("argument `{argument}`: {reason}")]
pub struct ArgError {
    pub argument: String,
    pub reason: String,
}

impl ArgError {
    pub fn new(argument: &str, reason: impl Into<String>) -> ArgError {
        ArgError {
            argument: argument.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(transparent)]
    Arg(#[from] ArgError),
    #[error("cannot read the store")]
    Store(#[from] StoreError),
    #[error("the hookline server at {url} refused the token (401): check --token")]
    Unauthorized { url: String },
    #[error("cannot reach the hookline server at {url}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the hookline server at {url} answered {status}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
}

/// `search_history`'s arguments: the query and the filters of
/// `hookline search`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchArgs {
    /// The query: words (all of them, any order), "a phrase", prefix*,
    /// -word to leave out (as `hookline search`).
    pub query: String,
    /// Only sessions of this OS user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Only sessions captured on this host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Only sessions whose working directory is this directory or below it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Only calls of this tool (case-insensitive, e.g. Bash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// Only hits of this kind: prompt, reply, tool_input, tool_result, path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["prompt", "reply", "tool_input", "tool_result", "path", null]))]
    pub kind: Option<String>,
    /// Hits at or after: a day (2026-12-01), an RFC 3339 time, or back
    /// from now (30m, 24h, 7d).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Hits before: a day (included), an RFC 3339 time, or back from now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Only this session (its id or a prefix of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// Hits per answer (1-50, default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Skip this many hits: the `next_offset` of the previous answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
}

/// `recent_sessions`' arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionsArgs {
    /// Only the sessions of this OS user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Only the sessions captured on this host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// How many, newest first (1-100, default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// `usage`'s arguments: the reports of `hookline usage`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageArgs {
    /// One row per: daily (default), weekly, monthly, session, blocks
    /// (5-hour billing blocks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["daily", "weekly", "monthly", "session", "blocks", null]))]
    pub view: Option<String>,
    /// Split each row by: model, user, host, project, tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["model", "user", "host", "project", "tool", null]))]
    pub by: Option<String>,
    /// Only the sessions of this OS user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Only sessions whose working directory is this path or ends in this
    /// directory name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// From this UTC day on (YYYY-MM-DD), inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Up to this UTC day (YYYY-MM-DD), inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// Default and most hits of one `search_history` answer.
pub const SEARCH_LIMIT: (i64, i64) = (10, 50);

impl SearchArgs {
    /// The search these arguments ask for, or which argument is wrong.
    pub fn to_search(&self) -> Result<Search, ArgError> {
        use crate::cmd::search as cli;
        let when =
            |name: &str, v: &Option<String>, parse: fn(&str) -> Result<DateTime<Utc>, String>| {
                v.as_deref()
                    .map(parse)
                    .transpose()
                    .map_err(|e| ArgError::new(name, e))
            };
        let since = when("since", &self.since, cli::since)?;
        let until = when("until", &self.until, cli::until)?;
        if let (Some(s), Some(u)) = (since, until)
            && s >= u
        {
            return Err(ArgError::new("since", "is not before `until`"));
        }
        let kind = self
            .kind
            .as_deref()
            .map(cli::kind)
            .transpose()
            .map_err(|e| ArgError::new("kind", e))?;
        let (default, max) = SEARCH_LIMIT;
        let limit = self.limit.unwrap_or(default);
        if !(1..=max).contains(&limit) {
            return Err(ArgError::new(
                "limit",
                format!("{limit} is not between 1 and {max}"),
            ));
        }
        let offset = self.offset.unwrap_or(0);
        if offset < 0 {
            return Err(ArgError::new("offset", format!("{offset} is negative")));
        }
        let filters = Filters {
            user: self.user.clone(),
            host: self.host.clone(),
            project: self.project.clone(),
            tool: self.tool.clone(),
            since,
            until,
            session: self.session.clone(),
            kind,
            owners: None,
        };
        let s = Search::parse(&self.query, filters)
            .map_err(|e| ArgError::new("query", format!("{e} (in {:?})", self.query)))?;
        Ok(Search {
            limit: limit.min(search::MAX_LIMIT),
            offset,
            ..s
        })
    }
}

impl SessionsArgs {
    /// The filter and the count, or which argument is wrong.
    pub fn to_filter(&self) -> Result<(SessionFilter, i64), ArgError> {
        let limit = self.limit.unwrap_or(20);
        if !(1..=MAX_SESSIONS).contains(&limit) {
            return Err(ArgError::new(
                "limit",
                format!("{limit} is not between 1 and {MAX_SESSIONS}"),
            ));
        }
        Ok((
            SessionFilter {
                user: self.user.clone(),
                host: self.host.clone(),
                ..SessionFilter::default()
            },
            limit,
        ))
    }
}

/// A usage selection: the hours and the report's shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageSelection {
    pub since: Option<DateTime<Utc>>,
    /// Exclusive: the day after `until`.
    pub until: Option<DateTime<Utc>>,
    pub options: ReportOptions,
}

impl UsageArgs {
    /// The selection, or which argument is wrong.
    pub fn to_selection(&self) -> Result<UsageSelection, ArgError> {
        let period = match self.view.as_deref().unwrap_or("daily") {
            "daily" => Period::Daily,
            "weekly" => Period::Weekly,
            "monthly" => Period::Monthly,
            "session" => Period::Session,
            "blocks" => Period::Blocks,
            other => {
                return Err(ArgError::new(
                    "view",
                    format!("{other:?} is not one of daily, weekly, monthly, session, blocks"),
                ));
            }
        };
        let by = match self.by.as_deref() {
            None => None,
            Some("model") => Some(By::Model),
            Some("user") => Some(By::User),
            Some("host") => Some(By::Host),
            Some("project") => Some(By::Project),
            Some("tool") => Some(By::Tool),
            Some(other) => {
                return Err(ArgError::new(
                    "by",
                    format!("{other:?} is not one of model, user, host, project, tool"),
                ));
            }
        };
        let day = |name: &str, v: &Option<String>| {
            v.as_deref()
                .map(crate::cmd::usage::day)
                .transpose()
                .map_err(|e| ArgError::new(name, e))
        };
        let since = day("since", &self.since)?;
        let until = day("until", &self.until)?;
        if let (Some(s), Some(u)) = (since, until)
            && s > u
        {
            return Err(ArgError::new("since", "is after `until`"));
        }
        Ok(UsageSelection {
            since,
            until: until.map(|u| u + TimeDelta::days(1)),
            options: ReportOptions {
                period,
                by,
                user: self.user.clone(),
                project: self.project.clone(),
            },
        })
    }
}

/// `get_session`'s `id`, trimmed, or why it cannot be one.
fn session_id(id: &str) -> Result<&str, ArgError> {
    match id.trim() {
        "" => Err(ArgError::new(
            "id",
            "is empty: give a session id or a prefix of it",
        )),
        id => Ok(id),
    }
}

/// The history, read-only: what the MCP tools ask.
#[async_trait::async_trait]
pub trait History: Send + Sync {
    /// A page of ranked hits with snippets.
    async fn search(&self, args: &SearchArgs) -> Result<Page, HistoryError>;
    /// Sessions, newest first.
    async fn sessions(&self, args: &SessionsArgs) -> Result<Vec<SessionSummary>, HistoryError>;
    /// One session by id or unique prefix; `None` when none (or several)
    /// match.
    async fn session(&self, id: &str) -> Result<Option<SessionView>, HistoryError>;
    /// A usage report, as `hookline usage --json` prints it.
    async fn usage(&self, args: &UsageArgs) -> Result<serde_json::Value, HistoryError>;
}

/// The history of a store this process opened: every session (an
/// operator's, `hookline mcp` on the database); the read API narrows it
/// per request with [`Local::viewed_by`].
#[derive(Clone)]
pub struct Local {
    pub reader: Arc<dyn Reader>,
    pub search: Arc<dyn SearchStore>,
    pub usage: Arc<dyn UsageStore>,
    /// The deployment's price overrides (HOOKLINE_PRICES_FILE).
    pub overrides: Vec<Price>,
}

impl Local {
    pub fn of(stores: &crate::config::Stores, overrides: Vec<Price>) -> Local {
        Local {
            reader: stores.reader.clone(),
            search: stores.search.clone(),
            usage: stores.usage.clone(),
            overrides,
        }
    }

    /// This history as `viewer` may read it (the read API, per request):
    /// a member's sessions and spend only ([`Viewer`]).
    pub fn viewed_by(&self, viewer: &Viewer) -> Local {
        Local {
            reader: viewer.reader(self.reader.clone()),
            search: viewer.search(self.search.clone()),
            usage: viewer.usage(self.usage.clone()),
            overrides: self.overrides.clone(),
        }
    }
}

#[async_trait::async_trait]
impl History for Local {
    async fn search(&self, args: &SearchArgs) -> Result<Page, HistoryError> {
        let s = args.to_search()?;
        Ok(search::search(self.search.as_ref(), &s).await?)
    }

    async fn sessions(&self, args: &SessionsArgs) -> Result<Vec<SessionSummary>, HistoryError> {
        let (filter, limit) = args.to_filter()?;
        Ok(self.reader.list_sessions_where(&filter, limit).await?)
    }

    async fn session(&self, id: &str) -> Result<Option<SessionView>, HistoryError> {
        Ok(self.reader.session(session_id(id)?).await?)
    }

    async fn usage(&self, args: &UsageArgs) -> Result<serde_json::Value, HistoryError> {
        let sel = args.to_selection()?;
        let report = usage::report(
            self.usage.as_ref(),
            self.overrides.clone(),
            sel.since,
            sel.until,
            &sel.options,
        )
        .await?;
        // Report serializes to a JSON object; failing that is a bug of ours.
        Ok(serde_json::to_value(&report).unwrap_or_default())
    }
}

/// The history of a `hookline serve` elsewhere, through its read API.
pub struct Remote {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Remote {
    /// `url`: the server's base URL (`https://hookline.example.com`).
    pub fn new(url: &str, token: &str) -> Remote {
        Remote {
            base: url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http: reqwest::Client::new(),
        }
    }

    async fn get<T: serde::de::DeserializeOwned, Q: Serialize + ?Sized>(
        &self,
        path: &str,
        query: &Q,
    ) -> Result<Option<T>, HistoryError> {
        let url = format!("{}{path}", self.base);
        let unreachable = |source| HistoryError::Unreachable {
            url: self.base.clone(),
            source,
        };
        let resp = self
            .http
            .get(&url)
            .bearer_auth(&self.token)
            .query(query)
            .timeout(std::time::Duration::from_secs(30))
            .send()
            .await
            .map_err(unreachable)?;
        let status = resp.status();
        if status.is_success() {
            return resp.json().await.map(Some).map_err(unreachable);
        }
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        let message = body["error"]["message"]
            .as_str()
            .unwrap_or("(no message)")
            .to_owned();
        match status.as_u16() {
            401 => Err(HistoryError::Unauthorized {
                url: self.base.clone(),
            }),
            404 if body["error"]["code"] == "no_session" => Ok(None),
            400 => match body["error"]["field"].as_str() {
                Some(field) => Err(ArgError {
                    argument: field.to_owned(),
                    reason: message,
                }
                .into()),
                None => Err(ArgError::new("arguments", message).into()),
            },
            code => Err(HistoryError::Status {
                url: self.base.clone(),
                status: code,
                message,
            }),
        }
    }
}

#[async_trait::async_trait]
impl History for Remote {
    async fn search(&self, args: &SearchArgs) -> Result<Page, HistoryError> {
        args.to_search()?;
        self.get("/v1/read/search", args)
            .await?
            .ok_or_else(|| ArgError::new("query", "not found").into())
    }

    async fn sessions(&self, args: &SessionsArgs) -> Result<Vec<SessionSummary>, HistoryError> {
        args.to_filter()?;
        Ok(self
            .get("/v1/read/sessions", args)
            .await?
            .unwrap_or_default())
    }

    async fn session(&self, id: &str) -> Result<Option<SessionView>, HistoryError> {
        self.get(
            &format!("/v1/read/sessions/{}", crate::text::seg(session_id(id)?)),
            &[] as &[(&str, &str)],
        )
        .await
    }

    async fn usage(&self, args: &UsageArgs) -> Result<serde_json::Value, HistoryError> {
        args.to_selection()?;
        Ok(self.get("/v1/read/usage", args).await?.unwrap_or_default())
    }
}
