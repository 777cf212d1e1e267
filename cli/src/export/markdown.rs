//! Markdown for GitHub: a facts table per session, each prompt and reply
//! under a heading with its time (model, tokens and cost for replies), each
//! tool call a `<details>` block with its input and result in code fences.
//! Texts are written as they were typed: a prompt or reply is Markdown
//! already.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use hookline_core::store::Step;

use super::{Part, duration, pretty, result_text, usd};

/// The Markdown of `parts`, one section per session.
pub fn render(parts: &[Part]) -> String {
    let mut out = String::new();
    if parts.len() > 1 {
        let _ = writeln!(out, "# hookline export: {} sessions\n", parts.len());
    }
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str("\n---\n\n");
        }
        session(&mut out, p, if parts.len() > 1 { "##" } else { "#" });
    }
    out
}

/// A fence longer than any run of backticks in `text`.
fn fence(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat((longest + 1).max(3))
}

fn code(out: &mut String, lang: &str, text: &str) {
    let f = fence(text);
    let _ = writeln!(out, "{f}{lang}\n{}\n{f}\n", text.trim_end_matches('\n'));
}

/// Text for a table cell: one line, `|` escaped.
fn cell(s: &str) -> String {
    s.replace('\n', " ").replace('|', "\\|")
}

fn t(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn session(out: &mut String, p: &Part, h: &str) {
    let v = &p.view;
    let s = &v.summary;
    let title = s.title.as_deref().unwrap_or("(untitled session)");
    let _ = writeln!(out, "{h} {}\n", cell(title));
    if let Some(l) = &p.link
        && let Some(parent) = &l.parent_session_id
    {
        let _ = writeln!(
            out,
            "*{} of `{parent}`*\n",
            l.link_kind.as_deref().unwrap_or("continued")
        );
    }
    let mut facts = vec![
        ("Session", format!("`{}`", s.session_id)),
        (
            "Started",
            match v.start_source.as_deref() {
                Some(src) => format!("{} ({src})", t(s.started_at)),
                None => t(s.started_at),
            },
        ),
        (
            "Ended",
            match s.ended_at {
                Some(e) => format!("{} ({})", t(e), s.end_reason.as_deref().unwrap_or("-")),
                None => "- (no SessionEnd)".into(),
            },
        ),
        (
            "Duration",
            s.duration_seconds().map_or("open".into(), duration),
        ),
        (
            "Project (cwd)",
            format!("`{}`", s.cwd.as_deref().unwrap_or("-")),
        ),
        (
            "User @ host",
            format!(
                "{} @ {}",
                s.user_name.as_deref().unwrap_or("-"),
                s.host.as_deref().unwrap_or("-")
            ),
        ),
        ("Model", v.model.as_deref().unwrap_or("-").to_owned()),
        (
            "Messages / tool calls",
            format!("{} / {}", s.message_count, s.tool_use_count),
        ),
        (
            "Tokens",
            format!("{} in · {} out", s.input_tokens, s.output_tokens),
        ),
    ];
    if let Some(c) = &p.costs {
        let mut cost = usd(c.total);
        if c.unpriced > 0 {
            let _ = write!(cost, " + {} message(s) of unpriced models", c.unpriced);
        }
        facts.push(("Cost", cost));
    }
    out.push_str("| | |\n| --- | --- |\n");
    for (k, val) in facts {
        let _ = writeln!(out, "| {k} | {} |", cell(&val));
    }
    out.push('\n');
    let mut day = None;
    for step in &v.steps {
        let at = step.at();
        let when = if day == Some(at.date_naive()) {
            at.format("%H:%M:%S").to_string()
        } else {
            day = Some(at.date_naive());
            t(at)
        };
        match step {
            Step::Message {
                key,
                role,
                text,
                model,
                input_tokens,
                output_tokens,
                agent_id,
                ..
            } => {
                let who = if role == "user" {
                    "Prompt"
                } else {
                    "Assistant"
                };
                let mut meta = vec![when];
                if let Some(a) = agent_id {
                    meta.push(format!("subagent `{a}`"));
                }
                if let Some(m) = model {
                    meta.push(m.clone());
                }
                if input_tokens.is_some() || output_tokens.is_some() {
                    meta.push(format!(
                        "{} in · {} out",
                        input_tokens.unwrap_or(0),
                        output_tokens.unwrap_or(0)
                    ));
                }
                if let Some(Some(c)) = p.costs.as_ref().and_then(|c| c.by_message.get(key)) {
                    meta.push(usd(*c));
                }
                let _ = writeln!(out, "{h}# {who} · {}\n", meta.join(" · "));
                if !text.trim().is_empty() {
                    let _ = writeln!(out, "{}\n", text.trim());
                }
            }
            Step::ToolUse {
                tool_use_id,
                tool_name,
                status,
                input,
                response,
                error,
                duration_ms,
                agent_id,
                ..
            } => {
                let mut meta = vec![status.clone()];
                if let Some(d) = duration_ms {
                    meta.push(format!("{d} ms"));
                }
                if let Some(a) = agent_id {
                    meta.push(format!("subagent {a}"));
                }
                meta.push(when);
                let _ = writeln!(
                    out,
                    "<details>\n<summary>Tool call: <b>{}</b> · {}</summary>\n",
                    html_text(tool_name.as_deref().unwrap_or("?")),
                    html_text(&meta.join(" · "))
                );
                let _ = writeln!(out, "`{tool_use_id}`\n");
                if let Some(i) = input {
                    out.push_str("**Input**\n\n");
                    code(out, "json", &pretty(i));
                }
                if let Some(r) = response {
                    out.push_str("**Result**\n\n");
                    code(out, "", &result_text(r));
                }
                if let Some(e) = error {
                    out.push_str("**Error**\n\n");
                    code(out, "", e);
                }
                out.push_str("</details>\n\n");
            }
        }
    }
    if v.steps.is_empty() {
        out.push_str("*No prompt, reply or tool call captured.*\n");
    }
}

/// Text inside the HTML of `<summary>`: `<`, `>` and `&` escaped.
fn html_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::fence;

    #[test]
    fn a_fence_is_longer_than_any_backtick_run_inside() {
        assert_eq!(fence("no ticks"), "```");
        assert_eq!(fence("a ```rust``` b"), "````");
        assert_eq!(fence("`````"), "``````");
    }
}
