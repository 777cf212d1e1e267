//! Security checks as an auditor would make them on a real run:
//!
//! - a distinctive token goes through `hookline serve` from real
//!   `hookline-hook` processes (and from hostile requests); then every log
//!   file, spool file, database row (SQLite and Postgres, every table, every
//!   column) and every queue message body and attribute (embedded queue and
//!   SQS) is searched for it: it must be nowhere;
//! - serve listens on loopback unless told otherwise.
//!
//! Only the token's SHA-256 may be kept (the `tokens` file, checked in
//! `serve.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hookline_core::envelope::QueueMessage;
use hookline_core::http::{IngestState, TokenSet, app, hash_hex};
use hookline_core::queue::Queue;
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, PgPool, Row};

use hookline_test_support::db::pg_url;

use crate::hookline;

/// A token nobody would write by chance, and a wrong one (also a secret: a
/// client's mistyped token must not be logged either).
fn canaries() -> (String, String) {
    let id = uuid::Uuid::new_v4().simple().to_string();
    (format!("hl_leakcanary{id}"), format!("hl_wrongcanary{id}"))
}

const PRINCIPAL: &str = "leakcheck";
const PROMPT: &str = "Write a function to calculate the factorial of a number";

/// Where a needle was found.
#[derive(Default)]
struct Findings(Vec<String>);

impl Findings {
    fn check(&mut self, place: impl Fn() -> String, text: &str, needle: &str) {
        if text.contains(needle) {
            self.0.push(place());
        }
        // A queue message body: also its decoded (decompressed) form.
        if let Ok(msg) = QueueMessage::decode(text)
            && serde_json::to_string(&msg).is_ok_and(|t| t.contains(needle))
        {
            self.0.push(format!("{} (decoded queue message)", place()));
        }
    }
}

/// Every file under `root`, as bytes.
fn scan_files(root: &Path, needle: &str, f: &mut Findings) -> anyhow::Result<usize> {
    let mut n = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir)? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p)?;
                f.check(
                    || format!("file {}", p.display()),
                    &String::from_utf8_lossy(&bytes),
                    needle,
                );
                n += 1;
            }
        }
    }
    Ok(n)
}

/// Every column of every row of every table of a SQLite file.
async fn scan_sqlite(db: &Path, needles: &[&str], f: &mut Findings) -> anyhow::Result<usize> {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", db.display())).await?;
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(&pool)
            .await?;
    let mut values = 0;
    for t in &tables {
        let cols: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?1)")
            .bind(t)
            .fetch_all(&pool)
            .await?;
        for c in &cols {
            let sql = format!("SELECT CAST(\"{c}\" AS BLOB) FROM \"{t}\"");
            for v in sqlx::query_scalar::<_, Option<Vec<u8>>>(AssertSqlSafe(sql))
                .fetch_all(&pool)
                .await?
                .into_iter()
                .flatten()
            {
                let text = String::from_utf8_lossy(&v);
                for needle in needles {
                    f.check(
                        || format!("{} table {t} column {c}", db.display()),
                        &text,
                        needle,
                    );
                }
                values += 1;
            }
        }
    }
    pool.close().await;
    Ok(values)
}

/// Every row of every table of the Postgres database, as text.
async fn scan_postgres(pool: &PgPool, needles: &[&str], f: &mut Findings) -> anyhow::Result<usize> {
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'")
            .fetch_all(pool)
            .await?;
    let mut rows = 0;
    for t in &tables {
        for row in sqlx::query(AssertSqlSafe(format!("SELECT r::text FROM \"{t}\" r")))
            .fetch_all(pool)
            .await?
        {
            let text: String = row.try_get(0)?;
            for needle in needles {
                f.check(|| format!("postgres table {t}"), &text, needle);
            }
            rows += 1;
        }
    }
    Ok(rows)
}

