//! Live health: the figures of [`hookline_core::ops::health`], polled as
//! JSON by the page's script.

use axum::Extension;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use hookline_core::ops::OpsError;
use hookline_core::ops::health::{Health, health as ops_health};
use hookline_core::ops::stats::Percentiles;
use maud::{Markup, html};
use serde::Deserialize;

use crate::dashboard::views::{internal, layout, ms};
use crate::dashboard::{Access, AppState};

#[derive(Deserialize)]
pub struct HealthQuery {
    minutes: Option<i64>,
}

async fn compute_health(st: &AppState, minutes: i64) -> Result<Health, OpsError> {
    let queues = st.cfg.queues.as_ref().map_err(String::as_str);
    ops_health(st.cfg.ops.as_ref(), queues, Utc::now(), minutes).await
}

pub async fn health_json(State(st): State<AppState>, Query(q): Query<HealthQuery>) -> Response {
    match compute_health(&st, q.minutes.unwrap_or(30)).await {
        Ok(h) => Json(h).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
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
