//! Domain mapping: which rows one hook event writes. Pure (no I/O), so every
//! backend writes the same rows and the mapping is tested on its own.
//!
//! Every operation is an idempotent upsert on a natural key whose merge rule
//! does not depend on arrival order (earliest start, latest end, first
//! prompt by time, non-null wins), so redelivery and reordering change
//! nothing.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::event::{EventData, HookEvent};
use crate::meta::{TranscriptChunk, TranscriptSource};
use crate::transcript::{Entry, Usage};

/// Longest conversation title, in characters.
pub const TITLE_CHARS: usize = 120;

/// The time a `summary` line's title is dated with: before any prompt, so
/// Claude Code's own title wins whatever the arrival order (the Unix epoch,
/// which both stores can hold).
pub const SUMMARY_TITLE_AT: DateTime<Utc> = DateTime::UNIX_EPOCH;

/// Message-key prefix of a prompt read from a transcript `user` entry
/// (`entry:<uuid>`), and of a prompt queued while Claude worked
/// (`queue:<timestamp>`, from a `queue-operation` line).
pub const ENTRY_PROMPT: &str = "entry:";
pub const QUEUED_PROMPT: &str = "queue:";

/// The person's prompt in a transcript `user` entry: content that is a
/// string or text blocks only (not `tool_result`), not Claude Code's own
/// (`isMeta`, a compaction summary, the "[Request interrupted by user…]"
/// marker, a slash command's output `<local-command-stdout>`,
/// `<local-command-stderr>`, `<local-command-caveat>`). A slash command's
/// echo (`<command-name>/model</command-name>…<command-args>x</command-args>`)
/// is the command as typed, `/model x`: the same text as print mode's
/// `queue-operation` line, so the two are stored once. `None` for anything
/// else.
pub fn prompt_of(raw: &Value) -> Option<String> {
    if raw.get("type").and_then(Value::as_str) != Some("user")
        || raw.get("isMeta").and_then(Value::as_bool) == Some(true)
        || raw.get("isCompactSummary").and_then(Value::as_bool) == Some(true)
    {
        return None;
    }
    let text = match raw.get("message").and_then(|m| m.get("content"))? {
        Value::String(s) => s.clone(),
        Value::Array(blocks) if !blocks.is_empty() => {
            let mut parts = Vec::with_capacity(blocks.len());
            for b in blocks {
                if b.get("type").and_then(Value::as_str) != Some("text") {
                    return None;
                }
                parts.push(b.get("text").and_then(Value::as_str).unwrap_or_default());
            }
            parts.join("\n")
        }
        _ => return None,
    };
    if text.starts_with("[Request interrupted by user") {
        return None;
    }
    let t = text.trim_start();
    if t.starts_with("<local-command-") {
        return None;
    }
    if t.starts_with("<command-name>") || t.starts_with("<command-message>") {
        return slash_command(t);
    }
    Some(text)
}

/// A slash command's echo as typed: `<command-name>` then `<command-args>`
/// when not empty. `None` without a command name.
fn slash_command(echo: &str) -> Option<String> {
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let start = echo.find(&open)? + open.len();
        let len = echo[start..].find(&close)?;
        Some(echo[start..start + len].trim())
    };
    let name = tag("command-name").filter(|n| !n.is_empty())?;
    Some(match tag("command-args").filter(|a| !a.is_empty()) {
        Some(args) => format!("{name} {args}"),
        None => name.to_owned(),
    })
}

