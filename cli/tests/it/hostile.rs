//! Hostile input against a real `hookline serve` over TCP: every malformed
//! request gets a clear 4xx (the documented JSON error body, naming the field
//! and why), slow and oversized bodies are answered or cut off without
//! holding up anyone else, SQL metacharacters are stored verbatim, and after
//! each hostile request a valid one still gets 202. Run on serve's SQLite
//! store, and on Postgres (the worker's store code) via `--database-url`.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use hookline_test_support::cli;
use hookline_test_support::db::pg_url;

use crate::hookline;

/// Body limit of the serve under test (small, so over-limit bodies are quick).
const MAX_BODY: usize = 64 * 1024;
/// Body read timeout of the serve under test (`--body-timeout`).
const BODY_TIMEOUT_S: u64 = 2;

/// `hookline serve` under test, with its port and first-start token.
struct Serve {
    port: u16,
    token: String,
    _process: cli::Serve,
}

/// Starts serve on `dir` (the embedded queue lives there), with the store
/// `database_url` (None: SQLite in `dir`); waits until it listens.
fn start(dir: &Path, database_url: Option<&str>) -> anyhow::Result<Serve> {
    let serve = hookline()
        .serve(dir)?
        .arg("--visibility-timeout")
        .arg("2")
        .env("HOOKLINE_MAX_BODY", MAX_BODY.to_string())
        .env("HOOKLINE_BODY_TIMEOUT", BODY_TIMEOUT_S.to_string())
        .database_url(database_url)
        .start()?;
    Ok(Serve {
        port: serve.port,
        token: serve.token()?,
        _process: serve,
    })
}

/// An answer read off the wire.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: Value,
    raw: String,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
    fn field(&self) -> &str {
        self.body["error"]["field"].as_str().unwrap_or_default()
    }
    fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }
}

/// Reads one HTTP/1.1 answer from `stream` (the request said
/// `Connection: close`, so up to EOF), within `limit`.
async fn read_answer(stream: &mut TcpStream, limit: Duration) -> anyhow::Result<Answer> {
    let mut buf = Vec::new();
    tokio::time::timeout(limit, stream.read_to_end(&mut buf))
        .await
        .map_err(|_| anyhow::anyhow!("no answer within {limit:?}"))??;
    let raw = String::from_utf8_lossy(&buf).into_owned();
    let status = raw
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("not an HTTP answer: {raw:?}"))?;
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| serde_json::from_str(b).unwrap_or(Value::Null))
        .unwrap_or(Value::Null);
    Ok(Answer { status, body, raw })
}

/// Sends `head` (request line and headers, without the blank line) and
/// `body` as they are, and reads the answer.
async fn send_raw(port: u16, head: &str, body: &[u8]) -> anyhow::Result<Answer> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let mut req = format!("{head}\r\nConnection: close\r\n\r\n").into_bytes();
    req.extend_from_slice(body);
    // The server may answer (413) and close before reading everything.
    let _ = stream.write_all(&req).await;
    read_answer(&mut stream, Duration::from_secs(10)).await
}

/// A POST of `body` to /v1/events with the token and a JSON content type.
async fn post(serve: &Serve, request_id: &str, body: &[u8]) -> anyhow::Result<Answer> {
    let head = format!(
        "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nX-Request-Id: {request_id}\r\nContent-Length: {}",
        serve.token,
        body.len()
    );
    send_raw(serve.port, &head, body).await
}

fn prompt_event(session: &str, prompt: &str) -> Value {
    json!({"session_id": session, "transcript_path": "/t.jsonl", "cwd": "/w",
           "hook_event_name": "UserPromptSubmit", "prompt": prompt})
}

/// A valid request must still be accepted, promptly.
async fn still_accepts(serve: &Serve, after: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let body = serde_json::to_vec(&prompt_event("canary", after))?;
    let a = post(serve, &format!("canary-{}", uuid::Uuid::new_v4()), &body).await?;
    assert_eq!(a.status, 202, "a valid request after {after}: {a:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "a valid request after {after} took {:?}",
        started.elapsed()
    );
    Ok(())
}

