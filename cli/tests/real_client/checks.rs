//! The checks of one scenario: each compares what hookline stored (or what
//! Claude Code did with hookline installed) with an independent truth, and
//! returns the differences it found (empty: passed).

use std::collections::BTreeMap;

use serde_json::Value;
use sqlx::{Row, SqlitePool};

use crate::harness::Run;
use crate::truth;

/// Events Claude Code may fire that hookline may leave alone, because a
/// hook there would change or delay what Claude Code does (docs/hook.md
/// gives hookline's own reasons). The suite's statement of that policy:
/// any other event fired and not registered is a capture gap.
const MAY_BE_LEFT_ALONE: [(&str, &str); 7] = [
    (
        "WorktreeCreate",
        "a hook replaces Claude Code's git worktree handling",
    ),
    (
        "WorktreeRemove",
        "a hook replaces Claude Code's git worktree removal",
    ),
    ("FileChanged", "registering it starts a file watcher"),
    (
        "MessageDisplay",
        "Claude Code runs it inline whatever `async` says; its text is in the transcript",
    ),
    (
        "PreModelSwitch",
        "a decision hook; the model is in the transcript",
    ),
    (
        "PostModelSwitch",
        "not known to run in the background; the model is in the transcript",
    ),
    (
        "PreSkillShellCommand",
        "a decision hook on a skill's shell command",
    ),
];

/// A snapshot of the store.
pub struct Store {
    pub events: Vec<Value>,
    pub conversations: Vec<Value>,
    pub messages: Vec<Value>,
    pub tool_uses: Vec<Value>,
    pub subagents: Vec<Value>,
}

fn json_col(r: &sqlx::sqlite::SqliteRow, col: &str) -> Value {
    r.try_get::<Option<String>, _>(col)
        .ok()
        .flatten()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null)
}

fn text_col(r: &sqlx::sqlite::SqliteRow, col: &str) -> Value {
    r.try_get::<Option<String>, _>(col)
        .ok()
        .flatten()
        .map_or(Value::Null, Value::String)
}

fn int_col(r: &sqlx::sqlite::SqliteRow, col: &str) -> Value {
    r.try_get::<Option<i64>, _>(col)
        .ok()
        .flatten()
        .map_or(Value::Null, Value::from)
}

pub async fn snapshot(db: &SqlitePool) -> anyhow::Result<Store> {
    let events = sqlx::query(
        "SELECT request_id, event_type, session_id, status, payload, error_message FROM webhook_events ORDER BY id",
    )
    .fetch_all(db)
    .await?
    .iter()
    .map(|r| {
        serde_json::json!({
            "request_id": text_col(r, "request_id"), "event_type": text_col(r, "event_type"),
            "session_id": text_col(r, "session_id"), "status": text_col(r, "status"),
            "payload": json_col(r, "payload"), "error": text_col(r, "error_message"),
        })
    })
    .collect();
    let conversations = sqlx::query(
        "SELECT session_id, model, parent_session_id, link_kind, input_tokens, output_tokens,
                cache_creation_input_tokens, cache_read_input_tokens FROM conversations",
    )
    .fetch_all(db)
    .await?
    .iter()
    .map(|r| {
        serde_json::json!({
            "session_id": text_col(r, "session_id"), "model": text_col(r, "model"),
            "parent_session_id": text_col(r, "parent_session_id"), "link_kind": text_col(r, "link_kind"),
            "input_tokens": int_col(r, "input_tokens"), "output_tokens": int_col(r, "output_tokens"),
            "cache_creation_input_tokens": int_col(r, "cache_creation_input_tokens"),
            "cache_read_input_tokens": int_col(r, "cache_read_input_tokens"),
        })
    })
    .collect();
    let messages = sqlx::query(
        "SELECT session_id, message_key, role, source, content, text, model, agent_id, input_tokens,
                output_tokens, cache_creation_input_tokens, cache_read_input_tokens
         FROM messages ORDER BY created_at, id",
    )
    .fetch_all(db)
    .await?
    .iter()
    .map(|r| {
        serde_json::json!({
            "session_id": text_col(r, "session_id"), "message_key": text_col(r, "message_key"),
            "role": text_col(r, "role"), "source": text_col(r, "source"),
            "content": json_col(r, "content"), "text": text_col(r, "text"),
            "model": text_col(r, "model"), "agent_id": text_col(r, "agent_id"),
            "input_tokens": int_col(r, "input_tokens"), "output_tokens": int_col(r, "output_tokens"),
            "cache_creation_input_tokens": int_col(r, "cache_creation_input_tokens"),
            "cache_read_input_tokens": int_col(r, "cache_read_input_tokens"),
        })
    })
    .collect();
    let tool_uses = sqlx::query(
        "SELECT tool_use_id, session_id, tool_name, input, response, error, status, duration_ms,
                transcript_result, agent_id FROM tool_uses",
    )
    .fetch_all(db)
    .await?
    .iter()
    .map(|r| {
        serde_json::json!({
            "tool_use_id": text_col(r, "tool_use_id"), "session_id": text_col(r, "session_id"),
            "tool_name": text_col(r, "tool_name"), "input": json_col(r, "input"),
            "response": json_col(r, "response"), "error": text_col(r, "error"),
            "status": text_col(r, "status"), "duration_ms": int_col(r, "duration_ms"),
            "transcript_result": json_col(r, "transcript_result"), "agent_id": text_col(r, "agent_id"),
        })
    })
    .collect();
    let subagents = sqlx::query(
        "SELECT session_id, agent_id, agent_type, transcript_path, started_at, stopped_at FROM subagents",
    )
    .fetch_all(db)
    .await?
    .iter()
    .map(|r| {
        serde_json::json!({
            "session_id": text_col(r, "session_id"), "agent_id": text_col(r, "agent_id"),
            "agent_type": text_col(r, "agent_type"), "transcript_path": text_col(r, "transcript_path"),
            "started_at": text_col(r, "started_at"), "stopped_at": text_col(r, "stopped_at"),
        })
    })
    .collect();
    Ok(Store {
        events,
        conversations,
        messages,
        tool_uses,
        subagents,
    })
}

