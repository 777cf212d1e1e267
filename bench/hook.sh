#!/usr/bin/env bash
# Benchmark of one hookline-hook invocation (not a test): wall time with the
# server up and down, beside a minimal Node.js hook doing the same
# read-stdin-and-POST, and the floors (a Rust binary that does nothing,
# `node -e ''`). Prints hyperfine's table and the release binary's size.
#
# Needs: cargo, node, hyperfine (Debian: apt-get install -y hyperfine).
# Usage: bench/hook.sh [runs]   (default 200 runs per case)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
command -v hyperfine >/dev/null || { echo "hyperfine is missing: apt-get install -y hyperfine" >&2; exit 1; }
command -v node >/dev/null || { echo "node is missing" >&2; exit 1; }

target=${CARGO_TARGET_DIR:-target}
cargo build --release -p hookline-hook --quiet
bin="$(cd "$target/release" && pwd)/hookline-hook"

work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The do-nothing floor: process start of a Rust binary.
printf 'fn main() {}\n' > "$work/noop.rs"
rustc -O -C strip=symbols -o "$work/noop" "$work/noop.rs"

# A recorded PostToolUse event (the most frequent one).
event=tests/fixtures/events/PostToolUse.json

port=$((20000 + RANDOM % 20000))
node bench/hook-server.js "$port" &
server_pid=$!
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
down_port=$((port + 1))

export HOME="$work/home" HOOKLINE_SPOOL_DIR="$work/spool" HOOKLINE_LOG_DIR="$work/log" \
  HOOKLINE_CONFIG="$work/none.toml" HOOKLINE_TOKEN=bench HOOKLINE_TIMEOUT_MS=1000
mkdir -p "$HOME"
up="HOOKLINE_URL=http://127.0.0.1:$port"
down="HOOKLINE_URL=http://127.0.0.1:$down_port"

hyperfine --warmup 10 --runs "$runs" --export-markdown "$work/table.md" \
  --prepare "rm -rf $work/spool/pending $work/spool/state/breaker.json" \
  -n "floor: rust no-op" "$work/noop < $event" \
  -n "floor: node -e ''" "node -e '' < $event" \
  -n "hookline-hook, server up" "env $up $bin < $event" \
  -n "node hook, server up" "env $up node bench/hook-node.js < $event" \
  -n "hookline-hook, server down (refused, breaker closed)" "env $down $bin < $event" \
  -n "node hook, server down (refused)" "env $down node bench/hook-node.js < $event" \
  -n "hookline-hook, deadline 0 (spool only)" "env $up HOOKLINE_TIMEOUT_MS=0 $bin < $event"

# Breaker open (the steady state of a dead server): no --prepare, so the
# breaker tripped by the first run stays open and the spool grows.
rm -rf "$work/spool"
hyperfine --warmup 5 --runs "$runs" --export-markdown "$work/table-open.md" \
  -n "hookline-hook, server down (breaker open)" "env $down $bin < $event"

echo
cat "$work/table.md"
tail -n +3 "$work/table-open.md"
echo
echo "release binary: $bin, $(stat -c %s "$bin") bytes ($(( $(stat -c %s "$bin") / 1024 )) KiB)"
echo "pending after the breaker-open runs: $(ls "$work/spool/pending" | wc -l) entries (all kept)"
