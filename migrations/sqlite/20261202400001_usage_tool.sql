-- Usage per tool (issue 19): as migrations/postgres/20261202400001_usage_tool.sql,
-- in SQLite's types; the tool_use blocks from json_each of the content.
CREATE TABLE usage_tool_hourly (
    session_id                  TEXT    NOT NULL REFERENCES conversations (session_id) ON DELETE CASCADE,
    hour                        TEXT    NOT NULL CHECK (hour GLOB '????-??-??T??:00:00.000000Z'),
    model                       TEXT    NOT NULL,
    agent_id                    TEXT    NOT NULL,
    context_band                INTEGER NOT NULL,
    tool                        TEXT    NOT NULL,
    messages                    INTEGER NOT NULL,
    input_tokens                INTEGER NOT NULL,
    output_tokens               INTEGER NOT NULL,
    cache_creation_input_tokens INTEGER NOT NULL,
    cache_creation_5m_tokens    INTEGER NOT NULL,
    cache_creation_1h_tokens    INTEGER NOT NULL,
    cache_read_input_tokens     INTEGER NOT NULL,
    PRIMARY KEY (session_id, hour, model, agent_id, context_band, tool)
) STRICT;
CREATE INDEX usage_tool_hourly_hour_idx ON usage_tool_hourly (hour);

INSERT INTO usage_tool_hourly
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
      WHERE m.role = 'assistant' AND m.source = 'transcript') s
GROUP BY 1, 2, 3, 4, 5, 6;
