//! `hookline trace` and `hookline events stats` as an operator runs them:
//! the real binaries (the hook, `hookline serve`, `hookline`), real files,
//! real Postgres and SQLite.

use std::path::Path;
use std::process::{Command, Stdio};

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;

use hookline_test_support::db::pg_url;
use hookline_test_support::process::wait_for;

use crate::hookline;

#[tokio::test]
async fn trace_shows_every_stage_of_an_event_sent_by_the_hook_to_serve() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    let serve_log = d.join("serve.log");
    let serve = hookline()
        .serve(d)?
        .env("RUST_LOG", "info")
        .log_to(&serve_log)
        .start()?;
    let token = serve.token()?;

    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/events/UserPromptSubmit.json");
    let mut hook = Command::new(hookline().hook()?)
        .env("HOOKLINE_URL", &serve.addr)
        .env("HOOKLINE_TOKEN", &token)
        .env("HOOKLINE_CONFIG", d.join("no-config.toml"))
        .env("HOOKLINE_LOG_DIR", d.join("hook-logs"))
        .env("HOOKLINE_SPOOL_DIR", d.join("spool"))
        .env("HOOKLINE_TIMEOUT_MS", "10000")
        .env("HOOKLINE_TRANSCRIPTS", "false")
        .stdin(std::fs::File::open(&fixture)?)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    hook.wait()?;
    let hook_log = d.join("hook-logs/hook.log");
    let captured = wait_for(&hook_log, "request_id")?;
    let request_id = captured
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find_map(|v| v["request_id"].as_str().map(str::to_owned))
        .ok_or_else(|| anyhow::anyhow!("no request id in hook.log: {captured}"))?;
    wait_for(&serve_log, "record processed")?;

    let env = [("HOOKLINE_DATA_DIR", d.display().to_string())];
    let (hl, sl) = (
        hook_log.display().to_string(),
        serve_log.display().to_string(),
    );
    let args = [
        "trace",
        request_id.as_str(),
        "--file",
        hl.as_str(),
        "--file",
        sl.as_str(),
    ];
    let v: Value =
        serde_json::from_str(&hookline().run(&env, &[&args[..], &["--json"]].concat())?)?;
    for stage in ["hook", "ingest", "worker"] {
        let n = v[stage].as_array().map_or(0, Vec::len);
        assert!(n >= 1, "{stage} log lines of {request_id}: {v:#}");
    }
    assert_eq!(v["audit"]["status"], "SUCCESS", "{v:#}");
    assert_eq!(v["queue"]["in_dlq"], false);
    assert!(
        v["queue"]["attempts"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["status"] == "SUCCESS"))
    );
    assert_eq!(
        v["audit"]["domain"]["messages"][0],
        format!("prompt:{request_id}")
    );

    let text = hookline().run(&env, &args)?;
    for section in [
        "== hook",
        "== ingest",
        "== queue",
        "== worker",
        "== audit",
        "== domain",
    ] {
        assert!(text.contains(section), "{section} missing:\n{text}");
    }
    let logs = hookline().run(
        &env,
        &[
            "logs",
            "--file",
            sl.as_str(),
            "--request-id",
            request_id.as_str(),
            "--json",
        ],
    )?;
    assert!(logs.lines().count() >= 2, "ingest and worker lines: {logs}");
    assert!(logs.lines().all(|l| l.contains(&request_id)));
    Ok(())
}

/// (event type, status, processing ms, end-to-end ms, error, hours ago).
type Row = (
    &'static str,
    &'static str,
    i32,
    i64,
    Option<(&'static str, &'static str)>,
    i64,
);
const ROWS: [Row; 7] = [
    ("Stop", "SUCCESS", 10, 100, None, 1),
    ("Stop", "SUCCESS", 20, 200, None, 1),
    ("Stop", "SUCCESS", 30, 300, None, 2),
    ("Stop", "SUCCESS", 40, 400, None, 3),
    ("Stop", "FAILED", 5, 50, Some(("DB_TRANSIENT", "boom")), 1),
    (
        "PreToolUse",
        "INVALID",
        1,
        10,
        Some(("VALIDATION", "bad field")),
        1,
    ),
    ("Stop", "SUCCESS", 999, 9999, None, 48),
];

fn times(hours_ago: i64, e2e: i64) -> (DateTime<Utc>, DateTime<Utc>) {
    let received = Utc::now() - chrono::Duration::hours(hours_ago);
    (received, received + chrono::Duration::milliseconds(e2e))
}

fn check_stats(v: &Value) {
    assert_eq!(v["total"], 6, "the 48 h old row is outside 24 h: {v:#}");
    let stop = &v["event_types"][0];
    assert_eq!(stop["event_type"], "Stop");
    assert_eq!(
        (
            stop["total"].as_u64(),
            stop["success"].as_u64(),
            stop["failed"].as_u64()
        ),
        (Some(5), Some(4), Some(1))
    );
    assert_eq!(stop["success_rate"], 80.0);
    assert_eq!(stop["processing_ms"]["p50"], 25.0);
    assert_eq!(stop["end_to_end_ms"]["p50"], 250.0);
    assert_eq!(v["errors"][0]["sample"], "boom");
    assert_eq!(v["errors"][1]["error_code"], "VALIDATION");
}

