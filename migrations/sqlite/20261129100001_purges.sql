-- The record of every purge (the same as Postgres's, see
-- migrations/postgres/20261129100001_purges.sql and docs/privacy.md).
CREATE TABLE purges (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    purged_at  TEXT    NOT NULL CHECK (purged_at GLOB '????-??-??T??:??:??.??????Z'),
    actor      TEXT    NOT NULL,
    selection  TEXT    NOT NULL CHECK (json_valid(selection)),
    counts     TEXT    NOT NULL CHECK (json_valid(counts))
);
CREATE INDEX purges_purged_at_idx ON purges (purged_at);
CREATE INDEX webhook_events_session_received_idx ON webhook_events (session_id, received_at);
