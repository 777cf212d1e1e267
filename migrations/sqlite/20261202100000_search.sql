-- Full-text search (issue 20; docs/search.md), as on Postgres
-- (migrations/postgres/20261202100000_search.sql): the same documents,
-- indexed up to their first 100,000 characters, the same words (FTS5's
-- unicode61 tokenizer: runs of letters and digits, case folded, no
-- stemming, diacritics kept as Postgres's `simple` keeps them). Triggers
-- keep the index current on every insert, update and delete (purges and
-- ON DELETE CASCADE included), so the worker's writes are unchanged.
--
-- search_fts is contentless (the text stays in messages and tool_uses,
-- once): rowid = messages.id * 4 for a message; search_tool_ids.id * 4 + 1,
-- + 2, + 3 for a tool call's input, result and path. search_tool_ids gives
-- each tool call a stable integer (tool_uses' own rowid may change on
-- VACUUM).
CREATE VIRTUAL TABLE search_fts USING fts5(
    body,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TABLE search_tool_ids (
    id          INTEGER PRIMARY KEY,
    tool_use_id TEXT    NOT NULL UNIQUE
) STRICT;

-- The three documents of a tool call (Postgres: search_tool_input,
-- search_tool_result, search_tool_path).
CREATE VIEW search_tool_docs AS
SELECT t.tool_use_id,
       (SELECT group_concat(j.value, char(10))
        FROM json_tree(json_remove(t.input, '$.file_path', '$.path', '$.notebook_path')) AS j
        WHERE j.type = 'text') AS input_doc,
       nullif(concat_ws(char(10),
                        (SELECT group_concat(j.value, char(10))
                         FROM json_tree(COALESCE(t.response, t.transcript_result -> '$.content')) AS j
                         WHERE j.type = 'text'),
                        t.error), '') AS result_doc,
       nullif(concat_ws(char(10), t.input ->> '$.file_path', t.input ->> '$.path',
                        t.input ->> '$.notebook_path'), '') AS path_doc
FROM tool_uses t;

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages WHEN new.text <> '' BEGIN
    INSERT INTO search_fts (rowid, body) VALUES (new.id * 4, substr(new.text, 1, 100000));
END;
CREATE TRIGGER messages_search_update AFTER UPDATE OF text ON messages
WHEN old.text IS NOT new.text BEGIN
    DELETE FROM search_fts WHERE rowid = old.id * 4;
    INSERT INTO search_fts (rowid, body)
        SELECT new.id * 4, substr(new.text, 1, 100000) WHERE new.text <> '';
END;
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
    DELETE FROM search_fts WHERE rowid = old.id * 4;
END;

CREATE TRIGGER tool_uses_search_insert AFTER INSERT ON tool_uses BEGIN
    INSERT OR IGNORE INTO search_tool_ids (tool_use_id) VALUES (new.tool_use_id);
    INSERT INTO search_fts (rowid, body)
        SELECT i.id * 4 + k.n, substr(CASE k.n WHEN 1 THEN d.input_doc WHEN 2 THEN d.result_doc
                                               ELSE d.path_doc END, 1, 100000) AS body
        FROM search_tool_docs d
        JOIN search_tool_ids i ON i.tool_use_id = d.tool_use_id
        CROSS JOIN (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) k
        WHERE d.tool_use_id = new.tool_use_id AND body IS NOT NULL;
END;
CREATE TRIGGER tool_uses_search_update
AFTER UPDATE OF input, response, transcript_result, error ON tool_uses
WHEN old.input IS NOT new.input OR old.response IS NOT new.response
  OR old.transcript_result IS NOT new.transcript_result OR old.error IS NOT new.error BEGIN
    DELETE FROM search_fts WHERE rowid IN (
        SELECT id * 4 + 1 FROM search_tool_ids WHERE tool_use_id = old.tool_use_id
        UNION ALL SELECT id * 4 + 2 FROM search_tool_ids WHERE tool_use_id = old.tool_use_id
        UNION ALL SELECT id * 4 + 3 FROM search_tool_ids WHERE tool_use_id = old.tool_use_id);
    INSERT INTO search_fts (rowid, body)
        SELECT i.id * 4 + k.n, substr(CASE k.n WHEN 1 THEN d.input_doc WHEN 2 THEN d.result_doc
                                               ELSE d.path_doc END, 1, 100000) AS body
        FROM search_tool_docs d
        JOIN search_tool_ids i ON i.tool_use_id = d.tool_use_id
        CROSS JOIN (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) k
        WHERE d.tool_use_id = new.tool_use_id AND body IS NOT NULL;
END;
CREATE TRIGGER tool_uses_search_delete AFTER DELETE ON tool_uses BEGIN
    DELETE FROM search_fts WHERE rowid IN (
        SELECT id * 4 + 1 FROM search_tool_ids WHERE tool_use_id = old.tool_use_id
        UNION ALL SELECT id * 4 + 2 FROM search_tool_ids WHERE tool_use_id = old.tool_use_id
        UNION ALL SELECT id * 4 + 3 FROM search_tool_ids WHERE tool_use_id = old.tool_use_id);
    DELETE FROM search_tool_ids WHERE tool_use_id = old.tool_use_id;
END;

-- Backfill what is stored.
INSERT INTO search_fts (rowid, body)
    SELECT id * 4, substr(text, 1, 100000) FROM messages WHERE text <> '';
INSERT INTO search_tool_ids (tool_use_id) SELECT tool_use_id FROM tool_uses;
INSERT INTO search_fts (rowid, body)
    SELECT i.id * 4 + k.n, substr(CASE k.n WHEN 1 THEN d.input_doc WHEN 2 THEN d.result_doc
                                           ELSE d.path_doc END, 1, 100000) AS body
    FROM search_tool_docs d
    JOIN search_tool_ids i ON i.tool_use_id = d.tool_use_id
    CROSS JOIN (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) k
    WHERE body IS NOT NULL;
