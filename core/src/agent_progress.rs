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

use crate::mapping::{MessageOp, Plan, tool_result_ops, tool_use_ops};
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
            p.tool_uses.extend(tool_use_ops(&e, &agent_id));
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
            p.tool_uses.extend(tool_result_ops(&e, &agent_id));
        }
        _ => {}
    }
}
