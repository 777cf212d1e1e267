//! Typed errors of the core. Callers branch on them: invalid input versus an
//! unexpected failure, retryable versus permanent.

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

/// The cause of a [`StoreError`]: the driver's error, kept for callers that
/// inspect it (`source()`, downcast to `sqlx::Error`).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A failure of the store (database). The message is what the audit row
/// records (the cause's text); the cause itself is the error's `source()`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Worth retrying: the database is unreachable, a connection dropped, a
    /// serialization conflict or deadlock, a timeout.
    #[error("transient database error: {message}")]
    Transient {
        message: String,
        #[source]
        source: Option<BoxError>,
    },
    /// Retrying will not help: the data cannot be stored as it is.
    #[error("permanent database error: {message}")]
    Permanent {
        message: String,
        #[source]
        source: Option<BoxError>,
    },
}

impl StoreError {
    /// Worth retrying, caused by `source`.
    pub fn transient(source: impl Into<BoxError>) -> Self {
        let source = source.into();
        StoreError::Transient {
            message: source.to_string(),
            source: Some(source),
        }
    }

    /// Not worth retrying, caused by `source`.
    pub fn permanent(source: impl Into<BoxError>) -> Self {
        let source = source.into();
        StoreError::Permanent {
            message: source.to_string(),
            source: Some(source),
        }
    }

    /// Not worth retrying, and no error below it (the data is wrong).
    pub fn refused(message: impl Into<String>) -> Self {
        StoreError::Permanent {
            message: message.into(),
            source: None,
        }
    }

    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Transient { .. })
    }

    /// Short machine-readable code for the audit row.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Transient { .. } => "DB_TRANSIENT",
            StoreError::Permanent { .. } => "DB_PERMANENT",
        }
    }
}

/// Why one queue record was not stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("processing panicked: {0}")]
    Panic(String),
}

#[cfg(test)]
mod tests {
    use super::StoreError;
    use std::error::Error as _;

    #[derive(Debug, thiserror::Error)]
    #[error("connection reset")]
    struct Reset;

    #[test]
    fn a_store_error_keeps_its_cause() {
        let e = StoreError::transient(Reset);
        assert!(e.is_transient());
        assert_eq!(e.to_string(), "transient database error: connection reset");
        let cause = e.source().map(|c| c.is::<Reset>());
        assert_eq!(cause, Some(true));
        let refused = StoreError::refused("bad timestamp");
        assert!(!refused.is_transient());
        assert!(refused.source().is_none());
    }
}
