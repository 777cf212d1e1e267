-- `events stats` (issue 22, docs/performance.md "Scale"): its three
-- aggregates over a window of received_at (counts per type and status,
-- counts per error code, the durations of the successful events) read this
-- index only (an index-only scan; the rows' payloads stay unread). It has
-- webhook_events_received_idx's prefix, which goes. An index build and a
-- drop: no table is rewritten.
CREATE INDEX webhook_events_stats_idx ON webhook_events (received_at, status)
    INCLUDE (event_type, error_code, processing_ms, processed_at);
DROP INDEX webhook_events_received_idx;
