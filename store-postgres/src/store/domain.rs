//! Domain rows in Postgres: the upserts of one [`Plan`](hookline_core::mapping::Plan).
//! Each merge rule is independent of arrival order (see `hookline_core::mapping`).

use serde_json::Value;

use crate::store::Tx;
use crate::store_error;
use hookline_core::error::StoreError;
use hookline_core::mapping::{
    ConversationOp, EntryOp, HeartbeatOp, MessageOp, SubagentOp, ToolUseOp,
};
use hookline_core::text::{escape_json, escape_str};

fn e(s: &Option<String>) -> Option<String> {
    s.as_deref().map(|s| escape_str(s).into_owned())
}

fn ej(v: &Option<Value>) -> Option<Value> {
    v.as_ref().map(|v| escape_json(v).into_owned())
}

fn blocks(content: &[Value]) -> Value {
    escape_json(&Value::Array(content.to_vec())).into_owned()
}

pub(super) async fn upsert_conversation(
    tx: &mut Tx<'_>,
    sid: &str,
    c: &ConversationOp,
) -> Result<(), StoreError> {
    let (ended_at, end_reason) = match &c.end {
        Some((at, reason)) => (Some(*at), e(reason)),
        None => (None, None),
    };
    let title_at = c.title.as_ref().map(|_| c.title_at.unwrap_or(c.at));
    // "First" fields take the value of the earliest event that has one.
    sqlx::query!(
        r#"INSERT INTO conversations AS c (session_id, principal, user_name, host, cwd,
               transcript_path, event_model, permission_mode, start_source, started_at, ended_at,
               end_reason, title, title_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
           ON CONFLICT (session_id) DO UPDATE SET
             principal = CASE WHEN EXCLUDED.started_at < c.started_at
                 THEN COALESCE(EXCLUDED.principal, c.principal) ELSE COALESCE(c.principal, EXCLUDED.principal) END,
             user_name = CASE WHEN EXCLUDED.started_at < c.started_at
                 THEN COALESCE(EXCLUDED.user_name, c.user_name) ELSE COALESCE(c.user_name, EXCLUDED.user_name) END,
             host = CASE WHEN EXCLUDED.started_at < c.started_at
                 THEN COALESCE(EXCLUDED.host, c.host) ELSE COALESCE(c.host, EXCLUDED.host) END,
             cwd = CASE WHEN EXCLUDED.started_at < c.started_at
                 THEN COALESCE(EXCLUDED.cwd, c.cwd) ELSE COALESCE(c.cwd, EXCLUDED.cwd) END,
             transcript_path = CASE WHEN EXCLUDED.started_at < c.started_at
                 THEN COALESCE(EXCLUDED.transcript_path, c.transcript_path)
                 ELSE COALESCE(c.transcript_path, EXCLUDED.transcript_path) END,
             event_model = CASE WHEN EXCLUDED.started_at < c.started_at
                 THEN COALESCE(EXCLUDED.event_model, c.event_model) ELSE COALESCE(c.event_model, EXCLUDED.event_model) END,
             permission_mode = CASE WHEN EXCLUDED.started_at < c.started_at
                 THEN COALESCE(EXCLUDED.permission_mode, c.permission_mode)
                 ELSE COALESCE(c.permission_mode, EXCLUDED.permission_mode) END,
             start_source = CASE WHEN EXCLUDED.started_at < c.started_at
                 THEN COALESCE(EXCLUDED.start_source, c.start_source)
                 ELSE COALESCE(c.start_source, EXCLUDED.start_source) END,
             started_at = LEAST(c.started_at, EXCLUDED.started_at),
             ended_at = GREATEST(c.ended_at, EXCLUDED.ended_at),
             end_reason = CASE WHEN EXCLUDED.ended_at IS NOT NULL
                     AND (c.ended_at IS NULL OR EXCLUDED.ended_at > c.ended_at)
                 THEN EXCLUDED.end_reason ELSE c.end_reason END,
             title = CASE WHEN EXCLUDED.title IS NOT NULL AND (c.title_at IS NULL
                     OR (EXCLUDED.title_at, EXCLUDED.title) < (c.title_at, c.title))
                 THEN EXCLUDED.title ELSE c.title END,
             title_at = CASE WHEN EXCLUDED.title IS NOT NULL AND (c.title_at IS NULL
                     OR (EXCLUDED.title_at, EXCLUDED.title) < (c.title_at, c.title))
                 THEN EXCLUDED.title_at ELSE c.title_at END"#,
        sid,
        e(&c.principal),
        e(&c.user_name),
        e(&c.host),
        e(&c.cwd),
        e(&c.transcript_path),
        e(&c.model),
        e(&c.permission_mode),
        e(&c.start_source),
        c.at,
        ended_at,
        end_reason,
        e(&c.title),
        title_at,
    )
    .execute(&mut **tx)
    .await.map_err(store_error)?;
    Ok(())
}

