//! Roles on both stores (docs/teams.md, "Roles: what each sees and
//! writes"): the worker's write rule in the write transaction, from the
//! envelope's `role` and `users`, and the scoped readers
//! (`hookline_core::store::scope::Viewer`) that every viewer reads through.

use hookline_conformance::db::TestDb;
use hookline_conformance::fixtures::{envelope, stamped, t0};
use hookline_core::envelope::Payload;
use hookline_core::http::AllowedUsers;
use hookline_core::search::{self, Filters, Search};
use hookline_core::store::SessionFilter;
use hookline_core::store::scope::Viewer;
use hookline_core::usage::UsageQuery;
use hookline_core::worker::{QueueRecord, WorkerConfig, process_batch};
use serde_json::{Value, json};

on_both!(
    a_members_event_into_another_users_session_is_invalid_and_writes_nothing,
    a_scoped_reader_sees_only_its_users_sessions,
);

const ALICE: &str = "5eed0000-0000-4000-8000-00000000a11c";
const BOB: &str = "5eed0000-0000-4000-8000-000000000b0b";

/// An event of `session` stamped with `user`, sent by a sender of `role`
/// for `users` (`None`: a message from before roles).
fn record(
    request_id: &str,
    session: &str,
    user: &str,
    second: i64,
    role: Option<(&str, &[&str])>,
    mut body: Value,
) -> anyhow::Result<QueueRecord> {
    body["session_id"] = json!(session);
    body["transcript_path"] = json!("/t.jsonl");
    body["cwd"] = json!("/w");
    let mut body = stamped(body, request_id, second);
    body["hookline"]["user"] = json!(user);
    let mut msg: Value = serde_json::from_str(&envelope(request_id, Payload::Json(body), None)?)?;
    if let Some((role, users)) = role {
        msg["role"] = json!(role);
        msg["users"] = json!(users);
    }
    Ok(QueueRecord {
        message_id: format!("msg-{request_id}"),
        body: msg.to_string(),
        receive_count: 1,
        sent_at: Some(t0()),
        request_id_attr: Some(request_id.to_owned()),
    })
}

fn prompt(text: &str) -> Value {
    json!({"hook_event_name": "UserPromptSubmit", "prompt": text})
}

/// A Stop whose transcript holds one assistant reply of `input` tokens.
fn reply(session: &str, text: &str, input: i64) -> Value {
    json!({"hook_event_name": "Stop", "last_assistant_message": text,
        "hookline_transcript": [{"type": "assistant", "uuid": format!("{session}-r"),
            "sessionId": session, "timestamp": (t0() + chrono::TimeDelta::seconds(3)).to_rfc3339(),
            "message": {"id": format!("msg-{session}"), "role": "assistant", "model": "claude-sonnet-4-5",
                "content": [{"type": "text", "text": text}],
                "usage": {"input_tokens": input, "output_tokens": 10}}}]})
}

/// `reply` with its entries moved where the hook puts them.
fn with_entries(mut r: QueueRecord) -> anyhow::Result<QueueRecord> {
    let mut msg: Value = serde_json::from_str(&r.body)?;
    let data = &mut msg["payload"]["data"];
    if let Some(entries) = data
        .as_object_mut()
        .and_then(|o| o.remove("hookline_transcript"))
    {
        data["hookline"]["transcript"] = json!([{"source": "main", "path": "/t.jsonl",
            "start_offset": 0, "end_offset": 100, "entries": entries}]);
    }
    r.body = msg.to_string();
    Ok(r)
}

async fn seed(db: &TestDb) -> anyhow::Result<()> {
    let records = vec![
        record("a-1", ALICE, "alice", 1, None, prompt("feed the alpaca"))?,
        with_entries(record(
            "a-2",
            ALICE,
            "alice",
            4,
            None,
            reply(ALICE, "The alpaca is fed.", 1000),
        )?)?,
        record("b-1", BOB, "bob", 2, None, prompt("feed the zebrafish"))?,
        with_entries(record(
            "b-2",
            BOB,
            "bob",
            5,
            None,
            reply(BOB, "The zebrafish is fed.", 7000),
        )?)?,
    ];
    let failed = process_batch(db.store(), &WorkerConfig::default(), &records).await;
    anyhow::ensure!(failed.is_empty(), "seed failed: {failed:?}");
    Ok(())
}

