-- The record equals the transcript: the same columns as in Postgres (see
-- migrations/postgres/20261201000001_fidelity.sql, docs/schema.md).
ALTER TABLE messages ADD COLUMN usage_rank TEXT;
ALTER TABLE messages ADD COLUMN cache_creation_5m_tokens INTEGER;
ALTER TABLE messages ADD COLUMN cache_creation_1h_tokens INTEGER;
ALTER TABLE conversations ADD COLUMN cache_creation_5m_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN cache_creation_1h_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN event_model TEXT;
ALTER TABLE conversations ADD COLUMN last_activity_at TEXT;
ALTER TABLE conversations ADD COLUMN first_uuid TEXT;
UPDATE conversations SET event_model = model;
ALTER TABLE tool_uses ADD COLUMN used_at TEXT;
ALTER TABLE tool_uses ADD COLUMN result_at TEXT;
ALTER TABLE tool_uses ADD COLUMN entry_uuid TEXT;
ALTER TABLE subagents ADD COLUMN tool_use_id TEXT;
ALTER TABLE subagents ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subagents ADD COLUMN input_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subagents ADD COLUMN output_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subagents ADD COLUMN cache_creation_input_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subagents ADD COLUMN cache_read_input_tokens INTEGER NOT NULL DEFAULT 0;
CREATE INDEX conversations_first_uuid_idx ON conversations (first_uuid) WHERE first_uuid IS NOT NULL;