/// The payload as Claude Code sent it: the audit row's JSON without the
/// `hookline` object the hook adds. `None` for a continuation part.
fn claude_json(row: &Value) -> Option<Value> {
    let mut p = row["payload"].clone();
    if p["hookline"]["part"]["index"]
        .as_u64()
        .is_some_and(|i| i > 0)
    {
        return None;
    }
    if let Some(o) = p.as_object_mut() {
        o.remove("hookline");
    }
    Some(p)
}

fn name(e: &Value) -> &str {
    e["hook_event_name"].as_str().unwrap_or("?")
}

/// Every event the recorder saw (of those hookline registers) is exactly
/// one audit row, SUCCESS, with the same JSON; no other rows.
pub fn events(recorded: &[Value], registered: &[String], store: &Store) -> Vec<String> {
    let mut rows: Vec<(Value, &Value)> = store
        .events
        .iter()
        .filter_map(|r| claude_json(r).map(|p| (p, r)))
        .collect();
    let mut bad = Vec::new();
    for e in recorded
        .iter()
        .filter(|e| registered.iter().any(|r| r == name(e)))
    {
        match rows.iter().position(|(p, _)| p == e) {
            Some(i) => {
                let (_, row) = rows.remove(i);
                if row["status"] != "SUCCESS" {
                    bad.push(format!(
                        "{} is {} ({})",
                        name(e),
                        row["status"],
                        row["error"].as_str().unwrap_or("")
                    ));
                }
            }
            None => bad.push(format!(
                "{} fired (session {}), no audit row has its JSON",
                name(e),
                e["session_id"].as_str().unwrap_or("?")
            )),
        }
    }
    for (p, row) in rows {
        bad.push(format!(
            "audit row {} ({}) matches no event Claude Code fired",
            name(&p),
            row["status"]
        ));
    }
    bad
}

/// Every event Claude Code fired is registered by `hookline-hook install`,
/// but those [`MAY_BE_LEFT_ALONE`].
pub fn registered(recorded: &[Value], registered: &[String]) -> Vec<String> {
    let mut missing: Vec<&str> = recorded
        .iter()
        .map(name)
        .filter(|n| !registered.iter().any(|r| r == n))
        .filter(|n| !MAY_BE_LEFT_ALONE.iter().any(|(e, _)| e == n))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    missing
        .into_iter()
        .map(|n| format!("Claude Code fired {n}; hookline-hook install does not register it"))
        .collect()
}

const USAGE: [&str; 4] = [
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
];