pub(super) async fn insert_entry(
    tx: &mut Tx<'_>,
    sid: &str,
    en: &EntryOp,
) -> Result<(), StoreError> {
    sqlx::query!(
        r#"INSERT INTO transcript_entries (session_id, uuid, entry_type, message_key, agent_id, ts, content, raw, line_pos)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (session_id, uuid) DO UPDATE SET line_pos = EXCLUDED.line_pos
           WHERE EXCLUDED.line_pos < transcript_entries.line_pos
              OR (transcript_entries.line_pos IS NULL AND EXCLUDED.line_pos IS NOT NULL)"#,
        sid,
        escape_str(&en.uuid).into_owned(),
        escape_str(&en.entry_type).into_owned(),
        e(&en.message_key),
        e(&en.agent_id),
        en.timestamp,
        blocks(&en.content),
        escape_json(&en.raw).into_owned(),
        en.line_pos,
    )
    .execute(&mut **tx)
    .await.map_err(store_error)?;
    Ok(())
}

pub(super) async fn upsert_message(
    tx: &mut Tx<'_>,
    sid: &str,
    m: &MessageOp,
) -> Result<(), StoreError> {
    let key = escape_str(&m.message_key).into_owned();
    let u = m.usage;
    let c = u.and_then(|u| u.cache_creation);
    // Usage: the entry with the greatest rank holds the final figures
    // (`Usage::rank`), whatever order the entries arrive in.
    sqlx::query!(
        r#"INSERT INTO messages AS m (session_id, message_key, role, source, content, text, model,
               agent_id, input_tokens, output_tokens, cache_creation_input_tokens,
               cache_read_input_tokens, created_at, usage_rank, cache_creation_5m_tokens,
               cache_creation_1h_tokens)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
           ON CONFLICT (session_id, message_key) DO UPDATE SET
             model = COALESCE(m.model, EXCLUDED.model),
             agent_id = COALESCE(m.agent_id, EXCLUDED.agent_id),
             input_tokens = CASE WHEN EXCLUDED.usage_rank COLLATE "C" > COALESCE(m.usage_rank, '') COLLATE "C"
                 THEN EXCLUDED.input_tokens ELSE m.input_tokens END,
             output_tokens = CASE WHEN EXCLUDED.usage_rank COLLATE "C" > COALESCE(m.usage_rank, '') COLLATE "C"
                 THEN EXCLUDED.output_tokens ELSE m.output_tokens END,
             cache_creation_input_tokens = CASE WHEN EXCLUDED.usage_rank COLLATE "C" > COALESCE(m.usage_rank, '') COLLATE "C"
                 THEN EXCLUDED.cache_creation_input_tokens ELSE m.cache_creation_input_tokens END,
             cache_read_input_tokens = CASE WHEN EXCLUDED.usage_rank COLLATE "C" > COALESCE(m.usage_rank, '') COLLATE "C"
                 THEN EXCLUDED.cache_read_input_tokens ELSE m.cache_read_input_tokens END,
             cache_creation_5m_tokens = CASE WHEN EXCLUDED.usage_rank COLLATE "C" > COALESCE(m.usage_rank, '') COLLATE "C"
                 THEN EXCLUDED.cache_creation_5m_tokens ELSE m.cache_creation_5m_tokens END,
             cache_creation_1h_tokens = CASE WHEN EXCLUDED.usage_rank COLLATE "C" > COALESCE(m.usage_rank, '') COLLATE "C"
                 THEN EXCLUDED.cache_creation_1h_tokens ELSE m.cache_creation_1h_tokens END,
             usage_rank = CASE WHEN EXCLUDED.usage_rank COLLATE "C" > COALESCE(m.usage_rank, '') COLLATE "C"
                 THEN EXCLUDED.usage_rank ELSE m.usage_rank END,
             created_at = LEAST(m.created_at, EXCLUDED.created_at)"#,
        sid,
        key,
        m.role,
        m.source,
        blocks(&m.content),
        escape_str(&m.text).into_owned(),
        e(&m.model),
        e(&m.agent_id),
        u.map(|u| u.input_tokens),
        u.map(|u| u.output_tokens),
        u.map(|u| u.cache_creation_input_tokens),
        u.map(|u| u.cache_read_input_tokens),
        m.created_at,
        u.map(|u| u.rank()),
        c.map(|c| c.ephemeral_5m_input_tokens),
        c.map(|c| c.ephemeral_1h_input_tokens),
    )
    .execute(&mut **tx)
    .await.map_err(store_error)?;
    if m.entry_uuid.is_some() {
        // A transcript message's content is the merge of its entries' blocks,
        // in (timestamp, uuid, position) order, whatever order they came in.
        sqlx::query!(
            r#"UPDATE messages m SET content = agg.content, text = agg.text
               FROM (SELECT COALESCE(jsonb_agg(b.block ORDER BY en.ts NULLS LAST, en.uuid, b.ord), '[]'::jsonb) AS content,
                            COALESCE(string_agg(b.block->>'text', E'\n' ORDER BY en.ts NULLS LAST, en.uuid, b.ord)
                                     FILTER (WHERE b.block->>'type' = 'text'), '') AS text
                     FROM transcript_entries en
                     CROSS JOIN LATERAL jsonb_array_elements(en.content) WITH ORDINALITY AS b(block, ord)
                     WHERE en.session_id = $1 AND en.message_key = $2) agg
               WHERE m.session_id = $1 AND m.message_key = $2"#,
            sid,
            key,
        )
        .execute(&mut **tx)
        .await.map_err(store_error)?;
    }
    Ok(())
}

