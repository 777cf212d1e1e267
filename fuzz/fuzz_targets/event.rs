//! The path a hook event takes, fed arbitrary bytes:
//!
//! 1. the hook: stdin bytes → `Input::parse` → `with_meta` (the `hookline`
//!    object spliced into Claude Code's bytes);
//! 2. ingest: body bytes → JSON → `HookEvent::parse` (validation), the queue
//!    message encoded and decoded (plain and gzip forms);
//! 3. the worker: the queue message body decoded, the event's rows planned,
//!    text escaped for Postgres and back.
//!
//! Each step asserts what must hold, not only that nothing panics.

#![no_main]

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hookline_core::envelope::{Envelope, MAX_BODY_BYTES, Payload, QueueMessage};
use hookline_core::error::EnvelopeError;
use hookline_core::event::{EventData, EventKind, HookEvent};
use hookline_core::ids::{RequestId, SessionId, ToolUseId};
use hookline_core::mapping;
use hookline_core::meta::{ClientInfo, HooklineMeta, META_FIELD};
use hookline_core::text::{escape_json, unescape_json};
use hookline_core::validate::ValidationErrors;
use hookline_hook::body::Input;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    hook(data);
    ingest(data);
    queue_body(data);
});

fn at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 123_456_789).unwrap_or_default()
}

fn meta() -> HooklineMeta {
    HooklineMeta {
        v: 1,
        request_id: "01938f0e-8c6e-7d2a-9a51-0f4c2b1e7a10".into(),
        captured_at: at(),
        client: ClientInfo {
            name: "hookline-hook".into(),
            version: "fuzz".into(),
        },
        host: Some("host".into()),
        user: None,
        git_email: None,
        heartbeat: false,
        redactions: Default::default(),
        part: None,
        transcript: Vec::new(),
    }
}

/// The hook keeps Claude Code's bytes and adds `hookline`: the body it sends
/// is a JSON object with every field Claude Code sent, unchanged, and the
/// `hookline` object as given.
fn hook(data: &[u8]) {
    let Ok(input) = Input::parse(data.to_vec()) else {
        return;
    };
    let original: serde_json::Map<String, Value> = match serde_json::from_slice(data) {
        Ok(m) => m,
        Err(e) => panic!("the hook accepted a body that is not a JSON object: {e}"),
    };
    let m = meta();
    let body = match input.with_meta(&m) {
        Ok(b) => b,
        Err(e) => panic!("with_meta failed on an accepted body: {e}"),
    };
    let sent: serde_json::Map<String, Value> = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => panic!(
            "the hook built a body that is not a JSON object: {e}: {:?}",
            String::from_utf8_lossy(&body)
        ),
    };
    for (k, v) in &original {
        if k != META_FIELD {
            assert_eq!(sent.get(k), Some(v), "field {k:?} changed on the way");
        }
    }
    assert_eq!(
        sent.len(),
        original.len() + usize::from(!original.contains_key(META_FIELD))
    );
    let sent_meta = sent
        .get(META_FIELD)
        .map(|v| HooklineMeta::deserialize_checked(v));
    assert_eq!(
        sent_meta,
        Some(Ok(m)),
        "the hookline object did not survive"
    );
}

/// Ingest and the worker on a body: validation is deterministic, accepted
/// events hold valid ids and their own raw JSON, refusals say why, and the
/// queue message round-trips exactly.
fn ingest(data: &[u8]) {
    let (payload, invalid) = match serde_json::from_slice::<Value>(data) {
        Ok(value) => {
            let parsed = HookEvent::parse(value.clone());
            assert_eq!(
                parsed,
                HookEvent::parse(value.clone()),
                "parse is deterministic"
            );
            let invalid = match parsed {
                Ok(ev) => {
                    accepted(&ev, &value);
                    None
                }
                Err(errors) => {
                    refused(&errors);
                    Some(errors)
                }
            };
            escaping(&value);
            (Payload::Json(value), invalid)
        }
        // What ingest does with a body that is not JSON: kept as text.
        Err(_) => (
            Payload::Text(String::from_utf8_lossy(data).into_owned()),
            Some(ValidationErrors::default()),
        ),
    };
    round_trip(&message(payload.clone(), invalid.clone(), data));
    // One input in 256 also goes through the gzip form: the same payload
    // repeated past the queue's size limit.
    if data.len() % 256 == 7 {
        let big = match payload {
            Payload::Json(v) => {
                let n = MAX_BODY_BYTES / serde_json::to_vec(&v).map_or(1, |b| b.len().max(1)) + 1;
                Payload::Json(Value::Array(vec![v; n]))
            }
            Payload::Text(t) => Payload::Text(t.repeat(MAX_BODY_BYTES / t.len().max(1) + 1)),
            other => other,
        };
        let msg = message(big, invalid, data);
        match msg.encode() {
            Ok(body) => {
                assert!(body.len() <= MAX_BODY_BYTES, "encode went over the limit");
                assert!(
                    body.contains("\"encoding\":\"gzip_"),
                    "an oversize payload stayed plain"
                );
                assert_eq!(QueueMessage::decode(&body).ok(), Some(msg));
            }
            Err(EnvelopeError::TooLarge { bytes, limit }) => assert!(bytes > limit),
            Err(e) => panic!("encode failed: {e}"),
        }
    }
}

