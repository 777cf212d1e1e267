//! Parsing and validation of a hook event body: every problem is reported
//! with its field path, and nothing unknown is refused.

use serde_json::{Map, Value};

use crate::event::{Common, EventData, EventKind, HookEvent, ToolCall};
use crate::ids::{SessionId, ToolUseId};
use crate::meta::{HooklineMeta, META_FIELD};
use crate::validate::{FieldError, ValidationErrors};

/// Longest accepted `hook_event_name`.
const MAX_EVENT_NAME: usize = 64;

struct Fields<'a> {
    obj: &'a Map<String, Value>,
    errors: ValidationErrors,
}

impl<'a> Fields<'a> {
    /// An optional string: absent or `null` is `None`; another type is an error.
    fn opt_str(&mut self, name: &str) -> Option<String> {
        match self.obj.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                self.errors.push(wrong_type(name, "a string", other));
                None
            }
        }
    }

    /// A required, non-empty string.
    fn req_str(&mut self, name: &str) -> Option<String> {
        match self.obj.get(name) {
            None | Some(Value::Null) => {
                self.errors
                    .push(FieldError::new(name, "missing", "is required"));
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                self.errors
                    .push(FieldError::new(name, "empty", "must not be empty"));
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                self.errors.push(wrong_type(name, "a string", other));
                None
            }
        }
    }

    fn opt_bool(&mut self, name: &str) -> Option<bool> {
        match self.obj.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(other) => {
                self.errors.push(wrong_type(name, "true or false", other));
                None
            }
        }
    }

    fn opt_i64(&mut self, name: &str) -> Option<i64> {
        match self.obj.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) if n.as_i64().is_some_and(|v| v >= 0) => n.as_i64(),
            Some(other) => {
                self.errors
                    .push(wrong_type(name, "a non-negative integer", other));
                None
            }
        }
    }

    fn any(&self, name: &str) -> Value {
        self.obj.get(name).cloned().unwrap_or(Value::Null)
    }

    /// An optional string that names something: like [`Fields::opt_str`],
    /// and an empty (or blank) one counts as absent.
    fn opt_name(&mut self, name: &str) -> Option<String> {
        self.opt_str(name).filter(|s| !s.trim().is_empty())
    }

    /// The tool fields: each may be missing; an id that is present must
    /// be a valid one.
    fn tool(&mut self) -> ToolCall {
        let tool_name = self.opt_name("tool_name");
        let id = self.opt_name("tool_use_id");
        let tool_use_id = id.and_then(|id| self.errors.take(ToolUseId::parse(&id)));
        ToolCall {
            tool_use_id,
            tool_name,
            tool_input: self.any("tool_input"),
        }
    }
}

