//! Failures: the DLQ with its replay buttons, and the INVALID and FAILED
//! events of a period.

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hookline_core::ops::dlq::{self, DlqMessage};
use hookline_core::ops::since::parse_since;
use maud::html;
use serde::Deserialize;

use crate::dashboard::views::{error_page, internal, layout, seg, t, t_opt};
use crate::dashboard::{Access, AppState};

#[derive(Deserialize)]
pub struct FailureQuery {
    since: Option<String>,
}

/// Failed events listed.
const SHOWN: i64 = 500;

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
    // The newest SHOWN failed rows, and their count from the aggregate.
    let failed = match st.cfg.ops.stat_rows(since, true, SHOWN).await {
        Ok(rows) => rows,
        Err(e) => return internal(&acc, e),
    };
    let count: u64 = match st.cfg.ops.stat_summary(since).await {
        Ok(s) => s
            .counts
            .iter()
            .filter(|c| c.status == "INVALID" || c.status == "FAILED")
            .map(|c| c.count)
            .sum(),
        Err(e) => return internal(&acc, e),
    };
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
        p.muted { (count) " since " (t(since)) " UTC" @if count > failed.len() as u64 { ", the newest " (failed.len()) " shown" } }
        table #failed {
            thead { tr { th { "Received" } th { "Status" } th { "Event type" } th { "Request" } th { "Error" } } }
            tbody {
                @for r in &failed {
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
