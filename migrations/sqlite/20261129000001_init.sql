-- hookline schema, SQLite: the same tables, keys, columns, statuses and
-- CHECKs as migrations/postgres, in SQLite's types (see docs/schema.md):
--   timestamptz -> TEXT, RFC 3339 UTC with exactly six fractional digits
--                  ('2026-11-29T03:40:00.000000Z'), so text order is time
--                  order; the CHECKs keep that shape.
--   jsonb       -> TEXT holding JSON (CHECK json_valid).
--   bigint, integer -> INTEGER; identity -> INTEGER PRIMARY KEY (rowid).
-- SQLite holds NUL, so text is stored as it came (no escaping).
-- Tables are STRICT: a value of the wrong type is refused, as in Postgres.

CREATE TABLE webhook_events (
    id                INTEGER PRIMARY KEY,
    request_id        TEXT    NOT NULL UNIQUE,
    event_type        TEXT    NOT NULL,
    session_id        TEXT,
    status            TEXT    NOT NULL CHECK (status IN (
                          'RECEIVED', 'PROCESSING', 'SUCCESS', 'DUPLICATE',
                          'INVALID', 'RETRYING', 'FAILED', 'REPLAYED')),
    payload           TEXT    CHECK (json_valid(payload)),
    payload_text      TEXT,
    headers           TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(headers)),
    source_ip         TEXT,
    user_agent        TEXT,
    client            TEXT,
    principal         TEXT,
    trace_id          TEXT,
    span_id           TEXT,
    message_id        TEXT,
    captured_at       TEXT    CHECK (captured_at GLOB '????-??-??T??:??:??.??????Z'),
    received_at       TEXT    NOT NULL CHECK (received_at GLOB '????-??-??T??:??:??.??????Z'),
    enqueued_at       TEXT    CHECK (enqueued_at GLOB '????-??-??T??:??:??.??????Z'),
    processed_at      TEXT    CHECK (processed_at GLOB '????-??-??T??:??:??.??????Z'),
    processing_ms     INTEGER,
    attempts          INTEGER NOT NULL DEFAULT 0,
    error_code        TEXT,
    error_message     TEXT,
    validation_errors TEXT    CHECK (json_valid(validation_errors)),
    created_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
                              CHECK (created_at GLOB '????-??-??T??:??:??.??????Z'),
    updated_at        TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
                              CHECK (updated_at GLOB '????-??-??T??:??:??.??????Z')
) STRICT;
CREATE INDEX webhook_events_status_idx ON webhook_events (status);
CREATE INDEX webhook_events_type_received_idx ON webhook_events (event_type, received_at);
CREATE INDEX webhook_events_received_idx ON webhook_events (received_at);
CREATE INDEX webhook_events_session_idx ON webhook_events (session_id);
CREATE INDEX webhook_events_error_code_idx ON webhook_events (error_code) WHERE error_code IS NOT NULL;

-- One row per processing attempt of an audit row: its history.
CREATE TABLE webhook_event_attempts (
    id            INTEGER PRIMARY KEY,
    request_id    TEXT    NOT NULL REFERENCES webhook_events (request_id) ON DELETE CASCADE,
    status        TEXT    NOT NULL CHECK (status IN (
                      'RECEIVED', 'PROCESSING', 'SUCCESS', 'DUPLICATE',
                      'INVALID', 'RETRYING', 'FAILED', 'REPLAYED')),
    message_id    TEXT,
    receive_count INTEGER,
    at            TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
                          CHECK (at GLOB '????-??-??T??:??:??.??????Z'),
    processing_ms INTEGER,
    error_code    TEXT,
    error_message TEXT
) STRICT;
CREATE INDEX webhook_event_attempts_request_idx ON webhook_event_attempts (request_id, at);

