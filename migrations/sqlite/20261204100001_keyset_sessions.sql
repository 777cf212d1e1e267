-- Keyset pages of the sessions list (issue 22, docs/performance.md
-- "Scale"): the list reads `(started_at, session_id) < cursor ORDER BY
-- started_at DESC, session_id DESC`, one range of this index from the
-- cursor on. It has conversations_started_idx's prefix, which goes.
-- An index build and a drop: no table is rewritten.
CREATE INDEX conversations_started_id_idx ON conversations (started_at, session_id);
DROP INDEX conversations_started_idx;
