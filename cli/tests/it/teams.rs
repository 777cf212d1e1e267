//! Roles (docs/teams.md, "Roles: what each sees and writes") through one
//! `hookline serve` on Postgres, as a team meets it: members alice and bob
//! and admin ops (env tokens), sessions of alice and bob captured through
//! the real ingest and worker, then every actor asked for every action
//! (`matrix`, printed as a table), and the details the matrix does not
//! show (prefixes, hits, spend, the INVALID audit row).

use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use serde_json::{Value, json};

use crate::hookline;
use hookline_core::http::hash_hex;
use hookline_core::tokens;
use hookline_test_support::cli::Serve;
use hookline_test_support::db::PgDatabase;

/// Alice's and bob's sessions share their first 8 characters: a prefix
/// that is alice's alone in her scope, ambiguous for an admin.
const ALICE_SESSION: &str = "5eed0000-0000-4000-8000-00000000a11c";
const BOB_SESSION: &str = "5eed0000-0000-4000-8000-000000000b0b";
const PREFIX: &str = "5eed0000";
/// Words found only in one user's session.
const ALICE_WORD: &str = "alpaca";
const BOB_WORD: &str = "zebrafish";
/// Input tokens of each user's one assistant message.
const ALICE_INPUT: i64 = 1_000;
const BOB_INPUT: i64 = 7_000;

/// Who asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// alice: `alice:…:alice:member`, the owner of the session acted on.
    Member,
    /// bob: `bob:…:bob:member`.
    OtherMember,
    /// ops: `ops:…:*:admin`.
    Admin,
    /// carol: a member token of the token table, revoked before use.
    Revoked,
    /// dave: a member token of the token table past its expiry.
    Expired,
    NoToken,
}

struct Actor {
    kind: Kind,
    name: &'static str,
    /// The user its events are stamped with.
    user: &'static str,
    token: Option<&'static str>,
}

const ACTORS: [Actor; 6] = [
    Actor {
        kind: Kind::Member,
        name: "member (alice)",
        user: "alice",
        token: Some("tok-alice"),
    },
    Actor {
        kind: Kind::OtherMember,
        name: "other member (bob)",
        user: "bob",
        token: Some("tok-bob"),
    },
    Actor {
        kind: Kind::Admin,
        name: "admin (ops)",
        user: "ops",
        token: Some("tok-ops"),
    },
    Actor {
        kind: Kind::Revoked,
        name: "revoked (carol)",
        user: "carol",
        token: Some("tok-carol"),
    },
    Actor {
        kind: Kind::Expired,
        name: "expired (dave)",
        user: "dave",
        token: Some("tok-dave"),
    },
    Actor {
        kind: Kind::NoToken,
        name: "no token",
        user: "nobody",
        token: None,
    },
];

fn tokens() -> String {
    format!(
        "alice:{}:alice:member bob:{}:bob:member ops:{}:*:admin",
        hash_hex("tok-alice"),
        hash_hex("tok-bob"),
        hash_hex("tok-ops")
    )
}

/// A hook event of `session` stamped with `user`.
fn stamped(mut e: Value, session: &str, user: &str, second: i64) -> Value {
    e["session_id"] = json!(session);
    e["transcript_path"] = json!("/t.jsonl");
    e["cwd"] = json!("/work/team");
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
        .map(|t| t + chrono::TimeDelta::seconds(second))
        .map(|t| t.to_rfc3339())
        .unwrap_or_default();
    e["hookline"] = json!({"v": 1, "request_id": format!("{session}-{user}-{second}"),
        "captured_at": at, "client": {"name": "hookline-hook", "version": "test"},
        "host": "devbox", "user": user});
    e
}

/// A session of `user`: a prompt with `word`, and a Stop whose transcript
/// holds one assistant reply of `input` input tokens.
fn session(session: &str, user: &str, word: &str, input: i64) -> Vec<Value> {
    let reply = json!({"type": "assistant", "uuid": format!("{session}-r1"), "sessionId": session,
        "timestamp": "2026-12-01T09:00:03Z",
        "message": {"id": format!("msg-{user}"), "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": format!("The {word} is fed.")}],
            "usage": {"input_tokens": input, "output_tokens": 10}}});
    let mut stop = stamped(
        json!({"hook_event_name": "Stop", "last_assistant_message": format!("The {word} is fed.")}),
        session,
        user,
        4,
    );
    stop["hookline"]["transcript"] = json!([{"source": "main", "path": "/t.jsonl",
        "start_offset": 0, "end_offset": 100, "entries": [reply]}]);
    vec![
        stamped(
            json!({"hook_event_name": "SessionStart", "source": "startup"}),
            session,
            user,
            0,
        ),
        stamped(
            json!({"hook_event_name": "UserPromptSubmit", "prompt": format!("feed the {word}")}),
            session,
            user,
            1,
        ),
        stop,
    ]
}

