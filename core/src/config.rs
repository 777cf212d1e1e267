//! The Lambda functions' configuration, read from the environment once at
//! cold start and validated there: [`IngestConfig`] and [`WorkerConfig`].
//! Every key is documented on its field; README's configuration table
//! lists them. `hookline` (the CLI) reads the same keys through clap
//! (`cli/src/config.rs`).

use std::str::FromStr;
use std::time::Duration;

use crate::http::{
    DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY, IngestState, TokenConfigError, TokenSet,
};
use crate::worker::WorkerConfig as Processing;

/// Why the configuration is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{key}={value:?} is not {expected}")]
    Invalid {
        key: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(transparent)]
    Tokens(#[from] TokenConfigError),
    #[error("HOOKLINE_TOKENS is empty and DATABASE_URL is not set: every request would be refused")]
    NoTokens,
}

/// Where the values come from: the environment, or a test's map.
pub type Vars<'a> = &'a dyn Fn(&str) -> Option<String>;

fn environment(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

/// A set, non-empty variable.
fn var(vars: Vars<'_>, key: &str) -> Option<String> {
    vars(key).filter(|v| !v.is_empty())
}

fn required(vars: Vars<'_>, key: &'static str) -> Result<String, ConfigError> {
    var(vars, key).ok_or(ConfigError::Missing(key))
}

/// A number, `default` when absent.
fn number<T: FromStr>(
    vars: Vars<'_>,
    key: &'static str,
    default: T,
    expected: &'static str,
) -> Result<T, ConfigError> {
    match var(vars, key) {
        Some(v) => v.parse().map_err(|_| ConfigError::Invalid {
            key,
            value: v,
            expected,
        }),
        None => Ok(default),
    }
}

/// The ingest function.
pub struct IngestConfig {
    /// `HOOKLINE_QUEUE_URL` (required): the SQS queue events go to.
    pub queue_url: String,
    /// `HOOKLINE_TOKENS` (required without `DATABASE_URL`): accepted
    /// tokens, `name:sha256hex[:users[:role]]` entries.
    pub tokens: TokenSet,
    /// `DATABASE_URL` (optional): the Postgres database whose token table
    /// (`hookline tokens`) is read after `HOOKLINE_TOKENS`, each row
    /// trusted for 30 s. The ingest writes nothing there.
    pub database_url: Option<String>,
    /// `HOOKLINE_MAX_BODY`: largest accepted body in bytes (default 1 MiB).
    pub max_body: usize,
    /// Longest wait for a whole body (30 s).
    pub body_timeout: Duration,
    /// `HOOKLINE_LISTEN`: the address outside Lambda (default 127.0.0.1:3000).
    pub listen: String,
}

impl IngestConfig {
    pub fn from_env() -> Result<IngestConfig, ConfigError> {
        Self::from_vars(&environment)
    }

    /// Like [`Self::from_env`], from `vars`.
    pub fn from_vars(vars: Vars<'_>) -> Result<IngestConfig, ConfigError> {
        let tokens = TokenSet::parse(&var(vars, "HOOKLINE_TOKENS").unwrap_or_default())?;
        let database_url = var(vars, "DATABASE_URL");
        if tokens.is_empty() && database_url.is_none() {
            return Err(ConfigError::NoTokens);
        }
        Ok(IngestConfig {
            queue_url: required(vars, "HOOKLINE_QUEUE_URL")?,
            tokens,
            database_url,
            max_body: number(
                vars,
                "HOOKLINE_MAX_BODY",
                DEFAULT_MAX_BODY,
                "a number of bytes",
            )?,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            listen: var(vars, "HOOKLINE_LISTEN").unwrap_or_else(|| "127.0.0.1:3000".into()),
        })
    }

    /// The router's state, sending to `queue`; tokens checked against
    /// `HOOKLINE_TOKENS`, then, when `db` is given (the store of
    /// `DATABASE_URL`), its token table; with `db` a member's event into
    /// another user's session is refused at once (403) as well.
    pub fn state(
        self,
        queue: std::sync::Arc<dyn crate::queue::Queue>,
        db: Option<std::sync::Arc<dyn IngestDb>>,
    ) -> IngestState {
        let tokens: std::sync::Arc<dyn crate::http::Authenticator> = match db.clone() {
            Some(t) => std::sync::Arc::new(crate::tokens::StoreAuthenticator::new(
                self.tokens,
                t as std::sync::Arc<dyn crate::tokens::TokenStore>,
            )),
            None => std::sync::Arc::new(self.tokens),
        };
        let sessions = db.map(|d| d as std::sync::Arc<dyn crate::store::owner::SessionOwners>);
        IngestState {
            queue,
            tokens,
            sessions,
            max_body: self.max_body,
            body_timeout: self.body_timeout,
        }
    }
}

/// What the ingest reads from the database when it has one: the token
/// table and whose each session is.
pub trait IngestDb: crate::tokens::TokenStore + crate::store::owner::SessionOwners {}
impl<T: crate::tokens::TokenStore + crate::store::owner::SessionOwners + ?Sized> IngestDb for T {}

/// The worker function.
pub struct WorkerConfig {
    /// `DATABASE_URL` (required): the Postgres database.
    pub database_url: String,
    /// `HOOKLINE_DB_POOL`: connections per instance (default 2).
    pub pool_size: u32,
    /// `HOOKLINE_MAX_RECEIVE_COUNT`: the queue's redrive maxReceiveCount
    /// (default 5).
    pub processing: Processing,
    /// `HOOKLINE_RETENTION_DAYS`: purge sessions older than this, at most
    /// once an hour per instance, after a batch (absent or 0: keep all).
    pub retention_days: u32,
    /// `HOOKLINE_SILENT_AFTER_HOURS`: a host is silent after this long
    /// without a heartbeat (default 24).
    pub silent_after: chrono::Duration,
    /// `HOOKLINE_STACK`: the metric's `Stack` dimension (default hookline).
    pub stack: String,
}

/// Without the database URL (it may hold a password).
impl std::fmt::Debug for WorkerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerConfig")
            .field("pool_size", &self.pool_size)
            .field("processing", &self.processing)
            .field("retention_days", &self.retention_days)
            .field("silent_after", &self.silent_after)
            .field("stack", &self.stack)
            .finish_non_exhaustive()
    }
}

