//! Termination signals. Claude Code cancels the async hooks still running
//! when a `claude -p` turn ends with SIGTERM (23-34 ms after they started,
//! seen with 2.1.332); a terminal's hang-up or Ctrl+C sends SIGHUP or SIGINT
//! to the hook as well. The hook must then still make its event durable,
//! try to send it, and exit 0 within its deadline. A person's command
//! (`flush`, `backfill`, …) still stops on a signal, as they expect.

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{Sandbox, TestResult, event, session_of};
use crate::server::{Mode, TestServer};

/// Sends `sig` (a name, `TERM`) to the process with `kill`.
fn kill(child: &Child, sig: &str) -> TestResult {
    let st = std::process::Command::new("kill")
        .args(["-s", sig, &child.id().to_string()])
        .status()?;
    if !st.success() {
        return Err(format!("kill -s {sig} failed: {st}").into());
    }
    Ok(())
}

/// Waits for the child, 10 s at most (then kills it and fails).
fn wait(child: &mut Child) -> Result<(ExitStatus, Duration), Box<dyn std::error::Error>> {
    let t = Instant::now();
    loop {
        if let Some(s) = child.try_wait()? {
            return Ok((s, t.elapsed()));
        }
        if t.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            return Err("the hook did not exit within 10 s".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits (2 s at most) until the process catches SIGHUP, SIGINT and
/// SIGTERM (Linux: `SigCgt` in /proc; elsewhere a fixed 150 ms), so a
/// signal sent then tests the hook, not a process still starting.
fn wait_until_catching(child: &Child) {
    let status = format!("/proc/{}/status", child.id());
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(2) {
        let Ok(text) = std::fs::read_to_string(&status) else {
            std::thread::sleep(Duration::from_millis(150));
            return;
        };
        let caught = text
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
            .unwrap_or(0);
        if caught & 0x4003 == 0x4003 {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn spawn(sb: &Sandbox, args: &[&str]) -> std::io::Result<Child> {
    sb.command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

/// Runs the hook on `body` and sends it `sig` while it is still reading
/// its stdin (half the event written): before anything can be spooled.
fn signalled_before_the_spool_write(
    sb: &Sandbox,
    body: &[u8],
    sig: &str,
) -> Result<ExitStatus, Box<dyn std::error::Error>> {
    let mut child = spawn(sb, &[])?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let (head, tail) = body.split_at(body.len() / 2);
    stdin.write_all(head)?;
    stdin.flush()?;
    wait_until_catching(&child);
    std::thread::sleep(Duration::from_millis(20));
    kill(&child, sig)?;
    std::thread::sleep(Duration::from_millis(20));
    // A hook killed by the signal is gone: the write may fail then.
    let _ = stdin.write_all(tail);
    drop(stdin);
    Ok(wait(&mut child)?.0)
}

#[test]
fn a_signal_before_the_event_is_spooled_does_not_lose_it() -> TestResult {
    let server = TestServer::start()?;
    let sb = Sandbox::new(Some(&server.url()))?;
    // Stop leaves the sending to its tail sender, PostToolUse sends itself.
    let names = ["Stop", "PostToolUse", "Stop"];
    for (i, (sig, name)) in ["TERM", "HUP", "INT"].into_iter().zip(names).enumerate() {
        let session = format!("sess-sig-{sig}");
        let status = signalled_before_the_spool_write(
            &sb,
            &event(&session, name, json!({"last_assistant_message": "done"})),
            sig,
        )?;
        assert_eq!(
            (status.code(), status.signal()),
            (Some(0), None),
            "SIG{sig}: the hook finishes its work and exits 0"
        );
        sb.settled()?;
        let got = server.events();
        assert_eq!(got.len(), i + 1, "SIG{sig}: the event is sent");
        assert_eq!(session_of(&got[i].body), session);
    }
    assert!(sb.pending().is_empty(), "{:?}", sb.pending());
    let log = sb.log();
    assert!(log.contains(r#""signal":"SIGTERM""#), "{log}");
    assert!(log.contains(r#""signal":"SIGHUP""#), "{log}");
    Ok(())
}

/// After a signal the hook sends its own event only: the backlog is left
/// for the next hook, and a session's older entry still goes first (the
/// event waits behind it rather than overtake it).
#[test]
fn after_a_signal_only_the_event_itself_is_sent_and_sessions_keep_their_order() -> TestResult {
    let server = TestServer::start()?;
    let mut sb = Sandbox::new(Some(&server.url()))?;
    sb.set("HOOKLINE_TIMEOUT_MS", "0");
    for s in ["sess-old", "sess-old", "sess-same"] {
        sb.hook(&event(s, "Notification", json!({"message": "backlog"})))?;
    }
    assert_eq!(sb.pending().len(), 3, "the backlog (spooled only)");
    sb.unset("HOOKLINE_TIMEOUT_MS");

    let status = signalled_before_the_spool_write(
        &sb,
        &event("sess-new", "PostToolUse", json!({"tool_name": "Read"})),
        "TERM",
    )?;
    assert_eq!(status.code(), Some(0));
    let got = server.events();
    assert_eq!(got.len(), 1, "only the event itself");
    assert_eq!(session_of(&got[0].body), "sess-new");
    assert_eq!(sb.pending().len(), 3, "the backlog waits");

    let status = signalled_before_the_spool_write(
        &sb,
        &event("sess-same", "PostToolUse", json!({"tool_name": "Read"})),
        "TERM",
    )?;
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        server.events().len(),
        1,
        "not sent before its session's older entry"
    );
    assert_eq!(sb.pending().len(), 4, "kept in the spool");

    // The next hook sends everything, each session in order.
    sb.hook(&event("sess-next", "Notification", json!({})))?;
    assert!(sb.pending().is_empty(), "{:?}", sb.pending());
    let same: Vec<String> = server
        .events()
        .iter()
        .filter(|r| session_of(&r.body) == "sess-same")
        .map(|r| r.body["hook_event_name"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(same, ["Notification", "PostToolUse"]);
    Ok(())
}

/// After a signal the session's transcript is still read, but the subagent
/// files earlier SubagentStops named are left for the next event (here a
/// Stop, whose tail sender reads them).
#[test]
fn after_a_signal_the_transcript_is_read_and_followed_subagent_files_wait() -> TestResult {
    let server = TestServer::start()?;
    let sb = Sandbox::new(Some(&server.url()))?;
    let main = sb.root().join("main.jsonl");
    let agent = sb.root().join("agent-x.jsonl");
    let add = |p: &std::path::Path, uuid: &str| -> std::io::Result<()> {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)?
            .write_all(format!("{{\"uuid\":\"{uuid}\",\"type\":\"user\"}}\n").as_bytes())
    };
    add(&main, "m1")?;
    add(&agent, "a1")?;
    let session = "sess-sig-transcript";
    sb.hook(&event(
        session,
        "SubagentStop",
        json!({"transcript_path": main, "agent_id": "x", "agent_transcript_path": agent}),
    ))?;
    add(&main, "m2")?;
    add(&agent, "a2")?;
    let prompt = event(
        session,
        "UserPromptSubmit",
        json!({"transcript_path": main, "prompt": "next"}),
    );
    assert_eq!(
        signalled_before_the_spool_write(&sb, &prompt, "TERM")?.code(),
        Some(0)
    );
    sb.hook_settled(&event(session, "Stop", json!({"transcript_path": main})))?;
    let chunks: Vec<Vec<String>> = server
        .events()
        .iter()
        .map(|r| {
            r.body["hookline"]["transcript"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|c| c["entries"].as_array().cloned().unwrap_or_default())
                .map(|e| e["uuid"].as_str().unwrap_or("?").to_owned())
                .collect::<Vec<String>>()
        })
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        chunks,
        [vec!["m1", "a1"], vec!["m2"], vec!["a2"]],
        "SubagentStop, the signalled UserPromptSubmit, the next Stop"
    );
    Ok(())
}

/// A signal during the send only delays the event: it is spooled already.
/// The send in progress ends at the hook's sending deadline (150 ms from
/// its start), and the hook exits 0.
#[test]
fn a_signal_during_the_send_keeps_the_event_and_the_deadline() -> TestResult {
    let server = TestServer::start()?;
    server.set_mode(Mode::Hold);
    let mut sb = Sandbox::new(Some(&server.url()))?;
    sb.set("HOOKLINE_TIMEOUT_MS", "800");
    let t = Instant::now();
    let mut child = spawn(&sb, &[])?;
    if let Some(mut i) = child.stdin.take() {
        i.write_all(&event("sess-send", "Notification", json!({})))?;
    }
    while server.holding() == 0 {
        if t.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            return Err("the hook never sent".into());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    kill(&child, "TERM")?;
    let (status, _) = wait(&mut child)?;
    let elapsed = t.elapsed();
    assert_eq!((status.code(), status.signal()), (Some(0), None));
    assert!(
        elapsed >= Duration::from_millis(140) && elapsed < Duration::from_millis(700),
        "the send ran to the hook's deadline, no longer: {elapsed:?}"
    );
    assert_eq!(sb.pending().len(), 1, "still spooled");
    Ok(())
}

/// `flush` (like every command a person runs) is not the hook: a signal
/// stops it at once, as its user expects.
#[test]
fn a_persons_command_still_stops_on_a_signal() -> TestResult {
    let server = TestServer::start()?;
    let mut sb = Sandbox::new(Some(&server.url()))?;
    sb.set("HOOKLINE_TIMEOUT_MS", "0");
    sb.hook(&event("sess-flush", "Notification", json!({})))?;
    sb.unset("HOOKLINE_TIMEOUT_MS");
    server.set_mode(Mode::BlackHole);
    for (sig, num) in [("TERM", 15), ("INT", 2), ("HUP", 1)] {
        let mut child = spawn(&sb, &["flush", "--all", "--budget", "30"])?;
        std::thread::sleep(Duration::from_millis(300));
        kill(&child, sig)?;
        let (status, waited) = wait(&mut child)?;
        assert_eq!(status.signal(), Some(num), "flush ends by SIG{sig}");
        assert!(waited < Duration::from_secs(2), "{waited:?}");
    }
    Ok(())
}

/// Claude Code signals the hook's whole process group, so the `git` that
/// looks up the e-mail may be killed too: its empty answer is not cached
/// for an hour.
#[test]
fn a_git_killed_by_a_signal_is_not_cached_as_no_email() -> TestResult {
    let server = TestServer::start()?;
    let mut sb = Sandbox::new(Some(&server.url()))?;
    let bin = sb.root().join("bin");
    std::fs::create_dir_all(&bin)?;
    let git = bin.join("git");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    sb.set("PATH", &path);
    let script = |body: &str| -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(&git, format!("#!/bin/sh\n{body}\n"))?;
        std::fs::set_permissions(&git, std::fs::Permissions::from_mode(0o755))
    };
    script("kill -TERM $$")?;
    sb.hook(&event("sess-git", "Notification", json!({})))?;
    assert!(
        !sb.spool().join("state/identity.json").exists(),
        "a killed git is not an answer"
    );
    script("echo alice@example.com")?;
    sb.hook(&event("sess-git", "Notification", json!({})))?;
    let last = server.events().pop().ok_or("nothing received")?;
    assert_eq!(last.body["hookline"]["git_email"], "alice@example.com");
    Ok(())
}

/// Claude Code can end a hook before it has written the event to the
/// hook's stdin. The hook then has nothing to capture; it says so in its
/// log and exits 0 soon after the signal, instead of blocking on stdin
/// until the SIGKILL 1.5 s later and leaving no trace.
#[test]
fn a_signal_before_any_stdin_is_logged_and_the_hook_exits() -> TestResult {
    let sb = Sandbox::new(None)?;
    let mut child = spawn(&sb, &[])?;
    let stdin = child.stdin.take().ok_or("no stdin")?;
    wait_until_catching(&child);
    kill(&child, "TERM")?;
    let (status, took) = wait(&mut child)?;
    drop(stdin);
    assert_eq!(status.code(), Some(0), "exit 0 after a signal: {status}");
    assert!(
        took < Duration::from_millis(1400),
        "gone before Claude Code's SIGKILL would come: {took:?}"
    );
    let log = sb.log();
    assert!(
        log.lines().any(|l| l.contains("\"WARN\"")
            && l.contains("before it sent the event")
            && l.contains("SIGTERM")),
        "a WARN line naming the signal: {log}"
    );
    Ok(())
}

/// While stdin is still open and silent, no signal: the hook waits (the
/// watch acts only after a signal), and reads the event when it comes.
#[test]
fn a_slow_event_without_a_signal_is_still_read() -> TestResult {
    let sb = Sandbox::new(None)?;
    let mut child = spawn(&sb, &[])?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    wait_until_catching(&child);
    std::thread::sleep(Duration::from_millis(400));
    stdin.write_all(&event("sess-slow", "Notification", json!({"message": "m"})))?;
    drop(stdin);
    let (status, _) = wait(&mut child)?;
    assert_eq!(status.code(), Some(0));
    let pending = std::fs::read_dir(sb.root().join("spool/pending"))?.count();
    assert_eq!(pending, 1, "the event spooled");
    Ok(())
}
