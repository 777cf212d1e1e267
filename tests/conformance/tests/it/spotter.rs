//! The record equals the transcript (issue 17): every real transcript of
//! `../shared/transcripts/spotter/` (Claude Code 2.1.38–2.1.39), backfilled
//! the way `hookline-hook backfill` sends it, gives per session the rows
//! the JSONL itself says (`hookline_conformance::spotter::expect`, an
//! independent reading): entries, prompts, assistant messages, text
//! replies, tool uses by outcome, subagents, token sums. The same holds when
//! the session arrives by live hooks first and backfill after, and in
//! reverse, with identical tables.

use hookline_conformance::db::{TestDb, quote};
use hookline_conformance::fixtures::record;
use hookline_conformance::spotter::{self, Expect, Session, backfill, body, chunk, ts};
use hookline_core::worker::{QueueRecord, WorkerConfig, process_batch};
use serde_json::json;

use crate::worker_order::assert_same;

on_both!(
    every_spotter_transcript_backfilled_gives_what_the_jsonl_says,
    live_hooks_and_backfill_give_the_same_rows_in_either_order,
    a_subagent_message_in_progress_lines_and_its_own_file_counts_once_either_order,
);

/// What the live hooks send for a session: UserPromptSubmit for each
/// prompt, PreToolUse and PostToolUse/PostToolUseFailure for each tool
/// call of the main transcript, a Stop carrying the transcript delta before
/// each prompt and at the end, and a SubagentStop with each agent's file.
fn live(s: &Session) -> anyhow::Result<Vec<QueueRecord>> {
    let mut out = Vec::new();
    let main = &s.files[0];
    let mut results = std::collections::HashMap::new();
    for l in &main.lines {
        for b in l["message"]["content"].as_array().into_iter().flatten() {
            if b["type"] == "tool_result" {
                results.insert(
                    b["tool_use_id"].as_str().unwrap_or("").to_owned(),
                    b.clone(),
                );
            }
        }
    }
    let mut sent = 0;
    let mut stop = |out: &mut Vec<QueueRecord>, to: usize, at: &str| -> anyhow::Result<()> {
        if to > sent {
            let rid = format!("lv-{}-stop-{to}", s.name);
            let mut b = body(&s.session_id, "Stop", &rid, at);
            b["stop_hook_active"] = json!(false);
            b["hookline"]["transcript"] = json!([chunk(main, sent, to)]);
            out.push(record(&rid, b)?);
            sent = to;
        }
        Ok(())
    };
    for (i, l) in main.lines.iter().enumerate() {
        let Some(at) = ts(l) else { continue };
        if l["isSidechain"] != json!(true)
            && let Some(p) = spotter::prompt(l)
        {
            stop(&mut out, i, at)?;
            let rid = format!("lv-{}-prompt-{i}", s.name);
            let mut b = body(&s.session_id, "UserPromptSubmit", &rid, at);
            b["prompt"] = json!(p);
            out.push(record(&rid, b)?);
        }
        if l["type"] != "assistant" {
            continue;
        }
        for t in l["message"]["content"].as_array().into_iter().flatten() {
            if t["type"] != "tool_use" {
                continue;
            }
            let id = t["id"].as_str().unwrap_or("");
            let rid = format!("lv-{}-pre-{id}", s.name);
            let mut b = body(&s.session_id, "PreToolUse", &rid, at);
            b["tool_name"] = t["name"].clone();
            b["tool_input"] = t["input"].clone();
            b["tool_use_id"] = json!(id);
            out.push(record(&rid, b.clone())?);
            if let Some(r) = results.get(id) {
                let rid = format!("lv-{}-post-{id}", s.name);
                let failed = r["is_error"] == json!(true);
                let event = if failed {
                    "PostToolUseFailure"
                } else {
                    "PostToolUse"
                };
                let mut p = body(&s.session_id, event, &rid, at);
                for k in ["tool_name", "tool_input", "tool_use_id"] {
                    p[k] = b[k].clone();
                }
                if failed {
                    p["error"] = json!(r["content"].to_string());
                } else {
                    p["tool_response"] = r["content"].clone();
                }
                out.push(record(&rid, p)?);
            }
        }
    }
    let end = main
        .lines
        .iter()
        .rev()
        .find_map(ts)
        .unwrap_or("2026-02-01T00:00:00Z");
    stop(&mut out, main.lines.len(), end)?;
    for f in &s.files[1..] {
        let Some(agent) = &f.agent_id else { continue };
        let at = f.lines.iter().rev().find_map(ts).unwrap_or(end);
        let rid = format!("lv-{}-agent-{agent}", s.name);
        let mut b = body(&s.session_id, "SubagentStop", &rid, at);
        b["agent_id"] = json!(agent);
        b["stop_hook_active"] = json!(false);
        b["agent_transcript_path"] = json!(f.path.to_string_lossy());
        b["hookline"]["transcript"] = json!([chunk(f, 0, f.lines.len())]);
        out.push(record(&rid, b)?);
    }
    Ok(out)
}

