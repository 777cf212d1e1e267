//! Scale (issue 22): a year of generated history
//! (`hookline_conformance::generate`, seeded) written through the worker's
//! own path (`process_batch`, batches of 10, as the worker function and
//! serve's poller call it) into a fresh Postgres database and a fresh
//! SQLite file per size; then what a user waits for at that size.
//!
//!   DATABASE_URL=postgres://… cargo bench -p hookline-conformance --bench scale
//!
//! `HOOKLINE_SCALE_SIZES` (default `100000`): hook events per history,
//! comma-separated; `HOOKLINE_SCALE_SEED` (1); `HOOKLINE_BENCH_STORES`
//! (`postgres sqlite`); `HOOKLINE_SCALE_KEEP=DIR` keeps each SQLite file
//! as `DIR/SIZE/hookline.db` (a data directory `hookline serve` opens;
//! bench/scale.sh times the dashboard on it) and keeps the Postgres
//! database (its name printed); `HOOKLINE_SCALE_REUSE=DIR` writes nothing
//! and runs only the read figures on such a kept SQLite data directory
//! (e.g. `DIR/SIZE`); `HOOKLINE_SCALE_LIVE_DB=NAME` writes only the live
//! events into a kept Postgres database (see [`live_only`]). Prints one
//! line per figure:
//!
//!   scale<TAB>SIZE<TAB>STORE<TAB>FIGURE<TAB>VALUE<TAB>UNIT
//!
//! - write: backfill events/s (the whole history, its first and last
//!   tenth), then live events/s: 2,000 events more on the full tables;
//! - storage: bytes on disk per event and per message against the raw
//!   JSON received, and the biggest tables (heap, TOAST, indexes);
//! - read (p50 and p95 of `RUNS` calls of the core function the CLI,
//!   dashboard and MCP call): sessions list (first page of 50, the 100th
//!   page by keyset cursor, and the dashboard's page of 50 with its text
//!   filter), sessions show of the longest session, events
//!   stats over 24 h and 30 days, search (a common and a rare word), the
//!   monthly usage report over 30 days.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use hookline_conformance::db::{Backend, TestDb};
use hookline_conformance::generate::{self, Session};
use hookline_core::ops::Ops;
use hookline_core::ops::stats::Stats;
use hookline_core::search::{self, Filters, Search, SearchStore};
use hookline_core::store::{Reader, Seek, SessionFilter, Store, page};
use hookline_core::usage::{self, Period, ReportOptions, UsageStore};
use hookline_core::worker::{QueueRecord, WorkerConfig, process_batch};
use hookline_store_postgres::PgStore;
use serde_json::Value;

const RUNS: usize = 15;
const LIVE: usize = 2_000;
const BATCH: usize = 10;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Out<'a> {
    size: usize,
    store: &'a str,
}

impl Out<'_> {
    fn put(&self, figure: &str, value: f64, unit: &str) {
        println!(
            "scale\t{}\t{}\t{figure}\t{value:.2}\t{unit}",
            self.size, self.store
        );
    }
}

/// What was written.
#[derive(Default)]
struct Written {
    events: usize,
    raw_bytes: usize,
    longest: (usize, String),
}

/// Writes the sessions through the worker in batches of [`BATCH`] (across
/// sessions, as a queue delivers them); the time of each batch.
async fn write(
    store: &dyn Store,
    sessions: impl Iterator<Item = anyhow::Result<Session>>,
    w: &mut Written,
) -> anyhow::Result<Vec<(usize, f64)>> {
    let cfg = WorkerConfig::default();
    let mut pending: Vec<QueueRecord> = Vec::new();
    let mut times = Vec::new();
    let flush = async |batch: Vec<QueueRecord>| -> anyhow::Result<(usize, f64)> {
        let t = Instant::now();
        let failed = process_batch(store, &cfg, &batch).await;
        anyhow::ensure!(failed.is_empty(), "the worker failed {failed:?}");
        Ok((batch.len(), t.elapsed().as_secs_f64()))
    };
    for s in sessions {
        let s = s?;
        w.events += s.records.len();
        w.raw_bytes += s.raw_bytes;
        if s.records.len() > w.longest.0 {
            w.longest = (s.records.len(), s.session_id.clone());
        }
        pending.extend(s.records);
        while pending.len() >= BATCH {
            let rest = pending.split_off(BATCH);
            times.push(flush(std::mem::replace(&mut pending, rest)).await?);
        }
    }
    if !pending.is_empty() {
        times.push(flush(pending).await?);
    }
    Ok(times)
}

