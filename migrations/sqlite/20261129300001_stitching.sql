-- Conversation stitching: the same columns as in Postgres (see
-- migrations/postgres/20261129300001_stitching.sql, docs/schema.md).
ALTER TABLE conversations ADD COLUMN parent_session_id TEXT;
ALTER TABLE conversations ADD COLUMN link_kind TEXT;
ALTER TABLE conversations ADD COLUMN continues_uuid TEXT;
CREATE INDEX conversations_parent_idx ON conversations (parent_session_id)
    WHERE parent_session_id IS NOT NULL;
CREATE INDEX conversations_continues_idx ON conversations (continues_uuid)
    WHERE continues_uuid IS NOT NULL;
CREATE INDEX transcript_entries_uuid_idx ON transcript_entries (uuid);
