//! `hookline mcp` with the real Claude Code: `hookline-hook install --mcp`
//! writes what `claude mcp add` writes (user and project scope), `claude
//! mcp get` / `list` show it (connected: Claude Code started the server),
//! uninstall removes it.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::LATEST;
use crate::harness::{Home, claude_binary};
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
