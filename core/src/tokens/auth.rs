//! [`StoreAuthenticator`]: the configured tokens (`HOOKLINE_TOKENS`, the
//! data dir's `tokens` file) first, unchanged; then the token table by
//! hash. A row read from the table is kept for at most the cache window
//! (30 s by default), so a revocation or a role change reaches every
//! process within it; expiry is checked against the clock at every use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;

use super::{StoredToken, TokenStore};
use crate::http::{Authenticator, Grant, TokenSet, hash_hex};

/// How long a row read from the table is trusted: a revoked token is
/// refused at most this long after the revocation.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(30);

/// While the table cannot be read, a row read within this long is still
/// used (the ingest keeps accepting its people through a database
/// restart); past it the token is refused.
const STALE_LIMIT: Duration = Duration::from_secs(600);

/// Most rows kept; past it the cache starts again (a flood of distinct
/// tokens cannot grow it).
const MAX_CACHED: usize = 10_000;

struct Cached {
    row: StoredToken,
    fetched: Instant,
}

/// The configured tokens, then the token table.
pub struct StoreAuthenticator {
    configured: TokenSet,
    store: Arc<dyn TokenStore>,
    ttl: Duration,
    /// Rows found, by hash. Unknown tokens are not cached: a token issued
    /// a second ago is accepted at once.
    cache: Mutex<HashMap<String, Cached>>,
}

impl StoreAuthenticator {
    /// With the default cache window ([`DEFAULT_CACHE_TTL`]).
    pub fn new(configured: TokenSet, store: Arc<dyn TokenStore>) -> Self {
        Self::with_ttl(configured, store, DEFAULT_CACHE_TTL)
    }

    /// With a cache window of `ttl` (tests use about a second).
    pub fn with_ttl(configured: TokenSet, store: Arc<dyn TokenStore>, ttl: Duration) -> Self {
        StoreAuthenticator {
            configured,
            store,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, hash: &str, within: Duration) -> Option<StoredToken> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(hash)
            .filter(|c| c.fetched.elapsed() < within)
            .map(|c| c.row.clone())
    }

    fn keep(&self, hash: String, row: Option<&StoredToken>) {
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        match row {
            Some(row) => {
                if cache.len() >= MAX_CACHED {
                    let ttl = self.ttl;
                    cache.retain(|_, c| c.fetched.elapsed() < ttl);
                    if cache.len() >= MAX_CACHED {
                        cache.clear();
                    }
                }
                cache.insert(
                    hash,
                    Cached {
                        row: row.clone(),
                        fetched: Instant::now(),
                    },
                );
            }
            None => {
                cache.remove(&hash);
            }
        }
    }

    /// The row of `hash`: cached within the window, else read.
    async fn row(&self, hash: String) -> Option<StoredToken> {
        if let Some(row) = self.cached(&hash, self.ttl) {
            return Some(row);
        }
        match self.store.token_by_hash(&hash).await {
            Ok(row) => {
                self.keep(hash, row.as_ref());
                row
            }
            Err(e) => {
                let stale = self.cached(&hash, STALE_LIMIT);
                tracing::warn!(error = %e, stale = stale.is_some(), "cannot read the token table; using the cached row if recent");
                stale
            }
        }
    }
}

#[async_trait::async_trait]
impl Authenticator for StoreAuthenticator {
    async fn grant(&self, token: &str) -> Option<Grant> {
        if let Some(g) = self.configured.grant(token) {
            return Some(g.clone());
        }
        if token.is_empty() {
            return None;
        }
        self.row(hash_hex(token)).await?.grant(Utc::now())
    }
}
