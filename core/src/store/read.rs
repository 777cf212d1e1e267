//! Read side of the store: what `hookline sessions` and the dashboard show.
//! Values come back unescaped (see `crate::text`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::page::Seek;
use crate::error::StoreError;

/// One conversation in a list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    pub session_id: String,
    pub title: Option<String>,
    pub cwd: Option<String>,
    pub user_name: Option<String>,
    pub host: Option<String>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
    pub message_count: i64,
    pub tool_use_count: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    /// The latest time of any of the session's rows (messages, entries,
    /// tool uses, its end): where a session without SessionEnd stopped.
    pub last_activity_at: Option<DateTime<Utc>>,
}

impl SessionSummary {
    /// From start to end, or to its last activity when no SessionEnd came.
    pub fn duration_seconds(&self) -> Option<i64> {
        self.ended_at
            .or(self.last_activity_at)
            .map(|e| (e - self.started_at).num_seconds())
    }
}

/// One step of a conversation, in time order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    Message {
        at: DateTime<Utc>,
        /// The message's key in its session (docs/schema.md): a search
        /// hit's anchor.
        key: String,
        role: String,
        text: String,
        model: Option<String>,
        input_tokens: Option<i64>,
        output_tokens: Option<i64>,
        agent_id: Option<String>,
    },
    ToolUse {
        at: DateTime<Utc>,
        tool_use_id: String,
        tool_name: Option<String>,
        status: String,
        input: Option<Value>,
        response: Option<Value>,
        error: Option<String>,
        duration_ms: Option<i64>,
        agent_id: Option<String>,
    },
}

impl Step {
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Step::Message { at, .. } | Step::ToolUse { at, .. } => *at,
        }
    }
}

/// A whole conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    #[serde(flatten)]
    pub summary: SessionSummary,
    pub start_source: Option<String>,
    pub model: Option<String>,
    pub steps: Vec<Step>,
}

/// A conversation's own row, as [`Reader::session_heads`] gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionHead {
    pub summary: SessionSummary,
    pub start_source: Option<String>,
    pub model: Option<String>,
}

/// Which conversations a list shows: all of them, or those of one user
/// and/or one host (as the hook stamped them; exact match), started in a
/// time range, whose title, cwd or id holds a text, or that used a tool.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionFilter {
    pub user: Option<String>,
    pub host: Option<String>,
    /// Only sessions whose title, cwd or session id contains this
    /// (case-insensitive: lower-cased here and by the store's `lower`,
    /// which on SQLite folds ASCII letters only).
    pub text: Option<String>,
    /// Only sessions started at or after this.
    pub since: Option<DateTime<Utc>>,
    /// Only sessions started before this.
    pub until: Option<DateTime<Utc>>,
    /// Only sessions with a tool use of this tool (case-insensitive exact
    /// name, e.g. `bash` finds `Bash`).
    pub tool: Option<String>,
    /// Only sessions whose user is one of these: the viewer's scope, set by
    /// [`super::scope`], never by a caller's argument. `None`: any.
    pub owners: Option<Vec<String>>,
}

/// One session of a thread: the chain of sessions continued from one
/// another (resume, fork, clear, compact; docs/schema.md).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThreadLink {
    pub session_id: String,
    /// The session this one continues.
    pub parent_session_id: Option<String>,
    /// How: `resume`, `fork`, `clear`, `compact` (SessionStart's source) or
    /// `continued` (the transcript says so, the source is unknown).
    pub link_kind: Option<String>,
    pub started_at: DateTime<Utc>,
    pub title: Option<String>,
    /// 0 for the thread's first session; a fork's sessions sit one deeper
    /// than the session they continue.
    pub depth: usize,
}

/// Longest thread walked (a guard against a cycle of bad links).
pub const MAX_THREAD: usize = 1000;

/// The whole thread `session_id` belongs to, from its first session, each
/// session followed by those continuing it (oldest first). Empty when the
/// session is unknown.
pub async fn thread<R: Reader + ?Sized>(
    r: &R,
    session_id: &str,
) -> Result<Vec<ThreadLink>, StoreError> {
    let Some(mut root) = r.thread_link(session_id).await? else {
        return Ok(Vec::new());
    };
    let mut seen = std::collections::HashSet::from([root.session_id.clone()]);
    while let Some(parent) = root.parent_session_id.clone() {
        if seen.len() >= MAX_THREAD || !seen.insert(parent.clone()) {
            break;
        }
        match r.thread_link(&parent).await? {
            Some(p) => root = p,
            None => break,
        }
    }
    let mut out = Vec::new();
    let mut stack = vec![ThreadLink { depth: 0, ..root }];
    let mut visited = std::collections::HashSet::new();
    while let Some(link) = stack.pop() {
        if out.len() >= MAX_THREAD || !visited.insert(link.session_id.clone()) {
            continue;
        }
        let mut children = r.thread_children(&link.session_id).await?;
        children.sort_by(|a, b| (a.started_at, &a.session_id).cmp(&(b.started_at, &b.session_id)));
        // One continuation stays at the same depth (a chain); more are forks.
        let depth = if children.len() > 1 {
            link.depth + 1
        } else {
            link.depth
        };
        for c in children.into_iter().rev() {
            stack.push(ThreadLink { depth, ..c });
        }
        out.push(link);
    }
    Ok(out)
}

