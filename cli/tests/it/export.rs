//! `hookline sessions export` and the session page's downloads, on both
//! stores: a real transcript (`../shared/transcripts/spotter/subagent.jsonl`)
//! captured the way `hookline-hook backfill` sends it, through the worker,
//! then exported by the real binary and by the dashboard's route, and
//! checked against an independent reading of the JSONL (every prompt,
//! every assistant text, every tool call's input; the JSONL lines equal
//! the originals as JSON values), an HTML file that names no URL, and the
//! errors a user meets.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use hookline_cli::config::{QueueArgs, Role, StoreArgs};
use hookline_cli::dashboard::{self, Config, Dashboard};
use hookline_conformance::db::{Backend, TestDb};
use hookline_conformance::spotter;
use hookline_core::http::{TokenSet, hash_hex};
use hookline_core::worker::{WorkerConfig, process_batch};
use serde_json::Value;
use tower::ServiceExt as _;

use crate::hookline;

const FILE: &str = "subagent";

#[tokio::test]
async fn export_says_what_the_jsonl_says_postgres() -> anyhow::Result<()> {
    hookline_conformance::db::run(Backend::Postgres, exports).await
}

#[tokio::test]
async fn export_says_what_the_jsonl_says_sqlite() -> anyhow::Result<()> {
    hookline_conformance::db::run(Backend::Sqlite, exports).await
}

fn url(db: &TestDb) -> anyhow::Result<String> {
    Ok(match db.backend() {
        Backend::Sqlite => format!("sqlite://{}", db.sqlite_path().context("a file")?.display()),
        Backend::Postgres => {
            let base = std::env::var("DATABASE_URL").context("DATABASE_URL")?;
            let base = base.split('?').next().unwrap_or_default();
            let (server, _) = base
                .rsplit_once('/')
                .context("a database in DATABASE_URL")?;
            let name = db
                .pg_pool()
                .context("a pool")?
                .connect_options()
                .get_database()
                .context("a database name")?
                .to_owned();
            format!("{server}/{name}")
        }
    })
}

fn export(url: &str, args: &[&str]) -> anyhow::Result<(bool, String, String)> {
    let out = hookline()
        .command(["sessions", "export"])
        .args(args)
        .env("DATABASE_URL", url)
        .output()?;
    Ok((
        out.status.success(),
        String::from_utf8(out.stdout)?,
        String::from_utf8(out.stderr)?,
    ))
}

fn ok(url: &str, args: &[&str]) -> anyhow::Result<String> {
    let (success, out, err) = export(url, args)?;
    anyhow::ensure!(success, "hookline sessions export {args:?}: {err}");
    Ok(out)
}

/// What the transcript says, read here from the JSONL alone.
struct Want {
    prompts: Vec<String>,
    texts: Vec<String>,
    /// Every string and number of every tool call's input, as JSON writes it.
    inputs: Vec<String>,
    /// The lines with a uuid, main file first, then each subagent's.
    lines: Vec<Value>,
    tool_use_ids: std::collections::BTreeSet<String>,
}

fn leaves(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            let quoted = Value::String(s.clone()).to_string();
            out.push(quoted[1..quoted.len() - 1].to_owned());
        }
        Value::Number(n) => out.push(n.to_string()),
        Value::Array(a) => a.iter().for_each(|v| leaves(v, out)),
        Value::Object(o) => o.values().for_each(|v| leaves(v, out)),
        Value::Bool(_) | Value::Null => {}
    }
}

fn want(s: &spotter::Session) -> Want {
    let mut w = Want {
        prompts: Vec::new(),
        texts: Vec::new(),
        inputs: Vec::new(),
        lines: Vec::new(),
        tool_use_ids: Default::default(),
    };
    for f in &s.files {
        for l in &f.lines {
            if l.get("uuid").is_some() {
                w.lines.push(l.clone());
            }
            w.prompts
                .extend(spotter::prompt(l).map(|p| p.trim().to_owned()));
            let progress = &l["data"]["message"];
            for e in [l, progress] {
                for b in e["message"]["content"].as_array().into_iter().flatten() {
                    if e["type"] == "assistant"
                        && b["type"] == "tool_use"
                        && let Some(id) = b["id"].as_str()
                    {
                        w.tool_use_ids.insert(id.to_owned());
                    }
                }
            }
            if l["type"] != "assistant" {
                continue;
            }
            for b in l["message"]["content"].as_array().into_iter().flatten() {
                if b["type"] == "text"
                    && let Some(t) = b["text"].as_str().map(str::trim)
                    && !t.is_empty()
                {
                    w.texts.push(t.to_owned());
                }
                if b["type"] == "tool_use" {
                    leaves(&b["input"], &mut w.inputs);
                }
            }
        }
    }
    w
}

