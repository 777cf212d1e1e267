//! install / uninstall: merged into settings.json, idempotent, backed up,
//! and removing only hookline's entries.

use serde_json::{Value, json};

use crate::helpers::{Sandbox, TestResult};

const THEIRS: &str = r#"{
  "model": "opus",
  "hooks": {
    "Stop": [{"matcher": "", "hooks": [{"type": "command", "command": "/usr/bin/notify-me"}]}]
  },
  "permissions": {"allow": ["Bash(ls)"]}
}
"#;

fn settings(sb: &Sandbox) -> Result<Value, Box<dyn std::error::Error>> {
    Ok(serde_json::from_slice(&std::fs::read(
        sb.root().join("home/.claude/settings.json"),
    )?)?)
}

/// hookline handlers per event.
fn ours(s: &Value) -> Vec<(String, Value)> {
    let mut v = Vec::new();
    for (event, groups) in s["hooks"].as_object().into_iter().flatten() {
        for g in groups.as_array().into_iter().flatten() {
            for h in g["hooks"].as_array().into_iter().flatten() {
                let cmd = h["command"].as_str().unwrap_or("");
                if cmd.ends_with("hookline-hook") || h["type"] == "http" {
                    v.push((event.clone(), h.clone()));
                }
            }
        }
    }
    v
}

/// The events `install` registers: Claude Code 2.1.332's 34 but those a
/// hook changes (WorktreeCreate/Remove, FileChanged), those it runs inline
/// whatever `async` says (MessageDisplay) and the decision hooks new in
/// 2.1.332 (PreModelSwitch, PreSkillShellCommand; PostModelSwitch with them).
const REGISTERED: [&str; 27] = [
    "ConfigChange",
    "CwdChanged",
    "DirectoryAdded",
    "Elicitation",
    "ElicitationResult",
    "InstructionsLoaded",
    "Notification",
    "PermissionDenied",
    "PermissionRequest",
    "PostCompact",
    "PostToolBatch",
    "PostToolUse",
    "PostToolUseFailure",
    "PreCompact",
    "PreToolUse",
    "SessionEnd",
    "SessionStart",
    "Setup",
    "Stop",
    "StopFailure",
    "SubagentStart",
    "SubagentStop",
    "TaskCompleted",
    "TaskCreated",
    "TeammateIdle",
    "UserPromptExpansion",
    "UserPromptSubmit",
];

/// The events whose hooks Claude Code waits for at the end of a turn: on
/// unix they are registered synchronously (the hook only spools and starts
/// the detached sender), with a short timeout.
const SYNCHRONOUS: [&str; 2] = ["Stop", "SessionEnd"];

/// The handler `install --command COMMAND` writes for `event`.
fn expected_handler(event: &str, command: &str) -> Value {
    if cfg!(unix) && SYNCHRONOUS.contains(&event) {
        json!({"type": "command", "command": command, "timeout": 2, "async": false})
    } else {
        json!({"type": "command", "command": command, "timeout": 10, "async": true})
    }
}

/// An install by hookline before Stop and SessionEnd were synchronous (every
/// event `async: true`) is upgraded by installing again: one handler per
/// event, Stop and SessionEnd now synchronous, the user's hooks kept.
#[test]
fn reinstall_over_an_all_async_install_makes_stop_and_session_end_synchronous() -> TestResult {
    let sb = Sandbox::new(None)?;
    let dir = sb.root().join("home/.claude");
    std::fs::create_dir_all(&dir)?;
    let old_handler =
        json!({"type": "command", "command": "/opt/hookline-hook", "timeout": 10, "async": true});
    let mut hooks = serde_json::Map::new();
    for e in REGISTERED {
        hooks.insert(e.into(), json!([{"hooks": [old_handler]}]));
    }
    hooks.insert(
        "Stop".into(),
        json!([{"matcher": "", "hooks": [{"type": "command", "command": "/usr/bin/notify-me"}]},
               {"hooks": [old_handler]}]),
    );
    std::fs::write(
        dir.join("settings.json"),
        json!({"hooks": hooks}).to_string(),
    )?;
    let out = sb.run(&["install", "--command", "/opt/hookline-hook"], b"")?;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let s = settings(&sb)?;
    let handlers = ours(&s);
    assert_eq!(handlers.len(), REGISTERED.len(), "one set: {s}");
    for (event, h) in &handlers {
        assert_eq!(h, &expected_handler(event, "/opt/hookline-hook"), "{event}");
    }
    #[cfg(unix)]
    for e in SYNCHRONOUS {
        let h = &handlers.iter().find(|(ev, _)| ev == e).ok_or(e)?.1;
        assert_eq!(h["async"], false, "{e}: {h}");
    }
    assert_eq!(
        s["hooks"]["Stop"][0]["hooks"][0]["command"], "/usr/bin/notify-me",
        "the user's own Stop hook stays first"
    );
    Ok(())
}

