//! `hookline usage` and `hookline prices` as a user runs them: the spotter
//! transcripts backfilled into a SQLite data dir, then the binary's
//! reports (`--json`, `--csv`, the table) checked against the JSONL's own
//! figures (`hookline_conformance::usage`, an independent reading), and the
//! price commands (import, list, overrides, errors naming the field).

use std::path::Path;

use anyhow::Context;
use hookline_conformance::spotter;
use hookline_conformance::usage as want;
use hookline_core::worker::{WorkerConfig, process_batch};
use hookline_store_sqlite::SqliteStore;
use serde_json::Value;

fn hookline(dir: &Path, args: &[&str]) -> anyhow::Result<(bool, String, String)> {
    let (command, rest) = args.split_first().context("a command")?;
    let out = super::hookline()
        .command([*command, "--data-dir"])
        .arg(dir)
        .args(rest)
        .output()?;
    Ok((
        out.status.success(),
        String::from_utf8(out.stdout)?,
        String::from_utf8(out.stderr)?,
    ))
}

fn ok(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    let (success, out, err) = hookline(dir, args)?;
    anyhow::ensure!(success, "hookline {args:?} failed: {err}");
    Ok(out)
}

async fn data_dir() -> anyhow::Result<(tempfile::TempDir, Vec<spotter::Session>)> {
    let dir = tempfile::tempdir()?;
    let pool = hookline_store_sqlite::open(&dir.path().join("hookline.db")).await?;
    let store = SqliteStore::new(pool.clone());
    let sessions = spotter::sessions()?;
    for s in &sessions {
        for batch in spotter::backfill(s)?.chunks(8) {
            anyhow::ensure!(
                process_batch(&store, &WorkerConfig::default(), batch)
                    .await
                    .is_empty()
            );
        }
    }
    pool.close().await;
    // HOOKLINE_USAGE_KEEP=1: keep the data dir (docs/usage.md's examples).
    if std::env::var_os("HOOKLINE_USAGE_KEEP").is_some() {
        let kept = dir.keep();
        eprintln!("kept data dir {}", kept.display());
        return Ok((tempfile::tempdir()?, sessions));
    }
    Ok((dir, sessions))
}

