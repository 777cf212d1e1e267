#!/usr/bin/env python3
"""The AWS path at volume (issue 22 item 4; `bench/run volume` starts
everything and calls this): POSTs spotter-shaped hook events to the ingest
function at a steady RATE for SECONDS over CONNECTIONS keep-alive
connections, samples the pipeline every INTERVAL seconds while it runs and
while the worker drains, then checks that nothing was lost and prints
per-interval tables, per-invocation durations, the CPU of each process and
the cost per million events on AWS computed from those durations.

  bench/volume.py URL TOKEN BODIES_FILE RATE SECONDS
  bench/volume.py --self-check       the cost arithmetic against a worked example

BODIES_FILE: one JSON body a line with the placeholders @@RID@@ (replaced by
a request id vol-RUN-N) and @@CAT@@ (the time of sending, as
hookline.captured_at); bench/volume_bodies.rs writes it. After the last
body the file is reused with the session ids changed, so no body repeats.

Environment (bench/run sets all of them):
  VOLUME_CONNECTIONS   concurrent connections (default 128): the most
                       requests in flight, like the ingest's concurrency
  VOLUME_INTERVAL      seconds per row of the tables (default 60)
  VOLUME_SESSIONS      sessions sending at once (default 50): their events interleaved
  VOLUME_DRAIN_SECONDS how long the worker may drain after the load (default 300)
  VOLUME_QUEUE_URL, VOLUME_DLQ_URL   the queue and its dead-letter queue
  VOLUME_DATABASE_URL  the worker's database (read with psql)
  VOLUME_RUNTIME_URL   bench/lambda_runtime.py of the worker (its /stats)
  VOLUME_PIDS          name=pid[,pid...];... of the processes whose CPU is
                       measured (children included), e.g.
                       localstack=1;ingest=2;worker=3,4;poller=5;runtime=6
  VOLUME_POLLER_PID    the event-source poller, stopped (SIGINT) before the final count
  VOLUME_INGEST_LOG, VOLUME_WORKER_LOG   the functions' log files (log bytes per event)
  VOLUME_INGEST_MB, VOLUME_WORKER_MB, VOLUME_ARCH, VOLUME_BATCH,
  VOLUME_CONCURRENCY   the template's MemorySize, architecture, BatchSize and
                       MaximumConcurrency (infra/template.yaml defaults)
Needs boto3 (the LocalStack venv's Python) and psql.
"""
import asyncio
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from datetime import datetime, timezone

# --------------------------------------------------------------- prices
# Public AWS prices, us-east-1, as read on 2026-12-03 from the pricing pages
# named; change them here only (docs/performance.md quotes this output).
PRICES = {
    "date": "2026-12-03",
    "region": "us-east-1",
    # aws.amazon.com/lambda/pricing: requests, and compute per GB-second.
    "lambda_per_request": 0.20 / 1e6,
    "lambda_gb_s": {"x86_64": 0.0000166667, "arm64": 0.0000133334},
    # aws.amazon.com/sqs/pricing: standard queue, per request; every 64 KB
    # chunk of a request's payload is billed as one request.
    "sqs_per_request": 0.40 / 1e6,
    "sqs_chunk_bytes": 64 * 1024,
    # aws.amazon.com/rds/postgresql/pricing: single-AZ on-demand, gp3 storage.
    "rds_instance_per_h": {"db.t4g.micro": 0.016, "db.t4g.small": 0.032},
    "rds_gp3_gb_month": 0.115,
    # aws.amazon.com/cloudwatch/pricing: Logs, standard ingestion per GB.
    "logs_ingest_gb": 0.50,
    # Function URLs: no charge beyond the function's requests and duration
    # (aws.amazon.com/lambda/pricing).
}
# Bytes on disk per event on Postgres (docs/performance.md, Scale: 20,910 B
# per event at 10,000 events).
PG_BYTES_PER_EVENT = 20910
# What Lambda adds to the log group per invocation with LogFormat JSON and
# SystemLogLevel INFO: platform.start and platform.report records (an
# estimate of their size, not measured here).
PLATFORM_LOG_BYTES = 600
HOURS_PER_MONTH = 730


