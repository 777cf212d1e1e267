// The figure to beat: a minimal Node.js hook doing what the seed's did at its
// core: read the event on stdin, POST it, exit 0. No spool, no retry, no log.
// Usage: HOOKLINE_URL=http://127.0.0.1:PORT node bench/hook-node.js < event.json
const http = require('http');
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', () => {
  const body = Buffer.concat(chunks);
  const url = new URL('/v1/events', process.env.HOOKLINE_URL || 'http://127.0.0.1:9');
  const req = http.request(url, {
    method: 'POST',
    timeout: Number(process.env.HOOKLINE_TIMEOUT_MS || 1000),
    headers: {
      'Content-Type': 'application/json',
      'Content-Length': body.length,
      Authorization: `Bearer ${process.env.HOOKLINE_TOKEN || ''}`,
    },
  }, (res) => { res.resume(); res.on('end', () => process.exit(0)); });
  req.on('timeout', () => { req.destroy(); process.exit(0); });
  req.on('error', () => process.exit(0));
  req.end(body);
});