/// The HTML's text with maud's escapes undone.
fn unescape(html: &str) -> String {
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

async fn exports(db: TestDb) -> anyhow::Result<()> {
    let session = spotter::sessions()?
        .into_iter()
        .find(|s| s.name == FILE)
        .context("the subagent transcript")?;
    for batch in spotter::backfill(&session)?.chunks(8) {
        anyhow::ensure!(
            process_batch(db.store(), &WorkerConfig::default(), batch)
                .await
                .is_empty()
        );
    }
    let w = want(&session);
    anyhow::ensure!(!w.prompts.is_empty() && !w.texts.is_empty() && !w.inputs.is_empty());
    let url = url(&db)?;
    let sid = session.session_id.as_str();

    let md = ok(&url, &[&sid[..8]])?;
    let dir = tempfile::tempdir()?;
    let html_path = dir.path().join("s.html");
    ok(&url, &[sid, "--format", "html", "-o"])
        .err()
        .context("-o needs a file")?;
    ok(
        &url,
        &[sid, "--format", "html", "-o", &html_path.to_string_lossy()],
    )?;
    let html = std::fs::read_to_string(&html_path)?;
    let text = unescape(&html);
    for p in &w.prompts {
        assert!(md.contains(p.as_str()), "prompt missing from md: {p:.80}");
        assert!(
            text.contains(p.as_str()),
            "prompt missing from html: {p:.80}"
        );
    }
    for t in &w.texts {
        assert!(md.contains(t.as_str()), "reply missing from md: {t:.80}");
        assert!(
            text.contains(t.as_str()),
            "reply missing from html: {t:.80}"
        );
    }
    for i in &w.inputs {
        assert!(
            md.contains(i.as_str()),
            "tool input missing from md: {i:.80}"
        );
        assert!(
            text.contains(i.as_str()),
            "tool input missing from html: {i:.80}"
        );
    }
    // One folded block per tool call: those of the transcript's entries
    // and those of the subagent's entries copied into progress lines.
    let calls = w.tool_use_ids.len();
    assert_eq!(md.matches("<summary>Tool call: ").count(), calls);
    assert_eq!(html.matches("<summary>Tool call: ").count(), calls);
    for id in &w.tool_use_ids {
        assert!(md.contains(&format!("`{id}`")), "{id}");
    }
    // Self-contained: no script, stylesheet, image or link; no URL at all
    // in an attribute (text is escaped, so `src="` is only ever markup).
    for bad in [
        "<script", "<link", "<img", "src=\"", "href=\"", "url(", "@import",
    ] {
        assert!(!html.contains(bad), "the HTML has {bad}");
    }

    let jsonl = ok(&url, &[sid, "--format", "jsonl"])?;
    let got: Vec<Value> = jsonl
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(got.len(), w.lines.len());
    assert_eq!(got, w.lines, "the lines, in file order");

    // A date range: the session's day holds it; the day before nothing.
    let day = session.files[0]
        .lines
        .iter()
        .find_map(spotter::ts)
        .context("a time")?
        .get(..10)
        .context("a day")?
        .to_owned();
    let range = ok(
        &url,
        &["--since", &day, "--until", &day, "--format", "jsonl"],
    )?;
    assert_eq!(range, jsonl);

    // Errors a user meets.
    let (success, _, err) = export(&url, &["ffffffff-0000"])?;
    assert!(
        !success && err.contains("no session \"ffffffff-0000\""),
        "{err}"
    );
    let (success, _, err) = export(&url, &[sid, "--format", "pdf"])?;
    assert!(!success && err.contains("invalid value 'pdf'"), "{err}");
    let (success, _, err) = export(&url, &["--since", "yesterday-ish"])?;
    assert!(!success && err.contains("--since"), "{err}");
    let (success, _, err) = export(&url, &["--since", "2001-01-01", "--until", "2001-01-02"])?;
    assert!(!success && err.contains("no session started"), "{err}");

    dashboard_downloads(&url, sid, &md).await
}

async fn send(
    router: &axum::Router,
    host: &str,
    path: &str,
) -> anyhow::Result<(StatusCode, axum::http::HeaderMap, String)> {
    let mut req = Request::get(path)
        .header(header::HOST, host)
        .body(Body::empty())?;
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let res = router.clone().oneshot(req).await?;
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 64 << 20).await?;
    Ok((
        parts.status,
        parts.headers,
        String::from_utf8(bytes.to_vec())?,
    ))
}

async fn dashboard_downloads(url: &str, sid: &str, md: &str) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let stores = StoreArgs {
        data_dir: None,
        database_url: Some(url.to_owned()),
    }
    .open(Role::Operator)
    .await?;
    let queues = QueueArgs::default().open(dir.path()).await?;
    let router = dashboard::router(Dashboard::with_usage(
        Config {
            reader: stores.reader.clone(),
            ops: stores.ops.clone(),
            queues: queues.operator(),
            tokens: Arc::new(TokenSet::parse(&format!("t:{}", hash_hex("secret-token")))?),
            logs: None,
            description: "test".into(),
            sign_in: hookline_cli::dashboard::SignIn::tokens(stores.logins.clone()),
        },
        dashboard::Usage {
            store: stores.usage.clone(),
            overrides: Vec::new(),
        },
    ));
    let path = format!("/ui/sessions/{sid}/export");
    let (status, _, page) = send(&router, "localhost", &format!("/ui/sessions/{sid}")).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!("{path}?format=html")),
        "the page links the download"
    );
    for (format, ctype) in [
        ("md", "text/markdown; charset=utf-8"),
        ("html", "text/html; charset=utf-8"),
        ("jsonl", "application/x-ndjson"),
    ] {
        let (status, h, body) =
            send(&router, "localhost", &format!("{path}?format={format}")).await?;
        assert_eq!(status, StatusCode::OK, "{format}");
        assert_eq!(h[header::CONTENT_TYPE], ctype);
        let disposition = h[header::CONTENT_DISPOSITION].to_str()?;
        assert!(
            disposition.starts_with("attachment; filename=\"hookline-")
                && disposition.ends_with(&format!(".{format}\"")),
            "{disposition}"
        );
        if format == "md" {
            assert_eq!(body, md, "the dashboard's Markdown is the CLI's");
        }
    }
    let (status, _, _) = send(&router, "localhost", &format!("{path}?format=pdf")).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Not local and no login: sent to the login page, nothing downloaded.
    let (status, h, body) =
        send(&router, "hookline.example", &format!("{path}?format=jsonl")).await?;
    assert!(status.is_redirection(), "{status}");
    assert!(h[header::LOCATION].to_str()?.starts_with("/ui/login"));
    assert!(!body.contains(sid));
    Ok(())
}
