#!/usr/bin/env bash
# Scale (issue 22; docs/performance.md, "Scale"): a year of generated
# history per size, written through the worker (bench/scale.rs, cargo bench
# -p hookline-conformance --bench scale), then on each kept SQLite file
# `hookline serve`: the dashboard's pages timed over HTTP (p50/p95 of
# BENCH_SCALE_RUNS GETs) and serve's resident memory (VmRSS, and VmHWM
# after the GETs). Prints the lines of bench/scale.rs and
#   scale<TAB>SIZE<TAB>serve<TAB>FIGURE<TAB>VALUE<TAB>UNIT
# then a table: each figure at each size, side by side.
#
#   bench/scale.sh [HOOKLINE_BINARY]          (default target/release/hookline)
#   BENCH_SCALE_SIZES=100000,1000000 bench/scale.sh
#
# BENCH_SCALE_SIZES (100000), BENCH_SCALE_SEED (1), BENCH_SCALE_STORES
# ("postgres sqlite"). Needs Postgres (DATABASE_URL, default
# postgres://postgres@127.0.0.1:5432/postgres: a database per size is
# created and dropped), curl. Disk: about 20 KB per event on SQLite while
# it runs (files removed on exit).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/hookline}
[[ -x $bin ]] || { echo "scale.sh: $bin missing (cargo build --release -p hookline-cli)" >&2; exit 1; }
runs=${BENCH_SCALE_RUNS:-15}
work=$(mktemp -d)
serve_pid=""
trap '[[ -n $serve_pid ]] && kill "$serve_pid" 2>/dev/null; rm -rf "$work"' EXIT
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} SQLX_OFFLINE=true

HOOKLINE_SCALE_SIZES=${BENCH_SCALE_SIZES:-100000} HOOKLINE_SCALE_SEED=${BENCH_SCALE_SEED:-1} \
  HOOKLINE_BENCH_STORES=${BENCH_SCALE_STORES:-postgres sqlite} HOOKLINE_SCALE_KEEP=$work/keep \
  cargo bench --quiet -p hookline-conformance --bench scale | tee "$work/out.txt"

# p50 and p95 in ms of $runs GETs of URL (after one warm-up).
get_ms() {
  curl -fsS -o /dev/null "$1" || { echo "scale.sh: GET $1 failed" >&2; return 1; }
  for _ in $(seq "$runs"); do curl -fsS -o /dev/null -w '%{time_total}\n' "$1"; done |
    sort -n | awk '{ a[NR] = $1 * 1000 } END { i = int(NR * 0.5 + 0.5); j = int(NR * 0.95 + 0.99);
      if (i < 1) i = 1; if (j > NR) j = NR; printf "%.2f %.2f\n", a[i], a[j] }'
}
while IFS=$'\t' read -r _ size longest dir; do
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  HOOKLINE_DATA_DIR=$dir HOOKLINE_TOKENS="bench:$(printf x | sha256sum | cut -d' ' -f1)" RUST_LOG=warn \
    "$bin" serve --listen "127.0.0.1:$port" >"$work/serve-$size.log" 2>&1 &
  serve_pid=$!
  url=http://127.0.0.1:$port
  for _ in $(seq 100); do curl -fsS -o /dev/null "$url/health" 2>/dev/null && break; sleep 0.1; done
  kib() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$serve_pid/status"; }
  put() { printf 'scale\t%s\tserve\t%s\t%s\t%s\n' "$size" "$1" "$2" "$3"; }
  put "serve RSS, started on the history" "$(awk -v k="$(kib VmRSS)" 'BEGIN { printf "%.1f", k / 1024 }')" MiB
  for page in "sessions:/ui/sessions" "session (longest):/ui/sessions/$longest" "usage:/ui/usage" \
    "search (deploy):/ui/search?q=deploy" "search (w4999):/ui/search?q=w4999"; do
    read -r p50 p95 < <(get_ms "$url${page#*:}")
    put "read p50: dashboard GET ${page%%:*}" "$p50" ms
    put "read p95: dashboard GET ${page%%:*}" "$p95" ms
  done
  put "serve peak RSS (VmHWM) after the GETs" "$(awk -v k="$(kib VmHWM)" 'BEGIN { printf "%.1f", k / 1024 }')" MiB
  kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=""
  rm -rf "$dir"
done < <(awk -F'\t' '$1 == "scale_kept"' "$work/out.txt") | tee -a "$work/out.txt"

# Side by side: one row per (store, figure), one column per size.
echo
python3 - "$work/out.txt" <<'PY'
import sys
rows, sizes = {}, []
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if f[0] not in ("scale", "scale_table"):
        continue
    size = int(f[1])
    if size not in sizes:
        sizes.append(size)
    value = f[4] + ("" if f[0] == "scale_table" else " " + f[5])
    rows.setdefault((f[2], f[3]), {})[size] = (value, f[4])
sizes.sort()
print("| store | figure | " + " | ".join(f"{s:,} events" for s in sizes) + (" | growth |" if len(sizes) > 1 else ""))
print("| --- | --- |" + " ---: |" * len(sizes) + (" ---: |" if len(sizes) > 1 else ""))
for (store, fig), by in rows.items():
    cells = [by.get(s, ("-", ""))[0] for s in sizes]
    growth = ""
    if len(sizes) > 1:
        try:
            growth = " %.2f |" % (float(by[sizes[-1]][1]) / float(by[sizes[0]][1]))
        except (KeyError, ValueError, ZeroDivisionError):
            growth = " - |"
    print(f"| {store} | {fig} | " + " | ".join(cells) + " |" + growth)
PY
