-- Identity and the silence alarm; the same as the Postgres migration of the
-- same name. See docs/schema.md.

CREATE INDEX conversations_user_started_idx ON conversations (user_name, started_at DESC);
CREATE INDEX conversations_host_started_idx ON conversations (host, started_at DESC);

CREATE TABLE hosts (
    user_name    TEXT NOT NULL,
    host         TEXT NOT NULL,
    first_seen   TEXT NOT NULL CHECK (first_seen GLOB '????-??-??T??:??:??.??????Z'),
    last_seen    TEXT NOT NULL CHECK (last_seen GLOB '????-??-??T??:??:??.??????Z'),
    hook_version TEXT,
    principal    TEXT,
    PRIMARY KEY (user_name, host)
) STRICT;
CREATE INDEX hosts_last_seen_idx ON hosts (last_seen);
