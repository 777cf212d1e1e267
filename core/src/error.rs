//! Typed errors of the core. Callers branch on them: invalid input versus an
//! unexpected failure, retryable versus permanent.

use crate::validate::ValidationErrors;

/// A queue message that cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    #[error("queue message is malformed: {0}")]
    Malformed(String),
    #[error("queue message would be {bytes} bytes, over the {limit}-byte limit")]
    TooLarge { bytes: usize, limit: usize },
    #[error("queue message could not be serialized: {0}")]
    Json(#[from] serde_json::Error),
}

/// A failure of the store (database).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Worth retrying: the database is unreachable, a connection dropped, a
    /// serialization conflict or deadlock, a timeout.
    #[error("transient database error: {0}")]
    Transient(String),
    /// Retrying will not help: the data cannot be stored as it is.
    #[error("permanent database error: {0}")]
    Permanent(String),
}

impl StoreError {
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Transient(_))
    }

    /// Short machine-readable code for the audit row.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Transient(_) => "DB_TRANSIENT",
            StoreError::Permanent(_) => "DB_PERMANENT",
        }
    }
}

/// Why one queue record was not stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkerError {
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error("invalid hook event: {0}")]
    Invalid(ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("processing panicked: {0}")]
    Panic(String),
}