async fn n(db: &TestDb, sql: &str) -> anyhow::Result<i64> {
    let v = db.value(sql).await?;
    v.as_i64()
        .ok_or_else(|| anyhow::anyhow!("not a number: {v} from {sql}"))
}

/// What the database holds for session `sid`, in the shape of [`Expect`].
async fn got(db: &TestDb, sid: &str) -> anyhow::Result<Expect> {
    let row = db.row(&spotter::recorded_sql(sid)).await?;
    let replies = db.rows(&spotter::replies_sql(sid)).await?;
    Ok(spotter::recorded(&row, &replies))
}

/// Beyond the counts: a title from the first prompt, the model from the
/// replies, every tool call with its result, and subagents' own tokens.
async fn check_facts(db: &TestDb, s: &Session) -> anyhow::Result<()> {
    let q = quote(&s.session_id);
    let c = db
        .row(&format!(
            "SELECT title, model, last_activity_at FROM conversations WHERE session_id = {q}"
        ))
        .await?;
    let first = s.files[0]
        .lines
        .iter()
        .filter(|l| l["isSidechain"] != json!(true))
        .find_map(spotter::prompt);
    let want_title = first.as_deref().and_then(|p| {
        p.lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(|l| l.chars().take(120).collect::<String>())
    });
    assert_eq!(
        c["title"].as_str(),
        want_title.as_deref(),
        "{}: title",
        s.name
    );
    let want_model = s.files[0]
        .lines
        .iter()
        .filter(|l| l["type"] == "assistant")
        .filter_map(|l| {
            let m = l["message"]["model"]
                .as_str()
                .filter(|m| *m != "<synthetic>")?;
            Some((l["timestamp"].as_str().unwrap_or_default(), m))
        })
        .max_by_key(|(t, _)| *t)
        .map(|(_, m)| m);
    assert_eq!(c["model"].as_str(), want_model, "{}: model", s.name);
    assert!(
        c["last_activity_at"].is_string(),
        "{}: last activity",
        s.name
    );
    let unsettled = n(
        db,
        &format!(
            "SELECT count(*) AS n FROM tool_uses WHERE session_id = {q}
             AND status <> 'pending' AND transcript_result IS NULL"
        ),
    )
    .await?;
    assert_eq!(
        unsettled, 0,
        "{}: every settled call has its result",
        s.name
    );
    // A subagent's tokens are its own messages' (final usage per message).
    for f in &s.files[1..] {
        let Some(agent) = &f.agent_id else { continue };
        let sub = spotter::expect(&Session {
            files: vec![f.clone()],
            ..s.clone()
        });
        let out = n(
            db,
            &format!(
                "SELECT output_tokens AS n FROM subagents WHERE session_id = {q} AND agent_id = {}",
                quote(agent)
            ),
        )
        .await?;
        assert_eq!(
            out, sub.output,
            "{}: subagent {agent} output tokens",
            s.name
        );
    }
    Ok(())
}

