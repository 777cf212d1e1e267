//! # hookline core
//!
//! Everything the binaries share; they only wire it to their runtime.
//!
//! # Layout
//!
//! - [`ids`]: `SessionId`, `RequestId`, `ToolUseId`, checked at parse time.
//! - [`validate`]: `FieldError` / `ValidationErrors`, every problem with its
//!   field path.
//! - [`event`] and [`parse`]: the typed view of a Claude Code hook event, with
//!   the raw JSON beside it; unknown events and fields are kept.
//! - [`meta`]: the `hookline` object the hook adds (request id, capture
//!   time, identity, transcript delta). No server dependencies: the hook uses it.
//! - [`transcript`]: the typed view of transcript entries.
//! - [`mapping`]: which rows an event writes (pure, order-independent).
//! - [`envelope`]: the versioned queue message (server).
//! - [`text`]: reversible escaping of what Postgres cannot hold (NUL).
//! - [`aws`]: the one AWS configuration loader (server).
//! - [`config`]: the Lambda functions' configuration, read from the
//!   environment once (server).
//! - [`http`]: the ingest API as an axum `Router` (server).
//! - [`lambda`]: the SQS event of Lambda's event source mapping, to and from
//!   queue messages, handled by the worker (server).
//! - [`poller`]: the local event-source poller (server).
//! - [`ops`]: the operator use cases: DLQ list/replay/purge, trace, health,
//!   statistics, log lines (server).
//! - [`queue`]: the `Queue` trait with SQS semantics (server).
//! - [`store`]: the `Store`, `Reader` and `LoginStore` (dashboard
//!   sessions) traits, implemented by `hookline-store-postgres` and
//!   `hookline-store-sqlite`; the write rule on sessions (`store::owner`)
//!   and the read rule, one `Viewer` that narrows every reader to a
//!   viewer's sessions (`store::scope`) (server).
//! - [`search`]: full-text search: the query language, filters, hits and
//!   snippets, the `SearchStore` trait both stores implement (server).
//! - [`tokens`]: per-person tokens in the database (`api_tokens`), the
//!   `TokenStore` trait both stores implement, and the authenticator that
//!   reads them after the configured ones (server).
//! - [`usage`]: cost and usage: prices, the reports (server).
//! - [`worker`]: `process_batch`, the worker's logic over a `Store` (server).
//! - [`telemetry`]: JSON log lines in Lambda's format (server).
//! - [`error`]: typed errors (invalid vs unexpected, transient vs permanent).

mod agent_progress;
pub mod error;
pub mod event;
pub mod ids;
pub mod mapping;
pub mod meta;
pub mod parse;
pub mod text;
pub mod transcript;
pub mod validate;

#[cfg(feature = "server")]
pub mod aws;
#[cfg(feature = "server")]
pub mod config;
#[cfg(feature = "envelope")]
pub mod envelope;
#[cfg(feature = "server")]
pub mod http;
#[cfg(feature = "server")]
pub mod lambda;
#[cfg(feature = "server")]
pub mod ops;
#[cfg(feature = "server")]
pub mod poller;
#[cfg(feature = "server")]
pub mod queue;
#[cfg(feature = "server")]
pub mod search;
#[cfg(feature = "server")]
pub mod store;
#[cfg(feature = "server")]
pub mod telemetry;
#[cfg(feature = "server")]
pub mod tokens;
#[cfg(feature = "server")]
pub mod usage;
#[cfg(feature = "server")]
pub mod worker;

pub use event::{EventData, EventKind, HookEvent};
pub use ids::{RequestId, SessionId, ToolUseId};
pub use validate::{FieldError, ValidationErrors};

/// The version of hookline, shared by every binary.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
