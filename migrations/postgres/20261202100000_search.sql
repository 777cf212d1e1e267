-- Full-text search (issue 20; docs/search.md). Postgres keeps the index
-- itself: stored generated tsvector columns with GIN indexes, so the
-- worker's writes are unchanged and every insert, update and delete
-- (purges, stitching, refresh) keeps the index current.
--
-- Documents: a message's text (a prompt or a reply), a tool call's input
-- (its string values, the path fields apart), its result (the response,
-- else the transcript's tool_result content, and the error) and its file
-- path (input.file_path / path / notebook_path). Each is indexed up to its
-- first 100,000 characters (a tsvector holds at most 1 MB).
--
-- Words: the `simple` configuration (no stemming, no stop words: code
-- identifiers and paths are not English), after ASCII punctuation becomes
-- spaces, so `src/main.rs`, `parse_query` and `self.store` are the words
-- `src main rs`, `parse query`, `self store` as in SQLite's FTS5 unicode61
-- tokenizer: both stores find the same words.

-- ASCII punctuation to spaces, first 100,000 characters.
CREATE FUNCTION search_words(t text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$fn$ SELECT translate(left(t, 100000), '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~', '                                ') $fn$;

-- The string values of a JSON document, one a line.
CREATE FUNCTION search_strings(j jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$fn$ SELECT string_agg(v #>> '{}', E'\n') FROM jsonb_path_query(j, 'strict $.**') AS v
     WHERE jsonb_typeof(v) = 'string' $fn$;

-- The three documents of a tool call (SQLite: the view search_tool_docs).
CREATE FUNCTION search_tool_input(input jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$fn$ SELECT search_strings(input - 'file_path' - 'path' - 'notebook_path') $fn$;

CREATE FUNCTION search_tool_result(response jsonb, transcript_result jsonb, error text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$fn$ SELECT nullif(btrim(coalesce(search_strings(coalesce(response, transcript_result -> 'content')), '')
                         || E'\n' || coalesce(error, ''), E'\n'), '') $fn$;

CREATE FUNCTION search_tool_path(input jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$fn$ SELECT nullif(btrim(coalesce(input ->> 'file_path', '') || E'\n' || coalesce(input ->> 'path', '')
                         || E'\n' || coalesce(input ->> 'notebook_path', ''), E'\n'), '') $fn$;

-- Adding the columns rewrites the tables: the backfill of what is stored.
ALTER TABLE messages
    ADD COLUMN search_vector tsvector GENERATED ALWAYS AS
        (to_tsvector('simple'::regconfig, search_words(text))) STORED;
CREATE INDEX messages_search_idx ON messages USING gin (search_vector);

ALTER TABLE tool_uses
    ADD COLUMN search_input tsvector GENERATED ALWAYS AS
        (to_tsvector('simple'::regconfig, coalesce(search_words(search_tool_input(input)), ''))) STORED,
    ADD COLUMN search_result tsvector GENERATED ALWAYS AS
        (to_tsvector('simple'::regconfig,
                     coalesce(search_words(search_tool_result(response, transcript_result, error)), ''))) STORED,
    ADD COLUMN search_path tsvector GENERATED ALWAYS AS
        (to_tsvector('simple'::regconfig, coalesce(search_words(search_tool_path(input)), ''))) STORED;
CREATE INDEX tool_uses_search_input_idx ON tool_uses USING gin (search_input);
CREATE INDEX tool_uses_search_result_idx ON tool_uses USING gin (search_result);
CREATE INDEX tool_uses_search_path_idx ON tool_uses USING gin (search_path);
