//! Keyset pages of the sessions list on both stores
//! (`hookline_core::store::page`, issue 22): walked older from the first
//! page and back newer, the pages neither overlap nor skip a session, also
//! where several sessions started in the same instant; a member's pages
//! hold only its users' sessions; the filters (text, tool, start range)
//! select in SQL what they promise.

use std::collections::HashSet;

use hookline_conformance::db::TestDb;
use hookline_conformance::fixtures::{envelope, stamped, t0};
use hookline_core::envelope::Payload;
use hookline_core::http::AllowedUsers;
use hookline_core::store::scope::Viewer;
use hookline_core::store::{Reader, Seek, SessionCursor, SessionFilter, SessionSummary, page};
use hookline_core::worker::{QueueRecord, WorkerConfig, process_batch};
use serde_json::{Value, json};

on_both!(
    pages_walk_every_session_once_in_order_both_ways,
    a_members_pages_hold_only_its_users_sessions,
    filters_select_in_the_query,
);

/// Sessions seeded; three start in each second, so ties are common.
const N: usize = 23;

fn sid(i: usize) -> String {
    format!("5eed0000-0000-4000-8000-{i:012}")
}

fn user(i: usize) -> &'static str {
    if i % 3 == 1 { "bob" } else { "alice" }
}

fn record(request_id: &str, i: usize, mut body: Value) -> anyhow::Result<QueueRecord> {
    body["session_id"] = json!(sid(i));
    body["transcript_path"] = json!(format!("/t/{i}.jsonl"));
    body["cwd"] = json!(format!("/work/proj-{}", i % 4));
    let mut body = stamped(body, request_id, (i / 3) as i64);
    body["hookline"]["user"] = json!(user(i));
    Ok(QueueRecord {
        message_id: format!("msg-{request_id}"),
        body: envelope(request_id, Payload::Json(body), None)?,
        receive_count: 1,
        sent_at: Some(t0()),
        request_id_attr: Some(request_id.to_owned()),
    })
}

/// `N` sessions; those with `i % 5 == 0` ran Bash.
async fn seed(db: &TestDb) -> anyhow::Result<()> {
    let mut records = Vec::new();
    for i in 0..N {
        records.push(record(
            &format!("start-{i}"),
            i,
            json!({"hook_event_name": "SessionStart", "source": "startup"}),
        )?);
        if i % 5 == 0 {
            records.push(record(
                &format!("bash-{i}"),
                i,
                json!({"hook_event_name": "PostToolUse", "tool_name": "Bash",
                    "tool_use_id": format!("toolu_{i}"), "tool_input": {"command": "ls"},
                    "tool_response": {"stdout": "a"}}),
            )?);
        }
    }
    for batch in records.chunks(10) {
        let failed = process_batch(db.store(), &WorkerConfig::default(), batch).await;
        anyhow::ensure!(failed.is_empty(), "seed failed: {failed:?}");
    }
    Ok(())
}

fn ids(v: &[SessionSummary]) -> Vec<String> {
    v.iter().map(|s| s.session_id.clone()).collect()
}

/// Every page from the first, following `older`.
async fn walk_older(
    r: &dyn Reader,
    filter: &SessionFilter,
    size: i64,
) -> anyhow::Result<Vec<Vec<SessionSummary>>> {
    let mut pages = Vec::new();
    let mut at = Seek::First;
    loop {
        let p = page::page(r, filter, &at, size).await?;
        anyhow::ensure!(pages.len() <= N, "the walk does not end");
        pages.push(p.sessions);
        match p.older {
            Some(c) => at = Seek::Before(c),
            None => return Ok(pages),
        }
    }
}

async fn pages_walk_every_session_once_in_order_both_ways(db: TestDb) -> anyhow::Result<()> {
    seed(&db).await?;
    let r = db.reader();
    let all = SessionFilter::default();
    let pages = walk_older(r.as_ref(), &all, 4).await?;
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        [4, 4, 4, 4, 4, 3]
    );
    let flat: Vec<SessionSummary> = pages.concat();
    let seen: HashSet<String> = ids(&flat).into_iter().collect();
    assert_eq!(seen.len(), N, "no session twice");
    assert_eq!(
        seen,
        (0..N).map(sid).collect::<HashSet<_>>(),
        "none skipped"
    );
    // Newest first, ties by id descending; and ties there are.
    for w in flat.windows(2) {
        assert!(
            (w[0].started_at, &w[0].session_id) > (w[1].started_at, &w[1].session_id),
            "{} before {}",
            w[0].session_id,
            w[1].session_id
        );
    }
    assert!(flat.windows(2).any(|w| w[0].started_at == w[1].started_at));
    // A page boundary inside a tie: page 1 ends and page 2 starts in one second.
    assert_eq!(pages[0][3].started_at, pages[1][0].started_at);

    // Back from the last page by `newer`: the same pages, newest first.
    let mut at = Seek::Before(SessionCursor::of(&pages[4][3]));
    let last = page::page(r.as_ref(), &all, &at, 4).await?;
    assert_eq!(ids(&last.sessions), ids(&pages[5]));
    assert_eq!(last.older, None);
    let mut back = vec![last.sessions];
    let mut newer = last.newer;
    while let Some(c) = newer {
        at = Seek::After(c);
        let p = page::page(r.as_ref(), &all, &at, 4).await?;
        newer = p.newer;
        back.push(p.sessions);
        assert!(back.len() <= N, "the walk does not end");
    }
    back.reverse();
    assert_eq!(
        back.iter().map(|p| ids(p)).collect::<Vec<_>>(),
        pages.iter().map(|p| ids(p)).collect::<Vec<_>>()
    );
    // The first page has no newer link; a page size over the count is one page.
    let first = page::page(r.as_ref(), &all, &Seek::First, 100).await?;
    assert_eq!(
        (first.sessions.len(), first.newer, first.older),
        (N, None, None)
    );
    // list_sessions reads the first page.
    assert_eq!(ids(&r.list_sessions(4).await?), ids(&pages[0]));
    Ok(())
}

