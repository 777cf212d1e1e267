//! Audit: what operators did (replays, purges, token and role changes),
//! newest first, as `hookline audit` lists it. Admins only (the operator
//! routes' `scope::admin_only` layer).

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hookline_core::ops::audit::{Action, OperationQuery};
use hookline_core::ops::since::parse_since;
use maud::html;
use serde::Deserialize;

use crate::dashboard::views::{error_page, internal, layout, t};
use crate::dashboard::{Access, AppState};

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    since: String,
    #[serde(default)]
    action: String,
}

/// Most rows shown.
const LIMIT: i64 = 500;

pub async fn audit(
    State(st): State<AppState>,
    Extension(acc): Extension<Access>,
    Query(q): Query<AuditQuery>,
) -> Response {
    let since_s = match q.since.trim() {
        "" => "7d".to_owned(),
        s => s.to_owned(),
    };
    let since = match parse_since(&since_s) {
        Ok(s) => s,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &acc, &format!("since: {e}")),
    };
    let action = match q.action.trim() {
        "" => None,
        a => match Action::parse(a) {
            Ok(a) => Some(a),
            Err(e) => return error_page(StatusCode::BAD_REQUEST, &acc, &format!("action: {e}")),
        },
    };
    let query = OperationQuery {
        since: Some(since),
        action,
        limit: LIMIT,
    };
    let rows = match st.cfg.ops.operations(&query).await {
        Ok(r) => r,
        Err(e) => return internal(&acc, e),
    };
    let body = html! {
        form.search method="get" action="/ui/audit" {
            label { "since " input type="text" name="since" value=(since_s) size="10"; }
            select name="action" {
                option value="" { "any action" }
                @for a in Action::ALL {
                    option value=(a.as_str()) selected[action == Some(a)] { (a.as_str()) }
                }
            }
            button type="submit" { "Show" }
        }
        p.muted #audit-count { (rows.len()) " operation(s)" @if rows.len() as i64 >= LIMIT { ", newest " (LIMIT) " shown" } }
        @if !rows.is_empty() {
            table #audit {
                thead { tr { th { "When" } th { "Who" } th { "Action" } th { "Target" } th { "Count" } th { "Detail" } } }
                tbody {
                    @for r in &rows {
                        tr {
                            td.nowrap.mono { (t(r.at)) }
                            td { (r.actor) }
                            td.mono { (r.action) }
                            td.mono { (r.target.as_deref().unwrap_or("-")) }
                            td { (r.count) }
                            td.mono { (r.detail.to_string()) }
                        }
                    }
                }
            }
        }
    };
    layout(&acc, "Operator audit", "audit", body).into_response()
}
