#!/usr/bin/env bash
# `hookline usage monthly` over 1,000,000 assistant messages on SQLite and
# on Postgres (issue 19; docs/usage.md): 2,000 sessions of 500 messages
# over 30 days (4 users, 10 projects, Opus and Sonnet, one message in ten a
# subagent's, a third with one tool call and a third with two), inserted
# with SQL, then both rollups built by the statements `refresh` runs (the
# migrations' backfills, the same SQL). Times the whole command (process
# start, open, read the rollup, price, print) and prints per store
#   rollup<TAB>STORE<TAB>USAGE_HOURLY_SECONDS<TAB>USAGE_TOOL_HOURLY_SECONDS
#   usage<TAB>STORE<TAB>SECONDS<TAB>ROLLUP_ROWS
#   usage-by-tool<TAB>STORE<TAB>SECONDS        (`--by tool`)
#   bench/usage.sh [HOOKLINE_BINARY]    (default target/release/hookline,
#   else target/debug/hookline). Needs Postgres (PGHOST/PGUSER, default
#   127.0.0.1 postgres), sqlite3 or python3. HOOKLINE_BENCH_EXPLAIN=1 also
#   prints the plan of the report's read on Postgres (stderr).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
[[ -n $bin ]] || { [[ -x target/release/hookline ]] && bin=target/release/hookline || bin=target/debug/hookline; }
export PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres}
work=$(mktemp -d)
db=hookline_bench_usage_$$
trap 'dropdb --if-exists "$db" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

rollup=$(sed -n '/^INSERT INTO usage_hourly/,/^GROUP BY/p' migrations/postgres/20261202000001_usage.sql)
rollup_lite=$(sed -n '/^INSERT INTO usage_hourly/,/^GROUP BY/p' migrations/sqlite/20261202000001_usage.sql)
tools=$(sed -n '/^INSERT INTO usage_tool_hourly/,/^GROUP BY/p' migrations/postgres/20261202400001_usage_tool.sql)
tools_lite=$(sed -n '/^INSERT INTO usage_tool_hourly/,/^GROUP BY/p' migrations/sqlite/20261202400001_usage_tool.sql)