/// Claude Code runs MessageDisplay hooks inline (it waited 9-64 ms per
/// assistant message for hookline 0.1's): `install` does not register it,
/// and installing again removes the entry an older install left there.
#[test]
fn events_claude_code_waits_for_are_not_registered_and_reinstall_removes_them() -> TestResult {
    let sb = Sandbox::new(None)?;
    let dir = sb.root().join("home/.claude");
    std::fs::create_dir_all(&dir)?;
    let ours_there =
        json!({"type": "command", "command": "/opt/hookline-hook", "timeout": 10, "async": true});
    let old = json!({"hooks": {
        "MessageDisplay": [{"hooks": [ours_there]}],
        "PreModelSwitch": [{"hooks": [ours_there]}],
        "FileChanged": [{"matcher": "x", "hooks": [{"type": "command", "command": "/usr/bin/mine"}]}],
    }});
    std::fs::write(dir.join("settings.json"), old.to_string())?;
    let out = sb.run(&["install", "--command", "/opt/hookline-hook"], b"")?;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let s = settings(&sb)?;
    for e in [
        "MessageDisplay",
        "PreModelSwitch",
        "PostModelSwitch",
        "PreSkillShellCommand",
        "WorktreeCreate",
        "WorktreeRemove",
    ] {
        assert!(s["hooks"].get(e).is_none(), "{e} registered: {s}");
    }
    assert_eq!(
        s["hooks"]["FileChanged"][0]["hooks"][0]["command"], "/usr/bin/mine",
        "the user's own hooks stay"
    );
    assert_eq!(
        s["hooks"]["FileChanged"][0]["hooks"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(ours(&s).len(), REGISTERED.len());
    Ok(())
}

#[test]
fn install_twice_leaves_one_set_of_entries_and_keeps_the_users_own() -> TestResult {
    let sb = Sandbox::new(None)?;
    let dir = sb.root().join("home/.claude");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("settings.json"), THEIRS)?;
    let args = [
        "install",
        "--url",
        "https://ingest.example/v1/events",
        "--token",
        "t0k",
        "--command",
        "/opt/hookline/bin/hookline-hook",
    ];
    for _ in 0..2 {
        let out = sb.run(&args, b"")?;
        assert_eq!(out.code, Some(0), "{}", out.stderr);
    }
    let s = settings(&sb)?;
    let handlers = ours(&s);
    assert_eq!(handlers.len(), 27, "one handler per captured event");
    let events: std::collections::BTreeSet<&str> =
        handlers.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(events, REGISTERED.into_iter().collect());
    for (event, h) in &handlers {
        assert_eq!(
            h,
            &expected_handler(event, "/opt/hookline/bin/hookline-hook")
        );
    }
    assert_eq!(
        s["hooks"]["Stop"][0]["hooks"][0]["command"],
        "/usr/bin/notify-me"
    );
    assert_eq!(s["permissions"]["allow"][0], "Bash(ls)");
    let text = std::fs::read_to_string(dir.join("settings.json"))?;
    assert!(
        text.trim_start().starts_with("{\n  \"model\""),
        "key order kept: {text}"
    );
    let backups = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains("hookline-backup"))
        .count();
    assert_eq!(backups, 2);

    let config = std::fs::read_to_string(sb.root().join("config.toml"))?;
    assert!(
        config.contains("url = \"https://ingest.example\""),
        "{config}"
    );
    assert!(config.contains("token = \"t0k\""));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(sb.root().join("config.toml"))?
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }

    let out = sb.run(&["uninstall"], b"")?;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        settings(&sb)?,
        serde_json::from_str::<Value>(THEIRS)?,
        "back to exactly what the user had"
    );
    Ok(())
}

#[test]
fn install_http_writes_native_http_hooks_but_command_hooks_where_only_those_work() -> TestResult {
    let sb = Sandbox::new(None)?;
    let out = sb.run(
        &[
            "install",
            "--http",
            "--url",
            "https://ingest.example/",
            "--command",
            "/x/hookline-hook",
        ],
        b"",
    )?;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let s = settings(&sb)?;
    let handlers = ours(&s);
    assert_eq!(handlers.len(), 27);
    for (event, h) in handlers {
        if event == "SessionStart" || event == "Setup" {
            assert_eq!(h["type"], "command", "{event}");
        } else {
            assert_eq!(h["type"], "http", "{event}");
            assert_eq!(h["url"], "https://ingest.example/v1/hook");
            assert_eq!(h["headers"]["Authorization"], "Bearer $HOOKLINE_TOKEN");
            assert_eq!(h["allowedEnvVars"], json!(["HOOKLINE_TOKEN"]));
        }
    }
    // Switching back to command hooks replaces them all.
    sb.run(&["install", "--command", "/x/hookline-hook"], b"")?;
    assert!(
        ours(&settings(&sb)?)
            .iter()
            .all(|(_, h)| h["type"] == "command")
    );
    Ok(())
}

