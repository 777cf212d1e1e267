-- pgbench transaction for bench/run's worker stage: the rows the worker
-- writes for one PostToolUse event of tests/fixtures/events/PostToolUse.json
-- (an audit row, its attempt, the conversation and the tool use upserted),
-- one transaction per event, default durability (synchronous_commit on).
-- :payload is set by bench/run (pgbench -D payload="'<json>'", quoted).
BEGIN;
WITH e AS (
  INSERT INTO webhook_events (request_id, event_type, session_id, status, payload, principal, received_at, enqueued_at, processed_at, processing_ms, attempts)
  VALUES ('pgbench-' || gen_random_uuid(), 'PostToolUse', '00893aaf-19fa-41d2-8238-13269b9b3ca0', 'SUCCESS', :payload::jsonb, 'bench', now(), now(), now(), 1, 1)
  RETURNING request_id)
INSERT INTO webhook_event_attempts (request_id, status, message_id, receive_count, processing_ms) SELECT request_id, 'SUCCESS', 'm', 1, 1 FROM e;
INSERT INTO conversations (session_id, principal, cwd, transcript_path, permission_mode, started_at, tool_use_count)
  VALUES ('00893aaf-19fa-41d2-8238-13269b9b3ca0', 'bench', '/home/user/my-project', '/t.jsonl', 'default', now(), 1)
  ON CONFLICT (session_id) DO UPDATE SET cwd = EXCLUDED.cwd, permission_mode = EXCLUDED.permission_mode, started_at = LEAST(conversations.started_at, EXCLUDED.started_at);
INSERT INTO tool_uses (tool_use_id, session_id, tool_name, input, input_source, response, status, post_at, duration_ms)
  VALUES ('toolu_01WRITE', '00893aaf-19fa-41d2-8238-13269b9b3ca0', 'Write', '{"file_path":"/path/to/file.txt","content":"file content"}', 'post', '{"filePath":"/path/to/file.txt","success":true}', 'succeeded', now(), 12)
  ON CONFLICT (tool_use_id) DO UPDATE SET response = EXCLUDED.response, status = EXCLUDED.status, post_at = EXCLUDED.post_at, duration_ms = EXCLUDED.duration_ms;
END;