/// Prompts, assistant messages (blocks, model, agent) and tool calls
/// (input, result, status, duration, response) equal the transcript's and
/// the recorder's.
pub fn transcript(
    truth: &BTreeMap<String, truth::Session>,
    recorded: &[Value],
    store: &Store,
) -> Vec<String> {
    let mut bad = Vec::new();
    for (sid, t) in truth {
        let prompts: Vec<&str> = store
            .messages
            .iter()
            .filter(|m| m["session_id"] == *sid && m["role"] == "user" && m["agent_id"].is_null())
            .filter_map(|m| m["text"].as_str())
            .collect();
        if prompts != t.prompts.iter().map(String::as_str).collect::<Vec<_>>() {
            bad.push(format!(
                "{sid}: prompts {prompts:?}, the transcript has {:?}",
                t.prompts
            ));
        }
        let rows: Vec<&Value> = store
            .messages
            .iter()
            .filter(|m| m["session_id"] == *sid && m["role"] == "assistant")
            .collect();
        for a in &t.assistant {
            let Some(row) = rows.iter().find(|m| m["message_key"] == a.key.as_str()) else {
                bad.push(format!("{sid}: assistant message {} not stored", a.key));
                continue;
            };
            if row["content"] != Value::Array(a.blocks.clone()) {
                bad.push(format!(
                    "{sid}: {} content {}, the transcript has {}",
                    a.key,
                    row["content"],
                    Value::Array(a.blocks.clone())
                ));
            }
            if row["model"] != a.model.as_str() {
                bad.push(format!(
                    "{sid}: {} model {}, transcript {}",
                    a.key, row["model"], a.model
                ));
            }
            if row["agent_id"].as_str() != a.agent.as_deref() {
                bad.push(format!(
                    "{sid}: {} agent {}, transcript {:?}",
                    a.key, row["agent_id"], a.agent
                ));
            }
        }
        for row in rows.iter().filter(|m| m["source"] == "transcript") {
            if !t
                .assistant
                .iter()
                .any(|a| row["message_key"] == a.key.as_str())
            {
                bad.push(format!(
                    "{sid}: assistant row {} is no message of this session's transcript",
                    row["message_key"]
                ));
            }
        }
        for (id, call) in &t.tools {
            let Some(row) = store
                .tool_uses
                .iter()
                .find(|u| u["tool_use_id"] == id.as_str())
            else {
                bad.push(format!("{sid}: tool call {id} ({}) not stored", call.name));
                continue;
            };
            if row["session_id"] != *sid {
                bad.push(format!(
                    "{id}: session {}, transcript {sid}",
                    row["session_id"]
                ));
            }
            if row["tool_name"] != call.name.as_str() || row["input"] != call.input {
                bad.push(format!(
                    "{id}: {} {}, the transcript has {} {}",
                    row["tool_name"], row["input"], call.name, call.input
                ));
            }
            if row["agent_id"].as_str() != call.agent.as_deref() {
                bad.push(format!(
                    "{id}: agent {}, transcript {:?}",
                    row["agent_id"], call.agent
                ));
            }
            let failed = call.result.as_ref().is_some_and(|r| r["is_error"] == true);
            let want = match &call.result {
                None => "pending",
                Some(_) if failed => "failed",
                Some(_) => "succeeded",
            };
            if row["status"] != want {
                bad.push(format!(
                    "{id} ({}): status {}, the transcript says {want}",
                    call.name, row["status"]
                ));
            }
            if let Some(r) = &call.result
                && row["transcript_result"]["content"] != r["content"]
            {
                bad.push(format!(
                    "{id}: result {}, the transcript has {}",
                    row["transcript_result"]["content"], r["content"]
                ));
            }
            let post = recorded.iter().find(|e| {
                e["tool_use_id"] == id.as_str()
                    && matches!(name(e), "PostToolUse" | "PostToolUseFailure")
            });
            if let Some(post) = post {
                if row["duration_ms"] != post["duration_ms"] {
                    bad.push(format!(
                        "{id}: duration {} ms, Claude Code said {} ms",
                        row["duration_ms"], post["duration_ms"]
                    ));
                }
                if name(post) == "PostToolUse" && row["response"] != post["tool_response"] {
                    bad.push(format!(
                        "{id}: response {}, PostToolUse gave {}",
                        row["response"], post["tool_response"]
                    ));
                }
                if name(post) == "PostToolUseFailure" && row["error"] != post["error"] {
                    bad.push(format!(
                        "{id}: error {}, PostToolUseFailure gave {}",
                        row["error"], post["error"]
                    ));
                }
            }
        }
    }
    bad
}

