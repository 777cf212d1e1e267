//! The reports of `hookline usage` and the dashboard's Usage page, built
//! from rollup rows: per day, ISO week, month, session, or 5-hour billing
//! block, optionally split by model, user, host, project or tool. Subagents are
//! counted in their parent's figures and shown apart (`subagents`). A row
//! whose model has no price is counted as unpriced (messages and tokens),
//! never as zero dollars.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use serde::Serialize;
use serde::ser::SerializeStruct;

use super::price::{self, Pico, PriceBook};
use super::{Tokens, UsageRow};

/// The unit of a report's rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Daily,
    Weekly,
    Monthly,
    Session,
    /// Anthropic's 5-hour billing windows: a block starts at the hour of
    /// its first message and holds the messages of the next 5 hours; the
    /// next message after that starts the next block.
    Blocks,
}

/// What a report splits its rows by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum By {
    Model,
    User,
    Host,
    /// The session's working directory.
    Project,
    /// The tool_use blocks of the message: its tokens split equally over
    /// them (the remainders to the first), [`NO_TOOL`] when it has none.
    Tool,
}

/// The `--by tool` group of messages without a tool_use block.
pub const NO_TOOL: &str = "(none)";

/// A report's selection and shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportOptions {
    pub period: Period,
    pub by: Option<By>,
    /// Only this user's sessions (also given to the store's query).
    pub user: Option<String>,
    /// Only sessions whose working directory is this path, or ends in this
    /// directory name.
    pub project: Option<String>,
}

/// Messages, tokens and cost of some rows. `cost` is what the priced rows
/// cost; the unpriced ones are counted apart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub messages: i64,
    pub tokens: Tokens,
    pub cost: Pico,
    pub unpriced_messages: i64,
    pub unpriced_tokens: Tokens,
    pub unpriced_models: BTreeSet<String>,
}

impl Figures {
    fn add(&mut self, r: &UsageRow, cost: Option<Pico>) {
        self.messages += r.messages;
        self.tokens.add(&r.tokens);
        match cost {
            Some(c) => self.cost += c,
            None => {
                self.unpriced_messages += r.messages;
                self.unpriced_tokens.add(&r.tokens);
                self.unpriced_models.insert(r.model.clone());
            }
        }
    }

    fn merge(&mut self, o: &Figures) {
        self.messages += o.messages;
        self.tokens.add(&o.tokens);
        self.cost += o.cost;
        self.unpriced_messages += o.unpriced_messages;
        self.unpriced_tokens.add(&o.unpriced_tokens);
        self.unpriced_models
            .extend(o.unpriced_models.iter().cloned());
    }

    /// Whether every message was priced.
    pub fn complete(&self) -> bool {
        self.unpriced_messages == 0
    }

    /// The cost for people: `$12.35`, `$12.35 + unpriced`, `unpriced`.
    pub fn cost_text(&self) -> String {
        let priced = self.messages > self.unpriced_messages;
        match (priced, self.complete()) {
            (_, true) => format!("${}", price::usd_rounded(self.cost, 2)),
            (true, false) => format!("${} + ?", price::usd_rounded(self.cost, 2)),
            (false, false) => "?".to_owned(),
        }
    }
}

impl Serialize for Figures {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Figures", 12)?;
        st.serialize_field("messages", &self.messages)?;
        st.serialize_field("input_tokens", &self.tokens.input)?;
        st.serialize_field("output_tokens", &self.tokens.output)?;
        st.serialize_field("cache_creation_tokens", &self.tokens.cache_creation)?;
        st.serialize_field("cache_creation_5m_tokens", &self.tokens.cache_creation_5m)?;
        st.serialize_field("cache_creation_1h_tokens", &self.tokens.cache_creation_1h)?;
        st.serialize_field("cache_read_tokens", &self.tokens.cache_read)?;
        st.serialize_field("total_tokens", &self.tokens.total())?;
        // The exact figure as a decimal string; a JSON number beside it
        // for scripts that want one (rounded to the micro-dollar).
        st.serialize_field("cost_usd_exact", &price::usd_exact(self.cost))?;
        let micro = price::usd_rounded(self.cost, 6);
        st.serialize_field("cost_usd", &micro.parse::<f64>().unwrap_or_default())?;
        st.serialize_field("cost_complete", &self.complete())?;
        st.serialize_field(
            "unpriced",
            &serde_json::json!({
                "messages": self.unpriced_messages,
                "input_tokens": self.unpriced_tokens.input,
                "output_tokens": self.unpriced_tokens.output,
                "cache_creation_tokens": self.unpriced_tokens.cache_creation,
                "cache_read_tokens": self.unpriced_tokens.cache_read,
                "models": self.unpriced_models,
            }),
        )?;
        st.end()
    }
}

