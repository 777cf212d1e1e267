//! Cost and usage (issue 19) on both stores: every spotter transcript
//! backfilled, the reports of `hookline usage` (built by
//! `hookline_core::usage::report` over the store's rollup) say per session,
//! day, block and model what the JSONL says (`hookline_conformance::usage`,
//! an independent reading and pricing); a price imported later applies
//! from its hour on only; an unpriced model is counted as such.

use chrono::{DateTime, TimeDelta};
use hookline_conformance::db::TestDb;
use hookline_conformance::spotter;
use hookline_conformance::usage::{self as want, Sums};
use hookline_core::usage::{
    self, By, Figures, Period, PriceBook, ReportOptions, UsageQuery, price,
};
use hookline_core::worker::{WorkerConfig, process_batch};

use hookline_conformance::spotter::backfill;

on_both!(
    usage_reports_of_the_spotter_transcripts_equal_the_jsonl,
    a_price_imported_later_applies_only_from_its_hour_on,
    a_model_without_a_price_is_reported_unpriced_never_free,
    by_tool_splits_each_message_over_its_tool_calls_and_sums_to_the_whole,
);

async fn load(db: &TestDb) -> anyhow::Result<Vec<spotter::Session>> {
    let cfg = WorkerConfig::default();
    let sessions = spotter::sessions()?;
    for s in &sessions {
        for batch in backfill(s)?.chunks(8) {
            assert!(process_batch(db.store(), &cfg, batch).await.is_empty());
        }
    }
    Ok(sessions)
}

fn opts(period: Period, by: Option<By>) -> ReportOptions {
    ReportOptions {
        period,
        by,
        user: None,
        project: None,
    }
}

fn assert_figures(got: &Figures, want: &Sums, what: &str) {
    let g = Sums {
        messages: got.messages,
        input: got.tokens.input,
        output: got.tokens.output,
        cache_write: got.tokens.cache_creation,
        cache_read: got.tokens.cache_read,
        cost: got.cost,
        unpriced: got.unpriced_messages,
    };
    assert_eq!(&g, want, "{what}");
}

