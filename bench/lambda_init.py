#!/usr/bin/env python3
"""Cold start of the Lambda functions, locally: the time from spawning a
function's release binary to its first invocation's response, served by a
minimal Lambda Runtime API emulator on loopback (the API a real Lambda
sandbox gives the bootstrap binary: GET .../invocation/next, POST
.../invocation/<id>/response). The ingest function answers a function URL
request for /health; the worker gets an SQS event with one real enqueued
PostToolUse event, so its figure includes connecting to Postgres and writing
the rows. The limit is spawning a do-nothing binary (bench/spawn_time.rs).

  bench/lambda_init.py BIN_DIR DATABASE_URL EVENT_JSON SPAWN_BIN [RUNS]

Prints `ingest_init_ms=… worker_init_ms=… spawn_ms=…` (medians) on stdout.
Standard library only."""
import http.server
import json
import os
import socketserver
import statistics
import subprocess
import sys
import threading
import time
import uuid


class Emulator(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    """Serves one event to one process (one emulator per cold start, on its
    own port, so a request of an earlier, killed process never reaches it)."""

    def __init__(self, event):
        super().__init__(("127.0.0.1", 0), Handler)
        self.event = json.dumps(event).encode()
        self.served = threading.Event()
        self.response = None
        self.pending = threading.Lock()  # held once the event is handed out

    def handle_error(self, request, client_address):
        pass  # the function process is killed with its next poll open


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        srv = self.server
        if self.path.endswith("/invocation/next"):
            # The function's second /next waits until its process is killed.
            if not srv.pending.acquire(blocking=False):
                time.sleep(30)
                return
            deadline = int((time.time() + 30) * 1000)
            self.reply(200, srv.event, [
                ("Lambda-Runtime-Aws-Request-Id", str(uuid.uuid4())),
                ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:bench"),
                ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000"),
                ("Content-Type", "application/json"),
            ])
        else:
            self.reply(404)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        self.reply(202, b"{}")
        if "/invocation/" in self.path:
            self.server.response = (self.path.rsplit("/", 1)[-1], body)
            self.server.served.set()


def cold_start(event, binary, env):
    emu = Emulator(event)
    threading.Thread(target=emu.serve_forever, daemon=True).start()
    try:
        return run_once(emu, binary, env)
    finally:
        emu.shutdown()
        emu.server_close()


def run_once(emu, binary, env):
    full = dict(os.environ)
    full.update(env)
    full.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{emu.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench",
        "RUST_LOG": "warn",
    })
    t0 = time.perf_counter()
    p = subprocess.Popen([binary], env=full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        if not emu.served.wait(30):
            p.kill()
            raise SystemExit(f"{binary}: no response within 30 s: {p.stderr.read()[-2000:]!r}")
        ms = (time.perf_counter() - t0) * 1000
        kind, body = emu.response
        if kind != "response":
            raise SystemExit(f"{binary}: invocation {kind}: {body[:500]!r}")
        return ms, body
    finally:
        p.kill()
        p.wait()


def main():
    bin_dir, database_url, event_path, spawn_bin = sys.argv[1:5]
    runs = int(sys.argv[5]) if len(sys.argv) > 5 else 10
    with open(event_path) as f:
        hook_event = json.load(f)
    ingest, worker, spawn = [], [], []
    for i in range(runs):
        ingest_event = {
            "version": "2.0", "rawPath": "/health", "rawQueryString": "",
            "headers": {"host": "bench.lambda-url.us-east-1.on.aws"},
            "requestContext": {
                "accountId": "000000000000", "apiId": "bench", "domainName": "bench.lambda-url.us-east-1.on.aws",
                "domainPrefix": "bench", "requestId": str(uuid.uuid4()), "routeKey": "$default", "stage": "$default",
                "time": "29/Nov/2026:10:00:00 +0000", "timeEpoch": int(time.time() * 1000),
                "http": {"method": "GET", "path": "/health", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "bench"},
            },
            "isBase64Encoded": False,
        }
        ms, body = cold_start(ingest_event, os.path.join(bin_dir, "hookline-ingest"), {
            # BENCH_QUEUE_URL: a queue that exists (bench/run creates one in
            # LocalStack, AWS_ENDPOINT_URL in the environment); without it the
            # init's queue check fails and the figure includes its retries.
            "HOOKLINE_QUEUE_URL": os.environ.get("BENCH_QUEUE_URL", "http://127.0.0.1:4566/000000000000/bench-unused"),
            "HOOKLINE_TOKENS": "bench:" + "0" * 64,
            "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
        })
        if json.loads(body).get("statusCode") != 200:
            raise SystemExit(f"ingest /health answered {body[:300]!r}")
        ingest.append(ms)

        rid = f"lambda-init-{uuid.uuid4()}"
        envelope = {
            "type": "hook_event.v1", "request_id": rid,
            "received_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "principal": "bench", "headers": {},
            "payload": {"encoding": "json", "data": hook_event},
        }
        worker_event = {"Records": [{
            "messageId": str(uuid.uuid4()), "receiptHandle": "r", "body": json.dumps(envelope),
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000))},
            "messageAttributes": {}, "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:bench",
        }]}
        ms, body = cold_start(worker_event, os.path.join(bin_dir, "hookline-worker"), {"DATABASE_URL": database_url})
        if json.loads(body).get("batchItemFailures"):
            raise SystemExit(f"worker reported failures: {body[:300]!r}")
        worker.append(ms)

        t0 = time.perf_counter()
        subprocess.run([spawn_bin], check=True)
        spawn.append((time.perf_counter() - t0) * 1000)
    med = statistics.median
    print(f"ingest_init_ms={med(ingest):.1f} worker_init_ms={med(worker):.1f} spawn_ms={med(spawn):.2f} runs={runs}")


if __name__ == "__main__":
    main()
