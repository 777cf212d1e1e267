-- The search index's write cost (issue 22; docs/performance.md "Scale",
-- docs/search.md). Same documents, same words, same vectors; computed less
-- often and faster:
--
-- * search_words: 32 replace() calls instead of one translate(). Postgres's
--   translate() looks each character up in the 32-character set, character
--   by character: 4.1 ms for a 7 KB tool result, against 0.6 ms (the output
--   is the same string).
-- * tool_uses' three vectors were generated columns, computed for every row
--   Postgres writes: a tool call's row is written four times (PreToolUse,
--   PostToolUse, then the Stop's transcript: its tool_use block and its
--   tool_result block), and an INSERT … ON CONFLICT computes them for the
--   proposed row too, before the conflict is found; so a result was parsed
--   into a tsvector up to five times (to_tsvector: ~0.45 µs a character).
--   Now plain columns kept by a trigger that computes a vector only when its
--   document changes. DROP EXPRESSION keeps the stored values and does not
--   rewrite the table; the GIN indexes stay.
-- * an update that changes nothing (a redelivered event, a transcript that
--   says what the hooks said) is skipped whole (suppress_redundant_updates_trigger):
--   no new row version, no index entries.

CREATE OR REPLACE FUNCTION search_words(t text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$fn$ SELECT replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(left(t, 100000), '!', ' '), '"', ' '), '#', ' '), '$', ' '), '%', ' '), '&', ' '), '''', ' '), '(', ' '), ')', ' '), '*', ' '), '+', ' '), ',', ' '), '-', ' '), '.', ' '), '/', ' '), ':', ' '), ';', ' '), '<', ' '), '=', ' '), '>', ' '), '?', ' '), '@', ' '), '[', ' '), '\', ' '), ']', ' '), '^', ' '), '_', ' '), '`', ' '), '{', ' '), '|', ' '), '}', ' '), '~', ' ') $fn$;

CREATE FUNCTION search_vector(doc text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$fn$ SELECT to_tsvector('simple'::regconfig, coalesce(search_words(doc), '')) $fn$;

ALTER TABLE tool_uses
    ALTER COLUMN search_input DROP EXPRESSION,
    ALTER COLUMN search_result DROP EXPRESSION,
    ALTER COLUMN search_path DROP EXPRESSION;

-- The vectors of a tool call: of a new row, and of an updated row's changed
-- documents; the others keep their stored vector (nothing else sets them).
--
-- The worker writes every row with INSERT … ON CONFLICT DO UPDATE, and a
-- BEFORE INSERT trigger (as a generated column) runs for the proposed row
-- before the conflict is known: for PostToolUse and the transcript's
-- blocks, whose row exists, that vector would be thrown away. So the insert
-- leaves the vectors NULL ("not computed") when the row exists; the update
-- that follows computes what changed, and an update of a row whose vectors
-- are NULL (the row was deleted between that look and the insert)
-- computes them all.
CREATE FUNCTION tool_uses_search() RETURNS trigger
    LANGUAGE plpgsql AS
$fn$
DECLARE
    doc text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF EXISTS (SELECT 1 FROM tool_uses WHERE tool_use_id = NEW.tool_use_id) THEN
            NEW.search_input := NULL;
            NEW.search_result := NULL;
            NEW.search_path := NULL;
        ELSE
            NEW.search_input := search_vector(search_tool_input(NEW.input));
            NEW.search_result := search_vector(search_tool_result(NEW.response, NEW.transcript_result, NEW.error));
            NEW.search_path := search_vector(search_tool_path(NEW.input));
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.input IS DISTINCT FROM OLD.input OR OLD.search_input IS NULL OR OLD.search_path IS NULL THEN
        NEW.search_input := search_vector(search_tool_input(NEW.input));
        NEW.search_path := search_vector(search_tool_path(NEW.input));
    ELSE
        NEW.search_input := OLD.search_input;
        NEW.search_path := OLD.search_path;
    END IF;
    IF OLD.search_result IS NULL THEN
        NEW.search_result := search_vector(search_tool_result(NEW.response, NEW.transcript_result, NEW.error));
    ELSIF (NEW.response, NEW.transcript_result, NEW.error) IS DISTINCT FROM
          (OLD.response, OLD.transcript_result, OLD.error) THEN
        -- The transcript's result counts only without PostToolUse's: compare
        -- the documents before parsing one.
        doc := search_tool_result(NEW.response, NEW.transcript_result, NEW.error);
        IF doc IS DISTINCT FROM search_tool_result(OLD.response, OLD.transcript_result, OLD.error) THEN
            NEW.search_result := search_vector(doc);
        ELSE
            NEW.search_result := OLD.search_result;
        END IF;
    ELSE
        NEW.search_result := OLD.search_result;
    END IF;
    RETURN NEW;
END
$fn$;

-- BEFORE triggers run in name order: the vectors first, then the check
-- that anything changed.
CREATE TRIGGER tool_uses_search BEFORE INSERT OR UPDATE ON tool_uses
    FOR EACH ROW EXECUTE FUNCTION tool_uses_search();
CREATE TRIGGER tool_uses_unchanged BEFORE UPDATE ON tool_uses
    FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();

-- Every event upserts its session's row and sets its link_kind (stitching,
-- docs/schema.md); nearly always to what it holds. Skipped whole, as above.
CREATE TRIGGER conversations_unchanged BEFORE UPDATE ON conversations
    FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
-- The link_kind update looks for stale links too (`parent_session_id IS
-- NULL AND link_kind IS NOT NULL`): without an index that is a scan of every
-- session, per event. Nearly always empty.
CREATE INDEX conversations_stale_link_idx ON conversations (session_id)
    WHERE parent_session_id IS NULL AND link_kind IS NOT NULL;
