//! Every event kind writes the right rows.

use hookline_core::store::PgStore;
use hookline_core::text::unescape_json;
use hookline_core::worker::{WorkerConfig, process_batch};
use serde_json::{Value, json};
use sqlx::{PgPool, Row};

use crate::helpers::{SESSION, event, record, session, stamped, status_of};

#[sqlx::test(migrator = "hookline_core::store::PG_MIGRATOR")]
async fn every_event_kind_maps_to_the_right_rows(pool: PgPool) -> anyhow::Result<()> {
    let store = PgStore::new(pool.clone());
    let failed = process_batch(&store, &WorkerConfig::default(), &session()?).await;
    assert!(failed.is_empty(), "no record should fail: {failed:?}");

    let statuses: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT request_id, event_type, status FROM webhook_events ORDER BY request_id",
    )
    .fetch_all(&pool)
    .await?;
    assert_eq!(statuses.len(), 12);
    assert!(
        statuses.iter().all(|(_, _, s)| s == "SUCCESS"),
        "{statuses:?}"
    );
    assert_eq!(
        statuses[11].1, "PermissionRequest",
        "an event without mapping is still audited"
    );

    let c = sqlx::query("SELECT * FROM conversations")
        .fetch_one(&pool)
        .await?;
    assert_eq!(c.get::<String, _>("session_id"), SESSION);
    assert_eq!(
        c.get::<Option<String>, _>("start_source").as_deref(),
        Some("startup")
    );
    assert_eq!(
        c.get::<Option<String>, _>("model").as_deref(),
        Some("claude-sonnet-5")
    );
    assert_eq!(
        c.get::<Option<String>, _>("title").as_deref(),
        Some("Write a function to calculate the factorial of a number")
    );
    assert_eq!(
        c.get::<Option<String>, _>("end_reason").as_deref(),
        Some("other")
    );
    assert!(
        c.get::<Option<chrono::DateTime<chrono::Utc>>, _>("ended_at")
            .is_some()
    );
    assert_eq!(
        c.get::<Option<String>, _>("user_name").as_deref(),
        Some("alice")
    );
    assert_eq!(
        c.get::<Option<String>, _>("principal").as_deref(),
        Some("alice")
    );
    // Usage counted once per (message.id, requestId): 3 + 40 in, 365 + 120 out.
    assert_eq!(c.get::<i64, _>("input_tokens"), 43);
    assert_eq!(c.get::<i64, _>("output_tokens"), 485);
    assert_eq!(c.get::<i64, _>("cache_read_input_tokens"), 1412);

    let messages: Vec<(String, String, String, Value)> = sqlx::query_as(
        "SELECT message_key, role, source, content FROM messages ORDER BY created_at, message_key",
    )
    .fetch_all(&pool)
    .await?;
    let keys: Vec<(&str, &str, &str)> = messages
        .iter()
        .map(|(k, r, s, _)| (k.as_str(), r.as_str(), s.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            ("prompt:r02", "user", "hook"),
            (
                "msg_01H4wg8bFy2psdmQvJMU6kpD/req_011CVJ517iGrQqjVFtrWsUgP",
                "assistant",
                "transcript"
            ),
            ("msg_02XYZ/req_022", "assistant", "transcript"),
        ],
        "Stop's last_assistant_message is dropped because the transcript holds it"
    );
    let merged = &messages[1].3;
    assert_eq!(
        merged.as_array().map(Vec::len),
        Some(2),
        "two content blocks merged: {merged}"
    );
    assert_eq!(merged[0]["type"], "text");
    assert_eq!(merged[1]["type"], "tool_use");

    type ToolRow = (String, String, String, Option<i64>, Option<String>);
    let tools: Vec<ToolRow> = sqlx::query_as(
        "SELECT tool_use_id, tool_name, status, duration_ms, error FROM tool_uses ORDER BY tool_use_id",
    )
    .fetch_all(&pool)
    .await?;
    assert_eq!(tools.len(), 2);
    assert_eq!(
        (
            tools[0].0.as_str(),
            tools[0].1.as_str(),
            tools[0].2.as_str()
        ),
        ("toolu_01ABC123", "Bash", "failed")
    );
    assert_eq!(tools[0].3, Some(4187));
    assert!(
        tools[0]
            .4
            .as_deref()
            .is_some_and(|e| e.contains("Cannot find module"))
    );
    assert_eq!(
        (tools[1].0.as_str(), tools[1].2.as_str(), tools[1].3),
        ("toolu_01WRITE", "succeeded", Some(12))
    );
    let result: Option<Value> = sqlx::query_scalar(
        "SELECT transcript_result FROM tool_uses WHERE tool_use_id = 'toolu_01ABC123'",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!(result.map(|r| r["is_error"].clone()), Some(json!(true)));

    let agent: (String, Option<String>, bool, bool, Option<String>) = sqlx::query_as(
        "SELECT agent_id, agent_type, started_at IS NOT NULL, stopped_at IS NOT NULL, last_message FROM subagents",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!(agent.0, "def456");
    assert_eq!(agent.1.as_deref(), Some("Explore"));
    assert!(agent.2 && agent.3);
    assert!(agent.4.is_some_and(|m| m.starts_with("Analysis complete")));
    Ok(())
}

#[sqlx::test(migrator = "hookline_core::store::PG_MIGRATOR")]
async fn stop_without_transcript_keeps_last_assistant_message(pool: PgPool) -> anyhow::Result<()> {
    let store = PgStore::new(pool.clone());
    let recs = [record("s1", stamped(event("Stop")?, "s1", 1))?];
    assert!(
        process_batch(&store, &WorkerConfig::default(), &recs)
            .await
            .is_empty()
    );
    let (source, text): (String, String) = sqlx::query_as("SELECT source, text FROM messages")
        .fetch_one(&pool)
        .await?;
    assert_eq!(source, "stop");
    assert_eq!(text, "I've completed the refactoring. Here's a summary...");
    Ok(())
}

#[sqlx::test(migrator = "hookline_core::store::PG_MIGRATOR")]
async fn nul_in_a_tool_response_is_stored_and_read_back_equal(pool: PgPool) -> anyhow::Result<()> {
    let store = PgStore::new(pool.clone());
    let mut body = event("PostToolUse")?;
    let response =
        json!({"stdout": "before\u{0000}after", "k\u{0000}ey": ["\u{0000}", "\u{E000}"]});
    body["tool_response"] = response.clone();
    let recs = [record("n1", stamped(body, "n1", 1))?];
    assert!(
        process_batch(&store, &WorkerConfig::default(), &recs)
            .await
            .is_empty()
    );
    assert_eq!(status_of(&pool, "n1").await?, "SUCCESS");
    let stored: Value = sqlx::query_scalar("SELECT response FROM tool_uses")
        .fetch_one(&pool)
        .await?;
    assert_eq!(unescape_json(&stored).into_owned(), response);
    let payload: Value = sqlx::query_scalar("SELECT payload FROM webhook_events")
        .fetch_one(&pool)
        .await?;
    assert_eq!(unescape_json(&payload)["tool_response"], response);
    Ok(())
}

#[sqlx::test(migrator = "hookline_core::store::PG_MIGRATOR")]
async fn a_validation_failure_is_invalid_with_the_field_named(pool: PgPool) -> anyhow::Result<()> {
    let store = PgStore::new(pool.clone());
    let mut body = event("UserPromptSubmit")?;
    body.as_object_mut().map(|o| o.remove("prompt"));
    body["session_id"] = json!("not a valid id!");
    let recs = [record("v1", stamped(body, "v1", 1))?];
    let failed = process_batch(&store, &WorkerConfig::default(), &recs).await;
    assert!(
        failed.is_empty(),
        "an invalid event must not be redelivered"
    );
    let (status, code, message, errors): (String, String, String, Value) = sqlx::query_as(
        "SELECT status, error_code, error_message, validation_errors FROM webhook_events WHERE request_id = 'v1'",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!((status.as_str(), code.as_str()), ("INVALID", "VALIDATION"));
    assert!(message.starts_with("session_id:"), "{message}");
    let fields: Vec<&str> = errors
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["session_id", "prompt"]);
    let conversations: i64 = sqlx::query_scalar("SELECT count(*) FROM conversations")
        .fetch_one(&pool)
        .await?;
    assert_eq!(conversations, 0, "no domain rows for an invalid event");
    Ok(())
}

#[sqlx::test(migrator = "hookline_core::store::PG_MIGRATOR")]
async fn an_unreadable_queue_message_is_recorded_invalid_not_retried(
    pool: PgPool,
) -> anyhow::Result<()> {
    let store = PgStore::new(pool.clone());
    let mut rec = record("e1", event("Stop")?)?;
    rec.body = "{not json".into();
    let failed = process_batch(&store, &WorkerConfig::default(), &[rec]).await;
    assert!(failed.is_empty());
    let (status, code, text): (String, String, Option<String>) = sqlx::query_as(
        "SELECT status, error_code, payload_text FROM webhook_events WHERE request_id = 'e1'",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!((status.as_str(), code.as_str()), ("INVALID", "ENVELOPE"));
    assert_eq!(text.as_deref(), Some("{not json"));
    Ok(())
}
