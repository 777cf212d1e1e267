//! `hookline serve` as a user runs it: a temp data dir, no services; in
//! this process through `serve::run`, and as the real binary where the
//! process matters (first start, SIGTERM, kill -9). Accepted events are on
//! disk before the 202 and survive kill -9.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hookline_cli::cmd::serve;
use hookline_cli::config::{QueueArgs, StoreArgs};
use hookline_test_support::cli::{Hookline, Serve};
use hookline_test_support::process::free_port;
use hookline_test_support::serve::InProcess;
use serde_json::{Value, json};

use crate::hookline;

/// Starts serve on `dir` (`--visibility-timeout 2`); waits until it listens.
fn start(dir: &Path) -> anyhow::Result<Serve> {
    hookline()
        .serve(dir)?
        .arg("--visibility-timeout")
        .arg("2")
        .start()
}

fn event(session: &str, kind: &str, i: usize) -> Value {
    let mut e = json!({"session_id": session, "transcript_path": "/t.jsonl", "cwd": "/w", "hook_event_name": kind});
    match kind {
        "UserPromptSubmit" => e["prompt"] = json!(format!("prompt {i}")),
        "SessionStart" => e["source"] = json!("startup"),
        _ => {}
    }
    e
}

/// `hookline ARGS` on the SQLite store of serve's data dir `dir`.
fn sessions(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let url = format!("sqlite://{}", dir.join("hookline.db").display());
    hookline().run(&[("DATABASE_URL", url)], args)
}

/// `hookline serve`'s configuration for `dir`, as the flags would give it.
pub(crate) fn in_process_opts(dir: &Path, tokens: &str) -> serve::Opts {
    serve::Opts {
        listen: ([127, 0, 0, 1], 0).into(),
        store: StoreArgs {
            data_dir: Some(dir.to_owned()),
            database_url: None,
        },
        queue: QueueArgs {
            visibility_timeout: 2,
            ..QueueArgs::default()
        },
        tokens: Some(tokens.to_owned()),
        max_body: hookline_core::http::DEFAULT_MAX_BODY,
        body_timeout: 30,
        log_files: Vec::new(),
        no_dashboard: false,
        sign_in: hookline_cli::config::SignInArgs::default(),
        retention_days: None,
        retention_interval: 3600,
        token_cache_secs: 30,
        batch_size: 10,
    }
}

/// `serve::run` in this process (port 0, shutdown by a channel): what the
/// binary runs, without a process.
#[tokio::test]
async fn an_event_posted_to_serve_is_shown_by_sessions_show() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let token = "hl_in_process_test_token";
    let tokens = format!("tester:{}", hookline_core::http::hash_hex(token));
    let opts = in_process_opts(dir.path(), &tokens);
    let server =
        InProcess::start(|listener, shutdown| serve::run(opts, listener, shutdown)).await?;
    let addr = server.addr.clone();

    let http = reqwest::Client::new();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/events");
    for kind in [
        "SessionStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "Stop",
        "SessionEnd",
    ] {
        let body = std::fs::read_to_string(fixtures.join(format!("{kind}.json")))?;
        let r = http
            .post(format!("{addr}/v1/events"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        assert_eq!(r.status().as_u16(), 202, "{kind}");
    }
    let unauthorized = http
        .post(format!("{addr}/v1/events"))
        .body("{}")
        .send()
        .await?;
    assert_eq!(unauthorized.status().as_u16(), 401);

    let deadline = Instant::now() + Duration::from_secs(20);
    let shown = loop {
        let out = sessions(dir.path(), &["sessions", "show", "00893aaf"]);
        match out {
            Ok(text)
                if text.contains("I've completed the refactoring")
                    && text.contains("tool Bash") =>
            {
                break text;
            }
            _ if Instant::now() > deadline => anyhow::bail!("session not shown in time: {out:?}"),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    assert!(
        shown.contains("Write a function to calculate the factorial of a number"),
        "{shown}"
    );
    let list = sessions(dir.path(), &["sessions", "list", "--json"])?;
    let list: Value = serde_json::from_str(&list)?;
    assert_eq!(list.as_array().map(Vec::len), Some(1));

    // Shutdown: stops accepting, finishes, returns Ok.
    server.stop().await?;
    assert!(
        http.get(format!("{addr}/health")).send().await.is_err(),
        "the listener is closed after shutdown"
    );
    Ok(())
}

/// First start without tokens: the printed token works and only its hash
/// is on disk.
#[tokio::test]
async fn the_first_start_token_is_accepted_and_only_its_hash_is_stored() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut serve = start(dir.path())?;
    let token = serve.token()?;
    let tokens_file = std::fs::read_to_string(dir.path().join("tokens"))?;
    assert!(!tokens_file.contains(&token), "only the hash is stored");
    let body = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/events/SessionStart.json"),
    )?;
    let r = reqwest::Client::new()
        .post(format!("{}/v1/events", serve.addr))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 202);
    // SIGTERM: stops accepting, finishes, exits 0.
    let status = serve.terminate()?;
    assert!(status.success(), "graceful exit: {status:?}");
    Ok(())
}

