//! Dashboard sessions: what a login (token or OpenID Connect) turns into.
//!
//! The cookie holds 32 random bytes (hex); the store keeps only their
//! SHA-256 with the grant, the CSRF token and the expiry
//! (`hookline_core::store::LoginStore`, table `dashboard_sessions`). Every
//! request looks its session up in the store: no cache, so a logout in one
//! process (`hookline serve`) refuses the cookie in every other one
//! (`hookline dashboard` on the same database) at once, and a restart keeps
//! everyone signed in. Expired rows are deleted at each new login.

use std::sync::Arc;

use axum::http::HeaderValue;
use chrono::Utc;
use hookline_core::error::StoreError;
use hookline_core::http::{Grant, hash_hex};
use hookline_core::store::{DashboardLogin, LoginStore, LoginVia};

use super::{Access, COOKIE, SESSION_TTL, random_hex};

/// The store of dashboard sessions.
#[derive(Clone)]
pub struct Sessions {
    store: Arc<dyn LoginStore>,
}

/// A session just opened: the cookie value to set, once.
pub struct Opened {
    pub cookie: String,
}

impl Sessions {
    pub fn new(store: Arc<dyn LoginStore>) -> Self {
        Sessions { store }
    }

    /// Opens a session for `grant` (and purges the expired ones).
    pub async fn open(&self, grant: &Grant, via: LoginVia) -> Result<Opened, StoreError> {
        let now = Utc::now();
        if let Err(e) = self.store.purge_logins(now).await {
            // Not this login's problem: the rows are refused anyway.
            tracing::warn!(error = %e, "could not purge expired dashboard sessions");
        }
        let cookie = random_hex();
        let ttl = chrono::Duration::from_std(SESSION_TTL).unwrap_or(chrono::Duration::hours(12));
        let login = DashboardLogin {
            grant: grant.clone(),
            csrf: random_hex(),
            via,
            created_at: now,
            expires_at: now + ttl,
        };
        self.store.insert_login(&hash_hex(&cookie), &login).await?;
        Ok(Opened { cookie })
    }

    /// The access a session cookie gives, if it is a live session.
    pub async fn find(&self, cookie: &str) -> Result<Option<Access>, StoreError> {
        let found = self.store.find_login(&hash_hex(cookie), Utc::now()).await?;
        Ok(found.map(|l| Access {
            who: l.grant.principal.clone(),
            scope: l.grant.read_scope(),
            role: l.grant.role,
            csrf: l.csrf,
            cookie: true,
        }))
    }

    /// Revokes the session of `cookie` (logout): the cookie is refused from
    /// now on, by every process on this store.
    pub async fn revoke(&self, cookie: &str) -> Result<bool, StoreError> {
        self.store.delete_login(&hash_hex(cookie)).await
    }
}

/// The `Set-Cookie` of a new session.
pub fn set_cookie(opened: &Opened) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{COOKIE}={}; Path=/ui; Max-Age={}; Secure; HttpOnly; SameSite=Strict",
        opened.cookie,
        SESSION_TTL.as_secs()
    ))
    .ok()
}

/// The `Set-Cookie` that removes the session cookie.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("hookline_ui=; Path=/ui; Max-Age=0; Secure; HttpOnly; SameSite=Strict")
}
