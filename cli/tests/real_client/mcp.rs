//! `hookline mcp` with the real Claude Code: `hookline-hook install --mcp`
//! writes what `claude mcp add` writes (user and project scope), `claude
//! mcp get` / `list` show it (connected: Claude Code started the server),
//! uninstall removes it; and Claude Code, its scripted model calling
//! `mcp__hookline__search_history`, gets the session an earlier run
//! captured in the tool's result, as its transcript records.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::LATEST;
use crate::harness::{Home, Hooked, claude, claude_binary};
use crate::hookline;

/// `claude ARGS` (not `-p`: `mcp …`) in `home`, from `dir`.
fn claude_cmd(bin: &Path, home: &Home, dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let mut cmd = Command::new(bin);
    home.env(&mut cmd);
    let out = cmd
        .current_dir(dir)
        .env("DISABLE_TELEMETRY", "1")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    anyhow::ensure!(out.status.success(), "claude {args:?}: {text}");
    Ok(text)
}

/// `hookline-hook ARGS` in `home`.
fn hook(home: &Home, args: &[&str]) -> anyhow::Result<String> {
    let mut cmd = Command::new(hookline().hook()?);
    home.env(&mut cmd);
    let out = cmd
        .current_dir(&home.work)
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "hookline-hook {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn json_file(p: &Path) -> anyhow::Result<Value> {
    Ok(serde_json::from_slice(&std::fs::read(p)?)?)
}

#[test]
fn install_mcp_writes_what_claude_mcp_add_writes() -> anyhow::Result<()> {
    let Some(bin) = claude_binary(LATEST)? else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let theirs = Home::new(&dir.path().join("theirs"))?;
    let ours = Home::new(&dir.path().join("ours"))?;
    let program = hookline().bin().canonicalize()?;
    let program = program.to_string_lossy();

    // User scope: ~/.claude.json.
    claude_cmd(
        &bin,
        &theirs,
        &theirs.work,
        &[
            "mcp", "add", "--scope", "user", "hookline", "--", &program, "mcp",
        ],
    )?;
    let printed = hook(&ours, &["install", "--mcp", "--mcp-command", &program])?;
    assert!(
        printed.contains(".claude.json (server \"hookline\")"),
        "{printed}"
    );
    let want = json_file(&theirs.home.join(".claude.json"))?["mcpServers"].clone();
    let got = json_file(&ours.home.join(".claude.json"))?["mcpServers"].clone();
    assert_eq!(got, want);
    assert_eq!(
        want["hookline"],
        json!({"type": "stdio", "command": program, "args": ["mcp"], "env": {}})
    );
    // Claude Code reads it back, starts the server and connects.
    let shown = claude_cmd(&bin, &ours, &ours.work, &["mcp", "get", "hookline"])?;
    assert!(shown.contains("Scope: User config"), "{shown}");
    assert!(shown.contains("Connected"), "{shown}");
    assert!(shown.contains(&format!("Command: {program}")), "{shown}");
    assert!(shown.contains("Args: mcp"), "{shown}");
    let listed = claude_cmd(&bin, &ours, &ours.work, &["mcp", "list"])?;
    assert!(
        listed.contains(&format!("hookline: {program} mcp - ✔ Connected")),
        "{listed}"
    );

    // Project scope: .mcp.json in the project.
    claude_cmd(
        &bin,
        &theirs,
        &theirs.work,
        &[
            "mcp", "add", "--scope", "project", "hookline", "--", &program, "mcp",
        ],
    )?;
    let work = ours.work.to_string_lossy().into_owned();
    hook(
        &ours,
        &[
            "install",
            "--mcp",
            "--scope",
            "project",
            "--project-dir",
            &work,
            "--mcp-command",
            &program,
        ],
    )?;
    assert_eq!(
        json_file(&ours.work.join(".mcp.json"))?,
        json_file(&theirs.work.join(".mcp.json"))?
    );
    // Both scopes now: remove the user's to see the project's.
    hook(&ours, &["uninstall"])?;
    let shown = claude_cmd(&bin, &ours, &ours.work, &["mcp", "get", "hookline"])?;
    assert!(shown.contains("Scope: Project config"), "{shown}");
    assert!(shown.contains(&format!("Command: {program}")), "{shown}");

    hook(
        &ours,
        &["uninstall", "--scope", "project", "--project-dir", &work],
    )?;
    let listed = claude_cmd(&bin, &ours, &ours.work, &["mcp", "list"])?;
    assert!(!listed.contains("hookline"), "{listed}");
    Ok(())
}