impl WorkerConfig {
    pub fn from_env() -> Result<WorkerConfig, ConfigError> {
        Self::from_vars(&environment)
    }

    /// Like [`Self::from_env`], from `vars`.
    pub fn from_vars(vars: Vars<'_>) -> Result<WorkerConfig, ConfigError> {
        const WHOLE: &str = "a whole number";
        Ok(WorkerConfig {
            database_url: required(vars, "DATABASE_URL")?,
            pool_size: number(vars, "HOOKLINE_DB_POOL", 2, WHOLE)?,
            processing: Processing {
                max_receive_count: number(vars, "HOOKLINE_MAX_RECEIVE_COUNT", 5, WHOLE)?,
            },
            retention_days: number(vars, "HOOKLINE_RETENTION_DAYS", 0, WHOLE)?,
            silent_after: chrono::Duration::hours(
                number::<u32>(vars, "HOOKLINE_SILENT_AFTER_HOURS", 24, WHOLE)?.into(),
            ),
            stack: var(vars, "HOOKLINE_STACK").unwrap_or_else(|| "hookline".into()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn the_worker_needs_a_database_url_and_defaults_the_rest() {
        assert!(matches!(
            WorkerConfig::from_vars(&vars(&[])),
            Err(ConfigError::Missing("DATABASE_URL"))
        ));
        let cfg = WorkerConfig::from_vars(&vars(&[("DATABASE_URL", "postgres://u:secret@h/db")]))
            .map_err(|e| e.to_string());
        let cfg = cfg.as_ref().map_err(String::as_str);
        assert!(cfg.is_ok(), "{cfg:?}");
        if let Ok(c) = cfg {
            assert_eq!((c.pool_size, c.processing.max_receive_count), (2, 5));
            assert_eq!((c.retention_days, c.stack.as_str()), (0, "hookline"));
            assert_eq!(c.silent_after, chrono::Duration::hours(24));
            assert!(!format!("{c:?}").contains("secret"), "no password in Debug");
        }
    }

    #[test]
    fn a_malformed_number_is_refused_naming_its_key() {
        let e = WorkerConfig::from_vars(&vars(&[
            ("DATABASE_URL", "postgres://h/db"),
            ("HOOKLINE_MAX_RECEIVE_COUNT", "five"),
        ]));
        assert!(
            matches!(
                &e,
                Err(ConfigError::Invalid {
                    key: "HOOKLINE_MAX_RECEIVE_COUNT",
                    ..
                })
            ),
            "{:?}",
            e.err()
        );
    }

    #[test]
    fn ingest_refuses_no_tokens_and_needs_a_queue() {
        let e = IngestConfig::from_vars(&vars(&[("HOOKLINE_QUEUE_URL", "http://q")]));
        assert!(matches!(e, Err(ConfigError::NoTokens)));
        let token = format!("ci:{}", crate::http::hash_hex("hl_x"));
        let e = IngestConfig::from_vars(&vars(&[("HOOKLINE_TOKENS", &token)]));
        assert!(matches!(e, Err(ConfigError::Missing("HOOKLINE_QUEUE_URL"))));
        let ok = IngestConfig::from_vars(&vars(&[
            ("HOOKLINE_TOKENS", &token),
            ("HOOKLINE_QUEUE_URL", "http://q"),
        ]));
        assert!(ok.is_ok_and(|c| c.max_body == DEFAULT_MAX_BODY && c.listen == "127.0.0.1:3000"));
    }

    #[test]
    fn ingest_with_a_database_needs_no_configured_token() {
        let ok = IngestConfig::from_vars(&vars(&[
            ("DATABASE_URL", "postgres://h/db"),
            ("HOOKLINE_QUEUE_URL", "http://q"),
        ]));
        assert!(ok.is_ok_and(|c| c.tokens.is_empty() && c.database_url.is_some()));
    }
}