/// Upsert of `conversations`, keyed by `session_id`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConversationOp {
    pub at: DateTime<Utc>,
    pub cwd: Option<String>,
    pub transcript_path: Option<String>,
    pub principal: Option<String>,
    pub user_name: Option<String>,
    pub host: Option<String>,
    pub model: Option<String>,
    pub permission_mode: Option<String>,
    /// SessionStart's `source` (startup, resume, clear, compact, fork).
    pub start_source: Option<String>,
    /// SessionEnd: (time, reason); the latest wins.
    pub end: Option<(DateTime<Utc>, Option<String>)>,
    /// A prompt that may become the title: the earliest (`title_at`, then
    /// the text) wins. A `summary` line of the transcript (Claude Code's
    /// own title) is dated [`SUMMARY_TITLE_AT`], so it wins over prompts.
    pub title: Option<String>,
    /// When `title` was said; `at` when `None`.
    pub title_at: Option<DateTime<Utc>>,
    /// Stitching, from the first entry of the session's own transcript
    /// (see [`continuation_of`]): the session it continues, when that entry
    /// was copied from another session (`sessionId` differs).
    pub parent_session_id: Option<String>,
    /// ... or the uuid that entry hangs from (`parentUuid`, or a summary's
    /// `leafUuid`) when it is not this session's: the store resolves it to
    /// the session holding that uuid, whichever arrives first.
    pub continues_uuid: Option<String>,
    /// ... or, when that entry starts fresh (`parentUuid: null`, this
    /// session's id), its uuid: a fork's transcript starts with copies of
    /// the parent's entries under the fork's id, so another session holding
    /// this uuid is its parent or its fork (docs/schema.md, "Copies").
    pub first_uuid: Option<String>,
}

/// Whether a transcript line can be the first entry [`continuation_of`]
/// reads a session's origin from: a line with a `uuid`, or a `summary` with
/// its `leafUuid` (Claude Code writes other lines, a `mode` line say, before
/// the first of them). The hook holds back a first read of a transcript that
/// has none yet, so that the part starting at offset 0 holds that entry.
pub fn is_origin_evidence(e: &Value) -> bool {
    let str_of = |k: &str| {
        e.get(k)
            .and_then(Value::as_str)
            .is_some_and(|x| !x.is_empty())
    };
    e.get("uuid").and_then(Value::as_str).is_some()
        || (e.get("type").and_then(Value::as_str) == Some("summary") && str_of("leafUuid"))
}

/// What the first entry of a session's transcript says about the session
/// it continues: `(parent session, parent uuid)`. A resumed or forked
/// session starts with entries copied from the previous one (they keep
/// its `sessionId`), or with an entry whose `parentUuid` (a `summary`'s
/// `leafUuid`) is the previous session's last entry. A fresh session's
/// first entry has `parentUuid: null`. Lines without a `uuid` (and not a
/// summary) are passed over.
pub fn continuation_of(session_id: &str, entries: &[Value]) -> (Option<String>, Option<String>) {
    let s = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
    };
    let first = entries.iter().find(|e| is_origin_evidence(e));
    let Some(first) = first else {
        return (None, None);
    };
    if let Some(other) = s(first, "sessionId").filter(|o| o != session_id) {
        return (Some(other), None);
    }
    let hangs_from = if first.get("type").and_then(Value::as_str) == Some("summary") {
        s(first, "leafUuid")
    } else {
        s(first, "parentUuid")
    };
    (None, hangs_from)
}

/// Upsert of `messages`, keyed by (`session_id`, `message_key`).
#[derive(Clone, Debug, PartialEq)]
pub struct MessageOp {
    pub message_key: String,
    pub role: String,
    /// `hook` (prompt), `stop` (Stop's last_assistant_message) or `transcript`.
    pub source: &'static str,
    pub content: Vec<Value>,
    pub text: String,
    pub model: Option<String>,
    pub usage: Option<Usage>,
    pub agent_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// For transcript messages: the entry that contributes `content` (a
    /// message's content is the merge of all its entries' blocks).
    pub entry_uuid: Option<String>,
}

