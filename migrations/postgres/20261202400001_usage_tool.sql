-- Usage per tool (issue 19, `hookline usage --by tool`; docs/usage.md).
--
-- usage_tool_hourly: a second rollup beside usage_hourly, recomputed with
--   it by `refresh`: one row per (session, UTC hour, model, agent, context
--   band, tool). A message's tokens and its count are split equally over
--   its tool_use blocks (integer division, the remainders to the first
--   block), so each column sums exactly to the message's; a message with
--   no tool_use counts under tool ''. Apart from usage_hourly so that the
--   other reports read no more rows than before.
CREATE TABLE usage_tool_hourly (
    session_id                  text        NOT NULL REFERENCES conversations (session_id) ON DELETE CASCADE,
    hour                        timestamptz NOT NULL,
    model                       text        NOT NULL,
    agent_id                    text        NOT NULL,
    context_band                bigint      NOT NULL,
    tool                        text        NOT NULL,
    messages                    bigint      NOT NULL,
    input_tokens                bigint      NOT NULL,
    output_tokens               bigint      NOT NULL,
    cache_creation_input_tokens bigint      NOT NULL,
    cache_creation_5m_tokens    bigint      NOT NULL,
    cache_creation_1h_tokens    bigint      NOT NULL,
    cache_read_input_tokens     bigint      NOT NULL,
    PRIMARY KEY (session_id, hour, model, agent_id, context_band, tool)
);
CREATE INDEX usage_tool_hourly_hour_idx ON usage_tool_hourly (hour);

-- Backfill from the messages already stored (refresh's statement).
INSERT INTO usage_tool_hourly
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
      WHERE m.role = 'assistant' AND m.source = 'transcript') s
GROUP BY 1, 2, 3, 4, 5, 6;
