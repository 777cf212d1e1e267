//! `hookline-hook backfill` against `hookline serve`: a session is captured
//! live in part, the hooks then miss the rest (server down, nothing sent),
//! and backfill recovers exactly the missing rows; a second backfill adds
//! nothing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hookline_conformance::db::sqlite_row;
use hookline_conformance::spotter::{self, Expect};
use serde_json::{Value, json};
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::{AssertSqlSafe, Row, SqlitePool};

use hookline_test_support::cli::Serve;

use crate::hookline;

const SESSION: &str = "5e551011-0000-4000-8000-00000000b0f1";
const TURNS: usize = 40;
const LIVE_TURNS: usize = 15;

struct Hook {
    bin: PathBuf,
    root: PathBuf,
    url: String,
    token: String,
}

impl Hook {
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(args)
            .env("HOME", self.root.join("home"))
            .env("CLAUDE_CONFIG_DIR", self.root.join("claude"))
            .env("HOOKLINE_CONFIG", self.root.join("config.toml"))
            .env("HOOKLINE_SPOOL_DIR", self.root.join("spool"))
            .env("HOOKLINE_LOG_DIR", self.root.join("log"))
            .env("HOOKLINE_URL", &self.url)
            .env("HOOKLINE_TOKEN", &self.token)
            .env("HOOKLINE_TIMEOUT_MS", "5000")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_DATA_HOME")
            .env_remove("XDG_STATE_HOME");
        c
    }

    fn run(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = self.command(args).stdin(Stdio::null()).output()?;
        anyhow::ensure!(
            out.status.success(),
            "hookline-hook {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8(out.stdout)?)
    }

    fn event(&self, event: &Value) -> anyhow::Result<()> {
        let mut child = self.command(&[]).stdin(Stdio::piped()).spawn()?;
        if let Some(mut i) = child.stdin.take() {
            i.write_all(event.to_string().as_bytes())?;
        }
        anyhow::ensure!(child.wait()?.success());
        Ok(())
    }
}

/// `hookline serve` on `data` and a hook (HOME, spool, config) under
/// `root` pointed at it with the token serve printed.
fn serve_and_hook(root: &Path, data: &Path) -> anyhow::Result<(Serve, Hook)> {
    std::fs::create_dir_all(data)?;
    let serve = hookline()
        .serve(data)?
        .arg("--visibility-timeout")
        .arg("2")
        .start()?;
    let hook = Hook {
        bin: hookline().hook()?,
        root: root.to_path_buf(),
        url: serve.addr.clone(),
        token: serve.token()?,
    };
    Ok((serve, hook))
}

fn entry(i: usize, kind: &str, parent: Option<String>) -> Value {
    let uuid = format!("b0f10000-0000-4000-8000-{i:012}");
    let mut e = json!({
        "parentUuid": parent, "isSidechain": false, "userType": "external",
        "cwd": "/work/app", "sessionId": SESSION, "version": "2.1.240",
        "uuid": uuid, "timestamp": format!("2026-11-20T10:{:02}:{:02}.000Z", i / 60, i % 60),
        "type": kind,
    });
    e["message"] = if kind == "user" {
        json!({"role": "user", "content": format!("question {i}")})
    } else {
        json!({"id": format!("msg_{i}"), "type": "message", "role": "assistant",
               "model": "claude-sonnet-5", "content": [{"type": "text", "text": format!("answer {i}")}],
               "stop_reason": "end_turn",
               "usage": {"input_tokens": 10, "output_tokens": 5}})
    };
    if kind == "assistant" {
        e["requestId"] = json!(format!("req_{i}"));
    }
    e
}

/// `turns` turns of one user and one assistant entry.
fn lines(turns: std::ops::Range<usize>) -> String {
    let mut out = String::new();
    for t in turns {
        let (u, a) = (2 * t, 2 * t + 1);
        let prev = (u > 0).then(|| format!("b0f10000-0000-4000-8000-{:012}", u - 1));
        out.push_str(&entry(u, "user", prev).to_string());
        out.push('\n');
        let prev = Some(format!("b0f10000-0000-4000-8000-{u:012}"));
        out.push_str(&entry(a, "assistant", prev).to_string());
        out.push('\n');
    }
    out
}