pub(super) async fn upsert_tool_use(
    tx: &mut Tx<'_>,
    sid: &str,
    t: &ToolUseOp,
) -> Result<(), StoreError> {
    let id = escape_str(&t.tool_use_id).into_owned();
    sqlx::query!(
        r#"INSERT INTO tool_uses AS t (tool_use_id, session_id, tool_name, input, response, error,
               status, pre_at, post_at, duration_ms, transcript_result, agent_id, input_source,
               used_at, result_at, entry_uuid)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
           ON CONFLICT (tool_use_id) DO UPDATE SET
             tool_name = COALESCE(t.tool_name, EXCLUDED.tool_name),
             input = CASE WHEN t.input IS NULL OR source_rank(EXCLUDED.input_source) > source_rank(t.input_source)
                 THEN COALESCE(EXCLUDED.input, t.input) ELSE t.input END,
             input_source = CASE WHEN t.input IS NULL OR source_rank(EXCLUDED.input_source) > source_rank(t.input_source)
                 THEN COALESCE(EXCLUDED.input_source, t.input_source) ELSE t.input_source END,
             response = COALESCE(t.response, EXCLUDED.response),
             error = COALESCE(t.error, EXCLUDED.error),
             status = CASE WHEN (CASE EXCLUDED.status WHEN 'interrupted' THEN 3 WHEN 'failed' THEN 2 WHEN 'succeeded' THEN 1 ELSE 0 END)
                      > (CASE t.status WHEN 'interrupted' THEN 3 WHEN 'failed' THEN 2 WHEN 'succeeded' THEN 1 ELSE 0 END)
                 THEN EXCLUDED.status ELSE t.status END,
             pre_at = LEAST(t.pre_at, EXCLUDED.pre_at),
             post_at = GREATEST(t.post_at, EXCLUDED.post_at),
             duration_ms = COALESCE(t.duration_ms, EXCLUDED.duration_ms),
             transcript_result = COALESCE(t.transcript_result, EXCLUDED.transcript_result),
             agent_id = COALESCE(t.agent_id, EXCLUDED.agent_id),
             used_at = LEAST(t.used_at, EXCLUDED.used_at),
             result_at = GREATEST(t.result_at, EXCLUDED.result_at),
             entry_uuid = COALESCE(t.entry_uuid, EXCLUDED.entry_uuid)"#,
        id,
        sid,
        e(&t.tool_name),
        ej(&t.input),
        ej(&t.response),
        e(&t.error),
        t.status,
        t.pre_at,
        t.post_at,
        t.duration_ms,
        ej(&t.transcript_result),
        e(&t.agent_id),
        t.input_source,
        t.used_at,
        t.result_at,
        e(&t.entry_uuid),
    )
    .execute(&mut **tx)
    .await.map_err(store_error)?;
    Ok(())
}

