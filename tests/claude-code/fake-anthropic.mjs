#!/usr/bin/env node
// A scripted fake of the Anthropic Messages API, for running the real
// Claude Code CLI offline (docs/real-client.md). Node, no dependencies.
//
//   node fake-anthropic.mjs --script replies.json [--port 0] [--log requests.jsonl]
//                           [--max-seconds 300] [--id-prefix r1]
//
// Prints `listening on http://127.0.0.1:PORT` on stdout once it accepts
// connections; point Claude Code at it with ANTHROPIC_BASE_URL. Bound to
// 127.0.0.1 only. Exits after --max-seconds whatever happens, and every
// request is answered at once (or dropped after 30 s of a silent client).
//
// The script: {"replies": [REPLY, ...]} where REPLY is
//   {"blocks": [{"type": "thinking", "thinking": "..."},
//               {"type": "text", "text": "..."},
//               {"type": "tool_use", "name": "Bash", "input": {...}}],
//    "usage": {"input_tokens": 10, "output_tokens": 20,
//              "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}
// Replies are consumed in order by the requests of Claude Code's main agent
// loop (requests that offer tools); {"agents": {MARKER: [REPLY, ...]}} gives
// a subagent its own replies: a request whose first user message contains
// MARKER (put it in the task prompt) takes them, in order. A tool_use
// name may list alternatives, "Task|Agent": the first one the request offers
// is used (the subagent tool was renamed between releases). The reply's
// message id is msg_fake_<n>, its tool_use ids toolu_fake_<n>_<i> (n = 1 for
// the first scripted reply of the main loop; <a>_<n> for agent a's replies,
// a = 1 for the first marker; --id-prefix P makes them msg_fake_P_<n>).
// Requests that offer no tools (title or topic generation, quota checks)
// get a short text reply and consume nothing; so
// does an agent-loop request once the script is exhausted (logged as
// "exhausted"). POST /v1/messages/count_tokens answers a count, HEAD and GET
// on any path answer 200, anything else 404.
//
// --log appends one JSON line per request: {"n", "method", "path", "model",
// "stream", "tools", "queue" ("main", a marker, or null when no tools),
// "scripted" (reply index or null), "exhausted", "id" (the message id),
// "usage" (what the reply reported)}.

import http from 'node:http';
import fs from 'node:fs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
    return acc;
  }, []),
);
if (!args.script) {
  console.error('usage: fake-anthropic.mjs --script FILE [--port N] [--log FILE] [--max-seconds N]');
  process.exit(2);
}
const script = JSON.parse(fs.readFileSync(args.script, 'utf8'));
// Agent loops: the main session's ("replies") and one per subagent
// ("agents": {MARKER: [REPLY, ...]}), told apart by the first user message
// of the request, which holds MARKER for a subagent (its task prompt).
const queues = { main: { replies: script.replies ?? [], next: 0 } };
for (const [marker, list] of Object.entries(script.agents ?? {})) queues[marker] = { replies: list, next: 0 };
const port = Number(args.port ?? 0);
const maxSeconds = Number(args['max-seconds'] ?? 300);
const logFile = args.log;
// Makes message ids unique across runs of one session (--resume, --continue).
const prefix = args['id-prefix'] ? `${args['id-prefix']}_` : '';
let requests = 0;

function firstUserText(body) {
  const first = (body.messages ?? []).find((m) => m.role === 'user');
  if (!first) return '';
  if (typeof first.content === 'string') return first.content;
  return (first.content ?? []).map((b) => (b.type === 'text' ? b.text : '')).join('\n');
}

function queueOf(body) {
  const text = firstUserText(body);
  return Object.keys(queues).find((k) => k !== 'main' && text.includes(k)) ?? 'main';
}

function log(entry) {
  if (logFile) fs.appendFileSync(logFile, JSON.stringify(entry) + '\n');
}