/// Runs the hook as Claude Code does: stdin the event, environment cleared
/// but for the hook's own settings; its stdout and stderr kept in files.
fn run_hook(
    d: &Path,
    name: &str,
    token: &str,
    url: &str,
    args: &[&str],
    stdin: &[u8],
) -> anyhow::Result<()> {
    use std::io::Write;
    let home = d.join(name);
    std::fs::create_dir_all(home.join("home"))?;
    let n = std::fs::read_dir(&home)?.count();
    let mut child = Command::new(hookline().hook()?)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.join("home"))
        .env("HOOKLINE_URL", url)
        .env("HOOKLINE_TOKEN", token)
        .env("HOOKLINE_CONFIG", home.join("config.toml"))
        .env("HOOKLINE_LOG_DIR", home.join("log"))
        .env("HOOKLINE_SPOOL_DIR", home.join("spool"))
        .env("HOOKLINE_LOG_LEVEL", "debug")
        .env("HOOKLINE_TIMEOUT_MS", "10000")
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(home.join(format!("stdout-{n}.txt")))?)
        .stderr(std::fs::File::create(home.join(format!("stderr-{n}.txt")))?)
        .spawn()?;
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin);
    }
    anyhow::ensure!(child.wait()?.success(), "the hook exits 0");
    Ok(())
}

/// What a run leaves behind, to be searched.
struct Run {
    dir: tempfile::TempDir,
    token: String,
    wrong: String,
}

/// Serve (store from `database_url`, else SQLite; embedded queue) fed by
/// real hook processes with the fixtures and a transcript, plus hostile
/// requests carrying the token; waits until every event is processed and
/// stops serve.
async fn run_serve(database_url: Option<&str>) -> anyhow::Result<Run> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    let (token, wrong) = canaries();
    let serve_log = d.join("serve.log");
    let mut serve = hookline()
        .serve(&d.join("serve"))?
        .env(
            "HOOKLINE_TOKENS",
            format!("{PRINCIPAL}:{}", hash_hex(&token)),
        )
        .env("RUST_LOG", "debug")
        .database_url(database_url)
        .stdout_to(&d.join("serve.stdout"))?
        .log_to(&serve_log)
        .start()?;
    let url = serve.addr.clone();

    // The fixtures, through real hook processes, with a transcript.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    let transcript = d.join("claude/transcript.jsonl");
    std::fs::create_dir_all(d.join("claude"))?;
    std::fs::copy(fixtures.join("transcripts/stop-turn.jsonl"), &transcript)?;
    let mut names: Vec<PathBuf> = std::fs::read_dir(fixtures.join("events"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    names.sort();
    for p in &names {
        let mut ev: Value = serde_json::from_slice(&std::fs::read(p)?)?;
        ev["transcript_path"] = json!(transcript);
        run_hook(d, "hook", &token, &url, &[], &serde_json::to_vec(&ev)?)?;
    }
    // An event the server refuses (kept in the hook's failed/), and the
    // wrong token (401).
    let bad = json!({"session_id": "not a valid id", "hook_event_name": "Stop"});
    run_hook(d, "hook", &token, &url, &[], &serde_json::to_vec(&bad)?)?;
    let ok = json!({"session_id": "wrong-token-session", "hook_event_name": "Stop"});
    run_hook(
        d,
        "hook-wrong",
        &wrong,
        &url,
        &[],
        &serde_json::to_vec(&ok)?,
    )?;
    run_hook(d, "hook", &token, &url, &["flush"], b"")?;

    // Hostile requests carrying the token: other schemes, a bad body, too
    // large, the token in the body.
    // No connection reuse: serve closes the connection of a 413, and a
    // request sent on it next would fail in the client, not be answered.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let post = |auth: String, body: Vec<u8>| {
        http.post(format!("{url}/v1/events"))
            .header("authorization", auth)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let mut statuses = Vec::new();
    for (auth, body) in [
        (format!("Basic {token}"), b"{}".to_vec()),
        (format!("Bearer {wrong}"), b"{}".to_vec()),
        (format!("bearer {token}"), b"{not json".to_vec()),
        (format!("Bearer {token}"), vec![b' '; 2 << 20]),
        (format!("Bearer  {token} "), b"[]".to_vec()),
    ] {
        statuses.push(match post(auth, body).await {
            Ok(r) => r.status().as_u16(),
            // Serve answers 413 from Content-Length and closes while the
            // client is still sending; the client may see the reset first.
            Err(e) if e.is_request() => 413,
            Err(e) => return Err(e.into()),
        });
    }
    assert_eq!(statuses, [401, 401, 400, 413, 400]);

    // 12 fixtures + the refused hook event + 3 refused requests.
    let expected = names.len() + 4;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n = match database_url {
            Some(u) => {
                let pool = PgPool::connect(u).await?;
                let n: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM webhook_events WHERE status IN ('SUCCESS', 'INVALID')",
                )
                .fetch_one(&pool)
                .await?;
                pool.close().await;
                n
            }
            None => {
                let db = d.join("serve/hookline.db");
                let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", db.display()))
                    .await?;
                let n: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM webhook_events WHERE status IN ('SUCCESS', 'INVALID')",
                )
                .fetch_one(&pool)
                .await?;
                pool.close().await;
                n
            }
        };
        if n as usize >= expected {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {n} of {expected} events processed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::ensure!(serve.terminate()?.success(), "serve stops cleanly");
    Ok(Run { dir, token, wrong })
}

