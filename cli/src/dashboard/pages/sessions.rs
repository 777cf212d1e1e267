//! The sessions list, filtered by title, cwd or id, by date, by tool (the
//! full-text search of their content is the Search page), a keyset page
//! at a time (`hookline_core::store::page`): "older" and "newer" links
//! carry the cursor, so a deep page costs what the first does.

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate};
use hookline_core::store::{Seek, SessionCursor, SessionFilter, page};
use maud::html;
use serde::Deserialize;

use crate::dashboard::scope::Viewed;
use crate::dashboard::views::{error_page, internal, layout, secs, seg, t};
use crate::dashboard::{Access, AppState};
use crate::text::url_encode;

/// Sessions per page.
pub const PAGE: i64 = 50;

#[derive(Deserialize, Default)]
pub struct SessionQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    tool: String,
    /// The older page: sessions before this cursor.
    #[serde(default)]
    before: String,
    /// The newer page: sessions after this cursor.
    #[serde(default)]
    after: String,
}

impl SessionQuery {
    /// The store's filter and where the page starts, or which field is
    /// wrong.
    fn to_read(&self) -> Result<(SessionFilter, Seek), String> {
        let opt = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let (since, until) = match opt(&self.date) {
            None => (None, None),
            Some(d) => {
                let day = NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                    .map_err(|e| format!("date {d:?}: want YYYY-MM-DD ({e})"))?;
                let start = day.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
                (start, start.map(|s| s + Duration::days(1)))
            }
        };
        let cursor = |s: &str| SessionCursor::parse(s).map_err(|e| e.to_string());
        let at = match (opt(&self.before), opt(&self.after)) {
            (Some(c), _) => Seek::Before(cursor(&c)?),
            (None, Some(c)) => Seek::After(cursor(&c)?),
            (None, None) => Seek::First,
        };
        Ok((
            SessionFilter {
                text: opt(&self.q),
                tool: opt(&self.tool),
                since,
                until,
                ..SessionFilter::default()
            },
            at,
        ))
    }

    /// This page's URL with the filters and `key=cursor`.
    fn link(&self, key: &str, c: &SessionCursor) -> String {
        let mut url = "/ui/sessions?".to_owned();
        for (k, v) in [("q", &self.q), ("date", &self.date), ("tool", &self.tool)] {
            if !v.trim().is_empty() {
                url += &format!("{k}={}&", url_encode(v));
            }
        }
        format!("{url}{key}={}", url_encode(&c.encode()))
    }
}

pub async fn sessions(
    State(st): State<AppState>,
    Extension(acc): Extension<Access>,
    Extension(v): Extension<Viewed>,
    Query(q): Query<SessionQuery>,
) -> Response {
    let (filter, at) = match q.to_read() {
        Ok(r) => r,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &acc, &e),
    };
    let found = match page::page(v.reader.as_ref(), &filter, &at, PAGE).await {
        Ok(p) => p,
        Err(e) => return internal(&acc, e),
    };
    let newer = found.newer.as_ref().map(|c| q.link("after", c));
    let older = found.older.as_ref().map(|c| q.link("before", c));
    let body = html! {
        form.search method="get" action="/ui/sessions" {
            input type="search" name="q" value=(q.q) placeholder="filter: title, cwd or id";
            input type="date" name="date" value=(q.date);
            input type="text" name="tool" value=(q.tool) placeholder="tool name (e.g. Bash)";
            button type="submit" { "Search" }
            a href="/ui/sessions" { "clear" }
        }
        p.muted { (found.sessions.len()) " session(s) on this page · " (st.cfg.description) }
        table #sessions {
            thead { tr { th { "Started" } th { "Duration" } th { "Msgs" } th { "Tools" } th { "Tokens in/out" } th { "Title" } th { "cwd" } } }
            tbody {
                @for s in &found.sessions {
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
        @if found.sessions.is_empty() { p { "No session matches." } }
        p.pages {
            @if let Some(u) = &newer { a #newer href=(u) { "← newer" } " " }
            @if let Some(u) = &older { a #older href=(u) { "older →" } }
        }
    };
    layout(&acc, "Sessions", "sessions", body).into_response()
}
