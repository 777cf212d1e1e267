//! Real Claude Code transcripts (`../shared/transcripts/spotter/`, never
//! copied into the repository) and what a faithful record of each holds,
//! computed here from the JSONL alone: an independent reading with
//! `serde_json::Value`, sharing no code with hookline's transcript module
//! or mapping.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Context;
use hookline_core::worker::QueueRecord;
use serde_json::{Map, Value, json};

use crate::db::quote;
use crate::fixtures::record;

/// The folder of the transcripts, beside the checkout (as in CI).
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/transcripts/spotter")
}

/// One transcript file: its lines, and the agent id when it is a
/// subagent's (`<session>/subagents/agent-<id>.jsonl`).
#[derive(Clone, Debug)]
pub struct File {
    pub path: PathBuf,
    pub agent_id: Option<String>,
    pub lines: Vec<Value>,
}

/// A session: its main transcript, then its subagents' files.
#[derive(Clone, Debug)]
pub struct Session {
    /// The file's name without `.jsonl` (not always the session id).
    pub name: String,
    pub session_id: String,
    pub files: Vec<File>,
}

fn read_lines(path: &Path) -> anyhow::Result<Vec<Value>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Ok(serde_json::from_str(l)?))
        .collect()
}

/// Every session of the folder, by file name.
pub fn sessions() -> anyhow::Result<Vec<Session>> {
    let dir = dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .with_context(|| format!("{} (the transcripts beside the checkout)", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.strip_suffix(".jsonl").map(str::to_owned)
        })
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let path = dir.join(format!("{name}.jsonl"));
        let lines = read_lines(&path)?;
        let session_id = lines
            .iter()
            .find_map(|l| l.get("sessionId").and_then(Value::as_str))
            .context("a transcript without sessionId")?
            .to_owned();
        let mut files = vec![File {
            path,
            agent_id: None,
            lines,
        }];
        let sub = dir.join(&name).join("subagents");
        if let Ok(rd) = std::fs::read_dir(&sub) {
            let mut paths: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            for p in paths {
                let n = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if let Some(agent) = n
                    .strip_prefix("agent-")
                    .and_then(|n| n.strip_suffix(".jsonl"))
                {
                    files.push(File {
                        lines: read_lines(&p)?,
                        path: p.clone(),
                        agent_id: Some(agent.to_owned()),
                    });
                }
            }
        }
        out.push(Session {
            name,
            session_id,
            files,
        });
    }
    Ok(out)
}

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn n(v: &Value, path: &[&str]) -> i64 {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// The person's prompt in a line: a `user` line whose content is a string
/// or text blocks only, not Claude Code's (`isMeta`, compaction summary,
/// the interruption marker, a slash command's output); a slash command's
/// echo is the command as typed.
pub fn prompt(line: &Value) -> Option<String> {
    if s(line, "type") != Some("user")
        || line.get("isMeta") == Some(&Value::Bool(true))
        || line.get("isCompactSummary") == Some(&Value::Bool(true))
    {
        return None;
    }
    let text = match line.get("message")?.get("content")? {
        Value::String(t) => t.clone(),
        Value::Array(b) if !b.is_empty() && b.iter().all(|b| s(b, "type") == Some("text")) => b
            .iter()
            .map(|b| s(b, "text").unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => return None,
    };
    if text.starts_with("[Request interrupted by user") || text.contains("<local-command-") {
        return None;
    }
    // A slash command's echo is the command as typed: `/name args`.
    if let Some(name) = between(&text, "<command-name>", "</command-name>") {
        let args = between(&text, "<command-args>", "</command-args>").unwrap_or_default();
        return Some(format!("{name} {args}").trim().to_string());
    }
    (!text.contains("<command-message>")).then_some(text)
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let rest = &text[text.find(open)? + open.len()..];
    Some(rest[..rest.find(close)?].trim())
}

/// What the record of a session holds, per the transcript.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expect {
    pub entries: i64,
    pub prompts: i64,
    pub assistant: i64,
    pub text_replies: i64,
    pub tool_uses: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub pending: i64,
    pub subagents: i64,
    pub subagents_linked: i64,
    pub input: i64,
    pub output: i64,
    pub cache_read: i64,
    pub cache_write: i64,
    pub cache_write_5m: i64,
    pub cache_write_1h: i64,
}

impl Expect {
    pub const HEADER: &'static str = "session   entries prompts assistant text tools ok/failed/pending subagents(linked)   input   output  cache_read cache_write (5m/1h)";

    pub fn row(&self, name: &str) -> String {
        format!(
            "{:<9} {:>7} {:>7} {:>9} {:>4} {:>5} {:>17} {:>9} {:>7} {:>8} {:>11} {:>11} ({}/{})",
            name.chars().take(9).collect::<String>(),
            self.entries,
            self.prompts,
            self.assistant,
            self.text_replies,
            self.tool_uses,
            format!("{}/{}/{}", self.succeeded, self.failed, self.pending),
            format!("{}({})", self.subagents, self.subagents_linked),
            self.input,
            self.output,
            self.cache_read,
            self.cache_write,
            self.cache_write_5m,
            self.cache_write_1h
        )
    }
}

/// The expectations of one session, from its lines.
pub fn expect(session: &Session) -> Expect {
    let mut e = Expect::default();
    let mut prompts: Vec<String> = Vec::new();
    let mut queued: Vec<String> = Vec::new();
    // message.id -> (usage of its last line, has a non-empty text block)
    let mut messages: HashMap<String, (Option<Value>, bool)> = HashMap::new();
    let mut tools: BTreeSet<String> = BTreeSet::new();
    let mut results: HashMap<String, bool> = HashMap::new();
    let mut agents: BTreeSet<String> = BTreeSet::new();
    let mut linked: BTreeSet<String> = BTreeSet::new();
    for f in &session.files {
        if let Some(a) = &f.agent_id {
            agents.insert(a.clone());
        }
        // Each line, and the agent's entry an `agent_progress` line
        // carries (`data.message`): its messages and tool calls are the
        // agent's (billed), once per message.id and tool id, though not
        // an entry or a prompt of this file.
        let carried = f.lines.iter().filter_map(|l| {
            (s(l, "type") == Some("progress") && s(&l["data"], "type") == Some("agent_progress"))
                .then(|| l["data"].get("message"))
                .flatten()
                .filter(|m| m.is_object())
        });
        let all = f
            .lines
            .iter()
            .map(|l| (l, true))
            .chain(carried.map(|m| (m, false)));
        for (l, own) in all {
            if own && s(l, "uuid").is_some() {
                e.entries += 1;
            }
            if let Some(p) = prompt(l).filter(|_| own) {
                prompts.push(p.trim().to_owned());
            }
            match s(l, "type") {
                Some("queue-operation") if s(l, "operation") == Some("enqueue") => {
                    if let Some(c) = s(l, "content").filter(|c| !c.trim().is_empty()) {
                        queued.push(c.trim().to_owned());
                    }
                }
                Some("assistant") => {
                    let m = &l["message"];
                    let blocks = m["content"].as_array().cloned().unwrap_or_default();
                    if let Some(id) = s(m, "id") {
                        let text = blocks.iter().any(|b| {
                            s(b, "type") == Some("text")
                                && s(b, "text").is_some_and(|t| !t.trim().is_empty())
                        });
                        let slot = messages.entry(id.to_owned()).or_insert((None, false));
                        // The last line of a message has its final usage.
                        if m.get("usage").is_some() {
                            slot.0 = m.get("usage").cloned();
                        }
                        slot.1 |= text;
                    }
                    for b in &blocks {
                        if s(b, "type") == Some("tool_use")
                            && let Some(id) = s(b, "id")
                        {
                            tools.insert(id.to_owned());
                        }
                    }
                }
                Some("user") => {
                    for b in l["message"]["content"].as_array().into_iter().flatten() {
                        if s(b, "type") == Some("tool_result")
                            && let Some(id) = s(b, "tool_use_id")
                        {
                            results.insert(id.to_owned(), b["is_error"] == Value::Bool(true));
                        }
                    }
                }
                Some("progress") if s(&l["data"], "type") == Some("agent_progress") => {
                    if let Some(a) = s(&l["data"], "agentId") {
                        agents.insert(a.to_owned());
                        linked.insert(a.to_owned());
                    }
                }
                _ => {}
            }
        }
    }
    // A queued prompt that was then submitted is that prompt: count the
    // queued ones no prompt line has the text of.
    let mut left: BTreeMap<&str, i64> = BTreeMap::new();
    for q in &queued {
        *left.entry(q).or_default() += 1;
    }
    for p in &prompts {
        if let Some(c) = left.get_mut(p.as_str()) {
            *c -= 1;
        }
    }
    e.prompts = prompts.len() as i64 + left.values().map(|c| (*c).max(0)).sum::<i64>();
    e.assistant = messages.len() as i64;
    e.text_replies = messages.values().filter(|m| m.1).count() as i64;
    e.tool_uses = tools.len() as i64;
    for t in &tools {
        match results.get(t) {
            Some(true) => e.failed += 1,
            Some(false) => e.succeeded += 1,
            None => e.pending += 1,
        }
    }
    e.subagents = agents.len() as i64;
    e.subagents_linked = linked.len() as i64;
    for (u, _) in messages.values() {
        let Some(u) = u else { continue };
        e.input += n(u, &["input_tokens"]);
        e.output += n(u, &["output_tokens"]);
        e.cache_read += n(u, &["cache_read_input_tokens"]);
        e.cache_write += n(u, &["cache_creation_input_tokens"]);
        e.cache_write_5m += n(u, &["cache_creation", "ephemeral_5m_input_tokens"]);
        e.cache_write_1h += n(u, &["cache_creation", "ephemeral_1h_input_tokens"]);
    }
    e
}

/// One SELECT (the same SQL on Postgres and SQLite) of what the database
/// holds for session `sid`, in the columns [`recorded`] reads.
pub fn recorded_sql(sid: &str) -> String {
    let q = quote(sid);
    let count = |table: &str, cond: &str| {
        format!("(SELECT count(*) FROM {table} WHERE session_id = {q} {cond})")
    };
    format!(
        "SELECT {} AS entries, {} AS prompts, {} AS assistant, {} AS tool_uses,
                {} AS succeeded, {} AS failed, {} AS pending, {} AS subagents, {} AS linked,
                input_tokens, output_tokens, cache_read_input_tokens,
                cache_creation_input_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens
         FROM conversations WHERE session_id = {q}",
        count("transcript_entries", ""),
        count("messages", "AND role = 'user'"),
        count("messages", "AND role = 'assistant'"),
        count("tool_uses", ""),
        count("tool_uses", "AND status = 'succeeded'"),
        count("tool_uses", "AND status = 'failed'"),
        count("tool_uses", "AND status = 'pending'"),
        count("subagents", ""),
        count("subagents", "AND tool_use_id IS NOT NULL"),
    )
}

/// The texts of the session's assistant messages (whitespace is trimmed in
/// Rust: the two databases' `trim` differ).
pub fn replies_sql(sid: &str) -> String {
    format!(
        "SELECT text FROM messages WHERE session_id = {} AND role = 'assistant'",
        quote(sid)
    )
}

/// What the rows of [`recorded_sql`] and [`replies_sql`] say, as an [`Expect`].
pub fn recorded(row: &Map<String, Value>, replies: &[Map<String, Value>]) -> Expect {
    let n = |k: &str| row.get(k).and_then(Value::as_i64).unwrap_or(-1);
    Expect {
        entries: n("entries"),
        prompts: n("prompts"),
        assistant: n("assistant"),
        text_replies: replies
            .iter()
            .filter(|m| {
                m.get("text")
                    .and_then(Value::as_str)
                    .is_some_and(|t| !t.trim().is_empty())
            })
            .count() as i64,
        tool_uses: n("tool_uses"),
        succeeded: n("succeeded"),
        failed: n("failed"),
        pending: n("pending"),
        subagents: n("subagents"),
        subagents_linked: n("linked"),
        input: n("input_tokens"),
        output: n("output_tokens"),
        cache_read: n("cache_read_input_tokens"),
        cache_write: n("cache_creation_input_tokens"),
        cache_write_5m: n("cache_creation_5m_tokens"),
        cache_write_1h: n("cache_creation_1h_tokens"),
    }
}

// What the hook sends (used by the spotter, usage and ccusage tests and
// the CLI's usage tests).

/// Entries per backfill request (`hook/src/backfill.rs`, `MAX_ENTRIES`).
pub const BATCH: usize = 500;

/// A hook event body for session `sid` (cwd `/w`, user alice on devbox).
pub fn body(sid: &str, event: &str, rid: &str, at: &str) -> Value {
    json!({
        "session_id": sid, "transcript_path": format!("/p/{sid}.jsonl"), "cwd": "/w",
        "hook_event_name": event,
        "hookline": {"v": 1, "request_id": rid, "captured_at": at,
                     "client": {"name": "hookline-hook", "version": "test"},
                     "host": "devbox", "user": "alice"},
    })
}

/// A line's `timestamp`.
pub fn ts(l: &Value) -> Option<&str> {
    l.get("timestamp").and_then(Value::as_str)
}

/// The chunk of `lines[from..to]` of `file`, as the hook attaches it.
pub fn chunk(file: &File, from: usize, to: usize) -> Value {
    let size = |ls: &[Value]| {
        ls.iter()
            .map(|l| l.to_string().len() as u64 + 1)
            .sum::<u64>()
    };
    let (source, agent) = match &file.agent_id {
        Some(a) => ("agent", json!(a)),
        None => ("main", Value::Null),
    };
    json!({"source": source, "path": file.path.to_string_lossy(), "agent_id": agent,
           "start_offset": size(&file.lines[..from]), "end_offset": size(&file.lines[..to]),
           "entries": file.lines[from..to]})
}

/// What `hookline-hook backfill` sends for a session: every file in
/// batches of at most [`BATCH`] lines.
pub fn backfill(s: &Session) -> anyhow::Result<Vec<QueueRecord>> {
    let mut out = Vec::new();
    for (i, f) in s.files.iter().enumerate() {
        for (j, start) in (0..f.lines.len()).step_by(BATCH).enumerate() {
            let end = (start + BATCH).min(f.lines.len());
            let at = f.lines[start..end]
                .iter()
                .find_map(ts)
                .unwrap_or("2026-02-01T00:00:00Z");
            let rid = format!("bf-{}-{i}-{j}", s.name);
            let mut b = body(&s.session_id, "HooklineBackfill", &rid, at);
            b["hookline"]["transcript"] = json!([chunk(f, start, end)]);
            out.push(record(&rid, b)?);
        }
    }
    Ok(out)
}