/// Files and SQLite databases of a run: returns where the token was found,
/// after checking that the search does find what must be there.
async fn scan_run(run: &Run) -> anyhow::Result<Findings> {
    let d = run.dir.path();
    let mut found = Findings::default();
    let files = scan_files(d, &run.token, &mut found)? + scan_files(d, &run.wrong, &mut found)?;
    let mut dbs = 0;
    for e in std::fs::read_dir(d.join("serve"))? {
        let p = e?.path();
        if p.extension().is_some_and(|x| x == "db") {
            dbs += scan_sqlite(&p, &[run.token.as_str(), run.wrong.as_str()], &mut found).await?;
        }
    }
    // The search sees what it should: the principal in serve's log, the
    // spool's files, and the rows.
    let mut control = Findings::default();
    scan_files(d, PRINCIPAL, &mut control)?;
    assert!(
        control.0.iter().any(|p| p.ends_with("serve.log")),
        "serve.log names the principal: {:?}",
        control.0
    );
    assert!(
        files > 10 && dbs > 10,
        "{files} files, {dbs} values searched"
    );
    Ok(found)
}

#[tokio::test]
async fn the_token_is_in_no_log_spool_file_queue_row_or_database_row_after_a_run_on_sqlite()
-> anyhow::Result<()> {
    let run = run_serve(None).await?;
    let found = scan_run(&run).await?;
    let mut control = Findings::default();
    scan_sqlite(
        &run.dir.path().join("serve/hookline.db"),
        &[PROMPT],
        &mut control,
    )
    .await?;
    assert!(
        !control.0.is_empty(),
        "the rows hold the prompt (the search reads them)"
    );
    assert!(
        found.0.is_empty(),
        "the token was found in:\n{}",
        found.0.join("\n")
    );
    Ok(())
}

#[sqlx::test(migrator = "hookline_store_postgres::MIGRATOR")]
async fn the_token_is_in_no_postgres_row_log_or_file_after_a_run_on_postgres(
    pool: PgPool,
) -> anyhow::Result<()> {
    let url = pg_url(&pool);
    let run = run_serve(Some(&url)).await?;
    let mut found = scan_run(&run).await?;
    let rows = scan_postgres(&pool, &[run.token.as_str(), run.wrong.as_str()], &mut found).await?;
    let mut control = Findings::default();
    scan_postgres(&pool, &[PROMPT], &mut control).await?;
    assert!(
        rows > 20 && !control.0.is_empty(),
        "{rows} rows searched, the prompt among them"
    );
    assert!(
        found.0.is_empty(),
        "the token was found in:\n{}",
        found.0.join("\n")
    );
    Ok(())
}

