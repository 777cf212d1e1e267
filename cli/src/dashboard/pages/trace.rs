//! One request's whole path (the use case of `hookline trace`).

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use hookline_core::ops::logs::LogSearch;
use hookline_core::ops::trace::{Gathered, gather};
use maud::html;

use crate::dashboard::views::{
    error_chain, error_page, internal, layout, log_table, pretty, seg, t, t_opt,
};
use crate::dashboard::{Access, AppState};

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
    let logs = st.cfg.logs.as_ref().map(|s| s as &dyn LogSearch);
    let g = match gather(st.cfg.ops.as_ref(), dlq_q, logs, &id, since).await {
        Ok(g) => g,
        Err(e) => return internal(&acc, error_chain(&e)),
    };
    if g.is_empty() {
        return error_page(
            StatusCode::NOT_FOUND,
            &acc,
            &format!("Nothing known about request {id}."),
        );
    }
    let Gathered { detail, in_dlq, .. } = &g;
    let body = html! {
        @if let Some(d) = detail {
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
        @match in_dlq {
            Ok(Some(m)) => p #in-dlq { "In the DLQ now: message " span.mono { (m.message_id) } }
            Ok(None) => p #in-dlq { "Not in the DLQ." }
            Err(e) => p.error { "DLQ not checked: " (e) }
        }
        @if let Some(d) = detail {
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
            @let ls = g.stage(s);
            @if !ls.is_empty() || s != "other" {
                h2 { "Logs: " (s) " (" (ls.len()) ")" }
                @if st.cfg.logs.is_none() { p.muted { "no log source configured" } } @else { (log_table(&ls)) }
            }
        }
    };
    layout(&acc, &format!("Request {id}"), "logs", body).into_response()
}
