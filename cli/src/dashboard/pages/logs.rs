//! Logs: the lines of the configured sources, filtered.

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hookline_core::ops::logs::{Level, LogFilter, LogLine, LogSearch as _};
use hookline_core::ops::since::parse_since;
use maud::html;
use serde::Deserialize;

use crate::dashboard::views::{error_page, layout, log_table};
use crate::dashboard::{Access, AppState};

#[derive(Deserialize, Default)]
pub struct LogQuery {
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    trace_id: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    since: String,
}

pub async fn logs(
    State(st): State<AppState>,
    Extension(acc): Extension<Access>,
    Query(q): Query<LogQuery>,
) -> Response {
    let since_s = if q.since.trim().is_empty() {
        "1h".to_owned()
    } else {
        q.since.trim().to_owned()
    };
    let since = match parse_since(&since_s) {
        Ok(s) => s,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &acc, &e),
    };
    let level = Level::parse(q.level.trim());
    let filter = LogFilter {
        request_id: Some(q.request_id.trim().to_owned()).filter(|s| !s.is_empty()),
        trace_id: Some(q.trace_id.trim().to_owned()).filter(|s| !s.is_empty()),
        level,
        since: Some(since),
    };
    let lines = match &st.cfg.logs {
        Some(src) => match src.search(&filter).await {
            Ok(l) => Ok(l),
            Err(e) => Err(format!("{e:#}")),
        },
        None => Err("no log source configured: start with --log-file PATH (serve's own log, hook.log) or --group".to_owned()),
    };
    let levels = ["", "trace", "debug", "info", "warn", "error"];
    let body = html! {
        form.search method="get" action="/ui/logs" {
            input type="text" name="request_id" value=(q.request_id) placeholder="request id";
            input type="text" name="trace_id" value=(q.trace_id) placeholder="trace id";
            select name="level" {
                @for l in levels {
                    option value=(l) selected[q.level.eq_ignore_ascii_case(l)] { (if l.is_empty() { "any level" } else { l }) }
                }
            }
            input type="text" name="since" value=(since_s) size="8";
            button type="submit" { "Filter" }
        }
        @match &lines {
            Err(e) => p.error { (e) }
            Ok(lines) => {
                @let shown: Vec<&LogLine> = lines.iter().rev().take(1000).collect();
                p.muted #log-count { (lines.len()) " line(s)" @if lines.len() > shown.len() { ", newest " (shown.len()) " shown" } }
                (log_table(&shown))
            }
        }
    };
    layout(&acc, "Logs", "logs", body).into_response()
}
