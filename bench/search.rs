//! Full-text search over 1,000,000 messages (issue 20; docs/search.md), on
//! Postgres and on SQLite: the same synthetic corpus inserted with SQL
//! (the indexes kept by the migration's generated columns and triggers,
//! not by the worker), then each query of a realistic handful run through
//! `hookline_core::search::search` (the statement `hookline search` and
//! the dashboard run, snippets included), p50 and p95. Prints for bench/run:
//!
//!   search<TAB>STORE<TAB>QUERY<TAB>HITS<TAB>P50_MS<TAB>P95_MS
//!   search_index<TAB>STORE<TAB>BYTES<TAB>WHAT
//!
//!   DATABASE_URL=postgres://… cargo bench -p hookline-conformance --bench search
//!
//! Corpus: 2,000 sessions of 500 messages (4 users, 10 projects, 30 days),
//! prompts and replies of 30 words from a skewed vocabulary of 4,000, and
//! one tool call in ten messages (100,000: a Bash command and its output,
//! every fourth a Read of a path). `HOOKLINE_BENCH_SESSIONS` scales it.
//! To compare statements on one corpus: `HOOKLINE_BENCH_KEEP=1` keeps the
//! Postgres database (its name on stderr) and `HOOKLINE_BENCH_SQLITE=PATH`
//! loads SQLite into PATH; later runs with `HOOKLINE_BENCH_PG_DB=NAME` and
//! the same PATH measure them without loading again.

use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use hookline_core::search::{self, Filters, Search, SearchStore};
use hookline_store_postgres::PgStore;
use hookline_store_sqlite::SqliteStore;
use hookline_store_sqlite::time::to_text;
use hookline_test_support::db::{PgDatabase, SqliteFile};

const PER_SESSION: usize = 500;
const RUNS: usize = 40;

/// A tiny deterministic generator (the corpus is the same on both stores).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

const REAL: &[&str] = &[
    "the", "a", "to", "of", "and", "in", "is", "it", "fix", "test", "error", "file", "function",
    "return", "value", "config", "build", "run", "cargo", "rust", "query", "index", "store",
    "session", "worker", "queue", "hook", "event", "request", "response", "update", "change",
];

fn text(r: &mut Rng, words: usize) -> String {
    let mut out = Vec::with_capacity(words + 2);
    for _ in 0..words {
        let u = r.next();
        out.push(if u < 0.3 {
            REAL[(r.next() * REAL.len() as f64) as usize].to_owned()
        } else {
            format!("w{}", (r.next().powi(3) * 4000.0) as usize)
        });
    }
    // The queried words, at known rates.
    let u = r.next();
    if u < 0.01 {
        out.push("deadline".into());
    } else if u < 0.015 {
        out.extend(["connection".into(), "pool".into()]);
    } else if u < 0.03 {
        out.push("connection".into());
    } else if u < 0.045 {
        out.push("pool".into());
    } else if u < 0.055 {
        out.push(["migration", "migrate", "migrating"][(r.next() * 3.0) as usize].into());
    } else if u < 0.075 {
        out.push("timeout".into());
    }
    let at = (r.next() * out.len() as f64) as usize;
    out.rotate_left(at);
    out.join(" ")
}

struct Msg {
    session: String,
    key: String,
    role: &'static str,
    text: String,
    at: DateTime<Utc>,
}

