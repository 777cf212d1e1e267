//! The pages. Every value from the store, the queue or a log line goes
//! through maud's escaping (`(value)`), never `PreEscaped`.

use std::collections::{BTreeMap, HashSet};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use chrono::{DateTime, Duration, Timelike, Utc};
use hookline_core::ops::Stats;
use hookline_core::ops::dlq::{self, DlqMessage, Filter};
use hookline_core::ops::logs::{Level, LogFilter, LogLine};
use hookline_core::ops::stats::{Percentiles, percentile};
use hookline_core::store::{SessionSummary, Step};
use maud::{DOCTYPE, Markup, html};
use serde::{Deserialize, Serialize};

use super::{Access, AppState, csrf_ok};
use crate::cmd::dlq::{Replay, replay as run_replay};
use crate::cmd::logs::Reader as LogReader;
use crate::cmd::opsctx::parse_since;
use crate::cmd::trace::{Gathered, gather, stage_of};

/// Percent-encodes everything but unreserved characters and `/`.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out += &format!("%{b:02X}");
        }
    }
    out
}

/// One path segment, percent-encoded (a `/` in an id too).
fn seg(s: &str) -> String {
    url_encode(s).replace('/', "%2F")
}

fn t(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn t_opt(at: Option<DateTime<Utc>>) -> String {
    at.map_or("-".into(), t)
}

fn ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.0} ms"))
}

