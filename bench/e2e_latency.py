"""202-to-SUCCESS latency from a hookline serve SQLite store (bench/run).

Usage: e2e_latency.py DB EXPECTED TIMEOUT_S. Waits until EXPECTED rows of
webhook_events are SUCCESS (or the timeout), then prints
`BENCH success=… drain_per_s=… p50_ms=… p95_ms=… p99_ms=…` of processed_at - received_at.
"""
import sqlite3, sys, time
from datetime import datetime

db, expected, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
end = time.monotonic() + timeout
while True:
    n = con.execute("SELECT count(*) FROM webhook_events WHERE status = 'SUCCESS'").fetchone()[0]
    if n >= expected or time.monotonic() > end:
        break
    time.sleep(0.2)
p = lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
rows = con.execute("SELECT received_at, processed_at FROM webhook_events WHERE status = 'SUCCESS'").fetchall()
ms = sorted((p(b) - p(a)).total_seconds() * 1000 for a, b in rows)
# Events processed per second from the first receipt to the last processing.
span = (max(p(b) for _, b in rows) - min(p(a) for a, _ in rows)).total_seconds() if rows else 0
q = lambda f: ms[min(len(ms) - 1, int(len(ms) * f))] if ms else float("nan")
print(f"BENCH success={len(ms)} drain_per_s={len(ms) / span if span else 0:.0f} p50_ms={q(0.5):.1f} p95_ms={q(0.95):.1f} p99_ms={q(0.99):.1f}")
