//! Every event kind writes the right rows.

use hookline_conformance::db::TestDb;
use hookline_conformance::fixtures::{SESSION, event, record, session, stamped};
use hookline_core::worker::{WorkerConfig, process_batch};
use serde_json::{Value, json};

on_both!(
    every_event_kind_maps_to_the_right_rows,
    stop_without_transcript_keeps_last_assistant_message,
    nul_in_a_tool_response_is_stored_and_read_back_equal,
    a_validation_failure_is_invalid_with_the_field_named,
    an_unreadable_queue_message_is_recorded_invalid_not_retried,
    events_of_older_claude_code_missing_fields_give_partial_rows,
    the_doctor_probe_leaves_an_audit_row_only,
);

async fn every_event_kind_maps_to_the_right_rows(db: TestDb) -> anyhow::Result<()> {
    let failed = process_batch(db.store(), &WorkerConfig::default(), &session()?).await;
    assert!(failed.is_empty(), "no record should fail: {failed:?}");

    let statuses = db
        .rows("SELECT request_id, event_type, status FROM webhook_events ORDER BY request_id")
        .await?;
    assert_eq!(statuses.len(), 12);
    assert!(
        statuses.iter().all(|r| r["status"] == "SUCCESS"),
        "{statuses:?}"
    );
    assert_eq!(
        statuses[11]["event_type"], "PermissionRequest",
        "an event without mapping is still audited"
    );

    let c = db.row("SELECT * FROM conversations").await?;
    assert_eq!(c["session_id"], SESSION);
    assert_eq!(c["start_source"], "startup");
    assert_eq!(c["model"], "claude-sonnet-5");
    assert_eq!(
        c["title"],
        "Write a function to calculate the factorial of a number"
    );
    assert_eq!(c["end_reason"], "other");
    assert_eq!(c["ended_at"], "2026-11-29T03:40:11.000000Z");
    assert_eq!(c["started_at"], "2026-11-29T03:40:01.000000Z");
    assert_eq!(c["user_name"], "alice");
    assert_eq!(c["principal"], "alice");
    // Usage counted once per (message.id, requestId): 3 + 40 in, 365 + 120 out.
    assert_eq!(c["input_tokens"], 43);
    assert_eq!(c["output_tokens"], 485);
    assert_eq!(c["cache_read_input_tokens"], 1412);

    let messages = db
        .rows("SELECT message_key, role, source, content FROM messages ORDER BY created_at, message_key")
        .await?;
    let keys: Vec<(&str, &str, &str)> = messages
        .iter()
        .map(|m| {
            let s = |k: &str| m[k].as_str().unwrap_or_default();
            (s("message_key"), s("role"), s("source"))
        })
        .collect();
    assert_eq!(
        keys,
        [
            // The prompt once: the transcript's entry replaces the hook's.
            (
                "entry:9a1c0001-0000-4000-8000-000000000001",
                "user",
                "transcript"
            ),
            (
                "msg_01H4wg8bFy2psdmQvJMU6kpD/req_011CVJ517iGrQqjVFtrWsUgP",
                "assistant",
                "transcript"
            ),
            ("msg_02XYZ/req_022", "assistant", "transcript"),
        ],
        "Stop's last_assistant_message and UserPromptSubmit's prompt are dropped because the transcript holds them"
    );
    let merged = &messages[1]["content"];
    assert_eq!(
        merged.as_array().map(Vec::len),
        Some(2),
        "two content blocks merged: {merged}"
    );
    assert_eq!(merged[0]["type"], "text");
    assert_eq!(merged[1]["type"], "tool_use");

    let tools = db
        .rows("SELECT tool_use_id, tool_name, status, duration_ms, error, transcript_result FROM tool_uses ORDER BY tool_use_id")
        .await?;
    assert_eq!(tools.len(), 2);
    let (bash, write) = (&tools[0], &tools[1]);
    assert_eq!(
        (&bash["tool_use_id"], &bash["tool_name"], &bash["status"]),
        (&json!("toolu_01ABC123"), &json!("Bash"), &json!("failed"))
    );
    assert_eq!(bash["duration_ms"], 4187);
    assert!(
        bash["error"]
            .as_str()
            .is_some_and(|e| e.contains("Cannot find module")),
        "{bash:?}"
    );
    assert_eq!(bash["transcript_result"]["is_error"], json!(true));
    assert_eq!(
        (
            &write["tool_use_id"],
            &write["status"],
            &write["duration_ms"]
        ),
        (&json!("toolu_01WRITE"), &json!("succeeded"), &json!(12))
    );

    let agent = db
        .row("SELECT agent_id, agent_type, started_at, stopped_at, last_message FROM subagents")
        .await?;
    assert_eq!(agent["agent_id"], "def456");
    assert_eq!(agent["agent_type"], "Explore");
    assert_eq!(agent["started_at"], "2026-11-29T03:40:07.000000Z");
    assert_eq!(agent["stopped_at"], "2026-11-29T03:40:08.000000Z");
    assert!(
        agent["last_message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Analysis complete"))
    );
    Ok(())
}

