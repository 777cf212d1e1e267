//! The usage rollups, as in Postgres (`store-postgres/src/store/rollup.rs`).

use super::Tx;

/// The usage rollup, as in Postgres (`refresh_usage`): the hour is the
/// first 13 characters of the fixed-width time text.
pub(super) async fn refresh_usage(tx: &mut Tx, sid: &str) -> sqlx::Result<()> {
    sqlx::query!(
        r#"DELETE FROM usage_hourly WHERE session_id IN
             (SELECT session_id FROM conversations WHERE session_id = ?1 OR parent_session_id = ?1)"#,
        sid
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        r#"DELETE FROM usage_tool_hourly WHERE session_id IN
             (SELECT session_id FROM conversations WHERE session_id = ?1 OR parent_session_id = ?1)"#,
        sid
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query!(
        r#"INSERT INTO usage_tool_hourly
           SELECT s.session_id, s.hour, s.model, s.agent_id, s.band, s.tool,
                  sum(1 / s.n + CASE WHEN s.pos = 1 THEN 1 % s.n ELSE 0 END),
                  sum(s.i / s.n + CASE WHEN s.pos = 1 THEN s.i % s.n ELSE 0 END),
                  sum(s.o / s.n + CASE WHEN s.pos = 1 THEN s.o % s.n ELSE 0 END),
                  sum(s.cw / s.n + CASE WHEN s.pos = 1 THEN s.cw % s.n ELSE 0 END),
                  sum(s.c5 / s.n + CASE WHEN s.pos = 1 THEN s.c5 % s.n ELSE 0 END),
                  sum(s.c1 / s.n + CASE WHEN s.pos = 1 THEN s.c1 % s.n ELSE 0 END),
                  sum(s.cr / s.n + CASE WHEN s.pos = 1 THEN s.cr % s.n ELSE 0 END)
           FROM (SELECT m.session_id, substr(m.created_at, 1, 13) || ':00:00.000000Z' AS hour, COALESCE(m.model, '') AS model,
                        COALESCE(m.agent_id, '') AS agent_id,
                        CASE WHEN COALESCE(m.input_tokens, 0) + COALESCE(m.cache_creation_input_tokens, 0)
                                  + COALESCE(m.cache_read_input_tokens, 0) > 200000 THEN 200000
                             WHEN COALESCE(m.input_tokens, 0) + COALESCE(m.cache_creation_input_tokens, 0)
                                  + COALESCE(m.cache_read_input_tokens, 0) > 100000 THEN 100000
                             ELSE 0 END AS band,
                        CASE WHEN b.key IS NULL THEN '' ELSE COALESCE(json_extract(b.value, '$.name'), '?') END AS tool,
                        row_number() OVER (PARTITION BY m.id ORDER BY b.key) AS pos,
                        max(count(b.key) OVER (PARTITION BY m.id), 1) AS n,
                        COALESCE(m.input_tokens, 0) AS i, COALESCE(m.output_tokens, 0) AS o,
                        COALESCE(m.cache_creation_input_tokens, 0) AS cw, COALESCE(m.cache_creation_5m_tokens, 0) AS c5,
                        COALESCE(m.cache_creation_1h_tokens, 0) AS c1, COALESCE(m.cache_read_input_tokens, 0) AS cr
                 FROM messages m
                 LEFT JOIN json_each(m.content) b ON json_extract(b.value, '$.type') = 'tool_use'
                 WHERE m.session_id IN
                       (SELECT session_id FROM conversations WHERE session_id = ?1 OR parent_session_id = ?1)
                   AND m.role = 'assistant' AND m.source = 'transcript') s
           GROUP BY 1, 2, 3, 4, 5, 6"#,
        sid
    )
    .execute(&mut **tx)
    .await?;
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
                 (SELECT session_id FROM conversations WHERE session_id = ?1 OR parent_session_id = ?1)
           GROUP BY 1, 2, 3, 4, 5"#,
        sid
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}