struct Team {
    serve: Serve,
    db: PgDatabase,
    http: reqwest::Client,
}

impl Team {
    async fn post(
        &self,
        token: Option<&str>,
        id: &str,
        event: &Value,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut r = self
            .http
            .post(format!("{}/v1/events", self.serve.addr))
            .header("x-request-id", id)
            .json(event);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().await?;
        Ok((r.status(), r.json().await.unwrap_or_default()))
    }

    async fn read(
        &self,
        token: Option<&str>,
        path: &str,
        query: &[(&str, &str)],
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut r = self
            .http
            .get(format!("{}/v1/read/{path}", self.serve.addr))
            .query(query);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().await?;
        Ok((r.status(), r.json().await.unwrap_or_default()))
    }

    /// A dashboard login as a remote browser would (a non-loopback
    /// `Host`, so the token is needed): the session cookie, or none (no
    /// token, or one the login refuses).
    async fn login(&self, token: Option<&str>) -> anyhow::Result<Option<String>> {
        let Some(token) = token else { return Ok(None) };
        let r = self
            .http
            .post(format!("{}/ui/login", self.serve.addr))
            .header(header::HOST, "hookline.example")
            .form(&[("token", token)])
            .send()
            .await?;
        if r.status() == StatusCode::UNAUTHORIZED {
            return Ok(None);
        }
        anyhow::ensure!(r.status() == StatusCode::SEE_OTHER, "login: {}", r.status());
        let cookie = r.headers()[header::SET_COOKIE].to_str()?;
        Ok(Some(
            cookie.split(';').next().unwrap_or_default().to_owned(),
        ))
    }

    fn ui(&self, cookie: &Option<String>, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let req = req.header(header::HOST, "hookline.example");
        match cookie {
            Some(c) => req.header(header::COOKIE, c),
            None => req,
        }
    }

    async fn ui_get(
        &self,
        cookie: &Option<String>,
        path: &str,
    ) -> anyhow::Result<(StatusCode, HeaderMap, String)> {
        let r = self
            .ui(cookie, self.http.get(format!("{}{path}", self.serve.addr)))
            .send()
            .await?;
        Ok((r.status(), r.headers().clone(), r.text().await?))
    }

    /// The audit row of `request_id` once the worker wrote it: its status
    /// and validation errors.
    async fn audit(&self, request_id: &str) -> anyhow::Result<(String, Value)> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let row: Option<(String, Option<Value>)> = sqlx::query_as(
                "SELECT status, validation_errors FROM webhook_events
                 WHERE request_id = $1 AND status IN ('SUCCESS', 'INVALID', 'FAILED')",
            )
            .bind(request_id)
            .fetch_optional(&self.db.pool)
            .await?;
            if let Some((status, errors)) = row {
                return Ok((status, errors.unwrap_or_default()));
            }
            anyhow::ensure!(Instant::now() < deadline, "no audit row for {request_id}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn messages_of(&self, session: &str) -> anyhow::Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT count(*) FROM messages WHERE session_id = $1")
                .bind(session)
                .fetch_one(&self.db.pool)
                .await?,
        )
    }
}

/// Serve on a new database with the team's tokens, alice's and bob's
/// sessions captured (their replies' usage rolled up).
async fn team() -> anyhow::Result<(Team, tempfile::TempDir)> {
    let db = PgDatabase::create().await?;
    let dir = tempfile::tempdir()?;
    let serve = hookline()
        .serve(dir.path())?
        .database_url(Some(&db.url()))
        .env("HOOKLINE_TOKENS", tokens())
        .start()?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let t = Team { serve, db, http };
    for (sid, user, word, input) in [
        (ALICE_SESSION, "alice", ALICE_WORD, ALICE_INPUT),
        (BOB_SESSION, "bob", BOB_WORD, BOB_INPUT),
    ] {
        let token = format!("tok-{user}");
        for (n, e) in session(sid, user, word, input).iter().enumerate() {
            let (s, body) = t.post(Some(&token), &format!("seed-{user}-{n}"), e).await?;
            anyhow::ensure!(s == StatusCode::ACCEPTED, "seed {user}: {s} {body}");
        }
        t.audit(&format!("seed-{user}-2")).await?;
    }
    Ok((t, dir))
}

