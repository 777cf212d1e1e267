//! Side by side with ccusage (issue 19): the spotter transcripts backfilled
//! into hookline (SQLite), and ccusage 20.0.24 (tests/ccusage, pinned) run
//! on the same files laid out as a Claude config dir; per session and per
//! day, input, output, cache-write and cache-read tokens and cost from
//! both, and the JSONL's own figures (`hookline_conformance::usage`: each
//! message.id once, its last entry's usage) decide.
//!
//! What the JSONL says explains every difference, or the test fails:
//! - hookline equals the JSONL's messages exactly, tokens and pico-dollars:
//!   each session's own transcripts (main and `subagents/agent-*.jsonl`)
//!   and the subagent messages its `agent_progress` lines carry
//!   (`data.message`), once per message.id;
//! - ccusage's `daily` view equals that too;
//! - ccusage's `session` view equals that minus the messages only inside
//!   `agent_progress` lines (their agent's own transcript is not in the
//!   folder: `subagent.jsonl`'s Explore agent, 5 Haiku calls), which it
//!   leaves out: its two views disagree with each other. Those were real,
//!   billed calls, so `daily` (and hookline) is right.
//!
//! Run by scripts/ci/ccusage (`--ignored`; CCUSAGE is the binary).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use hookline_conformance::db::{Backend, TestDb};
use hookline_conformance::spotter::{self, Session};
use hookline_conformance::usage::{self as want, Msg, Sums};
use hookline_core::usage::{self, Period, ReportOptions, UsageQuery, price};
use hookline_core::worker::{WorkerConfig, process_batch};
use serde_json::Value;

use hookline_conformance::spotter::backfill;

