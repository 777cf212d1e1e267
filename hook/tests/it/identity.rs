//! Who and where: every event carries the OS user and host the hook
//! stamped, and the heartbeat rides on SessionStart and, at most hourly, on
//! another event (`state/heartbeat.json` holds the time of the last one).

use serde_json::Value;

use crate::helpers::{Sandbox, TestResult, event};
use crate::server::TestServer;

/// The `hookline` object of the last body the server received.
fn last_meta(server: &TestServer) -> Result<Value, Box<dyn std::error::Error>> {
    let got = server.events().pop().ok_or("nothing received")?;
    Ok(got
        .body
        .get("hookline")
        .cloned()
        .ok_or("no hookline object")?)
}

fn heartbeat_file(sb: &Sandbox) -> std::path::PathBuf {
    sb.spool().join("state/heartbeat.json")
}

#[test]
fn every_event_carries_the_user_and_host() -> TestResult {
    let server = TestServer::start()?;
    let mut sb = Sandbox::new(Some(&server.url()))?;
    sb.set("USER", "alice");
    for name in ["SessionStart", "UserPromptSubmit", "Stop", "SessionEnd"] {
        sb.hook_settled(&event("s-id-1", name, serde_json::json!({"prompt": "p"})))?;
        let meta = last_meta(&server)?;
        assert_eq!(meta["user"], "alice", "{name}");
        let host = meta["host"].as_str().unwrap_or_default();
        assert!(!host.is_empty(), "{name}: a host name");
        if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
            assert_eq!(host, h.trim(), "{name}: the machine's host name");
        }
    }
    // Without USER, LOGNAME is the user.
    sb.unset("USER");
    sb.set("LOGNAME", "bob");
    sb.hook_settled(&event("s-id-1", "Stop", serde_json::json!({})))?;
    assert_eq!(last_meta(&server)?["user"], "bob");
    Ok(())
}

#[test]
fn the_heartbeat_rides_on_session_start_and_at_most_hourly() -> TestResult {
    let server = TestServer::start()?;
    let mut sb = Sandbox::new(Some(&server.url()))?;
    sb.set("USER", "alice");
    let beat = |name: &str| -> Result<bool, Box<dyn std::error::Error>> {
        sb.hook_settled(&event("s-id-2", name, serde_json::json!({"prompt": "p"})))?;
        Ok(last_meta(&server)?["heartbeat"] == true)
    };
    assert!(
        beat("UserPromptSubmit")?,
        "the first event ever is a heartbeat"
    );
    assert!(!beat("Stop")?, "not again within the hour");
    assert!(beat("SessionStart")?, "every SessionStart is one");
    assert!(!beat("UserPromptSubmit")?);
    assert!(!beat("PreToolUse")?);

    // An hour later (the file says the last one was 61 minutes ago).
    let old = chrono::Utc::now() - chrono::Duration::minutes(61);
    std::fs::write(
        heartbeat_file(&sb),
        serde_json::json!({"at": old}).to_string(),
    )?;
    assert!(beat("Stop")?, "due after an hour");
    let saved: Value = serde_json::from_slice(&std::fs::read(heartbeat_file(&sb))?)?;
    let at = saved["at"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .ok_or("no time in heartbeat.json")?;
    assert!(
        chrono::Utc::now() - at.with_timezone(&chrono::Utc) < chrono::Duration::minutes(1),
        "the file holds the new heartbeat's time"
    );
    assert!(!beat("Stop")?, "and the hour starts again");
    Ok(())
}

#[test]
fn a_heartbeat_is_kept_in_the_spool_while_the_server_is_down() -> TestResult {
    let mut sb = Sandbox::new(None)?;
    sb.set("USER", "alice");
    sb.hook(&event("s-id-3", "SessionStart", serde_json::json!({})))?;
    let pending = sb.pending();
    assert_eq!(pending.len(), 1);
    let body: Value = serde_json::from_slice(&std::fs::read(
        sb.spool().join("pending").join(&pending[0]),
    )?)?;
    assert_eq!(body["hookline"]["heartbeat"], true);
    assert!(heartbeat_file(&sb).exists(), "recorded once spooled");
    Ok(())
}
