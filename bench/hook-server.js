// A stand-in ingest for bench/hook.sh: 202 on POST /v1/events, 200 on
// GET /health. Usage: node bench/hook-server.js PORT
const http = require('http');
const port = Number(process.argv[2] || 8787);
http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.url === '/health') { res.writeHead(200); res.end('ok'); return; }
    const id = req.headers['x-request-id'] || 'none';
    res.writeHead(202, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ request_id: id, status: 'queued' }));
  });
}).listen(port, '127.0.0.1');
