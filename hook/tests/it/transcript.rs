//! Transcript capture: each entry is sent once, across Stops, outages, a
//! half-written last line, subagents and bodies too large for one request.
//! Stop and SessionEnd send their event alone (part 0) and leave the
//! transcript to the tail sender, which sends it as continuation parts.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::helpers::{Sandbox, TestResult, event};
use crate::lines::{
    accepted_entries, append, chunks_of, entry_uuids, fixture_lines, last_with_parts, stop, uuids,
};
use crate::server::{Mode, TestServer};

#[test]
fn deltas_across_stops_and_an_outage_send_each_entry_once() -> TestResult {
    let lines = fixture_lines()?;
    assert_eq!(lines.len(), 6);
    let server = TestServer::start()?;
    let sb = Sandbox::new(Some(&server.url()))?;
    let t = sb.root().join("transcript.jsonl");
    let (head, tail) = lines[2].split_at(40);
    append(&t, &format!("{}{}{head}", lines[0], lines[1]))?;

    sb.hook_settled(&stop("sess-t", &t))?;
    let (first, parts) = last_with_parts(&server, "Stop")?;
    assert!(
        first.body["hookline"].get("transcript").is_none(),
        "the event alone: {}",
        first.body
    );
    assert_eq!(parts.len(), 1, "one continuation part");
    assert_eq!(parts[0].body["hookline"]["part"]["index"], 1);
    let chunk = &chunks_of(&parts)[0];
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
    sb.hook_settled(&stop("sess-t", &t))?;
    let (_, parts) = last_with_parts(&server, "Stop")?;
    assert_eq!(entry_uuids(&parts), [uuids(&lines[2]), uuids(&lines[3])]);

    sb.hook_settled(&stop("sess-t", &t))?;
    let (third, parts) = last_with_parts(&server, "Stop")?;
    assert!(
        third.body["hookline"].get("transcript").is_none() && parts.is_empty(),
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
    sb.hook_settled(&event(
        "sess-t",
        "SessionEnd",
        json!({"transcript_path": t, "reason": "other"}),
    ))?;
    assert_eq!(
        sb.pending().len(),
        3,
        "UserPromptSubmit, SessionEnd and its transcript part"
    );
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
    sb.hook_settled(&event(
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
    assert_eq!(tail.len(), 1, "the tail comes with a Stop: {tail:?}");
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
    sb.hook_settled(&stop("sess-first", &main))?;
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

    sb.hook_settled(&stop("sess-f", &t))?;
    let (_, parts) = last_with_parts(&server, "Stop")?;
    assert!(
        chunks_of(&parts).is_empty(),
        "a part without an entry is kept back: {:?}",
        chunks_of(&parts)
    );

    append(&t, &lines[0])?;
    sb.hook_settled(&stop("sess-f", &t))?;
    let (_, parts) = last_with_parts(&server, "Stop")?;
    let chunk = &chunks_of(&parts)[0];
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
