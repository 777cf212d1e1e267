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
fn a_black_holed_server_costs_about_one_deadline_for_a_hundred_events() -> TestResult {
    let server = TestServer::start()?;
    server.set_mode(Mode::BlackHole);
    let mut sb = Sandbox::new(Some(&server.url()))?;
    let deadline = Duration::from_millis(1000);
    sb.set("HOOKLINE_TIMEOUT_MS", deadline.as_millis().to_string());
    let t = Instant::now();
    let mut slow = 0;
    for i in 0..100 {
        let out = sb.hook(&event(
            "sess-bh",
            "PostToolUse",
            json!({"tool_name": "Bash", "tool_use_id": format!("toolu_{i}")}),
        ))?;
        assert!(
            out.elapsed < deadline * 2,
            "one hook took {:?}",
            out.elapsed
        );
        // Waited for the black hole: close to a whole deadline. (Half a
        // deadline was too low a bar on a loaded CI machine, where a debug
        // hook process alone can take a few hundred ms.)
        if out.elapsed > deadline * 9 / 10 {
            slow += 1;
        }
    }
    let total = t.elapsed();
    // Without the breaker every event would wait a deadline (100 s in all).
    assert!(
        slow <= 2,
        "{slow} hooks waited for the black hole; the circuit breaker should stop that after one"
    );
    // 100 deadlines without the breaker; a loaded machine still stays far
    // below that with it.
    assert!(total < deadline * 30, "100 events took {total:?}");
    assert_eq!(sb.pending().len(), 100, "every event is kept");
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

/// Claude Code runs MessageDisplay hooks inline whatever `async` says; with
/// the server hung, hookline 0.1 made it wait 577-810 ms per assistant
/// message (the hook waited for the drain lock a sending hook held). Should
/// an older install have left the hook there, it only spools the event.
#[test]
fn an_event_claude_code_runs_inline_is_spooled_without_waiting_for_a_hung_server() -> TestResult {
    let server = TestServer::start()?;
    server.set_mode(Mode::BlackHole);
    let mut sb = Sandbox::new(Some(&server.url()))?;
    let deadline = Duration::from_millis(1500);
    sb.set("HOOKLINE_TIMEOUT_MS", deadline.as_millis().to_string());
    // A Stop hook takes the drain lock and waits for the black hole.
    let started = Instant::now();
    let mut holder = sb
        .command(&[])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    if let Some(mut i) = holder.stdin.take() {
        i.write_all(&event("sess-md", "Stop", json!({})))?;
    }
    std::thread::sleep(Duration::from_millis(300));
    for i in 0..5 {
        let out = sb.hook(&event(
            "sess-md",
            "MessageDisplay",
            json!({"turn_id": "t1", "message_id": "msg_1", "index": i, "final": i == 4, "delta": "Hello"}),
        ))?;
        assert!(
            out.elapsed < Duration::from_millis(250),
            "MessageDisplay hook {i} took {:?}: Claude Code waits for it",
            out.elapsed
        );
    }
    // Setup runs inline under `claude --init`, where it fires.
    let setup = sb.hook(&event("sess-md", "Setup", json!({"trigger": "init"})))?;
    assert!(
        setup.elapsed < Duration::from_millis(250),
        "Setup took {:?}",
        setup.elapsed
    );
    // The control: any other event waits for the lock meanwhile.
    let other = sb.hook(&event("sess-md", "Notification", json!({"message": "m"})))?;
    holder.wait()?;
    assert!(
        started.elapsed() > deadline * 9 / 10 && other.elapsed > Duration::from_millis(500),
        "the lock was held while the server hung ({:?}, Notification {:?})",
        started.elapsed(),
        other.elapsed
    );
    assert_eq!(sb.pending().len(), 8, "every event is kept");
    assert!(
        sb.log().contains("Claude Code runs this event inline"),
        "{}",
        sb.log()
    );
    assert!(
        server.events().iter().all(|r| !matches!(
            r.body["hook_event_name"].as_str(),
            Some("MessageDisplay" | "Setup")
        )),
        "no inline event sent anything"
    );
    Ok(())
}
