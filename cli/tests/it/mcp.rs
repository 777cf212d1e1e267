//! `hookline mcp` as an MCP client meets it: the SDK's own client (rmcp)
//! over a child process `hookline mcp`, on SQLite and on Postgres, with a
//! conversation captured through the real path (`hookline serve`, events
//! POSTed to it, its worker writing), and `--remote` against that serve
//! (its read API), a wrong token refused.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::hookline;
use hookline_test_support::cli::Serve;
use hookline_test_support::db::PgDatabase;

const SESSION: &str = "3c9a11d0-0000-4000-8000-00000000aa01";

type Client = RunningService<RoleClient, ()>;

/// `hookline mcp ARGS` with `env`, connected and initialized; its stderr
/// (the log) discarded.
async fn connect(args: &[&str], env: &[(&str, String)]) -> anyhow::Result<Client> {
    let mut cmd = hookline().command(["mcp"]);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let (transport, _) = TokioChildProcess::builder(tokio::process::Command::from(cmd))
        .stderr(Stdio::null())
        .spawn()?;
    Ok(().serve(transport).await?)
}

/// The text of a tool's answer, and whether it is an error.
async fn call(c: &Client, tool: &'static str, args: Value) -> anyhow::Result<(String, bool)> {
    let Value::Object(args) = args else {
        anyhow::bail!("arguments must be an object");
    };
    let r = c
        .call_tool(CallToolRequestParams::new(tool).with_arguments(args))
        .await?;
    let v = serde_json::to_value(&r)?;
    let text = v["content"][0]["text"]
        .as_str()
        .with_context(|| format!("no text in {v}"))?
        .to_owned();
    Ok((text, r.is_error == Some(true)))
}

/// Posts `events` to serve's ingest, each answered 202 (request ids
/// `{prefix}-N`).
async fn post(
    http: &reqwest::Client,
    serve: &Serve,
    token: &str,
    prefix: &str,
    events: &[Value],
) -> anyhow::Result<()> {
    for (n, e) in events.iter().enumerate() {
        let r = http
            .post(format!("{}/v1/events", serve.addr))
            .bearer_auth(token)
            .header("x-request-id", format!("{prefix}-{n}"))
            .json(e)
            .send()
            .await?;
        anyhow::ensure!(r.status() == 202, "POST: {}", r.status());
    }
    Ok(())
}