/// Token usage per message equals the transcript's last entry and what the
/// fake API reported; the session's totals are their sums.
pub fn usage(
    truth: &BTreeMap<String, truth::Session>,
    runs: &[&Run],
    store: &Store,
) -> Vec<String> {
    let served: BTreeMap<&str, &Value> = runs
        .iter()
        .flat_map(|r| r.requests.iter())
        .filter_map(|q| Some((q["id"].as_str()?, &q["usage"])))
        .collect();
    let mut bad = Vec::new();
    for (sid, t) in truth {
        let mut totals = [0i64; 4];
        for a in &t.assistant {
            for (i, k) in USAGE.iter().enumerate() {
                totals[i] += a.usage[k].as_i64().unwrap_or(0);
            }
            if let Some(s) = served.get(a.message_id.as_str()) {
                for k in USAGE {
                    if a.usage[k] != s[k] {
                        bad.push(format!(
                            "{}: transcript {k} {}, the API sent {}",
                            a.key, a.usage[k], s[k]
                        ));
                    }
                }
            } else {
                bad.push(format!("{}: the fake API never sent this message", a.key));
            }
            let Some(row) = store
                .messages
                .iter()
                .find(|m| m["session_id"] == *sid && m["message_key"] == a.key.as_str())
            else {
                continue; // reported by the transcript check
            };
            for k in USAGE {
                if row[k] != a.usage[k] {
                    bad.push(format!(
                        "{}: stored {k} {}, the transcript's last entry has {}",
                        a.key, row[k], a.usage[k]
                    ));
                }
            }
        }
        if let Some(c) = store.conversations.iter().find(|c| c["session_id"] == *sid) {
            for (i, k) in USAGE.iter().enumerate() {
                if c[k] != totals[i] {
                    bad.push(format!(
                        "{sid}: session {k} {}, its messages sum to {}",
                        c[k], totals[i]
                    ));
                }
            }
        }
    }
    bad
}

/// Every subagent Claude Code ran (a transcript file under
/// `<session>/subagents/`) is a `subagents` row of its session with the
/// type SubagentStart gave, its transcript path, a start and a stop.
pub fn subagents(
    truth: &BTreeMap<String, truth::Session>,
    recorded: &[Value],
    store: &Store,
) -> Vec<String> {
    let mut bad = Vec::new();
    for (sid, t) in truth {
        for (agent, path) in &t.agents {
            let Some(row) = store
                .subagents
                .iter()
                .find(|r| r["session_id"] == *sid && r["agent_id"] == agent.as_str())
            else {
                bad.push(format!("{sid}: subagent {agent} not stored"));
                continue;
            };
            let start = recorded
                .iter()
                .find(|e| name(e) == "SubagentStart" && e["agent_id"] == agent.as_str());
            if let Some(start) = start
                && row["agent_type"] != start["agent_type"]
            {
                bad.push(format!(
                    "{agent}: type {}, SubagentStart said {}",
                    row["agent_type"], start["agent_type"]
                ));
            }
            if row["transcript_path"] != path.display().to_string().as_str() {
                bad.push(format!(
                    "{agent}: transcript {}, Claude Code wrote {}",
                    row["transcript_path"],
                    path.display()
                ));
            }
            if row["started_at"].is_null() || row["stopped_at"].is_null() {
                bad.push(format!(
                    "{agent}: started {}, stopped {}",
                    row["started_at"], row["stopped_at"]
                ));
            }
        }
    }
    bad
}

/// The session's model is the model of its latest assistant message.
pub fn model(truth: &BTreeMap<String, truth::Session>, store: &Store) -> Vec<String> {
    let mut bad = Vec::new();
    for (sid, t) in truth {
        let Some(want) = &t.last_model else { continue };
        match store.conversations.iter().find(|c| c["session_id"] == *sid) {
            None => bad.push(format!("{sid}: no conversation row")),
            Some(c) if c["model"] != want.as_str() => {
                bad.push(format!(
                    "{sid}: model {}, its latest message says {want}",
                    c["model"]
                ));
            }
            Some(_) => {}
        }
    }
    bad
}