fn rate(times: &[(usize, f64)]) -> f64 {
    let (n, s) = times
        .iter()
        .fold((0, 0.0), |(n, s), (bn, bs)| (n + bn, s + bs));
    n as f64 / s.max(1e-9)
}

async fn timed<F, Fut, T>(out: &Out<'_>, figure: &str, mut f: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let first = f().await?;
    let mut ms = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        f().await?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    let p = |q: f64| ms[((ms.len() as f64 * q).ceil() as usize).clamp(1, ms.len()) - 1];
    out.put(&format!("read p50: {figure}"), p(0.5), "ms");
    out.put(&format!("read p95: {figure}"), p(0.95), "ms");
    Ok(first)
}

/// The read side of one database.
struct Readers {
    reader: Arc<dyn Reader>,
    ops: Arc<dyn Ops>,
    engine: Arc<dyn SearchStore>,
    use_store: Arc<dyn UsageStore>,
}

impl Readers {
    fn of(db: &TestDb) -> Readers {
        Readers {
            reader: db.reader(),
            ops: db.ops(),
            engine: db.search(),
            use_store: db.usage(),
        }
    }
}

/// Sessions a page of the list and of the dashboard.
const PAGE: i64 = 50;
/// The deep page read: the 100th.
const DEEP: usize = 100;

async fn reads(out: &Out<'_>, r: &Readers, w: &Written, end: DateTime<Utc>) -> anyhow::Result<()> {
    let Readers {
        reader,
        ops,
        engine,
        use_store,
    } = r;
    let all = SessionFilter::default();
    timed(out, "sessions list, first page (50)", || async {
        Ok(page::page(reader.as_ref(), &all, &Seek::First, PAGE).await?)
    })
    .await?;
    // The cursor of the 99th page's last session, walked to once.
    let mut at = Seek::First;
    let mut depth = 1;
    while depth < DEEP {
        match page::page(reader.as_ref(), &all, &at, PAGE).await?.older {
            Some(c) => at = Seek::Before(c),
            None => break,
        }
        depth += 1;
    }
    timed(
        out,
        &format!("sessions list, deep page ({depth}th of 50, keyset cursor)"),
        || async { Ok(page::page(reader.as_ref(), &all, &at, PAGE).await?) },
    )
    .await?;
    // The dashboard's /ui/sessions with its text filter: one project of
    // 12 (the query reads about 12 sessions for each it shows).
    let text = SessionFilter {
        text: Some("billing".into()),
        ..SessionFilter::default()
    };
    timed(
        out,
        "sessions list, the dashboard's page (50, filter billing)",
        || async { Ok(page::page(reader.as_ref(), &text, &Seek::First, PAGE).await?) },
    )
    .await?;
    let label = format!("sessions show, longest session ({} events)", w.longest.0);
    timed(out, &label, || async {
        Ok(reader.session(&w.longest.1).await?)
    })
    .await?;
    for (name, days) in [("24 h", 1), ("30 days", 30)] {
        let since = end - Duration::days(days);
        timed(out, &format!("events stats, {name}"), || async {
            Ok(Stats::from_summary(since, &ops.stat_summary(since).await?))
        })
        .await?;
    }
    for (name, q) in [("common word", "deploy"), ("rare word", "w4999")] {
        let s = Search::parse(q, Filters::default())?;
        timed(out, &format!("search, {name} ({q})"), || async {
            Ok(search::search(engine.as_ref(), &s).await?)
        })
        .await?;
    }
    let opts = ReportOptions {
        period: Period::Monthly,
        by: None,
        user: None,
        project: None,
    };
    timed(out, "usage monthly, last 30 days", || async {
        Ok(usage::report(
            use_store.as_ref(),
            Vec::new(),
            Some(end - Duration::days(30)),
            None,
            &opts,
        )
        .await?)
    })
    .await?;
    Ok(())
}

