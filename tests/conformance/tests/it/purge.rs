//! Purge and retention on both stores: a purge leaves nothing of the
//! selected sessions in any table or in the DLQ and leaves everything else
//! as it was; a dry run counts exactly what the purge then deletes; the
//! retention period removes only sessions older than it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hookline_conformance::db::{TestDb, quote};
use hookline_conformance::fixtures::{SESSION, event, transcript};
use hookline_conformance::queue_suite::{QueueFactory, QueuePair, SqliteQueueFactory};
use hookline_core::RequestId;
use hookline_core::envelope::{Envelope, Payload, QueueMessage};
use hookline_core::ops::purge::{self, RETENTION_ACTOR, Selection, TABLES};
use hookline_core::queue::{OutMessage, Queue};
use hookline_core::worker::{QueueRecord, WorkerConfig, process_batch};
use serde_json::{Value, json};

use crate::queue_sqs::LocalStackFactory;

on_both!(
    purge_by_session_leaves_nothing_of_it_and_everything_else,
    purge_by_user_takes_all_their_sessions,
    retention_removes_only_old_sessions,
);

/// The fixture session's events as session `id` of `user`, captured and
/// received `at`; tool use ids made unique per session.
fn session(id: &str, user: &str, at: DateTime<Utc>) -> anyhow::Result<Vec<QueueRecord>> {
    let names = [
        "SessionStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "SubagentStart",
        "SubagentStop",
        "Stop",
        "SessionEnd",
    ];
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let rid = format!("{id}-r{i:02}");
        let mut body = event(name)?;
        body["hookline"] = json!({
            "v": 1, "request_id": rid, "captured_at": at.to_rfc3339(),
            "client": {"name": "hookline-hook", "version": "test"},
            "host": "devbox", "user": user,
        });
        if *name == "Stop" {
            body["hookline"]["transcript"] = json!([{"source": "main", "path": "/t.jsonl",
                "start_offset": 0, "end_offset": 100, "entries": transcript("stop-turn.jsonl")?}]);
        }
        let text = body
            .to_string()
            .replace(SESSION, id)
            .replace("toolu_", &format!("toolu_{id}_"));
        let body: Value = serde_json::from_str(&text)?;
        out.push(QueueRecord {
            message_id: format!("msg-{rid}"),
            body: envelope(&rid, body, at)?,
            receive_count: 1,
            sent_at: Some(at),
            request_id_attr: Some(rid),
        });
    }
    Ok(out)
}

fn envelope(request_id: &str, body: Value, at: DateTime<Utc>) -> anyhow::Result<String> {
    Ok(QueueMessage::HookEventV1(Envelope {
        request_id: RequestId::parse(request_id)?,
        trace_id: None,
        span_id: None,
        received_at: at,
        principal: Some("alice".into()),
        role: None,
        users: None,
        source_ip: None,
        user_agent: None,
        client: None,
        headers: BTreeMap::new(),
        invalid: None,
        payload: Payload::Json(body),
    })
    .encode()?)
}

/// Every row of every table a purge touches that does not belong to
/// session `id`, in a stable order: what must survive a purge of `id`.
async fn rows_not_of(db: &TestDb, ids: &[&str]) -> anyhow::Result<Vec<String>> {
    let not_in = ids.iter().map(|i| quote(i)).collect::<Vec<_>>().join(", ");
    let mut out = Vec::new();
    for t in TABLES {
        let sql = if t == "webhook_event_attempts" {
            format!(
                "SELECT a.request_id, a.status, a.message_id FROM webhook_event_attempts a \
                 JOIN webhook_events w ON w.request_id = a.request_id \
                 WHERE w.session_id NOT IN ({not_in}) ORDER BY a.request_id, a.status"
            )
        } else {
            format!("SELECT * FROM {t} WHERE session_id NOT IN ({not_in}) ORDER BY 1, 2, 3")
        };
        for mut r in db.rows(&sql).await? {
            r.remove("id");
            out.push(format!("{t}: {}", Value::Object(r)));
        }
    }
    Ok(out)
}

/// Rows of session `id` per table.
async fn rows_of(db: &TestDb, id: &str) -> anyhow::Result<BTreeMap<String, i64>> {
    let mut out = BTreeMap::new();
    for t in TABLES {
        let n = if t == "webhook_event_attempts" {
            db.count(
                t,
                &format!(
                    "request_id IN (SELECT request_id FROM webhook_events WHERE session_id = {})",
                    quote(id)
                ),
            )
            .await?
        } else {
            db.count(t, &format!("session_id = {}", quote(id))).await?
        };
        out.insert(t.to_owned(), n);
    }
    Ok(out)
}

