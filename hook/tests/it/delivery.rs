//! Events reach the server exactly once, in order per session, whatever
//! the server did in between.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::json;

use crate::helpers::{Sandbox, TestResult, event, session_of};
use crate::server::{Mode, TestServer, dead_port};

/// Per session, the request ids in arrival order must be ascending.
fn assert_in_order_per_session(server: &TestServer) -> TestResult {
    let mut by_session: HashMap<String, Vec<String>> = HashMap::new();
    for r in server.events().iter().filter(|r| r.status == 202) {
        by_session
            .entry(session_of(&r.body))
            .or_default()
            .push(r.request_id());
    }
    for (s, ids) in by_session {
        let mut sorted = ids.clone();
        sorted.sort();
        if ids != sorted {
            return Err(format!("session {s} arrived out of order: {ids:?}").into());
        }
    }
    Ok(())
}

fn assert_each_once(ids: &[String], expected: usize) -> TestResult {
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "no request id twice: {ids:?}");
    assert_eq!(ids.len(), expected);
    Ok(())
}

#[test]
fn server_down_then_up_every_event_arrives_once_in_order() -> TestResult {
    let port = dead_port()?;
    let sb = Sandbox::new(Some(&format!("http://127.0.0.1:{port}")))?;
    for i in 0..8 {
        for s in ["sess-a", "sess-b", "sess-c"] {
            sb.hook(&event(s, "PreToolUse", json!({"tool_name": "Bash", "tool_use_id": format!("toolu_{s}_{i}"), "tool_input": {"n": i}})))?;
        }
    }
    assert_eq!(
        sb.pending().len(),
        24,
        "everything is spooled while the server is down"
    );
    assert!(
        sb.spool().join("state/breaker.json").exists(),
        "the circuit opened"
    );

    let server = TestServer::start_on(port)?;
    let out = sb.run(&["flush"], b"")?;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("sent 24"), "{}", out.stdout);
    assert_each_once(&server.accepted_ids(), 24)?;
    assert_in_order_per_session(&server)?;
    assert!(sb.pending().is_empty());
    for r in server.events() {
        assert_eq!(r.method, "POST");
        assert_eq!(
            r.body["hookline"]["request_id"],
            r.request_id(),
            "header and body agree"
        );
        assert_eq!(
            r.headers.get("authorization").map(String::as_str),
            Some("Bearer test-token")
        );
        let tp = r.headers.get("traceparent").cloned().unwrap_or_default();
        assert!(
            tp.starts_with(&format!("00-{}-", r.request_id().replace('-', ""))),
            "{tp}"
        );
    }
    Ok(())
}

#[test]
fn the_first_success_after_an_outage_drains_the_backlog_in_order() -> TestResult {
    let port = dead_port()?;
    let mut sb = Sandbox::new(Some(&format!("http://127.0.0.1:{port}")))?;
    sb.set("HOOKLINE_PROBE_INTERVAL_MS", "300");
    for i in 0..6 {
        let s = if i % 2 == 0 { "sess-a" } else { "sess-b" };
        sb.hook(&event(
            s,
            "UserPromptSubmit",
            json!({"prompt": format!("prompt {i}")}),
        ))?;
    }
    assert_eq!(sb.pending().len(), 6);
    let server = TestServer::start_on(port)?;
    // Wait for the breaker's next probe time (however many probes failed).
    let breaker: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sb.spool().join("state/breaker.json"))?)?;
    let probe_at = chrono::DateTime::parse_from_rfc3339(
        breaker["next_probe_at"].as_str().unwrap_or_default(),
    )?;
    let wait = (probe_at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    std::thread::sleep(wait + Duration::from_millis(50));
    // The next hook probes the server, finds it up, and sends everything
    // (Stop: its tail sender does).
    sb.hook_settled(&event(
        "sess-a",
        "Stop",
        json!({"last_assistant_message": "done"}),
    ))?;
    let ids = server.accepted_ids();
    assert_each_once(&ids, 7)?;
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "oldest first");
    assert!(sb.pending().is_empty());
    assert!(
        !sb.spool().join("state/breaker.json").exists(),
        "the circuit closed"
    );
    Ok(())
}