/// Upsert of `tool_uses`, keyed by `tool_use_id`; non-null fields win.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ToolUseOp {
    pub tool_use_id: String,
    pub tool_name: Option<String>,
    pub input: Option<Value>,
    /// `pre`, `post` or `transcript`: an input from a source earlier in
    /// that list replaces one from a later source.
    pub input_source: Option<&'static str>,
    pub response: Option<Value>,
    pub error: Option<String>,
    /// `pending`, `succeeded`, `failed` or `interrupted`: the highest of
    /// that order wins (a `tool_result` settles a pending call; a hook's
    /// `interrupted` is more precise than the transcript's `is_error`).
    pub status: &'static str,
    pub pre_at: Option<DateTime<Utc>>,
    pub post_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    /// What the model saw (transcript `tool_result` block).
    pub transcript_result: Option<Value>,
    pub agent_id: Option<String>,
    /// The transcript time of the `tool_use` block (earliest wins).
    pub used_at: Option<DateTime<Utc>>,
    /// The transcript time of the `tool_result` block (latest wins).
    pub result_at: Option<DateTime<Utc>>,
    /// The transcript entry holding the `tool_use` block.
    pub entry_uuid: Option<String>,
}

/// Upsert of `subagents`, keyed by (`session_id`, `agent_id`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SubagentOp {
    pub agent_id: String,
    /// The Task tool call that started it (`agent_progress` entries'
    /// `parentToolUseID`).
    pub tool_use_id: Option<String>,
    pub agent_type: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub transcript_path: Option<String>,
    pub last_message: Option<String>,
}

/// Insert of `transcript_entries`, keyed by (`session_id`, `uuid`).
#[derive(Clone, Debug, PartialEq)]
pub struct EntryOp {
    pub uuid: String,
    pub entry_type: String,
    pub message_key: Option<String>,
    pub agent_id: Option<String>,
    pub timestamp: Option<DateTime<Utc>>,
    pub content: Vec<Value>,
    pub raw: Value,
    /// Where the line is in its file ([`line_pos`]); `None` when unknown.
    pub line_pos: Option<i64>,
}

/// A line's position in its transcript file, comparable within the file:
/// the byte offset where its chunk starts, times 2^20, plus its index in
/// the chunk (a chunk is under 1 MiB, so under 2^20 lines). Two chunks that
/// hold the same line give it two positions; the store keeps the least,
/// which orders every line of both chunks as the file does.
pub fn line_pos(start_offset: u64, index: usize) -> Option<i64> {
    let index = u64::try_from(index).ok().filter(|i| *i < 1 << 20)?;
    let pos = start_offset.checked_mul(1 << 20)?.checked_add(index)?;
    i64::try_from(pos).ok()
}

/// Upsert of `hosts`, keyed by (`user_name`, `host`): a heartbeat of one
/// hook install. Earliest `first_seen` and latest `last_seen` win; the
/// version and principal are the latest heartbeat's.
#[derive(Clone, Debug, PartialEq)]
pub struct HeartbeatOp {
    /// The OS user the hook stamped, `""` when it could not tell.
    pub user_name: String,
    /// The host name the hook stamped, `""` when it could not tell.
    pub host: String,
    pub at: DateTime<Utc>,
    pub hook_version: Option<String>,
    pub principal: Option<String>,
}

/// Everything one event writes, for one session.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub session_id: String,
    pub conversation: ConversationOp,
    pub entries: Vec<EntryOp>,
    pub messages: Vec<MessageOp>,
    pub tool_uses: Vec<ToolUseOp>,
    pub subagents: Vec<SubagentOp>,
    /// Present when the hook flagged the event as its heartbeat.
    pub heartbeat: Option<HeartbeatOp>,
    /// Transcript entries that could not be read (no uuid): counted, skipped.
    pub skipped_entries: usize,
}

impl ConversationOp {
    /// Offers a title said at `at`: the earliest (time, text) wins, as in
    /// the stores.
    fn offer_title(&mut self, title: Option<String>, at: DateTime<Utc>) {
        let Some(title) = title else { return };
        let better = match (&self.title, self.title_at) {
            (Some(t), Some(t_at)) => (at, &title) < (t_at, t),
            (Some(_), None) => false,
            (None, _) => true,
        };
        if better {
            self.title = Some(title);
            self.title_at = Some(at);
        }
    }
}