/// Captures the conversation through `serve` and waits until its worker
/// wrote it (the read API finds all four hits).
async fn capture(serve: &Serve) -> anyhow::Result<String> {
    let token = serve.token()?;
    let http = reqwest::Client::new();
    let events = hookline_test_support::events::conversation(SESSION, "/work/zoo");
    post(&http, serve, &token, "mcp", &events).await?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page: Value = http
            .get(format!("{}/v1/read/search", serve.addr))
            .query(&[("query", "walrus*")])
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        if page["hits"].as_array().map_or(0, Vec::len) == 4 {
            return Ok(token);
        }
        anyhow::ensure!(Instant::now() < deadline, "not captured: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What every mode must answer: the four tools, each called, and a bad
/// argument named.
async fn check_tools(c: &Client) -> anyhow::Result<()> {
    let mut names: Vec<String> = c
        .list_all_tools()
        .await?
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["get_session", "recent_sessions", "search_history", "usage"]
    );

    let (text, err) = call(
        c,
        "search_history",
        json!({"query": "walrus", "kind": "prompt"}),
    )
    .await?;
    assert!(!err, "{text}");
    assert!(text.starts_with("1 hits for \"walrus\""), "{text}");
    assert!(text.contains(SESSION), "{text}");
    assert!(text.contains("deploy the **walrus** service"), "{text}");

    // A page of one names the offset of the next.
    let (text, _) = call(c, "search_history", json!({"query": "walrus*", "limit": 1})).await?;
    assert!(
        text.contains("call search_history again with offset=1"),
        "{text}"
    );

    let (text, err) = call(c, "get_session", json!({"id": &SESSION[..13]})).await?;
    assert!(!err, "{text}");
    assert!(text.starts_with(&format!("Session {SESSION}")), "{text}");
    assert!(text.contains("deploy the walrus service"), "{text}");
    assert!(text.contains("tool Bash [succeeded"), "{text}");
    assert!(text.contains("walrus_config = 1"), "{text}");
    assert!(text.contains("The walrus is deployed."), "{text}");

    let (text, err) = call(c, "recent_sessions", json!({})).await?;
    assert!(!err, "{text}");
    assert!(text.starts_with("1 sessions, newest first"), "{text}");
    assert!(
        text.contains(SESSION) && text.contains("cwd /work/zoo"),
        "{text}"
    );

    let (text, err) = call(c, "usage", json!({"view": "session"})).await?;
    assert!(!err, "{text}");
    assert!(text.contains(r#""period":"session""#), "{text}");

    // Bad arguments: which one, and why.
    let (text, err) = call(
        c,
        "search_history",
        json!({"query": "walrus", "kind": "file"}),
    )
    .await?;
    assert!(err);
    assert!(
        text.starts_with("argument `kind`: \"file\" is not one of"),
        "{text}"
    );
    let (text, err) = call(c, "usage", json!({"since": "yesterday"})).await?;
    assert!(err);
    assert!(text.starts_with("argument `since`:"), "{text}");
    let (text, err) = call(c, "get_session", json!({"id": "ffffffff"})).await?;
    assert!(err);
    assert!(
        text.starts_with("argument `id`: no session \"ffffffff\""),
        "{text}"
    );
    let (text, err) = call(c, "recent_sessions", json!({"limit": 1000})).await?;
    assert!(err);
    assert!(
        text.starts_with("argument `limit`: 1000 is not between 1 and 100"),
        "{text}"
    );
    Ok(())
}

/// A session of 40 prompts of 1,000 characters and one of 30,000: the
/// answers of `get_session` are at most 20,000 bytes, each names the step
/// the next starts at, and following them shows every step once; the
/// step larger than an answer is cut and says so.
async fn bounded(serve: &Serve, token: &str, db_url: &str) -> anyhow::Result<()> {
    const LONG: &str = "3c9a11d0-0000-4000-8000-00000000aa02";
    let http = reqwest::Client::new();
    let mut events = vec![hookline_test_support::events::event(LONG, "SessionStart")];
    for i in 0..40 {
        let text = format!("prompt{i:02} {}", "lorem ".repeat(165));
        events.push(hookline_test_support::events::prompt(LONG, &text));
    }
    let huge = format!("hugeprompt {}", "ipsum ".repeat(5_000));
    events.push(hookline_test_support::events::prompt(LONG, &huge));
    post(&http, serve, token, "mcp-long", &events).await?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v: Value = http
            .get(format!("{}/v1/read/sessions/{LONG}", serve.addr))
            .bearer_auth(token)
            .send()
            .await?
            .json()
            .await?;
        if v["steps"].as_array().map_or(0, Vec::len) == 41 {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "not captured: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let c = connect(&[], &[("DATABASE_URL", db_url.to_owned())]).await?;
    let mut offset = 0;
    let mut seen = Vec::new();
    let mut parts = 0;
    loop {
        let (text, err) = call(&c, "get_session", json!({"id": LONG, "offset": offset})).await?;
        assert!(!err, "{text}");
        assert!(text.len() <= 20_000, "{} bytes", text.len());
        parts += 1;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("[step ") {
                seen.push(rest.split(']').next().unwrap_or("").parse::<usize>()?);
            }
        }
        let Some(next) = text
            .split(&format!("call get_session with id={LONG:?} offset="))
            .nth(1)
        else {
            break;
        };
        offset = next.split(' ').next().unwrap_or("").parse()?;
        anyhow::ensure!(parts < 10, "no end: {text}");
        if offset == 40 {
            let (last, _) = call(&c, "get_session", json!({"id": LONG, "offset": 40})).await?;
            assert!(last.len() <= 20_000, "{} bytes", last.len());
            assert!(last.contains("hugeprompt ipsum"), "{last}");
            assert!(
                last.contains(&format!(
                    "… (this step is cut at the answer's limit; `hookline sessions show {LONG} --json` shows it whole)"
                )),
                "{last}"
            );
            seen.push(40);
            break;
        }
    }
    assert!(parts >= 3, "40,000 bytes of prompts in {parts} answers");
    assert_eq!(seen, (0..41).collect::<Vec<_>>());
    let (text, err) = call(&c, "get_session", json!({"id": LONG, "offset": 42})).await?;
    assert!(err);
    assert!(text.starts_with("argument `offset`: 42 is past"), "{text}");
    c.cancel().await?;
    Ok(())
}

#[tokio::test]
async fn mcp_tools_on_sqlite_and_remote_through_serves_read_api() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let serve = hookline().serve(dir.path())?.start()?;
    let token = capture(&serve).await?;

    let url = format!("sqlite://{}", dir.path().join("hookline.db").display());
    let local = connect(&[], &[("DATABASE_URL", url.clone())]).await?;
    check_tools(&local).await?;
    local.cancel().await?;

    let remote = connect(&["--remote", &serve.addr, "--token", &token], &[]).await?;
    check_tools(&remote).await?;
    remote.cancel().await?;

    // A long session comes in parts of at most 20,000 bytes.
    bounded(&serve, &token, &url).await?;

    // A wrong token: the server refuses it and the tool says so.
    let wrong = connect(&["--remote", &serve.addr, "--token", "not-a-token"], &[]).await?;
    let (text, err) = call(&wrong, "recent_sessions", json!({})).await?;
    assert!(err);
    assert!(text.contains("refused the token (401)"), "{text}");
    wrong.cancel().await?;

    // The read API itself: no token, a bad argument.
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{}/v1/read/sessions", serve.addr))
        .send()
        .await?;
    assert_eq!(r.status(), 401);
    let r = http
        .get(format!("{}/v1/read/search", serve.addr))
        .query(&[("query", "walrus"), ("kind", "file")])
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await?;
    assert_eq!(body["error"]["field"], "kind", "{body}");
    let r = http
        .get(format!("{}/v1/read/sessions/ffffffff", serve.addr))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(r.status(), 404);
    let r = http
        .post(format!("{}/v1/read/sessions", serve.addr))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(r.status(), 405);
    let body: Value = r.json().await?;
    assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
    Ok(())
}

#[tokio::test]
async fn mcp_tools_on_postgres() -> anyhow::Result<()> {
    let db = PgDatabase::create().await?;
    let dir = tempfile::tempdir()?;
    let serve = hookline()
        .serve(dir.path())?
        .database_url(Some(&db.url()))
        .start()?;
    capture(&serve).await?;
    let c = connect(&[], &[("DATABASE_URL", db.url())]).await?;
    check_tools(&c).await?;
    c.cancel().await?;
    drop(serve);
    db.drop_database().await
}

/// The MCP Inspector's CLI (tests/mcp-inspector, npm ci by its install
/// script), or `None` outside CI when it is not installed.
fn inspector() -> anyhow::Result<Option<std::path::PathBuf>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/mcp-inspector");
    if dir.join("node_modules/.bin/mcp-inspector").is_file() {
        return Ok(Some(dir));
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    anyhow::ensure!(
        !ci,
        "the MCP Inspector is not installed: run tests/mcp-inspector/install"
    );
    eprintln!("SKIPPED: the MCP Inspector is not installed; run tests/mcp-inspector/install");
    Ok(None)
}

/// `npx mcp-inspector --cli hookline mcp --database-url URL ARGS`.
fn inspect_output(
    dir: &std::path::Path,
    home: &std::path::Path,
    url: &str,
    args: &[&str],
) -> anyhow::Result<std::process::Output> {
    Ok(std::process::Command::new("npx")
        .current_dir(dir)
        .env("HOME", home)
        .env("npm_config_update_notifier", "false")
        .args(["--no-install", "mcp-inspector", "--cli"])
        .arg(hookline().bin())
        .args(["mcp", "--database-url", url])
        .args(args)
        .stdin(Stdio::null())
        .output()?)
}

/// [`inspect_output`]'s JSON answer, when it succeeded.
fn inspect(
    dir: &std::path::Path,
    home: &std::path::Path,
    url: &str,
    args: &[&str],
) -> anyhow::Result<Value> {
    let out = inspect_output(dir, home, url, args)?;
    anyhow::ensure!(
        out.status.success(),
        "mcp-inspector {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .with_context(|| format!("not JSON: {}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test]
async fn the_mcp_inspector_lists_and_calls_the_tools() -> anyhow::Result<()> {
    let Some(npm) = inspector()? else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let serve = hookline().serve(dir.path())?.start()?;
    capture(&serve).await?;
    let url = format!("sqlite://{}", dir.path().join("hookline.db").display());
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home)?;

    let list = inspect(&npm, &home, &url, &["--method", "tools/list"])?;
    let mut names: Vec<&str> = list["tools"]
        .as_array()
        .context("tools")?
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["get_session", "recent_sessions", "search_history", "usage"]
    );
    let search = list["tools"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == "search_history"))
        .context("search_history")?;
    assert_eq!(search["inputSchema"]["required"], json!(["query"]));

    let call = inspect(
        &npm,
        &home,
        &url,
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "search_history",
            "--tool-arg",
            "query=walrus_config",
            "--tool-arg",
            "limit=5",
        ],
    )?;
    assert_eq!(call["isError"], false, "{call}");
    let text = call["content"][0]["text"].as_str().context("text")?;
    assert!(text.starts_with("2 hits for \"walrus_config\""), "{text}");
    assert!(text.contains(&format!("session {SESSION}")), "{text}");
    assert!(text.contains("tool_result Bash"), "{text}");
    assert!(text.contains("let **walrus**_**config** = 1"), "{text}");

    // A tool error: the Inspector fails and says the tool returned one.
    let bad = inspect_output(
        &npm,
        &home,
        &url,
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "usage",
            "--tool-arg",
            "view=yearly",
        ],
    )?;
    assert!(!bad.status.success());
    let said = String::from_utf8_lossy(&bad.stderr);
    assert!(said.contains(r#""code":"tool_is_error""#), "{said}");
    Ok(())
}
