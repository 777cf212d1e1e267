//! One session: its facts and its conversation, tool calls folded.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hookline_core::store::Step;
use maud::html;

use crate::dashboard::scope::Viewed;
use crate::dashboard::views::{error_page, internal, layout, pretty, secs, seg, t, t_opt};
use crate::dashboard::{Access, AppState};

pub async fn session(
    State(st): State<AppState>,
    Extension(acc): Extension<Access>,
    Extension(viewed): Extension<Viewed>,
    Path(id): Path<String>,
) -> Response {
    // Another user's session is not there for a member: 404, as unknown.
    let v = match viewed.reader.session(&id).await {
        Ok(Some(v)) => v,
        Ok(None) => return error_page(StatusCode::NOT_FOUND, &acc, &format!("No session {id}.")),
        Err(e) => return internal(&acc, e),
    };
    let s = &v.summary;
    // Cost per message and in total, at the price of each message's time.
    let costs = match (st.usage.as_ref(), viewed.usage.as_ref()) {
        (None, _) | (_, None) => None,
        (Some(u), Some(store)) => {
            let book = match hookline_core::usage::book(store.as_ref(), u.overrides.clone()).await {
                Ok(b) => b,
                Err(e) => return internal(&acc, e),
            };
            match store.message_usage(&s.session_id).await {
                Ok(ms) => Some(
                    ms.into_iter()
                        .map(|m| {
                            let c = hookline_core::usage::message_cost(&book, &m);
                            (m, c)
                        })
                        .collect::<Vec<_>>(),
                ),
                Err(e) => return internal(&acc, e),
            }
        }
    };
    let usd = |p: i128| format!("${}", hookline_core::usage::price::usd_rounded(p, 4));
    let gaps: Vec<Option<i64>> = std::iter::once(None)
        .chain(
            v.steps
                .windows(2)
                .map(|w| Some((w[1].at() - w[0].at()).num_milliseconds())),
        )
        .collect();
    let body = html! {
        dl.facts {
            dt { "Session" } dd.mono { (s.session_id) }
            dt { "Title" } dd { (s.title.as_deref().unwrap_or("-")) }
            dt { "cwd" } dd.mono { (s.cwd.as_deref().unwrap_or("-")) }
            dt { "User / host" } dd { (s.user_name.as_deref().unwrap_or("-")) " @ " (s.host.as_deref().unwrap_or("-")) }
            dt { "Started" } dd { (t(s.started_at)) " (" (v.start_source.as_deref().unwrap_or("-")) ")" }
            dt { "Ended" } dd { (t_opt(s.ended_at)) " (" (s.end_reason.as_deref().unwrap_or("-")) ")" }
            dt { "Duration" } dd { (s.duration_seconds().map_or("open".into(), secs)) }
            dt { "Model" } dd { (v.model.as_deref().unwrap_or("-")) }
            dt { "Messages / tool uses" } dd { (s.message_count) " / " (s.tool_use_count) }
            dt { "Tokens" } dd { "in " (s.input_tokens) " · out " (s.output_tokens) }
            @if let Some(cs) = &costs {
                @let total: i128 = cs.iter().filter_map(|(_, c)| *c).sum();
                @let unpriced = cs.iter().filter(|(_, c)| c.is_none()).count();
                dt { "Cost" } dd #session-cost {
                    (usd(total))
                    @if unpriced > 0 { " + " (unpriced) " message(s) of unpriced models" }
                }
            }
        }
        @if let Some(cs) = &costs {
            @if !cs.is_empty() {
                details #message-costs {
                    summary { "Cost per message (" (cs.len()) ")" }
                    table {
                        thead { tr { th { "At" } th { "Model" } th { "Agent" } th { "Input" } th { "Output" } th { "Cache write" } th { "Cache read" } th { "Cost" } } }
                        tbody {
                            @for (m, c) in cs {
                                tr {
                                    td.nowrap { (m.created_at.format("%Y-%m-%d %H:%M:%S")) }
                                    td { (m.model.as_deref().unwrap_or("-")) }
                                    td.mono { (m.agent_id.as_deref().unwrap_or("")) }
                                    td.num { (m.tokens.input) }
                                    td.num { (m.tokens.output) }
                                    td.num { (m.tokens.cache_creation) }
                                    td.num { (m.tokens.cache_read) }
                                    td.num { (c.map_or("unpriced".to_owned(), usd)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        p.downloads {
            "Download: "
            @for (f, label) in [("md", "Markdown"), ("html", "HTML"), ("jsonl", "JSONL")] {
                a href={ "/ui/sessions/" (seg(&s.session_id)) "/export?format=" (f) } download { (label) }
                " "
            }
            "· whole thread: "
            @for (f, label) in [("md", "Markdown"), ("html", "HTML"), ("jsonl", "JSONL")] {
                a href={ "/ui/sessions/" (seg(&s.session_id)) "/export?format=" (f) "&thread=1" } download { (label) }
                " "
            }
        }
        p { button type="button" .toggle-all { "expand all tool calls" } }
        ol.conversation {
            @for (step, gap) in v.steps.iter().zip(&gaps) {
                @match step {
                    Step::Message { at, key, role, text, model, input_tokens, output_tokens, agent_id } => {
                        li class={ "msg " (role) } id={ "msg-" (key) } {
                            div.meta {
                                span.role { (role) }
                                @if let Some(a) = agent_id { span.agent { "subagent " (a) } }
                                span.at { (at.format("%H:%M:%S")) }
                                @if let Some(g) = gap { span.gap { "+" (secs(g / 1000)) } }
                                @if let Some(m) = model { span.model { (m) } }
                                @if input_tokens.is_some() || output_tokens.is_some() {
                                    span.tokens { "tokens in " (input_tokens.unwrap_or(0)) " · out " (output_tokens.unwrap_or(0)) }
                                }
                            }
                            div.text { (text) }
                        }
                    }
                    Step::ToolUse { at, tool_use_id, tool_name, status, input, response, error, duration_ms, agent_id } => {
                        li class={ "tool " (status.to_lowercase()) } id={ "tool-" (tool_use_id) } {
                            details {
                                summary {
                                    span.role { "tool" }
                                    b { (tool_name.as_deref().unwrap_or("?")) }
                                    span class={ "status " (status.to_lowercase()) } { (status) }
                                    @if let Some(d) = duration_ms { span.dur { (d) " ms" } }
                                    @if let Some(a) = agent_id { span.agent { "subagent " (a) } }
                                    span.at { (at.format("%H:%M:%S")) }
                                }
                                div.mono.muted { (tool_use_id) }
                                @if let Some(i) = input { h4 { "input" } pre { (pretty(i)) } }
                                @if let Some(r) = response { h4 { "result" } pre { (pretty(r)) } }
                                @if let Some(e) = error { h4 { "error" } pre.error { (e) } }
                            }
                        }
                    }
                }
            }
        }
        @if v.steps.is_empty() { p { "No prompt, reply or tool call captured yet." } }
    };
    let title = s
        .title
        .clone()
        .unwrap_or_else(|| format!("Session {}", s.session_id));
    layout(&acc, &title, "sessions", body).into_response()
}