def cost_per_million(m):
    """Cost of 1,000,000 events from measured figures `m`:
    ingest_ms (mean billed ms per ingest invocation), worker_ms (per worker
    invocation), per_batch (events per worker invocation), msg_bytes (mean
    SQS message body), ingest_mb, worker_mb, arch, log_bytes (application
    log bytes per event, both functions), rate (events/s the worker
    sustained). Returns rows (item, quantity, unit, unit price, USD) and the
    per-million total (Lambda + SQS + logs; RDS instance time at the measured
    rate and a month's storage listed apart)."""
    p, n = PRICES, 1e6
    gb_s = p["lambda_gb_s"][m["arch"]]
    inv_w = n / m["per_batch"]
    chunks = lambda b: max(1, math.ceil(b / p["sqs_chunk_bytes"]))
    send = n * chunks(m["msg_bytes"])
    receive = inv_w * chunks(m["msg_bytes"] * m["per_batch"])
    delete = inv_w  # one DeleteMessageBatch per batch
    logs_gb = n * (m["log_bytes"] + PLATFORM_LOG_BYTES * (1 + 1 / m["per_batch"])) / 1e9
    rows = [
        ("Lambda ingest requests", n, "requests", p["lambda_per_request"]),
        ("Lambda ingest compute", n * m["ingest_ms"] / 1000 * m["ingest_mb"] / 1024, "GB-s", gb_s),
        ("Lambda worker requests", inv_w, "requests", p["lambda_per_request"]),
        ("Lambda worker compute", inv_w * m["worker_ms"] / 1000 * m["worker_mb"] / 1024, "GB-s", gb_s),
        ("SQS SendMessage", send, "requests", p["sqs_per_request"]),
        ("SQS ReceiveMessage (event source)", receive, "requests", p["sqs_per_request"]),
        ("SQS DeleteMessageBatch (event source)", delete, "requests", p["sqs_per_request"]),
        ("CloudWatch Logs ingestion", logs_gb, "GB", p["logs_ingest_gb"]),
    ]
    rows = [(what, q, unit, price, q * price) for what, q, unit, price in rows]
    total = sum(r[4] for r in rows)
    hours = n / m["rate"] / 3600 if m["rate"] > 0 else float("nan")
    extra = [
        (f"RDS db.t4g.micro time to write them at {m['rate']:.0f}/s", hours, "hours",
         p["rds_instance_per_h"]["db.t4g.micro"]),
        (f"RDS db.t4g.small time to write them at {m['rate']:.0f}/s", hours, "hours",
         p["rds_instance_per_h"]["db.t4g.small"]),
        ("RDS gp3 storage, per month kept", n * PG_BYTES_PER_EVENT / 1e9, "GB-month", p["rds_gp3_gb_month"]),
    ]
    extra = [(what, q, unit, price, q * price) for what, q, unit, price in extra]
    return rows, total, extra


def print_cost(m):
    rows, total, extra = cost_per_million(m)
    print(f"\nCost per 1,000,000 events on AWS ({PRICES['region']}, prices of {PRICES['date']}; "
          f"{m['arch']}, ingest {m['ingest_mb']} MB {m['ingest_ms']:.2f} ms/invocation, "
          f"worker {m['worker_mb']} MB {m['worker_ms']:.2f} ms/invocation of {m['per_batch']:.2f} events, "
          f"SQS message {m['msg_bytes']:.0f} B, logs {m['log_bytes']:.0f} B/event + {PLATFORM_LOG_BYTES} B/invocation)\n")
    print("| item | quantity | unit | unit price (USD) | USD |")
    print("| --- | ---: | --- | ---: | ---: |")
    for what, q, unit, price, usd in rows:
        print(f"| {what} | {q:,.1f} | {unit} | {price:.10g} | {usd:.4f} |")
    print(f"| **per million events (Lambda + SQS + logs)** | | | | **{total:.4f}** |")
    for what, q, unit, price, usd in extra:
        print(f"| {what} | {q:,.2f} | {unit} | {price:.10g} | {usd:.4f} |")
    print(f"\nFixed, whatever the volume: RDS db.t4g.micro {PRICES['rds_instance_per_h']['db.t4g.micro'] * HOURS_PER_MONTH:.2f} USD/month "
          f"(db.t4g.small {PRICES['rds_instance_per_h']['db.t4g.small'] * HOURS_PER_MONTH:.2f}), {HOURS_PER_MONTH} h.")
    print(f"COST per_million_usd={total:.4f}")
    return total