fn num(row: &serde_json::Map<String, Value>, k: &str) -> f64 {
    match row.get(k) {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(Value::String(s)) => s.parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Per table (its heap, TOAST and indexes) and in all; the biggest five.
const PG_SIZES: &str = "SELECT c.relname::text AS name, pg_relation_size(c.oid) AS heap,
       COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0) AS toast,
       pg_indexes_size(c.oid) AS indexes, pg_total_relation_size(c.oid) AS total
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY total DESC";
/// Per table: its own b-tree (heap), its indexes; FTS5's shadow tables are
/// tables of their own (`search_fts_*`).
const SQLITE_SIZES: &str = "SELECT m.tbl_name AS name,
       sum(CASE WHEN m.type = 'table' THEN d.pgsize ELSE 0 END) AS heap, 0 AS toast,
       sum(CASE WHEN m.type = 'index' THEN d.pgsize ELSE 0 END) AS indexes, sum(d.pgsize) AS total
  FROM dbstat d JOIN sqlite_master m ON m.name = d.name
 GROUP BY m.tbl_name ORDER BY total DESC";

async fn storage(out: &Out<'_>, db: &TestDb, w: &Written) -> anyhow::Result<()> {
    let sqlite = db.backend() == Backend::Sqlite;
    if sqlite {
        // The WAL's pages into the file, so that dbstat sees them all.
        db.rows("PRAGMA wal_checkpoint(TRUNCATE)").await?;
    }
    if let Some(pool) = db.pg_pool() {
        // What autovacuum does to a table that grew: statistics. Without
        // them the planner estimates from the first rows it saw (e.g. a
        // seq scan for a day of events stats: 205 ms against ~1 ms at 100k).
        sqlx::query("ANALYZE").execute(pool).await?;
    }
    let rows = db
        .rows(if sqlite { SQLITE_SIZES } else { PG_SIZES })
        .await?;
    let total: f64 = rows.iter().map(|r| num(r, "total")).sum();
    let messages = db.count("messages", "true").await? as f64;
    let events = w.events as f64;
    out.put("raw JSON received", w.raw_bytes as f64 / 1048576.0, "MiB");
    out.put("on disk, all tables", total / 1048576.0, "MiB");
    out.put("on disk / raw JSON", total / w.raw_bytes as f64, "x");
    out.put("bytes per event (on disk)", total / events, "B");
    out.put(
        "bytes per event (raw JSON)",
        w.raw_bytes as f64 / events,
        "B",
    );
    out.put(
        "bytes per message (on disk)",
        total / messages.max(1.0),
        "B",
    );
    out.put("messages", messages, "rows");
    for r in rows.iter().take(6) {
        let name = r.get("name").and_then(Value::as_str).unwrap_or("?");
        let mib = |k: &str| num(r, k) / 1048576.0;
        let what = if sqlite {
            format!("table {name}: table / indexes MiB")
        } else {
            format!("table {name}: heap / TOAST / indexes MiB")
        };
        let split = if sqlite {
            format!("{:.1} / {:.1}", mib("heap"), mib("indexes"))
        } else {
            format!(
                "{:.1} / {:.1} / {:.1}",
                mib("heap"),
                mib("toast"),
                mib("indexes")
            )
        };
        println!(
            "scale_table\t{}\t{}\t{what}\t{split}\t{:.1}",
            out.size,
            out.store,
            mib("total")
        );
    }
    Ok(())
}

async fn one(backend: Backend, size: usize, seed: u64) -> anyhow::Result<()> {
    let store = match backend {
        Backend::Postgres => "postgres",
        Backend::Sqlite => "sqlite",
    };
    let out = Out { size, store };
    let db = TestDb::new(backend).await?;
    let end = Utc::now();
    let mut w = Written::default();
    let t = Instant::now();
    let times = write(db.store(), generate::sessions(seed, size, end), &mut w).await?;
    let wall = t.elapsed().as_secs_f64();
    eprintln!("{store} {size}: {} events written in {wall:.0} s", w.events);
    let tenth = (times.len() / 10).max(1);
    out.put(
        "write: backfill events/s (wall, generation included)",
        w.events as f64 / wall,
        "/s",
    );
    out.put(
        "write: backfill events/s, first tenth",
        rate(&times[..tenth]),
        "/s",
    );
    out.put(
        "write: backfill events/s, last tenth",
        rate(&times[times.len() - tenth..]),
        "/s",
    );
    let mut live = Written::default();
    let times = write(
        db.store(),
        generate::sessions(seed ^ 0x11fe, LIVE, end),
        &mut live,
    )
    .await?;
    out.put(
        "write: live events/s (2,000 more, on the full tables)",
        rate(&times),
        "/s",
    );
    w.events += live.events;
    w.raw_bytes += live.raw_bytes;
    storage(&out, &db, &w).await?;
    reads(&out, &Readers::of(&db), &w, end).await?;
    if let (Some(dir), Some(path)) = (std::env::var_os("HOOKLINE_SCALE_KEEP"), db.sqlite_path()) {
        let keep = std::path::Path::new(&dir).join(size.to_string());
        std::fs::create_dir_all(&keep)?;
        std::fs::copy(path, keep.join("hookline.db"))?;
        println!("scale_kept\t{size}\t{}\t{}", w.longest.1, keep.display());
    }
    if let (Some(_), Some(pool)) = (std::env::var_os("HOOKLINE_SCALE_KEEP"), db.pg_pool()) {
        let name = pool
            .connect_options()
            .get_database()
            .unwrap_or_default()
            .to_owned();
        println!(
            "scale_kept\t{size}\t{}\tpostgres database {name}",
            w.longest.1
        );
        return Ok(());
    }
    db.drop_database().await
}

/// `HOOKLINE_SCALE_REUSE=DIR`: the read figures only, on the SQLite data
/// directory `DIR` kept by an earlier run (`HOOKLINE_SCALE_KEEP`, its
/// `DIR/SIZE`); opening it applies the migrations it lacks. The size is
/// the audit rows it holds, the end of its history its newest session.
async fn reuse(dir: &std::path::Path) -> anyhow::Result<()> {
    let path = dir.join("hookline.db");
    anyhow::ensure!(path.exists(), "no {} to reuse", path.display());
    let t = Instant::now();
    let pool = hookline_store_sqlite::open(&path).await?;
    eprintln!(
        "reuse {}: opened (migrated) in {:.1} s",
        path.display(),
        t.elapsed().as_secs_f64()
    );
    let store = Arc::new(hookline_store_sqlite::SqliteStore::new(pool.clone()));
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_events")
        .fetch_one(&pool)
        .await?;
    let (longest, n): (String, i64) = sqlx::query_as(
        "SELECT session_id, count(*) AS n FROM webhook_events WHERE session_id IS NOT NULL
         GROUP BY session_id ORDER BY n DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await?;
    let end: String = sqlx::query_scalar("SELECT max(started_at) FROM conversations")
        .fetch_one(&pool)
        .await?;
    let end = DateTime::parse_from_rfc3339(&end)?.with_timezone(&Utc);
    let size = usize::try_from(events)?;
    let w = Written {
        events: size,
        raw_bytes: 0,
        longest: (usize::try_from(n)?, longest),
    };
    let r = Readers {
        reader: store.clone(),
        ops: store.clone(),
        engine: store.clone(),
        use_store: store,
    };
    reads(
        &Out {
            size,
            store: "sqlite",
        },
        &r,
        &w,
        end,
    )
    .await
}

/// `HOOKLINE_SCALE_LIVE_DB=NAME`: only the live figure, 2,000 events of
/// seed `HOOKLINE_SCALE_SEED` written into the existing, migrated Postgres
/// database NAME on `DATABASE_URL`'s server (one kept with
/// `HOOKLINE_SCALE_KEEP`, or a copy of it: `CREATE DATABASE … TEMPLATE`);
/// to compare one change (an index dropped, a setting) on the same tables.
async fn live_only(name: &str, seed: u64) -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL")?;
    let opts: sqlx::postgres::PgConnectOptions = url.parse()?;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect_with(opts.database(name))
        .await?;
    let store = PgStore::new(pool.clone());
    let end = Utc::now();
    let mut live = Written::default();
    let times = write(&store, generate::sessions(seed, LIVE, end), &mut live).await?;
    println!(
        "scale_live\t{name}\tpostgres\twrite: live events/s ({} events)\t{:.2}\t/s",
        live.events,
        rate(&times)
    );
    pool.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if let Some(dir) = std::env::var_os("HOOKLINE_SCALE_REUSE") {
        return reuse(std::path::Path::new(&dir)).await;
    }
    let sizes: Vec<usize> = std::env::var("HOOKLINE_SCALE_SIZES")
        .unwrap_or_else(|_| "100000".into())
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()?;
    let seed = env("HOOKLINE_SCALE_SEED", 1u64);
    if let Ok(name) = std::env::var("HOOKLINE_SCALE_LIVE_DB") {
        return live_only(&name, seed).await;
    }
    let only = std::env::var("HOOKLINE_BENCH_STORES").unwrap_or_else(|_| "postgres sqlite".into());
    for size in sizes {
        if only.contains("sqlite") {
            one(Backend::Sqlite, size, seed).await?;
        }
        if only.contains("postgres") {
            one(Backend::Postgres, size, seed).await?;
        }
    }
    Ok(())
}