/// A session's own fields, in a session report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SessionInfo {
    pub title: Option<String>,
    pub user: Option<String>,
    pub host: Option<String>,
    pub project: Option<String>,
    pub started_at: DateTime<Utc>,
}

/// One row of a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReportRow {
    /// `2026-02-01` (daily), `2026-01-26` (weekly: its Monday), `2026-02`
    /// (monthly), the session id (session), the block's start (blocks).
    pub key: String,
    /// The `--by` value (`""`: none, e.g. no model).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// First and last hour with usage (blocks: the block's start and end).
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Everything, subagents included.
    #[serde(flatten)]
    pub figures: Figures,
    /// Of which the subagents' messages.
    pub subagents: Figures,
    pub models: BTreeSet<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionInfo>,
    /// Session report: each subagent's own figures (agent id → figures).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub agents: BTreeMap<String, Figures>,
}

/// A whole report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub period: Period,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<By>,
    pub rows: Vec<ReportRow>,
    pub total: Figures,
}

/// Length of a billing block.
pub const BLOCK: TimeDelta = TimeDelta::hours(5);

fn project_matches(cwd: Option<&str>, want: &str) -> bool {
    let Some(cwd) = cwd else { return false };
    let trimmed = cwd.trim_end_matches('/');
    trimmed == want.trim_end_matches('/') || trimmed.rsplit('/').next() == Some(want)
}

fn group_of(by: Option<By>, r: &UsageRow) -> Option<String> {
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    Some(match by? {
        By::Model => r.model.clone(),
        By::User => s(&r.user_name),
        By::Host => s(&r.host),
        By::Project => s(&r.cwd),
        By::Tool if r.tool.is_empty() => NO_TOOL.to_owned(),
        By::Tool => r.tool.clone(),
    })
}

fn period_key(p: Period, r: &UsageRow) -> String {
    match p {
        Period::Daily => r.hour.format("%Y-%m-%d").to_string(),
        Period::Weekly => {
            let d = r.hour.date_naive();
            let monday = d - TimeDelta::days(i64::from(d.weekday().num_days_from_monday()));
            monday.format("%Y-%m-%d").to_string()
        }
        Period::Monthly => r.hour.format("%Y-%m").to_string(),
        Period::Session => r.session_id.clone(),
        // Set per block by `build`.
        Period::Blocks => String::new(),
    }
}