async fn stop_without_transcript_keeps_last_assistant_message(db: TestDb) -> anyhow::Result<()> {
    let recs = [record("s1", stamped(event("Stop")?, "s1", 1))?];
    let failed = process_batch(db.store(), &WorkerConfig::default(), &recs).await;
    assert!(failed.is_empty(), "{failed:?}");
    let m = db.row("SELECT source, text FROM messages").await?;
    assert_eq!(m["source"], "stop");
    assert_eq!(
        m["text"],
        "I've completed the refactoring. Here's a summary..."
    );
    Ok(())
}

async fn nul_in_a_tool_response_is_stored_and_read_back_equal(db: TestDb) -> anyhow::Result<()> {
    let mut body = event("PostToolUse")?;
    let response =
        json!({"stdout": "before\u{0000}after", "k\u{0000}ey": ["\u{0000}", "\u{E000}"]});
    body["tool_response"] = response.clone();
    let recs = [record("n1", stamped(body, "n1", 1))?];
    let failed = process_batch(db.store(), &WorkerConfig::default(), &recs).await;
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(db.status_of("n1").await?, "SUCCESS");
    assert_eq!(db.value("SELECT response FROM tool_uses").await?, response);
    let payload = db.value("SELECT payload FROM webhook_events").await?;
    assert_eq!(payload["tool_response"], response);
    Ok(())
}

