//! Conversation stitching: a resumed session (its transcript starts with
//! the previous session's entries) and its continuations (their first entry
//! hangs from a uuid of the previous session) are linked, whatever the
//! order the events arrive in, and `thread` gives the chain in order.

use hookline_conformance::db::{TestDb, quote};
use hookline_conformance::fixtures::{record, stamped, with_transcript};
use hookline_core::store::thread;
use hookline_core::worker::{QueueRecord, WorkerConfig, process_batch};
use serde_json::{Value, json};

use crate::worker_order::assert_same;

on_both!(a_resumed_session_is_linked_to_the_one_it_continues);

const S1: &str = "5717c400-0000-4000-8000-000000000001";
const S2: &str = "5717c400-0000-4000-8000-000000000002";
const S3: &str = "5717c400-0000-4000-8000-000000000003";
const S4: &str = "5717c400-0000-4000-8000-000000000004";

fn uuid(n: u32) -> String {
    format!("e0000000-0000-4000-8000-{n:012}")
}

/// A transcript entry of `session`, hanging from `parent`.
fn entry(session: &str, n: u32, parent: Option<u32>, kind: &str) -> Value {
    let mut e = json!({
        "parentUuid": parent.map(uuid), "isSidechain": false, "sessionId": session,
        "uuid": uuid(n), "timestamp": format!("2026-11-29T03:{:02}:00.000Z", n),
        "type": kind, "cwd": "/w",
    });
    e["message"] = if kind == "user" {
        json!({"role": "user", "content": format!("prompt {n}")})
    } else {
        json!({"id": format!("msg_{n}"), "role": "assistant", "model": "claude-sonnet-5",
               "content": [{"type": "text", "text": format!("reply {n}")}],
               "usage": {"input_tokens": 1, "output_tokens": 1}})
    };
    e
}

fn start(session: &str, source: &str, rid: &str, second: i64) -> anyhow::Result<QueueRecord> {
    let body = json!({"session_id": session, "transcript_path": format!("/p/{session}.jsonl"),
                      "cwd": "/w", "hook_event_name": "SessionStart", "source": source});
    record(rid, stamped(body, rid, second))
}

fn stop(session: &str, rid: &str, second: i64, entries: Vec<Value>) -> anyhow::Result<QueueRecord> {
    let body = json!({"session_id": session, "transcript_path": format!("/p/{session}.jsonl"),
                      "cwd": "/w", "hook_event_name": "Stop", "stop_hook_active": false});
    record(rid, with_transcript(stamped(body, rid, second), entries))
}

/// S1 (startup); S2 resumes S1 (its transcript starts with S1's entries,
/// copied with S1's sessionId); S3 resumes S2 and S4 forks S2 (their first
/// entry hangs from S2's last uuid).
fn sessions() -> anyhow::Result<Vec<QueueRecord>> {
    let s1 = vec![
        entry(S1, 1, None, "user"),
        entry(S1, 2, Some(1), "assistant"),
    ];
    let mut s2 = s1.clone();
    s2.extend([
        entry(S2, 3, Some(2), "user"),
        entry(S2, 4, Some(3), "assistant"),
    ]);
    let s3 = vec![
        entry(S3, 5, Some(4), "user"),
        entry(S3, 6, Some(5), "assistant"),
    ];
    let s4 = vec![entry(S4, 7, Some(4), "user")];
    Ok(vec![
        start(S1, "startup", "st-1", 1)?,
        stop(S1, "sp-1", 2, s1)?,
        start(S2, "resume", "st-2", 10)?,
        stop(S2, "sp-2", 11, s2)?,
        start(S3, "resume", "st-3", 20)?,
        stop(S3, "sp-3", 21, s3)?,
        start(S4, "fork", "st-4", 30)?,
        stop(S4, "sp-4", 31, s4)?,
    ])
}