/// The report of `rows` at `book`'s prices.
pub fn build(rows: &[UsageRow], book: &PriceBook, opts: &ReportOptions) -> Report {
    let selected = rows.iter().filter(|r| {
        opts.user
            .as_deref()
            .is_none_or(|u| r.user_name.as_deref() == Some(u))
            && opts
                .project
                .as_deref()
                .is_none_or(|p| project_matches(r.cwd.as_deref(), p))
    });
    // Each row is priced once: at the price of its model valid in its hour,
    // in its context band.
    let priced: Vec<(&UsageRow, Option<Pico>)> = selected
        .map(|r| {
            let cost = book
                .lookup(&r.model, r.hour)
                .map(|p| r.tokens.cost(p.rates_for(r.context_band)));
            (r, cost)
        })
        .collect();
    let mut keyed: Vec<(String, Option<String>, &UsageRow, Option<Pico>)> = Vec::new();
    if opts.period == Period::Blocks {
        let mut by_group: BTreeMap<Option<String>, Vec<(&UsageRow, Option<Pico>)>> =
            BTreeMap::new();
        for (r, c) in &priced {
            by_group
                .entry(group_of(opts.by, r))
                .or_default()
                .push((r, *c));
        }
        for (g, mut rs) in by_group {
            rs.sort_by_key(|(r, _)| r.hour);
            let mut start: Option<DateTime<Utc>> = None;
            for (r, c) in rs {
                // Rows are whole hours and blocks start on one, so a row is
                // in the block iff its hour is before the block's end (a gap
                // of 5 hours since the last message always ends it too).
                let s = match start {
                    Some(s) if r.hour < s + BLOCK => s,
                    _ => r.hour,
                };
                start = Some(s);
                keyed.push((s.to_rfc3339(), g.clone(), r, c));
            }
        }
    } else {
        for (r, c) in &priced {
            keyed.push((period_key(opts.period, r), group_of(opts.by, r), r, *c));
        }
    }
    let mut out: BTreeMap<(String, Option<String>), ReportRow> = BTreeMap::new();
    let mut total = Figures::default();
    for (key, group, r, cost) in keyed {
        let row = out
            .entry((key.clone(), group.clone()))
            .or_insert_with(|| ReportRow {
                key,
                group,
                start: r.hour,
                end: r.hour,
                figures: Figures::default(),
                subagents: Figures::default(),
                models: BTreeSet::new(),
                session: (opts.period == Period::Session).then(|| SessionInfo {
                    title: r.title.clone(),
                    user: r.user_name.clone(),
                    host: r.host.clone(),
                    project: r.cwd.clone(),
                    started_at: r.started_at,
                }),
                agents: BTreeMap::new(),
            });
        row.start = row.start.min(r.hour);
        row.end = row.end.max(r.hour);
        row.figures.add(r, cost);
        if !r.model.is_empty() {
            row.models.insert(r.model.clone());
        }
        if !r.agent_id.is_empty() {
            row.subagents.add(r, cost);
            if opts.period == Period::Session {
                row.agents
                    .entry(r.agent_id.clone())
                    .or_default()
                    .add(r, cost);
            }
        }
        total.add(r, cost);
    }
    let mut rows: Vec<ReportRow> = out.into_values().collect();
    match opts.period {
        Period::Blocks => {
            for r in &mut rows {
                r.end = r.start + BLOCK;
            }
            rows.sort_by(|a, b| (a.start, &a.group).cmp(&(b.start, &b.group)));
        }
        Period::Session => rows.sort_by(|a, b| {
            let at = |r: &ReportRow| r.session.as_ref().map(|s| s.started_at);
            (at(a), &a.key, &a.group).cmp(&(at(b), &b.key, &b.group))
        }),
        _ => {}
    }
    Report {
        period: opts.period,
        by: opts.by,
        rows,
        total,
    }
}

/// The sessions of `report` (a session report) by cost, dearest first.
pub fn top_by_cost(report: &Report, n: usize) -> Vec<&ReportRow> {
    let mut rows: Vec<&ReportRow> = report.rows.iter().collect();
    rows.sort_by(|a, b| b.figures.cost.cmp(&a.figures.cost).then(a.key.cmp(&b.key)));
    rows.truncate(n);
    rows
}

