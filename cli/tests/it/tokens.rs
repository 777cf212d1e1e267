//! Per-person tokens and the operator audit as a team's operator uses
//! them: `hookline tokens create` against serve's store, the token accepted
//! by serve's ingest (202) and read API (200), refused (401) within the
//! cache window once revoked or expired, never shown by `list`; role
//! changes seen by the dashboard; `hookline audit` and `/ui/audit` (admins
//! only) showing the token changes. On SQLite and on Postgres.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hookline_cli::cmd::serve;
use hookline_cli::config::{QueueArgs, Role as Opening, StoreArgs};
use hookline_cli::dashboard::{self, Config, Dashboard};
use hookline_core::http::{Role, TokenSet, hash_hex};
use hookline_core::tokens::{self, NewToken, StoreAuthenticator};
use hookline_test_support::db::PgDatabase;
use hookline_test_support::serve::InProcess;
use serde_json::{Value, json};

use crate::dashboard::send;
use crate::hookline;

/// The configured (environment) admin token of the served instance.
const OPS_TOKEN: &str = "hl_teams_ops_token";

fn event(user: &str, n: usize) -> Value {
    json!({
        "session_id": format!("teams-{user}-{n}"), "transcript_path": "/t.jsonl", "cwd": "/w",
        "hook_event_name": "UserPromptSubmit", "prompt": "hello",
        "hookline": {"v": 1, "request_id": uuid::Uuid::now_v7().to_string(),
                     "captured_at": chrono::Utc::now().to_rfc3339(),
                     "client": {"name": "hookline-hook", "version": "test"},
                     "host": "devbox", "user": user},
    })
}

struct Served {
    server: InProcess,
    /// DATABASE_URL for the `hookline` commands.
    url: String,
    http: reqwest::Client,
}

impl Served {
    async fn post(&self, token: &str, user: &str, n: usize) -> anyhow::Result<u16> {
        let r = self
            .http
            .post(format!("{}/v1/events", self.server.addr))
            .bearer_auth(token)
            .json(&event(user, n))
            .send()
            .await?;
        let status = r.status().as_u16();
        if status == 400 {
            anyhow::bail!("400: {}", r.text().await?);
        }
        Ok(status)
    }

    async fn read(&self, token: &str) -> anyhow::Result<u16> {
        let r = self
            .http
            .get(format!("{}/v1/read/sessions", self.server.addr))
            .bearer_auth(token)
            .send()
            .await?;
        Ok(r.status().as_u16())
    }

    fn run(&self, args: &[&str]) -> anyhow::Result<String> {
        hookline().run(&[("DATABASE_URL", self.url.clone())], args)
    }
}

/// Serve on `dir`'s SQLite file, or on `pg`, with a 1 s token cache.
async fn serve_on(dir: &Path, pg: Option<String>) -> anyhow::Result<Served> {
    let tokens = format!("ops:{}", hash_hex(OPS_TOKEN));
    let mut opts = crate::serve::in_process_opts(dir, &tokens);
    opts.token_cache_secs = 1;
    opts.store.database_url = pg.clone();
    let url = pg.unwrap_or_else(|| format!("sqlite://{}", dir.join("hookline.db").display()));
    let server =
        InProcess::start(|listener, shutdown| serve::run(opts, listener, shutdown)).await?;
    let http = reqwest::Client::new();
    // Listening means migrated: the commands then find the tables.
    let health = format!("{}/health", server.addr);
    eventually(200, || async {
        Ok(http
            .get(&health)
            .send()
            .await
            .map_or(0, |r| r.status().as_u16()))
    })
    .await?;
    Ok(Served { server, url, http })
}