#[tokio::test]
async fn kill_9_during_a_burst_loses_nothing_and_duplicates_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut serve = start(dir.path())?;
    let token = serve.token()?;
    let (addr, port) = (serve.addr.clone(), serve.port);

    // 8 senders post events until the server dies; every 202 is recorded.
    let mut tasks = Vec::new();
    for w in 0..8 {
        let (addr, token) = (addr.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(2))
                .build()?;
            let mut accepted = Vec::new();
            for i in 0..10_000 {
                let id = format!("burst-{w}-{i}");
                let body = event(
                    &format!("sess-{w}"),
                    if i == 0 {
                        "SessionStart"
                    } else {
                        "UserPromptSubmit"
                    },
                    i,
                );
                let r = http
                    .post(format!("{addr}/v1/events"))
                    .bearer_auth(&token)
                    .header("x-request-id", &id)
                    .json(&body)
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().as_u16() == 202 => accepted.push(id),
                    _ => break,
                }
            }
            anyhow::Ok(accepted)
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    serve.kill_9()?;
    let mut accepted = Vec::new();
    for t in tasks {
        accepted.extend(t.await??);
    }
    assert!(
        accepted.len() > 50,
        "the burst was under way: {}",
        accepted.len()
    );

    // Restart on the same data dir: every accepted event ends SUCCESS, once.
    let mut again = hookline()
        .serve(dir.path())?
        .port(port)
        .arg("--visibility-timeout")
        .arg("2")
        .start()?;
    let db = dir.path().join("hookline.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done: i64 =
            sqlx::query_scalar("SELECT count(*) FROM webhook_events WHERE status = 'SUCCESS'")
                .fetch_one(&pool)
                .await?;
        if done as usize >= accepted.len() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for id in &accepted {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM webhook_events WHERE request_id = ?1 AND status = 'SUCCESS'",
        )
        .bind(id)
        .fetch_one(&pool)
        .await?;
        assert_eq!(n, 1, "{id} stored exactly once");
    }
    let prompts: i64 = sqlx::query_scalar("SELECT count(*) FROM messages WHERE source = 'hook'")
        .fetch_one(&pool)
        .await?;
    let accepted_prompts = accepted.iter().filter(|id| !id.ends_with("-0")).count() as i64;
    assert!(
        prompts >= accepted_prompts,
        "every accepted prompt is a message: {prompts} < {accepted_prompts}"
    );
    let dup: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT message_key FROM messages GROUP BY session_id, message_key HAVING count(*) > 1)",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!(dup, 0);
    again.terminate()?;
    Ok(())
}

#[test]
fn serve_refuses_to_listen_beyond_loopback_without_a_token() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let out = hookline()
        .command(["serve", "--listen", &format!("0.0.0.0:{}", free_port()?)])
        .env("HOOKLINE_DATA_DIR", dir.path())
        .stdin(Stdio::null())
        .output()?;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refusing to listen on 0.0.0.0"), "{stderr}");
    assert!(!dir.path().join("tokens").exists(), "no token was made");
    Ok(())
}

/// Copies the hookline binary (and the hook beside it when `with_hook`) into
/// a fresh bin dir, starts serve from there on a fresh data dir and returns
/// serve's first-start message (up to "listening on").
fn first_start_message(with_hook: bool) -> anyhow::Result<(tempfile::TempDir, String)> {
    let dir = tempfile::tempdir()?;
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin)?;
    std::fs::copy(env!("CARGO_BIN_EXE_hookline"), bin.join("hookline"))?;
    if with_hook {
        std::fs::copy(hookline().hook()?, bin.join("hookline-hook"))?;
    }
    // A PATH without any hookline-hook: only what lies beside serve counts.
    let serve = Hookline::new(bin.join("hookline"))
        .serve(&dir.path().join("data"))?
        .env("PATH", "/usr/bin:/bin")
        .start()?;
    Ok((dir, serve.startup.clone()))
}

