//! Full-text search (issue 20) on both stores: every session is written
//! through the worker (`process_batch`), so what is found is what the
//! indexes kept current on the real write path. A word of each kind of
//! content is found as that kind; every filter holds; an exact phrase
//! ranks first; prefixes and exclusions; a secret the hook redacted is not
//! found by its value; a purge takes the hits with it; a tool call, whose
//! row is written up to four times (PreToolUse, PostToolUse, the Stop's
//! transcript blocks), is found once, by what each write brought.

use chrono::{DateTime, Duration, Utc};
use hookline_conformance::db::TestDb;
use hookline_conformance::fixtures::{record, t0};
use hookline_core::search::{self, Filters, Kind, Page, Search};
use hookline_core::worker::{QueueRecord, WorkerConfig, process_batch};
use serde_json::{Value, json};

on_both!(
    a_word_of_each_kind_of_content_is_found_as_that_kind,
    every_filter_is_respected,
    an_exact_phrase_ranks_first_and_quotes_require_it,
    prefixes_and_exclusions,
    a_redacted_secret_is_not_found_by_its_value,
    a_session_written_later_is_found_and_a_purged_one_is_gone,
    pages_follow_one_another,
    pages_cut_inside_runs_of_equal_scores,
    a_tool_call_is_found_after_each_of_its_writes,
);

/// A session as the hook would send it.
struct Session {
    id: &'static str,
    user: &'static str,
    host: &'static str,
    cwd: &'static str,
    day: i64,
    prompts: Vec<String>,
    reply: &'static str,
    /// tool name, tool_use_id, input, response
    tools: Vec<(&'static str, &'static str, Value, Value)>,
}

fn at(day: i64, n: usize) -> DateTime<Utc> {
    t0() + Duration::days(day) + Duration::seconds(n as i64)
}

fn records(s: &Session) -> anyhow::Result<Vec<QueueRecord>> {
    let base = json!({
        "session_id": s.id, "cwd": s.cwd, "transcript_path": format!("/t/{}.jsonl", s.id),
    });
    let mut bodies = vec![json!({"hook_event_name": "SessionStart", "source": "startup"})];
    for p in &s.prompts {
        bodies.push(json!({"hook_event_name": "UserPromptSubmit", "prompt": p}));
    }
    for (name, id, input, response) in &s.tools {
        bodies.push(json!({"hook_event_name": "PreToolUse", "tool_name": name,
                           "tool_input": input, "tool_use_id": id}));
        bodies.push(json!({"hook_event_name": "PostToolUse", "tool_name": name,
                           "tool_input": input, "tool_response": response, "tool_use_id": id}));
    }
    bodies.push(json!({"hook_event_name": "Stop", "last_assistant_message": s.reply}));
    bodies
        .into_iter()
        .enumerate()
        .map(|(n, mut b)| {
            if let (Value::Object(b), Value::Object(base)) = (&mut b, &base) {
                b.extend(base.clone());
            }
            let rid = format!("{}-{n:02}", s.id);
            b["hookline"] = json!({
                "v": 1, "request_id": rid, "captured_at": at(s.day, n).to_rfc3339(),
                "client": {"name": "hookline-hook", "version": "test"},
                "user": s.user, "host": s.host,
            });
            record(&rid, b)
        })
        .collect()
}

async fn write(db: &TestDb, sessions: &[Session]) -> anyhow::Result<()> {
    for s in sessions {
        let failed = process_batch(db.store(), &WorkerConfig::default(), &records(s)?).await;
        assert!(failed.is_empty(), "{failed:?}");
    }
    Ok(())
}