async fn usage_reports_of_the_spotter_transcripts_equal_the_jsonl(
    db: TestDb,
) -> anyhow::Result<()> {
    let sessions = load(&db).await?;
    let prices = want::pinned_prices()?;
    let store = db.usage();
    let rows = store.usage_rows(&UsageQuery::default()).await?;
    let book = usage::book(store.as_ref(), vec![]).await?;
    let all: Vec<want::Msg> = sessions.iter().flat_map(want::messages).collect();
    assert!(
        all.len() > 100,
        "the transcripts have their messages: {}",
        all.len()
    );

    // Per session, subagents apart and each agent on its own.
    let report = usage::build(&rows, &book, &opts(Period::Session, None));
    assert_eq!(report.rows.len(), sessions.len());
    for s in &sessions {
        let msgs = want::messages(s);
        let row = report
            .rows
            .iter()
            .find(|r| r.key == s.session_id)
            .ok_or_else(|| anyhow::anyhow!("{}: no session row", s.name))?;
        let total = want::sums_by(&msgs, &prices, |_| ());
        assert_figures(&row.figures, &total[&()], &format!("{}: session", s.name));
        let sub: Vec<want::Msg> = msgs.iter().filter(|m| m.agent.is_some()).cloned().collect();
        let subs = want::sums_by(&sub, &prices, |_| ());
        assert_figures(
            &row.subagents,
            &subs.get(&()).cloned().unwrap_or_default(),
            &format!("{}: subagents", s.name),
        );
        let agents = want::sums_by(&sub, &prices, |m| m.agent.clone().unwrap_or_default());
        assert_eq!(row.agents.len(), agents.len(), "{}: agents", s.name);
        for (a, w) in &agents {
            assert_figures(&row.agents[a], w, &format!("{}: agent {a}", s.name));
        }
    }

    // Per UTC day, and per day and model.
    let daily = usage::build(&rows, &book, &opts(Period::Daily, None));
    let days = want::sums_by(&all, &prices, |m| m.at.format("%Y-%m-%d").to_string());
    assert_eq!(
        daily.rows.iter().map(|r| r.key.clone()).collect::<Vec<_>>(),
        days.keys().cloned().collect::<Vec<_>>()
    );
    for r in &daily.rows {
        assert_figures(&r.figures, &days[&r.key], &format!("day {}", r.key));
    }
    let by_model = usage::build(&rows, &book, &opts(Period::Daily, Some(By::Model)));
    let dm = want::sums_by(&all, &prices, |m| {
        (m.at.format("%Y-%m-%d").to_string(), m.model.clone())
    });
    assert_eq!(by_model.rows.len(), dm.len());
    for r in &by_model.rows {
        let k = (r.key.clone(), r.group.clone().unwrap_or_default());
        assert_figures(&r.figures, &dm[&k], &format!("day and model {k:?}"));
    }

    // Months and weeks add up to the whole; blocks as ccusage defines them.
    let total = want::sums_by(&all, &prices, |_| ());
    for p in [Period::Monthly, Period::Weekly] {
        let r = usage::build(&rows, &book, &opts(p, None));
        assert_figures(&r.total, &total[&()], &format!("{p:?} total"));
    }
    let blocks = usage::build(&rows, &book, &opts(Period::Blocks, None));
    let wb = want::blocks(&all, &prices);
    assert_eq!(
        blocks.rows.iter().map(|r| r.start).collect::<Vec<_>>(),
        wb.keys().copied().collect::<Vec<_>>(),
        "block starts"
    );
    for r in &blocks.rows {
        assert_eq!(r.end - r.start, TimeDelta::hours(5));
        assert_figures(&r.figures, &wb[&r.start], &format!("block {}", r.start));
    }

    // --since/--until select whole hours; --user and --project filter.
    let first_day = days.keys().next().cloned().unwrap_or_default();
    let since = price::parse_day_or_time(&first_day).unwrap_or(DateTime::UNIX_EPOCH);
    let one_day = store
        .usage_rows(&UsageQuery {
            since: Some(since),
            until: Some(since + TimeDelta::days(1)),
            ..UsageQuery::default()
        })
        .await?;
    let r = usage::build(&one_day, &book, &opts(Period::Daily, None));
    assert_eq!(r.rows.len(), 1);
    assert_figures(&r.total, &days[&first_day], "one day");
    let nobody = store
        .usage_rows(&UsageQuery {
            user: Some("nobody".into()),
            ..UsageQuery::default()
        })
        .await?;
    assert!(nobody.is_empty());
    let mut o = opts(Period::Monthly, Some(By::User));
    o.project = Some("w".into()); // the test's cwd, /w
    let r = usage::build(&rows, &book, &o);
    assert_figures(&r.total, &total[&()], "project /w");
    assert_eq!(r.rows[0].group.as_deref(), Some("alice"));

    let mut table = vec![format!(
        "{:?}: {:<10} {:>5} {:>8} {:>8} {:>10} {:>11}  {}",
        db.backend(),
        "day",
        "msgs",
        "input",
        "output",
        "cache_wr",
        "cache_rd",
        "cost"
    )];
    for (d, s) in &days {
        table.push(format!(
            "  {d} {:>5} {:>8} {:>8} {:>10} {:>11}  ${}",
            s.messages,
            s.input,
            s.output,
            s.cache_write,
            s.cache_read,
            price::usd_exact(s.cost)
        ));
    }
    println!("{}", table.join("\n"));
    Ok(())
}

async fn a_price_imported_later_applies_only_from_its_hour_on(db: TestDb) -> anyhow::Result<()> {
    let sessions = load(&db).await?;
    let mut prices = want::pinned_prices()?;
    let all: Vec<want::Msg> = sessions.iter().flat_map(want::messages).collect();
    // A new opus price from the hour of the median message on, twice the
    // pinned one.
    let mid = all[all.len() / 2].at;
    let from = price::hour_of(mid);
    let store = db.usage();
    let base = usage::book(store.as_ref(), vec![]).await?;
    let pinned = base
        .lookup("claude-opus-4-6", from)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("opus 4.6 is pinned"))?;
    let mut doubled = pinned.clone();
    doubled.valid_from = from;
    doubled.source = "test".into();
    {
        let r = &mut doubled.rates;
        r.input *= 2;
        r.output *= 2;
        r.cache_write_5m *= 2;
        r.cache_write_1h *= 2;
        r.cache_read *= 2;
    }
    assert_eq!(store.put_prices(&[doubled.clone()]).await?, 1);
    assert_eq!(store.stored_prices().await?, vec![doubled.clone()]);
    // A second import of the same row replaces it.
    assert_eq!(store.put_prices(&[doubled]).await?, 1);
    assert_eq!(store.stored_prices().await?.len(), 1);

    let rows = store.usage_rows(&UsageQuery::default()).await?;
    let book = usage::book(store.as_ref(), vec![]).await?;
    let report = usage::build(&rows, &book, &opts(Period::Daily, None));
    let before: Vec<want::Msg> = all.iter().filter(|m| m.at < from).cloned().collect();
    let after: Vec<want::Msg> = all.iter().filter(|m| m.at >= from).cloned().collect();
    let old = want::sums_by(&before, &prices, |_| ());
    let opus = prices
        .get_mut("claude-opus-4-6")
        .ok_or_else(|| anyhow::anyhow!("opus in the JSON"))?;
    for r in opus.base.iter_mut() {
        *r *= 2;
    }
    let new = want::sums_by(&after, &prices, |_| ());
    assert_eq!(
        report.total.cost,
        old[&()].cost + new[&()].cost,
        "messages before {from} keep the pinned price"
    );
    // The session page's per-message costs agree with the report.
    let book2: &PriceBook = &book;
    let mut per_message = 0i128;
    for s in &sessions {
        for m in store.message_usage(&s.session_id).await? {
            per_message += usage::message_cost(book2, &m).unwrap_or_default();
        }
    }
    assert_eq!(per_message, report.total.cost);
    Ok(())
}

