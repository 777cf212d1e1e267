-- Cost and usage (issue 19; docs/schema.md, docs/usage.md).
--
-- prices: imported price tables (`hookline prices import FILE`). The pinned
--   table shipped in the binary (core/prices/anthropic.json) is valid from
--   the epoch; an imported row is valid from its `valid_from` (a whole UTC
--   hour, the import's hour unless told), so a later price never reprices a
--   message made before it. Prices are integer pico-dollars (1e-12 USD) per
--   token: exact for every published price. `tier_*` is the long-context
--   price of a message whose input (incl. cache) exceeds `tier_threshold`.
-- usage_hourly: the worker's rollup, recomputed from `messages` by
--   `refresh` for each touched session: one row per (session, UTC hour,
--   model, agent, context band) with the token sums of its assistant
--   messages. Reports read it, never every message. `context_band` is the
--   greatest of 100000 and 200000 that the message's input (input + cache
--   write + cache read) exceeds, else 0: the long-context tier thresholds
--   prices can have.
CREATE TABLE prices (
    model                    text        NOT NULL,
    valid_from               timestamptz NOT NULL,
    source                   text        NOT NULL,
    imported_at              timestamptz NOT NULL,
    input                    bigint      NOT NULL,
    output                   bigint      NOT NULL,
    cache_write_5m           bigint      NOT NULL,
    cache_write_1h           bigint      NOT NULL,
    cache_read               bigint      NOT NULL,
    tier_threshold           bigint,
    tier_input               bigint,
    tier_output              bigint,
    tier_cache_write_5m      bigint,
    tier_cache_write_1h      bigint,
    tier_cache_read          bigint,
    PRIMARY KEY (model, valid_from),
    CHECK (valid_from = date_trunc('hour', valid_from))
);

CREATE TABLE usage_hourly (
    session_id                  text        NOT NULL REFERENCES conversations (session_id) ON DELETE CASCADE,
    hour                        timestamptz NOT NULL,
    model                       text        NOT NULL,
    agent_id                    text        NOT NULL,
    context_band                bigint      NOT NULL,
    messages                    bigint      NOT NULL,
    input_tokens                bigint      NOT NULL,
    output_tokens               bigint      NOT NULL,
    cache_creation_input_tokens bigint      NOT NULL,
    cache_creation_5m_tokens    bigint      NOT NULL,
    cache_creation_1h_tokens    bigint      NOT NULL,
    cache_read_input_tokens     bigint      NOT NULL,
    PRIMARY KEY (session_id, hour, model, agent_id, context_band)
);
CREATE INDEX usage_hourly_hour_idx ON usage_hourly (hour);

-- Backfill from the messages already stored.
INSERT INTO usage_hourly
SELECT m.session_id, date_trunc('hour', m.created_at), COALESCE(m.model, ''), COALESCE(m.agent_id, ''),
       CASE WHEN COALESCE(m.input_tokens, 0) + COALESCE(m.cache_creation_input_tokens, 0) + COALESCE(m.cache_read_input_tokens, 0) > 200000 THEN 200000
            WHEN COALESCE(m.input_tokens, 0) + COALESCE(m.cache_creation_input_tokens, 0) + COALESCE(m.cache_read_input_tokens, 0) > 100000 THEN 100000
            ELSE 0 END,
       count(*), COALESCE(sum(m.input_tokens), 0), COALESCE(sum(m.output_tokens), 0),
       COALESCE(sum(m.cache_creation_input_tokens), 0), COALESCE(sum(m.cache_creation_5m_tokens), 0),
       COALESCE(sum(m.cache_creation_1h_tokens), 0), COALESCE(sum(m.cache_read_input_tokens), 0)
FROM messages m
WHERE m.role = 'assistant' AND m.source = 'transcript'
GROUP BY 1, 2, 3, 4, 5;