CREATE TABLE conversations (
    session_id                  TEXT    NOT NULL PRIMARY KEY,
    principal                   TEXT,
    user_name                   TEXT,
    host                        TEXT,
    cwd                         TEXT,
    transcript_path             TEXT,
    model                       TEXT,
    permission_mode             TEXT,
    start_source                TEXT,
    started_at                  TEXT    NOT NULL CHECK (started_at GLOB '????-??-??T??:??:??.??????Z'),
    ended_at                    TEXT    CHECK (ended_at GLOB '????-??-??T??:??:??.??????Z'),
    end_reason                  TEXT,
    title                       TEXT,
    title_at                    TEXT    CHECK (title_at GLOB '????-??-??T??:??:??.??????Z'),
    message_count               INTEGER NOT NULL DEFAULT 0,
    tool_use_count              INTEGER NOT NULL DEFAULT 0,
    input_tokens                INTEGER NOT NULL DEFAULT 0,
    output_tokens               INTEGER NOT NULL DEFAULT 0,
    cache_creation_input_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_input_tokens     INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX conversations_started_idx ON conversations (started_at DESC);

CREATE TABLE messages (
    id                          INTEGER PRIMARY KEY,
    session_id                  TEXT    NOT NULL REFERENCES conversations (session_id) ON DELETE CASCADE,
    message_key                 TEXT    NOT NULL,
    role                        TEXT    NOT NULL,
    source                      TEXT    NOT NULL CHECK (source IN ('hook', 'stop', 'transcript')),
    content                     TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(content)),
    text                        TEXT    NOT NULL DEFAULT '',
    model                       TEXT,
    agent_id                    TEXT,
    input_tokens                INTEGER,
    output_tokens               INTEGER,
    cache_creation_input_tokens INTEGER,
    cache_read_input_tokens     INTEGER,
    created_at                  TEXT    NOT NULL CHECK (created_at GLOB '????-??-??T??:??:??.??????Z'),
    UNIQUE (session_id, message_key)
) STRICT;
CREATE INDEX messages_session_created_idx ON messages (session_id, created_at);

CREATE TABLE tool_uses (
    tool_use_id       TEXT    NOT NULL PRIMARY KEY,
    session_id        TEXT    NOT NULL REFERENCES conversations (session_id) ON DELETE CASCADE,
    tool_name         TEXT,
    input             TEXT    CHECK (json_valid(input)),
    -- Where `input` came from: 'pre' (PreToolUse) wins over 'post'
    -- (PostToolUse/PostToolUseFailure), which wins over 'transcript' (a
    -- tool_use block), whatever the arrival order. (Postgres has a
    -- source_rank() function for this; SQLite has no SQL functions, so the
    -- store inlines the same CASE.)
    input_source      TEXT    CHECK (input_source IN ('pre', 'post', 'transcript')),
    response          TEXT    CHECK (json_valid(response)),
    error             TEXT,
    status            TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'interrupted')),
    pre_at            TEXT    CHECK (pre_at GLOB '????-??-??T??:??:??.??????Z'),
    post_at           TEXT    CHECK (post_at GLOB '????-??-??T??:??:??.??????Z'),
    duration_ms       INTEGER,
    transcript_result TEXT    CHECK (json_valid(transcript_result)),
    agent_id          TEXT
) STRICT;
CREATE INDEX tool_uses_session_idx ON tool_uses (session_id);
CREATE INDEX tool_uses_name_idx ON tool_uses (tool_name);

CREATE TABLE subagents (
    session_id      TEXT NOT NULL REFERENCES conversations (session_id) ON DELETE CASCADE,
    agent_id        TEXT NOT NULL,
    agent_type      TEXT,
    started_at      TEXT CHECK (started_at GLOB '????-??-??T??:??:??.??????Z'),
    stopped_at      TEXT CHECK (stopped_at GLOB '????-??-??T??:??:??.??????Z'),
    transcript_path TEXT,
    last_message    TEXT,
    PRIMARY KEY (session_id, agent_id)
) STRICT;

-- Raw transcript entries, the source of transcript messages' content.
CREATE TABLE transcript_entries (
    session_id  TEXT NOT NULL REFERENCES conversations (session_id) ON DELETE CASCADE,
    uuid        TEXT NOT NULL,
    entry_type  TEXT NOT NULL,
    message_key TEXT,
    agent_id    TEXT,
    ts          TEXT CHECK (ts GLOB '????-??-??T??:??:??.??????Z'),
    content     TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(content)),
    raw         TEXT NOT NULL CHECK (json_valid(raw)),
    PRIMARY KEY (session_id, uuid)
) STRICT;
CREATE INDEX transcript_entries_message_idx ON transcript_entries (session_id, message_key)
    WHERE message_key IS NOT NULL;
