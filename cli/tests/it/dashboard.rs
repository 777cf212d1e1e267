//! The dashboard's HTTP routes, driven through the router `hookline serve`
//! mounts (dashboard + ingest), on a real SQLite store and embedded queue
//! in a temp dir, fed with the fixture events through POST /v1/events and
//! the in-process worker: status codes, escaping of event content, access
//! rules (loopback, token login, cookie flags), CSRF on replay, and a
//! replay from the DLQ that ends SUCCESS.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use hookline_cli::config::{QueueArgs, Role, StoreArgs};
use hookline_cli::dashboard::{self, Config, Dashboard};
use hookline_core::http::{DEFAULT_MAX_BODY, IngestState, TokenSet, app, hash_hex};
use hookline_core::ops::Ops;
use hookline_core::poller::{InProcess, Poller};
use hookline_core::queue::{OutMessage, Queue};
use hookline_core::worker::WorkerConfig;
use hookline_test_support::events;
use serde_json::{Value, json};
use tower::ServiceExt as _;

const TOKEN: &str = "hl_dashboard_test_token";
const SESSION: &str = "00893aaf-19fa-41d2-8238-13269b9b3ca0";
const EVIL: &str = "<script>alert('xss')</script><img src=x onerror=alert(1)>";

struct Env {
    _dir: tempfile::TempDir,
    router: Router,
    poller: Poller,
    ops: Arc<dyn Ops>,
    queue: Arc<dyn Queue>,
    dlq: Arc<dyn Queue>,
}

async fn env() -> anyhow::Result<Env> {
    let dir = tempfile::tempdir()?;
    let store_args = StoreArgs {
        data_dir: Some(dir.path().to_owned()),
        database_url: None,
    };
    let queue_args = QueueArgs {
        max_receive_count: 2,
        visibility_timeout: 1,
        ..QueueArgs::default()
    };
    let stores = store_args.open(Role::Serve).await?;
    let queues = queue_args.open(dir.path()).await?;
    let dlq = queues
        .dlq
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no DLQ"))?;
    let tokens = Arc::new(TokenSet::parse(&format!("tester:{}", hash_hex(TOKEN)))?);
    let dash = Dashboard::new(Config {
        reader: stores.reader.clone(),
        ops: stores.ops.clone(),
        queues: queues.operator(),
        tokens: tokens.clone(),
        logs: None,
        description: "test".into(),
        sign_in: dashboard::SignIn::tokens(stores.logins.clone()),
    });
    let router = dashboard::router(dash).merge(app(IngestState {
        queue: queues.queue.clone(),
        tokens,
        sessions: None,
        max_body: DEFAULT_MAX_BODY,
        body_timeout: hookline_core::http::DEFAULT_BODY_TIMEOUT,
    }));
    let poller = Poller {
        queue: queues.queue.clone(),
        invoker: Arc::new(InProcess {
            store: stores.store.clone(),
            cfg: WorkerConfig {
                max_receive_count: 2,
            },
        }),
        batch_size: 10,
        wait: Duration::from_millis(200),
        source_arn: "arn:hookline:test".into(),
    };
    Ok(Env {
        _dir: dir,
        router,
        poller,
        ops: stores.ops,
        queue: queues.queue,
        dlq,
    })
}

fn local() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 40000))
}

fn remote() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 7], 40000))
}

pub(crate) async fn send(
    router: &Router,
    peer: SocketAddr,
    host: &str,
    req: axum::http::request::Builder,
    body: Body,
) -> anyhow::Result<(StatusCode, axum::http::HeaderMap, String)> {
    let mut req = req.header(header::HOST, host).body(body)?;
    req.extensions_mut().insert(ConnectInfo(peer));
    let res = router.clone().oneshot(req).await?;
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 10 << 20).await?;
    Ok((
        parts.status,
        parts.headers,
        String::from_utf8(bytes.to_vec())?,
    ))
}

async fn get(router: &Router, path: &str) -> anyhow::Result<(StatusCode, String)> {
    let (s, _, b) = send(
        router,
        local(),
        "127.0.0.1:8787",
        Request::get(path),
        Body::empty(),
    )
    .await?;
    Ok((s, b))
}