#[tokio::test]
async fn usage_reports_say_what_the_jsonl_says() -> anyhow::Result<()> {
    let (dir, sessions) = data_dir().await?;
    let prices = want::pinned_prices()?;
    let all: Vec<want::Msg> = sessions.iter().flat_map(want::messages).collect();
    let days = want::sums_by(&all, &prices, |m| m.at.format("%Y-%m-%d").to_string());

    let daily: Value = serde_json::from_str(&ok(dir.path(), &["usage", "daily", "--json"])?)?;
    let rows = daily["rows"].as_array().context("rows")?;
    assert_eq!(rows.len(), days.len());
    for r in rows {
        let key = r["key"].as_str().context("key")?;
        let w = &days[key];
        assert_eq!(r["messages"], w.messages, "{key}");
        assert_eq!(r["input_tokens"], w.input, "{key}");
        assert_eq!(r["output_tokens"], w.output, "{key}");
        assert_eq!(r["cache_creation_tokens"], w.cache_write, "{key}");
        assert_eq!(r["cache_read_tokens"], w.cache_read, "{key}");
        assert_eq!(
            r["cost_usd_exact"].as_str(),
            Some(hookline_core::usage::price::usd_exact(w.cost).as_str()),
            "{key}"
        );
        assert_eq!(r["cost_complete"], true);
    }

    // --since/--until are inclusive UTC days.
    let first = days.keys().next().context("a day")?.clone();
    let one: Value = serde_json::from_str(&ok(
        dir.path(),
        &[
            "usage", "daily", "--since", &first, "--until", &first, "--json",
        ],
    )?)?;
    assert_eq!(one["rows"].as_array().map(Vec::len), Some(1));
    assert_eq!(one["total"]["messages"], days[&first].messages);

    // Sessions with their subagents apart; CSV has a line per subagent.
    let sess: Value = serde_json::from_str(&ok(dir.path(), &["usage", "session", "--json"])?)?;
    for s in &sessions {
        let msgs = want::messages(s);
        let sub: Vec<want::Msg> = msgs.iter().filter(|m| m.agent.is_some()).cloned().collect();
        let row = sess["rows"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["key"] == s.session_id.as_str())
            .context("session row")?;
        assert_eq!(row["messages"], msgs.len() as i64, "{}", s.name);
        assert_eq!(row["subagents"]["messages"], sub.len() as i64, "{}", s.name);
    }
    let csv = ok(dir.path(), &["usage", "session", "--csv"])?;
    let agent_lines = csv
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(2) != Some(""))
        .count();
    let agents: usize = sessions
        .iter()
        .map(|s| {
            want::messages(s)
                .iter()
                .filter_map(|m| m.agent.clone())
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        })
        .sum();
    assert_eq!(agent_lines, agents);
    assert!(csv.starts_with("key,group,agent,start,end,messages,"));

    // By model: one group per model of the transcripts; the table prints.
    let by: Value = serde_json::from_str(&ok(
        dir.path(),
        &["usage", "monthly", "--by", "model", "--json"],
    )?)?;
    let models: std::collections::BTreeSet<&str> = all.iter().map(|m| m.model.as_str()).collect();
    assert_eq!(by["rows"].as_array().map(Vec::len), Some(models.len()));
    for view in ["daily", "weekly", "monthly", "session", "blocks"] {
        let t = ok(dir.path(), &["usage", view])?;
        assert!(t.contains("TOTAL"), "{view}: {t}");
    }
    assert!(ok(dir.path(), &["usage", "daily", "--user", "nobody"])?.contains("no usage"));

    // By tool: the JSONL's own split per tool, and the tools sum to the whole.
    let tools: Value = serde_json::from_str(&ok(
        dir.path(),
        &["usage", "monthly", "--by", "tool", "--json"],
    )?)?;
    let wt = want::by_tool(&all, &prices);
    let got: Vec<(&str, &str)> = tools["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| Some((r["group"].as_str()?, r["cost_usd_exact"].as_str()?)))
        .collect();
    let expected: Vec<(&str, String)> = wt
        .iter()
        .map(|(t, w)| (t.as_str(), hookline_core::usage::price::usd_exact(w.cost)))
        .collect();
    assert_eq!(
        got,
        expected
            .iter()
            .map(|(t, c)| (*t, c.as_str()))
            .collect::<Vec<_>>()
    );
    let whole: Value = serde_json::from_str(&ok(dir.path(), &["usage", "monthly", "--json"])?)?;
    assert_eq!(tools["total"], whole["total"]);

    // A block that ends the next day shows that day.
    let blocks = ok(dir.path(), &["usage", "blocks"])?;
    assert!(
        blocks.contains("2026-02-10 21:00 – 2026-02-11 02:00"),
        "{blocks}"
    );
    Ok(())
}