pub(super) async fn upsert_subagent(
    tx: &mut Tx<'_>,
    sid: &str,
    s: &SubagentOp,
) -> Result<(), StoreError> {
    sqlx::query!(
        r#"INSERT INTO subagents AS s (session_id, agent_id, agent_type, started_at, stopped_at,
               transcript_path, last_message, tool_use_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (session_id, agent_id) DO UPDATE SET
             agent_type = COALESCE(s.agent_type, EXCLUDED.agent_type),
             started_at = LEAST(s.started_at, EXCLUDED.started_at),
             stopped_at = GREATEST(s.stopped_at, EXCLUDED.stopped_at),
             transcript_path = COALESCE(s.transcript_path, EXCLUDED.transcript_path),
             last_message = COALESCE(s.last_message, EXCLUDED.last_message),
             tool_use_id = COALESCE(s.tool_use_id, EXCLUDED.tool_use_id)"#,
        sid,
        escape_str(&s.agent_id).into_owned(),
        e(&s.agent_type),
        s.started_at,
        s.stopped_at,
        e(&s.transcript_path),
        e(&s.last_message),
        e(&s.tool_use_id),
    )
    .execute(&mut **tx)
    .await
    .map_err(store_error)?;
    Ok(())
}

/// A heartbeat: the (user, host) row's first and last times widen; the
/// version and principal are those of the latest heartbeat (ties broken by
/// the values, so the order of arrival never matters).
pub(super) async fn upsert_heartbeat(tx: &mut Tx<'_>, h: &HeartbeatOp) -> Result<(), StoreError> {
    sqlx::query!(
        r#"INSERT INTO hosts AS h (user_name, host, first_seen, last_seen, hook_version, principal)
           VALUES ($1, $2, $3, $3, $4, $5)
           ON CONFLICT (user_name, host) DO UPDATE SET
             first_seen = LEAST(h.first_seen, EXCLUDED.first_seen),
             last_seen = GREATEST(h.last_seen, EXCLUDED.last_seen),
             hook_version = CASE WHEN (EXCLUDED.last_seen, COALESCE(EXCLUDED.hook_version, ''), COALESCE(EXCLUDED.principal, ''))
                     > (h.last_seen, COALESCE(h.hook_version, ''), COALESCE(h.principal, ''))
                 THEN EXCLUDED.hook_version ELSE h.hook_version END,
             principal = CASE WHEN (EXCLUDED.last_seen, COALESCE(EXCLUDED.hook_version, ''), COALESCE(EXCLUDED.principal, ''))
                     > (h.last_seen, COALESCE(h.hook_version, ''), COALESCE(h.principal, ''))
                 THEN EXCLUDED.principal ELSE h.principal END"#,
        escape_str(&h.user_name).into_owned(),
        escape_str(&h.host).into_owned(),
        h.at,
        e(&h.hook_version),
        e(&h.principal),
    )
    .execute(&mut **tx)
    .await.map_err(store_error)?;
    Ok(())
}