/// Polls `f` until it returns `want` (at most 5 s): the cache window is 1 s.
async fn eventually<F, Fut>(want: u16, mut f: F) -> anyhow::Result<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<u16>>,
{
    let start = Instant::now();
    loop {
        let got = f().await?;
        if got == want {
            return Ok(start.elapsed());
        }
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(5),
            "still {got}, not {want}, after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn token_lifecycle(s: Served) -> anyhow::Result<()> {
    let created: Value = serde_json::from_str(&s.run(&[
        "tokens",
        "create",
        "--user",
        "alice",
        "--label",
        "alice laptop",
        "--json",
    ])?)?;
    let (id, token) = (
        created["id"].as_str().unwrap_or_default().to_owned(),
        created["token"].as_str().unwrap_or_default().to_owned(),
    );
    assert!(
        id.starts_with("tok_") && token.starts_with("hl_"),
        "{created}"
    );
    assert_eq!(created["role"], "member", "members by default");

    assert_eq!(s.post(&token, "alice", 1).await?, 202, "accepted at once");
    assert_eq!(s.read(&token).await?, 200);
    assert_eq!(s.post(&token, "bob", 1).await?, 403, "only alice's events");
    assert_eq!(s.post("hl_not_issued", "alice", 1).await?, 401);

    for args in [
        &["tokens", "list"][..],
        &["tokens", "list", "--json", "--all"],
    ] {
        let out = s.run(args)?;
        assert!(out.contains(&id) && out.contains("alice laptop"), "{out}");
        assert!(
            !out.contains(&token) && !out.contains(&hash_hex(&token)),
            "{out}"
        );
    }

    let role = s.run(&["tokens", "role", &id, "admin"])?;
    assert!(role.contains("is now admin"), "{role}");
    let bad = s.run(&["tokens", "role", &id, "owner"]);
    assert!(bad.is_err_and(|e| e.to_string().contains("member or admin")));
    let unknown = s.run(&["tokens", "revoke", "tok_000000000000"]);
    assert!(unknown.is_err_and(|e| e.to_string().contains("no token")));

    s.run(&["tokens", "revoke", &id])?;
    let ingest = eventually(401, || s.post(&token, "alice", 2)).await?;
    assert!(ingest < Duration::from_secs(3), "refused after {ingest:?}");
    eprintln!("teams: a revoked token was refused {ingest:?} after `tokens revoke` (window 1 s)");
    assert_eq!(s.read(&token).await?, 401);
    assert_eq!(
        s.post(OPS_TOKEN, "carol", 1).await?,
        202,
        "the environment token still works"
    );
    let active = s.run(&["tokens", "list"])?;
    assert!(
        !active.contains(&id),
        "revoked tokens are listed with --all only: {active}"
    );
    assert!(s.run(&["tokens", "list", "--all"])?.contains("revoked"));

    let short: Value = serde_json::from_str(&s.run(&[
        "tokens",
        "create",
        "--user",
        "bob",
        "--expires",
        "1s",
        "--json",
    ])?)?;
    let short_token = short["token"].as_str().unwrap_or_default().to_owned();
    eventually(401, || s.post(&short_token, "bob", 1)).await?;
    let bad = s.run(&["tokens", "create", "--user", "bob", "--expires", "soon"]);
    assert!(bad.is_err_and(|e| e.to_string().contains("--expires")));
    let bad = s.run(&["tokens", "create", "--user", "bob smith"]);
    assert!(bad.is_err_and(|e| e.to_string().contains("--user")));

    let audit: Vec<Value> = serde_json::from_str(&s.run(&["audit", "--json"])?)?;
    let actions: Vec<&str> = audit.iter().filter_map(|r| r["action"].as_str()).collect();
    assert_eq!(
        actions,
        ["token.create", "token.revoke", "token.role", "token.create"],
        "newest first: {audit:?}"
    );
    assert!(
        audit
            .iter()
            .all(|r| r["actor"].as_str().is_some_and(|a| a.starts_with("cli:")))
    );
    assert_eq!(audit[2]["detail"]["to"], "admin");
    let text = s.run(&["audit", "--action", "token.revoke"])?;
    assert!(
        text.contains(&id) && text.contains("1 operation(s)"),
        "{text}"
    );
    assert!(s.run(&["audit", "--action", "delete"]).is_err());
    s.server.stop().await
}

// Multi-threaded: the `hookline` commands block a thread while the
// in-process serve's worker must finish its SQLite transaction (on one
// thread the command waited 5 s for serve's write lock, then failed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_accepted_then_refused_within_the_window_on_sqlite() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    token_lifecycle(serve_on(dir.path(), None).await?).await
}