/// What a session id or prefix names.
#[derive(Clone, Debug, PartialEq)]
pub enum Lookup {
    /// The session with that id, or the only one with that prefix.
    Found(Box<SessionHead>),
    /// No session has that id or prefix.
    Unknown,
    /// Several sessions start with that prefix.
    Ambiguous,
}

/// Which session `id` (an id or a unique prefix of one) names.
pub async fn lookup<R: Reader + ?Sized>(r: &R, id: &str) -> Result<Lookup, StoreError> {
    let pattern = format!("{}%", super::owner::like_escape(id));
    let mut found = r.session_heads(id, &pattern, None).await?.into_iter();
    // An exact match, or exactly one prefix match.
    Ok(match (found.next(), found.next()) {
        (Some(one), None) => Lookup::Found(Box::new(one)),
        (Some(first), Some(_)) if first.summary.session_id == id => Lookup::Found(Box::new(first)),
        (Some(_), Some(_)) => Lookup::Ambiguous,
        (None, _) => Lookup::Unknown,
    })
}

/// `Reader::session`: one conversation, `id` its id or a unique prefix of
/// it; its messages and tool uses in time order (a tool use with no time of
/// its own at the session's start).
pub async fn session_view<R: Reader + ?Sized>(
    r: &R,
    id: &str,
) -> Result<Option<SessionView>, StoreError> {
    let Lookup::Found(head) = lookup(r, id).await? else {
        return Ok(None);
    };
    view_of(r, *head).await.map(Some)
}

/// The whole conversation of a session whose row is `head`.
pub async fn view_of<R: Reader + ?Sized>(
    r: &R,
    head: SessionHead,
) -> Result<SessionView, StoreError> {
    let sid = head.summary.session_id.as_str();
    let mut steps = r.session_messages(sid).await?;
    steps.extend(r.session_tool_uses(sid, head.summary.started_at).await?);
    steps.sort_by_key(Step::at);
    Ok(SessionView {
        summary: head.summary,
        start_source: head.start_source,
        model: head.model,
        steps,
    })
}

/// Reading conversations back.
#[async_trait::async_trait]
pub trait Reader: Send + Sync {
    /// A session's thread fields (`depth` 0); `None` if it is not captured.
    async fn thread_link(&self, session_id: &str) -> Result<Option<ThreadLink>, StoreError>;
    /// The sessions that continue `session_id`.
    async fn thread_children(&self, session_id: &str) -> Result<Vec<ThreadLink>, StoreError>;
    /// Newest first.
    async fn list_sessions(&self, limit: i64) -> Result<Vec<SessionSummary>, StoreError> {
        self.list_sessions_where(&SessionFilter::default(), limit)
            .await
    }
    /// Newest first, only those `filter` selects.
    async fn list_sessions_where(
        &self,
        filter: &SessionFilter,
        limit: i64,
    ) -> Result<Vec<SessionSummary>, StoreError> {
        self.session_rows(filter, &Seek::First, limit).await
    }
    /// At most `limit` of the sessions `filter` selects, in the list's
    /// order (`started_at DESC, session_id DESC`) from the start or older
    /// than a cursor, or in the reverse order newer than one
    /// ([`Seek`]): a keyset read, an index range from the cursor on. Pages
    /// are built on it by [`super::page::page`].
    async fn session_rows(
        &self,
        filter: &SessionFilter,
        at: &Seek,
        limit: i64,
    ) -> Result<Vec<SessionSummary>, StoreError>;
    /// One conversation; `id` may be a unique prefix of the session id
    /// ([`session_view`]).
    async fn session(&self, id: &str) -> Result<Option<SessionView>, StoreError> {
        session_view(self, id).await
    }
    /// The conversations whose id is `id` or matches `pattern` (a LIKE
    /// pattern, `\` its escape character), the exact match first; two at
    /// most. With `owners`, only sessions whose user is one of them (the
    /// viewer's scope, [`super::scope`]).
    async fn session_heads(
        &self,
        id: &str,
        pattern: &str,
        owners: Option<&[String]>,
    ) -> Result<Vec<SessionHead>, StoreError>;
    /// The user of session `session_id` (exact id, one key lookup):
    /// `None` when it is not captured, `Some(None)` when it has no user.
    async fn session_user(&self, session_id: &str) -> Result<Option<Option<String>>, StoreError>;
    /// A session's messages as steps, in (time, message key) order.
    async fn session_messages(&self, session_id: &str) -> Result<Vec<Step>, StoreError>;
    /// A session's tool uses as steps; one with no time of its own is at
    /// `fallback`.
    async fn session_tool_uses(
        &self,
        session_id: &str,
        fallback: DateTime<Utc>,
    ) -> Result<Vec<Step>, StoreError>;
    /// The transcript entries stored for a session (the lines with a
    /// `uuid`), as captured: the main transcript's first, then each
    /// subagent's, each in file order where the line's position was
    /// recorded, else by (time, uuid).
    async fn session_entries(&self, session_id: &str) -> Result<Vec<Value>, StoreError>;
    /// Ids of the sessions started in `[since, until)` (either end open),
    /// oldest first, at most `limit`. With `owners`, only sessions whose
    /// user is one of them (the viewer's scope, [`super::scope`]).
    async fn sessions_started_between(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
        owners: Option<&[String]>,
        limit: i64,
    ) -> Result<Vec<String>, StoreError>;
}