/// Derived state of a session, recomputed from its rows so that it does not
/// depend on arrival order: Stop messages the transcript already holds are
/// dropped, durations computed where Claude Code sent none, counts summed.
pub(super) async fn refresh(tx: &mut Tx<'_>, sid: &str) -> Result<(), StoreError> {
    sqlx::query!(
        r#"DELETE FROM messages s
           WHERE s.session_id = $1 AND s.source = 'stop' AND (
             EXISTS (SELECT 1 FROM messages t
                     WHERE t.session_id = s.session_id AND t.source = 'transcript'
                       AND t.role = 'assistant' AND t.text <> '' AND btrim(t.text) = btrim(s.text))
             OR EXISTS (SELECT 1 FROM transcript_entries en
                        CROSS JOIN LATERAL jsonb_array_elements(en.content) AS b(block)
                        WHERE en.session_id = s.session_id AND en.entry_type = 'assistant'
                          AND b.block->>'type' = 'text' AND btrim(b.block->>'text') = btrim(s.text)))"#,
        sid
    )
    .execute(&mut **tx)
    .await.map_err(store_error)?;
    // A prompt the UserPromptSubmit hook gave and the transcript holds too
    // (the same text within a minute) is kept once, as the transcript's.
    sqlx::query!(
        r#"DELETE FROM messages s
           WHERE s.session_id = $1 AND s.source = 'hook' AND s.role = 'user' AND EXISTS (
             SELECT 1 FROM messages t
             WHERE t.session_id = s.session_id AND t.role = 'user' AND t.message_key LIKE 'entry:%'
               AND btrim(t.text) = btrim(s.text)
               AND t.created_at BETWEEN s.created_at - interval '60 seconds'
                                    AND s.created_at + interval '60 seconds')"#,
        sid
    )
    .execute(&mut **tx)
    .await
    .map_err(store_error)?;
    // A queued prompt that was then submitted (the same text within the
    // hour after it was queued) is that prompt.
    sqlx::query!(
        r#"DELETE FROM messages q
           WHERE q.session_id = $1 AND q.message_key LIKE 'queue:%' AND EXISTS (
             SELECT 1 FROM messages t
             WHERE t.session_id = q.session_id AND t.role = 'user'
               AND (t.message_key LIKE 'entry:%' OR t.source = 'hook')
               AND btrim(t.text) = btrim(q.text)
               AND t.created_at >= q.created_at AND t.created_at <= q.created_at + interval '1 hour')"#,
        sid
    )
    .execute(&mut **tx)
    .await.map_err(store_error)?;
    sqlx::query!(
        r#"UPDATE tool_uses SET duration_ms = (EXTRACT(EPOCH FROM post_at - pre_at) * 1000)::bigint
           WHERE session_id = $1 AND duration_ms IS NULL AND pre_at IS NOT NULL AND post_at IS NOT NULL"#,
        sid
    )
    .execute(&mut **tx)
    .await.map_err(store_error)?;
    // A call copied into a fork or resume belongs to the session it came
    // from: the parent holding the entry of its tool_use block.
    sqlx::query!(
        r#"UPDATE tool_uses t SET session_id = c.parent_session_id
           FROM conversations c
           WHERE t.session_id = c.session_id AND (c.session_id = $1 OR c.parent_session_id = $1)
             AND c.parent_session_id IS NOT NULL AND t.entry_uuid IS NOT NULL
             AND EXISTS (SELECT 1 FROM transcript_entries te
                         WHERE te.session_id = c.parent_session_id AND te.uuid = t.entry_uuid)"#,
        sid
    )
    .execute(&mut **tx)
    .await
    .map_err(store_error)?;
    // So does a message or prompt copied into a fork or resume (the same
    // message key as one of the parent's): kept in the parent only.
    sqlx::query!(
        r#"DELETE FROM messages m USING conversations c
           WHERE m.session_id = c.session_id AND (c.session_id = $1 OR c.parent_session_id = $1)
             AND c.parent_session_id IS NOT NULL
             AND EXISTS (SELECT 1 FROM messages pm
                         WHERE pm.session_id = c.parent_session_id AND pm.message_key = m.message_key)"#,
        sid
    )
    .execute(&mut **tx)
    .await
    .map_err(store_error)?;
    sqlx::query!(
        r#"UPDATE conversations c SET
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
             last_activity_at = GREATEST(c.started_at, c.ended_at,
                 (SELECT max(created_at) FROM messages WHERE session_id = c.session_id),
                 (SELECT max(ts) FROM transcript_entries WHERE session_id = c.session_id),
                 (SELECT max(GREATEST(pre_at, post_at, used_at, result_at)) FROM tool_uses
                  WHERE session_id = c.session_id))
           WHERE c.session_id = $1 OR c.parent_session_id = $1"#,
        sid
    )
    .execute(&mut **tx)
    .await.map_err(store_error)?;
    sqlx::query!(
        r#"UPDATE subagents s SET
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
                 (SELECT t.input->>'subagent_type' FROM tool_uses t WHERE t.tool_use_id = s.tool_use_id))
           WHERE s.session_id = $1"#,
        sid
    )
    .execute(&mut **tx)
    .await.map_err(store_error)?;
    super::rollup::refresh_usage(tx, sid).await
}

