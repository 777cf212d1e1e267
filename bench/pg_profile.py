#!/usr/bin/env python3
"""Statement profile of one Postgres database from the server's log (issue 22,
docs/performance.md "Write path at scale"): every statement's time, summed
by statement, from `log_min_duration_statement = 0` lines. pg_stat_statements
needs shared_preload_libraries (a server restart); this needs only the
session settings, given in the client's URL, e.g.

  DATABASE_URL='postgres://postgres@127.0.0.1:5432/postgres?options=-c%20log_min_duration_statement%3D0%20-c%20log_parameter_max_length%3D0' \\
    HOOKLINE_SCALE_LIVE_DB=NAME cargo bench -p hookline-conformance --bench scale
  bench/pg_profile.py /var/log/postgresql/postgresql-15-main.log NAME 2000

usage: pg_profile.py LOG DATABASE [EVENTS]   (EVENTS: print ms per event)
"""
import collections
import re
import sys

log, db = sys.argv[1], sys.argv[2]
events = float(sys.argv[3]) if len(sys.argv) > 3 else None
line_re = re.compile(r"@(\S+) LOG:  duration: ([0-9.]+) ms  (parse|bind|execute|statement)[^:]*: ?(.*)")
total = collections.defaultdict(lambda: [0, 0.0])
lines = open(log, errors="replace").read().split("\n")
i = 0
while i < len(lines):
    m = line_re.search(lines[i])
    i += 1
    if not m or m.group(1) != db:
        continue
    sql = [m.group(4)]
    while i < len(lines) and lines[i].startswith("\t"):
        sql.append(lines[i])
        i += 1
    kind = "simple" if m.group(3) == "statement" else m.group(3)
    t = total[kind + ": " + " ".join(" ".join(sql).split())[:110]]
    t[0] += 1
    t[1] += float(m.group(2))
all_ms = sum(v[1] for v in total.values())
per = f", {all_ms / events:.2f} ms/event" if events else ""
print(f"total {all_ms:.0f} ms in {sum(v[0] for v in total.values())} log entries (parse, bind, execute){per}")
for key, (n, ms) in sorted(total.items(), key=lambda kv: -kv[1][1])[:30]:
    print(f"{ms:9.0f} ms {100 * ms / all_ms:5.1f}% {n:7d} x {ms / n:7.3f} ms  {key}")