async fn a_resumed_session_is_linked_to_the_one_it_continues(db: TestDb) -> anyhow::Result<()> {
    let store = db.store();
    let cfg = WorkerConfig::default();
    let records = sessions()?;
    assert!(process_batch(store, &cfg, &records).await.is_empty());
    let links = db
        .rows("SELECT session_id, parent_session_id, link_kind FROM conversations ORDER BY session_id")
        .await?;
    let links: Vec<Value> = links.into_iter().map(Value::Object).collect();
    assert_eq!(
        links,
        [
            json!({"session_id": S1, "parent_session_id": null, "link_kind": null}),
            json!({"session_id": S2, "parent_session_id": S1, "link_kind": "resume"}),
            json!({"session_id": S3, "parent_session_id": S2, "link_kind": "resume"}),
            json!({"session_id": S4, "parent_session_id": S2, "link_kind": "fork"}),
        ]
    );

    // The thread, asked from any of its sessions: S1, S2, then S2's two continuations.
    let reader = db.reader();
    for from in [S1, S3, S4] {
        let t = thread(reader.as_ref(), from).await?;
        let got: Vec<(&str, usize, Option<&str>)> = t
            .iter()
            .map(|l| (l.session_id.as_str(), l.depth, l.link_kind.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (S1, 0, None),
                (S2, 0, Some("resume")),
                (S3, 1, Some("resume")),
                (S4, 1, Some("fork")),
            ],
            "thread from {from}"
        );
    }
    let forward = db.dump().await?;

    // Reversed (children before parents, Stop before SessionStart): the same links.
    db.reset().await?;
    let reversed: Vec<_> = records.iter().rev().cloned().collect();
    assert!(process_batch(store, &cfg, &reversed).await.is_empty());
    assert_same(&db.dump().await?, &forward, "reversed");
    Ok(())
}

on_both!(a_fork_is_linked_through_its_copies_and_counts_only_its_own_messages);

const F1: &str = "5717c400-0000-4000-8000-0000000000f1";

/// An entry of `session` with uuid `n`: a prompt, a reply with a tool call
/// (`tool` set) and usage, or the tool's result.
fn fork_entry(session: &str, n: u32, parent: Option<u32>, kind: &str) -> Value {
    let mut e = json!({
        "parentUuid": parent.map(uuid), "isSidechain": false, "sessionId": session,
        "uuid": uuid(n), "timestamp": format!("2026-11-29T04:{:02}:00.000Z", n),
        "type": if kind == "result" { "user" } else { kind }, "cwd": "/w",
    });
    e["message"] = match kind {
        "user" => json!({"role": "user", "content": format!("prompt {n}")}),
        "result" => json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": format!("toolu_{}", n - 1), "content": "ok"}]}),
        _ => json!({"id": format!("msg_{n}"), "role": "assistant", "model": "claude-sonnet-5",
                    "content": [{"type": "text", "text": format!("reply {n}")},
                                {"type": "tool_use", "id": format!("toolu_{n}"), "name": "Bash",
                                 "input": {"command": "true"}}],
                    "usage": {"input_tokens": 100, "output_tokens": n}}),
    };
    e["requestId"] = json!(format!("req_{n}"));
    e
}

