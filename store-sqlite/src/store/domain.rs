//! Domain rows in SQLite: the upserts of one `Plan`, with the merge rules
//! of the Postgres store (`store-postgres/src/store/domain.rs`), each independent
//! of arrival order. Where Postgres has a function SQLite lacks:
//!
//! - `LEAST(a, b)` / `GREATEST(a, b)` ignore NULLs; SQLite's `min`/`max`
//!   return NULL if any argument is NULL, so they are written
//!   `min(COALESCE(a, b), COALESCE(b, a))`.
//! - `source_rank(s)` is inlined as the same CASE.
//! - `jsonb_agg ... WITH ORDINALITY` is `json_group_array(... ORDER BY)` over
//!   `json_each`; `string_agg` is `group_concat`; `btrim` is `trim`.
//! - `EXTRACT(EPOCH FROM post_at - pre_at) * 1000` rounded is computed from
//!   the fixed-width text: whole seconds by `unixepoch`, microseconds from
//!   the fraction.

use hookline_core::mapping::{
    ConversationOp, EntryOp, HeartbeatOp, MessageOp, SubagentOp, ToolUseOp,
};
use serde_json::Value;

use super::Tx;
use crate::time::{to_text, to_text_opt};

fn blocks(content: &[Value]) -> String {
    Value::Array(content.to_vec()).to_string()
}

fn json_opt(v: &Option<Value>) -> Option<String> {
    v.as_ref().map(Value::to_string)
}