/// Sums figures (e.g. a report's rows of one key over its groups).
pub fn sum<'a>(it: impl IntoIterator<Item = &'a Figures>) -> Figures {
    let mut f = Figures::default();
    for x in it {
        f.merge(x);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::price::{Price, Rates};

    fn row(sid: &str, hour: &str, model: &str, agent: &str, input: i64, output: i64) -> UsageRow {
        let h = price::parse_day_or_time(hour).unwrap_or(DateTime::UNIX_EPOCH);
        UsageRow {
            session_id: sid.into(),
            hour: h,
            model: model.into(),
            agent_id: agent.into(),
            context_band: 0,
            tool: String::new(),
            messages: 1,
            tokens: Tokens {
                input,
                output,
                ..Tokens::default()
            },
            user_name: Some("alice".into()),
            host: Some("devbox".into()),
            cwd: Some("/w/proj".into()),
            title: None,
            started_at: h,
        }
    }

    fn book() -> PriceBook {
        let p = Price {
            model: "m".into(),
            valid_from: DateTime::UNIX_EPOCH,
            source: "t".into(),
            rates: Rates {
                input: 3_000_000,
                output: 15_000_000,
                ..Rates::default()
            },
            tier: None,
        };
        PriceBook::new(vec![p], vec![], vec![])
    }

    fn opts(period: Period) -> ReportOptions {
        ReportOptions {
            period,
            by: None,
            user: None,
            project: None,
        }
    }

    #[test]
    fn days_sum_their_rows_and_subagents_are_shown_apart() -> anyhow::Result<()> {
        let rows = [
            row("s", "2026-02-01T10:00:00Z", "m", "", 100, 10),
            row("s", "2026-02-01T11:00:00Z", "m", "a1", 1000, 100),
            row("s", "2026-02-02T01:00:00Z", "m", "", 1, 1),
        ];
        let r = build(&rows, &book(), &opts(Period::Daily));
        assert_eq!(r.rows.len(), 2);
        assert_eq!(r.rows[0].figures.tokens.input, 1100);
        assert_eq!(r.rows[0].subagents.tokens.input, 1000);
        assert_eq!(r.rows[0].figures.cost, 1100 * 3_000_000 + 110 * 15_000_000);
        assert_eq!(r.total.messages, 3);
        Ok(())
    }

    #[test]
    fn an_unpriced_model_is_counted_but_never_costs_zero() -> anyhow::Result<()> {
        let rows = [
            row("s", "2026-02-01T10:00:00Z", "m", "", 100, 10),
            row("s", "2026-02-01T10:00:00Z", "gpt-x", "", 5, 5),
        ];
        let r = build(&rows, &book(), &opts(Period::Monthly));
        let f = &r.rows[0].figures;
        assert!(!f.complete());
        assert_eq!(f.unpriced_messages, 1);
        assert_eq!(f.unpriced_tokens.total(), 10);
        assert!(f.unpriced_models.contains("gpt-x"));
        assert!(f.cost_text().ends_with("+ ?"));
        Ok(())
    }

    #[test]
    fn blocks_start_at_the_first_hour_and_last_five_hours() -> anyhow::Result<()> {
        let rows = [
            row("s", "2026-02-01T10:00:00Z", "m", "", 1, 1),
            row("s", "2026-02-01T14:00:00Z", "m", "", 1, 1),
            row("t", "2026-02-01T15:00:00Z", "m", "", 1, 1),
            row("t", "2026-02-02T03:00:00Z", "m", "", 1, 1),
        ];
        let r = build(&rows, &book(), &opts(Period::Blocks));
        let starts: Vec<String> = r.rows.iter().map(|r| r.start.to_rfc3339()).collect();
        assert_eq!(
            starts,
            [
                "2026-02-01T10:00:00+00:00",
                "2026-02-01T15:00:00+00:00",
                "2026-02-02T03:00:00+00:00"
            ]
        );
        assert_eq!(r.rows[0].figures.messages, 2);
        Ok(())
    }

    #[test]
    fn weeks_start_on_monday_and_projects_match_by_name() -> anyhow::Result<()> {
        // 2026-02-01 is a Sunday.
        let rows = [
            row("s", "2026-02-01T10:00:00Z", "m", "", 1, 1),
            row("s", "2026-02-02T10:00:00Z", "m", "", 1, 1),
        ];
        let r = build(&rows, &book(), &opts(Period::Weekly));
        let keys: Vec<&str> = r.rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["2026-01-26", "2026-02-02"]);
        let mut o = opts(Period::Monthly);
        o.project = Some("proj".into());
        assert_eq!(build(&rows, &book(), &o).total.messages, 2);
        o.project = Some("other".into());
        assert_eq!(build(&rows, &book(), &o).total.messages, 0);
        Ok(())
    }
}