/// Exit code and stdout equal those of the same run without hookline.
pub fn same_as_bare(steps: &[(&Run, &Run)]) -> Vec<String> {
    let mut bad = Vec::new();
    for (i, (hooked, bare)) in steps.iter().enumerate() {
        if hooked.code != bare.code || hooked.stdout != bare.stdout {
            bad.push(format!(
                "run {}: exit {:?} {:?} with hookline, {:?} {:?} without",
                i + 1,
                hooked.code,
                hooked.stdout,
                bare.code,
                bare.stdout
            ));
        }
    }
    bad
}

/// The events whose hookline hook Claude Code is to run inline (the suite's
/// own list, as `MAY_BE_LEFT_ALONE`): at the end of a `-p` turn 2.1.332
/// cancels the async hooks still running, so these two are registered
/// synchronously and only spool.
pub const SYNCHRONOUS: [&str; 2] = ["Stop", "SessionEnd"];

/// `install` registered exactly [`SYNCHRONOUS`] synchronously (`synchronous`:
/// the events whose entry it wrote without `async: true`).
pub fn synchronous_as_expected(synchronous: &[String]) -> Vec<String> {
    let mut got: Vec<&str> = synchronous.iter().map(String::as_str).collect();
    got.sort_unstable();
    let mut want = SYNCHRONOUS.to_vec();
    want.sort_unstable();
    if got == want {
        Vec::new()
    } else {
        vec![format!(
            "install registered {got:?} synchronously, the suite expects {want:?}"
        )]
    }
}

/// The most Claude Code may wait for one of hookline's synchronous hooks
/// (Stop, SessionEnd: they only spool and start the detached sender; 8-35
/// ms measured, a debug build on the loaded 2-core VM included). A hook
/// that sent, or waited for the drain lock, would take 150 ms to
/// `timeout_ms` (1 s) more.
pub const INLINE_BOUND: std::time::Duration = std::time::Duration::from_millis(400);

/// Claude Code waited on no hookline hook but the synchronous ones (those
/// `install` wrote with `async: false`: Stop and SessionEnd), and on those
/// only briefly: its `--debug` log shows every other hookline hook
/// backgrounded, as many times per event as the event fired, and the
/// synchronous ones run inline, each within [`INLINE_BOUND`], exit 0.
///
/// 2.1.332 logs `Hooks: EVENT[:matcher] [COMMAND] moved to the background
/// (Nms)` for an async hook and `… finished with status S (Nms)` for one it
/// waited on (SessionEnd at teardown: `SessionEnd [COMMAND] completed with
/// status S`, no time); 2.1.197 logs `Hooks: Registering async hook
/// async_hook_N (EVENT[:matcher]) with timeout …` for an async hook (the
/// recorder, the only other hook, is synchronous), nothing naming an
/// inline one but SessionEnd's `completed with status S`. So there an
/// event fired more often than backgrounded ran inline, and the inline
/// time of hookline's hooks is read from `hook.log` ([`inline_time`]).
pub fn no_wait(
    run: &Run,
    fired: &[Value],
    registered: &[String],
    synchronous: &[String],
    command: &str,
) -> Vec<String> {
    let mut bad = Vec::new();
    // Per event: backgrounded runs of hookline's hook as 2.1.332 names
    // them, and async registrations (2.1.197's only trace; 2.1.332 logs
    // both, so the named count wins when there is one); inline runs.
    let mut named: BTreeMap<String, usize> = BTreeMap::new();
    let mut registrations: BTreeMap<String, usize> = BTreeMap::new();
    let mut inline: BTreeMap<String, usize> = BTreeMap::new();
    let needle = format!(" [{command}] ");
    let event_of = |label: &str| label.split(':').next().unwrap_or(label).to_string();
    let is_sync = |e: &str| synchronous.iter().any(|s| s == e);
    for line in run.debug.lines() {
        let rest = line.split_once("Hooks: ").map(|(_, r)| r);
        if let Some((label, tail)) = line.split_once(&needle) {
            // `[DEBUG] Hooks: Stop [cmd] …` or `[DEBUG] SessionEnd [cmd] …`.
            let label = label
                .rsplit_once("Hooks: ")
                .map_or_else(|| label.rsplit(' ').next().unwrap_or(label), |(_, l)| l);
            let event = event_of(label);
            if tail.starts_with("moved to the background") {
                *named.entry(event).or_default() += 1;
            } else if let Some(r) = tail
                .strip_prefix("finished with status ")
                .or_else(|| tail.strip_prefix("completed with status "))
            {
                let status = r.split_whitespace().next().unwrap_or("");
                let ms: Option<u64> = r
                    .split_once('(')
                    .and_then(|(_, m)| m.strip_suffix("ms)"))
                    .and_then(|m| m.parse().ok());
                if !is_sync(&event) {
                    bad.push(format!(
                        "Claude Code waited for hookline's {event} hook: {tail}"
                    ));
                } else if status != "0" {
                    bad.push(format!("hookline's {event} hook: {tail}"));
                } else if ms.is_some_and(|ms| ms > INLINE_BOUND.as_millis() as u64) {
                    bad.push(format!(
                        "Claude Code waited for hookline's {event} hook more than {} ms: {tail}",
                        INLINE_BOUND.as_millis()
                    ));
                }
                *inline.entry(event).or_default() += 1;
            }
        } else if let Some(r) = rest.and_then(|r| r.strip_prefix("Registering async hook ")) {
            let label = r
                .split_once('(')
                .and_then(|(_, l)| l.split_once(')'))
                .map(|(l, _)| l);
            if let Some(label) = label {
                *registrations.entry(event_of(label)).or_default() += 1;
            }
        }
    }
    let names_hooks = !named.is_empty();
    let backgrounded = if names_hooks { named } else { registrations };
    let mut want: BTreeMap<String, usize> = BTreeMap::new();
    for e in fired
        .iter()
        .filter(|e| registered.iter().any(|r| r == name(e)))
    {
        *want.entry(name(e).to_string()).or_default() += 1;
    }
    for (event, n) in &want {
        let got = backgrounded.get(event).copied().unwrap_or(0);
        if is_sync(event) {
            let ran = inline.get(event).copied().unwrap_or(0);
            if got > 0 {
                bad.push(format!(
                    "{event} is registered synchronously, but its hook was backgrounded {got} times"
                ));
            } else if names_hooks && ran != *n {
                bad.push(format!(
                    "{event} fired {n} times, hookline's hook ran inline {ran} times"
                ));
            }
        } else if got != *n {
            bad.push(format!(
                "{event} fired {n} times, hookline's hook was backgrounded {got} times (the rest ran inline)"
            ));
        }
    }
    if want.is_empty() {
        bad.push("no hookline hook ran".into());
    }
    bad
}