def self_check():
    """The arithmetic on round inputs, worked by hand: 1M ingest requests at
    10 ms and 256 MB on arm64 = 2,500 GB-s = 0.0333 USD + 0.20; 100,000 worker
    invocations at 100 ms = 2,500 GB-s = 0.0333 + 0.02; SQS 1M sends + 100k
    receives + 100k deletes = 0.48; logs 1M x (400 + 660) B = 1.06 GB = 0.53."""
    m = dict(ingest_ms=10, worker_ms=100, per_batch=10, msg_bytes=6000, ingest_mb=256,
             worker_mb=256, arch="arm64", log_bytes=400, rate=100)
    rows, total, extra = cost_per_million(m)
    got = {r[0]: round(r[4], 4) for r in rows}
    want = {"Lambda ingest requests": 0.2, "Lambda ingest compute": 0.0333,
            "Lambda worker requests": 0.02, "Lambda worker compute": 0.0333,
            "SQS SendMessage": 0.4, "SQS ReceiveMessage (event source)": 0.04,
            "SQS DeleteMessageBatch (event source)": 0.04, "CloudWatch Logs ingestion": 0.53}
    assert got == want, got
    assert abs(total - 1.2967) < 1e-3, total
    # 1M events at 100/s = 2.78 h of db.t4g.micro; 20.91 GB of gp3 a month.
    assert abs(extra[0][4] - 0.0444) < 1e-3 and abs(extra[2][4] - 2.4047) < 1e-3, extra
    print("volume.py self-check: cost arithmetic ok")


# --------------------------------------------------------------- helpers
def q(xs, f):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * f))] if xs else float("nan")


def psql(url, sql):
    out = subprocess.run(["psql", url, "-At", "-F", "\t", "-c", sql], check=True, capture_output=True, text=True)
    return [line.split("\t") for line in out.stdout.splitlines() if line]


CLK = os.sysconf("SC_CLK_TCK")


def proc_table():
    """pid -> (ppid, comm, utime + stime ticks) of every process."""
    t = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            s = open(f"/proc/{d}/stat").read()
        except OSError:
            continue
        comm = s[s.index("(") + 1:s.rindex(")")]
        f = s[s.rindex(")") + 2:].split()
        t[int(d)] = (int(f[1]), comm, int(f[11]) + int(f[12]))
    return t


def tree_ticks(table, roots):
    """pid -> ticks of `roots` and all their descendants."""
    kids = {}
    for pid, (ppid, _, _) in table.items():
        kids.setdefault(ppid, []).append(pid)
    out, todo = {}, list(roots)
    while todo:
        p = todo.pop()
        if p in table and p not in out:
            out[p] = table[p][2]
            todo.extend(kids.get(p, []))
    return out


def machine_ticks():
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return sum(f), f[3] + f[4]  # total, idle + iowait


class Sampler:
    """Every INTERVAL: queue depths, rows, CPU per process group, machine."""

    def __init__(self, env, run):
        import boto3

        self.sqs = boto3.client("sqs", endpoint_url=os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
                                region_name=os.environ.get("AWS_REGION", "us-east-1"),
                                aws_access_key_id="test", aws_secret_access_key="test")
        self.env, self.run = env, run
        self.db = env["VOLUME_DATABASE_URL"]
        self.dbname = urllib.parse.urlsplit(self.db).path.lstrip("/")
        self.groups = {}
        for part in filter(None, env.get("VOLUME_PIDS", "").split(";")):
            name, pids = part.split("=", 1)
            self.groups[name] = [int(p) for p in pids.split(",") if p]
        self.samples = []

    def depth(self, url):
        a = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])

    def rows(self):
        return int(psql(self.db, f"SELECT count(*) FROM webhook_events WHERE request_id LIKE 'vol-{self.run}-%'")[0][0])

    def runtime_stats(self):
        url = self.env.get("VOLUME_RUNTIME_URL")
        if not url:
            return {"durations_ms": [], "records": [], "errors": 0, "bytes": 0}
        with urllib.request.urlopen(url + "/stats", timeout=10) as r:
            return json.load(r)

    def sample(self):
        table = proc_table()
        cpu = {name: tree_ticks(table, pids) for name, pids in self.groups.items()}
        backends = [int(r[0]) for r in psql(self.db, f"SELECT pid FROM pg_stat_activity WHERE datname = '{self.dbname}'")]
        cpu["postgres (this database)"] = {p: table[p][2] for p in backends if p in table}
        cpu["postgres (all, other helpers too)"] = {p: v[2] for p, v in table.items() if v[1] == "postgres"}
        cpu["driver (this script)"] = {os.getpid(): table.get(os.getpid(), (0, "", 0))[2]}
        s = {
            "t": time.monotonic(), "cpu": cpu, "machine": machine_ticks(),
            "load": open("/proc/loadavg").read().split()[0],
            "queue": self.depth(self.env["VOLUME_QUEUE_URL"]), "dlq": self.depth(self.env["VOLUME_DLQ_URL"]),
            "rows": self.rows(), "runtime": self.runtime_stats(),
        }
        self.samples.append(s)
        return s