fn title_of(prompt: &str) -> Option<String> {
    let line = prompt.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(line.chars().take(TITLE_CHARS).collect())
}

/// The rows `event` writes. `request_id` is the envelope's; `at` is the
/// event's time (the hook's `captured_at`, else the time ingest received
/// it); `principal` is the authenticated token's name.
pub fn plan(
    event: &HookEvent,
    request_id: &str,
    at: DateTime<Utc>,
    principal: Option<&str>,
) -> Plan {
    let c = &event.common;
    let meta = event.meta.as_ref();
    let mut p = Plan {
        session_id: c.session_id.to_string(),
        conversation: ConversationOp {
            at,
            cwd: c.cwd.clone(),
            transcript_path: c.transcript_path.clone(),
            principal: principal.map(str::to_owned),
            user_name: meta.and_then(|m| m.user.clone()),
            host: meta.and_then(|m| m.host.clone()),
            model: c.model.clone(),
            permission_mode: c.permission_mode.clone(),
            ..ConversationOp::default()
        },
        entries: Vec::new(),
        messages: Vec::new(),
        tool_uses: Vec::new(),
        subagents: Vec::new(),
        heartbeat: meta.filter(|m| m.heartbeat).map(|m| HeartbeatOp {
            user_name: m.user.clone().unwrap_or_default(),
            host: m.host.clone().unwrap_or_default(),
            at,
            hook_version: Some(m.client.version.clone()),
            principal: principal.map(str::to_owned),
        }),
        skipped_entries: 0,
    };
    let continuation = meta
        .and_then(|m| m.part.as_ref())
        .is_some_and(|p| p.is_continuation());
    if !continuation {
        plan_event(&mut p, event, at, request_id);
    }
    for chunk in meta.map(|m| m.transcript.as_slice()).unwrap_or_default() {
        plan_chunk(&mut p, chunk, at);
    }
    p
}

fn plan_event(p: &mut Plan, event: &HookEvent, at: DateTime<Utc>, request_id: &str) {
    let agent_id = event.common.agent_id.clone();
    // A tool event without `tool_use_id` (before Claude Code 2.0.43) has
    // no row to key: the audit row keeps it.
    let tool = |t: &crate::event::ToolCall, status, source| {
        t.tool_use_id.as_ref().map(|id| ToolUseOp {
            tool_use_id: id.to_string(),
            tool_name: t.tool_name.clone(),
            input: Some(t.tool_input.clone()).filter(|v| !v.is_null()),
            input_source: (!t.tool_input.is_null()).then_some(source),
            status,
            agent_id: agent_id.clone(),
            ..ToolUseOp::default()
        })
    };
    match &event.data {
        EventData::SessionStart { source, .. } => p.conversation.start_source = source.clone(),
        EventData::UserPromptSubmit {
            prompt: Some(prompt),
        } => {
            p.conversation.title = title_of(prompt);
            p.conversation.title_at = Some(at);
            p.messages.push(MessageOp {
                message_key: format!("prompt:{request_id}"),
                role: "user".into(),
                source: "hook",
                content: vec![serde_json::json!({"type": "text", "text": prompt})],
                text: prompt.clone(),
                model: None,
                usage: None,
                agent_id,
                created_at: at,
                entry_uuid: None,
            });
        }
        EventData::PreToolUse { tool: t } => {
            p.tool_uses
                .extend(tool(t, "pending", "pre").map(|op| ToolUseOp {
                    pre_at: Some(at),
                    ..op
                }))
        }
        EventData::PostToolUse {
            tool: t,
            tool_response,
            duration_ms,
        } => p
            .tool_uses
            .extend(tool(t, "succeeded", "post").map(|op| ToolUseOp {
                response: Some(tool_response.clone()).filter(|v| !v.is_null()),
                post_at: Some(at),
                duration_ms: *duration_ms,
                ..op
            })),
        EventData::PostToolUseFailure {
            tool: t,
            error,
            is_interrupt,
            duration_ms,
        } => {
            let status = if *is_interrupt == Some(true) {
                "interrupted"
            } else {
                "failed"
            };
            p.tool_uses
                .extend(tool(t, status, "post").map(|op| ToolUseOp {
                    error: error.clone(),
                    post_at: Some(at),
                    duration_ms: *duration_ms,
                    ..op
                }))
        }
        EventData::Stop {
            last_assistant_message: Some(text),
            ..
        } if !text.trim().is_empty() => p.messages.push(MessageOp {
            message_key: format!("stop:{request_id}"),
            role: "assistant".into(),
            source: "stop",
            content: vec![serde_json::json!({"type": "text", "text": text})],
            text: text.clone(),
            model: None,
            usage: None,
            agent_id,
            created_at: at,
            entry_uuid: None,
        }),
        EventData::SubagentStart {
            agent_id: Some(agent_id),
            agent_type,
        } => p.subagents.push(SubagentOp {
            agent_id: agent_id.clone(),
            agent_type: agent_type.clone(),
            started_at: Some(at),
            ..SubagentOp::default()
        }),
        EventData::SubagentStop {
            agent_id: Some(agent_id),
            agent_type,
            last_assistant_message,
            agent_transcript_path,
            ..
        } => p.subagents.push(SubagentOp {
            agent_id: agent_id.clone(),
            agent_type: agent_type.clone(),
            stopped_at: Some(at),
            transcript_path: agent_transcript_path.clone(),
            last_message: last_assistant_message.clone(),
            ..SubagentOp::default()
        }),
        EventData::SessionEnd { reason } => p.conversation.end = Some((at, reason.clone())),
        // Notification, PreCompact, Stop without text, a prompt or subagent
        // event without its field (older Claude Code) and other events are
        // audit rows attached to the conversation: the upsert above is all.
        _ => {}
    }
}