/// Nested `depth` deep: `[[[…]]]`.
fn nested(depth: usize) -> Vec<u8> {
    let mut v = vec![b'['; depth];
    v.extend(std::iter::repeat_n(b']', depth));
    v
}

/// One hostile body, what it must get, and its request id.
struct Case {
    name: &'static str,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
    field: &'static str,
}

fn cases() -> Vec<Case> {
    let case = |name, body: Vec<u8>, status, code, field| Case {
        name,
        body,
        status,
        code,
        field,
    };
    let j = |v: Value| v.to_string().into_bytes();
    let mut deep_field = br#"{"session_id":"s","hook_event_name":"Stop","x":"#.to_vec();
    deep_field.extend(nested(10_000));
    deep_field.push(b'}');
    let deep_object = {
        let mut v = b"{\"a\":".repeat(10_000);
        v.extend(b"1");
        v.extend(b"}".repeat(10_000));
        v
    };
    let mut bad_utf8 =
        br#"{"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":""#.to_vec();
    bad_utf8.extend([0xff, 0xfe, 0xc3, 0x28]);
    bad_utf8.extend(br#""}"#);
    vec![
        case(
            "non-JSON",
            b"hello, world".to_vec(),
            400,
            "invalid_json",
            "$",
        ),
        case("an empty body", Vec::new(), 400, "invalid_json", "$"),
        case(
            "truncated JSON",
            br#"{"session_id":"s""#.to_vec(),
            400,
            "invalid_json",
            "$",
        ),
        case("a JSON array", j(json!([1, 2])), 400, "invalid_event", "$"),
        case(
            "a JSON string",
            j(json!("event")),
            400,
            "invalid_event",
            "$",
        ),
        case("a JSON number", j(json!(42)), 400, "invalid_event", "$"),
        case("JSON null", j(json!(null)), 400, "invalid_event", "$"),
        case(
            "an empty object",
            j(json!({})),
            400,
            "invalid_event",
            "session_id",
        ),
        case(
            "an empty session_id",
            j(json!({"session_id": "", "hook_event_name": "Stop"})),
            400,
            "invalid_event",
            "session_id",
        ),
        case(
            "a blank hook_event_name",
            j(json!({"session_id": "s", "hook_event_name": "  "})),
            400,
            "invalid_event",
            "hook_event_name",
        ),
        case(
            // A missing prompt is accepted (a partial row): only session_id
            // and hook_event_name are required; a present one has its type.
            "a prompt of the wrong type",
            j(json!({"session_id": "s", "hook_event_name": "UserPromptSubmit", "prompt": 42})),
            400,
            "invalid_event",
            "prompt",
        ),
        case(
            "a session_id of the wrong type",
            j(json!({"session_id": 7, "hook_event_name": "Stop"})),
            400,
            "invalid_event",
            "session_id",
        ),
        case(
            "a 10,000-character session_id",
            j(json!({"session_id": "a".repeat(10_000), "hook_event_name": "Stop"})),
            400,
            "invalid_event",
            "session_id",
        ),
        case(
            "SQL in session_id",
            j(json!({"session_id": "s'; DROP TABLE conversations; --", "hook_event_name": "Stop"})),
            400,
            "invalid_event",
            "session_id",
        ),
        case(
            "arrays nested 10,000 deep",
            nested(10_000),
            400,
            "invalid_json",
            "$",
        ),
        case(
            "objects nested 10,000 deep",
            deep_object,
            400,
            "invalid_json",
            "$",
        ),
        case(
            "a field nested 10,000 deep",
            deep_field,
            400,
            "invalid_json",
            "$",
        ),
        case("invalid UTF-8", bad_utf8, 400, "invalid_json", "$"),
        case(
            "a lone surrogate escape",
            br#"{"session_id":"s","hook_event_name":"UserPromptSubmit","prompt":"\ud800"}"#
                .to_vec(),
            400,
            "invalid_json",
            "$",
        ),
        case(
            "a body over the limit",
            j(prompt_event("s", &"x".repeat(MAX_BODY))),
            413,
            "body_too_large",
            "",
        ),
    ]
}

/// Sends every case; checks each answer; returns the request ids sent
/// (each must leave an INVALID audit row).
async fn hostile_bodies(serve: &Serve) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    for (i, c) in cases().into_iter().enumerate() {
        let id = format!("hostile-{i}");
        let a = post(serve, &id, &c.body).await?;
        assert_eq!(
            (a.status, a.code(), a.field()),
            (c.status, c.code, c.field),
            "{}: {}",
            c.name,
            a.raw.chars().take(600).collect::<String>()
        );
        assert!(!a.message().is_empty(), "{}: a message says why", c.name);
        ids.push(id);
        still_accepts(serve, c.name).await?;
    }
    Ok(ids)
}