/// `claude --resume S1 --fork-session`: the fork's transcript starts with
/// copies of S1's entries (same uuids, the fork's session id, the first
/// with `parentUuid: null`). The fork is linked to S1; each copied message,
/// prompt, token and tool call is stored and counts once, in S1 where it
/// happened; the order of arrival changes nothing.
async fn a_fork_is_linked_through_its_copies_and_counts_only_its_own_messages(
    db: TestDb,
) -> anyhow::Result<()> {
    let store = db.store();
    let cfg = WorkerConfig::default();
    let s1 = |sid: &str| {
        vec![
            fork_entry(sid, 1, None, "user"),
            fork_entry(sid, 2, Some(1), "assistant"),
            fork_entry(sid, 3, Some(2), "result"),
        ]
    };
    let mut fork = s1(F1);
    fork.extend([
        fork_entry(F1, 4, Some(3), "user"),
        fork_entry(F1, 5, Some(4), "assistant"),
    ]);
    let records = vec![stop(S1, "fk-1", 1, s1(S1))?, stop(F1, "fk-2", 300, fork)?];
    let mut dumps = Vec::new();
    for order in [records.clone(), records.iter().rev().cloned().collect()] {
        db.reset().await?;
        for r in &order {
            assert!(
                process_batch(store, &cfg, std::slice::from_ref(r))
                    .await
                    .is_empty()
            );
        }
        let rows = db
            .rows(&format!(
                "SELECT session_id, parent_session_id, link_kind, message_count, tool_use_count,
                        input_tokens, output_tokens
                 FROM conversations WHERE session_id IN ({}, {}) ORDER BY session_id",
                quote(S1),
                quote(F1)
            ))
            .await?;
        let rows: Vec<Value> = rows.into_iter().map(Value::Object).collect();
        assert_eq!(
            rows,
            [
                // S1: its prompt and reply (2 out), the call.
                json!({"session_id": S1, "parent_session_id": null, "link_kind": null,
                       "message_count": 2, "tool_use_count": 1, "input_tokens": 100, "output_tokens": 2}),
                // The fork: only its own prompt and reply (5 out) and call.
                json!({"session_id": F1, "parent_session_id": S1, "link_kind": "continued",
                       "message_count": 2, "tool_use_count": 1, "input_tokens": 100, "output_tokens": 5}),
            ]
        );
        // The copies are stored in S1 only: the fork holds its own prompt,
        // reply and call.
        let stored = db
            .rows(&format!(
                "SELECT session_id, message_key FROM messages WHERE session_id IN ({}, {})
                 UNION ALL SELECT session_id, tool_use_id FROM tool_uses WHERE session_id IN ({}, {})
                 ORDER BY 1, 2",
                quote(S1),
                quote(F1),
                quote(S1),
                quote(F1)
            ))
            .await?;
        let stored: Vec<(&str, &str)> = stored
            .iter()
            .map(|r| {
                let s = |k: &str| r[k].as_str().unwrap_or_default();
                (s("session_id"), s("message_key"))
            })
            .collect();
        let (p1, p4) = (format!("entry:{}", uuid(1)), format!("entry:{}", uuid(4)));
        let mut want = vec![
            (S1, p1.as_str()),
            (S1, "msg_2/req_2"),
            (S1, "toolu_2"),
            (F1, p4.as_str()),
            (F1, "msg_5/req_5"),
            (F1, "toolu_5"),
        ];
        want.sort();
        assert_eq!(stored, want, "each message, prompt and call in one session");
        let t = thread(db.reader().as_ref(), S1).await?;
        let ids: Vec<&str> = t.iter().map(|l| l.session_id.as_str()).collect();
        assert_eq!(ids, [S1, F1], "sessions show S1 --thread shows the fork");
        let t = thread(db.reader().as_ref(), F1).await?;
        let ids: Vec<&str> = t.iter().map(|l| l.session_id.as_str()).collect();
        assert_eq!(
            ids,
            [S1, F1],
            "sessions show F1 --thread: the parent, then the fork"
        );
        dumps.push(db.dump().await?);
    }
    assert_same(&dumps[1], &dumps[0], "the fork first");
    Ok(())
}

on_both!(the_title_is_the_first_prompt_or_claude_codes_summary);

