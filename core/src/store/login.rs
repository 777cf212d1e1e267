//! Dashboard sessions (logins), kept in the store so that they survive a
//! restart of `hookline serve` or `hookline dashboard`, expire, and are
//! revoked by logout everywhere at once (table `dashboard_sessions`).
//!
//! The store sees only the SHA-256 of the cookie value (`id_hash`): a copy
//! of the table signs nobody in. Making the cookie, its lifetime and when
//! expired rows go is the dashboard's (`hookline_cli::dashboard::session`);
//! the two stores only run these statements, and share the row mapping
//! below.

use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::http::{AllowedUsers, Grant, Role};

/// How a dashboard session was signed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginVia {
    /// A bearer token pasted into the login form.
    Token,
    /// OpenID Connect (authorization code with PKCE).
    Oidc,
}

impl LoginVia {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginVia::Token => "token",
            LoginVia::Oidc => "oidc",
        }
    }

    pub fn parse(s: &str) -> Option<LoginVia> {
        match s {
            "token" => Some(LoginVia::Token),
            "oidc" => Some(LoginVia::Oidc),
            _ => None,
        }
    }
}

/// One dashboard session as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DashboardLogin {
    pub grant: Grant,
    /// The CSRF token of the session's forms.
    pub csrf: String,
    pub via: LoginVia,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The statements behind dashboard sessions, implemented by both stores.
#[async_trait::async_trait]
pub trait LoginStore: Send + Sync {
    /// Stores a new session under `id_hash` (hex SHA-256 of the cookie).
    async fn insert_login(&self, id_hash: &str, login: &DashboardLogin) -> Result<(), StoreError>;
    /// The session stored under `id_hash`, if it has not expired at `now`.
    async fn find_login(
        &self,
        id_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DashboardLogin>, StoreError>;
    /// Deletes the session (logout); whether there was one.
    async fn delete_login(&self, id_hash: &str) -> Result<bool, StoreError>;
    /// Deletes every session expired at `now`; how many.
    async fn purge_logins(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
}

/// The `users` column: a JSON array of names, `None` for any user.
pub fn users_column(users: &AllowedUsers) -> Option<String> {
    match users {
        AllowedUsers::Any => None,
        AllowedUsers::Only(names) => Some(serde_json::Value::from(names.clone()).to_string()),
    }
}

/// The columns of a stored row, as both stores read them.
pub struct LoginRow {
    pub principal: String,
    pub users: Option<String>,
    pub role: String,
    pub csrf: String,
    pub via: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl TryFrom<LoginRow> for DashboardLogin {
    type Error = StoreError;

    /// A row the migrations' checks let through but this version cannot
    /// read is refused (permanent), never read as an admin.
    fn try_from(r: LoginRow) -> Result<Self, StoreError> {
        let role = Role::parse(&r.role).ok_or_else(|| {
            StoreError::refused(format!("dashboard_sessions.role {:?} is unknown", r.role))
        })?;
        let via = LoginVia::parse(&r.via).ok_or_else(|| {
            StoreError::refused(format!("dashboard_sessions.via {:?} is unknown", r.via))
        })?;
        let users = match r.users {
            None => AllowedUsers::Any,
            Some(text) => AllowedUsers::Only(
                serde_json::from_str::<Vec<String>>(&text).map_err(StoreError::permanent)?,
            ),
        };
        Ok(DashboardLogin {
            grant: Grant {
                principal: r.principal,
                users,
                role,
            },
            csrf: r.csrf,
            via,
            created_at: r.created_at,
            expires_at: r.expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_round_trip_and_unknown_role_is_refused() {
        let row = |users: Option<String>, role: &str| LoginRow {
            principal: "alice".into(),
            users,
            role: role.into(),
            csrf: "c".into(),
            via: "oidc".into(),
            created_at: Utc::now(),
            expires_at: Utc::now(),
        };
        let only = AllowedUsers::Only(vec!["alice".into(), "a\"b".into()]);
        let back = DashboardLogin::try_from(row(users_column(&only), "member"));
        assert_eq!(back.map(|l| l.grant.users).ok(), Some(only));
        let any = DashboardLogin::try_from(row(users_column(&AllowedUsers::Any), "admin"));
        assert_eq!(any.map(|l| l.grant.users).ok(), Some(AllowedUsers::Any));
        assert!(DashboardLogin::try_from(row(None, "root")).is_err());
    }
}