async fn post_form(
    router: &Router,
    peer: SocketAddr,
    path: &str,
    form: &str,
    extra: &[(&str, &str)],
) -> anyhow::Result<(StatusCode, axum::http::HeaderMap, String)> {
    let mut req =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let host = if peer.ip().is_loopback() {
        "127.0.0.1:8787"
    } else {
        "hookline.example"
    };
    send(router, peer, host, req, Body::from(form.to_owned())).await
}

/// Posts every fixture event (the prompt made hostile) and runs the worker
/// until the queue is empty. Returns the request ids.
async fn feed(e: &Env) -> anyhow::Result<Vec<String>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/events");
    let mut names: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|d| d.path())
        .collect();
    names.sort();
    // Conversation order: start, prompt, tools, stop, end.
    let order = |p: &std::path::PathBuf| {
        let n = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        [
            "SessionStart",
            "UserPromptSubmit",
            "PreToolUse",
            "PostToolUse",
        ]
        .iter()
        .position(|k| *k == n)
        .unwrap_or(if n == "SessionEnd" { 99 } else { 50 })
    };
    names.sort_by_key(order);
    let mut ids = Vec::new();
    for p in names {
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&p)?)?;
        if v["hook_event_name"] == "UserPromptSubmit" {
            v["prompt"] = json!(format!("please {EVIL}"));
        }
        let (s, _, b) = send(
            &e.router,
            local(),
            "127.0.0.1:8787",
            Request::post("/v1/events")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, format!("Bearer {TOKEN}")),
            Body::from(v.to_string()),
        )
        .await?;
        anyhow::ensure!(s == StatusCode::ACCEPTED, "{p:?}: {s} {b}");
        let r: Value = serde_json::from_str(&b)?;
        ids.push(r["request_id"].as_str().unwrap_or_default().to_owned());
    }
    drain(e).await?;
    Ok(ids)
}

async fn drain(e: &Env) -> anyhow::Result<()> {
    for _ in 0..50 {
        if e.queue.depth().await? == 0 {
            return Ok(());
        }
        e.poller.poll_once().await.map_err(anyhow::Error::msg)?;
    }
    anyhow::bail!("the queue did not drain")
}

