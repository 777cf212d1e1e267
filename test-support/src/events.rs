//! Hand-built hook events and the queue messages ingest makes of them, for
//! tests that need a few well-known shapes (recorded payloads are in
//! `tests/fixtures/`, through `hookline_conformance::fixtures`).

use hookline_core::queue::OutMessage;
use serde_json::{Value, json};

/// When the hand-built envelopes were received.
pub const RECEIVED_AT: &str = "2026-11-29T03:40:00Z";

/// A hook event of `kind` in `session` with the fields every event has; a
/// SessionStart has `source: startup`.
pub fn event(session: &str, kind: &str) -> Value {
    let mut e = json!({"session_id": session, "transcript_path": "/t.jsonl", "cwd": "/w",
        "hook_event_name": kind});
    if kind == "SessionStart" {
        e["source"] = json!("startup");
    }
    e
}

/// A UserPromptSubmit of `prompt` in `session`.
pub fn prompt(session: &str, prompt: &str) -> Value {
    let mut e = event(session, "UserPromptSubmit");
    e["prompt"] = json!(prompt);
    e
}

/// The queue message body ingest makes of `data` (a hook event) under
/// `request_id`: a `hook_event.v1` envelope, received at [`RECEIVED_AT`].
pub fn envelope(request_id: &str, data: Value) -> String {
    json!({"type": "hook_event.v1", "request_id": request_id, "received_at": RECEIVED_AT,
        "payload": {"encoding": "json", "data": data}})
    .to_string()
}

/// [`envelope`] as the message ingest sends, with its `request_id` and
/// `event_type` attributes.
pub fn message(request_id: &str, data: Value) -> OutMessage {
    let kind = data["hook_event_name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    OutMessage {
        body: envelope(request_id, data),
        attributes: [
            ("request_id".to_owned(), request_id.to_owned()),
            ("event_type".to_owned(), kind),
        ]
        .into(),
    }
}

/// A short conversation as the hook sends it, each event a request of its
/// own: SessionStart, the prompt "deploy the walrus service", a Bash call
/// (PreToolUse, PostToolUse) grepping for `walrus_config`, and Stop with
/// the reply "The walrus is deployed."; all in `cwd`. Every kind of
/// searchable text holds the word `walrus`.
pub fn conversation(session: &str, cwd: &str) -> Vec<Value> {
    let base = json!({"session_id": session, "transcript_path": "/t.jsonl", "cwd": cwd});
    let tool = json!({"command": "grep -rn walrus_config src/"});
    [
        json!({"hook_event_name": "SessionStart", "source": "startup"}),
        json!({"hook_event_name": "UserPromptSubmit", "prompt": "deploy the walrus service"}),
        json!({"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": tool,
               "tool_use_id": "toolu_walrus"}),
        json!({"hook_event_name": "PostToolUse", "tool_name": "Bash", "tool_input": tool,
               "tool_response": {"stdout": "src/zoo.rs: let walrus_config = 1;"},
               "tool_use_id": "toolu_walrus"}),
        json!({"hook_event_name": "Stop", "last_assistant_message": "The walrus is deployed."}),
    ]
    .into_iter()
    .map(|mut e| {
        if let (Value::Object(e), Value::Object(b)) = (&mut e, &base) {
            e.extend(b.clone());
        }
        e
    })
    .collect()
}
