//! Recorded hook payloads and transcripts (`tests/fixtures/`), stamped and
//! wrapped into queue records the way ingest and the queue would.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Duration, TimeZone, Utc};
use hookline_core::RequestId;
use hookline_core::envelope::{Envelope, Payload, QueueMessage};
use hookline_core::validate::ValidationErrors;
use hookline_core::worker::QueueRecord;
use serde_json::{Value, json};

pub const SESSION: &str = "00893aaf-19fa-41d2-8238-13269b9b3ca0";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// A recorded hook payload from tests/fixtures/events.
pub fn event(name: &str) -> anyhow::Result<Value> {
    let path = fixtures().join("events").join(format!("{name}.json"));
    Ok(serde_json::from_str(&std::fs::read_to_string(&path)?)?)
}

/// The lines of a recorded transcript, parsed.
pub fn transcript(name: &str) -> anyhow::Result<Vec<Value>> {
    let text = std::fs::read_to_string(fixtures().join("transcripts").join(name))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Ok(serde_json::from_str(l)?))
        .collect()
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 3, 40, 0)
        .single()
        .unwrap_or_default()
}

/// Adds the `hookline` object a hook would add: request id and capture time.
pub fn stamped(mut body: Value, request_id: &str, second: i64) -> Value {
    body["hookline"] = json!({
        "v": 1,
        "request_id": request_id,
        "captured_at": (t0() + Duration::seconds(second)).to_rfc3339(),
        "client": {"name": "hookline-hook", "version": "test"},
        "host": "devbox",
        "user": "alice",
    });
    body
}

/// Attaches transcript entries to a stamped body.
pub fn with_transcript(mut body: Value, entries: Vec<Value>) -> Value {
    body["hookline"]["transcript"] = json!([{
        "source": "main", "path": "/t.jsonl", "start_offset": 0, "end_offset": 100, "entries": entries
    }]);
    body
}

pub fn envelope(
    request_id: &str,
    payload: Payload,
    invalid: Option<ValidationErrors>,
) -> anyhow::Result<String> {
    envelope_at(request_id, payload, invalid, t0())
}

/// [`envelope`], received by ingest at `received_at`.
pub fn envelope_at(
    request_id: &str,
    payload: Payload,
    invalid: Option<ValidationErrors>,
    received_at: DateTime<Utc>,
) -> anyhow::Result<String> {
    let msg = QueueMessage::HookEventV1(Envelope {
        request_id: RequestId::parse(request_id)?,
        trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
        span_id: Some("00f067aa0ba902b7".into()),
        received_at,
        principal: Some("alice".into()),
        role: None,
        users: None,
        source_ip: Some("127.0.0.1".into()),
        user_agent: Some("hookline-hook/test".into()),
        client: Some("hookline-hook/test".into()),
        headers: BTreeMap::from([("authorization".to_owned(), "[REDACTED]".to_owned())]),
        invalid,
        payload,
    });
    Ok(msg.encode()?)
}

/// A queue record carrying `body` under `request_id`, first delivery.
pub fn record(request_id: &str, body: Value) -> anyhow::Result<QueueRecord> {
    record_at(request_id, body, t0())
}

/// [`record`], received and queued at `at`.
pub fn record_at(request_id: &str, body: Value, at: DateTime<Utc>) -> anyhow::Result<QueueRecord> {
    Ok(QueueRecord {
        message_id: format!("msg-{request_id}"),
        body: envelope_at(request_id, Payload::Json(body), None, at)?,
        receive_count: 1,
        sent_at: Some(at),
        request_id_attr: Some(request_id.to_owned()),
    })
}

/// The full session of the fixtures, in the order Claude Code fires it,
/// with request ids r01..r12 and capture times one second apart.
pub fn session() -> anyhow::Result<Vec<QueueRecord>> {
    let stop = with_transcript(
        stamped(event("Stop")?, "r10", 10),
        transcript("stop-turn.jsonl")?,
    );
    let names = [
        "SessionStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUseFailure",
        "PostToolUse",
        "Notification",
        "SubagentStart",
        "SubagentStop",
        "PreCompact",
    ];
    let mut bodies: Vec<(String, Value)> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let id = format!("r{:02}", i + 1);
        bodies.push((id.clone(), stamped(event(name)?, &id, i as i64 + 1)));
    }
    bodies.push(("r10".into(), stop));
    bodies.push(("r11".into(), stamped(event("SessionEnd")?, "r11", 11)));
    bodies.push(("r12".into(), stamped(event("PermissionRequest")?, "r12", 6)));
    bodies.into_iter().map(|(id, b)| record(&id, b)).collect()
}
