//! One self-contained HTML file: the CSS inline, no script, no font, no
//! image, no link out, so it opens anywhere without a network. Tool calls
//! fold in `<details>`. Every value goes through maud's escaping.

use chrono::{DateTime, Utc};
use hookline_core::store::Step;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{Part, duration, pretty, result_text, usd};

const CSS: &str = include_str!("export.css");

fn t(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The HTML document of `parts`.
pub fn render(parts: &[Part]) -> String {
    let title = match parts {
        [one] => one
            .view
            .summary
            .title
            .clone()
            .unwrap_or_else(|| format!("Session {}", one.view.summary.session_id)),
        _ => format!("hookline export: {} sessions", parts.len()),
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content="hookline sessions export";
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                @if parts.len() > 1 { h1 { (title) } }
                @for p in parts { (session(p, parts.len() > 1)) }
            }
        }
    }
    .into_string()
}

fn session(p: &Part, several: bool) -> Markup {
    let v = &p.view;
    let s = &v.summary;
    let title = s.title.as_deref().unwrap_or("(untitled session)");
    let mut day = None;
    html! {
        section.session id={ "session-" (s.session_id) } {
            @if several { h2 { (title) } } @else { h1 { (title) } }
            @if let Some(l) = &p.link {
                @if let Some(parent) = &l.parent_session_id {
                    p.link { (l.link_kind.as_deref().unwrap_or("continued")) " of " code { (parent) } }
                }
            }
            dl.facts {
                dt { "Session" } dd { code { (s.session_id) } }
                dt { "Started" } dd { (t(s.started_at)) @if let Some(src) = &v.start_source { " (" (src) ")" } }
                dt { "Ended" } dd {
                    @match s.ended_at {
                        Some(e) => { (t(e)) " (" (s.end_reason.as_deref().unwrap_or("-")) ")" }
                        None => { "- (no SessionEnd)" }
                    }
                }
                dt { "Duration" } dd { (s.duration_seconds().map_or("open".into(), duration)) }
                dt { "Project (cwd)" } dd { code { (s.cwd.as_deref().unwrap_or("-")) } }
                dt { "User @ host" } dd { (s.user_name.as_deref().unwrap_or("-")) " @ " (s.host.as_deref().unwrap_or("-")) }
                dt { "Model" } dd { (v.model.as_deref().unwrap_or("-")) }
                dt { "Messages / tool calls" } dd { (s.message_count) " / " (s.tool_use_count) }
                dt { "Tokens" } dd { (s.input_tokens) " in · " (s.output_tokens) " out" }
                @if let Some(c) = &p.costs {
                    dt { "Cost" } dd {
                        (usd(c.total))
                        @if c.unpriced > 0 { " + " (c.unpriced) " message(s) of unpriced models" }
                    }
                }
            }
            @for step in &v.steps {
                @let at = step.at();
                @let when = if day == Some(at.date_naive()) { at.format("%H:%M:%S").to_string() } else { day = Some(at.date_naive()); t(at) };
                @match step {
                    Step::Message { key, role, text, model, input_tokens, output_tokens, agent_id, .. } => {
                        article class={ "msg " (role) } {
                            div.meta {
                                b { @if role == "user" { "Prompt" } @else { "Assistant" } }
                                span { (when) }
                                @if let Some(a) = agent_id { span { "subagent " code { (a) } } }
                                @if let Some(m) = model { span { (m) } }
                                @if input_tokens.is_some() || output_tokens.is_some() {
                                    span { (input_tokens.unwrap_or(0)) " in · " (output_tokens.unwrap_or(0)) " out" }
                                }
                                @if let Some(Some(c)) = p.costs.as_ref().and_then(|c| c.by_message.get(key)) {
                                    span { (usd(*c)) }
                                }
                            }
                            @if !text.trim().is_empty() { div.text { (text.trim()) } }
                        }
                    }
                    Step::ToolUse { tool_use_id, tool_name, status, input, response, error, duration_ms, agent_id, .. } => {
                        details class={ "tool " (status) } {
                            summary {
                                "Tool call: " b { (tool_name.as_deref().unwrap_or("?")) }
                                span class={ "status " (status) } { (status) }
                                @if let Some(d) = duration_ms { span { (d) " ms" } }
                                @if let Some(a) = agent_id { span { "subagent " code { (a) } } }
                                span { (when) }
                            }
                            p.id { code { (tool_use_id) } }
                            @if let Some(i) = input { h4 { "Input" } pre { (pretty(i)) } }
                            @if let Some(r) = response { h4 { "Result" } pre { (result_text(r)) } }
                            @if let Some(e) = error { h4 { "Error" } pre.error { (e) } }
                        }
                    }
                }
            }
            @if v.steps.is_empty() { p { em { "No prompt, reply or tool call captured." } } }
        }
    }
}
