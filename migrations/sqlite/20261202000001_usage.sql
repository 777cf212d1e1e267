-- Cost and usage (issue 19): as migrations/postgres/20261202000001_usage.sql,
-- in SQLite's types (times as fixed-width RFC 3339 text; `hour` ends
-- ':00:00.000000Z').
CREATE TABLE prices (
    model                    TEXT    NOT NULL,
    valid_from               TEXT    NOT NULL CHECK (valid_from GLOB '????-??-??T??:00:00.000000Z'),
    source                   TEXT    NOT NULL,
    imported_at              TEXT    NOT NULL CHECK (imported_at GLOB '????-??-??T??:??:??.??????Z'),
    input                    INTEGER NOT NULL,
    output                   INTEGER NOT NULL,
    cache_write_5m           INTEGER NOT NULL,
    cache_write_1h           INTEGER NOT NULL,
    cache_read               INTEGER NOT NULL,
    tier_threshold           INTEGER,
    tier_input               INTEGER,
    tier_output              INTEGER,
    tier_cache_write_5m      INTEGER,
    tier_cache_write_1h      INTEGER,
    tier_cache_read          INTEGER,
    PRIMARY KEY (model, valid_from)
) STRICT;

CREATE TABLE usage_hourly (
    session_id                  TEXT    NOT NULL REFERENCES conversations (session_id) ON DELETE CASCADE,
    hour                        TEXT    NOT NULL CHECK (hour GLOB '????-??-??T??:00:00.000000Z'),
    model                       TEXT    NOT NULL,
    agent_id                    TEXT    NOT NULL,
    context_band                INTEGER NOT NULL,
    messages                    INTEGER NOT NULL,
    input_tokens                INTEGER NOT NULL,
    output_tokens               INTEGER NOT NULL,
    cache_creation_input_tokens INTEGER NOT NULL,
    cache_creation_5m_tokens    INTEGER NOT NULL,
    cache_creation_1h_tokens    INTEGER NOT NULL,
    cache_read_input_tokens     INTEGER NOT NULL,
    PRIMARY KEY (session_id, hour, model, agent_id, context_band)
) STRICT;
CREATE INDEX usage_hourly_hour_idx ON usage_hourly (hour);

INSERT INTO usage_hourly
SELECT m.session_id, substr(m.created_at, 1, 13) || ':00:00.000000Z', COALESCE(m.model, ''), COALESCE(m.agent_id, ''),
       CASE WHEN COALESCE(m.input_tokens, 0) + COALESCE(m.cache_creation_input_tokens, 0) + COALESCE(m.cache_read_input_tokens, 0) > 200000 THEN 200000
            WHEN COALESCE(m.input_tokens, 0) + COALESCE(m.cache_creation_input_tokens, 0) + COALESCE(m.cache_read_input_tokens, 0) > 100000 THEN 100000
            ELSE 0 END,
       count(*), COALESCE(sum(m.input_tokens), 0), COALESCE(sum(m.output_tokens), 0),
       COALESCE(sum(m.cache_creation_input_tokens), 0), COALESCE(sum(m.cache_creation_5m_tokens), 0),
       COALESCE(sum(m.cache_creation_1h_tokens), 0), COALESCE(sum(m.cache_read_input_tokens), 0)
FROM messages m
WHERE m.role = 'assistant' AND m.source = 'transcript'
GROUP BY 1, 2, 3, 4, 5;