/// A backfilled session's title is its first prompt (not the last one the
/// batch holds); a `summary` line, Claude Code's own title, wins over the
/// prompts whichever request brings it first.
async fn the_title_is_the_first_prompt_or_claude_codes_summary(db: TestDb) -> anyhow::Result<()> {
    let store = db.store();
    let cfg = WorkerConfig::default();
    let prompts = vec![
        entry(S1, 1, None, "user"),
        entry(S1, 2, Some(1), "assistant"),
        entry(S1, 3, Some(2), "user"),
    ];
    assert!(
        process_batch(store, &cfg, &[stop(S1, "tt-1", 1, prompts.clone())?])
            .await
            .is_empty()
    );
    let title = |db: TestDb| async move {
        db.value(&format!(
            "SELECT title FROM conversations WHERE session_id = {}",
            quote(S1)
        ))
        .await
    };
    assert_eq!(title(db.clone()).await?, "prompt 1");
    let summary =
        json!({"type": "summary", "summary": "Fix the login bug\nand more", "leafUuid": uuid(3)});
    let first = stop(S1, "tt-1", 1, prompts)?;
    let later = appended(S1, summary)?;
    for order in [[first.clone(), later.clone()], [later, first]] {
        db.reset().await?;
        assert!(process_batch(store, &cfg, &order).await.is_empty());
        assert_eq!(title(db.clone()).await?, "Fix the login bug");
    }
    Ok(())
}

/// A Stop of `sid` carrying only `line`, at a later offset of the main
/// transcript (the end of the file, where Claude Code appends summaries).
fn appended(sid: &str, line: Value) -> anyhow::Result<QueueRecord> {
    let rid = "tt-2";
    let body = json!({"session_id": sid, "transcript_path": format!("/p/{sid}.jsonl"),
                      "cwd": "/w", "hook_event_name": "Stop", "stop_hook_active": false});
    let mut body = stamped(body, rid, 50);
    body["hookline"]["transcript"] = json!([{
        "source": "main", "path": "/t.jsonl", "start_offset": 500, "end_offset": 600, "entries": [line]
    }]);
    record(rid, body)
}

on_both!(the_model_is_the_latest_replys_whatever_the_order);

/// After a `/model` switch the session's model is that of its latest reply
/// (by transcript time, not by arrival); SessionStart's `model` only while
/// no reply has one.
async fn the_model_is_the_latest_replys_whatever_the_order(db: TestDb) -> anyhow::Result<()> {
    let store = db.store();
    let cfg = WorkerConfig::default();
    let body = json!({"session_id": S1, "transcript_path": format!("/p/{S1}.jsonl"),
                      "cwd": "/w", "hook_event_name": "SessionStart", "source": "startup",
                      "model": "claude-opus-5-5"});
    let start = record("md-0", stamped(body, "md-0", 0))?;
    let reply = |n: u32, model: &str| {
        let mut e = entry(S1, n, Some(n - 1), "assistant");
        e["message"]["model"] = json!(model);
        e
    };
    let chunk = |rid: &str, second: i64, offset: u64, entries: Vec<Value>| {
        let body = json!({"session_id": S1, "transcript_path": format!("/p/{S1}.jsonl"),
                          "cwd": "/w", "hook_event_name": "Stop", "stop_hook_active": false});
        let mut body = stamped(body, rid, second);
        body["hookline"]["transcript"] = json!([{
            "source": "main", "path": "/t.jsonl", "start_offset": offset,
            "end_offset": offset + 100, "entries": entries
        }]);
        record(rid, body)
    };
    let first = chunk(
        "md-1",
        10,
        0,
        vec![entry(S1, 1, None, "user"), reply(2, "claude-opus-5-5")],
    )?;
    let later = chunk(
        "md-2",
        20,
        100,
        vec![entry(S1, 3, Some(2), "user"), reply(4, "claude-sonnet-4-5")],
    )?;
    let model = |db: TestDb| async move {
        db.value(&format!(
            "SELECT model FROM conversations WHERE session_id = {}",
            quote(S1)
        ))
        .await
    };
    assert!(
        process_batch(store, &cfg, std::slice::from_ref(&start))
            .await
            .is_empty()
    );
    assert_eq!(
        model(db.clone()).await?,
        "claude-opus-5-5",
        "SessionStart's"
    );
    for order in [[first.clone(), later.clone()], [later, first]] {
        db.reset().await?;
        for r in std::iter::once(&start).chain(order.iter()) {
            assert!(
                process_batch(store, &cfg, std::slice::from_ref(r))
                    .await
                    .is_empty()
            );
        }
        assert_eq!(model(db.clone()).await?, "claude-sonnet-4-5");
    }
    Ok(())
}
