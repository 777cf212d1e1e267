//! The typed view of Claude Code transcript entries (one JSONL line each).
//!
//! The format is internal to Claude Code and changes between versions, so
//! only what hookline maps is read; the raw entry is kept beside it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::validate::FieldError;

/// Token usage of one API response, counted once per (`message.id`, `requestId`).
///
/// Claude Code writes a response as one entry per content block, each with
/// the usage as it stood when the block was written: `output_tokens` grows
/// from entry to entry and only the last has the final figure (see
/// [`Usage::rank`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub input_tokens: i64,
    #[serde(default)]
    pub output_tokens: i64,
    #[serde(default)]
    pub cache_creation_input_tokens: i64,
    #[serde(default)]
    pub cache_read_input_tokens: i64,
    /// Cache writes by lifetime (`cache_creation.ephemeral_5m_input_tokens`
    /// / `ephemeral_1h_input_tokens`), priced differently; absent in older
    /// transcripts.
    #[serde(default)]
    pub cache_creation: Option<CacheCreation>,
}

/// `usage.cache_creation`: cache writes by lifetime.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheCreation {
    #[serde(default)]
    pub ephemeral_5m_input_tokens: i64,
    #[serde(default)]
    pub ephemeral_1h_input_tokens: i64,
}

impl Usage {
    /// Which of two usages of the same message is the final one: the
    /// greater rank. Usage only grows while a response streams, so the
    /// entry with the most output tokens is the last; the other fields
    /// break ties so that the choice never depends on arrival order.
    ///
    /// The rank is a text of fixed-width digits (19 per field, negative
    /// values as 0), so both stores compare it as one column
    /// (`messages.usage_rank`): text order is tuple order.
    pub fn rank(&self) -> String {
        let c = self.cache_creation.unwrap_or_default();
        [
            self.output_tokens,
            self.input_tokens,
            self.cache_creation_input_tokens,
            self.cache_read_input_tokens,
            c.ephemeral_5m_input_tokens,
            c.ephemeral_1h_input_tokens,
        ]
        .iter()
        .map(|n| format!("{:019}", n.max(&0)))
        .collect()
    }
}

/// One transcript entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub uuid: String,
    /// `user`, `assistant`, `system`, `summary`, `attachment`, … as written.
    pub entry_type: String,
    pub timestamp: Option<DateTime<Utc>>,
    pub is_sidechain: bool,
    pub agent_id: Option<String>,
    /// `requestId` (assistant rows).
    pub request_id: Option<String>,
    /// `message.id` (assistant rows, `msg_…`).
    pub message_id: Option<String>,
    pub model: Option<String>,
    /// `message.content` as an array of content blocks (a string becomes one
    /// text block).
    pub content: Vec<Value>,
    pub usage: Option<Usage>,
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}

impl Entry {
    /// Reads the fields hookline maps. Only `uuid` is required.
    pub fn parse(raw: &Value) -> Result<Entry, FieldError> {
        let uuid = str_at(raw, &["uuid"])
            .filter(|u| !u.is_empty() && u.len() <= 128)
            .ok_or_else(|| FieldError::new("uuid", "missing", "a transcript entry needs a uuid"))?;
        let message = raw.get("message");
        let content = match message.and_then(|m| m.get("content")) {
            Some(Value::Array(blocks)) => blocks.clone(),
            Some(Value::String(text)) => vec![serde_json::json!({"type": "text", "text": text})],
            _ => Vec::new(),
        };
        let usage = message
            .and_then(|m| m.get("usage"))
            .and_then(|u| serde_json::from_value::<Usage>(u.clone()).ok());
        Ok(Entry {
            uuid: uuid.to_owned(),
            entry_type: str_at(raw, &["type"]).unwrap_or("unknown").to_owned(),
            timestamp: str_at(raw, &["timestamp"])
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc)),
            is_sidechain: raw
                .get("isSidechain")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            agent_id: str_at(raw, &["agentId"]).map(str::to_owned),
            request_id: str_at(raw, &["requestId"]).map(str::to_owned),
            message_id: message.and_then(|m| str_at(m, &["id"])).map(str::to_owned),
            model: message
                .and_then(|m| str_at(m, &["model"]))
                .map(str::to_owned),
            content,
            usage,
        })
    }

    /// The key of the message this entry belongs to: one API response is
    /// written as one entry per content block sharing `message.id`; usage
    /// counts once per (`message.id`, `requestId`).
    pub fn message_key(&self) -> Option<String> {
        let id = self.message_id.as_deref()?;
        Some(match self.request_id.as_deref() {
            Some(req) => format!("{id}/{req}"),
            None => id.to_owned(),
        })
    }

    /// Blocks of a given `type` (`text`, `tool_use`, `tool_result`).
    pub fn blocks<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.content
            .iter()
            .filter(move |b| b.get("type").and_then(Value::as_str) == Some(kind))
    }
}

/// The plain text of content blocks: their `text` parts joined by newlines.
pub fn text_of(blocks: &[Value]) -> String {
    blocks
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::Usage;

    #[test]
    fn the_rank_orders_usages_by_output_tokens_first() {
        let u = |output, input| Usage {
            output_tokens: output,
            input_tokens: input,
            ..Usage::default()
        };
        assert!(u(441, 3).rank() > u(10, 3).rank());
        assert!(u(100, 1).rank() > u(99, 1_000_000).rank());
        assert!(u(10, 4).rank() > u(10, 3).rank());
        assert_eq!(u(10, 3).rank().len(), 6 * 19);
    }
}