#[test]
fn first_start_prints_an_install_line_for_the_hook_beside_serve_that_works_as_pasted()
-> anyhow::Result<()> {
    let (dir, message) = first_start_message(true)?;
    let hook = std::fs::canonicalize(dir.path().join("bin/hookline-hook"))?;
    let line = message
        .lines()
        .map(str::trim)
        .find(|l| l.contains(" install --user --url "))
        .ok_or_else(|| anyhow::anyhow!("no install line in:\n{message}"))?;
    assert!(
        line.starts_with(&format!("{} install", hook.display())),
        "the line names the hook beside serve by its absolute path: {line}"
    );
    // Pasted into a shell as printed, in a fresh HOME: Claude Code's settings
    // get the hook, the config file the URL and token.
    let home = dir.path().join("home");
    std::fs::create_dir(&home)?;
    let out = Command::new("sh")
        .args(["-c", line])
        .env("HOME", &home)
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("HOOKLINE_CONFIG")
        .output()?;
    assert!(
        out.status.success(),
        "the pasted line failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let settings = std::fs::read_to_string(home.join(".claude/settings.json"))?;
    assert!(settings.contains(&hook.display().to_string()), "{settings}");
    let config = std::fs::read_to_string(home.join(".config/hookline/config.toml"))?;
    assert!(config.contains("http://127.0.0.1:"), "{config}");
    Ok(())
}

#[test]
fn first_start_without_a_hook_says_how_to_install_it() -> anyhow::Result<()> {
    let (_dir, message) = first_start_message(false)?;
    assert!(
        message.contains("cargo install --locked --path hook"),
        "{message}"
    );
    assert!(
        message.contains("hookline-hook install --user --url http://127.0.0.1:"),
        "{message}"
    );
    Ok(())
}

/// `hookline-hook doctor` against a real `hookline serve`: its test event
/// leaves one audit row and no session (it showed up in `sessions list` as
/// an open session `hookline-doctor-…`). A SubagentStop of Claude Code
/// before 2.0.42 (no `agent_id`) is accepted (202) and stored, not lost.
#[tokio::test]
async fn doctor_leaves_no_session_and_an_old_subagent_stop_is_stored() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let serve = start(dir.path())?;
    let token = serve.token()?;
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home)?;
    let hook = |args: &[&str]| -> anyhow::Result<std::process::Output> {
        Ok(Command::new(hookline().hook()?)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("HOOKLINE_CONFIG", dir.path().join("hook.toml"))
            .env("HOOKLINE_SPOOL_DIR", dir.path().join("spool"))
            .env("HOOKLINE_LOG_DIR", dir.path().join("log"))
            .env("HOOKLINE_URL", &serve.addr)
            .env("HOOKLINE_TOKEN", &token)
            .output()?)
    };
    let installed = hook(&["install"])?;
    anyhow::ensure!(installed.status.success(), "{installed:?}");
    let doctor = hook(&["doctor"])?;
    let report = String::from_utf8_lossy(&doctor.stdout);
    assert!(doctor.status.success(), "{report}");
    assert!(report.contains("test event accepted"), "{report}");

    let old = json!({"session_id": "0b1d5e55-0000-4000-8000-000000000042", "transcript_path": "/t.jsonl",
        "cwd": "/w", "hook_event_name": "SubagentStop", "stop_hook_active": false});
    let r = reqwest::Client::new()
        .post(format!("{}/v1/events", serve.addr))
        .bearer_auth(&token)
        .json(&old)
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 202, "{}", r.text().await?);

    let db = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.path().join("hookline.db").display()
    ))
    .await?;
    let deadline = Instant::now() + Duration::from_secs(20);
    let rows: Vec<(String, String)> = loop {
        let rows = sqlx::query_as(
            "SELECT event_type, status FROM webhook_events WHERE status = 'SUCCESS' ORDER BY event_type",
        )
        .fetch_all(&db)
        .await?;
        if rows.len() >= 2 || Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        rows,
        [
            ("HooklineDoctor".to_owned(), "SUCCESS".to_owned()),
            ("SubagentStop".to_owned(), "SUCCESS".to_owned())
        ]
    );
    let list: Value =
        serde_json::from_str(&sessions(dir.path(), &["sessions", "list", "--json"])?)?;
    let ids: Vec<&str> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["session_id"].as_str())
        .collect();
    assert_eq!(
        ids,
        ["0b1d5e55-0000-4000-8000-000000000042"],
        "the doctor's probe is no session: {list}"
    );
    Ok(())
}