fn three() -> Vec<Session> {
    vec![
        Session {
            id: "sess-aaaa-1",
            user: "alice",
            host: "devbox",
            cwd: "/work/app",
            day: 0,
            prompts: vec!["Why does the zebrafish deploy fail?".into()],
            reply: "The quokka deploy needs a retry.",
            tools: vec![
                (
                    "Bash",
                    "toolu_a1",
                    json!({"command": "kubectl get narwhal deploy", "description": "list"}),
                    json!({"stdout": "axolotl deploy 3/3 ready", "stderr": ""}),
                ),
                (
                    "Read",
                    "toolu_a2",
                    json!({"file_path": "/work/app/src/pangolin_deploy.rs"}),
                    json!({"content": "fn main() {}"}),
                ),
            ],
        },
        Session {
            id: "sess-bbbb-2",
            user: "bob",
            host: "laptop",
            cwd: "/work/apple",
            day: 2,
            prompts: vec!["deploy the billing service".into()],
            reply: "Deployed.",
            tools: vec![(
                "Grep",
                "toolu_b1",
                json!({"pattern": "deploy", "path": "/work/apple"}),
                json!({"matches": "none"}),
            )],
        },
        Session {
            id: "sess-cccc-3",
            user: "alice",
            host: "laptop",
            cwd: "/work/app/sub",
            day: 4,
            prompts: vec!["deploy again".into()],
            reply: "ok",
            tools: vec![],
        },
    ]
}

async fn find(db: &TestDb, q: &str, filters: Filters) -> anyhow::Result<Page> {
    let s = Search {
        limit: 100,
        ..Search::parse(q, filters)?
    };
    Ok(search::search(db.search().as_ref(), &s).await?)
}

fn summary(p: &Page) -> Vec<(String, Kind, Option<String>)> {
    let mut v: Vec<_> = p
        .hits
        .iter()
        .map(|h| (h.session_id.clone(), h.kind, h.tool_name.clone()))
        .collect();
    v.sort_by(|a, b| (&a.0, a.1.as_str()).cmp(&(&b.0, b.1.as_str())));
    v
}

fn marked(p: &Page, n: usize) -> String {
    p.hits
        .get(n)
        .map(|h| search::snippet::marked(&h.snippet, "[", "]"))
        .unwrap_or_default()
}

async fn a_word_of_each_kind_of_content_is_found_as_that_kind(db: TestDb) -> anyhow::Result<()> {
    write(&db, &three()).await?;
    for (word, kind, anchor) in [
        ("zebrafish", Kind::Prompt, None),
        ("quokka", Kind::Reply, None),
        ("narwhal", Kind::ToolInput, Some("toolu_a1")),
        ("axolotl", Kind::ToolResult, Some("toolu_a1")),
        ("pangolin", Kind::Path, Some("toolu_a2")),
    ] {
        let p = find(&db, word, Filters::default()).await?;
        assert_eq!(p.hits.len(), 1, "{word}: {:?}", summary(&p));
        let h = &p.hits[0];
        assert_eq!(
            (h.session_id.as_str(), h.kind),
            ("sess-aaaa-1", kind),
            "{word}"
        );
        assert_eq!(
            h.title.as_deref(),
            Some("Why does the zebrafish deploy fail?")
        );
        if let Some(a) = anchor {
            assert_eq!(h.anchor, a, "{word}");
        }
        assert!(
            marked(&p, 0).contains(&format!("[{word}]")),
            "{word}: {}",
            marked(&p, 0)
        );
    }
    // A path's words are words: `src/pangolin_deploy.rs` holds `rs`.
    let p = find(&db, "src/pangolin_deploy.rs", Filters::default()).await?;
    assert_eq!(
        summary(&p),
        [("sess-aaaa-1".into(), Kind::Path, Some("Read".into()))]
    );
    assert_eq!(marked(&p, 0), "/work/app/[src]/[pangolin]_[deploy].[rs]");
    Ok(())
}