#[test]
fn install_project_and_dry_run() -> TestResult {
    let sb = Sandbox::new(None)?;
    let project = sb.root().join("proj");
    std::fs::create_dir_all(&project)?;
    let p = project.to_string_lossy().into_owned();
    let out = sb.run(
        &[
            "install",
            "--project",
            "--project-dir",
            &p,
            "--dry-run",
            "--command",
            "/x/hookline-hook",
        ],
        b"",
    )?;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("\"SessionEnd\""));
    assert!(
        !project.join(".claude/settings.json").exists(),
        "a dry run writes nothing"
    );
    sb.run(
        &[
            "install",
            "--project",
            "--project-dir",
            &p,
            "--command",
            "/x/hookline-hook",
        ],
        b"",
    )?;
    let s: Value = serde_json::from_slice(&std::fs::read(project.join(".claude/settings.json"))?)?;
    assert_eq!(ours(&s).len(), 27);
    assert!(
        !sb.root().join("home/.claude/settings.json").exists(),
        "the user's file is untouched"
    );
    Ok(())
}

/// `install --mcp` registers `hookline mcp` as `claude mcp add` writes it
/// (cli/tests/real_client/mcp.rs compares with the real CLI): in
/// ~/.claude.json, keeping what Claude Code keeps there, private when
/// new; in .mcp.json with `--scope project`. Uninstall removes it.
#[test]
fn install_mcp_registers_the_server_and_uninstall_removes_it() -> TestResult {
    let sb = Sandbox::new(None)?;
    let home = sb.root().join("home");
    std::fs::create_dir_all(&home)?;
    let theirs = home.join(".claude.json");
    std::fs::write(
        &theirs,
        r#"{"numStartups": 3, "mcpServers": {"other": {"type": "stdio", "command": "o", "args": [], "env": {}}}}"#,
    )?;
    let args = [
        "install",
        "--mcp",
        "--mcp-command",
        "/x/hookline",
        "--command",
        "/x/hookline-hook",
    ];
    let out = sb.run(&args, b"")?;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains(".claude.json (server \"hookline\")"),
        "{}",
        out.stdout
    );
    let c: Value = serde_json::from_slice(&std::fs::read(&theirs)?)?;
    assert_eq!(c["numStartups"], 3);
    assert_eq!(c["mcpServers"]["other"]["command"], "o");
    assert_eq!(
        c["mcpServers"]["hookline"],
        json!({"type": "stdio", "command": "/x/hookline", "args": ["mcp"], "env": {}})
    );
    // Again: one entry, the same.
    sb.run(&args, b"")?;
    let again: Value = serde_json::from_slice(&std::fs::read(&theirs)?)?;
    assert_eq!(again, c);
    assert_eq!(
        ours(&settings(&sb)?).len(),
        27,
        "the hooks are installed too"
    );

    let out = sb.run(&["uninstall"], b"")?;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("removed the MCP server hookline"),
        "{}",
        out.stdout
    );
    let c: Value = serde_json::from_slice(&std::fs::read(&theirs)?)?;
    assert_eq!(
        c["mcpServers"],
        json!({"other": {"type": "stdio", "command": "o", "args": [], "env": {}}})
    );

    // Project scope, with arguments for `hookline mcp`; a new file.
    let project = sb.root().join("proj");
    std::fs::create_dir_all(&project)?;
    let p = project.to_string_lossy().into_owned();
    let out = sb.run(
        &[
            "install",
            "--mcp",
            "--scope",
            "project",
            "--project-dir",
            &p,
            "--mcp-command",
            "/x/hookline",
            "--mcp-arg",
            "--database-url",
            "--mcp-arg",
            "postgres://db/h",
            "--command",
            "/x/hookline-hook",
        ],
        b"",
    )?;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let m: Value = serde_json::from_slice(&std::fs::read(project.join(".mcp.json"))?)?;
    assert_eq!(
        m,
        json!({"mcpServers": {"hookline": {"type": "stdio", "command": "/x/hookline",
            "args": ["mcp", "--database-url", "postgres://db/h"], "env": {}}}})
    );
    assert!(project.join(".claude/settings.json").exists());
    sb.run(
        &["uninstall", "--scope", "project", "--project-dir", &p],
        b"",
    )?;
    let m: Value = serde_json::from_slice(&std::fs::read(project.join(".mcp.json"))?)?;
    assert_eq!(m, json!({"mcpServers": {}}));
    Ok(())
}
