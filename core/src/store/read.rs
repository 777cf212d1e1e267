//! Read side of the store: what `hookline sessions` and the dashboard show.
//! Values come back unescaped (see `crate::text`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::error::StoreError;

/// One conversation in a list.
#[derive(Clone, Debug, PartialEq, Serialize)]
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
}

impl SessionSummary {
    /// From start to end, when it ended.
    pub fn duration_seconds(&self) -> Option<i64> {
        self.ended_at.map(|e| (e - self.started_at).num_seconds())
    }
}

/// One step of a conversation, in time order.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    Message {
        at: DateTime<Utc>,
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
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SessionView {
    #[serde(flatten)]
    pub summary: SessionSummary,
    pub start_source: Option<String>,
    pub model: Option<String>,
    pub steps: Vec<Step>,
}

/// Which conversations a list shows: all of them, or those of one user
/// and/or one host (as the hook stamped them; exact match).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionFilter {
    pub user: Option<String>,
    pub host: Option<String>,
}

/// Reading conversations back.
#[async_trait::async_trait]
pub trait Reader: Send + Sync {
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
    ) -> Result<Vec<SessionSummary>, StoreError>;
    /// One conversation; `id` may be a unique prefix of the session id.
    async fn session(&self, id: &str) -> Result<Option<SessionView>, StoreError>;
    /// Ids of the sessions with a tool use of this tool (case-insensitive
    /// exact name, e.g. `bash` finds `Bash`).
    async fn sessions_using_tool(&self, tool_name: &str) -> Result<Vec<String>, StoreError>;
}
