//! The read rule on the dashboard, applied once per request: the access
//! check's [`Access::scope`] becomes a [`Viewed`] (the store's readers
//! restricted to the viewer's sessions, `hookline_core::store::scope`),
//! which every page that shows sessions, search hits, costs or exports
//! reads instead of the store itself. Operator pages (failures, DLQ
//! replay, health, logs, trace: other users' raw payloads) are for admins
//! only ([`admin_only`]).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use hookline_core::http::Role;
use hookline_core::search::SearchStore;
use hookline_core::store::Reader;
use hookline_core::store::scope::Viewer;
use hookline_core::usage::UsageStore;

use super::views::error_page;
use super::{Access, AppState};

/// What this request's viewer may read: put in the request's extensions
/// by [`scoped`].
#[derive(Clone)]
pub struct Viewed {
    pub reader: Arc<dyn Reader>,
    /// The usage rollup and prices (absent: no Usage page, no costs).
    pub usage: Option<Arc<dyn UsageStore>>,
    /// The search engine (absent: no Search page).
    pub search: Option<Arc<dyn SearchStore>>,
}

/// Builds the request's [`Viewed`] from its [`Access`] (runs after the
/// access check).
pub async fn scoped(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(acc) = req.extensions().get::<Access>() else {
        return axum::response::IntoResponse::into_response((
            StatusCode::UNAUTHORIZED,
            "log in at /ui/login\n",
        ));
    };
    let viewer = Viewer::new(acc.scope.clone());
    let viewed = Viewed {
        reader: viewer.reader(st.cfg.reader.clone()),
        usage: st.usage.as_ref().map(|u| viewer.usage(u.store.clone())),
        search: st.search.as_ref().map(|s| viewer.search(s.clone())),
    };
    req.extensions_mut().insert(viewed);
    next.run(req).await
}

/// 403 for a member on an operator page.
pub async fn admin_only(req: Request, next: Next) -> Response {
    match req.extensions().get::<Access>() {
        Some(acc) if acc.role == Role::Admin => next.run(req).await,
        Some(acc) => error_page(
            StatusCode::FORBIDDEN,
            acc,
            "This page is for admins: it shows every user's raw events. \
             Your token's role is member.",
        ),
        None => axum::response::IntoResponse::into_response((
            StatusCode::UNAUTHORIZED,
            "log in at /ui/login\n",
        )),
    }
}
