-- The record of every purge (hookline purge, and the retention period when
-- it deleted something): who, when, the selection and the counts per table
-- and DLQ. Never the purged content. See docs/privacy.md.
CREATE TABLE purges (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    purged_at  timestamptz NOT NULL,
    actor      text        NOT NULL,
    selection  jsonb       NOT NULL,
    counts     jsonb       NOT NULL
);
CREATE INDEX purges_purged_at_idx ON purges (purged_at);
-- The retention purge selects sessions by their last activity.
CREATE INDEX webhook_events_session_received_idx ON webhook_events (session_id, received_at);