async fn a_members_event_into_another_users_session_is_invalid_and_writes_nothing(
    db: TestDb,
) -> anyhow::Result<()> {
    seed(&db).await?;
    let messages = |sid: &'static str| {
        let db = &db;
        async move { db.count("messages", &format!("session_id = '{sid}'")).await }
    };
    let before = messages(ALICE).await?;
    let member_bob = Some(("member", &["bob"][..]));
    let batch = vec![
        // bob, a member, into alice's session: refused in the transaction.
        record(
            "bob-into-alice",
            ALICE,
            "bob",
            9,
            member_bob,
            prompt("bob was here"),
        )?,
        // bob into his own session and into a new one: written.
        record(
            "bob-own",
            BOB,
            "bob",
            9,
            member_bob,
            prompt("more zebrafish"),
        )?,
        record(
            "bob-new",
            "5eed0000-0000-4000-8000-0000000000ee",
            "bob",
            9,
            member_bob,
            prompt("a new one"),
        )?,
        // An admin, and a message from before roles: written anywhere.
        record(
            "ops-into-alice",
            ALICE,
            "ops",
            10,
            Some(("admin", &[][..])),
            prompt("ops note"),
        )?,
        record(
            "old-into-alice",
            ALICE,
            "bob",
            11,
            None,
            prompt("an old message"),
        )?,
    ];
    let failed = process_batch(db.store(), &WorkerConfig::default(), &batch).await;
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(db.status_of("bob-into-alice").await?, "INVALID");
    assert_eq!(
        db.count(
            "webhook_events",
            "request_id = 'bob-into-alice' AND error_code = 'VALIDATION'
             AND CAST(validation_errors AS TEXT) LIKE '%\"session_id\"%'
             AND CAST(validation_errors AS TEXT) LIKE '%forbidden_session%'"
        )
        .await?,
        1,
        "the reason names the field and the code"
    );
    for ok in ["bob-own", "bob-new", "ops-into-alice", "old-into-alice"] {
        assert_eq!(db.status_of(ok).await?, "SUCCESS", "{ok}");
    }
    assert_eq!(
        messages(ALICE).await?,
        before + 2,
        "the admin's and the old message's only"
    );
    assert_eq!(
        db.count(
            "messages",
            &format!("session_id = '{ALICE}' AND text = 'bob was here'")
        )
        .await?,
        0
    );
    // Redelivered: still refused, nothing written (a duplicate).
    let again = process_batch(db.store(), &WorkerConfig::default(), &batch[..1]).await;
    assert!(again.is_empty());
    assert_eq!(messages(ALICE).await?, before + 2);
    Ok(())
}

async fn a_scoped_reader_sees_only_its_users_sessions(db: TestDb) -> anyhow::Result<()> {
    seed(&db).await?;
    let alice = Viewer::new(AllowedUsers::Only(vec!["alice".into()]));
    let reader = alice.reader(db.reader());
    let ids = |v: Vec<hookline_core::store::SessionSummary>| -> Vec<String> {
        v.into_iter().map(|s| s.session_id).collect()
    };
    assert_eq!(ids(reader.list_sessions(10).await?), [ALICE]);
    let asked_for_bob = SessionFilter {
        user: Some("bob".into()),
        ..SessionFilter::default()
    };
    assert!(
        reader
            .list_sessions_where(&asked_for_bob, 10)
            .await?
            .is_empty()
    );
    // The shared prefix is alice's alone in her scope.
    let by_prefix = reader.session("5eed0000").await?;
    assert_eq!(
        by_prefix.map(|v| v.summary.session_id).as_deref(),
        Some(ALICE)
    );
    assert_eq!(reader.session(BOB).await?, None);
    assert!(reader.session_entries(BOB).await?.is_empty());
    assert!(reader.session_messages(BOB).await?.is_empty());
    assert!(!reader.session_messages(ALICE).await?.is_empty());
    assert_eq!(
        reader
            .sessions_started_between(None, None, None, 10)
            .await?,
        [ALICE]
    );
    assert_eq!(
        hookline_core::store::thread(reader.as_ref(), BOB).await?,
        []
    );
    // An admin sees both; the prefix is ambiguous for it.
    let all = Viewer::all().reader(db.reader());
    assert_eq!(all.list_sessions(10).await?.len(), 2);
    assert_eq!(all.session("5eed0000").await?, None);

    // Search: bob's word has no hits for alice, in the engine's query.
    let engine = alice.search(db.search());
    let find = |q: &str| Search::parse(q, Filters::default());
    assert!(
        search::search(engine.as_ref(), &find("zebrafish")?)
            .await?
            .hits
            .is_empty()
    );
    let mine = search::search(engine.as_ref(), &find("fed")?).await?;
    assert!(
        !mine.hits.is_empty() && mine.hits.iter().all(|h| h.session_id == ALICE),
        "{mine:?}"
    );
    let everyone = search::search(db.search().as_ref(), &find("fed")?).await?;
    assert!(everyone.hits.iter().any(|h| h.session_id == BOB));

    // Usage: alice's rows and messages only.
    let usage = alice.usage(db.usage());
    let rows = usage.usage_rows(&UsageQuery::default()).await?;
    assert!(
        !rows.is_empty() && rows.iter().all(|r| r.session_id == ALICE),
        "{rows:?}"
    );
    assert_eq!(rows.iter().map(|r| r.tokens.input).sum::<i64>(), 1000);
    assert!(usage.message_usage(BOB).await?.is_empty());
    assert_eq!(usage.message_usage(ALICE).await?.len(), 1);
    Ok(())
}
