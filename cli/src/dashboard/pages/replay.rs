//! The replay form's target: a dry run and its confirmation, then the
//! replay (the use case of `hookline dlq replay`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use hookline_core::ops::dlq::Filter;
use hookline_core::ops::replay::{Replay, replay as run_replay};
use hookline_core::ops::since::parse_since;
use maud::html;
use serde::Deserialize;

use crate::dashboard::views::{dlq_table, error_chain, error_page, internal, layout};
use crate::dashboard::{Access, AppState, csrf_ok};

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
    if req.is_unspecified() {
        return error_page(
            StatusCode::BAD_REQUEST,
            &acc,
            "Say what to replay: a message, a filter, or tick “all messages”.",
        );
    }
    let mut quiet = |_: usize, _: Option<usize>| {};
    let done = match run_replay(st.cfg.ops.as_ref(), queues, &req, &acc.who, &mut quiet).await {
        Ok(r) => r,
        Err(e) => return internal(&acc, error_chain(&e)),
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
