//! The end of a turn (Stop, SessionEnd): the hook spools the event alone
//! and exits; a detached tail sender reads the transcript once it has
//! settled, spools it as continuation parts of the event, and sends. A
//! sender that dies leaves its job for the next hook or `flush`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Sandbox, TestResult, event};
use crate::lines::{
    accepted_entries, append, chunks_of, entry_uuids, fixture_lines, last_with_parts, stop, uuids,
};
use crate::server::{Mode, TestServer};

/// Waits (10 s at most) until `ready()`.
fn poll(what: &str, ready: &mut dyn FnMut() -> bool) -> TestResult {
    let t = Instant::now();
    while !ready() {
        if t.elapsed() > Duration::from_secs(10) {
            return Err(format!("not {what} after 10 s").into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// Claude Code waits for the hooks still running when a turn ends: the
/// Stop hook exits while the server hangs, with its event in `pending/`;
/// its sender delivers the event and the transcript once the server answers.
#[test]
fn stop_exits_while_the_server_hangs_and_its_sender_delivers_once_it_answers() -> TestResult {
    let lines = fixture_lines()?;
    let server = TestServer::start()?;
    server.set_mode(Mode::Hold);
    let sb = Sandbox::new(Some(&server.url()))?;
    let t = sb.root().join("transcript.jsonl");
    append(&t, &lines[..3].concat())?;
    let out = sb.hook(&stop("sess-hang", &t))?;
    eprintln!("Stop hook with the server hung: {:?}", out.elapsed);
    let spooled: Vec<Value> = sb
        .pending()
        .iter()
        .filter_map(|n| std::fs::read(sb.spool().join("pending").join(n)).ok())
        .filter_map(|b| serde_json::from_slice(&b).ok())
        .collect();
    assert!(
        spooled
            .iter()
            .any(|b| b["last_assistant_message"] == "done"),
        "the event is in pending/ when the hook exits: {spooled:?}"
    );
    assert!(server.accepted_ids().is_empty(), "nothing answered yet");
    poll("sending", &mut || server.holding() > 0)?;
    server.set_mode(Mode::Accept);
    sb.settled()?;
    let (event, parts) = last_with_parts(&server, "Stop")?;
    assert_eq!(event.status, 202);
    assert_eq!(parts.len(), 1);
    assert_eq!(
        entry_uuids(&parts),
        lines[..3].iter().map(|l| uuids(l)).collect::<Vec<_>>()
    );
    assert!(sb.pending().is_empty(), "{:?}", sb.pending());
    Ok(())
}

/// Claude Code 2.1.197 in print mode writes the last reply as it exits,
/// after Stop has fired (and it may fire no SessionEnd): the tail sender
/// waits for the transcript to settle and sends the turn's lines, the late
/// one too, as continuation parts of the event. Here a line comes 300 ms
/// after the hook started, on Stop and on SessionEnd.
#[test]
fn a_reply_written_300_ms_after_stop_or_session_end_is_sent_with_it() -> TestResult {
    let lines = fixture_lines()?;
    let server = TestServer::start()?;
    let sb = Sandbox::new(Some(&server.url()))?;
    let t = sb.root().join("transcript.jsonl");
    for (name, (now, late)) in [("Stop", (0..2, 2)), ("SessionEnd", (3..4, 4))] {
        append(&t, &lines[now.clone()].concat())?;
        let (path, text) = (t.clone(), lines[late].clone());
        let writer = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            append(&path, &text)
        });
        sb.hook(&event(
            "sess-e",
            name,
            json!({"transcript_path": t, "reason": "other"}),
        ))?;
        writer.join().map_err(|_| "writer panicked")??;
        sb.settled()?;
        let (_, parts) = last_with_parts(&server, name)?;
        let got = entry_uuids(&parts);
        let want: Vec<String> = lines[now.start..=late].iter().map(|l| uuids(l)).collect();
        assert_eq!(got, want, "{name}: the turn's lines, the late one too");
    }
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
    sb.hook_settled(&stop("sess-big", &t))?;

    let (event, parts) = last_with_parts(&server, "Stop")?;
    assert_eq!(server.events().len(), parts.len() + 1, "nothing else sent");
    assert!(parts.len() > 3, "split into {} parts", parts.len());
    assert_eq!(
        event.body["last_assistant_message"], "done",
        "part 0 carries the event"
    );
    assert!(event.body["hookline"].get("transcript").is_none());
    let parent = event.request_id();
    let count = parts.len() as u64 + 1;
    let mut next_start = 0;
    for (i, r) in parts.iter().enumerate() {
        let len: usize = r
            .headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(usize::MAX);
        assert!(len <= 4096, "part {} is {len} bytes", i + 1);
        let parsed = hookline_core::HookEvent::parse(r.body.clone())
            .map_err(|e| format!("part {}: {e:?}", i + 1))?;
        assert_eq!(
            parsed
                .meta
                .and_then(|m| m.part)
                .map(|p| p.is_continuation()),
            Some(true)
        );
        let part = &r.body["hookline"]["part"];
        assert_eq!(part["index"], i as u64 + 1);
        assert_eq!(part["count"], count);
        assert_eq!(part["parent_request_id"], parent.as_str());
        assert!(
            r.body.get("last_assistant_message").is_none(),
            "continuations carry entries only"
        );
        assert_eq!(r.body["session_id"], "sess-big");
        let chunks = chunks_of(std::slice::from_ref(r));
        assert!(
            chunks
                .iter()
                .any(|c| c["entries"].as_array().is_some_and(|e| !e.is_empty())),
            "part {} carries entries",
            i + 1
        );
        for c in chunks {
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

/// The pid of the tail sender the last Stop or SessionEnd hook started.
fn last_sender_pid(sb: &Sandbox) -> Option<u64> {
    sb.log()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|l| l["tail_sender_pid"].as_u64())
        .next_back()
}

/// A sender killed (SIGKILL) in the middle of its job leaves the job: the
/// next hook of any event starts a sender for it once it is 2 s old, and
/// `flush` does it itself. Every request arrives once, every line once.
#[test]
fn a_killed_sender_leaves_its_job_to_the_next_hook_or_flush() -> TestResult {
    let server = TestServer::start()?;
    let sb = Sandbox::new(Some(&server.url()))?;
    let mut written = Vec::new();
    for (round, recover) in ["next hook", "flush"].into_iter().enumerate() {
        let session = format!("sess-kill-{round}");
        let t = sb.root().join(format!("transcript-{round}.jsonl"));
        let line = |i: usize| format!("{{\"type\":\"user\",\"uuid\":\"r{round}-{i}\"}}\n");
        append(&t, &line(0))?;
        written.push(format!("r{round}-0"));
        sb.hook(&stop(&session, &t))?;
        let pid = last_sender_pid(&sb).ok_or("no sender started")?;
        // The transcript keeps growing: the sender waits for it to settle.
        let mut i = 1;
        poll("at work", &mut || {
            append(&t, &line(i)).is_ok() && {
                written.push(format!("r{round}-{i}"));
                i += 1;
                sb.status().is_ok_and(|s| s["tail_sender_running"] == true)
            }
        })?;
        std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()?;
        poll("gone", &mut || {
            sb.status().is_ok_and(|s| s["tail_sender_running"] == false)
        })?;
        let s = sb.status()?;
        assert_eq!(s["tail_jobs"], 1, "{recover}: the job stays: {s}");
        let before = server.events().len();
        match recover {
            "flush" => {
                let out = sb.run(&["flush"], b"")?;
                assert!(
                    out.stdout.contains("read 1 transcript tails"),
                    "{}",
                    out.stdout
                );
            }
            _ => {
                // A job this old without a sender: its sender is dead.
                std::thread::sleep(Duration::from_millis(2100));
                sb.hook_settled(&event(&session, "Notification", json!({})))?;
            }
        }
        sb.settled()?;
        let (_, parts) = last_with_parts(&server, "Stop")?;
        assert!(!parts.is_empty(), "{recover}: the transcript came");
        assert!(server.events().len() > before);
    }
    let ids = server.accepted_ids();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(ids.len(), unique.len(), "each request once: {ids:?}");
    let seen = accepted_entries(&server);
    for u in &written {
        assert_eq!(seen.get(u), Some(&1), "line {u} once: {seen:?}");
    }
    assert!(sb.pending().is_empty());
    Ok(())
}