fn plan_chunk(p: &mut Plan, chunk: &TranscriptChunk, at: DateTime<Utc>) {
    let chunk_agent = match chunk.source {
        TranscriptSource::Agent => chunk.agent_id.clone(),
        TranscriptSource::Main => None,
    };
    if chunk.source == TranscriptSource::Main && chunk.start_offset == 0 {
        let (parent, uuid) = continuation_of(&p.session_id, &chunk.entries);
        if parent.is_none() && uuid.is_none() {
            p.conversation.first_uuid = chunk
                .entries
                .iter()
                .find_map(|e| e.get("uuid").and_then(Value::as_str))
                .map(str::to_owned);
        }
        p.conversation.parent_session_id = parent;
        p.conversation.continues_uuid = uuid;
    }
    let mut span: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    for (index, raw) in chunk.entries.iter().enumerate() {
        let kind = raw.get("type").and_then(Value::as_str);
        if kind == Some("queue-operation") {
            plan_queued(p, raw, chunk_agent.clone());
        } else if kind == Some("summary")
            && chunk.source == TranscriptSource::Main
            && let Some(t) = raw
                .get("summary")
                .and_then(Value::as_str)
                .and_then(title_of)
        {
            p.conversation.offer_title(Some(t), SUMMARY_TITLE_AT);
        }
        let Ok(e) = Entry::parse(raw) else {
            p.skipped_entries += 1;
            continue;
        };
        let agent_id = e.agent_id.clone().or_else(|| chunk_agent.clone());
        let created_at = e.timestamp.unwrap_or(at);
        if let Some(t) = e.timestamp {
            span = Some(span.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
        }
        let message_key = (e.entry_type == "assistant")
            .then(|| e.message_key())
            .flatten();
        if let Some(key) = &message_key {
            p.messages.push(MessageOp {
                message_key: key.clone(),
                role: "assistant".into(),
                source: "transcript",
                content: Vec::new(),
                text: String::new(),
                model: e.model.clone(),
                usage: e.usage,
                agent_id: agent_id.clone(),
                created_at,
                entry_uuid: Some(e.uuid.clone()),
            });
            p.tool_uses.extend(tool_use_ops(&e, &agent_id));
        }
        if e.entry_type == "user" {
            p.tool_uses.extend(tool_result_ops(&e, &agent_id));
            if let Some(prompt) = prompt_of(raw) {
                if agent_id.is_none() && !e.is_sidechain {
                    p.conversation.offer_title(title_of(&prompt), created_at);
                }
                p.messages.push(MessageOp {
                    message_key: format!("{ENTRY_PROMPT}{}", e.uuid),
                    role: "user".into(),
                    source: "transcript",
                    content: vec![serde_json::json!({"type": "text", "text": prompt})],
                    text: prompt,
                    model: None,
                    usage: None,
                    agent_id: agent_id.clone(),
                    created_at,
                    entry_uuid: None,
                });
            }
        }
        if e.entry_type == "progress"
            && let Some(d) = raw
                .get("data")
                .filter(|d| d.get("type").and_then(Value::as_str) == Some("agent_progress"))
            && let Some(agent) = d.get("agentId").and_then(Value::as_str)
        {
            p.subagents.push(SubagentOp {
                agent_id: agent.to_owned(),
                tool_use_id: raw
                    .get("parentToolUseID")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                ..SubagentOp::default()
            });
            crate::agent_progress::plan(p, d, agent, created_at);
        }
        p.entries.push(EntryOp {
            uuid: e.uuid.clone(),
            entry_type: e.entry_type.clone(),
            message_key,
            agent_id,
            timestamp: e.timestamp,
            content: e.content.clone(),
            raw: raw.clone(),
            line_pos: line_pos(chunk.start_offset, index),
        });
    }
    // A subagent's own transcript: the agent's row, spanning its entries.
    if chunk.source == TranscriptSource::Agent
        && let Some(agent) = chunk_agent
    {
        p.subagents.push(SubagentOp {
            agent_id: agent,
            started_at: span.map(|s| s.0),
            stopped_at: span.map(|s| s.1),
            transcript_path: Some(chunk.path.clone()),
            ..SubagentOp::default()
        });
    }
}

/// The tool calls an assistant entry's `tool_use` blocks start (pending).
pub(crate) fn tool_use_ops<'a>(
    e: &'a Entry,
    agent_id: &'a Option<String>,
) -> impl Iterator<Item = ToolUseOp> + 'a {
    e.blocks("tool_use").filter_map(move |b| {
        let id = b.get("id").and_then(Value::as_str)?;
        Some(ToolUseOp {
            tool_use_id: id.to_owned(),
            tool_name: b.get("name").and_then(Value::as_str).map(str::to_owned),
            input: b.get("input").cloned(),
            input_source: b.get("input").map(|_| "transcript"),
            status: "pending",
            agent_id: agent_id.clone(),
            used_at: e.timestamp,
            entry_uuid: Some(e.uuid.clone()),
            ..ToolUseOp::default()
        })
    })
}