/// `hookline … | head`: a reader that goes away ends the command quietly,
/// with 128 + SIGPIPE, not a panic.
#[tokio::test]
async fn a_closed_pipe_ends_the_command_quietly() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut child = super::hookline()
        .command(["prices", "list", "--data-dir"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    drop(child.stdout.take()); // closed before it prints
    let out = child.wait_with_output()?;
    assert_eq!(out.status.code(), Some(141), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    Ok(())
}

#[tokio::test]
async fn prices_import_list_overrides_and_bad_input() -> anyhow::Result<()> {
    let (dir, sessions) = data_dir().await?;
    let list = ok(dir.path(), &["prices", "list"])?;
    assert!(list.contains("claude-opus-4-6") && list.contains("LiteLLM"));

    // Opus at twice the price from the first message's day on: every
    // message is then at the new price.
    let all: Vec<want::Msg> = sessions.iter().flat_map(want::messages).collect();
    let first = all.iter().map(|m| m.at).min().context("a message")?;
    let day = first.format("%Y-%m-%d").to_string();
    let mut prices = want::pinned_prices()?;
    let file = dir.path().join("new.json");
    std::fs::write(
        &file,
        r#"{"claude-opus-4-6": {"litellm_provider": "anthropic",
            "input_cost_per_token": 1e-05, "output_cost_per_token": 5e-05,
            "cache_creation_input_token_cost": 1.25e-05,
            "cache_creation_input_token_cost_above_1hr": 2e-05,
            "cache_read_input_token_cost": 1e-06},
            "gpt-x": {"litellm_provider": "openai"}}"#,
    )?;
    let f = file.to_string_lossy().into_owned();
    let out = ok(dir.path(), &["prices", "import", &f, "--valid-from", &day])?;
    assert!(out.contains("imported 1 prices"), "{out}");
    if let Some(p) = prices.get_mut("claude-opus-4-6") {
        p.base = [10_000_000, 50_000_000, 12_500_000, 20_000_000, 1_000_000];
    }
    let total = want::sums_by(&all, &prices, |_| ());
    let m: Value = serde_json::from_str(&ok(dir.path(), &["usage", "monthly", "--json"])?)?;
    assert_eq!(
        m["total"]["cost_usd_exact"].as_str(),
        Some(hookline_core::usage::price::usd_exact(total[&()].cost).as_str())
    );

    // Overrides: a file naming a bad field is refused with the field named.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[models.\"claude-opus-4-6\"]\ninput = \"x\"\noutput = 1\ncache_write_5m = 1\ncache_write_1h = 1\ncache_read = 1\n",
    )?;
    let (success, _, err) = hookline(
        dir.path(),
        &["usage", "monthly", "--prices-file", &bad.to_string_lossy()],
    )?;
    assert!(!success);
    assert!(err.contains("claude-opus-4-6: field input"), "{err}");
    // A good override wins over the import: Sonnet free of charge is not
    // allowed to hide, so price it at $1/MTok everywhere.
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        "[models.\"claude-sonnet-4-5\"]\ninput = 1\noutput = 1\ncache_write_5m = 1\ncache_write_1h = 1\ncache_read = 1\n",
    )?;
    let o: Value = serde_json::from_str(&ok(
        dir.path(),
        &[
            "usage",
            "monthly",
            "--by",
            "model",
            "--json",
            "--prices-file",
            &good.to_string_lossy(),
        ],
    )?)?;
    let sonnet = o["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["group"] == "claude-sonnet-4-5-20250929")
        .context("sonnet row")?;
    let tokens = sonnet["total_tokens"].as_i64().context("tokens")?;
    assert_eq!(
        sonnet["cost_usd_exact"].as_str(),
        Some(hookline_core::usage::price::usd_exact(i128::from(tokens) * 1_000_000).as_str())
    );

    // Bad days and files name what is wrong.
    let (success, _, err) = hookline(dir.path(), &["usage", "daily", "--since", "yesterday"])?;
    assert!(!success && err.contains("--since"), "{err}");
    let (success, _, err) = hookline(dir.path(), &["prices", "import", "/nonexistent.json"])?;
    assert!(!success && err.contains("/nonexistent.json"), "{err}");
    Ok(())
}

/// GET `path` from loopback.
async fn get(router: &axum::Router, path: &str) -> anyhow::Result<(u16, String)> {
    use tower::ServiceExt as _;
    let mut req = axum::http::Request::get(path)
        .header(axum::http::header::HOST, "127.0.0.1:8787")
        .body(axum::body::Body::empty())?;
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            40000,
        ))));
    let res = router.clone().oneshot(req).await?;
    let status = res.status().as_u16();
    let bytes = axum::body::to_bytes(res.into_body(), 10 << 20).await?;
    Ok((status, String::from_utf8(bytes.to_vec())?))
}

