//! The sessions list, filtered by title, cwd or id, by date, by tool (the
//! full-text search of their content is the Search page).

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use hookline_core::store::SessionSummary;
use maud::html;
use serde::Deserialize;
use std::collections::HashSet;

use crate::dashboard::scope::Viewed;
use crate::dashboard::views::{internal, layout, secs, seg, t};
use crate::dashboard::{Access, AppState};

#[derive(Deserialize, Default)]
pub struct SessionQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    tool: String,
}

fn matches(s: &SessionSummary, q: &str, date: &str) -> bool {
    let q = q.trim().to_lowercase();
    let hit = |v: Option<&str>| v.is_some_and(|v| v.to_lowercase().contains(&q));
    (q.is_empty() || hit(s.title.as_deref()) || hit(s.cwd.as_deref()) || hit(Some(&s.session_id)))
        && (date.trim().is_empty() || s.started_at.format("%Y-%m-%d").to_string() == date.trim())
}

pub async fn sessions(
    State(st): State<AppState>,
    Extension(acc): Extension<Access>,
    Extension(v): Extension<Viewed>,
    Query(q): Query<SessionQuery>,
) -> Response {
    let all = match v.reader.list_sessions(5000).await {
        Ok(v) => v,
        Err(e) => return internal(&acc, e),
    };
    let tool: Option<HashSet<String>> = if q.tool.trim().is_empty() {
        None
    } else {
        match v.reader.sessions_using_tool(q.tool.trim()).await {
            Ok(v) => Some(v.into_iter().collect()),
            Err(e) => return internal(&acc, e),
        }
    };
    let found: Vec<&SessionSummary> = all
        .iter()
        .filter(|s| matches(s, &q.q, &q.date))
        .filter(|s| tool.as_ref().is_none_or(|t| t.contains(&s.session_id)))
        .take(500)
        .collect();
    let body = html! {
        form.search method="get" action="/ui/sessions" {
            input type="search" name="q" value=(q.q) placeholder="filter: title, cwd or id";
            input type="date" name="date" value=(q.date);
            input type="text" name="tool" value=(q.tool) placeholder="tool name (e.g. Bash)";
            button type="submit" { "Search" }
            a href="/ui/sessions" { "clear" }
        }
        p.muted { (found.len()) " of " (all.len()) " session(s) · " (st.cfg.description) }
        table #sessions {
            thead { tr { th { "Started" } th { "Duration" } th { "Msgs" } th { "Tools" } th { "Tokens in/out" } th { "Title" } th { "cwd" } } }
            tbody {
                @for s in &found {
                    tr {
                        td.nowrap { (t(s.started_at)) }
                        td { (s.duration_seconds().map_or("open".into(), secs)) }
                        td.num { (s.message_count) }
                        td.num { (s.tool_use_count) }
                        td.num { (s.input_tokens) " / " (s.output_tokens) }
                        td { a href={ "/ui/sessions/" (seg(&s.session_id)) } { (s.title.as_deref().unwrap_or(&s.session_id)) } }
                        td.mono { (s.cwd.as_deref().unwrap_or("-")) }
                    }
                }
            }
        }
        @if found.is_empty() { p { "No session matches." } }
    };
    layout(&acc, "Sessions", "sessions", body).into_response()
}