/// The outcomes a user entry's `tool_result` blocks settle: `is_error` →
/// failed, else succeeded.
pub(crate) fn tool_result_ops<'a>(
    e: &'a Entry,
    agent_id: &'a Option<String>,
) -> impl Iterator<Item = ToolUseOp> + 'a {
    e.blocks("tool_result").filter_map(move |b| {
        let id = b.get("tool_use_id").and_then(Value::as_str)?;
        let failed = b.get("is_error").and_then(Value::as_bool) == Some(true);
        Some(ToolUseOp {
            tool_use_id: id.to_owned(),
            transcript_result: Some(b.clone()),
            status: if failed { "failed" } else { "succeeded" },
            agent_id: agent_id.clone(),
            result_at: e.timestamp,
            ..ToolUseOp::default()
        })
    })
}

/// A `queue-operation` line: a prompt typed while Claude worked
/// (`operation: enqueue` with `content`) is kept as a user message; the
/// store drops it when the same prompt also reached the transcript or the
/// UserPromptSubmit hook (docs/schema.md).
fn plan_queued(p: &mut Plan, raw: &Value, agent_id: Option<String>) {
    let s = |k: &str| raw.get(k).and_then(Value::as_str);
    let (Some("enqueue"), Some(text), Some(ts)) = (s("operation"), s("content"), s("timestamp"))
    else {
        return;
    };
    let Ok(created_at) = DateTime::parse_from_rfc3339(ts).map(|t| t.with_timezone(&Utc)) else {
        return;
    };
    if text.trim().is_empty() {
        return;
    }
    p.messages.push(MessageOp {
        message_key: format!("{QUEUED_PROMPT}{ts}"),
        role: "user".into(),
        source: "transcript",
        content: vec![serde_json::json!({"type": "text", "text": text})],
        text: text.to_owned(),
        model: None,
        usage: None,
        agent_id,
        created_at,
        entry_uuid: None,
    });
}

