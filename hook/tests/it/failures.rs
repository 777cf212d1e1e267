//! What a refusing or failing server leads to: failed/ with the reason,
//! the retry schedule, `flush --failed`, `status`.

use serde_json::{Value, json};

use crate::helpers::{Sandbox, TestResult, event};
use crate::server::{Mode, TestServer};

const INVALID: &str =
    r#"{"error":{"code":"missing","message":"prompt is required","field":"prompt"}}"#;

fn stem(file: &str) -> String {
    file.trim_end_matches(".json").to_owned()
}

#[test]
fn a_400_moves_the_entry_to_failed_with_the_servers_answer_and_it_is_not_resent() -> TestResult {
    let server = TestServer::start()?;
    server.set_mode(Mode::Status(400, INVALID.into()));
    let sb = Sandbox::new(Some(&server.url()))?;
    sb.hook(&event("sess-1", "UserPromptSubmit", json!({})))?;
    assert!(sb.pending().is_empty());
    let failed = sb.failed();
    assert_eq!(failed.len(), 1);
    let dir = sb.spool().join("failed");
    let answer = std::fs::read_to_string(dir.join(format!("{}.response", stem(&failed[0]))))?;
    assert_eq!(
        answer, INVALID,
        "the server's answer is kept beside the entry"
    );
    let state: Value = serde_json::from_slice(&std::fs::read(
        dir.join(format!("{}.state", stem(&failed[0]))),
    )?)?;
    assert_eq!(state["last_status"], 400);
    assert!(
        state["failed_reason"]
            .as_str()
            .is_some_and(|r| r.contains("prompt is required")),
        "{state}"
    );

    server.set_mode(Mode::Accept);
    sb.hook(&event(
        "sess-1",
        "UserPromptSubmit",
        json!({"prompt": "hi"}),
    ))?;
    assert_eq!(
        server.events().len(),
        2,
        "the refused event is not sent again by itself"
    );
    assert_eq!(sb.failed().len(), 1);

    let status = sb.run(&["status"], b"")?;
    assert!(status.stdout.contains("failed:     1"), "{}", status.stdout);
    assert!(
        status.stdout.contains("prompt is required"),
        "{}",
        status.stdout
    );

    let out = sb.run(&["flush", "--failed"], b"")?;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(sb.failed().is_empty());
    assert_eq!(
        server.accepted_ids().len(),
        2,
        "the requeued entry is accepted now"
    );
    Ok(())
}

#[test]
fn a_503_keeps_the_entry_on_the_retry_schedule_until_the_fifth_retry_fails() -> TestResult {
    let server = TestServer::start()?;
    server.set_mode(Mode::Status(
        503,
        r#"{"error":{"code":"unavailable","message":"queue down"}}"#.into(),
    ));
    let sb = Sandbox::new(Some(&server.url()))?;
    sb.hook_settled(&event(
        "sess-2",
        "Stop",
        json!({"last_assistant_message": "x"}),
    ))?;
    let pending = sb.pending();
    assert_eq!(pending.len(), 1);
    let state_file = sb
        .spool()
        .join("pending")
        .join(format!("{}.state", stem(&pending[0])));
    let state: Value = serde_json::from_slice(&std::fs::read(&state_file)?)?;
    assert_eq!(state["attempts"], 1);
    let wait = chrono::DateTime::parse_from_rfc3339(
        state["next_attempt_at"].as_str().unwrap_or_default(),
    )? - chrono::DateTime::parse_from_rfc3339(
        state["last_attempt_at"].as_str().unwrap_or_default(),
    )?;
    assert_eq!(wait.num_seconds(), 60, "first retry after 1 minute");

    // Not due yet: a plain flush leaves it alone.
    let out = sb.run(&["flush"], b"")?;
    assert!(out.stdout.contains("sent 0"), "{}", out.stdout);
    assert_eq!(server.events().len(), 1);
    for retry in 1..=5 {
        sb.run(&["flush", "--all"], b"")?;
        assert_eq!(server.events().len(), 1 + retry);
    }
    assert!(sb.pending().is_empty());
    let failed = sb.failed();
    assert_eq!(
        failed.len(),
        1,
        "given up after the fifth retry, kept in failed/"
    );
    let state: Value = serde_json::from_slice(&std::fs::read(
        sb.spool()
            .join("failed")
            .join(format!("{}.state", stem(&failed[0]))),
    )?)?;
    assert_eq!(state["attempts"], 6);
    assert!(
        state["failed_reason"]
            .as_str()
            .is_some_and(|r| r.contains("503")),
        "{state}"
    );
    Ok(())
}

#[test]
fn a_401_is_reported_by_doctor_and_a_good_setup_passes() -> TestResult {
    let server = TestServer::start()?;
    let mut sb = Sandbox::new(Some(&server.url()))?;
    let out = sb.run(&["install", "--command", "/opt/bin/hookline-hook"], b"")?;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let out = sb.run(&["doctor"], b"")?;
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("all checks passed"), "{}", out.stdout);
    assert_eq!(
        server.events().len(),
        1,
        "doctor sent one signed test event"
    );

    server.set_mode(Mode::Status(
        401,
        r#"{"error":{"code":"unauthorized","message":"bad token"}}"#.into(),
    ));
    let out = sb.run(&["doctor"], b"")?;
    assert_eq!(out.code, Some(1));
    assert!(out.stdout.contains("FAIL  token"), "{}", out.stdout);

    sb.set(
        "HOOKLINE_URL",
        format!("http://127.0.0.1:{}", crate::server::dead_port()?),
    );
    let out = sb.run(&["doctor", "--no-send"], b"")?;
    assert_eq!(out.code, Some(1));
    assert!(out.stdout.contains("FAIL  server"), "{}", out.stdout);
    Ok(())
}
