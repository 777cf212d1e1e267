//! `hookline search` and the dashboard's Search page as a user meets
//! them: the real `hookline serve` binary on a temp data dir (SQLite,
//! embedded queue), events POSTed to it, then the real `hookline search`
//! (JSON, the table, filters, a phrase, a query error, --help) and the
//! Search page over HTTP, whose hit links to the session page's row.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::Value;

use crate::hookline;

const SESSION: &str = "5ea4c4a1-0000-4000-8000-00000000beef";

fn search(dir: &Path, args: &[&str]) -> std::process::Output {
    let url = format!("sqlite://{}", dir.join("hookline.db").display());
    let mut cmd = hookline().command(["search"]);
    cmd.args(args).env("DATABASE_URL", url);
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run hookline search: {e}"))
}

fn ok(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = search(dir, args);
    anyhow::ensure!(
        out.status.success(),
        "hookline search {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

fn events() -> Vec<Value> {
    hookline_test_support::events::conversation(SESSION, "/work/zoo")
}

#[tokio::test]
async fn search_finds_what_serve_captured_on_the_cli_and_the_dashboard() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let serve = hookline().serve(dir.path())?.start()?;
    let token = serve.token()?;
    let http = reqwest::Client::new();
    for (n, e) in events().iter().enumerate() {
        let r = http
            .post(format!("{}/v1/events", serve.addr))
            .bearer_auth(&token)
            .header("x-request-id", format!("search-{n}"))
            .json(e)
            .send()
            .await?;
        assert_eq!(r.status(), 202);
    }
    // The worker writes; the index is current when the rows are.
    let deadline = Instant::now() + Duration::from_secs(20);
    let page: Value = loop {
        let page: Value = serde_json::from_str(&ok(dir.path(), &["walrus*", "--json"])?)?;
        if page["hits"].as_array().map_or(0, Vec::len) == 4 || Instant::now() > deadline {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let hits = page["hits"].as_array().context("hits")?;
    let mut kinds: Vec<&str> = hits.iter().filter_map(|h| h["kind"].as_str()).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        ["prompt", "reply", "tool_input", "tool_result"],
        "{page}"
    );
    assert!(hits.iter().all(|h| h["session_id"] == SESSION));
    assert!(hits.iter().all(|h| {
        h["snippet"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["hit"] == true && f["text"] == "walrus"))
    }));
    assert_eq!(page["next_offset"], Value::Null);

    // The table: no colour when stdout is not a terminal.
    let table = ok(dir.path(), &["walrus", "--kind", "prompt"])?;
    assert!(table.contains(SESSION), "{table}");
    assert!(table.contains("prompt") && table.contains("deploy the walrus service"));
    assert!(!table.contains('\x1b'), "{table:?}");

    let tool: Value =
        serde_json::from_str(&ok(dir.path(), &["walrus", "--tool", "bash", "--json"])?)?;
    let tool_kinds: Vec<&str> = tool["hits"]
        .as_array()
        .context("hits")?
        .iter()
        .filter_map(|h| h["kind"].as_str())
        .collect();
    assert_eq!(tool_kinds.len(), 2, "{tool}");
    assert!(tool_kinds.iter().all(|k| k.starts_with("tool_")));

    let phrase: Value = serde_json::from_str(&ok(dir.path(), &[r#""walrus service""#, "--json"])?)?;
    assert_eq!(phrase["hits"].as_array().map(Vec::len), Some(1));
    let none = ok(dir.path(), &["walrus", "--project", "/elsewhere"])?;
    assert_eq!(none, "(no hits)\n");

    let bad = search(dir.path(), &["fo*o"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("`*` (prefix) only goes at the end"), "{err}");
    let help = ok(dir.path(), &["--help"])?;
    assert!(help.contains("Query syntax") && help.contains("\"connection pool\""));

    // The dashboard (loopback needs no login): marked words, a link to the
    // session page's row of the hit.
    let r = http
        .get(format!("{}/ui/search?q=walrus&kind=prompt", serve.addr))
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    let html = r.text().await?;
    assert!(html.contains("<mark>walrus</mark>"), "{html}");
    let anchor = format!("/ui/sessions/{SESSION}#msg-prompt%3Asearch-1");
    assert!(html.contains(&anchor), "{html}");
    let session = http
        .get(format!("{}/ui/sessions/{SESSION}", serve.addr))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        session.contains(r#"id="msg-prompt:search-1""#),
        "the row the hit links to"
    );
    assert!(session.contains(r#"id="tool-toolu_walrus""#));
    let r = http
        .get(format!("{}/ui/search?q=%22open", serve.addr))
        .send()
        .await?;
    assert_eq!(r.status(), 400);
    assert!(r.text().await?.contains("unclosed quote"));
    Ok(())
}