/// The CSRF token of the first replay form on a page.
fn csrf(page: &str) -> Option<String> {
    let at = page.find(r#"name="csrf" value=""#)? + r#"name="csrf" value=""#.len();
    Some(page[at..].split('"').next()?.to_owned())
}

fn envelope(request_id: &str) -> OutMessage {
    events::message(request_id, events::prompt("s-dlq", "replayed prompt"))
}

#[tokio::test]
async fn every_page_renders_for_loopback_and_escapes_event_content() -> anyhow::Result<()> {
    let e = env().await?;
    let ids = feed(&e).await?;

    let (s, list) = get(&e.router, "/ui/sessions").await?;
    assert_eq!(s, StatusCode::OK);
    assert!(list.contains(&format!("/ui/sessions/{SESSION}")), "{list}");

    let (s, page) = get(&e.router, &format!("/ui/sessions/{SESSION}")).await?;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains(
            "please &lt;script&gt;alert('xss')&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
        ),
        "{page}"
    );
    assert!(
        !page.contains("<script>alert"),
        "event content must be escaped"
    );
    assert!(
        !page.contains("<img src=x"),
        "event content must be escaped"
    );
    assert!(page.contains("<details>"), "tool calls are collapsible");
    assert!(page.contains("Write"), "the Write tool call is shown");
    assert!(
        page.contains("I&#39;ve completed the refactoring")
            || page.contains("I've completed the refactoring"),
        "the assistant reply is shown"
    );

    // Search: by tool name (case-insensitive), by cwd, by a date with no session.
    let (_, hit) = get(&e.router, "/ui/sessions?tool=write").await?;
    assert!(hit.contains(SESSION));
    let (_, miss) = get(&e.router, "/ui/sessions?tool=NoSuchTool").await?;
    assert!(!miss.contains(&format!("/ui/sessions/{SESSION}")));
    let (_, cwd) = get(&e.router, "/ui/sessions?q=my-project").await?;
    assert!(cwd.contains(SESSION));
    let (_, old) = get(&e.router, "/ui/sessions?date=2001-01-01").await?;
    assert!(old.contains("No session matches."));

    for path in ["/ui/failures", "/ui/health", "/ui/logs"] {
        let (s, body) = get(&e.router, path).await?;
        assert_eq!(s, StatusCode::OK, "{path}: {body}");
    }
    let (s, health) = get(&e.router, "/ui/api/health").await?;
    assert_eq!(s, StatusCode::OK);
    let h: Value = serde_json::from_str(&health)?;
    assert_eq!(h["total"].as_u64(), Some(ids.len() as u64));
    assert_eq!(h["queue_depth"], 0);
    assert_eq!(h["dlq_depth"], 0);
    assert!(h["processing_ms"]["p50"].is_number(), "{h}");
    let per_minute: u64 = h["per_minute"]
        .as_array()
        .map(|a| {
            a.iter()
                .flat_map(|m| m[1].as_object().into_iter().flat_map(|o| o.values()))
                .filter_map(Value::as_u64)
                .sum()
        })
        .unwrap_or(0);
    assert_eq!(
        per_minute,
        ids.len() as u64,
        "every event counted in its minute"
    );

    let (s, tr) = get(&e.router, &format!("/ui/trace/{}", ids[0])).await?;
    assert_eq!(s, StatusCode::OK);
    assert!(tr.contains("SUCCESS"), "{tr}");
    assert_eq!(
        get(&e.router, "/ui/trace/no-such-request").await?.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&e.router, "/ui/sessions/no-such-session").await?.0,
        StatusCode::NOT_FOUND
    );
    Ok(())
}

#[tokio::test]
async fn a_remote_client_logs_in_with_a_token_for_a_strict_secure_cookie() -> anyhow::Result<()> {
    let e = env().await?;
    let r = &e.router;
    let (s, h, _) = send(
        r,
        remote(),
        "hookline.example",
        Request::get("/ui/sessions"),
        Body::empty(),
    )
    .await?;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(h[header::LOCATION].to_str()?.starts_with("/ui/login"));
    let (s, _, _) = send(
        r,
        remote(),
        "hookline.example",
        Request::get("/ui/api/health"),
        Body::empty(),
    )
    .await?;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // DNS rebinding: a loopback peer asking for another host name logs in too.
    let (s, _, _) = send(
        r,
        local(),
        "evil.example",
        Request::get("/ui/sessions"),
        Body::empty(),
    )
    .await?;
    assert_eq!(s, StatusCode::SEE_OTHER);

    let (s, _, b) = post_form(r, remote(), "/ui/login", "token=wrong", &[]).await?;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(b.contains("not accepted"));
    let (s, h, _) = post_form(
        r,
        remote(),
        "/ui/login",
        &format!("token={TOKEN}&next=/ui/failures"),
        &[],
    )
    .await?;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(h[header::LOCATION], "/ui/failures");
    let set = h[header::SET_COOKIE].to_str()?.to_owned();
    for flag in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/ui"] {
        assert!(set.contains(flag), "{set} lacks {flag}");
    }
    let cookie = set.split(';').next().unwrap_or_default().to_owned();
    let (s, _, page) = send(
        r,
        remote(),
        "hookline.example",
        Request::get("/ui/failures").header(header::COOKIE, &cookie),
        Body::empty(),
    )
    .await?;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("tester"), "the principal is shown");
    // A forged cookie is refused.
    let (s, _, _) = send(
        r,
        remote(),
        "hookline.example",
        Request::get("/ui/failures").header(header::COOKIE, "hookline_ui=forged"),
        Body::empty(),
    )
    .await?;
    assert_eq!(s, StatusCode::SEE_OTHER);
    // An open redirect through ?next= is not followed.
    let (_, h, _) = post_form(
        r,
        remote(),
        "/ui/login",
        &format!("token={TOKEN}&next=https://evil.example/"),
        &[],
    )
    .await?;
    assert_eq!(h[header::LOCATION], "/ui/sessions");
    // Logging out needs the session's CSRF token, then the cookie is dead.
    let (s, _, _) = send(
        r,
        remote(),
        "hookline.example",
        Request::post("/ui/logout")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
        Body::from("csrf=nope"),
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let token = csrf(&page).ok_or_else(|| anyhow::anyhow!("no csrf on the page"))?;
    let (s, _, _) = send(
        r,
        remote(),
        "hookline.example",
        Request::post("/ui/logout")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
        Body::from(format!("csrf={token}")),
    )
    .await?;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, _, _) = send(
        r,
        remote(),
        "hookline.example",
        Request::get("/ui/failures").header(header::COOKIE, &cookie),
        Body::empty(),
    )
    .await?;
    assert_eq!(s, StatusCode::SEE_OTHER);
    Ok(())
}