async fn counts(db: &SqlitePool) -> anyhow::Result<(i64, i64, i64, i64)> {
    let r = sqlx::query(
        "SELECT (SELECT count(*) FROM transcript_entries WHERE session_id = ?1),
                (SELECT count(*) FROM messages WHERE session_id = ?1),
                (SELECT count(*) FROM webhook_events),
                (SELECT count(*) FROM webhook_event_attempts)",
    )
    .bind(SESSION)
    .fetch_one(db)
    .await?;
    Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?))
}

/// Waits until `done(counts)`.
async fn wait_for(
    db: &SqlitePool,
    what: &str,
    done: impl Fn((i64, i64, i64, i64)) -> bool,
) -> anyhow::Result<(i64, i64, i64, i64)> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let c = counts(db).await?;
        if done(c) {
            return Ok(c);
        }
        anyhow::ensure!(Instant::now() < deadline, "{what}: still {c:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn backfill_after_an_outage_recovers_exactly_the_missing_rows() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("serve");
    let (_serve, hook) = serve_and_hook(dir.path(), &data)?;
    let project = dir.path().join("claude/projects/-work-app");
    std::fs::create_dir_all(project.join(SESSION).join("subagents"))?;
    let transcript = project.join(format!("{SESSION}.jsonl"));
    let db = SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{}", data.join("hookline.db").display()))
        .await?;

    // Live: the first turns, sent by the hook on Stop.
    std::fs::write(&transcript, lines(0..LIVE_TURNS))?;
    let stop = json!({"session_id": SESSION, "transcript_path": transcript, "cwd": "/work/app",
                      "hook_event_name": "Stop", "stop_hook_active": false});
    hook.event(&stop)?;
    let live = (2 * LIVE_TURNS) as i64;
    let before = wait_for(&db, "live capture", |c| c.0 == live && c.1 == live).await?;

    // The outage: the rest of the session and a subagent are written, no hook reaches the server.
    let mut rest = std::fs::OpenOptions::new().append(true).open(&transcript)?;
    rest.write_all(lines(LIVE_TURNS..TURNS).as_bytes())?;
    let agent = json!({"parentUuid": null, "isSidechain": true, "sessionId": SESSION, "agentId": "a1",
        "uuid": "a1a10000-0000-4000-8000-000000000001", "timestamp": "2026-11-20T10:30:00.000Z",
        "type": "assistant", "requestId": "req_a1",
        "message": {"id": "msg_a1", "role": "assistant", "model": "claude-haiku-5",
                    "content": [{"type": "text", "text": "subagent answer"}], "usage": {"input_tokens": 3, "output_tokens": 2}}});
    std::fs::write(
        project.join(SESSION).join("subagents/agent-a1.jsonl"),
        format!("{agent}\n"),
    )?;
    assert_eq!(
        counts(&db).await?,
        before,
        "nothing arrives while the hooks are silent"
    );

    let total = (2 * TURNS + 1) as i64;
    let dry = hook.run(&["backfill", "--dry-run"])?;
    assert!(
        dry.contains("would send 1 sessions, 2 files, 81 transcript entries in 2 requests"),
        "{dry}"
    );
    assert!(
        std::fs::read_dir(dir.path().join("spool/pending")).map_or(0, |d| d.count()) == 0,
        "a dry run spools nothing"
    );
    let out = hook.run(&["backfill"])?;
    assert!(out.contains("sent 2,"), "{out}");
    let after = wait_for(&db, "backfill", |c| c.0 == total && c.3 >= before.3 + 2).await?;
    assert_eq!(
        after.0, total,
        "every entry once: live ones are not duplicated"
    );
    assert_eq!(
        after.1,
        (2 * TURNS + 1) as i64,
        "a prompt and a reply per turn, the subagent's reply"
    );
    assert_eq!(after.2, before.2 + 2, "one audit row per backfill request");
    let per_uuid: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT uuid FROM transcript_entries GROUP BY session_id, uuid HAVING count(*) > 1)",
    )
    .fetch_one(&db)
    .await?;
    assert_eq!(per_uuid, 0);
    let tokens: i64 = sqlx::query_scalar(
        "SELECT coalesce(sum(input_tokens), 0) FROM messages WHERE session_id = ?1",
    )
    .bind(SESSION)
    .fetch_one(&db)
    .await?;
    assert_eq!(
        tokens,
        10 * TURNS as i64 + 3,
        "usage counted once per reply"
    );

    // A second backfill sends the same requests again: the server drops them.
    let again = hook.run(&["backfill"])?;
    assert!(again.contains("sent 2,"), "{again}");
    let second = wait_for(&db, "second backfill", |c| c.3 >= after.3 + 2).await?;
    assert_eq!(
        (second.0, second.1, second.2),
        (after.0, after.1, after.2),
        "a rerun adds no entry, message or audit row"
    );
    let dup: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM webhook_event_attempts WHERE status = 'DUPLICATE'",
    )
    .fetch_one(&db)
    .await?;
    assert_eq!(dup, 2);
    Ok(())
}