def cpu_pct(a, b, dt):
    """% of one core used between samples a and b (pid -> ticks), per group."""
    out = {}
    for name, now in b["cpu"].items():
        was = a["cpu"].get(name, {})
        ticks = sum(v - was.get(p, 0) for p, v in now.items())
        out[name] = 100 * ticks / CLK / dt
    return out


# --------------------------------------------------------------- load
class Load:
    def __init__(self, url, token, bodies, rate, secs, conns, interval, run):
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = u.hostname, u.port or 80, u.path or "/"
        self.head = (f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                     f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                     "Content-Length: %d\r\n\r\n")
        self.bodies, self.rate, self.secs, self.conns = bodies, rate, secs, conns
        self.interval, self.run = interval, run
        self.next = 0
        self.buckets = {}  # interval index -> dict
        self.lat_all = []
        self.accepted = 0
        self.body_bytes = 0
        self.statuses = {}  # HTTP status (or "socket") -> count

    def body(self, i):
        raw, sid = self.bodies[i % len(self.bodies)]
        cycle = i // len(self.bodies)
        if cycle and sid:
            raw = raw.replace(sid, sid[:-4] + b"%04x" % (cycle % 0x10000))
        cat = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ").encode()
        return raw.replace(b"@@RID@@", b"vol-%s-%d" % (self.run.encode(), i)).replace(b"@@CAT@@", cat)

    def bucket(self, t):
        k = int(t // self.interval)
        b = self.buckets.get(k)
        if b is None:
            b = self.buckets[k] = {"sent": 0, "accepted": 0, "errors": 0, "lat": []}
        return b

    async def client(self):
        reader = writer = None
        while True:
            now = time.monotonic()
            if now >= self.end:
                break
            i = self.next
            self.next += 1
            due = self.start + i / self.rate
            if due >= self.end:
                break
            if due > now:
                await asyncio.sleep(due - now)
            body = self.body(i)
            req = (self.head % len(body)).encode() + body
            t = time.monotonic()
            b = self.bucket(t - self.start)
            b["sent"] += 1
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(self.host, self.port)
                writer.write(req)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                n = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        n = int(line[15:])
                await reader.readexactly(n)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                b["errors"] += 1
                self.statuses["socket"] = self.statuses.get("socket", 0) + 1
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            ms = (time.monotonic() - t) * 1000
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 202:
                b["accepted"] += 1
                b["lat"].append(ms)
                self.lat_all.append(ms)
                self.accepted += 1
                self.body_bytes += len(body)
            else:
                b["errors"] += 1
        if writer is not None:
            writer.close()

    async def main(self):
        self.start = time.monotonic()
        self.end = self.start + self.secs
        await asyncio.gather(*(self.client() for _ in range(self.conns)))
        self.elapsed = time.monotonic() - self.start


def load_bodies(path):
    out = []
    with open(path, "rb") as f:
        for line in f:
            line = line.rstrip(b"\n")
            if not line:
                continue
            sid = json.loads(line).get("session_id") or ""
            out.append((line, sid.encode() if len(sid) >= 8 else b""))
    if not out:
        raise SystemExit(f"volume.py: no bodies in {path}")
    return interleave(out, int(os.environ.get("VOLUME_SESSIONS", "50")))


def interleave(bodies, k):
    """Bodies in the order K users' sessions would send them at once: the
    file holds each session's events back to back; taken K sessions at a
    time, one event of each in turn (each session keeps its own order).
    K = 1 keeps the file's order (every batch then holds one session)."""
    sessions, order = {}, []
    for b in bodies:
        if b[1] not in sessions:
            sessions[b[1]] = []
            order.append(b[1])
        sessions[b[1]].append(b)
    out = []
    for g in range(0, len(order), max(1, k)):
        group = [sessions[sid] for sid in order[g:g + max(1, k)]]
        for i in range(max(len(x) for x in group)):
            out.extend(x[i] for x in group if i < len(x))
    return out


def log_size(path):
    try:
        return os.path.getsize(path) if path else 0
    except OSError:
        return 0


# --------------------------------------------------------------- main
def main():
    if sys.argv[1:] == ["--self-check"]:
        self_check()
        return
    url, token, bodies_file, rate, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
    env = os.environ
    conns = int(env.get("VOLUME_CONNECTIONS", "128"))
    interval = float(env.get("VOLUME_INTERVAL", "60"))
    drain = float(env.get("VOLUME_DRAIN_SECONDS", "300"))
    run = f"{os.getpid():x}{int(time.time()) % 100000:05d}"
    bodies = load_bodies(bodies_file)
    log = lambda *a: print("volume:", *a, file=sys.stderr, flush=True)
    log(f"{len(bodies)} bodies, {sum(len(b) for b, _ in bodies) / len(bodies):.0f} B mean; "
        f"{rate:.0f}/s for {secs:.0f}s over {conns} connections; run id vol-{run}")
    sampler = Sampler(env, run)
    ingest_log0, worker_log0 = log_size(env.get("VOLUME_INGEST_LOG")), log_size(env.get("VOLUME_WORKER_LOG"))
    load = Load(url, token, bodies, rate, secs, conns, interval, run)
    stop = threading.Event()
    wall0 = time.time()
    sampler.sample()
    t0 = time.monotonic()

    def sampling():
        k = 1
        while True:
            if stop.wait(max(0, t0 + k * interval - time.monotonic())):
                return
            s = sampler.sample()
            prev = sampler.samples[-2]
            log(f"t={s['t'] - t0:.0f}s sent={load.next} accepted={load.accepted} queue={s['queue'][0]}+{s['queue'][1]} "
                f"dlq={s['dlq'][0]} rows={s['rows']} load={s['load']} "
                f"rows/s={(s['rows'] - prev['rows']) / (s['t'] - prev['t']):.0f}")
            k += 1

    th = threading.Thread(target=sampling, daemon=True)
    th.start()
    asyncio.run(load.main())
    load_end = time.monotonic()
    log(f"load done: {load.next} sent, {load.accepted} accepted in {load.elapsed:.1f}s; draining (at most {drain:.0f}s)")
    # Drain: until every accepted event has its row (or is in the DLQ).
    while time.monotonic() - load_end < drain:
        last = sampler.samples[-1]
        if last["t"] > load_end and last["rows"] + last["dlq"][0] >= load.accepted:
            break
        time.sleep(5)
        if sampler.rows() >= load.accepted:
            break
    stop.set()
    th.join()
    sampler.sample()  # the last, partial interval
    drained = time.monotonic()
    # The event source stops (a batch in progress is finished) before the count.
    poller = int(env.get("VOLUME_POLLER_PID", "0"))
    if poller:
        try:
            os.kill(poller, signal.SIGINT)
            for _ in range(300):
                if not os.path.exists(f"/proc/{poller}") or open(f"/proc/{poller}/stat").read().split(") ")[1][0] == "Z":
                    break
                time.sleep(0.1)
        except OSError:
            pass
    report(sampler, load, env, run, t0, wall0, load_end, drained, ingest_log0, worker_log0)


def report(sampler, load, env, run, t0, wall0, load_end, drained, ingest_log0, worker_log0):
    S = sampler.samples
    interval = load.interval
    db = sampler.db
    status = dict((r[0], int(r[1])) for r in psql(db, f"SELECT status, count(*) FROM webhook_events "
                                                      f"WHERE request_id LIKE 'vol-{run}-%' GROUP BY status"))
    rows = sum(status.values())
    vis, inflight = sampler.depth(env["VOLUME_QUEUE_URL"])
    dlq = sum(sampler.depth(env["VOLUME_DLQ_URL"]))
    lost = load.accepted - rows - vis - inflight - dlq
    # End-to-end: captured_at (set by this script when sending) -> processed_at.
    e2e = {}
    for k, n, p50, p95 in psql(db, f"""
        SELECT floor(extract(epoch FROM processed_at - to_timestamp({wall0})) / {interval})::int, count(*),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - coalesce(captured_at, received_at))),
               percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - coalesce(captured_at, received_at)))
        FROM webhook_events WHERE request_id LIKE 'vol-{run}-%' AND processed_at IS NOT NULL GROUP BY 1 ORDER BY 1"""):
        e2e[int(k)] = (int(n), float(p50), float(p95))
    all_lag = psql(db, f"""SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x), percentile_cont(0.95) WITHIN GROUP (ORDER BY x)
        FROM (SELECT extract(epoch FROM processed_at - coalesce(captured_at, received_at)) x FROM webhook_events
              WHERE request_id LIKE 'vol-{run}-%' AND processed_at IS NOT NULL) s""")[0]

    print(f"\nhookline bench/run volume, {datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ}, {os.cpu_count()} cores; "
          f"offered {load.rate:.0f}/s for {load.secs:.0f}s over {load.conns} connections; "
          f"worker: {env.get('VOLUME_CONCURRENCY', '?')} instances, batch {env.get('VOLUME_BATCH', '?')}; rows every {interval:.0f}s\n")
    print(f"| from s | sent/s (target {load.rate:.0f}) | accepted/s | 202 p50 ms | 202 p95 ms | errors | queue depth (visible + in flight) | DLQ | rows/s into Postgres | lag p50 s | lag p95 s | worker invocation p50 ms | load avg 1 min |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    cpu_rows = []
    for j in range(1, len(S)):
        a, b = S[j - 1], S[j]
        dt = b["t"] - a["t"]
        k = j - 1
        start_s = max(0.0, a["t"] - t0)
        bk = load.buckets.get(k, {"sent": 0, "accepted": 0, "errors": 0, "lat": []})
        ra, rb = a["runtime"], b["runtime"]
        durs = rb["durations_ms"][len(ra["durations_ms"]):]
        n, p50, p95 = e2e.get(k, (0, float("nan"), float("nan")))
        phase = "" if a["t"] < load_end else " (drain)"
        print(f"| {start_s:.0f}{phase} | {bk['sent'] / dt:.0f} | {bk['accepted'] / dt:.0f} | {q(bk['lat'], 0.5):.1f} | {q(bk['lat'], 0.95):.1f} | "
              f"{bk['errors']} | {b['queue'][0]} + {b['queue'][1]} | {b['dlq'][0]} | {(b['rows'] - a['rows']) / dt:.0f} | "
              f"{p50:.2f} | {p95:.2f} | {q(durs, 0.5):.1f} | {b['load']} |")
        cpu = cpu_pct(a, b, dt)
        mt = (b["machine"][0] - a["machine"][0]) or 1
        busy = 100 * (1 - (b["machine"][1] - a["machine"][1]) / mt) * (os.cpu_count() or 1)
        cpu_rows.append((start_s, phase, cpu, busy))
    names = list(cpu_rows[0][2]) if cpu_rows else []
    print(f"\nCPU, % of one core ({os.cpu_count()} cores = {100 * (os.cpu_count() or 1)} %), per interval\n")
    print("| from s | " + " | ".join(names) + " | machine busy |")
    print("| ---: |" + " ---: |" * (len(names) + 1))
    for start_s, phase, cpu, busy in cpu_rows:
        print(f"| {start_s:.0f}{phase} | " + " | ".join(f"{cpu[n]:.0f}" for n in names) + f" | {busy:.0f} |")

    rt = S[-1]["runtime"]
    durs, recs = rt["durations_ms"], rt["records"]
    events = sum(recs)
    per_batch = events / len(recs) if recs else float("nan")
    ingest_log = log_size(env.get("VOLUME_INGEST_LOG")) - ingest_log0
    worker_log = log_size(env.get("VOLUME_WORKER_LOG")) - worker_log0
    load_secs = load_end - t0
    in_load = [s for s in S if s["t"] <= load_end + 1]
    sustained_rows = (in_load[-1]["rows"] - in_load[0]["rows"]) / (in_load[-1]["t"] - in_load[0]["t"]) if len(in_load) > 1 else 0
    whole_rows = rows / (drained - t0)
    print("\nTotals")
    print(f"- sent {load.next}, accepted (202) {load.accepted} = {load.accepted / load_secs:.1f}/s over {load_secs:.0f}s "
          f"(offered {load.rate:.0f}/s); not accepted {load.next - load.accepted}; answers: "
          + ", ".join(f"{k} {v}" for k, v in sorted(load.statuses.items(), key=str)))
    print(f"- rows in webhook_events {rows} ({', '.join(f'{k} {v}' for k, v in sorted(status.items()))}); "
          f"still in the queue {vis} + {inflight} in flight; DLQ {dlq}")
    verdict = ("nothing lost: every accepted event has its row" if rows == load.accepted else
               "nothing lost: every accepted event has its row or is still queued" if lost == 0 else
               f"nothing lost: {-lost} messages more than 202s (requests answered otherwise whose message was "
               "enqueued all the same: at least once)" if lost < 0 else
               f"LOST {lost} accepted events (no row, not queued, not in the DLQ)")
    print(f"- {verdict}")
    print(f"- worker rows/s into Postgres: {sustained_rows:.1f}/s during the load, {whole_rows:.1f}/s from start to drained")
    print(f"- end-to-end lag (captured -> row) over all rows: p50 {float(all_lag[0] or 'nan'):.2f} s, p95 {float(all_lag[1] or 'nan'):.2f} s")
    print(f"- ingest invocation (202 latency, loopback): p50 {q(load.lat_all, 0.5):.2f} ms, p95 {q(load.lat_all, 0.95):.2f} ms, "
          f"mean {sum(load.lat_all) / max(1, len(load.lat_all)):.2f} ms; body {load.body_bytes / max(1, load.accepted):.0f} B mean")
    print(f"- worker invocation (Runtime API, /next to /response): {len(durs)} invocations, p50 {q(durs, 0.5):.1f} ms, "
          f"p95 {q(durs, 0.95):.1f} ms, mean {sum(durs) / max(1, len(durs)):.1f} ms; {per_batch:.2f} events each, "
          f"{sum(durs) / max(1, events):.2f} ms per event; {rt['errors']} failed invocations; "
          f"SQS message {rt['bytes'] / max(1, events):.0f} B mean")
    print(f"- log bytes: ingest {ingest_log / max(1, load.accepted):.0f} B per request, worker {worker_log / max(1, events):.0f} B per event")
    if len(S) > 1:
        tot = cpu_pct(S[0], in_load[-1] if len(in_load) > 1 else S[-1], (in_load[-1]["t"] if len(in_load) > 1 else S[-1]["t"]) - S[0]["t"])
        print("- CPU during the load, % of one core: " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(tot.items(), key=lambda kv: -kv[1])))
    print(f"METRIC accepted_per_s={load.accepted / load_secs:.1f} rows_per_s={sustained_rows:.1f} lost={lost} "
          f"ingest_p50_ms={q(load.lat_all, 0.5):.2f} worker_p50_ms={q(durs, 0.5):.1f}")
    ceil_mean = lambda xs: sum(math.ceil(x) for x in xs) / len(xs) if xs else float("nan")
    print_cost(dict(
        ingest_ms=ceil_mean(load.lat_all), worker_ms=ceil_mean(durs), per_batch=per_batch,
        msg_bytes=rt["bytes"] / max(1, events),
        ingest_mb=int(env.get("VOLUME_INGEST_MB", "256")), worker_mb=int(env.get("VOLUME_WORKER_MB", "256")),
        arch=env.get("VOLUME_ARCH", "arm64"),
        log_bytes=ingest_log / max(1, load.accepted) + worker_log / max(1, events),
        rate=sustained_rows))


if __name__ == "__main__":
    main()
