//! The usage rollups (`usage_hourly`, `usage_tool_hourly`; docs/schema.md,
//! docs/usage.md), recomputed by `refresh`.

use hookline_core::error::StoreError;

use crate::store::Tx;
use crate::store_error;

/// The usage rollup (`usage_hourly`, docs/schema.md) of the session and the
/// sessions continuing it, recomputed from their assistant messages: one
/// row per (UTC hour, model, agent, context band). Recomputed whole, so it
/// depends only on the messages, never on arrival order.
pub(super) async fn refresh_usage(tx: &mut Tx<'_>, sid: &str) -> Result<(), StoreError> {
    sqlx::query!(
        r#"DELETE FROM usage_hourly WHERE session_id IN
             (SELECT session_id FROM conversations WHERE session_id = $1 OR parent_session_id = $1)"#,
        sid
    )
    .execute(&mut **tx)
    .await
    .map_err(store_error)?;
    sqlx::query!(
        r#"DELETE FROM usage_tool_hourly WHERE session_id IN
             (SELECT session_id FROM conversations WHERE session_id = $1 OR parent_session_id = $1)"#,
        sid
    )
    .execute(&mut **tx)
    .await
    .map_err(store_error)?;
    sqlx::query!(
        r#"INSERT INTO usage_tool_hourly
           SELECT s.session_id, s.hour, s.model, s.agent_id, s.band, s.tool,
                  sum(s.k / s.n + CASE WHEN s.first THEN s.k % s.n ELSE 0 END),
                  sum(s.i / s.n + CASE WHEN s.first THEN s.i % s.n ELSE 0 END),
                  sum(s.o / s.n + CASE WHEN s.first THEN s.o % s.n ELSE 0 END),
                  sum(s.cw / s.n + CASE WHEN s.first THEN s.cw % s.n ELSE 0 END),
                  sum(s.c5 / s.n + CASE WHEN s.first THEN s.c5 % s.n ELSE 0 END),
                  sum(s.c1 / s.n + CASE WHEN s.first THEN s.c1 % s.n ELSE 0 END),
                  sum(s.cr / s.n + CASE WHEN s.first THEN s.cr % s.n ELSE 0 END)
           FROM (SELECT m.session_id, date_trunc('hour', m.created_at) AS hour, COALESCE(m.model, '') AS model,
                        COALESCE(m.agent_id, '') AS agent_id,
                        CASE WHEN COALESCE(m.input_tokens, 0) + COALESCE(m.cache_creation_input_tokens, 0)
                                  + COALESCE(m.cache_read_input_tokens, 0) > 200000 THEN 200000
                             WHEN COALESCE(m.input_tokens, 0) + COALESCE(m.cache_creation_input_tokens, 0)
                                  + COALESCE(m.cache_read_input_tokens, 0) > 100000 THEN 100000
                             ELSE 0 END AS band,
                        COALESCE(t.tool, '') AS tool, COALESCE(t.pos, 1) = 1 AS first, COALESCE(t.n, 1) AS n,
                        1 AS k, COALESCE(m.input_tokens, 0) AS i, COALESCE(m.output_tokens, 0) AS o,
                        COALESCE(m.cache_creation_input_tokens, 0) AS cw, COALESCE(m.cache_creation_5m_tokens, 0) AS c5,
                        COALESCE(m.cache_creation_1h_tokens, 0) AS c1, COALESCE(m.cache_read_input_tokens, 0) AS cr
                 FROM messages m
                 LEFT JOIN LATERAL (
                     SELECT COALESCE(b.e->>'name', '?') AS tool, row_number() OVER (ORDER BY b.ord) AS pos,
                            count(*) OVER () AS n
                     FROM jsonb_array_elements(CASE jsonb_typeof(m.content) WHEN 'array' THEN m.content ELSE '[]' END)
                          WITH ORDINALITY AS b(e, ord)
                     WHERE b.e->>'type' = 'tool_use') t ON true
                 WHERE m.session_id IN
                       (SELECT session_id FROM conversations WHERE session_id = $1 OR parent_session_id = $1)
                   AND m.role = 'assistant' AND m.source = 'transcript') s
           GROUP BY 1, 2, 3, 4, 5, 6"#,
        sid
    )
    .execute(&mut **tx)
    .await
    .map_err(store_error)?;
    // usage_hourly is usage_tool_hourly summed over the tools: the split
    // gives each message's count and tokens whole to its tools (remainders
    // to the first), so no second scan of the messages.
    sqlx::query!(
        r#"INSERT INTO usage_hourly
           SELECT session_id, hour, model, agent_id, context_band,
                  sum(messages), sum(input_tokens), sum(output_tokens),
                  sum(cache_creation_input_tokens), sum(cache_creation_5m_tokens),
                  sum(cache_creation_1h_tokens), sum(cache_read_input_tokens)
           FROM usage_tool_hourly
           WHERE session_id IN
                 (SELECT session_id FROM conversations WHERE session_id = $1 OR parent_session_id = $1)
           GROUP BY 1, 2, 3, 4, 5"#,
        sid
    )
    .execute(&mut **tx)
    .await
    .map_err(store_error)?;
    Ok(())
}
