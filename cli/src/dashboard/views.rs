//! What every page shares: the layout, the error pages, the formatting of
//! times and durations, and the tables two pages show (DLQ messages, log
//! lines). Every value from the store, the queue or a log line goes through
//! maud's escaping (`(value)`), never `PreEscaped`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use hookline_core::ops::dlq::DlqMessage;
use hookline_core::ops::logs::LogLine;
use maud::{DOCTYPE, Markup, html};

use super::Access;
use hookline_core::http::Role;

pub use crate::text::{error_chain, seg, url_encode};

pub fn t(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

pub fn t_opt(at: Option<DateTime<Utc>>) -> String {
    at.map_or("-".into(), t)
}

pub fn ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.0} ms"))
}

pub fn secs(d: i64) -> String {
    match d {
        d if d < 60 => format!("{d}s"),
        d if d < 3600 => format!("{}m{:02}s", d / 60, d % 60),
        d => format!("{}h{:02}m", d / 3600, (d % 3600) / 60),
    }
}

pub fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

pub fn error_page(status: StatusCode, acc: &Access, msg: &str) -> Response {
    (
        status,
        layout(acc, "Error", "", html! { p.error { (msg) } }),
    )
        .into_response()
}

pub fn internal(acc: &Access, e: impl std::fmt::Display) -> Response {
    error_page(StatusCode::INTERNAL_SERVER_ERROR, acc, &e.to_string())
}

pub fn layout(acc: &Access, title: &str, active: &str, body: Markup) -> Markup {
    let nav = [
        ("sessions", "Sessions", "/ui/sessions"),
        ("search", "Search", "/ui/search"),
        ("usage", "Usage", "/ui/usage"),
        ("failures", "Failures", "/ui/failures"),
        ("health", "Health", "/ui/health"),
        ("logs", "Logs", "/ui/logs"),
        ("audit", "Audit", "/ui/audit"),
    ];
    // The operator pages answer a member 403: not offered.
    let operator = ["failures", "health", "logs", "audit"];
    let nav: Vec<_> = nav
        .into_iter()
        .filter(|(id, ..)| acc.role == Role::Admin || !operator.contains(id))
        .collect();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · hookline" }
                link rel="stylesheet" href="/ui/static/app.css";
                script src="/ui/static/app.js" defer {}
            }
            body {
                header {
                    span.brand { "hookline" }
                    nav {
                        @for (key, label, href) in &nav {
                            a href=(href) class=[(*key == active).then_some("active")] { (label) }
                        }
                    }
                    form.header-search method="get" action="/ui/search" {
                        input type="search" name="q" placeholder="search everything" aria-label="full-text search";
                    }
                    span.who {
                        (acc.who)
                        @if acc.cookie {
                            form.inline method="post" action="/ui/logout" {
                                input type="hidden" name="csrf" value=(acc.csrf);
                                button type="submit" { "log out" }
                            }
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

pub fn dlq_table(list: &[DlqMessage]) -> Markup {
    html! {
        @if !list.is_empty() {
            table.matched {
                thead { tr { th { "Request" } th { "Event type" } th { "Session" } th { "Last error" } } }
                tbody {
                    @for m in list {
                        @let id = m.request_id.clone().unwrap_or_else(|| m.message_id.clone());
                        tr {
                            td.mono { a href={ "/ui/trace/" (seg(&id)) } { (id) } }
                            td { (m.event_type.as_deref().unwrap_or("-")) }
                            td.mono { (m.session_id.as_deref().unwrap_or("-")) }
                            td { span.code { (m.error_code().unwrap_or("-")) } " " (m.error_message().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    }
}

pub fn log_table(lines: &[&LogLine]) -> Markup {
    html! {
        table.logs {
            thead { tr { th { "Time" } th { "Level" } th { "Source" } th { "Message" } th { "Request" } } }
            tbody {
                @for l in lines {
                    @let lvl = l.level.map_or("-".into(), |v| format!("{v:?}").to_uppercase());
                    tr class={ "lvl-" (lvl.to_lowercase()) } {
                        td.nowrap.mono { (l.timestamp.map_or("-".into(), |t| t.format("%H:%M:%S%.3f").to_string())) }
                        td { (lvl) }
                        td.mono { (l.function.as_deref().unwrap_or_else(|| l.source.rsplit('/').next().unwrap_or(&l.source))) }
                        td {
                            details {
                                summary { (l.message) }
                                pre { (pretty(&l.raw)) }
                            }
                        }
                        td.mono {
                            @if let Some(r) = &l.request_id { a href={ "/ui/trace/" (seg(r)) } { (r) } } @else { "-" }
                        }
                    }
                }
            }
        }
    }
}