async fn every_filter_is_respected(db: TestDb) -> anyhow::Result<()> {
    write(&db, &three()).await?;
    let sessions = |p: &Page| {
        let mut v: Vec<String> = p.hits.iter().map(|h| h.session_id.clone()).collect();
        v.sort();
        v.dedup();
        v
    };
    let all = find(&db, "deploy", Filters::default()).await?;
    assert_eq!(
        sessions(&all),
        ["sess-aaaa-1", "sess-bbbb-2", "sess-cccc-3"]
    );
    let some = |f: Filters| {
        let db = db.clone();
        async move { find(&db, "deploy", f).await }
    };
    let user = some(Filters {
        user: Some("alice".into()),
        ..Filters::default()
    })
    .await?;
    assert_eq!(sessions(&user), ["sess-aaaa-1", "sess-cccc-3"]);
    let host = some(Filters {
        host: Some("laptop".into()),
        ..Filters::default()
    })
    .await?;
    assert_eq!(sessions(&host), ["sess-bbbb-2", "sess-cccc-3"]);
    // The directory and below: /work/apple is not below /work/app.
    let project = some(Filters {
        project: Some("/work/app/".into()),
        ..Filters::default()
    })
    .await?;
    assert_eq!(sessions(&project), ["sess-aaaa-1", "sess-cccc-3"]);
    let tool = some(Filters {
        tool: Some("bash".into()),
        ..Filters::default()
    })
    .await?;
    assert_eq!(
        summary(&tool),
        [
            ("sess-aaaa-1".into(), Kind::ToolInput, Some("Bash".into())),
            ("sess-aaaa-1".into(), Kind::ToolResult, Some("Bash".into())),
        ]
    );
    let dates = some(Filters {
        since: Some(t0() + Duration::days(1)),
        until: Some(t0() + Duration::days(3)),
        ..Filters::default()
    })
    .await?;
    assert_eq!(sessions(&dates), ["sess-bbbb-2"]);
    assert!(dates.hits.iter().all(|h| h.at >= t0() + Duration::days(2)));
    let session = some(Filters {
        session: Some("sess-bbbb".into()),
        ..Filters::default()
    })
    .await?;
    assert_eq!(sessions(&session), ["sess-bbbb-2"]);
    let kind = some(Filters {
        kind: Some(Kind::Prompt),
        ..Filters::default()
    })
    .await?;
    assert_eq!(kind.hits.len(), 3);
    assert!(kind.hits.iter().all(|h| h.kind == Kind::Prompt));
    let none = some(Filters {
        user: Some("bob".into()),
        project: Some("/work/app".into()),
        ..Filters::default()
    })
    .await?;
    assert!(
        none.hits.is_empty(),
        "filters combine: {:?}",
        summary(&none)
    );
    Ok(())
}

