#!/usr/bin/env python3
"""Lambda, locally, for a function at volume (bench/volume.py, issue 22):
INSTANCES processes of a function's release binary, each polling the Lambda
Runtime API served here (GET /2018-06-01/runtime/invocation/next, POST
.../invocation/<id>/response or /error), as in a Lambda sandbox: one
invocation at a time per instance. Invocations arrive on the invoke API
(POST /2015-03-31/functions/<name>/invocations), which `hookline dev poll
--invoke-url` calls as Lambda's SQS event source does, and wait for an idle
instance.

  bench/lambda_runtime.py PORT INSTANCES BINARY LOG_FILE PID_FILE

The duration of an invocation is measured as Lambda bills it: from handing
the event to the instance (its /next returns) to its /response. GET /stats
answers `{"durations_ms": [...], "records": [...], "errors": N, "bytes": N}`
since the start (records and body bytes of each SQS event). The instances'
stderr (their JSON log lines) goes to LOG_FILE, their PIDs to PID_FILE, one
a line. The environment is passed on, plus what Lambda sets
(AWS_LAMBDA_FUNCTION_NAME, ..._MEMORY_SIZE from LAMBDA_MEMORY_MB, default
256). Ends on SIGTERM, stopping the instances. Standard library only.
"""
import http.server
import json
import os
import queue
import signal
import socketserver
import subprocess
import sys
import threading
import time
import uuid


class Invocation:
    def __init__(self, body):
        self.id = str(uuid.uuid4())
        self.body = body
        self.done = threading.Event()
        self.started = 0.0
        self.result = None  # (kind, body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port, name):
        super().__init__(("127.0.0.1", port), Handler)
        self.name = name
        self.pending = queue.Queue()
        self.running = {}
        self.lock = threading.Lock()
        self.durations, self.records, self.errors, self.bytes = [], [], 0, 0

    def handle_error(self, request, client_address):
        pass  # an instance stopped with its /next open


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
        if self.path.endswith("/runtime/invocation/next"):
            inv = srv.pending.get()
            inv.started = time.perf_counter()
            with srv.lock:
                srv.running[inv.id] = inv
            self.reply(200, inv.body, [
                ("Lambda-Runtime-Aws-Request-Id", inv.id),
                ("Lambda-Runtime-Deadline-Ms", str(int((time.time() + 30) * 1000))),
                ("Lambda-Runtime-Invoked-Function-Arn", f"arn:aws:lambda:us-east-1:000000000000:function:{srv.name}"),
                ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000"),
                ("Content-Type", "application/json"),
            ])
        elif self.path == "/stats":
            with srv.lock:
                body = json.dumps({"durations_ms": srv.durations, "records": srv.records,
                                   "errors": srv.errors, "bytes": srv.bytes}).encode()
            self.reply(200, body, [("Content-Type", "application/json")])
        else:
            self.reply(404)

    def do_POST(self):
        srv = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path.startswith("/2015-03-31/functions/"):
            inv = Invocation(body)
            srv.pending.put(inv)
            if not inv.done.wait(60):
                self.reply(504, b'{"error":"no instance answered within 60 s"}')
                return
            kind, out = inv.result
            self.reply(200 if kind == "response" else 502, out, [("Content-Type", "application/json")])
            return
        parts = self.path.rstrip("/").split("/")
        if "/runtime/invocation/" in self.path and len(parts) >= 2:
            kind, rid = parts[-1], parts[-2]
            with srv.lock:
                inv = srv.running.pop(rid, None)
                if inv is not None:
                    ms = (time.perf_counter() - inv.started) * 1000
                    srv.durations.append(round(ms, 3))
                    try:
                        recs = json.loads(inv.body).get("Records", [])
                        srv.records.append(len(recs))
                        srv.bytes += sum(len(r.get("body", "")) for r in recs)
                    except (ValueError, AttributeError):
                        srv.records.append(0)
                    srv.errors += kind != "response"
            self.reply(202, b"{}")
            if inv is not None:
                inv.result = (kind, body)
                inv.done.set()
            return
        self.reply(404)


def main():
    port, instances, binary, log_file, pid_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    name = os.path.basename(binary)
    srv = Server(port, name)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": os.environ.get("LAMBDA_MEMORY_MB", "256"),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
    })
    log = open(log_file, "ab")
    procs = [subprocess.Popen([binary], env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
             for _ in range(instances)]
    with open(pid_file, "w") as f:
        f.write("".join(f"{p.pid}\n" for p in procs))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(1):
        for p in procs:
            if p.poll() is not None:
                print(f"lambda_runtime: instance {p.pid} exited with {p.returncode}", file=sys.stderr)
                stop.set()
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()


if __name__ == "__main__":
    main()