#[test]
fn claude_code_calls_search_history_and_gets_the_captured_session() -> anyhow::Result<()> {
    let Some(bin) = claude_binary(LATEST)? else {
        return Ok(());
    };
    let started = Instant::now();
    let dir = tempfile::tempdir()?;
    let hooked = Hooked::new(dir.path(), false)?;
    let scripts = dir.path().join("scripts");
    let first = uuid::Uuid::new_v4().to_string();

    // 1. A session captured through the hooks and serve.
    let run = claude(
        &bin,
        &hooked.home,
        &scripts,
        "m1",
        "the narwhal migration runs on friday",
        &["--session-id".into(), first.clone()],
        &json!({"replies": [{"blocks": [{"type": "text", "text": "Noted: friday."}],
                              "usage": {"input_tokens": 10, "output_tokens": 4}}]}),
    )?;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = hookline().run(
            &[("DATABASE_URL", hooked.db_url())],
            &["search", "narwhal", "--kind", "prompt", "--json"],
        )?;
        if found.contains(&first) {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "not captured: {found}");
        std::thread::sleep(Duration::from_millis(250));
    }

    // 2. hookline mcp registered for Claude Code, on serve's store.
    let program = hookline().bin().canonicalize()?;
    let url = hooked.db_url();
    hook(
        &hooked.home,
        &[
            "install",
            "--mcp",
            "--mcp-command",
            &program.to_string_lossy(),
            "--mcp-arg",
            "--database-url",
            "--mcp-arg",
            &url,
        ],
    )?;

    // 3. The model asks the tool; Claude Code runs it and sends the result.
    let second = uuid::Uuid::new_v4().to_string();
    let run = claude(
        &bin,
        &hooked.home,
        &scripts,
        "m2",
        "when does the narwhal migration run?",
        &["--session-id".into(), second.clone()],
        &json!({"replies": [
            {"blocks": [{"type": "text", "text": "Let me look in the history."},
                        {"type": "tool_use", "name": "mcp__hookline__search_history",
                         "input": {"query": "narwhal friday", "kind": "prompt"}}],
             "usage": {"input_tokens": 20, "output_tokens": 8}},
            {"blocks": [{"type": "text", "text": "On friday."}],
             "usage": {"input_tokens": 30, "output_tokens": 3}}]}),
    )?;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("On friday."), "{}", run.stdout);

    // What Claude Code wrote: the tool call and the result it got.
    let truth = crate::truth::read(&hooked.home.home.join(".claude/projects"))?;
    let s = truth
        .get(&second)
        .ok_or_else(|| anyhow::anyhow!("no transcript of {second}"))?;
    let call = s
        .tools
        .values()
        .find(|t| t.name == "mcp__hookline__search_history")
        .ok_or_else(|| anyhow::anyhow!("no search_history call: {:?}", s.tools))?;
    assert_eq!(
        call.input,
        json!({"query": "narwhal friday", "kind": "prompt"})
    );
    let result = call
        .result
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("no tool_result"))?
        .to_string();
    assert!(!result.contains("\"is_error\":true"), "{result}");
    // Not this session's own prompt (captured by now too): no "friday".
    assert!(
        result.contains("1 hits for \\\"narwhal friday\\\""),
        "{result}"
    );
    assert!(result.contains(&format!("session {first}")), "{result}");
    assert!(
        result.contains("the **narwhal** migration runs on **friday**"),
        "{result}"
    );
    eprintln!("mcp scenario: {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