/// Ingest in-process in front of `queue`, the requests of a client with the
/// token (valid, invalid, oversize, compressed), then every message left on
/// the queue: bodies and attributes, decoded.
async fn token_in_queue_messages(queue: Arc<dyn Queue>) -> anyhow::Result<Findings> {
    let (token, wrong) = canaries();
    let state = IngestState {
        queue: queue.clone(),
        tokens: Arc::new(TokenSet::parse(&format!(
            "{PRINCIPAL}:{}",
            hash_hex(&token)
        ))?),
        sessions: None,
        max_body: 1 << 20,
        body_timeout: hookline_core::http::DEFAULT_BODY_TIMEOUT,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/v1/events", listener.local_addr()?);
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/events/UserPromptSubmit.json");
    let event = std::fs::read(fixture)?;
    let mut big: Value = serde_json::from_slice(&event)?;
    big["prompt"] = json!("factorial ".repeat(104_200));
    let bodies: [(String, Vec<u8>, u16); 6] = [
        (format!("Bearer {token}"), event.clone(), 202),
        (format!("Bearer {token}"), serde_json::to_vec(&big)?, 202),
        (
            format!("Bearer {token}"),
            b"{\"session_id\": 1}".to_vec(),
            400,
        ),
        (format!("Bearer {token}"), b"\xff not json".to_vec(), 400),
        (format!("Bearer {token}"), vec![b'{'; (1 << 20) + 1], 413),
        (format!("Bearer {wrong}"), event, 401),
    ];
    let http = reqwest::Client::new();
    for (auth, body, want) in bodies {
        let r = http
            .post(&url)
            .header("authorization", auth)
            .header("x-hookline-client", "security-test")
            .body(body)
            .send()
            .await;
        let status = match r {
            Ok(r) => r.status().as_u16(),
            // 413 is answered from Content-Length, before the body is read:
            // the client may see the connection close first.
            Err(e) if e.is_request() && want == 413 => 413,
            Err(e) => return Err(e.into()),
        };
        assert_eq!(status, want);
    }
    server.abort();

    let mut found = Findings::default();
    let mut seen = 0;
    let mut compressed = 0;
    loop {
        let got = queue.receive(10, Duration::from_secs(1)).await?;
        if got.is_empty() {
            break;
        }
        for m in got {
            seen += 1;
            compressed += usize::from(m.body.contains("\"encoding\":\"gzip_"));
            for needle in [&token, &wrong] {
                found.check(|| format!("message {} body", m.message_id), &m.body, needle);
                found.check(
                    || format!("message {} attributes", m.message_id),
                    &format!("{:?}", m.attributes),
                    needle,
                );
            }
            let decoded = QueueMessage::decode(&m.body)?;
            assert_eq!(decoded.envelope().principal.as_deref(), Some(PRINCIPAL));
            queue.delete(&m.receipt).await?;
        }
    }
    assert_eq!(seen, 5, "every authenticated request is on the queue");
    assert_eq!(compressed, 1, "the large event went compressed");
    Ok(found)
}

#[tokio::test]
async fn the_token_is_in_no_message_of_the_embedded_queue() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let pool = hookline_store_sqlite::open(&dir.path().join("queue.db")).await?;
    let db = hookline_queue_sqlite::QueueDb::new(pool);
    let (queue, _dlq) = db
        .queue_with_dlq("security", Duration::from_secs(30), 5)
        .await?;
    let found = token_in_queue_messages(Arc::new(queue)).await?;
    assert!(
        found.0.is_empty(),
        "the token was found in:\n{}",
        found.0.join("\n")
    );
    Ok(())
}

#[tokio::test]
async fn the_token_is_in_no_sqs_message_body_or_attribute() -> anyhow::Result<()> {
    use hookline_core::queue::sqs::{Purpose, SqsQueue, client};
    let sqs = client(Purpose::Poll).await;
    let name = format!("security-{}", uuid::Uuid::new_v4().simple());
    let url = sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("LocalStack SQS is needed (scripts/localstack-up): {e:?}"))?
        .queue_url
        .unwrap_or_default();
    let result = token_in_queue_messages(Arc::new(SqsQueue::new(sqs.clone(), url.clone()))).await;
    let _ = sqs.delete_queue().queue_url(&url).send().await;
    let found = result?;
    assert!(
        found.0.is_empty(),
        "the token was found in:\n{}",
        found.0.join("\n")
    );
    Ok(())
}

/// With no address given, serve uses 127.0.0.1:8787: the install line it
/// prints on first start names it. (A bad store stops it before it binds,
/// so the test never holds the port.)
#[test]
fn serve_listens_on_loopback_unless_told_otherwise() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let out = hookline()
        .command(["serve"])
        .env("HOOKLINE_DATA_DIR", dir.path())
        .env("DATABASE_URL", "nosuchdb://x")
        .stdin(Stdio::null())
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("--url http://127.0.0.1:8787 "),
        "default address is loopback: {stderr}"
    );
    let help = hookline().command(["serve", "--help"]).output()?;
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("[default: 127.0.0.1:8787]"), "{help}");
    Ok(())
}
