//! `hookline serve`'s read-only JSON API (docs/api.md, "Read API"): the
//! history `hookline mcp --remote` reads, behind the same bearer tokens as
//! ingest. Every answer comes from [`Local`], as the local MCP server's,
//! narrowed to what the token may read ([`Local::viewed_by`] with the
//! grant's read scope: a member sees its users' sessions and spend only).

use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hookline_core::http::{ApiError, Authenticator, Grant, bearer};
use hookline_core::store::scope::Viewer;

use crate::history::{ArgError, History, HistoryError, Local, SearchArgs, SessionsArgs, UsageArgs};

#[derive(Clone)]
struct ReadState {
    history: Arc<Local>,
    tokens: Arc<dyn Authenticator>,
}

/// The routes under `/v1/read/`.
pub fn router(history: Local, tokens: Arc<dyn Authenticator>) -> Router {
    let st = ReadState {
        history: Arc::new(history),
        tokens,
    };
    Router::new()
        .route("/v1/read/search", get(search))
        .route("/v1/read/sessions", get(sessions))
        .route("/v1/read/sessions/{id}", get(session))
        .route("/v1/read/usage", get(usage))
        .route_layer(middleware::from_fn_with_state(st.clone(), authorized))
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(st)
}

/// Checks the bearer token and puts its [`Grant`](hookline_core::http::Grant)
/// in the request's extensions.
async fn authorized(State(st): State<ReadState>, mut req: Request, next: Next) -> Response {
    let grant = match bearer(req.headers()) {
        Some(t) => st.tokens.grant(t).await,
        None => None,
    };
    match grant {
        Some(g) => {
            req.extensions_mut().insert(g);
            next.run(req).await
        }
        None => ApiError::unauthorized().into_response(),
    }
}

async fn method_not_allowed() -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "the read API answers GET only",
    )
    .into_response()
}

fn bad_argument(e: &ArgError) -> ApiError {
    let mut err = ApiError::new(StatusCode::BAD_REQUEST, "invalid_argument", e.to_string());
    err.field = Some(e.argument.clone());
    err
}

fn failed(e: HistoryError) -> Response {
    match e {
        HistoryError::Arg(a) => bad_argument(&a).into_response(),
        other => {
            tracing::error!(error = ?other, "read API: reading the store failed");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "reading the store failed (see the server's log)",
            )
            .into_response()
        }
    }
}

/// A query string that does not fit the arguments (an unknown name, a
/// number that is not one): 400 saying which.
fn bad_query(e: QueryRejection) -> Response {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_argument", e.body_text()).into_response()
}

/// The history `grant` may read.
fn history_of(st: &ReadState, grant: &Grant) -> Local {
    st.history.viewed_by(&Viewer::new(grant.read_scope()))
}

fn answer<T: serde::Serialize>(r: Result<T, HistoryError>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => failed(e),
    }
}

async fn search(
    State(st): State<ReadState>,
    Extension(grant): Extension<Grant>,
    q: Result<Query<SearchArgs>, QueryRejection>,
) -> Response {
    match q {
        Ok(Query(args)) => answer(history_of(&st, &grant).search(&args).await),
        Err(e) => bad_query(e),
    }
}

async fn sessions(
    State(st): State<ReadState>,
    Extension(grant): Extension<Grant>,
    q: Result<Query<SessionsArgs>, QueryRejection>,
) -> Response {
    match q {
        Ok(Query(args)) => answer(history_of(&st, &grant).sessions(&args).await),
        Err(e) => bad_query(e),
    }
}

async fn session(
    State(st): State<ReadState>,
    Extension(grant): Extension<Grant>,
    Path(id): Path<String>,
) -> Response {
    // Another user's session is answered as no session: nothing says it
    // exists.
    match history_of(&st, &grant).session(&id).await {
        Ok(Some(v)) => Json(v).into_response(),
        Ok(None) => ApiError::new(
            StatusCode::NOT_FOUND,
            "no_session",
            format!("no session {id:?} (or the prefix matches several; give more of the id)"),
        )
        .into_response(),
        Err(e) => failed(e),
    }
}

async fn usage(
    State(st): State<ReadState>,
    Extension(grant): Extension<Grant>,
    q: Result<Query<UsageArgs>, QueryRejection>,
) -> Response {
    match q {
        Ok(Query(args)) => answer(history_of(&st, &grant).usage(&args).await),
        Err(e) => bad_query(e),
    }
}
