//! Never in Claude Code's way: exit 0, empty stdout, bounded time, whatever
//! comes in and whatever the server does.

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{Sandbox, TestResult, event};
use crate::server::{Mode, TestServer};

#[test]
fn garbage_on_stdin_exits_zero_prints_nothing_and_is_logged() -> TestResult {
    let server = TestServer::start()?;
    let sb = Sandbox::new(Some(&server.url()))?;
    let huge = vec![b' '; 17 * 1024 * 1024];
    for input in [
        &b""[..],
        b"not json",
        b"[1,2,3]",
        b"{\"session_id\":",
        b"\xff\xfe{}",
        &huge,
    ] {
        sb.hook(input)?;
    }
    assert!(sb.pending().is_empty() && sb.failed().is_empty());
    assert!(server.events().is_empty());
    let log = sb.log();
    assert_eq!(log.matches("stdin is not a hook event").count(), 6, "{log}");
    for line in log.lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        assert!(v["timestamp"].is_string() && v["level"].is_string() && v["message"].is_string());
    }
    Ok(())
}

#[test]
fn a_bad_command_line_or_missing_config_still_exits_zero_with_empty_stdout() -> TestResult {
    let mut sb = Sandbox::new(None)?;
    let out = sb.run(&["--no-such-flag"], b"{}")?;
    assert_eq!(out.code, Some(0));
    assert!(out.stdout.is_empty());
    // No URL, no config file, a broken config path: the event is spooled.
    sb.set("HOOKLINE_CONFIG", sb.root().join("no/such/config.toml"));
    sb.hook(&event("s", "SessionStart", json!({"source": "startup"})))?;
    assert_eq!(sb.pending().len(), 1);
    assert!(sb.log().contains("no URL configured"));
    // An unusable spool folder: still exit 0, and the problem is logged.
    sb.set("HOOKLINE_SPOOL_DIR", "/proc/hookline-cannot-write-here");
    sb.hook(&event("s", "Stop", json!({})))?;
    assert!(sb.log().contains("cannot open the spool"));
    Ok(())
}

#[test]
fn the_log_rotates_by_size_and_keeps_five_files() -> TestResult {
    let mut sb = Sandbox::new(None)?;
    sb.set("HOOKLINE_LOG_MAX_BYTES", "2048");
    for i in 0..80 {
        sb.hook(&event("s", "Notification", json!({"message": i})))?;
    }
    let log_dir = sb.root().join("log");
    assert!(log_dir.join("hook.log.1").exists());
    assert!(log_dir.join("hook.log.5").exists());
    assert!(!log_dir.join("hook.log.6").exists());
    Ok(())
}

#[test]
fn a_caller_that_never_closes_stdin_does_not_make_the_hook_hang() -> TestResult {
    let server = TestServer::start()?;
    let sb = Sandbox::new(Some(&server.url()))?;
    let mut child = sb
        .command(&[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    stdin.write_all(&event(
        "sess-open",
        "Stop",
        json!({"last_assistant_message": "x"}),
    ))?;
    stdin.flush()?;
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if t.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            return Err("the hook waited for end of input".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    drop(stdin);
    assert_eq!(status.code(), Some(0));
    sb.settled()?;
    assert_eq!(server.accepted_ids().len(), 1);
    Ok(())
}

/// No hook waits for the drain lock: while another process holds it (a
/// hook or sender in a send to a hung server), the event is left in
/// `pending/` for it and the hook exits. hookline 0.1 made Claude Code wait
/// 577-810 ms per MessageDisplay (run inline whatever `async` says) while
/// the server hung, and every other hook waited up to `timeout_ms` (3 s
/// here), long enough to be alive when Claude Code ends a `-p` turn.
#[test]
fn no_hook_waits_while_another_process_holds_the_drain_lock() -> TestResult {
    let server = TestServer::start()?;
    let mut sb = Sandbox::new(Some(&server.url()))?;
    sb.set("HOOKLINE_TIMEOUT_MS", "3000");
    // The first hook creates the spool (and sends its event).
    sb.hook(&event(
        "sess-lock",
        "SessionStart",
        json!({"source": "startup"}),
    ))?;
    assert_eq!(server.accepted_ids().len(), 1);
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(sb.spool().join("state/drain.lock"))?;
    lock.lock()?;
    let events = [
        (
            "MessageDisplay",
            json!({"turn_id": "t1", "message_id": "msg_1", "index": 0, "final": true, "delta": "Hi"}),
        ),
        ("Setup", json!({"trigger": "init"})),
        ("Notification", json!({"message": "m"})),
        (
            "PostToolUse",
            json!({"tool_name": "Bash", "tool_use_id": "toolu_1", "tool_response": {}}),
        ),
    ];
    for (name, extra) in &events {
        let out = sb.hook(&event("sess-lock", name, extra.clone()))?;
        assert!(
            out.elapsed < Duration::from_millis(1000),
            "{name} took {:?} while the lock was held: it waited for it",
            out.elapsed
        );
    }
    assert_eq!(sb.pending().len(), events.len(), "every event is kept");
    assert_eq!(server.accepted_ids().len(), 1, "none sent past the lock");
    assert!(
        sb.log().contains("another process is sending: left to it"),
        "{}",
        sb.log()
    );
    // Once the lock is free, the next hook sends them all, in order.
    drop(lock);
    sb.hook(&event("sess-lock", "Notification", json!({"message": "n"})))?;
    assert_eq!(server.accepted_ids().len(), events.len() + 2);
    assert!(sb.pending().is_empty(), "{:?}", sb.pending());
    Ok(())
}

/// A black-holed server keeps no hook past its short sending time (150 ms
/// from its start; `timeout_ms` here is 1 s): each hook leaves the event in
/// the spool to a detached sender, which waits for the answer with the time
/// the hook did not have and opens the circuit breaker, after which the
/// hooks only spool. Before, the first hook waited the whole `timeout_ms`.
#[test]
fn a_black_holed_server_keeps_no_hook_past_its_sending_time() -> TestResult {
    let server = TestServer::start()?;
    server.set_mode(Mode::BlackHole);
    let mut sb = Sandbox::new(Some(&server.url()))?;
    sb.set("HOOKLINE_TIMEOUT_MS", "1000");
    let t = Instant::now();
    let mut slowest = Duration::ZERO;
    for i in 0..20 {
        let out = sb.hook(&event(
            "sess-bh",
            "PostToolUse",
            json!({"tool_name": "Bash", "tool_use_id": format!("toolu_{i}")}),
        ))?;
        slowest = slowest.max(out.elapsed);
    }
    eprintln!(
        "20 hooks against a black hole: slowest {slowest:?}, all {:?}",
        t.elapsed()
    );
    // 150 ms of sending, plus a debug process's start on a loaded machine.
    assert!(
        slowest < Duration::from_millis(600),
        "a hook took {slowest:?}: it waited for the black hole"
    );
    let breaker = sb.spool().join("state/breaker.json");
    let t = Instant::now();
    while !breaker.is_file() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "no sender opened the circuit: {}",
            sb.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(sb.pending().len(), 20, "every event is kept");
    Ok(())
}
