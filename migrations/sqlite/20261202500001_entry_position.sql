-- Export (issue 20, `hookline sessions export --format jsonl`): where each
-- transcript entry stood in its file, so the lines come back in file order
-- (timestamps are not: a streamed reply's entries and tool results
-- interleave). `hookline_core::mapping::line_pos`: the chunk's byte offset
-- times 2^20 plus the line's index in the chunk; the least of two
-- deliveries is kept. NULL for the rows written before this migration.
ALTER TABLE transcript_entries ADD COLUMN line_pos INTEGER;