fn accepted(ev: &HookEvent, value: &Value) {
    assert_eq!(&ev.raw, value, "the raw JSON is kept as received");
    let sid = ev.common.session_id.as_str();
    assert_eq!(SessionId::parse(sid).as_ref(), Ok(&ev.common.session_id));
    assert_eq!(value.get("session_id").and_then(Value::as_str), Some(sid));
    assert_eq!(
        value.get("hook_event_name").and_then(Value::as_str),
        Some(ev.common.hook_event_name.as_str())
    );
    assert_eq!(ev.kind, EventKind::from_name(ev.kind.name()));
    assert_eq!(ev.kind.name(), ev.common.hook_event_name);
    if let Some(m) = &ev.meta {
        assert!(
            RequestId::parse(&m.request_id).is_ok(),
            "meta request id is valid"
        );
    }
    let tool = match &ev.data {
        EventData::PreToolUse { tool }
        | EventData::PostToolUse { tool, .. }
        | EventData::PostToolUseFailure { tool, .. } => Some(tool),
        _ => None,
    };
    if let Some(t) = tool {
        if let Some(id) = &t.tool_use_id {
            assert_eq!(ToolUseId::parse(id.as_str()).as_ref(), Ok(id));
        }
        assert!(t.tool_name.as_ref().is_none_or(|n| !n.trim().is_empty()));
    }
    let plan = mapping::plan(ev, "01938f0e-8c6e-7d2a-9a51-0f4c2b1e7a10", at(), Some("p"));
    assert_eq!(plan.session_id, sid);
    let chunk_entries: usize = ev
        .meta
        .as_ref()
        .map_or(0, |m| m.transcript.iter().map(|c| c.entries.len()).sum());
    assert_eq!(
        plan.entries.len() + plan.skipped_entries,
        chunk_entries,
        "every transcript entry is written or counted as skipped"
    );
    if let Some(id) = tool.and_then(|t| t.tool_use_id.as_ref()) {
        assert!(plan.tool_uses.iter().any(|u| u.tool_use_id == id.as_str()));
    }
}

fn refused(errors: &ValidationErrors) {
    assert!(!errors.is_empty(), "a refusal names at least one problem");
    for e in &errors.0 {
        assert!(
            !e.field.is_empty() && !e.code.is_empty() && !e.message.is_empty(),
            "{e:?}"
        );
    }
}

/// Postgres cannot hold NUL: escaping removes every NUL and is reversed
/// exactly.
fn escaping(value: &Value) {
    fn has_nul(v: &Value) -> bool {
        match v {
            Value::String(s) => s.contains('\0'),
            Value::Array(items) => items.iter().any(has_nul),
            Value::Object(obj) => obj.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
            _ => false,
        }
    }
    let escaped = escape_json(value);
    assert!(!has_nul(&escaped), "a NUL is left after escaping");
    assert_eq!(unescape_json(&escaped).as_ref(), value);
}

fn message(payload: Payload, invalid: Option<ValidationErrors>, data: &[u8]) -> QueueMessage {
    let odd: String = String::from_utf8_lossy(data).chars().take(512).collect();
    QueueMessage::HookEventV1(Envelope {
        request_id: RequestId::new_v7(),
        trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
        span_id: None,
        received_at: at(),
        principal: Some("fuzz".into()),
        role: None,
        users: None,
        source_ip: Some("127.0.0.1".into()),
        user_agent: Some(odd.clone()),
        client: None,
        headers: BTreeMap::from([("user-agent".to_owned(), odd)]),
        invalid,
        payload,
    })
}

fn round_trip(msg: &QueueMessage) {
    let body = match msg.encode() {
        Ok(b) => b,
        Err(e) => panic!("a small message did not encode: {e}"),
    };
    match QueueMessage::decode(&body) {
        Ok(back) => assert_eq!(&back, msg, "the queue message changed in a round trip"),
        Err(e) => panic!("an encoded message did not decode: {e}"),
    }
}

/// An arbitrary queue message body (the worker reads whatever is on the
/// queue, e.g. after a DLQ edit): decoding never panics, and what decodes
/// encodes to a message that decodes the same.
fn queue_body(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(msg) = QueueMessage::decode(text) {
        round_trip(&msg);
    }
}