/// Alice's and bob's sessions by id and by prefix, on the read API and the
/// dashboard; hits, spend and MCP; writes into another's session.
#[tokio::test]
async fn a_member_sees_and_writes_only_its_own_sessions() -> anyhow::Result<()> {
    let (t, _dir) = team().await?;
    let (alice, ops) = (Some("tok-alice"), Some("tok-ops"));

    // By id and by prefix: bob's session is not there for alice (404, as
    // an unknown id), her prefix is hers alone; ambiguous for the admin.
    let (s, body) = t
        .read(alice, &format!("sessions/{BOB_SESSION}"), &[])
        .await?;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["code"], "no_session");
    let (s, body) = t.read(alice, &format!("sessions/{PREFIX}"), &[]).await?;
    assert_eq!(
        (s, body["session_id"].as_str()),
        (StatusCode::OK, Some(ALICE_SESSION)),
        "{body}"
    );
    let (s, _) = t.read(ops, &format!("sessions/{PREFIX}"), &[]).await?;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "two sessions start with the prefix"
    );
    let (_, list) = t.read(alice, "sessions", &[]).await?;
    let ids: Vec<&str> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["session_id"].as_str())
        .collect();
    assert_eq!(ids, [ALICE_SESSION]);
    let (_, list) = t.read(alice, "sessions", &[("user", "bob")]).await?;
    assert_eq!(
        list,
        json!([]),
        "asking for bob's by name finds nothing either"
    );

    // Search: a word only in bob's session has no hits for alice, even
    // asked for bob's user or session, and hits for the admin.
    for q in [
        vec![("query", BOB_WORD)],
        vec![("query", BOB_WORD), ("user", "bob")],
        vec![("query", BOB_WORD), ("session", BOB_SESSION)],
    ] {
        let (s, page) = t.read(alice, "search", &q).await?;
        assert_eq!(
            (s, page["hits"].as_array().map(Vec::len)),
            (StatusCode::OK, Some(0)),
            "{q:?}: {page}"
        );
    }
    let (_, page) = t.read(ops, "search", &[("query", BOB_WORD)]).await?;
    assert!(
        page["hits"]
            .as_array()
            .is_some_and(|h| !h.is_empty() && h.iter().all(|h| h["session_id"] == BOB_SESSION)),
        "{page}"
    );

    // Usage: alice's spend only; the admin's is the team's.
    let input = |v: &Value| v["total"]["input_tokens"].as_i64();
    let (_, u) = t.read(alice, "usage", &[("view", "session")]).await?;
    assert_eq!(input(&u), Some(ALICE_INPUT), "{u}");
    let (_, u) = t
        .read(alice, "usage", &[("view", "session"), ("by", "user")])
        .await?;
    let groups: Vec<&str> = u["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["group"].as_str())
        .collect();
    assert_eq!(groups, ["alice"], "{u}");
    let (_, u) = t.read(ops, "usage", &[("view", "session")]).await?;
    assert_eq!(input(&u), Some(ALICE_INPUT + BOB_INPUT), "{u}");

    // The dashboard: bob's session page, its export and its hits are not
    // alice's; her own are; the Usage page shows her spend only.
    let cookie = t.login(alice).await?;
    let (s, _, page) = t
        .ui_get(&cookie, &format!("/ui/sessions/{BOB_SESSION}"))
        .await?;
    assert_eq!(s, StatusCode::NOT_FOUND, "{page}");
    let (s, _, _) = t.ui_get(&cookie, &format!("/ui/sessions/{PREFIX}")).await?;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = t
        .ui_get(
            &cookie,
            &format!("/ui/sessions/{BOB_SESSION}/export?format=jsonl"),
        )
        .await?;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, _, page) = t.ui_get(&cookie, "/ui/sessions").await?;
    assert!(
        page.contains(ALICE_SESSION) && !page.contains(BOB_SESSION),
        "{page}"
    );
    let (_, _, page) = t
        .ui_get(&cookie, &format!("/ui/search?q={BOB_WORD}"))
        .await?;
    assert!(!page.contains(BOB_SESSION), "{page}");
    let (_, _, page) = t
        .ui_get(&cookie, &format!("/ui/search?q={ALICE_WORD}"))
        .await?;
    assert!(page.contains(ALICE_SESSION), "{page}");
    let (_, _, page) = t.ui_get(&cookie, "/ui/usage?by=user").await?;
    assert!(page.contains("alice") && !page.contains("bob"), "{page}");
    assert!(
        !page.contains("href=\"/ui/failures\""),
        "operator pages are not offered to a member"
    );
    for operator in [
        "/ui/failures",
        "/ui/health",
        "/ui/api/health",
        "/ui/logs",
        "/ui/trace/x",
    ] {
        let (s, _, _) = t.ui_get(&cookie, operator).await?;
        assert_eq!(s, StatusCode::FORBIDDEN, "{operator}");
        let (s, _, _) = t.ui_get(&t.login(ops).await?, operator).await?;
        assert_ne!(s, StatusCode::FORBIDDEN, "{operator} for the admin");
    }

    // Writes: bob's event into alice's session is refused (403, the field
    // named), recorded INVALID with the same code, and writes nothing.
    let before = t.messages_of(ALICE_SESSION).await?;
    let intrusion = stamped(
        json!({"hook_event_name": "UserPromptSubmit", "prompt": "bob was here"}),
        ALICE_SESSION,
        "bob",
        9,
    );
    let (s, body) = t
        .post(Some("tok-bob"), "bob-into-alice", &intrusion)
        .await?;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        (
            body["error"]["code"].as_str(),
            body["error"]["field"].as_str()
        ),
        (Some("forbidden_session"), Some("session_id")),
        "{body}"
    );
    assert!(
        !body.to_string().contains("alice"),
        "the refusal does not name the owner: {body}"
    );
    let (status, errors) = t.audit("bob-into-alice").await?;
    assert_eq!(status, "INVALID");
    assert_eq!(
        (errors[0]["field"].as_str(), errors[0]["code"].as_str()),
        (Some("session_id"), Some("forbidden_session")),
        "{errors}"
    );
    // The admin may write into it.
    let admin_note = stamped(
        json!({"hook_event_name": "UserPromptSubmit", "prompt": "ops note"}),
        ALICE_SESSION,
        "ops",
        10,
    );
    let (s, body) = t.post(ops, "ops-into-alice", &admin_note).await?;
    assert_eq!(s, StatusCode::ACCEPTED, "{body}");
    assert_eq!(t.audit("ops-into-alice").await?.0, "SUCCESS");
    assert_eq!(
        t.messages_of(ALICE_SESSION).await?,
        before + 1,
        "the admin's prompt only"
    );

    // MCP through the read API with alice's token: bob's session is not
    // there, hers is.
    let mcp = mcp_get(&t, "tok-alice", BOB_SESSION).await?;
    assert!(mcp.starts_with("argument `id`: no session"), "{mcp}");
    let mcp = mcp_get(&t, "tok-alice", ALICE_SESSION).await?;
    assert!(mcp.contains(ALICE_WORD) && !mcp.contains(BOB_WORD), "{mcp}");
    drop(t.serve);
    t.db.drop_database().await
}