#[cfg(test)]
mod tests {
    use super::{continuation_of, prompt_of};
    use serde_json::json;

    #[test]
    fn only_the_persons_words_are_prompts() {
        let user =
            |content: serde_json::Value| json!({"type": "user", "message": {"content": content}});
        assert_eq!(prompt_of(&user(json!("fix it"))).as_deref(), Some("fix it"));
        assert_eq!(
            prompt_of(&user(
                json!([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}])
            ))
            .as_deref(),
            Some("a\nb")
        );
        assert_eq!(
            prompt_of(&user(
                json!([{"type": "tool_result", "tool_use_id": "t", "content": "x"}])
            )),
            None
        );
        assert_eq!(
            prompt_of(&user(
                json!([{"type": "text", "text": "[Request interrupted by user]"}])
            )),
            None
        );
        let mut meta = user(json!("<command-caveat>"));
        meta["isMeta"] = json!(true);
        assert_eq!(prompt_of(&meta), None);
        let echo = "<command-name>/model</command-name>\n<command-message>model</command-message>\n<command-args>claude-sonnet-4-5</command-args>";
        assert_eq!(
            prompt_of(&user(json!(echo))).as_deref(),
            Some("/model claude-sonnet-4-5")
        );
        let bare = "<command-name>/mcp</command-name>\n  <command-message>mcp</command-message>\n  <command-args></command-args>";
        assert_eq!(prompt_of(&user(json!(bare))).as_deref(), Some("/mcp"));
        let nameless = "<command-message>x</command-message>";
        assert_eq!(prompt_of(&user(json!(nameless))), None);
        assert_eq!(
            prompt_of(&user(json!(
                "<local-command-stdout>Set model</local-command-stdout>"
            ))),
            None
        );
        assert_eq!(
            prompt_of(&user(
                json!([{"type": "text", "text": "<local-command-stderr>e</local-command-stderr>"}])
            )),
            None
        );
        let mut summary = user(json!("This session is being continued"));
        summary["isCompactSummary"] = json!(true);
        assert_eq!(prompt_of(&summary), None);
        assert_eq!(
            prompt_of(&json!({"type": "assistant", "message": {"content": "hi"}})),
            None
        );
    }

    #[test]
    fn the_first_entry_tells_which_session_is_continued() {
        let fresh = [json!({"uuid": "a", "parentUuid": null, "sessionId": "s2"})];
        assert_eq!(continuation_of("s2", &fresh), (None, None));
        let copied = [
            json!({"type": "queue-operation", "sessionId": "s2"}),
            json!({"uuid": "a", "parentUuid": null, "sessionId": "s1"}),
        ];
        assert_eq!(continuation_of("s2", &copied), (Some("s1".into()), None));
        let hanging = [json!({"uuid": "b", "parentUuid": "a", "sessionId": "s2"})];
        assert_eq!(continuation_of("s2", &hanging), (None, Some("a".into())));
        let summary = [json!({"type": "summary", "summary": "…", "leafUuid": "z"})];
        assert_eq!(continuation_of("s2", &summary), (None, Some("z".into())));
    }
}