struct Tool {
    session: String,
    id: String,
    name: &'static str,
    input: String,
    response: String,
    at: DateTime<Utc>,
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

fn started(s: usize) -> DateTime<Utc> {
    t0() + Duration::days((s % 30) as i64) + Duration::hours(((s / 30) % 20) as i64)
}

fn session_rows(s: usize, r: &mut Rng) -> (Vec<Msg>, Vec<Tool>) {
    let (mut msgs, mut tools) = (Vec::new(), Vec::new());
    for j in 0..PER_SESSION {
        let at = started(s) + Duration::seconds(20 * j as i64);
        msgs.push(Msg {
            session: format!("s{s}"),
            key: format!("m{j}"),
            role: if j % 2 == 0 { "user" } else { "assistant" },
            text: text(r, 30),
            at,
        });
        if j % 10 == 5 {
            let id = format!("t{s}-{j}");
            let (name, input) = if j % 40 == 5 {
                let path = format!("/p/proj{}/src/{}.rs", s % 10, text(r, 2).replace(' ', "_"));
                ("Read", serde_json::json!({ "file_path": path }))
            } else {
                (
                    "Bash",
                    serde_json::json!({ "command": format!("grep -rn {}", text(r, 6)) }),
                )
            };
            let response = serde_json::json!({ "stdout": text(r, 40) });
            tools.push(Tool {
                session: format!("s{s}"),
                id,
                name,
                input: input.to_string(),
                response: response.to_string(),
                at: at + Duration::seconds(1),
            });
        }
    }
    (msgs, tools)
}

async fn load_pg(pool: &sqlx::PgPool, sessions: usize) -> anyhow::Result<()> {
    let mut r = Rng(20);
    for s in 0..sessions {
        sqlx::query("INSERT INTO conversations (session_id, started_at, user_name, host, cwd, title) VALUES ($1, $2, $3, 'h', $4, $5)")
            .bind(format!("s{s}")).bind(started(s)).bind(format!("u{}", s % 4))
            .bind(format!("/p/proj{}", s % 10)).bind(format!("session {s}"))
            .execute(pool).await?;
        let (msgs, tools) = session_rows(s, &mut r);
        sqlx::query(
            "INSERT INTO messages (session_id, message_key, role, source, text, created_at)
             SELECT s, k, r, 'transcript', t, a FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS u(s, k, r, t, a)",
        )
        .bind(msgs.iter().map(|m| m.session.clone()).collect::<Vec<_>>())
        .bind(msgs.iter().map(|m| m.key.clone()).collect::<Vec<_>>())
        .bind(msgs.iter().map(|m| m.role.to_owned()).collect::<Vec<_>>())
        .bind(msgs.iter().map(|m| m.text.clone()).collect::<Vec<_>>())
        .bind(msgs.iter().map(|m| m.at).collect::<Vec<_>>())
        .execute(pool)
        .await?;
        sqlx::query(
            "INSERT INTO tool_uses (tool_use_id, session_id, tool_name, input, response, status, used_at)
             SELECT i, s, n, inp::jsonb, resp::jsonb, 'succeeded', a
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[]) AS u(i, s, n, inp, resp, a)",
        )
        .bind(tools.iter().map(|t| t.id.clone()).collect::<Vec<_>>())
        .bind(tools.iter().map(|t| t.session.clone()).collect::<Vec<_>>())
        .bind(tools.iter().map(|t| t.name.to_owned()).collect::<Vec<_>>())
        .bind(tools.iter().map(|t| t.input.clone()).collect::<Vec<_>>())
        .bind(tools.iter().map(|t| t.response.clone()).collect::<Vec<_>>())
        .bind(tools.iter().map(|t| t.at).collect::<Vec<_>>())
        .execute(pool)
        .await?;
    }
    sqlx::query("VACUUM ANALYZE messages").execute(pool).await?;
    sqlx::query("VACUUM ANALYZE tool_uses")
        .execute(pool)
        .await?;
    Ok(())
}

