//! Postgres and SQLite hold the same data for the same messages: every
//! domain row, every audit column that is not a clock reading, every
//! attempt. Values are compared as a user reads them (Postgres's NUL
//! escaping undone), so NUL and U+E000 are part of the input.

use hookline_conformance::db::{Backend, TestDb, run};
use hookline_conformance::fixtures::{event, record, session, stamped, with_transcript};
use hookline_core::worker::{QueueRecord, WorkerConfig, process_batch};
use serde_json::{Value, json};

use crate::worker_order::assert_same;

const OTHER: &str = "11111111-2222-4333-8444-555555555555";

fn in_other_session(name: &str, request_id: &str, second: i64) -> anyhow::Result<Value> {
    let mut body = stamped(event(name)?, request_id, second);
    body["session_id"] = json!(OTHER);
    Ok(body)
}

fn entry(uuid: &str, at: Option<&str>, kind: &str, content: Value) -> Value {
    let mut e = json!({
        "uuid": uuid, "type": kind, "sessionId": OTHER, "requestId": "req_X",
        "message": {"id": "msg_X", "role": kind, "model": "claude-sonnet-5", "content": content,
                    "usage": {"input_tokens": 2, "output_tokens": 5}},
    });
    if let Some(at) = at {
        e["timestamp"] = json!(at);
    }
    e
}

/// A second session with the hard cases: NUL and U+E000 in text and JSON,
/// one message's blocks in entries out of order (equal timestamps, one
/// missing), a Stop text the transcript holds, a computed duration with a
/// half millisecond; plus an invalid event and an unreadable message.
fn hard_cases() -> anyhow::Result<Vec<QueueRecord>> {
    let mut prompt = in_other_session("UserPromptSubmit", "x1", 1)?;
    prompt["prompt"] = json!("nul \u{0000} and private \u{E000}\u{E000}0 use");
    let mut pre = in_other_session("PreToolUse", "x2", 2)?;
    pre["tool_use_id"] = json!("toolu_X");
    pre["tool_input"] = json!({"command": "printf '\u{0000}'"});
    let mut post = in_other_session("PostToolUse", "x3", 4)?;
    post["tool_use_id"] = json!("toolu_X");
    post.as_object_mut().map(|o| o.remove("duration_ms"));
    post["tool_response"] = json!({"stdout": "\u{0000}", "k\u{E000}": true});
    post["hookline"]["captured_at"] = json!("2026-11-29T03:40:04.0015Z");
    let entries = vec![
        entry(
            "c-3",
            None,
            "assistant",
            json!([{"type": "text", "text": "late"}]),
        ),
        entry(
            "b-2",
            Some("2026-11-29T03:40:05Z"),
            "assistant",
            json!([{"type": "text", "text": "Done\u{0000}!"}]),
        ),
        entry(
            "a-1",
            Some("2026-11-29T03:40:05Z"),
            "assistant",
            json!([{"type": "tool_use", "id": "toolu_X", "name": "Bash", "input": {"command": "ls"}}]),
        ),
    ];
    let mut stop = in_other_session("Stop", "x4", 6)?;
    stop["last_assistant_message"] = json!("Done\u{0000}!");
    let stop = with_transcript(stop, entries);
    let mut invalid = in_other_session("UserPromptSubmit", "x5", 7)?;
    invalid["session_id"] = json!("not valid!");
    let mut unreadable = record("x6", json!({}))?;
    unreadable.body = "not json \u{0000}".into();
    let mut out: Vec<QueueRecord> = [
        ("x1", prompt),
        ("x2", pre),
        ("x3", post),
        ("x4", stop),
        ("x5", invalid),
    ]
    .into_iter()
    .map(|(id, body)| record(id, body))
    .collect::<anyhow::Result<_>>()?;
    out.push(unreadable);
    out.extend(session()?);
    Ok(out)
}

const AUDIT: &str = "SELECT request_id, event_type, session_id, status, payload, payload_text,
    headers, source_ip, user_agent, client, principal, trace_id, span_id, message_id,
    captured_at, received_at, enqueued_at, attempts, error_code, error_message, validation_errors
    FROM webhook_events ORDER BY request_id";
const ATTEMPTS: &str = "SELECT request_id, status, message_id, receive_count, error_code,
    error_message FROM webhook_event_attempts ORDER BY request_id, id";

async fn everything(db: &TestDb) -> anyhow::Result<Vec<String>> {
    let mut out = db.dump().await?;
    for sql in [AUDIT, ATTEMPTS] {
        out.extend(
            db.rows(sql)
                .await?
                .into_iter()
                .map(|r| Value::Object(r).to_string()),
        );
    }
    Ok(out)
}

#[tokio::test]
async fn postgres_and_sqlite_hold_the_same_rows_for_the_same_messages() -> anyhow::Result<()> {
    let records = hard_cases()?;
    let cfg = WorkerConfig::default();
    run(Backend::Postgres, |pg| async move {
        run(Backend::Sqlite, |lite| async move {
            assert!(process_batch(pg.store(), &cfg, &records).await.is_empty());
            // SQLite gets them in reverse order, and each twice.
            let mut reversed: Vec<_> = records.iter().rev().cloned().collect();
            reversed.extend(records.iter().cloned());
            assert!(process_batch(lite.store(), &cfg, &reversed).await.is_empty());
            let want = everything(&pg).await?;
            assert!(want.len() > 40, "{want:#?}");
            let got = everything(&lite).await?;
            // Attempts differ by the duplicates SQLite saw: compare the rest.
            let without_duplicates =
                |rows: &[String]| -> Vec<String> {
                    rows.iter().filter(|r| !r.contains(r#""status":"DUPLICATE""#)).cloned().collect()
                };
            assert_same(&without_duplicates(&got), &without_duplicates(&want), "sqlite vs postgres");

            let m = lite
                .row(&format!("SELECT content, text FROM messages WHERE session_id = '{OTHER}' AND source = 'transcript'"))
                .await?;
            assert_eq!(m["text"], "Done\u{0000}!\nlate", "by (ts, uuid, position), no ts last");
            assert_eq!(m["content"][0]["type"], "tool_use", "uuid a-1 before b-2 at the same ts");
            let stops = lite.count("messages", "source = 'stop'").await?;
            assert_eq!(stops, 0, "the Stop text is in the transcript");
            let d = lite.value("SELECT duration_ms FROM tool_uses WHERE tool_use_id = 'toolu_X'").await?;
            assert_eq!(d, 2002, "2001.5 ms rounds away from zero, as Postgres does");
            Ok(())
        })
        .await
    })
    .await
}