async fn an_exact_phrase_ranks_first_and_quotes_require_it(db: TestDb) -> anyhow::Result<()> {
    let session = Session {
        id: "sess-phrase",
        user: "alice",
        host: "devbox",
        cwd: "/work/app",
        day: 0,
        prompts: vec![
            "the pool was full, and the connection dropped".into(),
            "a connection to the pool".into(),
            "connection pool exhausted".into(),
            "pool connection order reversed".into(),
        ],
        reply: "done",
        tools: vec![],
    };
    write(&db, &[session]).await?;
    let words = find(&db, "connection pool", Filters::default()).await?;
    assert_eq!(words.hits.len(), 4, "every prompt has both words");
    assert_eq!(marked(&words, 0), "[connection] [pool] exhausted");
    let phrase = find(&db, r#""connection pool""#, Filters::default()).await?;
    assert_eq!(phrase.hits.len(), 1);
    assert_eq!(marked(&phrase, 0), "[connection] [pool] exhausted");
    Ok(())
}

async fn prefixes_and_exclusions(db: TestDb) -> anyhow::Result<()> {
    write(&db, &three()).await?;
    let p = find(&db, "zebra*", Filters::default()).await?;
    assert_eq!(summary(&p), [("sess-aaaa-1".into(), Kind::Prompt, None)]);
    assert!(marked(&p, 0).contains("[zebrafish]"), "{}", marked(&p, 0));
    assert!(
        find(&db, "zebra", Filters::default())
            .await?
            .hits
            .is_empty(),
        "a word is whole"
    );
    let p = find(&db, "deploy* -billing -zebrafish", Filters::default()).await?;
    assert!(!p.hits.is_empty());
    assert!(
        p.hits
            .iter()
            .all(|h| !(h.kind == Kind::Prompt && h.session_id != "sess-cccc-3")),
        "the excluded prompts are gone: {:?}",
        summary(&p)
    );
    // `Deployed.` is found by the prefix.
    assert!(
        p.hits
            .iter()
            .any(|h| h.kind == Kind::Reply && h.session_id == "sess-bbbb-2")
    );
    Ok(())
}

async fn a_redacted_secret_is_not_found_by_its_value(db: TestDb) -> anyhow::Result<()> {
    use hookline_hook::redact::{Redactor, Settings};
    let (redactor, problems) = Redactor::new(&Settings::default());
    assert!(problems.is_empty());
    let mut prompt =
        json!("configure AKIAIOSFODNN7EXAMPLE then password=hunter2hunter2 for wombat");
    let mut counts = Default::default();
    redactor.redact_value(&mut prompt, &mut counts);
    let prompt = prompt.as_str().unwrap_or_default().to_owned();
    assert!(prompt.contains("[REDACTED:aws_access_key]"), "{prompt}");
    let session = Session {
        id: "sess-secret",
        user: "alice",
        host: "devbox",
        cwd: "/work/app",
        day: 0,
        prompts: vec![prompt],
        reply: "ok",
        tools: vec![],
    };
    write(&db, &[session]).await?;
    for secret in ["AKIAIOSFODNN7EXAMPLE", "hunter2hunter2", "AKIA*", "hunter*"] {
        let p = find(&db, secret, Filters::default()).await?;
        assert!(p.hits.is_empty(), "{secret} is found: {}", marked(&p, 0));
    }
    let p = find(&db, "wombat redacted", Filters::default()).await?;
    assert_eq!(p.hits.len(), 1);
    assert!(
        marked(&p, 0).contains("[[REDACTED]:aws_access_key]"),
        "{}",
        marked(&p, 0)
    );
    Ok(())
}

async fn a_session_written_later_is_found_and_a_purged_one_is_gone(
    db: TestDb,
) -> anyhow::Result<()> {
    let mut sessions = three();
    let last = sessions.pop();
    write(&db, &sessions).await?;
    assert!(
        find(&db, "again", Filters::default())
            .await?
            .hits
            .is_empty()
    );
    write(&db, &last.into_iter().collect::<Vec<_>>()).await?;
    let p = find(&db, "again", Filters::default()).await?;
    assert_eq!(summary(&p), [("sess-cccc-3".into(), Kind::Prompt, None)]);
    // A redelivery changes nothing; the session's deletion takes its hits.
    write(&db, &three()).await?;
    assert_eq!(find(&db, "deploy", Filters::default()).await?.hits.len(), 8);
    match (db.pg_pool(), db.sqlite_pool()) {
        (Some(pg), _) => {
            sqlx::query("DELETE FROM conversations WHERE session_id = 'sess-aaaa-1'")
                .execute(pg)
                .await?;
        }
        (_, Some(lite)) => {
            sqlx::query("DELETE FROM conversations WHERE session_id = 'sess-aaaa-1'")
                .execute(lite)
                .await?;
        }
        _ => anyhow::bail!("no pool"),
    }
    for word in ["zebrafish", "quokka", "narwhal", "axolotl", "pangolin"] {
        assert!(
            find(&db, word, Filters::default()).await?.hits.is_empty(),
            "{word}"
        );
    }
    assert_eq!(find(&db, "deploy", Filters::default()).await?.hits.len(), 3);
    Ok(())
}

async fn pages_follow_one_another(db: TestDb) -> anyhow::Result<()> {
    write(&db, &three()).await?;
    let mut s = Search {
        limit: 3,
        ..Search::parse("deploy", Filters::default())?
    };
    let mut seen = Vec::new();
    loop {
        let p = search::search(db.search().as_ref(), &s).await?;
        assert!(p.hits.len() <= 3);
        seen.extend(p.hits.iter().map(|h| (h.kind, h.anchor.clone())));
        match p.next_offset {
            Some(o) => s.offset = o,
            None => break,
        }
    }
    let all = find(&db, "deploy", Filters::default()).await?;
    assert_eq!(seen.len(), all.hits.len());
    let mut dedup = seen.clone();
    dedup.sort_by(|a, b| (a.0.as_str(), &a.1).cmp(&(b.0.as_str(), &b.1)));
    dedup.dedup();
    assert_eq!(dedup.len(), seen.len(), "no hit twice across pages");
    Ok(())
}

/// Pages of an unfiltered search (the stores then rank the matches alone
/// and read only those that can be on the page) cut through runs of equal
/// scores as a full sort does: by score, then newest first. A prompt's
/// score falls with its length, so `tiebreak` followed by k other words
/// ranks by k; equal k tie, and the later prompt comes first.
async fn pages_cut_inside_runs_of_equal_scores(db: TestDb) -> anyhow::Result<()> {
    let ks = [3, 1, 1, 0, 2, 2, 2, 4, 1];
    let prompt = |n: usize, k: usize| {
        let mut words = vec!["tiebreak".to_owned()];
        words.extend((0..k).map(|j| format!("x{n}y{j}")));
        words.join(" ")
    };
    let session = Session {
        id: "sess-ties",
        user: "alice",
        host: "devbox",
        cwd: "/work/app",
        day: 0,
        prompts: ks.iter().enumerate().map(|(n, &k)| prompt(n, k)).collect(),
        reply: "done",
        tools: vec![],
    };
    write(&db, &[session]).await?;
    let mut order: Vec<usize> = (0..ks.len()).collect();
    order.sort_by_key(|&n| (ks[n], std::cmp::Reverse(n)));
    let expected: Vec<String> = order
        .iter()
        .map(|&n| prompt(n, ks[n]).replacen("tiebreak", "[tiebreak]", 1))
        .collect();
    for limit in [1, 2, 4] {
        let mut s = Search {
            limit,
            ..Search::parse("tiebreak", Filters::default())?
        };
        let mut seen = Vec::new();
        loop {
            let p = search::search(db.search().as_ref(), &s).await?;
            seen.extend((0..p.hits.len()).map(|i| marked(&p, i)));
            match p.next_offset {
                Some(o) => s.offset = o,
                None => break,
            }
        }
        assert_eq!(seen, expected, "pages of {limit}");
    }
    Ok(())
}

/// A hook event of session `sess-tool-4`, `n`th of its kind in the test.
fn tool_event(n: usize, mut body: Value) -> anyhow::Result<QueueRecord> {
    let rid = format!("sess-tool-4-{n:02}");
    body["session_id"] = json!("sess-tool-4");
    body["cwd"] = json!("/work/zoo");
    body["transcript_path"] = json!("/t/sess-tool-4.jsonl");
    let transcript = body.get("transcript").cloned();
    if let Value::Object(b) = &mut body {
        b.remove("transcript");
    }
    body["hookline"] = json!({
        "v": 1, "request_id": rid, "captured_at": at(6, n).to_rfc3339(),
        "client": {"name": "hookline-hook", "version": "test"},
        "user": "carol", "host": "devbox",
    });
    if let Some(t) = transcript {
        body["hookline"]["transcript"] = t;
    }
    record(&rid, body)
}

/// The Postgres vectors are kept by a trigger that recomputes only what
/// changed (migration 20261204200001_search_writes): each write of a call
/// (the insert, the response, the transcript's copy of the input and of the
/// result, a redelivery) leaves every hit in place, once, and on Postgres
/// every stored vector equal to its document's.
async fn a_tool_call_is_found_after_each_of_its_writes(db: TestDb) -> anyhow::Result<()> {
    let grep = json!({"command": "grep manatee /work/zoo/log"});
    let ls = json!({"command": "ls /work/zoo/pens"});
    let hooks = vec![
        tool_event(
            0,
            json!({"hook_event_name": "SessionStart", "source": "startup"}),
        )?,
        tool_event(
            1,
            json!({"hook_event_name": "UserPromptSubmit", "prompt": "count the animals"}),
        )?,
        tool_event(
            2,
            json!({"hook_event_name": "PreToolUse", "tool_name": "Bash",
                             "tool_input": grep, "tool_use_id": "toolu_z1"}),
        )?,
        tool_event(
            3,
            json!({"hook_event_name": "PreToolUse", "tool_name": "Bash",
                             "tool_input": ls, "tool_use_id": "toolu_z2"}),
        )?,
    ];
    let post = tool_event(
        4,
        json!({"hook_event_name": "PostToolUse", "tool_name": "Bash",
                                    "tool_input": grep, "tool_use_id": "toolu_z1",
                                    "tool_response": {"stdout": "dugong seen twice", "stderr": ""}}),
    )?;
    let line = |uuid: &str, n: usize, message: Value| {
        json!({"parentUuid": null, "isSidechain": false, "userType": "external", "cwd": "/work/zoo",
               "sessionId": "sess-tool-4", "version": "2.1.39", "uuid": uuid,
               "timestamp": at(6, n).to_rfc3339(), "type": message["role"], "message": message})
    };
    let entries = vec![
        line(
            "u-1",
            2,
            json!({"id": "msg_z", "type": "message", "role": "assistant", "model": "claude-sonnet-5",
            "content": [{"type": "tool_use", "id": "toolu_z1", "name": "Bash", "input": grep},
                        {"type": "tool_use", "id": "toolu_z2", "name": "Bash", "input": ls}]}),
        ),
        line(
            "u-2",
            4,
            json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_z1", "content": "dugong seen twice"},
            {"type": "tool_result", "tool_use_id": "toolu_z2", "content": "beluga pen empty"}]}),
        ),
    ];
    let stop = tool_event(
        5,
        json!({"hook_event_name": "Stop", "stop_hook_active": false,
        "last_assistant_message": "done",
        "transcript": [{"source": "main", "path": "/t/sess-tool-4.jsonl", "agent_id": null,
                        "start_offset": 0, "end_offset": 2, "entries": entries}]}),
    )?;
    let hits = async |word: &str| -> anyhow::Result<Vec<(Kind, String)>> {
        let p = find(&db, word, Filters::default()).await?;
        Ok(p.hits.iter().map(|h| (h.kind, h.anchor.clone())).collect())
    };
    let batches: [(&str, Vec<QueueRecord>); 4] = [
        ("the calls", hooks.clone()),
        ("the response", vec![post.clone()]),
        ("the transcript", vec![stop.clone()]),
        ("all again", [hooks, vec![post, stop]].concat()),
    ];
    for (n, (what, batch)) in batches.into_iter().enumerate() {
        let failed = process_batch(db.store(), &WorkerConfig::default(), &batch).await;
        assert!(failed.is_empty(), "{what}: {failed:?}");
        let z1 = |k| vec![(k, "toolu_z1".to_owned())];
        assert_eq!(hits("manatee").await?, z1(Kind::ToolInput), "after {what}");
        let dugong = if n == 0 { vec![] } else { z1(Kind::ToolResult) };
        assert_eq!(hits("dugong").await?, dugong, "after {what}");
        // The call without PostToolUse: its result is the transcript's.
        let beluga = if n < 2 {
            vec![]
        } else {
            vec![(Kind::ToolResult, "toolu_z2".to_owned())]
        };
        assert_eq!(hits("beluga").await?, beluga, "after {what}");
        assert_eq!(
            hits("pens").await?,
            vec![(Kind::ToolInput, "toolu_z2".to_owned())],
            "after {what}"
        );
        if let Some(pg) = db.pg_pool() {
            let stale: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM tool_uses
                 WHERE search_input IS DISTINCT FROM search_vector(search_tool_input(input))
                    OR search_result IS DISTINCT FROM search_vector(search_tool_result(response, transcript_result, error))
                    OR search_path IS DISTINCT FROM search_vector(search_tool_path(input))",
            )
            .fetch_one(pg)
            .await?;
            assert_eq!(
                stale, 0,
                "vectors that are not their documents' after {what}"
            );
        }
    }
    Ok(())
}