async fn load_sqlite(pool: &sqlx::SqlitePool, sessions: usize) -> anyhow::Result<()> {
    let mut r = Rng(20);
    for s in 0..sessions {
        let mut tx = pool.begin().await?;
        sqlx::query("INSERT INTO conversations (session_id, started_at, user_name, host, cwd, title) VALUES (?1, ?2, ?3, 'h', ?4, ?5)")
            .bind(format!("s{s}")).bind(to_text(started(s))).bind(format!("u{}", s % 4))
            .bind(format!("/p/proj{}", s % 10)).bind(format!("session {s}"))
            .execute(&mut *tx).await?;
        let (msgs, tools) = session_rows(s, &mut r);
        for m in msgs {
            sqlx::query("INSERT INTO messages (session_id, message_key, role, source, text, created_at) VALUES (?1, ?2, ?3, 'transcript', ?4, ?5)")
                .bind(m.session).bind(m.key).bind(m.role).bind(m.text).bind(to_text(m.at))
                .execute(&mut *tx).await?;
        }
        for t in tools {
            sqlx::query("INSERT INTO tool_uses (tool_use_id, session_id, tool_name, input, response, status, used_at) VALUES (?1, ?2, ?3, ?4, ?5, 'succeeded', ?6)")
                .bind(t.id).bind(t.session).bind(t.name).bind(t.input).bind(t.response).bind(to_text(t.at))
                .execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok(())
}

fn queries() -> Vec<(&'static str, &'static str, Filters)> {
    let filtered = Filters {
        user: Some("u1".into()),
        since: Some(t0() + Duration::days(23)),
        ..Filters::default()
    };
    vec![
        ("word", "deadline", Filters::default()),
        ("phrase", "\"connection pool\"", Filters::default()),
        ("prefix", "migrat*", Filters::default()),
        ("two words", "connection pool", Filters::default()),
        ("filtered", "timeout", filtered),
        ("rare word", "w3999", Filters::default()),
    ]
}

async fn measure(store: &str, engine: &dyn SearchStore) -> anyhow::Result<()> {
    for (name, q, filters) in queries() {
        let s = Search::parse(q, filters)?;
        let hits = search::search(engine, &s).await?.hits.len();
        let mut ms = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let t = Instant::now();
            search::search(engine, &s).await?;
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        ms.sort_by(f64::total_cmp);
        let p = |q: f64| ms[((ms.len() as f64 * q).ceil() as usize).clamp(1, ms.len()) - 1];
        println!(
            "search\t{store}\t{name}: {q}\t{hits}\t{:.1}\t{:.1}",
            p(0.5),
            p(0.95)
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sessions: usize = std::env::var("HOOKLINE_BENCH_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let only = std::env::var("HOOKLINE_BENCH_STORES").unwrap_or_else(|_| "postgres sqlite".into());

    if only.contains("postgres") {
        // HOOKLINE_BENCH_PG_DB=NAME: measure a corpus kept by an earlier run
        // (HOOKLINE_BENCH_KEEP=1), without loading it again.
        let kept = std::env::var("HOOKLINE_BENCH_PG_DB").ok();
        let db = match &kept {
            Some(name) => {
                let url = std::env::var("DATABASE_URL")?;
                let server = url.rsplit_once('/').map_or(url.as_str(), |(s, _)| s);
                let pool = sqlx::PgPool::connect(&format!("{server}/{name}")).await?;
                (pool, None)
            }
            None => {
                let db = PgDatabase::create().await?;
                let t = Instant::now();
                load_pg(&db.pool, sessions).await?;
                eprintln!(
                    "postgres: loaded {} in {:.0} s",
                    db.name,
                    t.elapsed().as_secs_f64()
                );
                (db.pool.clone(), Some(db))
            }
        };
        let (pool, owned) = db;
        measure("postgres", &PgStore::new(pool.clone())).await?;
        for (what, sql) in [
            (
                "messages GIN index (messages_search_idx)",
                "SELECT pg_relation_size('messages_search_idx')",
            ),
            (
                "messages tsvector column (search_vector)",
                "SELECT sum(pg_column_size(search_vector))::bigint FROM messages",
            ),
            (
                "tool_uses GIN indexes (3)",
                "SELECT (pg_relation_size('tool_uses_search_input_idx') + pg_relation_size('tool_uses_search_result_idx') + pg_relation_size('tool_uses_search_path_idx'))",
            ),
            (
                "tool_uses tsvector columns (3)",
                "SELECT sum(pg_column_size(search_input) + pg_column_size(search_result) + pg_column_size(search_path))::bigint FROM tool_uses",
            ),
            (
                "messages table and indexes, all",
                "SELECT pg_total_relation_size('messages')",
            ),
        ] {
            let n: Option<i64> = sqlx::query_scalar(sql).fetch_one(&pool).await?;
            println!("search_index\tpostgres\t{}\t{what}", n.unwrap_or(0));
        }
        if let Some(db) = owned {
            if std::env::var_os("HOOKLINE_BENCH_KEEP").is_some() {
                eprintln!("postgres: kept database {}", db.name);
            } else {
                db.drop_database().await?;
            }
        }
    }
    if only.contains("sqlite") {
        // HOOKLINE_BENCH_SQLITE=PATH: load into PATH and keep it, or
        // measure it as it is when it exists.
        let (pool, _file) =
            match std::env::var_os("HOOKLINE_BENCH_SQLITE").map(std::path::PathBuf::from) {
                Some(path) => {
                    let exists = path.exists();
                    let pool = hookline_store_sqlite::open(&path).await?;
                    if !exists {
                        let t = Instant::now();
                        load_sqlite(&pool, sessions).await?;
                        eprintln!(
                            "sqlite: loaded {} in {:.0} s",
                            path.display(),
                            t.elapsed().as_secs_f64()
                        );
                    }
                    (pool, None)
                }
                None => {
                    let file = SqliteFile::create().await?;
                    let t = Instant::now();
                    load_sqlite(&file.pool, sessions).await?;
                    eprintln!("sqlite: loaded in {:.0} s", t.elapsed().as_secs_f64());
                    (file.pool.clone(), Some(file))
                }
            };
        measure("sqlite", &SqliteStore::new(pool.clone())).await?;
        for (what, sql) in [
            (
                "FTS5 shadow tables (search_fts_*), messages and tool calls",
                "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_fts%'",
            ),
            (
                "search_tool_ids (and its index)",
                "SELECT sum(pgsize) FROM dbstat WHERE name LIKE '%search_tool_ids%'",
            ),
            (
                "messages table",
                "SELECT sum(pgsize) FROM dbstat WHERE name = 'messages'",
            ),
        ] {
            let n: Option<i64> = sqlx::query_scalar(sql).fetch_one(&pool).await?;
            println!("search_index\tsqlite\t{}\t{what}", n.unwrap_or(0));
        }
    }
    Ok(())
}
