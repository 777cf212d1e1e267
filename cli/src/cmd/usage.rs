//! `hookline usage`: what sessions, models, users, hosts, projects and
//! tools spent (docs/usage.md). Parses the options and renders; the report is
//! `hookline_core::usage::report::build` over the store's rollup.

use chrono::{DateTime, TimeDelta, Utc};
use comfy_table::{CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use hookline_core::usage::{self, By, Figures, Period, Report, ReportOptions};

use crate::config::{PriceArgs, Role, StoreArgs};
use crate::text::one_line;

#[derive(Debug, clap::Args)]
pub struct Opts {
    #[command(subcommand)]
    view: View,
    #[command(flatten)]
    filter: Filter,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    prices: PriceArgs,
}

#[derive(Debug, Clone, Copy, clap::Subcommand)]
enum View {
    /// One row per UTC day.
    Daily,
    /// One row per ISO week (Monday to Sunday, UTC), keyed by its Monday.
    Weekly,
    /// One row per calendar month (UTC).
    Monthly,
    /// One row per session, its subagents apart.
    Session,
    /// Anthropic's 5-hour billing blocks: a block starts at the hour of its
    /// first message and lasts 5 hours.
    Blocks,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ByArg {
    /// The model of the messages (an unpriced model shows as such).
    Model,
    /// The OS user the hook stamped.
    User,
    /// The host the hook stamped.
    Host,
    /// The session's working directory.
    Project,
    /// The tools the messages called: a message's tokens split equally
    /// over its tool_use blocks, "(none)" for a message without one.
    Tool,
}

#[derive(Debug, Clone, clap::Args)]
struct Filter {
    /// Split each row by model, user, host, project or tool.
    #[arg(long, global = true, value_enum)]
    by: Option<ByArg>,
    /// Only the sessions of this OS user.
    #[arg(long, global = true, value_name = "NAME")]
    user: Option<String>,
    /// Only the sessions whose working directory is this path or ends in
    /// this directory name.
    #[arg(long, global = true, value_name = "DIR")]
    project: Option<String>,
    /// From this UTC day on (YYYY-MM-DD or YYYYMMDD), inclusive.
    #[arg(long, global = true, value_name = "DAY", value_parser = day)]
    since: Option<DateTime<Utc>>,
    /// Up to this UTC day (YYYY-MM-DD or YYYYMMDD), inclusive.
    #[arg(long, global = true, value_name = "DAY", value_parser = day)]
    until: Option<DateTime<Utc>>,
    /// Print JSON (exact costs as decimal strings, `cost_usd_exact`).
    #[arg(long, global = true, conflicts_with = "csv")]
    json: bool,
    /// Print CSV, one line per row.
    #[arg(long, global = true)]
    csv: bool,
}

pub fn day(s: &str) -> Result<DateTime<Utc>, String> {
    if s.contains('T') {
        return Err(format!("{s:?}: give a day, YYYY-MM-DD or YYYYMMDD"));
    }
    usage::price::parse_day_or_time(s).ok_or_else(|| format!("{s:?} is not YYYY-MM-DD or YYYYMMDD"))
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    let overrides = opts.prices.overrides()?;
    let stores = opts.store.open(Role::Operator).await?;
    let f = &opts.filter;
    if let (Some(s), Some(u)) = (f.since, f.until) {
        anyhow::ensure!(s <= u, "--since is after --until");
    }
    let report = usage::report(
        stores.usage.as_ref(),
        overrides,
        f.since,
        f.until.map(|u| u + TimeDelta::days(1)),
        &options(opts.view, f),
    )
    .await?;
    if f.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if f.csv {
        print!("{}", csv(&report)?);
    } else {
        print!("{}", table(&report));
    }
    Ok(())
}

fn options(view: View, f: &Filter) -> ReportOptions {
    ReportOptions {
        period: match view {
            View::Daily => Period::Daily,
            View::Weekly => Period::Weekly,
            View::Monthly => Period::Monthly,
            View::Session => Period::Session,
            View::Blocks => Period::Blocks,
        },
        by: f.by.map(|b| match b {
            ByArg::Model => By::Model,
            ByArg::User => By::User,
            ByArg::Host => By::Host,
            ByArg::Project => By::Project,
            ByArg::Tool => By::Tool,
        }),
        user: f.user.clone(),
        project: f.project.clone(),
    }
}

fn key_title(p: Period) -> &'static str {
    match p {
        Period::Daily => "DAY",
        Period::Weekly => "WEEK OF",
        Period::Monthly => "MONTH",
        Period::Session => "SESSION",
        Period::Blocks => "BLOCK (UTC)",
    }
}

fn key_text(report: &Report, r: &usage::ReportRow) -> String {
    match report.period {
        // The end's date when it is another day than the start's.
        Period::Blocks => format!(
            "{} – {}",
            r.start.format("%Y-%m-%d %H:%M"),
            r.end.format(if r.end.date_naive() == r.start.date_naive() {
                "%H:%M"
            } else {
                "%Y-%m-%d %H:%M"
            })
        ),
        _ => r.key.clone(),
    }
}

fn num(n: i64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) && c != '-' {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn figures_cells(f: &Figures) -> Vec<String> {
    vec![
        num(f.messages),
        num(f.tokens.input),
        num(f.tokens.output),
        num(f.tokens.cache_creation),
        num(f.tokens.cache_read),
        num(f.tokens.total()),
        f.cost_text(),
    ]
}

/// The report as a terminal table; the unpriced models are named below it.
pub fn table(report: &Report) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    let mut head = vec![key_title(report.period).to_owned()];
    if let Some(by) = report.by {
        head.push(format!("{by:?}").to_uppercase());
    }
    if report.period == Period::Session {
        head.push("TITLE".into());
    }
    head.extend(
        [
            "MSGS",
            "INPUT",
            "OUTPUT",
            "CACHE WRITE",
            "CACHE READ",
            "TOTAL TOKENS",
            "COST",
            "SUBAGENTS",
        ]
        .map(String::from),
    );
    let width = head.len();
    t.set_header(head);
    for r in &report.rows {
        let mut cells = vec![key_text(report, r)];
        if report.by.is_some() {
            let g = r.group.clone().unwrap_or_default();
            cells.push(if g.is_empty() {
                "-".into()
            } else {
                one_line(&g, 40)
            });
        }
        if let Some(s) = &r.session {
            cells.push(one_line(s.title.as_deref().unwrap_or("-"), 40));
        }
        cells.extend(figures_cells(&r.figures));
        cells.push(if r.subagents.messages == 0 {
            "-".into()
        } else {
            format!(
                "{} msgs, {}",
                num(r.subagents.messages),
                r.subagents.cost_text()
            )
        });
        t.add_row(cells);
        for (agent, f) in &r.agents {
            let mut cells = vec![format!("  └ agent {}", one_line(agent, 24))];
            cells.resize(width - 8, String::new());
            cells.extend(figures_cells(f));
            cells.push(String::new());
            t.add_row(cells);
        }
    }
    let mut total = vec!["TOTAL".to_owned()];
    total.resize(width - 8, String::new());
    total.extend(figures_cells(&report.total));
    total.push(String::new());
    t.add_row(total);
    for i in (width - 8)..width {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut out = format!("{t}\n");
    if !report.total.complete() {
        let models: Vec<&str> = report
            .total
            .unpriced_models
            .iter()
            .map(|m| {
                if m.is_empty() {
                    "(no model)"
                } else {
                    m.as_str()
                }
            })
            .collect();
        out += &format!(
            "? unpriced: {} messages, {} tokens of models with no price: {} (hookline prices import FILE, or HOOKLINE_PRICES_FILE)\n",
            num(report.total.unpriced_messages),
            num(report.total.unpriced_tokens.total()),
            models.join(", ")
        );
    }
    if report.rows.is_empty() {
        out += "(no usage in this selection)\n";
    }
    out
}

/// The report as CSV: one line per row (and per subagent of a session).
pub fn csv(report: &Report) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "key",
        "group",
        "agent",
        "start",
        "end",
        "messages",
        "input_tokens",
        "output_tokens",
        "cache_creation_tokens",
        "cache_creation_5m_tokens",
        "cache_creation_1h_tokens",
        "cache_read_tokens",
        "total_tokens",
        "cost_usd",
        "cost_complete",
        "unpriced_messages",
        "subagent_messages",
        "subagent_cost_usd",
        "models",
    ])?;
    let line = |w: &mut csv::Writer<Vec<u8>>,
                r: &usage::ReportRow,
                agent: &str,
                f: &Figures,
                sub: Option<&Figures>|
     -> anyhow::Result<()> {
        let t = &f.tokens;
        w.write_record([
            r.key.clone(),
            r.group.clone().unwrap_or_default(),
            agent.to_owned(),
            r.start.to_rfc3339(),
            r.end.to_rfc3339(),
            f.messages.to_string(),
            t.input.to_string(),
            t.output.to_string(),
            t.cache_creation.to_string(),
            t.cache_creation_5m.to_string(),
            t.cache_creation_1h.to_string(),
            t.cache_read.to_string(),
            t.total().to_string(),
            usage::price::usd_exact(f.cost),
            f.complete().to_string(),
            f.unpriced_messages.to_string(),
            sub.map(|s| s.messages.to_string()).unwrap_or_default(),
            sub.map(|s| usage::price::usd_exact(s.cost))
                .unwrap_or_default(),
            r.models.iter().cloned().collect::<Vec<_>>().join(" "),
        ])?;
        Ok(())
    };
    for r in &report.rows {
        line(&mut w, r, "", &r.figures, Some(&r.subagents))?;
        for (agent, f) in &r.agents {
            line(&mut w, r, agent, f, None)?;
        }
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
