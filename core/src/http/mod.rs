//! The ingest HTTP API as an axum `Router`: the same code under Lambda
//! (`lambda_http::run(app(state))`), in `hookline serve`, and in tests
//! (`app(state).oneshot(request)`). The contract is in `docs/api.md`.

mod auth;
mod error;
mod ingest;
mod request;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{any, get, post};

pub use auth::{
    AllowedUsers, Authenticator, Grant, Role, TokenConfigError, TokenSet, hash_hex, is_name,
};
pub use error::ApiError;
pub use request::bearer;

use crate::queue::Queue;
use crate::store::owner::SessionOwners;

/// Default body limit (`HOOKLINE_MAX_BODY`): 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// Default time to receive a whole body (`HOOKLINE_BODY_TIMEOUT`): 30 s.
/// A client that sends slower (a byte at a time) is answered 408 then, so
/// it cannot hold a connection open forever.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// What the handlers share: built once per process (per cold start).
#[derive(Clone)]
pub struct IngestState {
    pub queue: Arc<dyn Queue>,
    pub tokens: Arc<dyn Authenticator>,
    /// Who each session belongs to, for the write rule's early 403
    /// (`hookline serve` reads its store). `None`: the ingest cannot read
    /// the store (the Lambda ingest, for now), and the worker alone
    /// enforces the rule, with an INVALID audit row.
    pub sessions: Option<Arc<dyn SessionOwners>>,
    pub max_body: usize,
    /// Longest wait for the whole body, from when the handler starts reading it.
    pub body_timeout: Duration,
}

/// The ingest router.
pub fn app(state: IngestState) -> Router {
    Router::new()
        .route("/v1/events", post(ingest::events))
        .route("/api/claude-hooks", post(ingest::events))
        .route("/v1/hook", post(ingest::hook))
        .route("/health", get(ingest::health))
        .method_not_allowed_fallback(ingest::method_not_allowed)
        .fallback(any(ingest::not_found))
        .with_state(state)
}