/// `get_session id` through `hookline mcp --remote` with `token`: the
/// tool's text.
async fn mcp_get(t: &Team, token: &str, id: &str) -> anyhow::Result<String> {
    use rmcp::ServiceExt;
    use rmcp::model::CallToolRequestParams;
    let mut cmd = hookline().command(["mcp", "--remote", &t.serve.addr, "--token", token]);
    cmd.stderr(std::process::Stdio::null());
    let (transport, _) =
        rmcp::transport::TokioChildProcess::builder(tokio::process::Command::from(cmd)).spawn()?;
    let c = ().serve(transport).await?;
    let args = json!({"id": id});
    let Value::Object(args) = args else {
        anyhow::bail!("not an object")
    };
    let r = c
        .call_tool(CallToolRequestParams::new("get_session").with_arguments(args))
        .await?;
    c.cancel().await?;
    let v = serde_json::to_value(&r)?;
    Ok(v["content"][0]["text"]
        .as_str()
        .context("no text")?
        .to_owned())
}

/// What each actor may do, asked of serve itself: every actor × every
/// action, against the answer expected, printed as a table.
#[tokio::test]
async fn matrix() -> anyhow::Result<()> {
    let (t, _dir) = team().await?;
    // Token-table members: carol's revoked before its first use, dave's
    // expired a second after it was issued.
    let store = hookline_store_postgres::PgStore::new(t.db.pool.clone());
    let member = |user: &str, expires_at| tokens::NewToken {
        user: user.to_owned(),
        role: hookline_core::http::Role::Member,
        expires_at,
        label: None,
    };
    let carol = tokens::issue(
        &store,
        &store,
        "cli:test",
        &member("carol", None),
        "tok-carol",
    )
    .await?;
    tokens::revoke(&store, &store, "cli:test", &carol.id).await?;
    let soon = chrono::Utc::now() + chrono::TimeDelta::seconds(1);
    tokens::issue(
        &store,
        &store,
        "cli:test",
        &member("dave", Some(soon)),
        "tok-dave",
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let mut table = Vec::new();
    let mut wrong = Vec::new();
    for a in &ACTORS {
        let cookie = t.login(a.token).await?;
        let mut row = Vec::new();
        for action in ACTIONS {
            let got = act(&t, a, &cookie, action).await?;
            let want = expected(a.kind, action);
            if got != want {
                wrong.push(format!("{} / {action}: got {got:?}, want {want:?}", a.name));
            }
            row.push(got);
        }
        table.push((a.name, row));
    }
    // Each column as wide as its longest cell.
    let widths: Vec<usize> = ACTIONS
        .iter()
        .enumerate()
        .map(|(i, action)| {
            table
                .iter()
                .map(|(_, row)| row[i].len())
                .chain([action.len()])
                .max()
                .unwrap_or_default()
        })
        .collect();
    let mut out = format!("{:<20}", "actor \\ action");
    for (action, w) in ACTIONS.iter().zip(&widths) {
        out.push_str(&format!(" | {action:<w$}"));
    }
    for (name, row) in &table {
        out.push_str(&format!("\n{name:<20}"));
        for (cell, w) in row.iter().zip(&widths) {
            out.push_str(&format!(" | {cell:<w$}"));
        }
    }
    println!("{out}");
    drop(t.serve);
    t.db.drop_database().await?;
    anyhow::ensure!(wrong.is_empty(), "{out}\n\n{}", wrong.join("\n"));
    Ok(())
}

const ACTIONS: [&str; 10] = [
    "write own session",
    "write alice's session",
    "read alice's session",
    "search alice's word",
    "usage: whose spend",
    "export alice's session",
    "MCP alice's session",
    "failures page",
    "DLQ replay",
    "purge",
];

fn expected(kind: Kind, action: &str) -> &'static str {
    use Kind::*;
    match (action, kind) {
        ("write own session", NoToken | Revoked | Expired) => "401",
        ("write own session", _) => "202",
        ("write alice's session", Member | Admin) => "202",
        ("write alice's session", OtherMember) => "403 forbidden_session",
        ("read alice's session", Member | Admin) => "200",
        ("read alice's session", OtherMember) => "404",
        ("search alice's word", Member | Admin) => "hits",
        ("search alice's word", OtherMember) => "no hits",
        ("usage: whose spend", Member) => "alice's",
        ("usage: whose spend", OtherMember) => "bob's",
        ("usage: whose spend", Admin) => "the team's",
        ("export alice's session", Member | Admin) => "200",
        ("export alice's session", OtherMember) => "404",
        ("export alice's session" | "failures page", NoToken) => "303 to login",
        ("MCP alice's session", Member | Admin) => "found",
        ("MCP alice's session", OtherMember) => "no session",
        ("MCP alice's session", NoToken) => "needs --token",
        ("failures page" | "DLQ replay", Member | OtherMember) => "403",
        ("failures page" | "DLQ replay", Admin) => "200",
        ("purge", _) => "CLI only",
        ("export alice's session" | "failures page", Revoked | Expired) => "303 to login",
        ("MCP alice's session", Revoked | Expired) => "401",
        (_, NoToken | Revoked | Expired) => "401",
        _ => "?",
    }
}