async fn every_spotter_transcript_backfilled_gives_what_the_jsonl_says(
    db: TestDb,
) -> anyhow::Result<()> {
    let store = db.store();
    let cfg = WorkerConfig::default();
    let sessions = spotter::sessions()?;
    assert!(sessions.len() >= 5, "the spotter transcripts are there");
    let mut table = vec![Expect::HEADER.to_owned()];
    for s in &sessions {
        let records = backfill(s)?;
        for batch in records.chunks(8) {
            assert!(process_batch(store, &cfg, batch).await.is_empty());
        }
        let want = spotter::expect(s);
        assert_eq!(got(&db, &s.session_id).await?, want, "{}", s.name);
        check_facts(&db, s).await?;
        table.push(want.row(&s.name));
    }
    println!("{:?}:\n{}", db.backend(), table.join("\n"));
    // A second backfill adds nothing.
    let before = db.dump().await?;
    for s in &sessions {
        assert!(process_batch(store, &cfg, &backfill(s)?).await.is_empty());
    }
    assert_same(&db.dump().await?, &before, "second backfill");
    Ok(())
}

async fn live_hooks_and_backfill_give_the_same_rows_in_either_order(
    db: TestDb,
) -> anyhow::Result<()> {
    let store = db.store();
    let cfg = WorkerConfig::default();
    // The small sessions and one long one with a subagent and compaction.
    let sessions: Vec<Session> = spotter::sessions()?
        .into_iter()
        .filter(|s| s.files[0].lines.len() < 200 || s.name.starts_with("4d5611e5"))
        .collect();
    let mut dumps = Vec::new();
    for live_first in [true, false] {
        db.reset().await?;
        for s in &sessions {
            let (l, b) = (live(s)?, backfill(s)?);
            let order = if live_first { [l, b] } else { [b, l] };
            for part in order {
                for batch in part.chunks(16) {
                    assert!(process_batch(store, &cfg, batch).await.is_empty());
                }
            }
            let want = spotter::expect(s);
            let what = if live_first {
                "live, then backfill"
            } else {
                "backfill, then live"
            };
            assert_eq!(got(&db, &s.session_id).await?, want, "{}: {what}", s.name);
            check_facts(&db, s).await?;
        }
        dumps.push(db.dump().await?);
    }
    assert_same(&dumps[1], &dumps[0], "backfill first");
    Ok(())
}

/// The sessions whose subagents' own files are there and whose main
/// transcript carries the same messages in `agent_progress` lines: the
/// agent files first or the main transcript first, the same rows, each
/// message once (the JSONL's count).
async fn a_subagent_message_in_progress_lines_and_its_own_file_counts_once_either_order(
    db: TestDb,
) -> anyhow::Result<()> {
    let store = db.store();
    let cfg = WorkerConfig::default();
    let sessions: Vec<Session> = spotter::sessions()?
        .into_iter()
        .filter(|s| s.files.len() > 1)
        .collect();
    assert!(!sessions.is_empty(), "a session with subagent files");
    let mut dumps = Vec::new();
    for agents_first in [false, true] {
        db.reset().await?;
        for s in &sessions {
            let mut batches = backfill(s)?;
            if agents_first {
                // backfill() sends the main file's batches first.
                let main = batches
                    .iter()
                    .take_while(|r| r.body.contains(r#""source":"main""#))
                    .count();
                batches.rotate_left(main);
            }
            for batch in batches.chunks(4) {
                assert!(process_batch(store, &cfg, batch).await.is_empty());
            }
            assert_eq!(
                got(&db, &s.session_id).await?,
                spotter::expect(s),
                "{}: agents first {agents_first}",
                s.name
            );
        }
        dumps.push(db.dump().await?);
    }
    assert_same(&dumps[1], &dumps[0], "agent files first");
    Ok(())
}