async fn a_members_pages_hold_only_its_users_sessions(db: TestDb) -> anyhow::Result<()> {
    seed(&db).await?;
    let bob = Viewer::new(AllowedUsers::Only(vec!["bob".into()])).reader(db.reader());
    // Even when bob asks for alice's sessions by user.
    for filter in [
        SessionFilter::default(),
        SessionFilter {
            user: Some("alice".into()),
            ..SessionFilter::default()
        },
    ] {
        let pages = walk_older(bob.as_ref(), &filter, 2).await?;
        let got: Vec<String> = pages.iter().flat_map(|p| ids(p)).collect();
        for p in &pages {
            assert!(
                p.iter().all(|s| s.user_name.as_deref() == Some("bob")),
                "{filter:?}: {:?}",
                ids(p)
            );
        }
        let want: Vec<String> = if filter.user.is_some() {
            Vec::new()
        } else {
            let mut w: Vec<usize> = (0..N).filter(|&i| user(i) == "bob").collect();
            // Newest first: by second, then id, both descending.
            w.sort_by_key(|b| std::cmp::Reverse((b / 3, sid(*b))));
            w.into_iter().map(sid).collect()
        };
        assert_eq!(got, want, "{filter:?}");
    }
    // Newer than a cursor before everything: bob's sessions only.
    let at = Seek::After(SessionCursor {
        started_at: t0() - chrono::TimeDelta::days(1),
        session_id: String::new(),
    });
    let p = page::page(bob.as_ref(), &SessionFilter::default(), &at, 100).await?;
    assert_eq!(
        p.sessions.len(),
        (0..N).filter(|&i| user(i) == "bob").count()
    );
    assert!(
        p.sessions
            .iter()
            .all(|s| s.user_name.as_deref() == Some("bob"))
    );
    // sessions_started_between is scoped in the query too.
    let between = bob.sessions_started_between(None, None, None, 3).await?;
    assert_eq!(between.len(), 3);
    assert!(between.iter().all(|s| {
        let i: usize = s[24..].parse().unwrap_or(usize::MAX);
        i < N && user(i) == "bob"
    }));
    Ok(())
}

async fn filters_select_in_the_query(db: TestDb) -> anyhow::Result<()> {
    seed(&db).await?;
    let r = db.reader();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let select = |f: SessionFilter| {
        let r = r.clone();
        async move {
            let pages = walk_older(r.as_ref(), &f, 3).await?;
            anyhow::Ok(sorted(pages.iter().flat_map(|p| ids(p)).collect()))
        }
    };
    let want = |keep: fn(usize) -> bool| sorted((0..N).filter(|&i| keep(i)).map(sid).collect());
    let tool = SessionFilter {
        tool: Some("bash".into()),
        ..SessionFilter::default()
    };
    assert_eq!(select(tool).await?, want(|i| i % 5 == 0), "tool, any case");
    let text = SessionFilter {
        text: Some("PROJ-2".into()),
        ..SessionFilter::default()
    };
    assert_eq!(select(text).await?, want(|i| i % 4 == 2), "cwd, any case");
    let id = SessionFilter {
        text: Some(sid(7)[20..].to_owned()),
        ..SessionFilter::default()
    };
    assert_eq!(select(id).await?, want(|i| i == 7), "id");
    // Started in seconds [2, 4): sessions 6..12.
    let range = SessionFilter {
        since: Some(t0() + chrono::TimeDelta::seconds(2)),
        until: Some(t0() + chrono::TimeDelta::seconds(4)),
        ..SessionFilter::default()
    };
    assert_eq!(
        select(range).await?,
        want(|i| (6..12).contains(&i)),
        "range"
    );
    let both = SessionFilter {
        user: Some("bob".into()),
        tool: Some("Bash".into()),
        ..SessionFilter::default()
    };
    assert_eq!(
        select(both).await?,
        want(|i| i % 5 == 0 && user(i) == "bob"),
        "user and tool"
    );
    Ok(())
}