/// The rows of `sql` as JSON objects.
async fn rows(db: &SqlitePool, sql: String) -> anyhow::Result<Vec<serde_json::Map<String, Value>>> {
    let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(db).await?;
    rows.iter().map(sqlite_row).collect()
}

/// Every real transcript of `../shared/transcripts/spotter/` (linked, not
/// copied, into a Claude Code folder with its subagents), sent by
/// `hookline-hook backfill` to a real `hookline serve`: per session the
/// rows hold what the JSONL says (computed by the conformance crate's own
/// reader), and `sessions show` reads like a captured session.
#[tokio::test]
async fn every_spotter_session_backfilled_into_serve_reads_like_its_transcript()
-> anyhow::Result<()> {
    let sessions = spotter::sessions()?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("serve");
    let (_serve, hook) = serve_and_hook(dir.path(), &data)?;
    let project = dir.path().join("claude/projects/-w");
    std::fs::create_dir_all(&project)?;
    for s in &sessions {
        for f in &s.files {
            let link = match &f.agent_id {
                None => project.join(format!("{}.jsonl", s.session_id)),
                Some(a) => project
                    .join(&s.session_id)
                    .join("subagents")
                    .join(format!("agent-{a}.jsonl")),
            };
            if let Some(d) = link.parent() {
                std::fs::create_dir_all(d)?;
            }
            std::os::unix::fs::symlink(std::fs::canonicalize(&f.path)?, &link)?;
        }
    }
    let out = hook.run(&["backfill"])?;
    let sent: i64 = out
        .split("sent ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no count sent in {out}"))?;
    assert!(out.contains("refused 0"), "{out}");
    let db = SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{}", data.join("hookline.db").display()))
        .await?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done: i64 =
            sqlx::query_scalar("SELECT count(*) FROM webhook_events WHERE status = 'SUCCESS'")
                .fetch_one(&db)
                .await?;
        if done >= sent {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{done} of {sent} requests processed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut table = vec![Expect::HEADER.to_owned()];
    for s in &sessions {
        let row = rows(&db, spotter::recorded_sql(&s.session_id)).await?;
        let replies = rows(&db, spotter::replies_sql(&s.session_id)).await?;
        let got = spotter::recorded(
            row.first()
                .ok_or_else(|| anyhow::anyhow!("no {}", s.name))?,
            &replies,
        );
        let want = spotter::expect(s);
        assert_eq!(got, want, "{}", s.name);
        table.push(want.row(&s.name));
    }
    println!(
        "serve (SQLite), by hookline-hook backfill:\n{}",
        table.join("\n")
    );

    // `sessions show` of the tool-heavy session: the title, the prompt first,
    // each tool call after the reply that made it, with its result.
    let heavy = sessions
        .iter()
        .find(|s| s.name == "tool_heavy")
        .ok_or_else(|| anyhow::anyhow!("tool_heavy.jsonl"))?;
    let db_url = format!("sqlite://{}", data.join("hookline.db").display());
    let shown = hookline().run(
        &[("DATABASE_URL", db_url)],
        &["sessions", "show", &heavy.session_id],
    )?;
    assert!(
        shown.contains("title    start phoenix in background"),
        "{shown}"
    );
    assert!(
        shown.contains("last activity"),
        "no SessionEnd: the last activity is shown\n{shown}"
    );
    let steps = shown.split_once("\n\n").map_or("", |(_, steps)| steps);
    let first_prompt = steps.find("  user\n").unwrap_or(usize::MAX);
    let first_reply = steps.find("  assistant\n").unwrap_or(usize::MAX);
    let first_tool = steps.find("  tool ").unwrap_or(usize::MAX);
    assert!(
        first_prompt < first_reply && first_reply < first_tool && first_tool < usize::MAX,
        "prompt, reply, then tool calls:\n{shown}"
    );
    assert!(!shown.contains("[pending"), "every call settled:\n{shown}");
    assert_eq!(
        shown.matches("    result:").count() as i64,
        spotter::expect(heavy).tool_uses,
        "every result shown:\n{shown}"
    );
    Ok(())
}