// Multi-threaded: the `hookline` commands block a thread while the
// in-process serve's worker must finish its SQLite transaction (on one
// thread the command waited 5 s for serve's write lock, then failed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_accepted_then_refused_within_the_window_on_postgres() -> anyhow::Result<()> {
    let db = PgDatabase::create().await?;
    let dir = tempfile::tempdir()?;
    let result = async { token_lifecycle(serve_on(dir.path(), Some(db.url())).await?).await }.await;
    db.drop_database().await?;
    result
}

/// A peer that is not loopback: the dashboard asks it to log in.
const REMOTE: SocketAddr = SocketAddr::new(
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 9)),
    40000,
);

/// Logs in from a remote peer with `token`; GET /ui/audit with the cookie.
async fn audit_page(router: &Router, token: &str) -> anyhow::Result<(StatusCode, String)> {
    let login = Request::post("/ui/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    let body = Body::from(format!("token={token}"));
    let (s, h, _) = send(router, REMOTE, "hookline.example", login, body).await?;
    anyhow::ensure!(s == StatusCode::SEE_OTHER, "login answered {s}");
    let cookie = h
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .to_owned();
    let page = Request::get("/ui/audit").header(header::COOKIE, cookie);
    let (s, _, body) = send(router, REMOTE, "hookline.example", page, Body::empty()).await?;
    Ok((s, body))
}

#[tokio::test]
async fn the_audit_page_is_for_admins_and_a_role_change_takes_effect() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let stores = StoreArgs {
        data_dir: Some(dir.path().to_owned()),
        database_url: None,
    }
    .open(Opening::Serve)
    .await?;
    let queues = QueueArgs::default().open(dir.path()).await?;
    let (store, audit) = (stores.tokens.as_ref(), stores.ops.as_ref());
    let new = |user: &str, role| NewToken {
        user: user.into(),
        role,
        expires_at: None,
        label: None,
    };
    let member = tokens::issue(
        store,
        audit,
        "cli:test",
        &new("dana", Role::Member),
        "hl_dana",
    )
    .await?;
    tokens::issue(
        store,
        audit,
        "cli:test",
        &new("erin", Role::Admin),
        "hl_erin",
    )
    .await?;
    let auth = StoreAuthenticator::with_ttl(
        TokenSet::default(),
        stores.tokens.clone(),
        Duration::from_secs(1),
    );
    let router = dashboard::router(Dashboard::new(Config {
        reader: stores.reader.clone(),
        ops: stores.ops.clone(),
        queues: queues.operator(),
        tokens: Arc::new(auth),
        logs: None,
        description: "test".into(),
        sign_in: dashboard::SignIn::tokens(stores.logins.clone()),
    }));

    let (s, body) = audit_page(&router, "hl_dana").await?;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert!(
        !body.contains(r#"href="/ui/audit""#),
        "members see no Audit link"
    );
    let (s, body) = audit_page(&router, "hl_erin").await?;
    assert_eq!(s, StatusCode::OK);
    assert!(
        body.contains("2 operation(s)") && body.contains(&member.id),
        "{body}"
    );
    assert!(body.contains(r#"href="/ui/audit""#));

    tokens::set_role(store, audit, "erin", &member.id, Role::Admin).await?;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (s, body) = audit_page(&router, "hl_dana").await?;
    assert_eq!(s, StatusCode::OK, "admin after the window: {body}");
    assert!(
        body.contains("token.role") && body.contains("3 operation(s)"),
        "{body}"
    );
    Ok(())
}