/// Each run of hookline's synchronous hooks (`synchronous`: Stop and
/// SessionEnd) took at most [`INLINE_BOUND`] by its own `hook.log` line
/// (`ms`, from the process's start to the line): the time 2.1.197's debug
/// log does not show.
pub fn inline_time(hook_log: &str, synchronous: &[String]) -> Vec<String> {
    hook_log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l.get("process").is_none())
        .filter(|l| {
            l["event_type"]
                .as_str()
                .is_some_and(|e| synchronous.iter().any(|s| s == e))
        })
        .filter(|l| {
            l["ms"]
                .as_u64()
                .is_some_and(|ms| ms > INLINE_BOUND.as_millis() as u64)
        })
        .map(|l| {
            format!(
                "hookline's {} hook ran {} ms (more than {} ms) while Claude Code waited: {}",
                l["event_type"],
                l["ms"],
                INLINE_BOUND.as_millis(),
                l["message"]
            )
        })
        .collect()
}

/// The hookline hooks Claude Code cancelled: 2.1.332 kills the async hooks
/// still running when a print-mode turn ends and logs `Hook EVENT (LABEL)
/// cancelled` (the recorder, synchronous, always finishes first). Reported
/// in the table, not a check: the `events` and `transcript` checks say
/// whether anything was lost by it.
pub fn not_cancelled(run: &Run) -> Vec<String> {
    run.debug
        .lines()
        .filter_map(|l| l.split_once("[DEBUG] Hook ").map(|(_, r)| r))
        .filter(|r| r.contains(") cancelled"))
        .map(|r| {
            format!(
                "Claude Code cancelled hookline's hook: Hook {}",
                r.trim_end_matches(':')
            )
        })
        .collect()
}

/// The hook logged no warning or error.
pub fn hook_log(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| matches!(l["level"].as_str(), Some("WARN" | "ERROR")))
        .map(|l| format!("hook.log {}: {}", l["level"], l["message"]))
        .collect()
}