async fn load(db: &TestDb, sessions: &[(&str, &str, DateTime<Utc>)]) -> anyhow::Result<()> {
    let cfg = WorkerConfig::default();
    for (id, user, at) in sessions {
        let failed = process_batch(db.store(), &cfg, &session(id, user, *at)?).await;
        assert!(failed.is_empty(), "{failed:?}");
    }
    Ok(())
}

async fn purge_by_session_leaves_nothing_of_it_and_everything_else(
    db: TestDb,
) -> anyhow::Result<()> {
    let now = Utc::now();
    load(&db, &[("sess-a", "alice", now), ("sess-b", "bob", now)]).await?;
    let before = rows_of(&db, "sess-a").await?;
    assert!(
        before.values().all(|n| *n > 0),
        "the session wrote a row in every table: {before:?}"
    );
    let others = rows_not_of(&db, &["sess-a"]).await?;
    assert!(others.len() > 20);
    let ops = db.ops();
    let sel = Selection {
        session: Some("sess-a".into()),
        ..Selection::default()
    };

    let dry = purge::purge(ops.as_ref(), None, &sel, true, "tester@host").await?;
    assert_eq!(dry.sessions, vec!["sess-a".to_owned()]);
    assert_eq!(
        dry.counts, before,
        "the dry run counts every row of the session"
    );
    assert_eq!(
        rows_of(&db, "sess-a").await?,
        before,
        "a dry run deletes nothing"
    );
    assert_eq!(
        db.count("purges", "1 = 1").await?,
        0,
        "a dry run is not recorded"
    );

    let done = purge::purge(ops.as_ref(), None, &sel, false, "tester@host").await?;
    assert_eq!(
        done.counts, dry.counts,
        "the purge deletes what the dry run counted"
    );
    assert!(rows_of(&db, "sess-a").await?.values().all(|n| *n == 0));
    assert_eq!(
        rows_not_of(&db, &["sess-a"]).await?,
        others,
        "nothing else changed"
    );

    let rec = db
        .row("SELECT actor, selection, counts FROM purges")
        .await?;
    assert_eq!(rec["actor"], "tester@host");
    // SQLite gives the JSON columns back as text.
    let json = |v: &Value| match v {
        Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
        v => v.clone(),
    };
    assert_eq!(json(&rec["selection"])["session"], "sess-a");
    assert_eq!(json(&rec["counts"])["messages"], before["messages"]);
    assert!(
        !rec["selection"].to_string().contains("hookline"),
        "no content"
    );
    assert!(done.purge_id.is_some());

    let again = purge::purge(ops.as_ref(), None, &sel, false, "tester@host").await?;
    assert_eq!(again.total(), 0, "a second purge finds nothing");
    let audit = ops.operations(&all_operations()).await?;
    let seen: Vec<(&str, &str, Option<&str>, i64)> = audit
        .iter()
        .map(|o| {
            (
                o.actor.as_str(),
                o.action.as_str(),
                o.target.as_deref(),
                o.count,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("tester@host", "purge", Some("sess-a"), 0),
            ("tester@host", "purge", Some("sess-a"), 1)
        ],
        "both purges in the operator audit, newest first; not the dry run"
    );
    assert_eq!(audit[1].detail["counts"]["messages"], before["messages"]);
    Ok(())
}

async fn purge_by_user_takes_all_their_sessions(db: TestDb) -> anyhow::Result<()> {
    let now = Utc::now();
    load(
        &db,
        &[
            ("sess-a", "alice", now),
            ("sess-b", "bob", now),
            ("sess-c", "alice", now),
        ],
    )
    .await?;
    let others = rows_not_of(&db, &["sess-a", "sess-c"]).await?;
    let sel = Selection {
        user: Some("alice".into()),
        ..Selection::default()
    };
    let done = purge::purge(db.ops().as_ref(), None, &sel, false, "t").await?;
    assert_eq!(
        done.sessions,
        vec!["sess-a".to_owned(), "sess-c".to_owned()]
    );
    for s in ["sess-a", "sess-c"] {
        assert!(rows_of(&db, s).await?.values().all(|n| *n == 0), "{s}");
    }
    assert_eq!(rows_not_of(&db, &["sess-a", "sess-c"]).await?, others);
    // Criteria combine: bob's sessions idle for a day: none.
    let none = Selection {
        user: Some("bob".into()),
        before: Some(Utc::now() - chrono::Duration::days(1)),
        ..Selection::default()
    };
    let r = purge::purge(db.ops().as_ref(), None, &none, false, "t").await?;
    assert_eq!((r.sessions.len(), r.total()), (0, 0));
    Ok(())
}

async fn retention_removes_only_old_sessions(db: TestDb) -> anyhow::Result<()> {
    let now = Utc::now();
    let old = now - chrono::Duration::days(400);
    load(
        &db,
        &[("sess-old", "alice", old), ("sess-new", "alice", now)],
    )
    .await?;
    let kept = rows_not_of(&db, &["sess-old"]).await?;
    let r = purge::apply_retention(db.ops().as_ref(), None, 30).await?;
    assert_eq!(r.sessions, vec!["sess-old".to_owned()]);
    assert!(rows_of(&db, "sess-old").await?.values().all(|n| *n == 0));
    assert_eq!(
        rows_not_of(&db, &["sess-old"]).await?,
        kept,
        "recent sessions stay whole"
    );
    let rec = db.row("SELECT actor FROM purges").await?;
    assert_eq!(rec["actor"], RETENTION_ACTOR);
    // Nothing more is old: the next run deletes and records nothing.
    let r = purge::apply_retention(db.ops().as_ref(), None, 30).await?;
    assert_eq!(r.total(), 0);
    assert_eq!(db.count("purges", "1 = 1").await?, 1);
    let audit = db.ops().operations(&all_operations()).await?;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(
        (audit[0].actor.as_str(), audit[0].count),
        (RETENTION_ACTOR, 1)
    );
    Ok(())
}

fn all_operations() -> hookline_core::ops::audit::OperationQuery {
    hookline_core::ops::audit::OperationQuery {
        limit: 100,
        ..Default::default()
    }
}

/// DLQ messages of the purged session are deleted; the others stay.
async fn dlq_messages_of_the_selection_are_deleted(pair: QueuePair) -> anyhow::Result<()> {
    let db = TestDb::new(hookline_conformance::db::Backend::Sqlite).await?;
    let now = Utc::now();
    load(&db, &[("sess-a", "alice", now), ("sess-b", "bob", now)]).await?;
    let dlq: Arc<dyn Queue> = pair.dlq.clone();
    for (id, user) in [("sess-a", "alice"), ("sess-b", "bob"), ("sess-x", "alice")] {
        let rec = session(id, user, now)?.remove(1);
        dlq.send(&OutMessage {
            body: rec.body,
            attributes: BTreeMap::new(),
        })
        .await?;
    }
    let sel = Selection {
        user: Some("alice".into()),
        ..Selection::default()
    };
    let ops = db.ops();
    let dry = purge::purge(ops.as_ref(), Some(dlq.as_ref()), &sel, true, "t").await?;
    // sess-a by its stored conversation, sess-x (unknown to the store) by
    // the user the hook stamped in the message.
    assert_eq!(dry.counts.get(purge::DLQ), Some(&2));
    let done = purge::purge(ops.as_ref(), Some(dlq.as_ref()), &sel, false, "t").await?;
    assert_eq!(done.counts, dry.counts);
    let mut left = Vec::new();
    loop {
        let batch = dlq.receive(10, Duration::from_secs(1)).await?;
        if batch.is_empty() {
            break;
        }
        for m in batch {
            let v: Value = match QueueMessage::decode(&m.body)?.envelope().payload.clone() {
                Payload::Json(v) => v,
                _ => Value::Null,
            };
            left.push(v["session_id"].as_str().unwrap_or_default().to_owned());
            dlq.delete(&m.receipt).await?;
        }
    }
    assert_eq!(left, vec!["sess-b".to_owned()]);
    drop(pair.guard);
    Ok(())
}

#[tokio::test]
async fn dlq_purge_on_the_embedded_queue() -> anyhow::Result<()> {
    dlq_messages_of_the_selection_are_deleted(
        SqliteQueueFactory.pair(5, Duration::from_secs(30)).await?,
    )
    .await
}

#[tokio::test]
async fn dlq_purge_on_sqs() -> anyhow::Result<()> {
    dlq_messages_of_the_selection_are_deleted(
        LocalStackFactory.pair(5, Duration::from_secs(30)).await?,
    )
    .await
}