/// Protocol-level abuse: headers, content types, methods, encodings.
async fn hostile_requests(serve: &Serve) -> anyhow::Result<()> {
    let auth = format!("Authorization: Bearer {}", serve.token);
    let valid = serde_json::to_string(&prompt_event("s", "hi"))?;
    let head = |extra: &str, len: usize| {
        format!("POST /v1/events HTTP/1.1\r\nHost: h\r\n{auth}\r\n{extra}Content-Length: {len}")
    };

    // 10,000 headers: refused by the HTTP layer (431) before the router.
    let many: String = (0..10_000).map(|i| format!("X-H{i}: v\r\n")).collect();
    let a = send_raw(serve.port, &head(&many, valid.len()), valid.as_bytes()).await?;
    assert_eq!(a.status, 431, "10,000 headers: {}", a.raw);
    still_accepts(serve, "10,000 headers").await?;

    // One header of 1 MiB: also 431.
    let big = format!("X-Big: {}\r\n", "b".repeat(1 << 20));
    let a = send_raw(serve.port, &head(&big, valid.len()), valid.as_bytes()).await?;
    assert_eq!(a.status, 431, "a 1 MiB header: {}", a.raw);
    still_accepts(serve, "a 1 MiB header").await?;

    // A 10,000-character X-Request-Id.
    let long_id = format!("X-Request-Id: {}\r\n", "r".repeat(10_000));
    let a = send_raw(serve.port, &head(&long_id, valid.len()), valid.as_bytes()).await?;
    assert_eq!(
        (a.status, a.code(), a.field()),
        (400, "invalid_event", "X-Request-Id"),
        "{}",
        a.raw
    );
    still_accepts(serve, "a long X-Request-Id").await?;

    // Not JSON by its content type.
    let a = send_raw(
        serve.port,
        &head("Content-Type: text/plain\r\n", valid.len()),
        valid.as_bytes(),
    )
    .await?;
    assert_eq!((a.status, a.code()), (415, "unsupported_media_type"));
    still_accepts(serve, "text/plain").await?;

    // Content-Length over the limit: answered before the body is read.
    let a = send_raw(
        serve.port,
        &head("Content-Type: application/json\r\n", 10 * MAX_BODY),
        b"{",
    )
    .await?;
    assert_eq!((a.status, a.code()), (413, "body_too_large"), "{}", a.raw);
    still_accepts(serve, "a large Content-Length").await?;

    // Chunked, no Content-Length, over the limit.
    let mut chunked = Vec::new();
    for _ in 0..(MAX_BODY / 1000 + 2) {
        chunked.extend(format!("3e8\r\n{}\r\n", "x".repeat(1000)).into_bytes());
    }
    chunked.extend(b"0\r\n\r\n");
    let a = send_raw(
        serve.port,
        &format!("POST /v1/events HTTP/1.1\r\nHost: h\r\n{auth}\r\nTransfer-Encoding: chunked"),
        &chunked,
    )
    .await?;
    assert_eq!((a.status, a.code()), (413, "body_too_large"), "{}", a.raw);
    still_accepts(serve, "a chunked body over the limit").await?;

    // Broken chunked encoding: the body cannot be read in full (408, not
    // recorded, as for an upload cut short).
    let a = send_raw(
        serve.port,
        &format!("POST /v1/events HTTP/1.1\r\nHost: h\r\n{auth}\r\nTransfer-Encoding: chunked"),
        b"zz\r\nnot a chunk\r\n",
    )
    .await?;
    assert_eq!((a.status, a.code()), (408, "body_incomplete"), "{}", a.raw);
    still_accepts(serve, "a broken chunked body").await?;

    // No token, a wrong one, another scheme: the same 401.
    for bad in [
        "",
        "Authorization: Bearer nope\r\n",
        "Authorization: Basic YTpi\r\n",
    ] {
        let a = send_raw(
            serve.port,
            &format!(
                "POST /v1/events HTTP/1.1\r\nHost: h\r\n{bad}Content-Length: {}",
                valid.len()
            ),
            valid.as_bytes(),
        )
        .await?;
        assert_eq!((a.status, a.code()), (401, "unauthorized"), "{bad}");
    }
    // Unknown path, wrong method.
    let a = send_raw(serve.port, "GET /../../etc/passwd HTTP/1.1\r\nHost: h", b"").await?;
    assert_eq!((a.status, a.code()), (404, "not_found"));
    let a = send_raw(serve.port, "DELETE /v1/events HTTP/1.1\r\nHost: h", b"").await?;
    assert_eq!((a.status, a.code()), (405, "method_not_allowed"));
    // Garbage instead of HTTP: the connection gets a 400 or is closed.
    let mut s = TcpStream::connect(("127.0.0.1", serve.port)).await?;
    s.write_all(b"\x00\x01\x02 NOT HTTP \xff\xfe\r\n\r\n")
        .await?;
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await??;
    let text = String::from_utf8_lossy(&buf);
    assert!(buf.is_empty() || text.starts_with("HTTP/1.1 400"), "{text}");
    still_accepts(serve, "garbage bytes").await?;
    Ok(())
}