#[sqlx::test(migrator = "hookline_store_postgres::MIGRATOR")]
async fn events_stats_agree_on_postgres_and_sqlite(pool: PgPool) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let lite = hookline_store_sqlite::open(&dir.path().join("hookline.db")).await?;
    for (i, (kind, status, ms, e2e, err, ago)) in ROWS.into_iter().enumerate() {
        let (received, processed) = times(ago, e2e);
        let (code, msg) = (err.map(|e| e.0), err.map(|e| e.1));
        sqlx::query(
            "INSERT INTO webhook_events (request_id, event_type, status, received_at, processed_at, processing_ms, error_code, error_message)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(format!("r{i}")).bind(kind).bind(status).bind(received).bind(processed).bind(ms).bind(code).bind(msg)
        .execute(&pool)
        .await?;
        let text = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        sqlx::query(
            "INSERT INTO webhook_events (request_id, event_type, status, received_at, processed_at, processing_ms, error_code, error_message)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .bind(format!("r{i}")).bind(kind).bind(status).bind(text(received)).bind(text(processed)).bind(ms).bind(code).bind(msg)
        .execute(&lite)
        .await?;
    }
    let pg_url = pg_url(&pool);
    let pg: Value = serde_json::from_str(
        &hookline().run(&[("DATABASE_URL", pg_url)], &["events", "stats", "--json"])?,
    )?;
    let sl: Value = serde_json::from_str(&hookline().run(
        &[("HOOKLINE_DATA_DIR", dir.path().display().to_string())],
        &["events", "stats", "--since", "24h", "--json"],
    )?)?;
    check_stats(&pg);
    check_stats(&sl);
    assert_eq!(pg["event_types"], sl["event_types"]);
    assert_eq!(pg["errors"], sl["errors"]);
    let text = hookline().run(
        &[("HOOKLINE_DATA_DIR", dir.path().display().to_string())],
        &["events", "stats"],
    )?;
    assert!(
        text.contains("Stop") && text.contains("80.0") && text.contains("DB_TRANSIENT"),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn logs_reads_cloudwatch_and_filters_by_field_in_hookline() -> anyhow::Result<()> {
    let cw = aws_sdk_cloudwatchlogs::Client::new(&hookline_core::aws::loader(None).load().await);
    let group = format!("/aws/lambda/ops-test-{}", uuid::Uuid::new_v4().simple());
    cw.create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("LocalStack logs is needed (scripts/localstack-up): {e:?}"))?;
    cw.create_log_stream()
        .log_group_name(&group)
        .log_stream_name("2026/11/29/[$LATEST]abc")
        .send()
        .await?;
    let now = Utc::now();
    let line = |rid: &str, level: &str, msg: &str| {
        format!(
            r#"{{"timestamp":"{}","level":"{level}","message":"{msg}","request_id":"{rid}","function":"hookline-worker"}}"#,
            now.to_rfc3339()
        )
    };
    let events = [
        "START RequestId: 7f1c Version: $LATEST".to_owned(),
        line("req-one", "INFO", "record processed"),
        line("req-two", "ERROR", "record failed"),
        line("req-one", "ERROR", "could not record the failure"),
    ];
    let mut put = cw
        .put_log_events()
        .log_group_name(&group)
        .log_stream_name("2026/11/29/[$LATEST]abc");
    for e in events {
        put = put.log_events(
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(now.timestamp_millis())
                .message(e)
                .build()?,
        );
    }
    put.send().await?;

    let endpoint =
        std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| "http://127.0.0.1:4566".into());
    let env = [("AWS_ENDPOINT_URL", endpoint)];
    let get = |extra: &[&str]| -> anyhow::Result<Vec<Value>> {
        let args = [
            &[
                "logs",
                "--group",
                group.as_str(),
                "--since",
                "10m",
                "--json",
            ][..],
            extra,
        ]
        .concat();
        hookline()
            .run(&env, &args)?
            .lines()
            .map(|l| Ok(serde_json::from_str(l)?))
            .collect()
    };
    assert_eq!(
        get(&[])?.len(),
        4,
        "every line, the Lambda platform line too"
    );
    let one = get(&["--request-id", "req-one"])?;
    assert_eq!(
        one.len(),
        2,
        "LocalStack ignores the filter pattern; hookline filters: {one:#?}"
    );
    assert!(one.iter().all(|l| l["request_id"] == "req-one"));
    let errors = get(&["--level", "error"])?;
    assert_eq!(errors.len(), 2);
    assert!(errors.iter().all(|l| l["level"] == "ERROR"));
    let text = hookline().run(
        &env,
        &["logs", "--group", group.as_str(), "--request-id", "req-two"],
    )?;
    assert!(
        text.contains("ERROR") && text.contains("record failed") && !text.contains("req-one"),
        "{text}"
    );
    Ok(())
}

#[test]
fn logs_ship_puts_lines_in_the_function_log_group_that_logs_then_reads() -> anyhow::Result<()> {
    let function = format!("ops-ship-{}", uuid::Uuid::new_v4().simple());
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("watch.log");
    let now = Utc::now().to_rfc3339();
    std::fs::write(
        &file,
        format!(
            "{{\"timestamp\":\"{now}\",\"level\":\"INFO\",\"message\":\"record processed\",\"request_id\":\"r-ship\",\"function\":\"{function}\"}}\n\
             {{\"timestamp\":\"{now}\",\"level\":\"INFO\",\"message\":\"record processed\",\"request_id\":\"r-other\",\"function\":\"{function}\"}}\n"
        ),
    )?;
    let endpoint =
        std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| "http://127.0.0.1:4566".into());
    let env = [("AWS_ENDPOINT_URL", endpoint)];
    let f = file.display().to_string();
    let out = hookline().run(&env, &["logs", "ship", f.as_str()])?;
    assert!(out.contains("shipped 2 line(s)"), "{out}");
    let group = format!("/aws/lambda/{function}");
    let got = hookline().run(
        &env,
        &[
            "logs",
            "--group",
            group.as_str(),
            "--request-id",
            "r-ship",
            "--json",
        ],
    )?;
    let lines: Vec<Value> = got
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(lines.len(), 1, "{got}");
    assert_eq!(lines[0]["message"], "record processed");
    Ok(())
}
