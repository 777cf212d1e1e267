-- Identity and the silence alarm. See docs/schema.md.

-- `hookline sessions list --user/--host`.
CREATE INDEX conversations_user_started_idx ON conversations (user_name, started_at DESC);
CREATE INDEX conversations_host_started_idx ON conversations (host, started_at DESC);

-- One row per hook install, (OS user, host name) as the hook stamped them
-- ('' when it could not tell), from the events flagged `hookline.heartbeat`
-- (SessionStart, and at most hourly otherwise). `last_seen` is the latest
-- heartbeat's capture time: a host whose last_seen is older than the
-- threshold has gone silent (`hookline events stats`, the SilentHosts alarm).
CREATE TABLE hosts (
    user_name    text        NOT NULL,
    host         text        NOT NULL,
    first_seen   timestamptz NOT NULL,
    last_seen    timestamptz NOT NULL,
    -- Of the latest heartbeat.
    hook_version text,
    principal    text,
    PRIMARY KEY (user_name, host)
);
CREATE INDEX hosts_last_seen_idx ON hosts (last_seen);