timed() { # prints seconds of "$@" (stdout discarded)
  local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

# SQLite
mkdir -p "$work/lite"
"$bin" migrate --data-dir "$work/lite" >/dev/null 2>&1 || "$bin" usage monthly --data-dir "$work/lite" >/dev/null
python3 - "$work/lite/hookline.db" "$rollup_lite" "$tools_lite" <<'PY'
import sqlite3, sys, datetime, time
c = sqlite3.connect(sys.argv[1])
base = datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)
def t(x): return x.strftime('%Y-%m-%dT%H:%M:%S.000000Z')
c.executemany("INSERT INTO conversations (session_id, started_at, user_name, host, cwd) VALUES (?,?,?,?,?)",
  [(f"s{s}", t(base + datetime.timedelta(days=s % 30, hours=(s // 30) % 20)), f"u{s%4}", "h", f"/p/proj{s%10}") for s in range(2000)])
def rows():
  for s in range(2000):
    start = base + datetime.timedelta(days=s % 30, hours=(s // 30) % 20)
    for j in range(500):
      yield (f"s{s}", f"m{j}/r", "assistant", "transcript", "claude-sonnet-4-5" if j % 5 == 0 else "claude-opus-4-6",
             "a1" if j % 10 == 1 else None, 3, 100 + j % 300, 1000, 20000 + j * 10, t(start + datetime.timedelta(seconds=20 * j)),
             CONTENT[j % 3])
CONTENT = ['[{"type":"text","text":"t"},{"type":"tool_use","id":"x","name":"Bash","input":{}}]',
           '[{"type":"tool_use","id":"y","name":"Read","input":{}},{"type":"tool_use","id":"z","name":"Edit","input":{}}]',
           '[{"type":"text","text":"t"}]']
c.executemany("""INSERT INTO messages (session_id, message_key, role, source, model, agent_id, input_tokens, output_tokens,
  cache_creation_input_tokens, cache_read_input_tokens, created_at, content) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)""", rows())
c.execute("DELETE FROM usage_hourly"); c.execute("DELETE FROM usage_tool_hourly")
t0 = time.time(); c.execute(sys.argv[2]); t1 = time.time(); c.execute(sys.argv[3]); t2 = time.time(); c.commit()
print(f"rollup\tsqlite\t{t1 - t0:.3f}\t{t2 - t1:.3f}")
PY
lite_rows=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from usage_hourly").fetchone()[0])' "$work/lite/hookline.db")
"$bin" usage monthly --data-dir "$work/lite" >/dev/null # warm the page cache
printf 'usage\tsqlite\t%s\t%s\n' "$(timed "$bin" usage monthly --data-dir "$work/lite")" "$lite_rows"
printf 'usage-by-tool\tsqlite\t%s\n' "$(timed "$bin" usage monthly --by tool --data-dir "$work/lite")"

# Postgres
createdb "$db"
url="postgres://$PGUSER@$PGHOST:${PGPORT:-5432}/$db"
DATABASE_URL=$url "$bin" migrate >/dev/null
psql -q -v ON_ERROR_STOP=1 -d "$db" <<SQL
INSERT INTO conversations (session_id, started_at, user_name, host, cwd)
SELECT 's' || s, timestamptz '2026-11-01 00:00Z' + (s % 30) * interval '1 day' + ((s / 30) % 20) * interval '1 hour',
       'u' || (s % 4), 'h', '/p/proj' || (s % 10)
FROM generate_series(0, 1999) s;
INSERT INTO messages (session_id, message_key, role, source, model, agent_id, input_tokens, output_tokens,
                      cache_creation_input_tokens, cache_read_input_tokens, created_at, content)
SELECT 's' || s, 'm' || j || '/r', 'assistant', 'transcript',
       CASE WHEN j % 5 = 0 THEN 'claude-sonnet-4-5' ELSE 'claude-opus-4-6' END,
       CASE WHEN j % 10 = 1 THEN 'a1' END, 3, 100 + j % 300, 1000, 20000 + j * 10,
       timestamptz '2026-11-01 00:00Z' + (s % 30) * interval '1 day' + ((s / 30) % 20) * interval '1 hour' + j * interval '20 seconds',
       (ARRAY['[{"type":"text","text":"t"},{"type":"tool_use","id":"x","name":"Bash","input":{}}]',
              '[{"type":"tool_use","id":"y","name":"Read","input":{}},{"type":"tool_use","id":"z","name":"Edit","input":{}}]',
              '[{"type":"text","text":"t"}]'])[j % 3 + 1]::jsonb
FROM generate_series(0, 1999) s, generate_series(0, 499) j;
DELETE FROM usage_hourly;
DELETE FROM usage_tool_hourly;
SQL
pg_ms() { psql -qtA -d "$db" -c '\timing on' -c "$1" | awk '/^Time:/ { printf "%.3f", $2 / 1000 }'; }
printf 'rollup\tpostgres\t%s\t%s\n' "$(pg_ms "$rollup")" "$(pg_ms "$tools")"
psql -q -d "$db" -c ANALYZE
pg_rows=$(psql -qtA -d "$db" -c 'SELECT count(*) FROM usage_hourly')
msgs=$(psql -qtA -d "$db" -c 'SELECT count(*) FROM messages')
[[ $msgs == 1000000 ]] || { echo "bench/usage.sh: $msgs messages, want 1000000" >&2; exit 1; }
DATABASE_URL=$url "$bin" usage monthly >/dev/null
printf 'usage\tpostgres\t%s\t%s\n' "$(DATABASE_URL=$url timed "$bin" usage monthly)" "$pg_rows"
printf 'usage-by-tool\tpostgres\t%s\n' "$(DATABASE_URL=$url timed "$bin" usage monthly --by tool)"
DATABASE_URL=$url "$bin" usage monthly
if [[ -n ${HOOKLINE_BENCH_EXPLAIN:-} ]]; then # the plan of the report's read
  psql -d "$db" -c "EXPLAIN (ANALYZE, BUFFERS) WITH u AS (
      SELECT session_id, hour, model, agent_id, context_band, '' AS tool, messages, input_tokens, output_tokens,
             cache_creation_input_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens, cache_read_input_tokens
      FROM usage_hourly WHERE NOT false
      UNION ALL
      SELECT session_id, hour, model, agent_id, context_band, tool, messages, input_tokens, output_tokens,
             cache_creation_input_tokens, cache_creation_5m_tokens, cache_creation_1h_tokens, cache_read_input_tokens
      FROM usage_tool_hourly WHERE false)
    SELECT u.*, c.user_name, c.host, c.cwd, c.title, c.started_at
    FROM u JOIN conversations c ON c.session_id = u.session_id" >&2
fi