#[test]
fn a_deadline_of_zero_spools_without_sending_and_loses_nothing() -> TestResult {
    let server = TestServer::start()?;
    let mut sb = Sandbox::new(Some(&server.url()))?;
    sb.set("HOOKLINE_TIMEOUT_MS", "0");
    for i in 0..10 {
        sb.hook(&event(
            "sess-z",
            "Notification",
            json!({"message": format!("m{i}")}),
        ))?;
    }
    assert!(
        server.events().is_empty(),
        "no time to send: as if killed right after spooling"
    );
    assert_eq!(sb.pending().len(), 10);
    sb.unset("HOOKLINE_TIMEOUT_MS");
    // The next hook sends what its 150 ms allow, its sender the rest.
    sb.hook(&event("sess-z", "Notification", json!({"message": "m10"})))?;
    sb.delivered()?;
    assert_each_once(&server.accepted_ids(), 11)?;
    assert_in_order_per_session(&server)?;
    assert!(sb.pending().is_empty());
    Ok(())
}

/// A hook whose send the server does not answer stops sending 150 ms after
/// it started (not at `timeout_ms`, 5 s here), so Claude Code ending a turn
/// never finds it alive, and leaves the event in `pending/` to the sender
/// it starts, which delivers it once the server answers; no other hook runs.
#[test]
#[cfg(unix)]
fn a_hook_against_a_hung_server_exits_in_its_sending_time_and_its_sender_delivers() -> TestResult {
    let server = TestServer::start()?;
    server.set_mode(Mode::Hold);
    let mut sb = Sandbox::new(Some(&server.url()))?;
    sb.set("HOOKLINE_TIMEOUT_MS", "5000");
    let out = sb.hook(&event(
        "sess-hung",
        "PostToolUse",
        json!({"tool_name": "Bash", "tool_use_id": "toolu_1", "tool_response": {}}),
    ))?;
    eprintln!("PostToolUse hook with the server hung: {:?}", out.elapsed);
    assert!(
        out.elapsed < Duration::from_millis(700),
        "the hook took {:?}: it waited for the hung server",
        out.elapsed
    );
    assert_eq!(sb.pending().len(), 1, "in pending/ when the hook exits");
    let t = std::time::Instant::now();
    while server.holding() == 0 {
        assert!(t.elapsed() < Duration::from_secs(5), "nothing was sent");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(server.accepted_ids().is_empty());
    server.set_mode(Mode::Accept);
    sb.delivered()?;
    let ids: HashSet<String> = server.accepted_ids().into_iter().collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert!(
        sb.log().contains("\"sender_pid\""),
        "the hook started the sender: {}",
        sb.log()
    );
    Ok(())
}

#[test]
fn concurrent_hooks_deliver_every_event_exactly_once() -> TestResult {
    let server = TestServer::start()?;
    let sb = Sandbox::new(Some(&server.url()))?;
    std::thread::scope(|scope| -> TestResult {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let sb = &sb;
                scope.spawn(move || -> Result<(), String> {
                    for i in 0..4 {
                        let e = event(&format!("sess-{t}"), "PostToolUse", json!({"tool_name": "Read", "tool_use_id": format!("toolu_{t}_{i}"), "tool_response": {}}));
                        sb.hook(&e).map_err(|e| e.to_string())?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| "thread panicked")??;
        }
        Ok(())
    })?;
    sb.run(&["flush"], b"")?;
    assert_each_once(&server.accepted_ids(), 32)?;
    assert_in_order_per_session(&server)?;
    assert!(sb.pending().is_empty());
    Ok(())
}

#[test]
fn recorded_payloads_are_sent_byte_for_byte_with_hookline_added() -> TestResult {
    let server = TestServer::start()?;
    let sb = Sandbox::new(Some(&server.url()))?;
    for name in [
        "SessionStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "Notification",
        "SessionEnd",
    ] {
        let raw = crate::helpers::fixture(name);
        assert!(!raw.is_empty(), "fixture {name}");
        sb.hook_settled(&raw)?;
        let got = server.events().pop().ok_or("nothing received")?;
        let mut sent: serde_json::Value = serde_json::from_slice(&raw)?;
        let meta = got
            .body
            .get("hookline")
            .cloned()
            .ok_or("no hookline object")?;
        sent["hookline"] = meta.clone();
        assert_eq!(got.body, sent, "{name}: Claude Code's fields unchanged");
        let parsed = hookline_core::HookEvent::parse(got.body.clone())
            .map_err(|e| format!("{name}: {e:?}"))?;
        assert_eq!(
            parsed.meta.map(|m| m.request_id),
            Some(got.request_id()),
            "core reads the hookline object"
        );
        assert_eq!(meta["v"], 1);
        assert_eq!(meta["client"]["name"], "hookline-hook");
        assert!(
            meta["captured_at"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z'))
        );
        assert!(meta["host"].is_string());
    }
    Ok(())
}

/// Issue 16: a hook that finds the drain lock taken leaves its event to
/// the holder, which may have read `pending/` for the last time before the
/// event was in it. Here the holder is a Stop's sender, whose one send the
/// server holds while a PostToolUse hook spools its event (its one try of
/// the lock fails); then the server refuses the held request, so nothing
/// in the sender's list is left to send. Once it released the lock the
/// sender looks at `pending/` again and sends the event: no other hook
/// runs, and nothing is left behind.
#[test]
#[cfg(unix)]
fn an_event_left_to_the_holder_of_the_drain_lock_is_sent_before_it_exits() -> TestResult {
    let server = TestServer::start()?;
    server.set_mode(Mode::Hold);
    let mut sb = Sandbox::new(Some(&server.url()))?;
    // The held send must outlast the hook run below on a loaded machine.
    sb.set("HOOKLINE_TIMEOUT_MS", "5000");
    sb.hook(&event(
        "sess-end",
        "Stop",
        json!({"last_assistant_message": "done"}),
    ))?;
    let t = std::time::Instant::now();
    while server.holding() == 0 {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "the sender sent nothing"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    sb.hook(&event(
        "sess-other",
        "PostToolUse",
        json!({"tool_name": "Bash", "tool_use_id": "toolu_1", "tool_response": {}}),
    ))?;
    assert!(
        sb.log().contains("another process is sending"),
        "the hook found the lock taken: {}",
        sb.log()
    );
    let left = sb.pending();
    assert_eq!(left.len(), 2, "Stop's event and the hook's: {left:?}");
    server.release_held(400, r#"{"error":"refused"}"#);
    sb.settled()?;
    assert_eq!(sb.failed().len(), 1, "the held request was refused");
    assert!(
        sb.pending().is_empty(),
        "left behind when the sender exited: {:?}",
        sb.pending()
    );
    let accepted = server.accepted_ids();
    assert_eq!(accepted.len(), 1, "{accepted:?}");
    assert!(
        left[1].starts_with(&accepted[0]),
        "the hook's event reached the server: {accepted:?}, {left:?}"
    );
    Ok(())
}

/// The same hand-off with `flush` as the holder: the event a hook left to
/// it while its one send was held is sent before it exits, and its summary
/// counts it.
#[test]
fn an_event_left_to_flush_while_it_sends_is_sent_by_it() -> TestResult {
    let server = TestServer::start()?;
    let mut sb = Sandbox::new(Some(&server.url()))?;
    sb.set("HOOKLINE_TIMEOUT_MS", "0");
    sb.hook(&event("sess-a", "Notification", json!({"message": "m0"})))?;
    // The held send must outlast the hook run below on a loaded machine.
    sb.set("HOOKLINE_TIMEOUT_MS", "5000");
    server.set_mode(Mode::Hold);
    let flush = sb
        .command(&["flush"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let t = std::time::Instant::now();
    while server.holding() == 0 {
        assert!(t.elapsed() < Duration::from_secs(5), "flush sent nothing");
        std::thread::sleep(Duration::from_millis(5));
    }
    sb.hook(&event("sess-b", "Notification", json!({"message": "m1"})))?;
    assert_eq!(sb.pending().len(), 2, "the hook left its event to flush");
    server.release_held(400, r#"{"error":"refused"}"#);
    let out = flush.wait_with_output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("sent 1, refused 1") && stdout.contains("0 still pending"),
        "{stdout}"
    );
    assert!(sb.pending().is_empty(), "{:?}", sb.pending());
    assert_eq!(server.accepted_ids().len(), 1);
    Ok(())
}
