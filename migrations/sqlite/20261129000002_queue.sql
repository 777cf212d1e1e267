-- The embedded queue of `hookline serve` (hookline_store_sqlite::queue), with
-- the semantics of SQS that hookline relies on. Postgres has no such tables:
-- there the queue is SQS. Times are integer milliseconds since the Unix epoch
-- (SQS's SentTimestamp unit): internal bookkeeping compared on every receive.

-- A queue and its attributes (CreateQueue / SetQueueAttributes).
CREATE TABLE queues (
    name                  TEXT    NOT NULL PRIMARY KEY,
    visibility_timeout_ms INTEGER NOT NULL CHECK (visibility_timeout_ms >= 0),
    -- Redrive policy: a message that would be received more than
    -- max_receive_count times moves to dead_letter_queue instead.
    dead_letter_queue     TEXT    REFERENCES queues (name),
    max_receive_count     INTEGER CHECK (max_receive_count >= 1),
    CHECK ((dead_letter_queue IS NULL) = (max_receive_count IS NULL)),
    CHECK (dead_letter_queue <> name)
) STRICT;

-- Every message of every queue; a redrive moves a row to the dead-letter
-- queue by changing `queue`.
CREATE TABLE queue_messages (
    seq                INTEGER PRIMARY KEY,
    queue              TEXT    NOT NULL REFERENCES queues (name),
    message_id         TEXT    NOT NULL,
    body               TEXT    NOT NULL,
    attributes         TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(attributes)),
    sent_at_ms         INTEGER NOT NULL,
    -- Receivable when visible_at_ms <= now; in flight otherwise.
    visible_at_ms      INTEGER NOT NULL,
    receive_count      INTEGER NOT NULL DEFAULT 0 CHECK (receive_count >= 0),
    -- The receipt handle of the latest receive; only it deletes the message
    -- or changes its visibility.
    receipt            TEXT,
    -- The queue a dead letter was redriven from.
    dead_letter_source TEXT
) STRICT;
-- Receive takes the oldest visible messages of a queue in this order.
CREATE INDEX queue_messages_visible_idx ON queue_messages (queue, visible_at_ms);
-- Messages received before and visible again: where a receive looks for
-- those to redrive (without scanning the never-received backlog).
CREATE INDEX queue_messages_retry_idx ON queue_messages (queue, visible_at_ms) WHERE receive_count > 0;
CREATE UNIQUE INDEX queue_messages_receipt_idx ON queue_messages (receipt) WHERE receipt IS NOT NULL;