fn secs(d: i64) -> String {
    match d {
        d if d < 60 => format!("{d}s"),
        d if d < 3600 => format!("{}m{:02}s", d / 60, d % 60),
        d => format!("{}h{:02}m", d / 3600, (d % 3600) / 60),
    }
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn error_page(status: StatusCode, acc: &Access, msg: &str) -> Response {
    (
        status,
        layout(acc, "Error", "", html! { p.error { (msg) } }),
    )
        .into_response()
}

fn internal(acc: &Access, e: impl std::fmt::Display) -> Response {
    error_page(StatusCode::INTERNAL_SERVER_ERROR, acc, &e.to_string())
}

fn layout(acc: &Access, title: &str, active: &str, body: Markup) -> Markup {
    let nav = [
        ("sessions", "Sessions", "/ui/sessions"),
        ("failures", "Failures", "/ui/failures"),
        ("health", "Health", "/ui/health"),
        ("logs", "Logs", "/ui/logs"),
    ];
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
                        @for (key, label, href) in nav {
                            a href=(href) class=[(key == active).then_some("active")] { (label) }
                        }
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

/// The login form (also the page after a refused token).
pub fn login_page(error: Option<&str>, next: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Log in · hookline" }
                link rel="stylesheet" href="/ui/static/app.css";
            }
            body {
                main.login {
                    h1 { "hookline dashboard" }
                    p { "Paste an ingest token (a token of " code { "HOOKLINE_TOKENS" } " or of the data dir's " code { "tokens" } " file)." }
                    @if let Some(e) = error { p.error { (e) } }
                    form method="post" action="/ui/login" {
                        input type="password" name="token" autocomplete="off" required placeholder="hl_…" autofocus;
                        @if let Some(n) = next { input type="hidden" name="next" value=(n); }
                        button type="submit" { "Log in" }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

pub async fn login_form(Query(q): Query<LoginQuery>) -> Markup {
    login_page(None, q.next.as_deref())
}

// ---------------------------------------------------------------- sessions

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
    Query(q): Query<SessionQuery>,
) -> Response {
    let all = match st.cfg.reader.list_sessions(5000).await {
        Ok(v) => v,
        Err(e) => return internal(&acc, e),
    };
    let tool: Option<HashSet<String>> = if q.tool.trim().is_empty() {
        None
    } else {
        match st.cfg.reader.sessions_using_tool(q.tool.trim()).await {
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
            input type="search" name="q" value=(q.q) placeholder="title, cwd or id";
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

pub async fn session(
    State(st): State<AppState>,
    Extension(acc): Extension<Access>,
    Path(id): Path<String>,
) -> Response {
    let v = match st.cfg.reader.session(&id).await {
        Ok(Some(v)) => v,
        Ok(None) => return error_page(StatusCode::NOT_FOUND, &acc, &format!("No session {id}.")),
        Err(e) => return internal(&acc, e),
    };
    let s = &v.summary;
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
        }
        p { button type="button" .toggle-all { "expand all tool calls" } }
        ol.conversation {
            @for (step, gap) in v.steps.iter().zip(&gaps) {
                @match step {
                    Step::Message { at, role, text, model, input_tokens, output_tokens, agent_id } => {
                        li class={ "msg " (role) } {
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
                        li class={ "tool " (status.to_lowercase()) } {
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

// ---------------------------------------------------------------- failures

#[derive(Deserialize)]
pub struct FailureQuery {
    since: Option<String>,
}

pub async fn failures(
    State(st): State<AppState>,
    Extension(acc): Extension<Access>,
    Query(q): Query<FailureQuery>,
) -> Response {
    let since_s = q.since.unwrap_or_else(|| "7d".into());
    let since = match parse_since(&since_s) {
        Ok(s) => s,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &acc, &e),
    };
    let mut failed: Vec<_> = match st.cfg.ops.stat_rows(since).await {
        Ok(rows) => rows
            .into_iter()
            .filter(|r| r.status == "INVALID" || r.status == "FAILED")
            .collect(),
        Err(e) => return internal(&acc, e),
    };
    failed.sort_by_key(|r| std::cmp::Reverse(r.received_at));
    let dlq_list: Result<Vec<DlqMessage>, String> = match &st.cfg.queues {
        Ok(q) => dlq::list(q.dlq.as_ref(), st.cfg.ops.as_ref(), 500)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.clone()),
    };
    let dlq_name = st
        .cfg
        .queues
        .as_ref()
        .map(|q| q.dlq.name().to_owned())
        .unwrap_or_default();
    let body = html! {
        form.search method="get" action="/ui/failures" {
            label { "since " input type="text" name="since" value=(since_s) size="10"; }
            button type="submit" { "Show" }
        }
        h2 { "Dead-letter queue " span.mono { (dlq_name) } }
        @match &dlq_list {
            Err(e) => p.error { "DLQ not available: " (e) }
            Ok(list) => {
                p.muted #dlq-count { (list.len()) " message(s) in the DLQ" }
                @if !list.is_empty() {
                    table #dlq {
                        thead { tr { th { "Request" } th { "Event type" } th { "Session" } th { "Attempts" } th { "First failure" } th { "Last error" } th {} } }
                        tbody {
                            @for m in list {
                                @let id = m.request_id.clone().unwrap_or_else(|| m.message_id.clone());
                                tr {
                                    td.mono { a href={ "/ui/trace/" (seg(&id)) } { (id) } }
                                    td { (m.event_type.as_deref().unwrap_or("-")) }
                                    td.mono { (m.session_id.as_deref().unwrap_or("-")) }
                                    td.num { (m.audit.as_ref().map_or(0, |a| a.attempts)) }
                                    td.nowrap { (t_opt(m.first_failure_at())) }
                                    td { span.code { (m.error_code().unwrap_or("-")) } " " (m.error_message().unwrap_or("")) }
                                    td {
                                        form method="post" action="/ui/dlq/replay" {
                                            input type="hidden" name="csrf" value=(acc.csrf);
                                            input type="hidden" name="id" value=(id);
                                            button type="submit" .replay-one { "Replay…" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                h3 { "Replay by filter" }
                form.filter method="post" action="/ui/dlq/replay" #replay-filter {
                    input type="hidden" name="csrf" value=(acc.csrf);
                    input type="text" name="event_type" placeholder="event type";
                    input type="text" name="session" placeholder="session id";
                    input type="text" name="since" placeholder="since (30m, 24h, 7d)";
                    input type="text" name="error_code" placeholder="error code";
                    label { input type="checkbox" name="all" value="1"; " all messages" }
                    button type="submit" { "Replay matching…" }
                }
                p.muted { "Each replay first shows a dry run: what would move, and its count. It is the code of " code { "hookline dlq replay" } "." }
            }
        }
        h2 { "INVALID and FAILED events" }
        p.muted { (failed.len()) " since " (t(since)) " UTC" }
        table #failed {
            thead { tr { th { "Received" } th { "Status" } th { "Event type" } th { "Request" } th { "Error" } } }
            tbody {
                @for r in failed.iter().take(500) {
                    tr {
                        td.nowrap { (t(r.received_at)) }
                        td { span class={ "status " (r.status.to_lowercase()) } { (r.status) } }
                        td { (r.event_type) }
                        td.mono { a href={ "/ui/trace/" (seg(&r.request_id)) } { (r.request_id) } }
                        td { span.code { (r.error_code.as_deref().unwrap_or("-")) } " " (r.error_message.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
    };
    layout(&acc, "Failures", "failures", body).into_response()
}

#[derive(Deserialize, Default)]
pub struct ReplayForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    event_type: Option<String>,
    #[serde(default)]
    session: Option<String>,
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    all: Option<String>,
    /// Absent: the dry run and the confirmation; `yes`: replay.
    #[serde(default)]
    confirm: Option<String>,
}

fn some(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

pub async fn replay(
    State(st): State<AppState>,
    Extension(acc): Extension<Access>,
    Form(f): Form<ReplayForm>,
) -> Response {
    if !csrf_ok(&acc, f.csrf.as_deref()) {
        return error_page(
            StatusCode::FORBIDDEN,
            &acc,
            "Missing or wrong CSRF token: reload the page and try again.",
        );
    }
    let queues = match &st.cfg.queues {
        Ok(q) => q,
        Err(e) => return error_page(StatusCode::SERVICE_UNAVAILABLE, &acc, e),
    };
    let since = match some(&f.since).map(|s| parse_since(&s)).transpose() {
        Ok(s) => s,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &acc, &e),
    };
    let req = Replay {
        filter: Filter {
            ids: some(&f.id).into_iter().collect(),
            event_type: some(&f.event_type),
            session: some(&f.session),
            since,
            error_code: some(&f.error_code),
        },
        all: some(&f.all).is_some(),
        dry_run: f.confirm.as_deref() != Some("yes"),
        ..Replay::default()
    };
    if !req.all && req.filter.is_all() {
        return error_page(
            StatusCode::BAD_REQUEST,
            &acc,
            "Say what to replay: a message, a filter, or tick “all messages”.",
        );
    }
    let mut quiet = |_: usize| {};
    let done = match run_replay(st.cfg.ops.as_ref(), queues, &req, &mut quiet).await {
        Ok(r) => r,
        Err(e) => return internal(&acc, format!("{e:#}")),
    };
    let (src, dlq_name) = (
        queues.source.name().to_owned(),
        queues.dlq.name().to_owned(),
    );
    let described = {
        let mut parts = Vec::new();
        if let Some(id) = some(&f.id) {
            parts.push(format!("message {id}"));
        }
        if let Some(v) = some(&f.event_type) {
            parts.push(format!("event type {v}"));
        }
        if let Some(v) = some(&f.session) {
            parts.push(format!("session {v}"));
        }
        if let Some(v) = some(&f.since) {
            parts.push(format!("first failed since {v}"));
        }
        if let Some(v) = some(&f.error_code) {
            parts.push(format!("error code {v}"));
        }
        if parts.is_empty() {
            "all messages".to_owned()
        } else {
            parts.join(", ")
        }
    };
    let body = if done.dry_run {
        let n = done.matched.len();
        html! {
            p #dry-run { "Dry run: " b #dry-count { (n) } " message(s) would move from " span.mono { (dlq_name) } " to " span.mono { (src) } " (" (described) "). Nothing moved yet." }
            (dlq_table(&done.matched))
            @if n > 0 {
                form method="post" action="/ui/dlq/replay" #confirm-form {
                    input type="hidden" name="csrf" value=(acc.csrf);
                    @for (k, v) in [("id", &f.id), ("event_type", &f.event_type), ("session", &f.session), ("since", &f.since), ("error_code", &f.error_code), ("all", &f.all)] {
                        @if let Some(v) = some(v) { input type="hidden" name=(k) value=(v); }
                    }
                    input type="hidden" name="confirm" value="yes";
                    button type="submit" .danger #confirm { "Replay " (n) " message(s)" }
                    " "
                    a href="/ui/failures" { "cancel" }
                }
            } @else {
                p { a href="/ui/failures" { "back to failures" } }
            }
        }
    } else {
        html! {
            p #replayed {
                @if let Some(n) = done.native {
                    "Replayed " b #moved { (n) } " message(s) from " span.mono { (dlq_name) } " with StartMessageMoveTask."
                } @else {
                    "Replayed " b #moved { (done.moved) } " message(s) to " span.mono { (src) } "; " (done.left) " left in " span.mono { (dlq_name) } "."
                }
            }
            (dlq_table(&done.matched))
            p { "The worker processes them again; their status shows on each request's trace." }
            p { a href="/ui/failures" { "back to failures" } }
        }
    };
    layout(
        &acc,
        if done.dry_run {
            "Confirm replay"
        } else {
            "Replayed"
        },
        "failures",
        body,
    )
    .into_response()
}

fn dlq_table(list: &[DlqMessage]) -> Markup {
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

// ---------------------------------------------------------------- health

/// What the health page polls.
#[derive(Serialize)]
pub struct Health {
    pub now: DateTime<Utc>,
    pub window_minutes: i64,
    pub total: u64,
    pub success_rate: Option<f64>,
    pub processing_ms: Percentiles,
    pub end_to_end_ms: Percentiles,
    pub queue_depth: Option<u64>,
    pub dlq_depth: Option<u64>,
    pub queue_error: Option<String>,
    /// Minute start → event type → events received.
    pub per_minute: Vec<(DateTime<Utc>, BTreeMap<String, u64>)>,
    pub stats: Stats,
}

#[derive(Deserialize)]
pub struct HealthQuery {
    minutes: Option<i64>,
}

async fn compute_health(st: &AppState, minutes: i64) -> Result<Health, String> {
    let minutes = minutes.clamp(5, 24 * 60);
    let now = Utc::now();
    let start = (now - Duration::minutes(minutes - 1))
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(now);
    let rows = st
        .cfg
        .ops
        .stat_rows(start)
        .await
        .map_err(|e| e.to_string())?;
    let stats = Stats::from_rows(start, &rows);
    let mut per_minute: Vec<(DateTime<Utc>, BTreeMap<String, u64>)> = (0..minutes)
        .map(|i| (start + Duration::minutes(i), BTreeMap::new()))
        .collect();
    let (mut ok, mut failed, mut proc_ms, mut e2e) = (0u64, 0u64, Vec::new(), Vec::new());
    for r in &rows {
        let i = (r.received_at - start).num_minutes();
        if let Some((_, m)) = usize::try_from(i).ok().and_then(|i| per_minute.get_mut(i)) {
            *m.entry(r.event_type.clone()).or_insert(0) += 1;
        }
        match r.status.as_str() {
            "SUCCESS" => {
                ok += 1;
                proc_ms.extend(r.processing_ms);
                e2e.extend(r.end_to_end_ms);
            }
            "FAILED" => failed += 1,
            _ => {}
        }
    }
    let pct = |mut v: Vec<i64>| {
        v.sort_unstable();
        Percentiles {
            p50: percentile(&v, 0.5),
            p95: percentile(&v, 0.95),
            p99: percentile(&v, 0.99),
        }
    };
    let (queue_depth, dlq_depth, queue_error) = match &st.cfg.queues {
        Ok(q) => match (q.source.depth().await, q.dlq.depth().await) {
            (Ok(a), Ok(b)) => (Some(a), Some(b), None),
            (a, b) => (
                a.as_ref().ok().copied(),
                b.as_ref().ok().copied(),
                a.err().or(b.err()).map(|e| e.to_string()),
            ),
        },
        Err(e) => (None, None, Some(e.clone())),
    };
    Ok(Health {
        now,
        window_minutes: minutes,
        total: rows.len() as u64,
        success_rate: (ok + failed > 0).then(|| 100.0 * ok as f64 / (ok + failed) as f64),
        processing_ms: pct(proc_ms),
        end_to_end_ms: pct(e2e),
        queue_depth,
        dlq_depth,
        queue_error,
        per_minute,
        stats,
    })
}

pub async fn health_json(State(st): State<AppState>, Query(q): Query<HealthQuery>) -> Response {
    match compute_health(&st, q.minutes.unwrap_or(30)).await {
        Ok(h) => Json(h).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

fn pct_cells(p: &Percentiles) -> Markup {
    html! { td.num { (ms(p.p50)) } td.num { (ms(p.p95)) } td.num { (ms(p.p99)) } }
}

pub async fn health(
    State(st): State<AppState>,
    Extension(acc): Extension<Access>,
    Query(q): Query<HealthQuery>,
) -> Response {
    let h = match compute_health(&st, q.minutes.unwrap_or(30)).await {
        Ok(h) => h,
        Err(e) => return internal(&acc, e),
    };
    let depth = |d: Option<u64>| d.map_or("-".into(), |d| d.to_string());
    let body = html! {
        p.muted { "Last " (h.window_minutes) " minutes · " (st.cfg.description) " · " span #updated { "updated " (h.now.format("%H:%M:%S")) " UTC" } }
        div.cards #health data-minutes=(h.window_minutes) {
            div.card { div.label { "events" } div.value #total { (h.total) } }
            div.card { div.label { "success rate" } div.value #success-rate { (h.success_rate.map_or("-".into(), |r| format!("{r:.1}%"))) } }
            div.card { div.label { "processing p50/p95/p99" } div.value #processing { (ms(h.processing_ms.p50)) " / " (ms(h.processing_ms.p95)) " / " (ms(h.processing_ms.p99)) } }
            div.card { div.label { "end to end p50/p95/p99" } div.value #e2e { (ms(h.end_to_end_ms.p50)) " / " (ms(h.end_to_end_ms.p95)) " / " (ms(h.end_to_end_ms.p99)) } }
            div.card { div.label { "queue depth" } div.value #queue-depth { (depth(h.queue_depth)) } }
            div.card { div.label { "DLQ depth" } div.value #dlq-depth { (depth(h.dlq_depth)) } }
        }
        @if let Some(e) = &h.queue_error { p.error { "queue: " (e) } }
        h2 { "Events per minute by type" }
        div.chart #per-minute { }
        h2 { "Queue and DLQ depth (since this page opened)" }
        div.chart #depths { }
        h2 { "By event type" }
        table #types {
            thead { tr { th { "Event type" } th { "Total" } th { "Success" } th { "Invalid" } th { "Failed" } th { "Pending" } th { "Success %" } th { "proc p50" } th { "p95" } th { "p99" } th { "e2e p50" } th { "p95" } th { "p99" } } }
            tbody {
                @for ty in &h.stats.event_types {
                    tr {
                        td { (ty.event_type) } td.num { (ty.total) } td.num { (ty.success) } td.num { (ty.invalid) } td.num { (ty.failed) } td.num { (ty.pending) }
                        td.num { (ty.success_rate.map_or("-".into(), |r| format!("{r:.1}"))) }
                        (pct_cells(&ty.processing_ms)) (pct_cells(&ty.end_to_end_ms))
                    }
                }
            }
        }
        noscript { p { "The charts and live updates need JavaScript; the figures above are from page load." } }
    };
    layout(&acc, "Health", "health", body).into_response()
}

// ---------------------------------------------------------------- logs

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

fn log_table(lines: &[&LogLine]) -> Markup {
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
        Some(src) => match LogReader::new(src.clone()).await.read(&filter).await {
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

pub async fn trace(
    State(st): State<AppState>,
    Extension(acc): Extension<Access>,
    Path(id): Path<String>,
) -> Response {
    let dlq_q = match &st.cfg.queues {
        Ok(q) => Ok(q.dlq.as_ref()),
        Err(e) => Err(e.clone()),
    };
    let since = Utc::now() - Duration::days(7);
    let Gathered {
        detail,
        in_dlq,
        lines,
    } = match gather(st.cfg.ops.as_ref(), dlq_q, st.cfg.logs.as_ref(), &id, since).await {
        Ok(g) => g,
        Err(e) => return internal(&acc, format!("{e:#}")),
    };
    if detail.is_none() && lines.is_empty() && !matches!(in_dlq, Ok(Some(_))) {
        return error_page(
            StatusCode::NOT_FOUND,
            &acc,
            &format!("Nothing known about request {id}."),
        );
    }
    let stage = |s: &str| {
        lines
            .iter()
            .filter(|l| stage_of(l) == s)
            .collect::<Vec<_>>()
    };
    let body = html! {
        @if let Some(d) = &detail {
            @let r = &d.row;
            dl.facts {
                dt { "Request" } dd.mono { (r.request_id) }
                dt { "Status" } dd { span class={ "status " (r.status.to_lowercase()) } #trace-status { (r.status) } }
                dt { "Event" } dd { (r.event_type) }
                dt { "Session" } dd.mono { @if let Some(s) = &r.session_id { a href={ "/ui/sessions/" (seg(s)) } { (s) } } @else { "-" } }
                dt { "Trace" } dd.mono { (r.trace_id.as_deref().unwrap_or("-")) }
                dt { "Received" } dd { (t(r.received_at)) }
                dt { "Processed" } dd { (t_opt(r.processed_at)) " · " (r.processing_ms.map_or("-".into(), |m| format!("{m} ms"))) " · attempts " (r.attempts) }
                @if let Some(c) = &r.error_code { dt { "Last error" } dd { span.code { (c) } " " (r.error_message.as_deref().unwrap_or("")) } }
            }
        } @else {
            p { "No audit row." }
        }
        h2 { "Queue" }
        @match &in_dlq {
            Ok(Some(m)) => p #in-dlq { "In the DLQ now: message " span.mono { (m.message_id) } }
            Ok(None) => p #in-dlq { "Not in the DLQ." }
            Err(e) => p.error { "DLQ not checked: " (e) }
        }
        @if let Some(d) = &detail {
            table #history {
                thead { tr { th { "At" } th { "Status" } th { "Receive" } th { "ms" } th { "Error" } } }
                tbody {
                    @for a in &d.history {
                        tr {
                            td.nowrap.mono { (a.at.format("%Y-%m-%d %H:%M:%S%.3f")) }
                            td { span class={ "status " (a.status.to_lowercase()) } { (a.status) } }
                            td.num { (a.receive_count.map_or("-".into(), |c| c.to_string())) }
                            td.num { (a.processing_ms.map_or("-".into(), |c| c.to_string())) }
                            td { span.code { (a.error_code.as_deref().unwrap_or("")) } " " (a.error_message.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
            h2 { "Domain rows" }
            ul {
                @match d.domain.conversation {
                    Some((m, tu)) => li { "conversation: " (m) " messages, " (tu) " tool uses" }
                    None => li { "no conversation row" }
                }
                @for k in &d.domain.messages { li.mono { "message " (k) } }
                @if let Some((tid, s)) = &d.domain.tool_use { li.mono { "tool use " (tid) " (" (s) ")" } }
            }
            @if let Some(p) = &d.payload { details { summary { "payload" } pre { (pretty(p)) } } }
            @if let Some(p) = &d.payload_text { details { summary { "payload (text)" } pre { (p) } } }
            @if let Some(v) = &d.validation_errors { details open { summary { "validation errors" } pre.error { (pretty(v)) } } }
        }
        @for s in ["hook", "ingest", "worker", "other"] {
            @let ls = stage(s);
            @if !ls.is_empty() || s != "other" {
                h2 { "Logs: " (s) " (" (ls.len()) ")" }
                @if st.cfg.logs.is_none() { p.muted { "no log source configured" } } @else { (log_table(&ls)) }
            }
        }
    };
    layout(&acc, &format!("Request {id}"), "logs", body).into_response()
}