async fn a_validation_failure_is_invalid_with_the_field_named(db: TestDb) -> anyhow::Result<()> {
    let mut body = event("UserPromptSubmit")?;
    body["prompt"] = json!(42);
    body["session_id"] = json!("not a valid id!");
    let recs = [record("v1", stamped(body, "v1", 1))?];
    let failed = process_batch(db.store(), &WorkerConfig::default(), &recs).await;
    assert!(
        failed.is_empty(),
        "an invalid event must not be redelivered"
    );
    let row = db
        .row("SELECT status, error_code, error_message, validation_errors FROM webhook_events WHERE request_id = 'v1'")
        .await?;
    assert_eq!(
        (&row["status"], &row["error_code"]),
        (&json!("INVALID"), &json!("VALIDATION"))
    );
    let message = row["error_message"].as_str().unwrap_or_default();
    assert!(message.starts_with("session_id:"), "{message}");
    let fields: Vec<&str> = row["validation_errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["session_id", "prompt"]);
    assert_eq!(
        db.count("conversations", "true").await?,
        0,
        "no domain rows for an invalid event"
    );
    Ok(())
}

async fn an_unreadable_queue_message_is_recorded_invalid_not_retried(
    db: TestDb,
) -> anyhow::Result<()> {
    let mut rec = record("e1", event("Stop")?)?;
    rec.body = "{not json".into();
    let failed = process_batch(db.store(), &WorkerConfig::default(), &[rec]).await;
    assert!(failed.is_empty(), "{failed:?}");
    let row = db
        .row("SELECT status, error_code, payload_text FROM webhook_events WHERE request_id = 'e1'")
        .await?;
    assert_eq!(row["status"], "INVALID");
    assert_eq!(row["error_code"], "ENVELOPE");
    assert_eq!(row["payload_text"], Value::from("{not json"));
    Ok(())
}

/// Only `session_id` and `hook_event_name` are required: a SubagentStop of
/// Claude Code before 2.0.42 (no `agent_id`), a tool event before 2.0.43
/// (no `tool_use_id`) and a prompt event without `prompt` are stored as
/// far as they go, never refused.
async fn events_of_older_claude_code_missing_fields_give_partial_rows(
    db: TestDb,
) -> anyhow::Result<()> {
    let without = |name: &str, fields: &[&str]| -> anyhow::Result<Value> {
        let mut body = event(name)?;
        if let Some(o) = body.as_object_mut() {
            for f in fields {
                o.remove(*f);
            }
        }
        Ok(body)
    };
    let bodies = [
        (
            "o1",
            without(
                "SubagentStop",
                &["agent_id", "agent_type", "agent_transcript_path"],
            )?,
        ),
        ("o2", without("SubagentStart", &["agent_id"])?),
        ("o3", without("PreToolUse", &["tool_use_id"])?),
        ("o4", without("PostToolUse", &["tool_use_id", "tool_name"])?),
        ("o5", without("UserPromptSubmit", &["prompt"])?),
        ("o6", without("PostToolUseFailure", &["tool_name"])?),
    ];
    let recs = bodies
        .into_iter()
        .enumerate()
        .map(|(i, (id, b))| record(id, stamped(b, id, i as i64 + 1)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let failed = process_batch(db.store(), &WorkerConfig::default(), &recs).await;
    assert!(failed.is_empty(), "{failed:?}");
    for id in ["o1", "o2", "o3", "o4", "o5", "o6"] {
        assert_eq!(db.status_of(id).await?, "SUCCESS", "{id}");
    }
    assert_eq!(
        db.value("SELECT session_id FROM conversations").await?,
        SESSION,
        "the events are attached to their conversation"
    );
    assert_eq!(
        db.count("subagents", "true").await?,
        0,
        "no agent id, no row"
    );
    assert_eq!(
        db.count("messages", "true").await?,
        0,
        "no prompt, no message"
    );
    // Only the failure kept its tool_use_id: one row, without a tool name.
    let t = db
        .row("SELECT tool_use_id, tool_name, status FROM tool_uses")
        .await?;
    assert_eq!(
        (&t["tool_use_id"], &t["tool_name"], &t["status"]),
        (&json!("toolu_01ABC123"), &Value::Null, &json!("failed"))
    );
    Ok(())
}

/// `hookline-hook doctor`'s test event (HooklineDoctor) is audited and
/// writes nothing else: `sessions list` shows no conversation for it.
async fn the_doctor_probe_leaves_an_audit_row_only(db: TestDb) -> anyhow::Result<()> {
    let body = json!({"session_id": "hookline-doctor-0193", "hook_event_name": "HooklineDoctor", "cwd": "/w"});
    let recs = [record("d1", stamped(body, "d1", 1))?];
    let failed = process_batch(db.store(), &WorkerConfig::default(), &recs).await;
    assert!(failed.is_empty(), "{failed:?}");
    let row = db
        .row("SELECT status, event_type, session_id FROM webhook_events WHERE request_id = 'd1'")
        .await?;
    assert_eq!(
        (&row["status"], &row["event_type"], &row["session_id"]),
        (
            &json!("SUCCESS"),
            &json!("HooklineDoctor"),
            &json!("hookline-doctor-0193")
        )
    );
    assert_eq!(db.count("conversations", "true").await?, 0);
    assert_eq!(db.count("hosts", "true").await?, 0);
    Ok(())
}
