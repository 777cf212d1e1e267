//! A subagent's messages as its parent's `agent_progress` lines carry them
//! (`data.message`: the agent's own transcript entry, with its uuid,
//! `message.id` and `requestId`). Those API calls were billed, and the
//! agent's own file (`subagents/agent-<id>.jsonl`) is not always there
//! (an older Claude Code, a copied folder), so each is planned as the
//! agent's message: its usage, model, text and tool calls, and the tool
//! results of its `user` entries. Keyed as the agent file's entry is
//! (`<message.id>/<requestId>`, the tool_use id), so when the file is there
//! too the same rows are written once, whichever comes first; the agent
//! file's entries, when they come, give the message its content
//! (docs/schema.md, "Subagents seen only in progress lines").

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::mapping::{MessageOp, Plan, ToolUseOp};
use crate::transcript::{Entry, text_of};

/// Plans what `data` (an `agent_progress` line's `data`) says of agent
/// `agent`'s messages.
pub(crate) fn plan(p: &mut Plan, data: &Value, agent: &str, at: DateTime<Utc>) {
    let Some(inner) = data.get("message").filter(|m| m.is_object()) else {
        return;
    };
    let Ok(e) = Entry::parse(inner) else {
        return;
    };
    let agent_id = Some(agent.to_owned());
    match e.entry_type.as_str() {
        "assistant" => {
            let Some(key) = e.message_key() else { return };
            for b in e.blocks("tool_use") {
                let Some(id) = b.get("id").and_then(Value::as_str) else {
                    continue;
                };
                p.tool_uses.push(ToolUseOp {
                    tool_use_id: id.to_owned(),
                    tool_name: b.get("name").and_then(Value::as_str).map(str::to_owned),
                    input: b.get("input").cloned(),
                    input_source: b.get("input").map(|_| "transcript"),
                    status: "pending",
                    agent_id: agent_id.clone(),
                    used_at: e.timestamp,
                    entry_uuid: Some(e.uuid.clone()),
                    ..ToolUseOp::default()
                });
            }
            // Lines of one message in one batch: one op, all their blocks.
            if let Some(m) = p
                .messages
                .iter_mut()
                .find(|m| m.message_key == key && m.entry_uuid.is_none())
            {
                m.content.extend(e.content.iter().cloned());
                m.text = text_of(&m.content);
                if m.usage
                    .is_none_or(|u| e.usage.is_some_and(|n| n.rank() > u.rank()))
                {
                    m.usage = e.usage.or(m.usage);
                }
                m.created_at = m.created_at.min(e.timestamp.unwrap_or(at));
                return;
            }
            p.messages.push(MessageOp {
                message_key: key,
                role: "assistant".into(),
                source: "transcript",
                text: text_of(&e.content),
                content: e.content.clone(),
                model: e.model.clone(),
                usage: e.usage,
                agent_id,
                created_at: e.timestamp.unwrap_or(at),
                // No entry: the agent file's entries, if they come, merge
                // the content; until then it is these blocks.
                entry_uuid: None,
            });
        }
        "user" => {
            for b in e.blocks("tool_result") {
                let Some(id) = b.get("tool_use_id").and_then(Value::as_str) else {
                    continue;
                };
                let failed = b.get("is_error").and_then(Value::as_bool) == Some(true);
                p.tool_uses.push(ToolUseOp {
                    tool_use_id: id.to_owned(),
                    transcript_result: Some(b.clone()),
                    status: if failed { "failed" } else { "succeeded" },
                    agent_id: agent_id.clone(),
                    result_at: e.timestamp,
                    ..ToolUseOp::default()
                });
            }
        }
        _ => {}
    }
}