/// Conversation stitching (docs/schema.md): records what the session's
/// first transcript entry says about the session it continues, resolves
/// `continues_uuid` to the session holding that uuid, for this session and
/// for the sessions hanging from this session's entries (so the link is
/// made by whichever of the two arrives last), and sets `link_kind`.
pub(super) async fn stitch(
    tx: &mut Tx<'_>,
    sid: &str,
    c: &ConversationOp,
    has_entries: bool,
) -> Result<(), StoreError> {
    if c.parent_session_id.is_some() || c.continues_uuid.is_some() || c.first_uuid.is_some() {
        sqlx::query(
            "UPDATE conversations SET parent_session_id = COALESCE(parent_session_id, $2),
                    continues_uuid = COALESCE(continues_uuid, $3),
                    first_uuid = COALESCE(first_uuid, $4)
             WHERE session_id = $1",
        )
        .bind(sid)
        .bind(e(&c.parent_session_id))
        .bind(e(&c.continues_uuid))
        .bind(e(&c.first_uuid))
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
    }
    if has_entries || c.continues_uuid.is_some() {
        sqlx::query(
            "UPDATE conversations c SET parent_session_id = (
                 SELECT te.session_id FROM transcript_entries te
                 WHERE te.uuid = c.continues_uuid AND te.session_id <> c.session_id
                 ORDER BY (te.raw->>'sessionId' IS NOT DISTINCT FROM te.session_id) DESC, te.session_id
                 LIMIT 1)
             WHERE c.continues_uuid IS NOT NULL
               AND (c.session_id = $1
                    OR c.continues_uuid IN (SELECT uuid FROM transcript_entries WHERE session_id = $1))",
        )
        .bind(sid)
        .execute(&mut **tx)
        .await.map_err(store_error)?;
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
               AND (c.session_id = $1
                    OR c.first_uuid IN (SELECT uuid FROM transcript_entries WHERE session_id = $1))",
        )
        .bind(sid)
        .execute(&mut **tx)
        .await.map_err(store_error)?;
    }
    sqlx::query(
        "UPDATE conversations SET link_kind = CASE
             WHEN parent_session_id IS NULL THEN NULL
             WHEN start_source IN ('resume', 'fork', 'clear', 'compact') THEN start_source
             ELSE 'continued' END
         WHERE session_id = $1 OR parent_session_id = $1
            OR (parent_session_id IS NULL AND link_kind IS NOT NULL)",
    )
    .bind(sid)
    .execute(&mut **tx)
    .await
    .map_err(store_error)?;
    Ok(())
}