#[tokio::test]
async fn replay_needs_csrf_shows_a_dry_run_count_then_moves_and_the_event_succeeds()
-> anyhow::Result<()> {
    let e = env().await?;
    e.dlq.send(&envelope("dlq-one")).await?;
    e.dlq.send(&envelope("dlq-two")).await?;
    let (s, page) = get(&e.router, "/ui/failures").await?;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("2 message(s) in the DLQ"), "{page}");
    let token = csrf(&page).ok_or_else(|| anyhow::anyhow!("no csrf"))?;

    let no_csrf = post_form(&e.router, local(), "/ui/dlq/replay", "id=dlq-one", &[]).await?;
    assert_eq!(no_csrf.0, StatusCode::FORBIDDEN);
    let wrong = post_form(
        &e.router,
        local(),
        "/ui/dlq/replay",
        "id=dlq-one&csrf=0000",
        &[],
    )
    .await?;
    assert_eq!(wrong.0, StatusCode::FORBIDDEN);
    let cross = post_form(
        &e.router,
        local(),
        "/ui/dlq/replay",
        &format!("id=dlq-one&csrf={token}"),
        &[("origin", "https://evil.example")],
    )
    .await?;
    assert_eq!(cross.0, StatusCode::FORBIDDEN);
    let empty = post_form(
        &e.router,
        local(),
        "/ui/dlq/replay",
        &format!("csrf={token}"),
        &[],
    )
    .await?;
    assert_eq!(
        empty.0,
        StatusCode::BAD_REQUEST,
        "an empty filter never replays everything"
    );
    assert_eq!(e.dlq.depth().await?, 2, "nothing moved by refused requests");

    let (s, _, dry) = post_form(
        &e.router,
        local(),
        "/ui/dlq/replay",
        &format!("id=dlq-one&csrf={token}"),
        &[("origin", "http://127.0.0.1:8787")],
    )
    .await?;
    assert_eq!(s, StatusCode::OK);
    assert!(dry.contains(r#"<b id="dry-count">1</b>"#), "{dry}");
    assert_eq!(e.dlq.depth().await?, 2, "a dry run moves nothing");

    let (s, _, done) = post_form(
        &e.router,
        local(),
        "/ui/dlq/replay",
        &format!("id=dlq-one&confirm=yes&csrf={token}"),
        &[],
    )
    .await?;
    assert_eq!(s, StatusCode::OK);
    assert!(done.contains(r#"<b id="moved">1</b>"#), "{done}");
    assert_eq!(e.dlq.depth().await?, 1);
    drain(&e).await?;
    let row = e
        .ops
        .audit_row("dlq-one")
        .await?
        .ok_or_else(|| anyhow::anyhow!("no audit row"))?;
    assert_eq!(row.status, "SUCCESS");
    assert!(
        e.ops.audit_row("dlq-two").await?.is_none(),
        "the other message stayed"
    );
    let audit = e
        .ops
        .operations(&hookline_core::ops::audit::OperationQuery {
            limit: 10,
            ..Default::default()
        })
        .await?;
    let seen: Vec<(&str, &str, i64)> = audit
        .iter()
        .map(|o| (o.actor.as_str(), o.action.as_str(), o.count))
        .collect();
    assert_eq!(
        seen,
        [("loopback", "replay", 1)],
        "the replay, not the dry runs"
    );
    assert_eq!(audit[0].detail["ids"][0], "dlq-one");

    // Filtered: every UserPromptSubmit.
    let (_, _, dry) = post_form(
        &e.router,
        local(),
        "/ui/dlq/replay",
        &format!("event_type=UserPromptSubmit&csrf={token}"),
        &[],
    )
    .await?;
    assert!(dry.contains(r#"<b id="dry-count">1</b>"#), "{dry}");
    let (_, _, done) = post_form(
        &e.router,
        local(),
        "/ui/dlq/replay",
        &format!("event_type=UserPromptSubmit&confirm=yes&csrf={token}"),
        &[],
    )
    .await?;
    assert!(done.contains(r#"<b id="moved">1</b>"#), "{done}");
    assert_eq!(e.dlq.depth().await?, 0);
    Ok(())
}

/// The `href` of the link with this id on a page, unescaped.
fn link(page: &str, id: &str) -> Option<String> {
    let tag = format!(r#"id="{id}" href=""#);
    let at = page.find(&tag)? + tag.len();
    Some(page[at..].split('"').next()?.replace("&amp;", "&"))
}

/// The sessions a list page links to, in its order.
fn listed(page: &str) -> Vec<String> {
    page.split(r#"<a href="/ui/sessions/"#)
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_sessions_pages_older_and_newer_links_walk_every_session() -> anyhow::Result<()> {
    let e = env().await?;
    const N: usize = 120;
    for i in 0..N {
        let v = json!({"session_id": format!("5eed0000-0000-4000-8000-{i:012}"),
            "transcript_path": format!("/t/{i}.jsonl"), "cwd": "/home/user/pages",
            "hook_event_name": "SessionStart", "source": "startup"});
        let (s, _, b) = send(
            &e.router,
            local(),
            "127.0.0.1:8787",
            Request::post("/v1/events")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, format!("Bearer {TOKEN}")),
            Body::from(v.to_string()),
        )
        .await?;
        anyhow::ensure!(s == StatusCode::ACCEPTED, "{s} {b}");
    }
    drain(&e).await?;

    // Older from the first page (50 a page), with the filter carried along.
    let mut path = "/ui/sessions?q=PAGES".to_owned();
    let mut pages = Vec::new();
    loop {
        let (s, page) = get(&e.router, &path).await?;
        assert_eq!(s, StatusCode::OK, "{path}: {page}");
        assert!(pages.len() < N, "the walk does not end");
        pages.push(listed(&page));
        if pages.len() == 1 {
            assert_eq!(link(&page, "newer"), None, "the first page has no newer");
        }
        match link(&page, "older") {
            Some(next) => {
                assert!(next.contains("q=PAGES&before="), "{next}");
                path = next;
            }
            None => break,
        }
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [50, 50, 20]);
    let all: Vec<String> = pages.concat();
    let distinct: std::collections::HashSet<&String> = all.iter().collect();
    assert_eq!(distinct.len(), N, "every session once");

    // And back by newer from the last page.
    let (_, last) = get(&e.router, &path).await?;
    let mut back = vec![listed(&last)];
    let mut newer = link(&last, "newer");
    while let Some(p) = newer {
        let (s, page) = get(&e.router, &p).await?;
        assert_eq!(s, StatusCode::OK, "{p}: {page}");
        back.push(listed(&page));
        newer = link(&page, "newer");
        assert!(back.len() <= N, "the walk does not end");
    }
    back.reverse();
    assert_eq!(back, pages);

    // A bad cursor or date is a 400 naming what is wrong.
    let (s, bad) = get(&e.router, "/ui/sessions?before=yesterday,abc").await?;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(bad.contains("started_at"), "{bad}");
    let (s, bad) = get(&e.router, "/ui/sessions?date=03/12/2026").await?;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(bad.contains("date"), "{bad}");
    Ok(())
}