/// Bodies sent slowly: over the limit (answered 413 as soon as the limit is
/// passed), and one that never ends (answered 408 after the body timeout).
/// Meanwhile other clients are served at once.
async fn slow_bodies(serve: &Serve) -> anyhow::Result<()> {
    let port = serve.port;
    let auth = format!("Authorization: Bearer {}", serve.token);

    // Over the limit, chunked, trickled 512 bytes every 2 ms: 413 once the
    // limit is passed (well before the body timeout).
    let over = {
        let auth = auth.clone();
        tokio::spawn(async move {
            let mut s = TcpStream::connect(("127.0.0.1", port)).await?;
            s.write_all(
                format!(
                    "POST /v1/events HTTP/1.1\r\nHost: h\r\n{auth}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            )
            .await?;
            let started = Instant::now();
            let chunk = format!("200\r\n{}\r\n", "y".repeat(512));
            for _ in 0..(2 * MAX_BODY / 512) {
                if s.write_all(chunk.as_bytes()).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            let a = read_answer(&mut s, Duration::from_secs(10)).await?;
            anyhow::Ok((a, started.elapsed()))
        })
    };

    // Under the limit by Content-Length, but a byte every 200 ms forever
    // (slowloris): 408 once the body timeout is over. 50 such connections.
    let mut loris = Vec::new();
    for i in 0..50 {
        let auth = auth.clone();
        loris.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(("127.0.0.1", port)).await?;
            s.write_all(
                format!(
                    "POST /v1/events HTTP/1.1\r\nHost: h\r\n{auth}\r\nContent-Type: application/json\r\n\
                     X-Request-Id: slow-{i}\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n{{"
                )
                .as_bytes(),
            )
            .await?;
            let started = Instant::now();
            let (mut rd, mut wr) = s.into_split();
            let trickle = tokio::spawn(async move {
                for _ in 0..200 {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    if wr.write_all(b" ").await.is_err() {
                        break;
                    }
                }
            });
            let mut buf = Vec::new();
            let read = tokio::time::timeout(
                Duration::from_secs(BODY_TIMEOUT_S + 8),
                rd.read_to_end(&mut buf),
            )
            .await;
            trickle.abort();
            read.map_err(|_| anyhow::anyhow!("slow body {i}: no answer, connection held"))??;
            anyhow::Ok((String::from_utf8_lossy(&buf).into_owned(), started.elapsed()))
        }));
    }

    // Other clients meanwhile.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..5 {
        still_accepts(serve, "slow clients are connected").await?;
    }

    let (a, took) = over.await??;
    assert_eq!((a.status, a.code()), (413, "body_too_large"), "{}", a.raw);
    assert!(
        took < Duration::from_secs(BODY_TIMEOUT_S),
        "413 took {took:?}"
    );
    for l in loris {
        let (raw, took) = l.await??;
        assert!(raw.starts_with("HTTP/1.1 408"), "{raw}");
        assert!(raw.contains("\"body_timeout\""), "{raw}");
        assert!(
            took >= Duration::from_secs(BODY_TIMEOUT_S)
                && took < Duration::from_secs(BODY_TIMEOUT_S + 5),
            "408 after {took:?}"
        );
    }
    still_accepts(serve, "slow bodies").await?;
    Ok(())
}

