//! Usage: spend and tokens per day as a chart (server-rendered SVG), split
//! by model, user, project or tool; the days in a table; the dearest sessions,
//! each linking to its page. The reports are `hookline_core::usage`'s, as
//! `hookline usage` prints them.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::TimeDelta;
use hookline_core::usage::{self, By, Period, ReportOptions, UsageQuery, price, report};
use maud::{Markup, html};
use serde::Deserialize;

use crate::dashboard::scope::Viewed;
use crate::dashboard::views::{error_page, internal, layout, seg};
use crate::dashboard::{Access, AppState};

#[derive(Deserialize, Default)]
pub struct UsageParams {
    /// model (default), user, project or tool.
    #[serde(default)]
    by: String,
    /// YYYY-MM-DD, inclusive.
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
}

const COLORS: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f",
];

fn dollars(p: price::Pico) -> String {
    format!("${}", price::usd_rounded(p, 2))
}

/// Stacked bars of cost per day, one colour per group.
fn chart(days: &[String], groups: &[String], cost: &BTreeMap<(String, String), i128>) -> Markup {
    let (w, h, pad) = (860.0_f64, 240.0_f64, 40.0_f64);
    let totals: Vec<i128> = days
        .iter()
        .map(|d| {
            groups
                .iter()
                .map(|g| cost.get(&(d.clone(), g.clone())).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1) as f64;
    let slot = (w - pad) / days.len().max(1) as f64;
    let bar = (slot * 0.7).max(1.0);
    html! {
        svg #usage-chart width=(w) height=(h + 30.0) viewBox={ "0 0 " (w) " " (h + 30.0) } role="img" aria-label="cost per day" {
            line x1=(pad) y1=(h) x2=(w) y2=(h) stroke="#999" {}
            text x="0" y="12" font-size="11" { (dollars(max as i128)) }
            text x="0" y=(h) font-size="11" { "$0" }
            @for (i, d) in days.iter().enumerate() {
                @let x = pad + i as f64 * slot + (slot - bar) / 2.0;
                @let mut y = h;
                @for (j, g) in groups.iter().enumerate() {
                    @let c = cost.get(&(d.clone(), g.clone())).copied().unwrap_or(0);
                    @if c > 0 {
                        @let bh = (c as f64 / max) * (h - 20.0);
                        @let top = { y -= bh; y };
                        rect x=(format!("{x:.1}")) y=(format!("{top:.1}")) width=(format!("{bar:.1}")) height=(format!("{bh:.1}")) fill=(COLORS[j % COLORS.len()]) {
                            title { (d) " · " (if g.is_empty() { "-" } else { g }) " · " (dollars(c)) }
                        }
                    }
                }
                text x=(format!("{:.1}", x)) y=(h + 14.0) font-size="10" { (d.get(5..).unwrap_or(d)) }
            }
        }
        p.legend {
            @for (j, g) in groups.iter().enumerate() {
                // A presentation attribute, not a style: the page's CSP
                // (style-src 'self') drops inline styles.
                svg.swatch width="10" height="10" viewBox="0 0 10 10" aria-hidden="true" {
                    rect width="10" height="10" fill=(COLORS[j % COLORS.len()]) {}
                }
                " " (if g.is_empty() { "-" } else { g }) " "
            }
        }
    }
}

pub async fn usage(
    State(st): State<AppState>,
    Extension(acc): Extension<Access>,
    Extension(v): Extension<Viewed>,
    Query(q): Query<UsageParams>,
) -> Response {
    let (Some(u), Some(store)) = (st.usage.as_ref(), v.usage.as_ref()) else {
        return error_page(StatusCode::NOT_FOUND, &acc, "Usage is not configured here.");
    };
    let by = match q.by.as_str() {
        "" | "model" => By::Model,
        "user" => By::User,
        "project" => By::Project,
        "tool" => By::Tool,
        other => {
            return error_page(
                StatusCode::BAD_REQUEST,
                &acc,
                &format!("by: {other:?} is not model, user, project or tool"),
            );
        }
    };
    let day = |s: &str, field: &str| -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
        if s.trim().is_empty() {
            return Ok(None);
        }
        price::parse_day_or_time(s.trim())
            .map(Some)
            .ok_or_else(|| format!("{field}: {s:?} is not YYYY-MM-DD"))
    };
    let (since, until) = match (day(&q.since, "since"), day(&q.until, "until")) {
        (Ok(s), Ok(u)) => (s, u),
        (Err(e), _) | (_, Err(e)) => return error_page(StatusCode::BAD_REQUEST, &acc, &e),
    };
    let query = UsageQuery {
        since,
        until: until.map(|u| u + TimeDelta::days(1)),
        ..UsageQuery::default()
    };
    // A member's store holds its users' rows only: their spend, no team
    // aggregate.
    let rows = match store.usage_rows(&query).await {
        Ok(r) => r,
        Err(e) => return internal(&acc, e),
    };
    // The split by tool reads the per-tool rollup; the rest the other.
    let split_rows = if by == By::Tool {
        let q = UsageQuery {
            per_tool: true,
            ..query.clone()
        };
        match store.usage_rows(&q).await {
            Ok(r) => r,
            Err(e) => return internal(&acc, e),
        }
    } else {
        rows.clone()
    };
    let book = match usage::book(store.as_ref(), u.overrides.clone()).await {
        Ok(b) => b,
        Err(e) => return internal(&acc, e),
    };
    let opts = |period, by| ReportOptions {
        period,
        by,
        user: None,
        project: None,
    };
    let daily = usage::build(&split_rows, &book, &opts(Period::Daily, Some(by)));
    let plain = usage::build(&rows, &book, &opts(Period::Daily, None));
    let sessions = usage::build(&rows, &book, &opts(Period::Session, None));
    let days: Vec<String> = plain.rows.iter().map(|r| r.key.clone()).collect();
    let mut group_cost: BTreeMap<String, i128> = BTreeMap::new();
    let mut cost = BTreeMap::new();
    for r in &daily.rows {
        let g = r.group.clone().unwrap_or_default();
        *group_cost.entry(g.clone()).or_default() += r.figures.cost;
        cost.insert((r.key.clone(), g), r.figures.cost);
    }
    let mut groups: Vec<String> = group_cost.keys().cloned().collect();
    groups.sort_by(|a, b| group_cost[b].cmp(&group_cost[a]).then(a.cmp(b)));
    let top = report::top_by_cost(&sessions, 20);
    let t = &plain.total;
    let body = html! {
        form.search method="get" action="/ui/usage" {
            label { "split by " select name="by" {
                @for (v, b) in [("model", By::Model), ("user", By::User), ("project", By::Project), ("tool", By::Tool)] {
                    option value=(v) selected[by == b] { (v) }
                }
            } }
            input type="date" name="since" value=(q.since);
            input type="date" name="until" value=(q.until);
            button type="submit" { "Show" }
            a href="/ui/usage" { "clear" }
        }
        p #usage-total {
            b { (t.cost_text()) } " for " (t.messages) " assistant messages, "
            (t.tokens.total()) " tokens (" (t.tokens.input) " in, " (t.tokens.output) " out, "
            (t.tokens.cache_creation) " cache write, " (t.tokens.cache_read) " cache read)"
            @if !t.complete() {
                " · " span.error { (t.unpriced_messages) " messages of unpriced models: "
                    (t.unpriced_models.iter().cloned().collect::<Vec<_>>().join(", ")) }
            }
        }
        h2 { "Cost per day by " (format!("{by:?}").to_lowercase()) }
        (chart(&days, &groups, &cost))
        table #usage-days {
            thead { tr { th { "Day" } th { "Msgs" } th { "Input" } th { "Output" } th { "Cache write" } th { "Cache read" } th { "Cost" } th { "of which subagents" } } }
            tbody {
                @for r in &plain.rows {
                    tr {
                        td.nowrap { (r.key) }
                        td.num { (r.figures.messages) }
                        td.num { (r.figures.tokens.input) }
                        td.num { (r.figures.tokens.output) }
                        td.num { (r.figures.tokens.cache_creation) }
                        td.num { (r.figures.tokens.cache_read) }
                        td.num { (r.figures.cost_text()) }
                        td.num { (r.subagents.cost_text()) }
                    }
                }
            }
        }
        h2 { "Top sessions by cost" }
        table #usage-top {
            thead { tr { th { "Session" } th { "User" } th { "Project" } th { "Msgs" } th { "Tokens" } th { "Cost" } th { "Subagents" } } }
            tbody {
                @for r in &top {
                    tr {
                        td { a href={ "/ui/sessions/" (seg(&r.key)) } {
                            (r.session.as_ref().and_then(|s| s.title.clone()).unwrap_or_else(|| r.key.clone())) } }
                        td { (r.session.as_ref().and_then(|s| s.user.clone()).unwrap_or_default()) }
                        td.mono { (r.session.as_ref().and_then(|s| s.project.clone()).unwrap_or_default()) }
                        td.num { (r.figures.messages) }
                        td.num { (r.figures.tokens.total()) }
                        td.num { (r.figures.cost_text()) }
                        td.num { (r.subagents.cost_text()) }
                    }
                }
            }
        }
        @if plain.rows.is_empty() { p { "No usage in this selection." } }
    };
    layout(&acc, "Usage", "usage", body).into_response()
}
