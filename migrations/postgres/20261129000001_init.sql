-- hookline schema, Postgres. See docs/schema.md.
-- Text that Postgres cannot hold (NUL) is escaped by the application
-- (hookline_core::text), never dropped.

CREATE TABLE webhook_events (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id        text        NOT NULL UNIQUE,
    event_type        text        NOT NULL,
    session_id        text,
    status            text        NOT NULL CHECK (status IN (
                          'RECEIVED', 'PROCESSING', 'SUCCESS', 'DUPLICATE',
                          'INVALID', 'RETRYING', 'FAILED', 'REPLAYED')),
    payload           jsonb,
    payload_text      text,
    headers           jsonb       NOT NULL DEFAULT '{}'::jsonb,
    source_ip         text,
    user_agent        text,
    client            text,
    principal         text,
    trace_id          text,
    span_id           text,
    message_id        text,
    captured_at       timestamptz,
    received_at       timestamptz NOT NULL,
    enqueued_at       timestamptz,
    processed_at      timestamptz,
    processing_ms     integer,
    attempts          integer     NOT NULL DEFAULT 0,
    error_code        text,
    error_message     text,
    validation_errors jsonb,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_events_status_idx ON webhook_events (status);
CREATE INDEX webhook_events_type_received_idx ON webhook_events (event_type, received_at);
CREATE INDEX webhook_events_received_idx ON webhook_events (received_at);
CREATE INDEX webhook_events_session_idx ON webhook_events (session_id);
CREATE INDEX webhook_events_error_code_idx ON webhook_events (error_code) WHERE error_code IS NOT NULL;

-- One row per processing attempt of an audit row: its history.
CREATE TABLE webhook_event_attempts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id    text        NOT NULL REFERENCES webhook_events (request_id) ON DELETE CASCADE,
    status        text        NOT NULL CHECK (status IN (
                      'RECEIVED', 'PROCESSING', 'SUCCESS', 'DUPLICATE',
                      'INVALID', 'RETRYING', 'FAILED', 'REPLAYED')),
    message_id    text,
    receive_count integer,
    at            timestamptz NOT NULL DEFAULT now(),
    processing_ms integer,
    error_code    text,
    error_message text
);
CREATE INDEX webhook_event_attempts_request_idx ON webhook_event_attempts (request_id, at);

CREATE TABLE conversations (
    session_id                  text PRIMARY KEY,
    principal                   text,
    user_name                   text,
    host                        text,
    cwd                         text,
    transcript_path             text,
    model                       text,
    permission_mode             text,
    start_source                text,
    started_at                  timestamptz NOT NULL,
    ended_at                    timestamptz,
    end_reason                  text,
    title                       text,
    title_at                    timestamptz,
    message_count               integer     NOT NULL DEFAULT 0,
    tool_use_count              integer     NOT NULL DEFAULT 0,
    input_tokens                bigint      NOT NULL DEFAULT 0,
    output_tokens               bigint      NOT NULL DEFAULT 0,
    cache_creation_input_tokens bigint      NOT NULL DEFAULT 0,
    cache_read_input_tokens     bigint      NOT NULL DEFAULT 0
);
CREATE INDEX conversations_started_idx ON conversations (started_at DESC);

CREATE TABLE messages (
    id                          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id                  text        NOT NULL REFERENCES conversations (session_id) ON DELETE CASCADE,
    message_key                 text        NOT NULL,
    role                        text        NOT NULL,
    source                      text        NOT NULL CHECK (source IN ('hook', 'stop', 'transcript')),
    content                     jsonb       NOT NULL DEFAULT '[]'::jsonb,
    text                        text        NOT NULL DEFAULT '',
    model                       text,
    agent_id                    text,
    input_tokens                bigint,
    output_tokens               bigint,
    cache_creation_input_tokens bigint,
    cache_read_input_tokens     bigint,
    created_at                  timestamptz NOT NULL,
    UNIQUE (session_id, message_key)
);
CREATE INDEX messages_session_created_idx ON messages (session_id, created_at);

CREATE TABLE tool_uses (
    tool_use_id       text PRIMARY KEY,
    session_id        text        NOT NULL REFERENCES conversations (session_id) ON DELETE CASCADE,
    tool_name         text,
    input             jsonb,
    -- Where `input` came from: 'pre' (PreToolUse) wins over 'post'
    -- (PostToolUse/PostToolUseFailure), which wins over 'transcript' (a
    -- tool_use block), whatever the arrival order.
    input_source      text CHECK (input_source IN ('pre', 'post', 'transcript')),
    response          jsonb,
    error             text,
    status            text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'interrupted')),
    pre_at            timestamptz,
    post_at           timestamptz,
    duration_ms       bigint,
    transcript_result jsonb,
    agent_id          text
);
-- Precedence of tool_uses.input_source (higher wins).
CREATE FUNCTION source_rank(source text) RETURNS integer
    LANGUAGE sql IMMUTABLE AS
    $$ SELECT CASE source WHEN 'pre' THEN 3 WHEN 'post' THEN 2 WHEN 'transcript' THEN 1 ELSE 0 END $$;

CREATE INDEX tool_uses_session_idx ON tool_uses (session_id);
CREATE INDEX tool_uses_name_idx ON tool_uses (tool_name);

CREATE TABLE subagents (
    session_id      text NOT NULL REFERENCES conversations (session_id) ON DELETE CASCADE,
    agent_id        text NOT NULL,
    agent_type      text,
    started_at      timestamptz,
    stopped_at      timestamptz,
    transcript_path text,
    last_message    text,
    PRIMARY KEY (session_id, agent_id)
);

-- Raw transcript entries, the source of transcript messages' content.
CREATE TABLE transcript_entries (
    session_id  text  NOT NULL REFERENCES conversations (session_id) ON DELETE CASCADE,
    uuid        text  NOT NULL,
    entry_type  text  NOT NULL,
    message_key text,
    agent_id    text,
    ts          timestamptz,
    content     jsonb NOT NULL DEFAULT '[]'::jsonb,
    raw         jsonb NOT NULL,
    PRIMARY KEY (session_id, uuid)
);
CREATE INDEX transcript_entries_message_idx ON transcript_entries (session_id, message_key)
    WHERE message_key IS NOT NULL;
