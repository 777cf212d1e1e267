//! The typed view of a Claude Code hook event. The raw JSON travels beside
//! it (`HookEvent::raw`): unknown events and fields are kept, never refused.

use serde::Serialize;
use serde_json::Value;

use crate::ids::{SessionId, ToolUseId};
use crate::meta::HooklineMeta;

/// Every hook event Claude Code fires (31, late 2026). Only some map to
/// domain rows; the others, and any future one, are kept as audit rows.
pub const KNOWN_EVENTS: [&str; 31] = [
    "SessionStart",
    "Setup",
    "InstructionsLoaded",
    "UserPromptSubmit",
    "UserPromptExpansion",
    "PreToolUse",
    "PermissionRequest",
    "PermissionDenied",
    "PostToolUse",
    "PostToolUseFailure",
    "PostToolBatch",
    "Notification",
    "MessageDisplay",
    "SubagentStart",
    "SubagentStop",
    "Stop",
    "StopFailure",
    "PreCompact",
    "PostCompact",
    "SessionEnd",
    "TaskCreated",
    "TaskCompleted",
    "TeammateIdle",
    "ConfigChange",
    "CwdChanged",
    "DirectoryAdded",
    "FileChanged",
    "WorktreeCreate",
    "WorktreeRemove",
    "Elicitation",
    "ElicitationResult",
];

/// The kind of an event, from `hook_event_name`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum EventKind {
    SessionStart,
    UserPromptSubmit,
    PreToolUse,
    PostToolUse,
    PostToolUseFailure,
    Notification,
    Stop,
    SubagentStart,
    SubagentStop,
    PreCompact,
    SessionEnd,
    /// Any other event, known or not: an audit row only.
    Other(String),
}

impl EventKind {
    pub fn from_name(name: &str) -> Self {
        match name {
            "SessionStart" => Self::SessionStart,
            "UserPromptSubmit" => Self::UserPromptSubmit,
            "PreToolUse" => Self::PreToolUse,
            "PostToolUse" => Self::PostToolUse,
            "PostToolUseFailure" => Self::PostToolUseFailure,
            "Notification" => Self::Notification,
            "Stop" => Self::Stop,
            "SubagentStart" => Self::SubagentStart,
            "SubagentStop" => Self::SubagentStop,
            "PreCompact" => Self::PreCompact,
            "SessionEnd" => Self::SessionEnd,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Self::SessionStart => "SessionStart",
            Self::UserPromptSubmit => "UserPromptSubmit",
            Self::PreToolUse => "PreToolUse",
            Self::PostToolUse => "PostToolUse",
            Self::PostToolUseFailure => "PostToolUseFailure",
            Self::Notification => "Notification",
            Self::Stop => "Stop",
            Self::SubagentStart => "SubagentStart",
            Self::SubagentStop => "SubagentStop",
            Self::PreCompact => "PreCompact",
            Self::SessionEnd => "SessionEnd",
            Self::Other(name) => name,
        }
    }

    /// Whether Claude Code documents this event (false for a future one).
    pub fn is_known(&self) -> bool {
        KNOWN_EVENTS.contains(&self.name())
    }
}

/// Fields every event may carry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Common {
    pub session_id: SessionId,
    pub hook_event_name: String,
    pub transcript_path: Option<String>,
    pub cwd: Option<String>,
    pub permission_mode: Option<String>,
    pub prompt_id: Option<String>,
    pub agent_id: Option<String>,
    pub agent_type: Option<String>,
    pub model: Option<String>,
}

/// A tool call as the tool events describe it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ToolCall {
    pub tool_use_id: ToolUseId,
    pub tool_name: String,
    /// `null` when the event did not carry it.
    pub tool_input: Value,
}

/// What each event kind adds to [`Common`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind")]
pub enum EventData {
    SessionStart {
        source: Option<String>,
        session_title: Option<String>,
    },
    UserPromptSubmit {
        prompt: String,
    },
    PreToolUse {
        tool: ToolCall,
    },
    PostToolUse {
        tool: ToolCall,
        tool_response: Value,
        duration_ms: Option<i64>,
    },
    PostToolUseFailure {
        tool: ToolCall,
        error: Option<String>,
        is_interrupt: Option<bool>,
        duration_ms: Option<i64>,
    },
    Notification {
        message: Option<String>,
        title: Option<String>,
        notification_type: Option<String>,
    },
    Stop {
        stop_hook_active: Option<bool>,
        last_assistant_message: Option<String>,
    },
    SubagentStart {
        agent_id: String,
        agent_type: Option<String>,
    },
    SubagentStop {
        agent_id: String,
        agent_type: Option<String>,
        stop_hook_active: Option<bool>,
        last_assistant_message: Option<String>,
        agent_transcript_path: Option<String>,
    },
    PreCompact {
        trigger: Option<String>,
        custom_instructions: Option<String>,
    },
    SessionEnd {
        reason: Option<String>,
    },
    /// An event without a domain mapping: kept as an audit row.
    Other,
}

/// One parsed hook event: typed view, the hook's metadata, and the raw JSON.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HookEvent {
    pub kind: EventKind,
    pub common: Common,
    pub data: EventData,
    /// The `hookline` object, when a hookline client sent the event.
    pub meta: Option<HooklineMeta>,
    /// The body exactly as received (including unknown fields).
    pub raw: Value,
}
