-- Per-person tokens and the operator audit: the same tables as Postgres's
-- (migrations/postgres/20261203100001_tokens_audit.sql, docs/teams.md).
CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY CHECK (id GLOB 'tok_[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'),
    user_name   TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('member', 'admin')),
    hash        TEXT NOT NULL UNIQUE CHECK (length(hash) = 64 AND hash NOT GLOB '*[^0-9a-f]*'),
    label       TEXT,
    created_at  TEXT NOT NULL CHECK (created_at GLOB '????-??-??T??:??:??.??????Z'),
    created_by  TEXT NOT NULL,
    expires_at  TEXT CHECK (expires_at GLOB '????-??-??T??:??:??.??????Z'),
    revoked_at  TEXT CHECK (revoked_at GLOB '????-??-??T??:??:??.??????Z')
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_name);

CREATE TABLE operator_audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT    NOT NULL CHECK (at GLOB '????-??-??T??:??:??.??????Z'),
    actor   TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    target  TEXT,
    count   INTEGER NOT NULL,
    detail  TEXT    NOT NULL CHECK (json_valid(detail))
);
CREATE INDEX operator_audit_at_idx ON operator_audit (at);