fn wrong_type(field: &str, expected: &str, got: &Value) -> FieldError {
    let got = match got {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    FieldError::new(
        field,
        "wrong_type",
        format!("must be {expected}, got {got}"),
    )
}

fn parse_meta(value: Option<&Value>, errors: &mut ValidationErrors) -> Option<HooklineMeta> {
    let value = value.filter(|v| !v.is_null())?;
    match HooklineMeta::deserialize_checked(value) {
        Ok(meta) => Some(meta),
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

impl HooklineMeta {
    /// Deserializes the `hookline` object, naming the field in the error.
    pub fn deserialize_checked(value: &Value) -> Result<Self, FieldError> {
        let meta: HooklineMeta = serde_json::from_value(value.clone())
            .map_err(|e| FieldError::new(META_FIELD, "invalid", e.to_string()))?;
        let path = format!("{META_FIELD}.request_id");
        crate::ids::RequestId::parse_field(&path, &meta.request_id)?;
        Ok(meta)
    }
}

impl HookEvent {
    /// Parses a hook body. Returns every problem found, each with its field.
    pub fn parse(raw: Value) -> Result<HookEvent, ValidationErrors> {
        let Value::Object(obj) = &raw else {
            let mut errors = ValidationErrors::default();
            errors.push(wrong_type("$", "a JSON object", &raw));
            return Err(errors);
        };
        let mut f = Fields {
            obj,
            errors: ValidationErrors::default(),
        };

        let session_id = f.req_str("session_id");
        let session_id = session_id.and_then(|s| f.errors.take(SessionId::parse(&s)));
        let name = f.req_str("hook_event_name");
        if let Some(n) = name.as_ref().filter(|n| n.len() > MAX_EVENT_NAME) {
            f.errors.push(FieldError::new(
                "hook_event_name",
                "too_long",
                format!(
                    "is {} bytes long; at most {MAX_EVENT_NAME} are accepted",
                    n.len()
                ),
            ));
        }
        let transcript_path = f.opt_str("transcript_path");
        let cwd = f.opt_str("cwd");
        let permission_mode = f.opt_str("permission_mode");
        let prompt_id = f.opt_str("prompt_id");
        let agent_id = f.opt_str("agent_id");
        let agent_type = f.opt_str("agent_type");
        let model = f.opt_str("model");
        let kind = EventKind::from_name(name.as_deref().unwrap_or_default());
        let data = parse_data(&kind, &mut f);
        let meta = parse_meta(obj.get(META_FIELD), &mut f.errors);

        match (session_id, name) {
            (Some(session_id), Some(hook_event_name)) if f.errors.is_empty() => {
                let common = Common {
                    session_id,
                    hook_event_name,
                    transcript_path,
                    cwd,
                    permission_mode,
                    prompt_id,
                    agent_id,
                    agent_type,
                    model,
                };
                Ok(HookEvent {
                    kind,
                    common,
                    data,
                    meta,
                    raw,
                })
            }
            _ => Err(f.errors),
        }
    }
}

/// What the event adds to the common fields. Nothing here is required:
/// Claude Code's fields come and go between versions (SubagentStop has no
/// `agent_id` before 2.0.42), so a missing field gives a partial row, never
/// a refusal; a field that is present must have its type.
fn parse_data(kind: &EventKind, f: &mut Fields<'_>) -> EventData {
    match kind {
        EventKind::SessionStart => EventData::SessionStart {
            source: f.opt_str("source"),
            session_title: f.opt_str("session_title"),
        },
        EventKind::UserPromptSubmit => EventData::UserPromptSubmit {
            prompt: f.opt_str("prompt"),
        },
        EventKind::PreToolUse => EventData::PreToolUse { tool: f.tool() },
        EventKind::PostToolUse => {
            let duration_ms = f.opt_i64("duration_ms");
            EventData::PostToolUse {
                tool: f.tool(),
                tool_response: f.any("tool_response"),
                duration_ms,
            }
        }
        EventKind::PostToolUseFailure => {
            let (error, is_interrupt) = (f.opt_str("error"), f.opt_bool("is_interrupt"));
            let duration_ms = f.opt_i64("duration_ms");
            EventData::PostToolUseFailure {
                tool: f.tool(),
                error,
                is_interrupt,
                duration_ms,
            }
        }
        EventKind::Notification => EventData::Notification {
            message: f.opt_str("message"),
            title: f.opt_str("title"),
            notification_type: f.opt_str("notification_type"),
        },
        EventKind::Stop => EventData::Stop {
            stop_hook_active: f.opt_bool("stop_hook_active"),
            last_assistant_message: f.opt_str("last_assistant_message"),
        },
        EventKind::SubagentStart => EventData::SubagentStart {
            agent_id: f.opt_name("agent_id"),
            agent_type: f.opt_str("agent_type"),
        },
        EventKind::SubagentStop => EventData::SubagentStop {
            agent_id: f.opt_name("agent_id"),
            agent_type: f.opt_str("agent_type"),
            stop_hook_active: f.opt_bool("stop_hook_active"),
            last_assistant_message: f.opt_str("last_assistant_message"),
            agent_transcript_path: f.opt_str("agent_transcript_path"),
        },
        EventKind::PreCompact => EventData::PreCompact {
            trigger: f.opt_str("trigger"),
            custom_instructions: f.opt_str("custom_instructions"),
        },
        EventKind::SessionEnd => EventData::SessionEnd {
            reason: f.opt_str("reason"),
        },
        EventKind::Other(_) => EventData::Other,
    }
}