async fn a_model_without_a_price_is_reported_unpriced_never_free(db: TestDb) -> anyhow::Result<()> {
    let sessions = load(&db).await?;
    let all: Vec<want::Msg> = sessions.iter().flat_map(want::messages).collect();
    let store = db.usage();
    let rows = store.usage_rows(&UsageQuery::default()).await?;
    // A price book without the Sonnet models.
    let book = PriceBook::new(
        price::pinned()
            .into_iter()
            .filter(|p| !p.model.contains("sonnet"))
            .collect(),
        vec![],
        vec![],
    );
    let report = usage::build(&rows, &book, &opts(Period::Monthly, None));
    let sonnet: Vec<&want::Msg> = all.iter().filter(|m| m.model.contains("sonnet")).collect();
    assert!(!sonnet.is_empty(), "the transcripts use Sonnet");
    let t = &report.total;
    assert!(!t.complete());
    assert_eq!(t.unpriced_messages, sonnet.len() as i64);
    assert_eq!(
        t.unpriced_tokens.output,
        sonnet.iter().map(|m| m.output).sum::<i64>()
    );
    assert!(t.unpriced_models.iter().all(|m| m.contains("sonnet")));
    assert!(t.cost_text().ends_with("+ ?"), "{}", t.cost_text());
    let json = serde_json::to_value(t)?;
    assert_eq!(json["cost_complete"], false);
    assert_eq!(json["unpriced"]["messages"], sonnet.len() as i64);
    Ok(())
}

async fn by_tool_splits_each_message_over_its_tool_calls_and_sums_to_the_whole(
    db: TestDb,
) -> anyhow::Result<()> {
    let sessions = load(&db).await?;
    let prices = want::pinned_prices()?;
    let store = db.usage();
    let book = usage::book(store.as_ref(), vec![]).await?;
    let all: Vec<want::Msg> = sessions.iter().flat_map(want::messages).collect();
    let tools = store
        .usage_rows(&UsageQuery {
            per_tool: true,
            ..UsageQuery::default()
        })
        .await?;
    let report = usage::build(&tools, &book, &opts(Period::Monthly, Some(By::Tool)));
    let wt = want::by_tool(&all, &prices);
    assert!(wt.len() > 3, "the transcripts call several tools: {wt:?}");
    assert!(
        all.iter().any(|m| m.tools.len() > 1),
        "some message calls more than one tool"
    );
    let got: Vec<&str> = report
        .rows
        .iter()
        .map(|r| r.group.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(got, wt.keys().map(String::as_str).collect::<Vec<_>>());
    for r in &report.rows {
        let g = r.group.clone().unwrap_or_default();
        assert_figures(&r.figures, &wt[&g], &format!("tool {g}"));
    }
    // The split loses nothing: the tools sum to the whole, exactly.
    let total = want::sums_by(&all, &prices, |_| ());
    assert_figures(&report.total, &total[&()], "all tools");
    let plain = store.usage_rows(&UsageQuery::default()).await?;
    let whole = usage::build(&plain, &book, &opts(Period::Monthly, None));
    assert_eq!(report.total, whole.total);
    // Per session, subagents apart, as in the other rollup.
    let by_session = usage::build(&tools, &book, &opts(Period::Session, None));
    let plain_sessions = usage::build(&plain, &book, &opts(Period::Session, None));
    for (a, b) in by_session.rows.iter().zip(&plain_sessions.rows) {
        assert_eq!(
            (&a.key, &a.figures, &a.subagents),
            (&b.key, &b.figures, &b.subagents)
        );
    }
    Ok(())
}