/// Text full of SQL (and other) metacharacters, in every kind of column.
const SQLISH: &str =
    "Robert'); DROP TABLE messages;-- \" OR 1=1 /* */ ; \\ %_ $1 ?1 :name `x` \u{0} é";

async fn send_sql_metacharacters(serve: &Serve, session: &str) -> anyhow::Result<()> {
    let events = [
        json!({"session_id": session, "transcript_path": SQLISH, "cwd": SQLISH,
               "hook_event_name": "SessionStart", "source": "startup"}),
        prompt_event(session, SQLISH),
        json!({"session_id": session, "cwd": SQLISH, "hook_event_name": "PreToolUse",
               "tool_name": SQLISH, "tool_use_id": "toolu_sql",
               "tool_input": {"command": SQLISH, SQLISH: SQLISH}}),
    ];
    for (i, e) in events.iter().enumerate() {
        let a = post(serve, &format!("sql-{i}"), &serde_json::to_vec(e)?).await?;
        assert_eq!(a.status, 202, "{}", a.raw);
    }
    Ok(())
}

/// Waits until `done()` holds.
async fn until<F, Fut>(what: &str, mut done: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done().await? {
        anyhow::ensure!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

#[tokio::test]
async fn serve_on_sqlite_answers_hostile_input_with_4xx_and_stays_up() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let serve = start(dir.path(), None)?;
    let invalid_ids = hostile_bodies(&serve).await?;
    hostile_requests(&serve).await?;
    slow_bodies(&serve).await?;
    send_sql_metacharacters(&serve, "sess-sql").await?;

    let db = dir.path().join("hookline.db");
    let lite = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await?;
    until("the SQL events", || async {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM webhook_events WHERE request_id LIKE 'sql-%' AND status = 'SUCCESS'",
        )
        .fetch_one(&lite)
        .await?;
        Ok(n == 3)
    })
    .await?;
    let (cwd, path): (String, String) = sqlx::query_as(
        "SELECT cwd, transcript_path FROM conversations WHERE session_id = 'sess-sql'",
    )
    .fetch_one(&lite)
    .await?;
    assert_eq!((cwd.as_str(), path.as_str()), (SQLISH, SQLISH));
    let text: String = sqlx::query_scalar(
        "SELECT text FROM messages WHERE session_id = 'sess-sql' AND source = 'hook'",
    )
    .fetch_one(&lite)
    .await?;
    assert_eq!(text, SQLISH);
    let (tool, input): (String, String) =
        sqlx::query_as("SELECT tool_name, input FROM tool_uses WHERE tool_use_id = 'toolu_sql'")
            .fetch_one(&lite)
            .await?;
    assert_eq!(tool, SQLISH);
    let input: Value = serde_json::from_str(&input)?;
    assert_eq!(input, json!({"command": SQLISH, SQLISH: SQLISH}));

    // Every refused authenticated request left an INVALID audit row naming why.
    until("the INVALID rows", || async {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM webhook_events WHERE request_id LIKE 'hostile-%' AND status = 'INVALID'",
        )
        .fetch_one(&lite)
        .await?;
        Ok(n as usize == invalid_ids.len())
    })
    .await?;
    let errors: String = sqlx::query_scalar(
        "SELECT validation_errors FROM webhook_events WHERE request_id = 'hostile-12'",
    )
    .fetch_one(&lite)
    .await?;
    let errors: Value = serde_json::from_str(&errors)?;
    assert_eq!(errors[0]["field"], "session_id", "{errors}");
    assert_eq!(errors[0]["code"], "too_long", "{errors}");
    // The slow bodies too (408).
    until("the body_timeout rows", || async {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM webhook_events WHERE request_id LIKE 'slow-%' AND status = 'INVALID' AND validation_errors LIKE '%body_timeout%'",
        )
        .fetch_one(&lite)
        .await?;
        Ok(n == 50)
    })
    .await?;
    // The tables are all still there.
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('messages', 'conversations', 'tool_uses', 'webhook_events')",
    )
    .fetch_one(&lite)
    .await?;
    assert_eq!(tables, 4);
    Ok(())
}

