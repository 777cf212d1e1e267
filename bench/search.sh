#!/usr/bin/env bash
# Full-text search over 1,000,000 messages on Postgres and on SQLite (issue
# 20; docs/search.md): bench/search.rs loads the same synthetic corpus into
# both (SQL inserts; the migration's generated columns and triggers build
# the indexes), runs a handful of queries through the statement `hookline
# search` runs, and prints one line per query and store:
#   search<TAB>STORE<TAB>QUERY<TAB>HITS<TAB>P50_MS<TAB>P95_MS
# and the index sizes: search_index<TAB>STORE<TAB>BYTES<TAB>WHAT.
#   bench/search.sh    Needs Postgres (DATABASE_URL, default
#   postgres://postgres@127.0.0.1:5432/postgres). HOOKLINE_BENCH_SESSIONS
#   (default 2000, of 500 messages) scales it. Built with the bench profile
#   (optimized), as bench/run's release binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
SQLX_OFFLINE=true cargo bench --quiet -p hookline-conformance --bench search