pub(super) async fn upsert_conversation(
    tx: &mut Tx,
    sid: &str,
    c: &ConversationOp,
) -> sqlx::Result<()> {
    let (ended_at, end_reason) = match &c.end {
        Some((at, reason)) => (Some(to_text(*at)), reason.clone()),
        None => (None, None),
    };
    let at = to_text(c.at);
    let title_at = c
        .title
        .as_ref()
        .map(|_| to_text(c.title_at.unwrap_or(c.at)));
    // "First" fields take the value of the earliest event that has one.
    sqlx::query!(
        r#"INSERT INTO conversations AS c (session_id, principal, user_name, host, cwd,
               transcript_path, event_model, permission_mode, start_source, started_at, ended_at,
               end_reason, title, title_at)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
           ON CONFLICT (session_id) DO UPDATE SET
             principal = CASE WHEN excluded.started_at < c.started_at
                 THEN COALESCE(excluded.principal, c.principal) ELSE COALESCE(c.principal, excluded.principal) END,
             user_name = CASE WHEN excluded.started_at < c.started_at
                 THEN COALESCE(excluded.user_name, c.user_name) ELSE COALESCE(c.user_name, excluded.user_name) END,
             host = CASE WHEN excluded.started_at < c.started_at
                 THEN COALESCE(excluded.host, c.host) ELSE COALESCE(c.host, excluded.host) END,
             cwd = CASE WHEN excluded.started_at < c.started_at
                 THEN COALESCE(excluded.cwd, c.cwd) ELSE COALESCE(c.cwd, excluded.cwd) END,
             transcript_path = CASE WHEN excluded.started_at < c.started_at
                 THEN COALESCE(excluded.transcript_path, c.transcript_path)
                 ELSE COALESCE(c.transcript_path, excluded.transcript_path) END,
             event_model = CASE WHEN excluded.started_at < c.started_at
                 THEN COALESCE(excluded.event_model, c.event_model) ELSE COALESCE(c.event_model, excluded.event_model) END,
             permission_mode = CASE WHEN excluded.started_at < c.started_at
                 THEN COALESCE(excluded.permission_mode, c.permission_mode)
                 ELSE COALESCE(c.permission_mode, excluded.permission_mode) END,
             start_source = CASE WHEN excluded.started_at < c.started_at
                 THEN COALESCE(excluded.start_source, c.start_source)
                 ELSE COALESCE(c.start_source, excluded.start_source) END,
             started_at = min(c.started_at, excluded.started_at),
             ended_at = max(COALESCE(c.ended_at, excluded.ended_at), COALESCE(excluded.ended_at, c.ended_at)),
             end_reason = CASE WHEN excluded.ended_at IS NOT NULL
                     AND (c.ended_at IS NULL OR excluded.ended_at > c.ended_at)
                 THEN excluded.end_reason ELSE c.end_reason END,
             title = CASE WHEN excluded.title IS NOT NULL AND (c.title_at IS NULL
                     OR (excluded.title_at, excluded.title) < (c.title_at, c.title))
                 THEN excluded.title ELSE c.title END,
             title_at = CASE WHEN excluded.title IS NOT NULL AND (c.title_at IS NULL
                     OR (excluded.title_at, excluded.title) < (c.title_at, c.title))
                 THEN excluded.title_at ELSE c.title_at END"#,
        sid,
        c.principal,
        c.user_name,
        c.host,
        c.cwd,
        c.transcript_path,
        c.model,
        c.permission_mode,
        c.start_source,
        at,
        ended_at,
        end_reason,
        c.title,
        title_at,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn insert_entry(tx: &mut Tx, sid: &str, en: &EntryOp) -> sqlx::Result<()> {
    let ts = to_text_opt(en.timestamp);
    let content = blocks(&en.content);
    let raw = en.raw.to_string();
    sqlx::query!(
        r#"INSERT INTO transcript_entries (session_id, uuid, entry_type, message_key, agent_id, ts, content, raw, line_pos)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
           ON CONFLICT (session_id, uuid) DO UPDATE SET line_pos = excluded.line_pos
           WHERE excluded.line_pos < transcript_entries.line_pos
              OR (transcript_entries.line_pos IS NULL AND excluded.line_pos IS NOT NULL)"#,
        sid,
        en.uuid,
        en.entry_type,
        en.message_key,
        en.agent_id,
        ts,
        content,
        raw,
        en.line_pos,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn upsert_message(tx: &mut Tx, sid: &str, m: &MessageOp) -> sqlx::Result<()> {
    let u = m.usage;
    let (input, output) = (u.map(|u| u.input_tokens), u.map(|u| u.output_tokens));
    let cache_creation = u.map(|u| u.cache_creation_input_tokens);
    let cache_read = u.map(|u| u.cache_read_input_tokens);
    let c = u.and_then(|u| u.cache_creation);
    let (c5m, c1h) = (
        c.map(|c| c.ephemeral_5m_input_tokens),
        c.map(|c| c.ephemeral_1h_input_tokens),
    );
    let rank = u.map(|u| u.rank());
    let content = blocks(&m.content);
    let created_at = to_text(m.created_at);
    // Usage: the entry with the greatest rank holds the final figures
    // (`Usage::rank`), whatever order the entries arrive in.
    sqlx::query!(
        r#"INSERT INTO messages AS m (session_id, message_key, role, source, content, text, model,
               agent_id, input_tokens, output_tokens, cache_creation_input_tokens,
               cache_read_input_tokens, created_at, usage_rank, cache_creation_5m_tokens,
               cache_creation_1h_tokens)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
           ON CONFLICT (session_id, message_key) DO UPDATE SET
             model = COALESCE(m.model, excluded.model),
             agent_id = COALESCE(m.agent_id, excluded.agent_id),
             input_tokens = CASE WHEN excluded.usage_rank > COALESCE(m.usage_rank, '')
                 THEN excluded.input_tokens ELSE m.input_tokens END,
             output_tokens = CASE WHEN excluded.usage_rank > COALESCE(m.usage_rank, '')
                 THEN excluded.output_tokens ELSE m.output_tokens END,
             cache_creation_input_tokens = CASE WHEN excluded.usage_rank > COALESCE(m.usage_rank, '')
                 THEN excluded.cache_creation_input_tokens ELSE m.cache_creation_input_tokens END,
             cache_read_input_tokens = CASE WHEN excluded.usage_rank > COALESCE(m.usage_rank, '')
                 THEN excluded.cache_read_input_tokens ELSE m.cache_read_input_tokens END,
             cache_creation_5m_tokens = CASE WHEN excluded.usage_rank > COALESCE(m.usage_rank, '')
                 THEN excluded.cache_creation_5m_tokens ELSE m.cache_creation_5m_tokens END,
             cache_creation_1h_tokens = CASE WHEN excluded.usage_rank > COALESCE(m.usage_rank, '')
                 THEN excluded.cache_creation_1h_tokens ELSE m.cache_creation_1h_tokens END,
             usage_rank = CASE WHEN excluded.usage_rank > COALESCE(m.usage_rank, '')
                 THEN excluded.usage_rank ELSE m.usage_rank END,
             created_at = min(m.created_at, excluded.created_at)"#,
        sid,
        m.message_key,
        m.role,
        m.source,
        content,
        m.text,
        m.model,
        m.agent_id,
        input,
        output,
        cache_creation,
        cache_read,
        created_at,
        rank,
        c5m,
        c1h,
    )
    .execute(&mut **tx)
    .await?;
    if m.entry_uuid.is_some() {
        merge_content(tx, sid, &m.message_key).await?;
    }
    Ok(())
}

/// A transcript message's content is the merge of its entries' blocks, in
/// (timestamp, uuid, position) order, whatever order they came in; its text
/// is the text blocks' text joined by newlines.
async fn merge_content(tx: &mut Tx, sid: &str, key: &str) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE messages SET (content, text) = (
             SELECT COALESCE(json_group_array(json(b.block) ORDER BY b.ts NULLS LAST, b.uuid, b.ord), '[]'),
                    COALESCE(group_concat(b.block ->> '$.text', char(10) ORDER BY b.ts NULLS LAST, b.uuid, b.ord)
                             FILTER (WHERE b.block ->> '$.type' = 'text'), '')
             FROM (SELECT en.ts, en.uuid, j.key AS ord, en.content -> j.fullkey AS block
                   FROM transcript_entries en, json_each(en.content) j
                   WHERE en.session_id = ?1 AND en.message_key = ?2) b)
           WHERE session_id = ?1 AND message_key = ?2"#,
        sid,
        key,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn upsert_tool_use(tx: &mut Tx, sid: &str, t: &ToolUseOp) -> sqlx::Result<()> {
    let (input, response) = (json_opt(&t.input), json_opt(&t.response));
    let transcript_result = json_opt(&t.transcript_result);
    let (pre_at, post_at) = (to_text_opt(t.pre_at), to_text_opt(t.post_at));
    let (used_at, result_at) = (to_text_opt(t.used_at), to_text_opt(t.result_at));
    sqlx::query!(
        r#"INSERT INTO tool_uses AS t (tool_use_id, session_id, tool_name, input, response, error,
               status, pre_at, post_at, duration_ms, transcript_result, agent_id, input_source,
               used_at, result_at, entry_uuid)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
           ON CONFLICT (tool_use_id) DO UPDATE SET
             tool_name = COALESCE(t.tool_name, excluded.tool_name),
             input = CASE WHEN t.input IS NULL
                     OR (CASE excluded.input_source WHEN 'pre' THEN 3 WHEN 'post' THEN 2 WHEN 'transcript' THEN 1 ELSE 0 END)
                      > (CASE t.input_source WHEN 'pre' THEN 3 WHEN 'post' THEN 2 WHEN 'transcript' THEN 1 ELSE 0 END)
                 THEN COALESCE(excluded.input, t.input) ELSE t.input END,
             input_source = CASE WHEN t.input IS NULL
                     OR (CASE excluded.input_source WHEN 'pre' THEN 3 WHEN 'post' THEN 2 WHEN 'transcript' THEN 1 ELSE 0 END)
                      > (CASE t.input_source WHEN 'pre' THEN 3 WHEN 'post' THEN 2 WHEN 'transcript' THEN 1 ELSE 0 END)
                 THEN COALESCE(excluded.input_source, t.input_source) ELSE t.input_source END,
             response = COALESCE(t.response, excluded.response),
             error = COALESCE(t.error, excluded.error),
             status = CASE WHEN (CASE excluded.status WHEN 'interrupted' THEN 3 WHEN 'failed' THEN 2 WHEN 'succeeded' THEN 1 ELSE 0 END)
                      > (CASE t.status WHEN 'interrupted' THEN 3 WHEN 'failed' THEN 2 WHEN 'succeeded' THEN 1 ELSE 0 END)
                 THEN excluded.status ELSE t.status END,
             pre_at = min(COALESCE(t.pre_at, excluded.pre_at), COALESCE(excluded.pre_at, t.pre_at)),
             post_at = max(COALESCE(t.post_at, excluded.post_at), COALESCE(excluded.post_at, t.post_at)),
             duration_ms = COALESCE(t.duration_ms, excluded.duration_ms),
             transcript_result = COALESCE(t.transcript_result, excluded.transcript_result),
             agent_id = COALESCE(t.agent_id, excluded.agent_id),
             used_at = min(COALESCE(t.used_at, excluded.used_at), COALESCE(excluded.used_at, t.used_at)),
             result_at = max(COALESCE(t.result_at, excluded.result_at), COALESCE(excluded.result_at, t.result_at)),
             entry_uuid = COALESCE(t.entry_uuid, excluded.entry_uuid)"#,
        t.tool_use_id,
        sid,
        t.tool_name,
        input,
        response,
        t.error,
        t.status,
        pre_at,
        post_at,
        t.duration_ms,
        transcript_result,
        t.agent_id,
        t.input_source,
        used_at,
        result_at,
        t.entry_uuid,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn upsert_subagent(tx: &mut Tx, sid: &str, s: &SubagentOp) -> sqlx::Result<()> {
    let (started_at, stopped_at) = (to_text_opt(s.started_at), to_text_opt(s.stopped_at));
    sqlx::query!(
        r#"INSERT INTO subagents AS s (session_id, agent_id, agent_type, started_at, stopped_at,
               transcript_path, last_message, tool_use_id)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
           ON CONFLICT (session_id, agent_id) DO UPDATE SET
             agent_type = COALESCE(s.agent_type, excluded.agent_type),
             started_at = min(COALESCE(s.started_at, excluded.started_at), COALESCE(excluded.started_at, s.started_at)),
             stopped_at = max(COALESCE(s.stopped_at, excluded.stopped_at), COALESCE(excluded.stopped_at, s.stopped_at)),
             transcript_path = COALESCE(s.transcript_path, excluded.transcript_path),
             last_message = COALESCE(s.last_message, excluded.last_message),
             tool_use_id = COALESCE(s.tool_use_id, excluded.tool_use_id)"#,
        sid,
        s.agent_id,
        s.agent_type,
        started_at,
        stopped_at,
        s.transcript_path,
        s.last_message,
        s.tool_use_id,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A heartbeat, merged as in Postgres: widest (first_seen, last_seen); the
/// version and principal of the latest heartbeat, ties broken by the values.
pub(super) async fn upsert_heartbeat(tx: &mut Tx, h: &HeartbeatOp) -> sqlx::Result<()> {
    let at = to_text(h.at);
    sqlx::query!(
        r#"INSERT INTO hosts AS h (user_name, host, first_seen, last_seen, hook_version, principal)
           VALUES (?1, ?2, ?3, ?3, ?4, ?5)
           ON CONFLICT (user_name, host) DO UPDATE SET
             first_seen = min(h.first_seen, excluded.first_seen),
             last_seen = max(h.last_seen, excluded.last_seen),
             hook_version = CASE WHEN (excluded.last_seen, COALESCE(excluded.hook_version, ''), COALESCE(excluded.principal, ''))
                     > (h.last_seen, COALESCE(h.hook_version, ''), COALESCE(h.principal, ''))
                 THEN excluded.hook_version ELSE h.hook_version END,
             principal = CASE WHEN (excluded.last_seen, COALESCE(excluded.hook_version, ''), COALESCE(excluded.principal, ''))
                     > (h.last_seen, COALESCE(h.hook_version, ''), COALESCE(h.principal, ''))
                 THEN excluded.principal ELSE h.principal END"#,
        h.user_name,
        h.host,
        at,
        h.hook_version,
        h.principal,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Derived state of a session, recomputed from its rows so that it does not
/// depend on arrival order: Stop messages the transcript already holds are
/// dropped, durations computed where Claude Code sent none, counts summed.
pub(super) async fn refresh(tx: &mut Tx, sid: &str) -> sqlx::Result<()> {
    sqlx::query!(
        r#"DELETE FROM messages AS s
           WHERE s.session_id = ?1 AND s.source = 'stop' AND (
             EXISTS (SELECT 1 FROM messages t
                     WHERE t.session_id = s.session_id AND t.source = 'transcript'
                       AND t.role = 'assistant' AND t.text <> '' AND trim(t.text) = trim(s.text))
             OR EXISTS (SELECT 1 FROM transcript_entries en, json_each(en.content) j
                        WHERE en.session_id = s.session_id AND en.entry_type = 'assistant'
                          AND (en.content -> j.fullkey) ->> '$.type' = 'text'
                          AND trim((en.content -> j.fullkey) ->> '$.text') = trim(s.text)))"#,
        sid
    )
    .execute(&mut **tx)
    .await?;
    // Prompts given by both the hook and the transcript, and queued
    // prompts then submitted, are kept once (as in Postgres, `refresh`).
    sqlx::query!(
        r#"DELETE FROM messages AS s
           WHERE s.session_id = ?1 AND s.source = 'hook' AND s.role = 'user' AND EXISTS (
             SELECT 1 FROM messages t
             WHERE t.session_id = s.session_id AND t.role = 'user' AND t.message_key LIKE 'entry:%'
               AND trim(t.text) = trim(s.text)
               AND abs(unixepoch(substr(t.created_at, 1, 19)) - unixepoch(substr(s.created_at, 1, 19))) <= 60)"#,
        sid
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        r#"DELETE FROM messages AS q
           WHERE q.session_id = ?1 AND q.message_key LIKE 'queue:%' AND EXISTS (
             SELECT 1 FROM messages t
             WHERE t.session_id = q.session_id AND t.role = 'user'
               AND (t.message_key LIKE 'entry:%' OR t.source = 'hook')
               AND trim(t.text) = trim(q.text)
               AND t.created_at >= q.created_at
               AND unixepoch(substr(t.created_at, 1, 19)) <= unixepoch(substr(q.created_at, 1, 19)) + 3600)"#,
        sid
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        r#"UPDATE tool_uses SET duration_ms = CAST(round((
               (unixepoch(substr(post_at, 1, 19)) - unixepoch(substr(pre_at, 1, 19))) * 1000000
               + CAST(substr(post_at, 21, 6) AS INTEGER) - CAST(substr(pre_at, 21, 6) AS INTEGER)
             ) / 1000.0) AS INTEGER)
           WHERE session_id = ?1 AND duration_ms IS NULL AND pre_at IS NOT NULL AND post_at IS NOT NULL"#,
        sid
    )
    .execute(&mut **tx)
    .await?;
    // A call copied into a fork or resume belongs to the session it came
    // from (as in Postgres, `refresh`).
    sqlx::query!(
        r#"UPDATE tool_uses AS t SET session_id = c.parent_session_id
           FROM conversations c
           WHERE t.session_id = c.session_id AND (c.session_id = ?1 OR c.parent_session_id = ?1)
             AND c.parent_session_id IS NOT NULL AND t.entry_uuid IS NOT NULL
             AND EXISTS (SELECT 1 FROM transcript_entries te
                         WHERE te.session_id = c.parent_session_id AND te.uuid = t.entry_uuid)"#,
        sid
    )
    .execute(&mut **tx)
    .await?;
    // So does a message or prompt copied into a fork or resume (the same
    // message key as one of the parent's): kept in the parent only.
    sqlx::query!(
        r#"DELETE FROM messages
           WHERE session_id IN (SELECT session_id FROM conversations
                                WHERE (session_id = ?1 OR parent_session_id = ?1)
                                  AND parent_session_id IS NOT NULL)
             AND EXISTS (SELECT 1 FROM conversations c JOIN messages pm ON pm.session_id = c.parent_session_id
                         WHERE c.session_id = messages.session_id AND pm.message_key = messages.message_key)"#,
        sid
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        r#"UPDATE conversations AS c SET
             message_count = (SELECT count(*) FROM messages m WHERE m.session_id = c.session_id AND NOT EXISTS (SELECT 1 FROM messages pm
                     WHERE pm.session_id = c.parent_session_id AND pm.message_key = m.message_key)),
             tool_use_count = (SELECT count(*) FROM tool_uses WHERE session_id = c.session_id),
             input_tokens = (SELECT COALESCE(sum(input_tokens), 0) FROM messages m WHERE m.session_id = c.session_id AND NOT EXISTS (SELECT 1 FROM messages pm
                     WHERE pm.session_id = c.parent_session_id AND pm.message_key = m.message_key)),
             output_tokens = (SELECT COALESCE(sum(output_tokens), 0) FROM messages m WHERE m.session_id = c.session_id AND NOT EXISTS (SELECT 1 FROM messages pm
                     WHERE pm.session_id = c.parent_session_id AND pm.message_key = m.message_key)),
             cache_creation_input_tokens = (SELECT COALESCE(sum(cache_creation_input_tokens), 0)
                                            FROM messages m WHERE m.session_id = c.session_id AND NOT EXISTS (SELECT 1 FROM messages pm
                     WHERE pm.session_id = c.parent_session_id AND pm.message_key = m.message_key)),
             cache_read_input_tokens = (SELECT COALESCE(sum(cache_read_input_tokens), 0)
                                        FROM messages m WHERE m.session_id = c.session_id AND NOT EXISTS (SELECT 1 FROM messages pm
                     WHERE pm.session_id = c.parent_session_id AND pm.message_key = m.message_key)),
             cache_creation_5m_tokens = (SELECT COALESCE(sum(cache_creation_5m_tokens), 0)
                                         FROM messages m WHERE m.session_id = c.session_id AND NOT EXISTS (SELECT 1 FROM messages pm
                     WHERE pm.session_id = c.parent_session_id AND pm.message_key = m.message_key)),
             cache_creation_1h_tokens = (SELECT COALESCE(sum(cache_creation_1h_tokens), 0)
                                         FROM messages m WHERE m.session_id = c.session_id AND NOT EXISTS (SELECT 1 FROM messages pm
                     WHERE pm.session_id = c.parent_session_id AND pm.message_key = m.message_key)),
             model = COALESCE(
                 (SELECT m.model FROM messages m
                  WHERE m.session_id = c.session_id AND m.role = 'assistant' AND m.agent_id IS NULL
                    AND m.model IS NOT NULL AND m.model <> '<synthetic>'
                  ORDER BY m.created_at DESC, m.message_key DESC LIMIT 1),
                 c.event_model),
             last_activity_at = max(c.started_at, COALESCE(c.ended_at, c.started_at),
                 COALESCE((SELECT max(created_at) FROM messages WHERE session_id = c.session_id), c.started_at),
                 COALESCE((SELECT max(ts) FROM transcript_entries WHERE session_id = c.session_id), c.started_at),
                 COALESCE((SELECT max(max(COALESCE(pre_at, ''), COALESCE(post_at, ''), COALESCE(used_at, ''),
                                          COALESCE(result_at, '')))
                           FROM tool_uses WHERE session_id = c.session_id), c.started_at))
           WHERE c.session_id = ?1 OR c.parent_session_id = ?1"#,
        sid
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        r#"UPDATE subagents AS s SET
             message_count = (SELECT count(*) FROM messages m
                              WHERE m.session_id = s.session_id AND m.agent_id = s.agent_id),
             input_tokens = (SELECT COALESCE(sum(input_tokens), 0) FROM messages m
                             WHERE m.session_id = s.session_id AND m.agent_id = s.agent_id),
             output_tokens = (SELECT COALESCE(sum(output_tokens), 0) FROM messages m
                              WHERE m.session_id = s.session_id AND m.agent_id = s.agent_id),
             cache_creation_input_tokens = (SELECT COALESCE(sum(cache_creation_input_tokens), 0) FROM messages m
                                            WHERE m.session_id = s.session_id AND m.agent_id = s.agent_id),
             cache_read_input_tokens = (SELECT COALESCE(sum(cache_read_input_tokens), 0) FROM messages m
                                        WHERE m.session_id = s.session_id AND m.agent_id = s.agent_id),
             agent_type = COALESCE(s.agent_type,
                 (SELECT t.input ->> '$.subagent_type' FROM tool_uses t WHERE t.tool_use_id = s.tool_use_id))
           WHERE s.session_id = ?1"#,
        sid
    )
    .execute(&mut **tx)
    .await?;
    super::rollup::refresh_usage(tx, sid).await
}

/// Conversation stitching, as in Postgres (`store-postgres/src/store/domain.rs`,
/// `stitch`): record the first entry's evidence, resolve `continues_uuid`
/// for this session and the sessions hanging from its entries, set
/// `link_kind`.
pub(super) async fn stitch(
    tx: &mut Tx,
    sid: &str,
    c: &ConversationOp,
    has_entries: bool,
) -> sqlx::Result<()> {
    if c.parent_session_id.is_some() || c.continues_uuid.is_some() || c.first_uuid.is_some() {
        sqlx::query(
            "UPDATE conversations SET parent_session_id = COALESCE(parent_session_id, ?2),
                    continues_uuid = COALESCE(continues_uuid, ?3),
                    first_uuid = COALESCE(first_uuid, ?4)
             WHERE session_id = ?1",
        )
        .bind(sid)
        .bind(&c.parent_session_id)
        .bind(&c.continues_uuid)
        .bind(&c.first_uuid)
        .execute(&mut **tx)
        .await?;
    }
    if has_entries || c.continues_uuid.is_some() {
        sqlx::query(
            "UPDATE conversations AS c SET parent_session_id = (
                 SELECT te.session_id FROM transcript_entries te
                 WHERE te.uuid = c.continues_uuid AND te.session_id <> c.session_id
                 ORDER BY (json_extract(te.raw, '$.sessionId') IS te.session_id) DESC, te.session_id
                 LIMIT 1)
             WHERE c.continues_uuid IS NOT NULL
               AND (c.session_id = ?1
                    OR c.continues_uuid IN (SELECT uuid FROM transcript_entries WHERE session_id = ?1))",
        )
        .bind(sid)
        .execute(&mut **tx)
        .await?;
    }
    if has_entries || c.first_uuid.is_some() {
        // A fork's transcript starts with copies of its parent's entries
        // under its own id: of two sessions whose first entries share a
        // uuid, the one that started later (then: has more entries, then
        // the greater id) continues the other.
        sqlx::query(
            "UPDATE conversations AS c SET parent_session_id = (
                 SELECT o.session_id FROM conversations o
                 WHERE o.session_id <> c.session_id
                   AND EXISTS (SELECT 1 FROM transcript_entries te
                               WHERE te.session_id = o.session_id AND te.uuid = c.first_uuid)
                   AND (o.started_at, (SELECT count(*) FROM transcript_entries x WHERE x.session_id = o.session_id), o.session_id)
                     < (c.started_at, (SELECT count(*) FROM transcript_entries x WHERE x.session_id = c.session_id), c.session_id)
                 ORDER BY o.started_at, o.session_id
                 LIMIT 1)
             WHERE c.first_uuid IS NOT NULL
               AND (c.session_id = ?1
                    OR c.first_uuid IN (SELECT uuid FROM transcript_entries WHERE session_id = ?1))",
        )
        .bind(sid)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query(
        "UPDATE conversations SET link_kind = CASE
             WHEN parent_session_id IS NULL THEN NULL
             WHEN start_source IN ('resume', 'fork', 'clear', 'compact') THEN start_source
             ELSE 'continued' END
         WHERE session_id = ?1 OR parent_session_id = ?1
            OR (parent_session_id IS NULL AND link_kind IS NOT NULL)",
    )
    .bind(sid)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