// The blocks of a reply as the API returns them, with ids and tool names
// resolved against the tools the request offers.
function build(reply, n, offered) {
  let tool = 0;
  return (reply.blocks ?? []).map((b) => {
    if (b.type === 'thinking') return { type: 'thinking', thinking: b.thinking, signature: `sig_fake_${n}` };
    if (b.type === 'text') return { type: 'text', text: b.text };
    if (b.type === 'tool_use') {
      const names = String(b.name).split('|');
      const name = names.find((x) => offered.includes(x)) ?? names[0];
      return { type: 'tool_use', id: `toolu_fake_${n}_${tool++}`, name, input: b.input ?? {} };
    }
    throw new Error(`unknown block type ${b.type}`);
  });
}

function usageOf(reply) {
  const u = reply.usage ?? {};
  return {
    input_tokens: u.input_tokens ?? 10,
    cache_creation_input_tokens: u.cache_creation_input_tokens ?? 0,
    cache_read_input_tokens: u.cache_read_input_tokens ?? 0,
    output_tokens: u.output_tokens ?? 5,
  };
}

function sse(res, event, data) {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function answer(res, body, model, id, content, usage) {
  const stop_reason = content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn';
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_fake_${id}` });
    res.end(JSON.stringify({
      id: `msg_fake_${id}`, type: 'message', role: 'assistant', model, content,
      stop_reason, stop_sequence: null, usage,
    }));
    return;
  }
  res.writeHead(200, {
    'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': `req_fake_${id}`,
  });
  // message_start carries the input side and a first output count, as the
  // real API does; message_delta carries the final output count.
  sse(res, 'message_start', {
    type: 'message_start',
    message: {
      id: `msg_fake_${id}`, type: 'message', role: 'assistant', model, content: [],
      stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 },
    },
  });
  content.forEach((b, index) => {
    if (b.type === 'thinking') {
      sse(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } });
      sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: b.thinking } });
      sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: b.signature } });
    } else if (b.type === 'text') {
      sse(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: b.text } });
    } else {
      sse(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} } });
      sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(b.input) } });
    }
    sse(res, 'content_block_stop', { type: 'content_block_stop', index });
  });
  sse(res, 'message_delta', {
    type: 'message_delta', delta: { stop_reason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens },
  });
  sse(res, 'message_stop', { type: 'message_stop' });
  res.end();
}

const server = http.createServer((req, res) => {
  const n = ++requests;
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'HEAD' || req.method === 'GET') {
    log({ n, method: req.method, path });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(req.method === 'GET' ? '{}' : undefined);
    return;
  }
  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (c) => { raw += c; });
  req.on('end', () => {
    let body = {};
    try { body = JSON.parse(raw || '{}'); } catch { /* answered below as an empty request */ }
    const model = body.model ?? 'claude-fake';
    if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
      log({ n, method: req.method, path, model });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ input_tokens: Math.max(1, Math.round(raw.length / 4)) }));
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/messages') {
      log({ n, method: req.method, path, model });
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: `no ${req.method} ${path}` } }));
      return;
    }
    const offered = (body.tools ?? []).map((t) => t.name).filter(Boolean);
    const agentLoop = offered.length > 0;
    const queue = agentLoop ? queueOf(body) : null;
    const q = queue && queues[queue];
    let scripted = null;
    let exhausted = false;
    let content;
    let usage;
    let id;
    if (q && q.next < q.replies.length) {
      scripted = q.next++;
      id = prefix + (queue === 'main' ? String(scripted + 1) : `${Object.keys(queues).indexOf(queue)}_${scripted + 1}`);
      content = build(q.replies[scripted], id, offered);
      usage = usageOf(q.replies[scripted]);
    } else {
      exhausted = agentLoop;
      id = `${prefix}x${n}`;
      content = [{ type: 'text', text: agentLoop ? 'Done.' : 'Fake title' }];
      usage = { input_tokens: 3, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 2 };
    }
    log({ n, method: req.method, path, model, stream: !!body.stream, tools: offered.length, queue, scripted, exhausted, id: `msg_fake_${id}`, usage });
    answer(res, body, model, id, content, usage);
  });
});
server.setTimeout(30_000, (socket) => socket.destroy());
server.listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
setTimeout(() => {
  console.error(`fake-anthropic: --max-seconds ${maxSeconds} reached, exiting`);
  process.exit(0);
}, maxSeconds * 1000).unref();
process.on('SIGTERM', () => process.exit(0));
