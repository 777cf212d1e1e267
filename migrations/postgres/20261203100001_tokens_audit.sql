-- Per-person tokens (`hookline tokens create`): only the SHA-256 of a token
-- is kept, never the token. A request bearing it is the user's (principal
-- and the only user whose events it may send) with the row's role, until
-- revoked_at or expires_at. See docs/teams.md, "Tokens".
CREATE TABLE api_tokens (
    id          text        PRIMARY KEY CHECK (id ~ '^tok_[0-9a-f]{12}$'),
    user_name   text        NOT NULL,
    role        text        NOT NULL CHECK (role IN ('member', 'admin')),
    hash        text        NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$'),
    label       text,
    created_at  timestamptz NOT NULL,
    created_by  text        NOT NULL,
    expires_at  timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_name);

-- What operators did: replays, purges (the retention period's too), token
-- and role changes; who, when, on what, how many. Never content or
-- secrets. See docs/teams.md, "Operator audit".
CREATE TABLE operator_audit (
    id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      timestamptz NOT NULL,
    actor   text        NOT NULL,
    action  text        NOT NULL,
    target  text,
    count   bigint      NOT NULL,
    detail  jsonb       NOT NULL
);
CREATE INDEX operator_audit_at_idx ON operator_audit (at);
