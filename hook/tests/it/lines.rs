//! Transcript lines, and the requests that carry them (shared by the
//! transcript and tail tests).

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};

use crate::helpers::event;
use crate::server::{Request, TestServer};

pub fn fixture_lines() -> Result<Vec<String>, std::io::Error> {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/transcripts/stop-turn.jsonl");
    Ok(std::fs::read_to_string(p)?
        .lines()
        .map(|l| format!("{l}\n"))
        .collect())
}

pub fn append(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(text.as_bytes())
}

pub fn stop(session: &str, transcript: &Path) -> Vec<u8> {
    event(
        session,
        "Stop",
        json!({"transcript_path": transcript, "stop_hook_active": false, "last_assistant_message": "done"}),
    )
}

/// uuid → how many accepted requests carried it.
pub fn accepted_entries(server: &TestServer) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for r in server.events().iter().filter(|r| r.status == 202) {
        for chunk in r.body["hookline"]["transcript"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for e in chunk["entries"].as_array().into_iter().flatten() {
                *seen
                    .entry(e["uuid"].as_str().unwrap_or("?").to_owned())
                    .or_insert(0) += 1;
            }
        }
    }
    seen
}

/// The event (part 0, by `hook_event_name`) received last, and the
/// continuation parts that name it as their parent, by index.
pub fn last_with_parts(
    server: &TestServer,
    name: &str,
) -> Result<(Request, Vec<Request>), Box<dyn std::error::Error>> {
    let all = server.events();
    let event = all
        .iter()
        .rev()
        .find(|r| {
            r.body["hook_event_name"] == name
                && r.body["hookline"]["part"]["parent_request_id"].is_null()
        })
        .cloned()
        .ok_or(format!("no {name} received"))?;
    let mut parts: Vec<Request> = all
        .into_iter()
        .filter(|r| r.body["hookline"]["part"]["parent_request_id"] == event.request_id().as_str())
        .collect();
    parts.sort_by_key(|r| r.body["hookline"]["part"]["index"].as_u64());
    Ok((event, parts))
}

/// The transcript chunks of requests, in order.
pub fn chunks_of(requests: &[Request]) -> Vec<Value> {
    requests
        .iter()
        .flat_map(|r| {
            r.body["hookline"]["transcript"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

pub fn uuids(line: &str) -> String {
    serde_json::from_str::<Value>(line)
        .map(|v| v["uuid"].as_str().unwrap_or("?").to_owned())
        .unwrap_or_default()
}

/// The uuids of the entries `requests` carry, in order.
pub fn entry_uuids(requests: &[Request]) -> Vec<String> {
    chunks_of(requests)
        .iter()
        .flat_map(|c| c["entries"].as_array().cloned().unwrap_or_default())
        .map(|e| e["uuid"].as_str().unwrap_or("?").to_owned())
        .collect()
}
