-- Conversation stitching (docs/schema.md): a session continued from
-- another (resume, fork, clear, compact) points at it.
--   parent_session_id  the session this one continues
--   link_kind          the SessionStart source (resume, fork, clear, compact)
--                      when known, else 'continued'
--   continues_uuid     the transcript uuid this session's first entry hangs
--                      from; resolved to parent_session_id by whichever of
--                      the two sessions arrives last
ALTER TABLE conversations
    ADD COLUMN parent_session_id text,
    ADD COLUMN link_kind         text,
    ADD COLUMN continues_uuid    text;
CREATE INDEX conversations_parent_idx ON conversations (parent_session_id)
    WHERE parent_session_id IS NOT NULL;
CREATE INDEX conversations_continues_idx ON conversations (continues_uuid)
    WHERE continues_uuid IS NOT NULL;
CREATE INDEX transcript_entries_uuid_idx ON transcript_entries (uuid);
