-- The record equals the transcript (issue 17; docs/schema.md).
--   messages.usage_rank          which usage of a message is final: the
--                                entry with the greatest rank wins
--                                (hookline_core::transcript::Usage::rank)
--   *.cache_creation_5m/1h       cache writes by lifetime
--   conversations.event_model    the model the hooks said (SessionStart);
--                                conversations.model is it, else the
--                                first assistant message's model
--   conversations.last_activity_at  the latest time of any of its rows
--   tool_uses.used_at/result_at  the transcript times of the tool_use and
--                                tool_result blocks
--   subagents.tool_use_id        the Task tool call that started it
--   subagents.* counts/tokens    its own messages and usage (recomputed)
--   conversations.first_uuid     the uuid of the first entry of its own
--                                transcript when that entry starts fresh
--                                (parentUuid null): a fork's copies share it
--   tool_uses.entry_uuid         the entry of the tool_use block (a copied
--                                call belongs to the session it came from)
ALTER TABLE messages
    ADD COLUMN usage_rank               text,
    ADD COLUMN cache_creation_5m_tokens bigint,
    ADD COLUMN cache_creation_1h_tokens bigint;
ALTER TABLE conversations
    ADD COLUMN cache_creation_5m_tokens bigint NOT NULL DEFAULT 0,
    ADD COLUMN cache_creation_1h_tokens bigint NOT NULL DEFAULT 0,
    ADD COLUMN event_model              text,
    ADD COLUMN last_activity_at         timestamptz,
    ADD COLUMN first_uuid               text;
UPDATE conversations SET event_model = model;
ALTER TABLE tool_uses
    ADD COLUMN used_at   timestamptz,
    ADD COLUMN result_at timestamptz,
    ADD COLUMN entry_uuid text;
ALTER TABLE subagents
    ADD COLUMN tool_use_id                 text,
    ADD COLUMN message_count               integer NOT NULL DEFAULT 0,
    ADD COLUMN input_tokens                bigint  NOT NULL DEFAULT 0,
    ADD COLUMN output_tokens               bigint  NOT NULL DEFAULT 0,
    ADD COLUMN cache_creation_input_tokens bigint  NOT NULL DEFAULT 0,
    ADD COLUMN cache_read_input_tokens     bigint  NOT NULL DEFAULT 0;
CREATE INDEX conversations_first_uuid_idx ON conversations (first_uuid) WHERE first_uuid IS NOT NULL;
