-- Dashboard sessions (issue 21): a login (token or OpenID Connect) survives
-- a restart of `hookline serve` / `hookline dashboard`, expires, and is
-- revoked by logout. The cookie value is never stored: id_hash is its
-- SHA-256 (hex), so a copy of the table signs nobody in.
CREATE TABLE dashboard_sessions (
    id_hash    TEXT        PRIMARY KEY CHECK (id_hash ~ '^[0-9a-f]{64}$'),
    principal  TEXT        NOT NULL,
    -- The users this login may read as a member: a JSON array of names,
    -- NULL for any user.
    users      JSONB,
    role       TEXT        NOT NULL CHECK (role IN ('admin', 'member')),
    csrf       TEXT        NOT NULL,
    -- How it signed in: 'token' or 'oidc'.
    via        TEXT        NOT NULL CHECK (via IN ('token', 'oidc')),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX dashboard_sessions_expires_idx ON dashboard_sessions (expires_at);