#[sqlx::test(migrator = "hookline_store_postgres::MIGRATOR")]
async fn serve_on_postgres_stores_sql_metacharacters_verbatim(pool: PgPool) -> anyhow::Result<()> {
    let pg_url = pg_url(&pool);
    let dir = tempfile::tempdir()?;
    let serve = start(dir.path(), Some(&pg_url))?;
    let invalid_ids = hostile_bodies(&serve).await?;
    send_sql_metacharacters(&serve, "sess-sql").await?;

    until("the SQL events", || async {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM webhook_events WHERE request_id LIKE 'sql-%' AND status = 'SUCCESS'",
        )
        .fetch_one(&pool)
        .await?;
        Ok(n == 3)
    })
    .await?;
    // Postgres holds no NUL: it is stored escaped and read back unescaped.
    let un = hookline_core::text::unescape_str;
    let (cwd, path): (String, String) = sqlx::query_as(
        "SELECT cwd, transcript_path FROM conversations WHERE session_id = 'sess-sql'",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!((un(&cwd).as_ref(), un(&path).as_ref()), (SQLISH, SQLISH));
    let text: String = sqlx::query_scalar(
        "SELECT text FROM messages WHERE session_id = 'sess-sql' AND source = 'hook'",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!(un(&text), SQLISH);
    let (tool, input): (String, Value) =
        sqlx::query_as("SELECT tool_name, input FROM tool_uses WHERE tool_use_id = 'toolu_sql'")
            .fetch_one(&pool)
            .await?;
    assert_eq!(un(&tool), SQLISH);
    assert_eq!(
        hookline_core::text::unescape_json(&input).into_owned(),
        json!({"command": SQLISH, SQLISH: SQLISH})
    );
    until("the INVALID rows", || async {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM webhook_events WHERE request_id LIKE 'hostile-%' AND status = 'INVALID'",
        )
        .fetch_one(&pool)
        .await?;
        Ok(n as usize == invalid_ids.len())
    })
    .await?;
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('messages', 'conversations', 'tool_uses', 'webhook_events')",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!(tables, 4);
    Ok(())
}