#[tokio::test]
async fn the_usage_page_charts_days_ranks_sessions_and_the_session_page_prices_each_message()
-> anyhow::Result<()> {
    use hookline_cli::config::{Role, StoreArgs};
    use hookline_cli::dashboard::{self, Config, Dashboard, Usage};
    let (dir, sessions) = data_dir().await?;
    let stores = StoreArgs {
        data_dir: Some(dir.path().to_owned()),
        database_url: None,
    }
    .open(Role::Operator)
    .await?;
    let router = dashboard::router(Dashboard::with_usage(
        Config {
            reader: stores.reader.clone(),
            ops: stores.ops.clone(),
            queues: Err("none".into()),
            tokens: std::sync::Arc::new(hookline_core::http::TokenSet::default()),
            logs: None,
            description: "test".into(),
            sign_in: hookline_cli::dashboard::SignIn::tokens(stores.logins.clone()),
        },
        Usage {
            store: stores.usage.clone(),
            overrides: vec![],
        },
    ));
    let prices = want::pinned_prices()?;
    let all: Vec<want::Msg> = sessions.iter().flat_map(want::messages).collect();
    let total = want::sums_by(&all, &prices, |_| ());
    let usd = |p: i128, places| format!("${}", hookline_core::usage::price::usd_rounded(p, places));

    let (status, page) = get(&router, "/ui/usage").await?;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<svg id=\"usage-chart\""));
    assert!(page.contains(&usd(total[&()].cost, 2)), "the total");
    // One bar segment per (day, model) with a cost.
    let dm = want::sums_by(&all, &prices, |m| (m.at.date_naive(), m.model.clone()));
    let chart = page
        .split("id=\"usage-chart\"")
        .nth(1)
        .and_then(|c| c.split("</svg>").next())
        .context("the chart")?;
    assert_eq!(
        chart.matches("<rect ").count(),
        dm.values().filter(|s| s.cost > 0).count()
    );
    // The legend: one swatch per model, in its series' colour (an SVG
    // fill: the page's CSP drops inline styles).
    let legend = page.split("class=\"legend\"").nth(1).context("legend")?;
    let models: std::collections::BTreeSet<&str> = all.iter().map(|m| m.model.as_str()).collect();
    assert_eq!(legend.matches("<rect ").count(), models.len());
    assert!(!page.contains("style=\""), "no inline style");
    for fill in chart
        .split("fill=\"")
        .skip(1)
        .filter_map(|f| f.split('"').next())
    {
        assert!(
            legend.contains(&format!("fill=\"{fill}\"")),
            "{fill} in the legend"
        );
    }
    // The dearest session first, linking to its page.
    let per_session: Vec<(i128, &str)> = {
        let mut v: Vec<(i128, &str)> = sessions
            .iter()
            .map(|s| {
                (
                    want::sums_by(&want::messages(s), &prices, |_| ())[&()].cost,
                    s.session_id.as_str(),
                )
            })
            .collect();
        v.sort_by(|a, b| b.cmp(a));
        v
    };
    let top = page.split("id=\"usage-top\"").nth(1).context("top table")?;
    let first_link = top.split("href=\"/ui/sessions/").nth(1).context("a link")?;
    assert!(first_link.starts_with(per_session[0].1), "dearest first");
    for (by, shows) in [("user", "alice"), ("project", "/w"), ("tool", "Bash")] {
        let (status, p) = get(&router, &format!("/ui/usage?by={by}")).await?;
        assert_eq!(status, 200);
        assert!(p.contains(shows), "{by}");
    }
    assert_eq!(get(&router, "/ui/usage?by=colour").await?.0, 400);
    assert_eq!(get(&router, "/ui/usage?since=yesterday").await?.0, 400);

    // The session page: the total and one row per assistant message.
    let (sid_cost, sid) = per_session[0];
    let (status, page) = get(&router, &format!("/ui/sessions/{sid}")).await?;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("id=\"session-cost\">{}", usd(sid_cost, 4))),
        "session total"
    );
    let s = sessions
        .iter()
        .find(|s| s.session_id == sid)
        .context("session")?;
    let costs = page
        .split("id=\"message-costs\"")
        .nth(1)
        .context("cost table")?;
    assert_eq!(costs.matches("<tr>").count(), want::messages(s).len() + 1);
    Ok(())
}
