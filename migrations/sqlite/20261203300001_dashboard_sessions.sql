-- Dashboard sessions (issue 21): as
-- migrations/postgres/20261203300001_dashboard_sessions.sql, in SQLite's
-- types (times as fixed-width RFC 3339 text, users as JSON text).
CREATE TABLE dashboard_sessions (
    id_hash    TEXT NOT NULL PRIMARY KEY CHECK (length(id_hash) = 64),
    principal  TEXT NOT NULL,
    users      TEXT CHECK (users IS NULL OR json_valid(users)),
    role       TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    csrf       TEXT NOT NULL,
    via        TEXT NOT NULL CHECK (via IN ('token', 'oidc')),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX dashboard_sessions_expires_idx ON dashboard_sessions (expires_at);
