//! Full-text search: the header's search box lands here. The same engine
//! and query language as `hookline search` (docs/search.md); each hit
//! links into its session page at the message or tool call.

use axum::Extension;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hookline_core::search::{self, Filters, Hit, Kind, Search};
use maud::{Markup, html};
use serde::Deserialize;

use crate::dashboard::Access;
use crate::dashboard::scope::Viewed;
use crate::dashboard::views::{error_page, internal, layout, seg, t, url_encode};

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    host: String,
    #[serde(default)]
    project: String,
    #[serde(default)]
    tool: String,
    #[serde(default)]
    kind: String,
    /// A day, YYYY-MM-DD (from it on).
    #[serde(default)]
    since: String,
    /// A day, YYYY-MM-DD (to its end).
    #[serde(default)]
    until: String,
    #[serde(default)]
    session: String,
    #[serde(default)]
    offset: i64,
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// The `id` of a hit's row on the session page.
pub fn row_id(kind: Kind, anchor: &str) -> String {
    match kind {
        Kind::Prompt | Kind::Reply => format!("msg-{anchor}"),
        Kind::ToolInput | Kind::ToolResult | Kind::Path => format!("tool-{anchor}"),
    }
}

fn filters(q: &SearchQuery) -> Result<Filters, String> {
    let day = |s: &str, what: &str| {
        opt(s)
            .map(|d| {
                hookline_core::usage::price::parse_day_or_time(&d)
                    .ok_or_else(|| format!("{what} {d:?} is not a day (YYYY-MM-DD)"))
            })
            .transpose()
    };
    let kind = opt(&q.kind)
        .map(|k| Kind::parse(&k).ok_or_else(|| format!("unknown kind {k:?}")))
        .transpose()?;
    Ok(Filters {
        user: opt(&q.user),
        host: opt(&q.host),
        project: opt(&q.project),
        tool: opt(&q.tool),
        since: day(&q.since, "since")?,
        until: day(&q.until, "until")?.map(|d| d + chrono::TimeDelta::days(1)),
        session: opt(&q.session),
        kind,
        // The viewer's scope is added by its search store (`Viewed`).
        owners: None,
    })
}

fn snippet(h: &Hit) -> Markup {
    html! {
        @for f in &h.snippet {
            @if f.hit { mark { (f.text) } } @else { (f.text) }
        }
    }
}

pub async fn search(
    Extension(acc): Extension<Access>,
    Extension(v): Extension<Viewed>,
    Query(q): Query<SearchQuery>,
) -> Response {
    let form = html! {
        form.search method="get" action="/ui/search" {
            input type="search" name="q" value=(q.q) placeholder="words, \"a phrase\", prefix*, -not" autofocus;
            input type="text" name="user" value=(q.user) placeholder="user";
            input type="text" name="host" value=(q.host) placeholder="host";
            input type="text" name="project" value=(q.project) placeholder="project (cwd)";
            input type="text" name="tool" value=(q.tool) placeholder="tool";
            select name="kind" {
                option value="" { "any kind" }
                @for k in Kind::ALL {
                    option value=(k.as_str()) selected[q.kind == k.as_str()] { (k.as_str()) }
                }
            }
            input type="date" name="since" value=(q.since) title="since";
            input type="date" name="until" value=(q.until) title="until";
            input type="text" name="session" value=(q.session) placeholder="session id";
            button type="submit" { "Search" }
        }
    };
    let Some(engine) = v.search.as_ref() else {
        return error_page(StatusCode::NOT_FOUND, &acc, "Search is not available here.");
    };
    if q.q.trim().is_empty() {
        let body =
            html! { (form) p.muted { "Prompts, replies, tool inputs and results, file paths." } };
        return layout(&acc, "Search", "search", body).into_response();
    }
    let parsed = filters(&q).and_then(|f| Search::parse(&q.q, f).map_err(|e| e.to_string()));
    let s = match parsed {
        Ok(s) => Search {
            offset: q.offset.max(0),
            ..s
        },
        Err(e) => {
            let body = html! { (form) p.error #search-error { (e) } };
            return (
                StatusCode::BAD_REQUEST,
                layout(&acc, "Search", "search", body),
            )
                .into_response();
        }
    };
    let page = match search::search(engine.as_ref(), &s).await {
        Ok(p) => p,
        Err(e) => return internal(&acc, e),
    };
    let next = page.next_offset.map(|o| {
        let mut url = format!("/ui/search?q={}", url_encode(&q.q));
        for (k, v) in [
            ("user", &q.user),
            ("host", &q.host),
            ("project", &q.project),
            ("tool", &q.tool),
            ("kind", &q.kind),
            ("since", &q.since),
            ("until", &q.until),
            ("session", &q.session),
        ] {
            if !v.trim().is_empty() {
                url += &format!("&{k}={}", url_encode(v));
            }
        }
        format!("{url}&offset={o}")
    });
    let body = html! {
        (form)
        table #hits {
            thead { tr { th { "At" } th { "Kind" } th { "Session" } th { "Snippet" } } }
            tbody {
                @for h in &page.hits {
                    tr {
                        td.nowrap { (t(h.at)) }
                        td { (h.kind.as_str()) @if let Some(tool) = &h.tool_name { " " b { (tool) } } }
                        td {
                            a href={ "/ui/sessions/" (seg(&h.session_id)) "#" (url_encode(&row_id(h.kind, &h.anchor))) } {
                                (h.title.as_deref().unwrap_or(&h.session_id))
                            }
                        }
                        td.snippet { (snippet(h)) }
                    }
                }
            }
        }
        @if page.hits.is_empty() { p { "No hit." } }
        @if let Some(n) = next { p { a href=(n) { "next page" } } }
    };
    layout(&acc, "Search", "search", body).into_response()
}