/// What `a` gets when it tries `action`.
async fn act(t: &Team, a: &Actor, cookie: &Option<String>, action: &str) -> anyhow::Result<String> {
    let status = |s: StatusCode| s.as_u16().to_string();
    Ok(match action {
        "write own session" | "write alice's session" => {
            let sid = match (action, a.kind) {
                ("write alice's session", _)
                | (_, Kind::Member | Kind::NoToken | Kind::Revoked | Kind::Expired) => {
                    ALICE_SESSION
                }
                (_, Kind::OtherMember) => BOB_SESSION,
                (_, Kind::Admin) => "0a550000-0000-4000-8000-0000000000ad",
            };
            let e = stamped(
                json!({"hook_event_name": "UserPromptSubmit", "prompt": "a note"}),
                sid,
                a.user,
                20,
            );
            let (s, body) = t
                .post(
                    a.token,
                    &format!("matrix-{}-{action}", a.user).replace([' ', '\''], "-"),
                    &e,
                )
                .await?;
            match body["error"]["code"].as_str() {
                Some(code) if s == StatusCode::FORBIDDEN => format!("{} {code}", status(s)),
                _ => status(s),
            }
        }
        "read alice's session" => status(
            t.read(a.token, &format!("sessions/{ALICE_SESSION}"), &[])
                .await?
                .0,
        ),
        "search alice's word" => match t.read(a.token, "search", &[("query", ALICE_WORD)]).await? {
            (StatusCode::OK, page) if page["hits"].as_array().is_some_and(|h| !h.is_empty()) => {
                "hits".into()
            }
            (StatusCode::OK, _) => "no hits".into(),
            (s, _) => status(s),
        },
        "usage: whose spend" => match t.read(a.token, "usage", &[("view", "session")]).await? {
            (StatusCode::OK, u) => match u["total"]["input_tokens"].as_i64() {
                Some(ALICE_INPUT) => "alice's".into(),
                Some(BOB_INPUT) => "bob's".into(),
                Some(n) if n == ALICE_INPUT + BOB_INPUT => "the team's".into(),
                other => format!("{other:?} input tokens"),
            },
            (s, _) => status(s),
        },
        "export alice's session" | "failures page" => {
            let path = if action == "failures page" {
                "/ui/failures".to_owned()
            } else {
                format!("/ui/sessions/{ALICE_SESSION}/export?format=md")
            };
            let (s, h, _) = t.ui_get(cookie, &path).await?;
            let to_login = h
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .is_some_and(|l| l.starts_with("/ui/login"));
            if s == StatusCode::SEE_OTHER && to_login {
                "303 to login".into()
            } else {
                status(s)
            }
        }
        "DLQ replay" => {
            // The CSRF token of this login, from any page's logout form.
            let (_, _, page) = t.ui_get(cookie, "/ui/sessions").await?;
            let csrf = page
                .split("name=\"csrf\" value=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or_default()
                .to_owned();
            let r = t
                .ui(
                    cookie,
                    t.http.post(format!("{}/ui/dlq/replay", t.serve.addr)),
                )
                .form(&[("csrf", csrf.as_str()), ("all", "1")])
                .send()
                .await?;
            status(r.status())
        }
        "MCP alice's session" => match a.token {
            Some(token) => {
                let text = mcp_get(t, token, ALICE_SESSION).await?;
                if text.starts_with(&format!("Session {ALICE_SESSION}")) {
                    "found".into()
                } else if text.starts_with("argument `id`: no session") {
                    "no session".into()
                } else if text.contains("refused the token (401)") {
                    "401".into()
                } else {
                    text.chars().take(40).collect()
                }
            }
            None => {
                let out = hookline()
                    .command(["mcp", "--remote", &t.serve.addr])
                    .stdin(std::process::Stdio::null())
                    .output()?;
                let err = String::from_utf8_lossy(&out.stderr);
                if !out.status.success() && err.contains("--token") {
                    "needs --token".into()
                } else {
                    format!("exit {}", out.status)
                }
            }
        },
        // No HTTP endpoint purges: `hookline purge` is run by an operator
        // with the database's credentials.
        "purge" => "CLI only".into(),
        other => anyhow::bail!("unknown action {other}"),
    })
}