/// The assistant messages of a session only inside its `agent_progress`
/// lines (`data.message`), not in any file of its own (the agent's
/// transcript is absent): ccusage `session` leaves them out.
fn progress_only(s: &Session) -> Vec<Msg> {
    let stripped = Session {
        files: s
            .files
            .iter()
            .map(|f| spotter::File {
                lines: f
                    .lines
                    .iter()
                    .filter(|l| !(l["type"] == "progress" && l["data"]["type"] == "agent_progress"))
                    .cloned()
                    .collect(),
                ..f.clone()
            })
            .collect(),
        ..s.clone()
    };
    let own: BTreeSet<String> = want::messages(&stripped)
        .into_iter()
        .map(|m| m.id)
        .collect();
    want::messages(s)
        .into_iter()
        .filter(|m| !own.contains(&m.id))
        .collect()
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Side {
    input: i64,
    output: i64,
    cache_write: i64,
    cache_read: i64,
    /// USD.
    cost: f64,
}

impl Side {
    fn of_sums(s: &Sums) -> Side {
        Side {
            input: s.input,
            output: s.output,
            cache_write: s.cache_write,
            cache_read: s.cache_read,
            cost: s.cost as f64 / 1e12,
        }
    }
    fn plus(&self, o: &Side) -> Side {
        Side {
            input: self.input + o.input,
            output: self.output + o.output,
            cache_write: self.cache_write + o.cache_write,
            cache_read: self.cache_read + o.cache_read,
            cost: self.cost + o.cost,
        }
    }
    fn of_ccusage(v: &Value) -> Side {
        let n = |k: &str| v[k].as_i64().unwrap_or(0);
        Side {
            input: n("inputTokens"),
            output: n("outputTokens"),
            cache_write: n("cacheCreationTokens"),
            cache_read: n("cacheReadTokens"),
            cost: v["totalCost"].as_f64().unwrap_or(f64::NAN),
        }
    }
    fn same(&self, o: &Side) -> bool {
        (self.input, self.output, self.cache_write, self.cache_read)
            == (o.input, o.output, o.cache_write, o.cache_read)
            && (self.cost - o.cost).abs() <= 1e-6 * self.cost.abs().max(1.0)
    }
    fn cells(&self) -> String {
        format!(
            "{:>6} {:>7} {:>9} {:>10} {:>11.6}",
            self.input, self.output, self.cache_write, self.cache_read, self.cost
        )
    }
}

fn ccusage(bin: &str, config: &Path, view: &str) -> anyhow::Result<Value> {
    let out = std::process::Command::new(bin)
        .args([view, "--json", "--offline", "--timezone", "UTC"])
        .env("CLAUDE_CONFIG_DIR", config)
        .env("TZ", "UTC")
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "ccusage {view}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// The transcripts as ccusage expects them: `projects/<project>/` with each
/// session's file and its `<session>/subagents/` folder (copies in a
/// temporary directory: ccusage does not follow symbolic links).
fn claude_config_dir(into: &Path) -> anyhow::Result<()> {
    fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(to)?;
        for e in std::fs::read_dir(from)? {
            let e = e?;
            let p = e.path();
            let dest = to.join(e.file_name());
            if p.is_dir() {
                copy(&p, &dest)?;
            } else if p.extension().is_some_and(|x| x == "jsonl") {
                std::fs::copy(&p, &dest)?;
            }
        }
        Ok(())
    }
    copy(&spotter::dir(), &into.join("projects").join("spotter"))
}

#[tokio::test]
#[ignore = "needs ccusage: scripts/ci/ccusage"]
async fn hookline_and_ccusage_differ_only_where_the_jsonl_says_why() -> anyhow::Result<()> {
    let bin = std::env::var("CCUSAGE").map_err(|_| {
        anyhow::anyhow!("set CCUSAGE to the ccusage binary (tests/ccusage/install)")
    })?;
    hookline_conformance::db::run(Backend::Sqlite, |db: TestDb| async move {
        let sessions = spotter::sessions()?;
        let cfg = WorkerConfig::default();
        for s in &sessions {
            for batch in backfill(s)?.chunks(8) {
                assert!(process_batch(db.store(), &cfg, batch).await.is_empty());
            }
        }
        let store = db.usage();
        let rows = store.usage_rows(&UsageQuery::default()).await?;
        let book = usage::book(store.as_ref(), vec![]).await?;
        let report = |period| {
            usage::build(
                &rows,
                &book,
                &ReportOptions {
                    period,
                    by: None,
                    user: None,
                    project: None,
                },
            )
        };
        let fig = |f: &usage::Figures| Side {
            input: f.tokens.input,
            output: f.tokens.output,
            cache_write: f.tokens.cache_creation,
            cache_read: f.tokens.cache_read,
            cost: f.cost as f64 / 1e12,
        };
        let dir = tempfile::tempdir()?;
        claude_config_dir(dir.path())?;
        let prices = want::pinned_prices()?;
        let mut lines = vec![format!(
            "{:<38} {:<9} {:>6} {:>7} {:>9} {:>10} {:>11}",
            "session / day", "side", "input", "output", "cache_wr", "cache_rd", "cost USD"
        )];
        let mut differences = Vec::new();

        // Per session (ccusage names a session by its file).
        let cc = ccusage(&bin, dir.path(), "session")?;
        let by_name: BTreeMap<String, &Value> = cc["session"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| Some((v["period"].as_str()?.to_owned(), v)))
            .collect();
        let sess = report(Period::Session);
        for s in &sessions {
            let h = sess
                .rows
                .iter()
                .find(|r| r.key == s.session_id)
                .map(|r| fig(&r.figures))
                .unwrap_or_default();
            let truth = Side::of_sums(&want::sums_by(&want::messages(s), &prices, |_| ())[&()]);
            let extra = want::sums_by(&progress_only(s), &prices, |_| ());
            let extra = extra.get(&()).map(Side::of_sums).unwrap_or_default();
            let c = by_name
                .get(&s.name)
                .map(|v| Side::of_ccusage(v))
                .ok_or_else(|| anyhow::anyhow!("ccusage has no session {}", s.name))?;
            assert!(h.same(&truth), "{}: hookline {h:?} != JSONL {truth:?}", s.name);
            assert!(
                c.plus(&extra).same(&truth),
                "{}: ccusage {c:?} + progress-only {extra:?} != JSONL {truth:?}",
                s.name
            );
            lines.push(format!("{:<38} {:<9} {}", s.name, "hookline", h.cells()));
            lines.push(format!("{:<38} {:<9} {}", "", "ccusage", c.cells()));
            if !c.same(&h) {
                differences.push(format!(
                    "session {}: ccusage session leaves out the {} assistant messages only in agent_progress lines (agent transcript absent), which hookline and ccusage daily count: {}",
                    s.name,
                    progress_only(s).len(),
                    extra.cells()
                ));
            }
        }

        // Per UTC day.
        let cc = ccusage(&bin, dir.path(), "daily")?;
        let daily = report(Period::Daily);
        let all: Vec<Msg> = sessions.iter().flat_map(want::messages).collect();
        let day = |m: &Msg| m.at.format("%Y-%m-%d").to_string();
        let truth = want::sums_by(&all, &prices, day);
        let cc_days: BTreeMap<String, Side> = cc["daily"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| Some((v["period"].as_str()?.to_owned(), Side::of_ccusage(v))))
            .collect();
        assert_eq!(
            cc_days.keys().collect::<Vec<_>>(),
            truth.keys().collect::<Vec<_>>(),
            "the same days"
        );
        for (d, t) in &truth {
            let h = daily
                .rows
                .iter()
                .find(|r| &r.key == d)
                .map(|r| fig(&r.figures))
                .unwrap_or_default();
            let t = Side::of_sums(t);
            let c = &cc_days[d];
            assert!(h.same(&t), "{d}: hookline {h:?} != JSONL {t:?}");
            assert!(c.same(&t), "{d}: ccusage {c:?} != JSONL {t:?}");
            lines.push(format!("{d:<38} {:<9} {}", "hookline", h.cells()));
            lines.push(format!("{:<38} {:<9} {}", "", "ccusage", c.cells()));
        }
        println!("{}", lines.join("\n"));
        println!("differences (ccusage − hookline), each explained by the JSONL:");
        for d in &differences {
            println!("  {d}");
        }
        println!(
            "hookline total {}",
            price::usd_exact(report(Period::Monthly).total.cost)
        );
        Ok(())
    })
    .await
}
