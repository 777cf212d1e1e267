//! The typed view of a Claude Code hook event. The raw JSON travels beside
//! it (`HookEvent::raw`): unknown events and fields are kept, never refused.

use serde::Serialize;
use serde_json::Value;

use crate::ids::{SessionId, ToolUseId};
use crate::meta::HooklineMeta;

/// Every hook event Claude Code knows: the 34 of 2.1.332's bundle (2.1.197
/// knows 30 of them: not DirectoryAdded, PreModelSwitch, PostModelSwitch,
/// PreSkillShellCommand). Only some map to domain rows; the others, and any
/// future one, are kept as audit rows. Which of them the hook registers,
/// and why, is `hookline_hook::settings::hooks::NOT_REGISTERED`.
pub const KNOWN_EVENTS: [&str; 34] = [
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
    "PreModelSwitch",
    "PostModelSwitch",
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
    "PreSkillShellCommand",
];

/// An event name hookline's own clients send (`hookline-hook doctor`'s
/// probe): it is validated and audited like any event but writes no domain
/// rows (no conversation appears for its session).
pub const AUDIT_ONLY_EVENTS: [&str; 1] = ["HooklineDoctor"];

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

    /// Whether the event leaves its audit row only ([`AUDIT_ONLY_EVENTS`]).
    pub fn is_audit_only(&self) -> bool {
        AUDIT_ONLY_EVENTS.contains(&self.name())
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

/// A tool call as the tool events describe it. Only `session_id` and
/// `hook_event_name` are required of any event, so each field may be
/// missing (`tool_use_id` before Claude Code 2.0.43); without a
/// `tool_use_id` the event is an audit row and no `tool_uses` row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ToolCall {
    pub tool_use_id: Option<ToolUseId>,
    pub tool_name: Option<String>,
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
        prompt: Option<String>,
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
    /// `agent_id` is missing before Claude Code 2.0.42: no `subagents` row.
    SubagentStart {
        agent_id: Option<String>,
        agent_type: Option<String>,
    },
    SubagentStop {
        agent_id: Option<String>,
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
