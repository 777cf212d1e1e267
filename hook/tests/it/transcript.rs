//! Transcript capture: each entry is sent once, across Stops, outages, a
//! half-written last line, subagents and bodies too large for one request.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};

use crate::helpers::{Sandbox, TestResult, event};
use crate::server::{Mode, TestServer};

fn fixture_lines() -> Result<Vec<String>, std::io::Error> {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/transcripts/stop-turn.jsonl");
    Ok(std::fs::read_to_string(p)?
        .lines()
        .map(|l| format!("{l}\n"))
        .collect())
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(text.as_bytes())
}

fn stop(session: &str, transcript: &Path) -> Vec<u8> {
    event(
        session,
        "Stop",
        json!({"transcript_path": transcript, "stop_hook_active": false, "last_assistant_message": "done"}),
    )
}

/// uuid → how many accepted requests carried it.
fn accepted_entries(server: &TestServer) -> HashMap<String, usize> {
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

fn uuids(line: &str) -> String {
    serde_json::from_str::<Value>(line)
        .map(|v| v["uuid"].as_str().unwrap_or("?").to_owned())
        .unwrap_or_default()
}

#[test]
fn deltas_across_stops_and_an_outage_send_each_entry_once() -> TestResult {
    let lines = fixture_lines()?;
    assert_eq!(lines.len(), 6);
    let server = TestServer::start()?;
    let sb = Sandbox::new(Some(&server.url()))?;
    let t = sb.root().join("transcript.jsonl");
    let (head, tail) = lines[2].split_at(40);
    append(&t, &format!("{}{}{head}", lines[0], lines[1]))?;

    sb.hook(&stop("sess-t", &t))?;
    let first = server.events().pop().ok_or("no request")?;
    let chunk = &first.body["hookline"]["transcript"][0];
    assert_eq!(chunk["source"], "main");
    assert_eq!(chunk["start_offset"], 0);
    assert_eq!(
        chunk["end_offset"],
        (lines[0].len() + lines[1].len()) as u64,
        "the half-written line waits"
    );
    assert_eq!(chunk["entries"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        first.body["last_assistant_message"], "done",
        "Stop's own field is kept"
    );

    append(&t, &format!("{tail}{}", lines[3]))?;
    sb.hook(&stop("sess-t", &t))?;
    let second = server.events().pop().ok_or("no request")?;
    let got: Vec<&str> = second.body["hookline"]["transcript"][0]["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["uuid"].as_str())
        .collect();
    assert_eq!(got, [uuids(&lines[2]), uuids(&lines[3])]);

    sb.hook(&stop("sess-t", &t))?;
    let third = server.events().pop().ok_or("no request")?;
    assert!(
        third.body["hookline"].get("transcript").is_none(),
        "nothing new, nothing attached"
    );

    // Outage: the deltas are spooled once and delivered once.
    server.set_mode(Mode::Status(503, "{}".into()));
    append(&t, &lines[4])?;
    sb.hook(&event(
        "sess-t",
        "UserPromptSubmit",
        json!({"transcript_path": t, "prompt": "next"}),
    ))?;
    append(&t, &lines[5])?;
    sb.hook(&event(
        "sess-t",
        "SessionEnd",
        json!({"transcript_path": t, "reason": "other"}),
    ))?;
    assert_eq!(sb.pending().len(), 2);
    server.set_mode(Mode::Accept);
    sb.run(&["flush", "--all"], b"")?;
    assert!(sb.pending().is_empty());

    let seen = accepted_entries(&server);
    for l in &lines {
        assert_eq!(
            seen.get(&uuids(l)),
            Some(&1),
            "entry {} sent exactly once: {seen:?}",
            uuids(l)
        );
    }
    assert_eq!(seen.len(), 6);
    Ok(())
}

#[test]
fn subagent_stop_attaches_the_subagents_transcript() -> TestResult {
    let server = TestServer::start()?;
    let sb = Sandbox::new(Some(&server.url()))?;
    let main = sb.root().join("main.jsonl");
    let agent = sb.root().join("agent-ag1.jsonl");
    append(&main, "{\"uuid\":\"m1\",\"type\":\"user\"}\n")?;
    append(
        &agent,
        "{\"uuid\":\"a1\",\"type\":\"assistant\",\"agentId\":\"ag1\"}\n{\"uuid\":\"a2\",\"type\":\"user\"}\n",
    )?;
    sb.hook(&event(
        "sess-s",
        "SubagentStop",
        json!({
            "transcript_path": main, "agent_id": "ag1", "agent_type": "Explore",
            "agent_transcript_path": agent, "last_assistant_message": "found it",
        }),
    ))?;
    let r = server.events().pop().ok_or("no request")?;
    let chunks = r.body["hookline"]["transcript"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[0]["source"], "main");
    assert_eq!(chunks[1]["source"], "agent");
    assert_eq!(chunks[1]["agent_id"], "ag1");
    assert_eq!(chunks[1]["entries"].as_array().map(Vec::len), Some(2));
    Ok(())
}

#[test]
fn a_delta_over_the_body_limit_is_split_into_parts_that_cover_it_once() -> TestResult {
    let server = TestServer::start()?;
    let mut sb = Sandbox::new(Some(&server.url()))?;
    sb.set("HOOKLINE_BODY_LIMIT", "4096");
    let t = sb.root().join("big.jsonl");
    let mut text = String::new();
    for i in 0..31 {
        let size = if i == 15 { 20_000 } else { 400 };
        let line = json!({"type": "assistant", "uuid": format!("u{i:02}"), "timestamp": "2026-11-29T03:40:03.000Z",
            "message": {"role": "assistant", "content": [{"type": "text", "text": "x".repeat(size)}]}});
        text.push_str(&format!("{line}\n"));
    }
    append(&t, &text)?;
    sb.hook(&stop("sess-big", &t))?;

    let mut parts = server.events();
    assert!(parts.len() > 3, "split into {} parts", parts.len());
    parts.sort_by_key(|r| r.body["hookline"]["part"]["index"].as_u64());
    let count = parts.len() as u64;
    let parent = parts[0].request_id();
    let mut next_start = 0;
    for (i, r) in parts.iter().enumerate() {
        let len: usize = r
            .headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(usize::MAX);
        assert!(len <= 4096, "part {i} is {len} bytes");
        let parsed = hookline_core::HookEvent::parse(r.body.clone())
            .map_err(|e| format!("part {i}: {e:?}"))?;
        assert_eq!(
            parsed
                .meta
                .and_then(|m| m.part)
                .map(|p| p.is_continuation()),
            Some(i > 0)
        );
        let part = &r.body["hookline"]["part"];
        assert_eq!(part["index"], i as u64);
        assert_eq!(part["count"], count);
        if i == 0 {
            assert_eq!(
                r.body["last_assistant_message"], "done",
                "part 0 carries the event"
            );
            assert!(part.get("parent_request_id").is_none());
        } else {
            assert_eq!(part["parent_request_id"], parent.as_str());
            assert!(
                r.body.get("last_assistant_message").is_none(),
                "continuations carry entries only"
            );
            assert_eq!(r.body["session_id"], "sess-big");
        }
        for c in r.body["hookline"]["transcript"]
            .as_array()
            .into_iter()
            .flatten()
        {
            assert_eq!(c["start_offset"], next_start, "contiguous byte ranges");
            next_start = c["end_offset"].as_u64().unwrap_or(0);
        }
    }
    assert_eq!(
        next_start,
        text.len() as u64,
        "the ranges cover the whole delta"
    );
    let seen = accepted_entries(&server);
    assert_eq!(seen.len(), 31);
    assert!(seen.values().all(|n| *n == 1));
    let big = parts
        .iter()
        .flat_map(|r| {
            r.body["hookline"]["transcript"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .flat_map(|c| c["entries"].as_array().cloned().unwrap_or_default())
        .find(|e| e["uuid"] == "u15")
        .ok_or("u15 missing")?;
    assert_eq!(
        big["hookline_truncated"]["original_bytes"]
            .as_u64()
            .map(|n| n > 20_000),
        Some(true)
    );
    Ok(())
}

/// The log's lines at `level` (`WARN`, `DEBUG`, …).
fn log_lines(sb: &Sandbox, level: &str) -> Vec<Value> {
    sb.log()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["level"] == level)
        .collect()
}

/// Claude Code 2.1.197 fired SubagentStop before it had finished writing
/// the subagent's transcript (3 runs of 3), and no later event names that
/// file: the session's later transcript events read it again until it
/// stops growing. A real subagent transcript (2.1.39) is written in two
/// steps around SubagentStop; every entry of it arrives exactly once.
#[test]
fn a_subagent_transcript_written_after_subagent_stop_is_read_on_later_events() -> TestResult {
    let server = TestServer::start()?;
    let sb = Sandbox::new(Some(&server.url()))?;
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../../shared/transcripts/spotter/4d5611e5-241a-462a-8d15-5122611a9569/subagents/agent-a2898e3.jsonl",
    );
    let lines: Vec<String> = std::fs::read_to_string(&real)?
        .lines()
        .map(|l| format!("{l}\n"))
        .collect();
    let expected: HashMap<String, usize> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["uuid"].as_str().map(|u| (u.to_owned(), 1)))
        .collect();
    assert!(expected.len() > 100, "the real file has its entries");
    let session = "4d5611e5-241a-462a-8d15-5122611a9569";
    let main = sb.root().join("main.jsonl");
    append(&main, "{\"uuid\":\"m1\",\"type\":\"user\"}\n")?;
    let agent = sb.root().join("subagents/agent-a2898e3.jsonl");
    std::fs::create_dir_all(sb.root().join("subagents"))?;
    let cut = lines.len() * 2 / 3;
    append(&agent, &lines[..cut].concat())?;
    sb.hook(&event(
        session,
        "SubagentStop",
        json!({
            "transcript_path": main, "agent_id": "a2898e3", "agent_type": "Explore",
            "agent_transcript_path": agent, "last_assistant_message": "found it",
        }),
    ))?;
    // Claude Code writes the rest after the hook ran; then the turn ends.
    append(&agent, &lines[cut..].concat())?;
    sb.hook(&stop(session, &main))?;
    sb.hook(&stop(session, &main))?;
    sb.hook(&event(
        session,
        "SessionEnd",
        json!({"transcript_path": main, "reason": "other"}),
    ))?;
    let mut seen = accepted_entries(&server);
    assert_eq!(seen.remove("m1"), Some(1));
    assert_eq!(seen, expected, "every subagent entry, each once");
    let tail: Vec<Value> = server
        .events()
        .iter()
        .filter(|r| r.body["hook_event_name"] == "Stop")
        .flat_map(|r| {
            r.body["hookline"]["transcript"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        tail.len(),
        1,
        "the tail comes with the first Stop: {tail:?}"
    );
    assert_eq!(
        (&tail[0]["source"], &tail[0]["agent_id"]),
        (&json!("agent"), &json!("a2898e3"))
    );
    assert_eq!(
        tail[0]["entries"].as_array().map(Vec::len),
        Some(lines.len() - cut)
    );
    assert!(log_lines(&sb, "WARN").is_empty(), "{}", sb.log());
    Ok(())
}

/// The first UserPromptSubmit of a session comes before Claude Code has
/// created the transcript: not a warning (docs/hook.md sends users to
/// `cannot read the transcript` when something is wrong). A transcript
/// that exists but cannot be read still is one.
#[test]
fn a_transcript_not_written_yet_is_no_warning_but_an_unreadable_one_is() -> TestResult {
    let server = TestServer::start()?;
    let sb = Sandbox::new(Some(&server.url()))?;
    let main = sb.root().join("not-yet.jsonl");
    let prompt = |p: &Path| {
        event(
            "sess-first",
            "UserPromptSubmit",
            json!({"transcript_path": p, "prompt": "hi"}),
        )
    };
    sb.hook(&prompt(&main))?;
    assert!(log_lines(&sb, "WARN").is_empty(), "{}", sb.log());
    let debug = log_lines(&sb, "DEBUG");
    assert!(
        debug.iter().any(|l| l["message"]
            .as_str()
            .is_some_and(|m| m.contains("not written yet"))),
        "{}",
        sb.log()
    );
    // Once there, it is read.
    append(&main, "{\"uuid\":\"u1\",\"type\":\"user\"}\n")?;
    sb.hook(&stop("sess-first", &main))?;
    assert_eq!(accepted_entries(&server).get("u1"), Some(&1));
    // A path that is a folder cannot be read: that is a warning.
    let folder = sb.root().join("a-folder.jsonl");
    std::fs::create_dir_all(&folder)?;
    sb.hook(&prompt(&folder))?;
    let warns = log_lines(&sb, "WARN");
    assert_eq!(warns.len(), 1, "{}", sb.log());
    assert_eq!(warns[0]["message"], "cannot read the transcript");
    Ok(())
}

/// Claude Code 2.1.197 in print mode writes the last reply as it exits,
/// after Stop read the transcript (and it may fire no SessionEnd): the
/// hook of Stop and SessionEnd waits for the transcript
/// to stop growing and sends the tail as a continuation part of the event.
#[test]
fn a_reply_written_while_session_end_runs_is_sent_with_it() -> TestResult {
    let lines = fixture_lines()?;
    let server = TestServer::start()?;
    let sb = Sandbox::new(Some(&server.url()))?;
    let t = sb.root().join("transcript.jsonl");
    append(&t, &format!("{}{}", lines[0], lines[1]))?;
    sb.hook(&stop("sess-e", &t))?;
    append(&t, &lines[2])?;
    // Claude Code writes the last reply while the SessionEnd hook runs
    // (2.1.197 in print mode): no later event of the session reads it.
    let late = t.clone();
    let tail = format!("{}{}", lines[3], lines[4]);
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(60));
        append(&late, &tail)
    });
    sb.hook(&event(
        "sess-e",
        "SessionEnd",
        json!({"transcript_path": t, "reason": "other"}),
    ))?;
    writer.join().map_err(|_| "writer panicked")??;
    let late: Vec<Value> = log_lines(&sb, "INFO")
        .into_iter()
        .filter(|l| l.to_string().contains("transcript tail written"))
        .collect();
    assert_eq!(
        late.len(),
        1,
        "read after SessionEnd was spooled: {}",
        sb.log()
    );
    let seen = accepted_entries(&server);
    for l in &lines[..5] {
        assert_eq!(
            seen.get(&uuids(l)),
            Some(&1),
            "entry {} sent once: {seen:?}",
            uuids(l)
        );
    }
    Ok(())
}

/// Claude Code 2.1.197 writes a fork's transcript as a `mode` line first
/// and its copied entries a moment later. The server reads a session's
/// origin (the session it forks) from the first entry of the part starting
/// at offset 0, so a first read holding no entry yet is kept back: the
/// next event sends the file from offset 0 with that entry in it.
#[test]
fn a_transcript_without_an_entry_yet_is_sent_from_its_start_with_the_first_entry() -> TestResult {
    let lines = fixture_lines()?;
    let server = TestServer::start()?;
    let sb = Sandbox::new(Some(&server.url()))?;
    let t = sb.root().join("fork.jsonl");
    let mode = "{\"type\":\"mode\",\"mode\":\"normal\",\"sessionId\":\"sess-f\"}\n";
    append(&t, mode)?;

    sb.hook(&stop("sess-f", &t))?;
    let first = server.events().pop().ok_or("no request")?;
    assert!(
        first.body["hookline"]["transcript"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "a part without an entry is kept back: {}",
        first.body["hookline"]
    );

    append(&t, &lines[0])?;
    sb.hook(&stop("sess-f", &t))?;
    let second = server.events().pop().ok_or("no request")?;
    let chunk = &second.body["hookline"]["transcript"][0];
    assert_eq!(chunk["start_offset"], 0, "{chunk}");
    let types: Vec<&str> = chunk["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(types.first(), Some(&"mode"), "{chunk}");
    assert_eq!(
        chunk["entries"][1]["uuid"].as_str(),
        Some(uuids(&lines[0]).as_str())
    );
    Ok(())
}
