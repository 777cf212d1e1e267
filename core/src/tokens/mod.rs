//! Per-person tokens kept in the database (`api_tokens`): issued, listed,
//! revoked and given a role by `hookline tokens`, checked by
//! [`StoreAuthenticator`] wherever a token is accepted. Only the SHA-256
//! of a token is stored; the token itself is shown once, when issued.
//!
//! # Layout
//!
//! - this file: [`StoredToken`] (a row), the [`TokenStore`] trait both
//!   stores implement, and the use cases ([`issue`], [`revoke`],
//!   [`set_role`]) that check their input and record themselves in the
//!   operator audit.
//! - `auth.rs`: [`StoreAuthenticator`], the configured tokens first, then
//!   the table, with a short cache.

mod auth;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::error::StoreError;
use crate::http::{AllowedUsers, Grant, Role, hash_hex, is_name};
use crate::ops::audit::{self, Action, Operation, OperatorAudit};

pub use auth::{DEFAULT_CACHE_TTL, StoreAuthenticator};

/// One row of `api_tokens`. Its `Serialize` form (what `hookline tokens
/// list --json` prints) leaves the hash out.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct StoredToken {
    /// `tok_` and 12 hex digits: how people name the token.
    pub id: String,
    /// Whose token: the principal of its requests and the only user whose
    /// events it may send.
    pub user_name: String,
    #[serde(serialize_with = "role_str")]
    pub role: Role,
    /// SHA-256 of the token, hex.
    #[serde(skip)]
    pub hash: String,
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

fn role_str<S: serde::Serializer>(r: &Role, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(r.as_str())
}

/// Without the hash.
impl std::fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredToken")
            .field("id", &self.id)
            .field("user_name", &self.user_name)
            .field("role", &self.role)
            .field("expires_at", &self.expires_at)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

/// Whether a stored token is accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenStatus {
    Active,
    Expired,
    Revoked,
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::Expired => "expired",
            TokenStatus::Revoked => "revoked",
        }
    }
}

impl StoredToken {
    /// Revoked wins over expired.
    pub fn status(&self, now: DateTime<Utc>) -> TokenStatus {
        if self.revoked_at.is_some_and(|r| r <= now) {
            TokenStatus::Revoked
        } else if self.expires_at.is_some_and(|e| e <= now) {
            TokenStatus::Expired
        } else {
            TokenStatus::Active
        }
    }

    /// What the token grants at `now`: nothing once revoked or expired;
    /// else its user as principal, that user alone, its role.
    pub fn grant(&self, now: DateTime<Utc>) -> Option<Grant> {
        (self.status(now) == TokenStatus::Active).then(|| Grant {
            principal: self.user_name.clone(),
            users: AllowedUsers::Only(vec![self.user_name.clone()]),
            role: self.role,
        })
    }
}

/// The role stored in a row, or a store error naming it.
pub fn stored_role(s: &str) -> Result<Role, StoreError> {
    Role::parse(s)
        .ok_or_else(|| StoreError::refused(format!("api_tokens.role {s:?} is not member or admin")))
}

/// The token table; both stores implement it.
#[async_trait::async_trait]
pub trait TokenStore: Send + Sync {
    /// Adds a row (its id and hash are new: a clash is an error).
    async fn insert_token(&self, t: &StoredToken) -> Result<(), StoreError>;

    /// The row whose hash is `hash`, if any.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<StoredToken>, StoreError>;

    /// The row `id`, if any.
    async fn token(&self, id: &str) -> Result<Option<StoredToken>, StoreError>;

    /// Every row, newest first.
    async fn tokens(&self) -> Result<Vec<StoredToken>, StoreError>;

    /// Sets `revoked_at` to `at` unless already set; whether a row changed.
    /// A change also ends the dashboard sessions its user signed in with a
    /// token (`dashboard_sessions.via = 'token'`), in the same transaction:
    /// a revoked token's login does not outlive it.
    async fn revoke_token(&self, id: &str, at: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Sets the role; whether a row changed. A change ends the user's
    /// token-made dashboard sessions as [`TokenStore::revoke_token`] does,
    /// so the next sign-in has the new role.
    async fn set_token_role(&self, id: &str, role: Role) -> Result<bool, StoreError>;
}

/// Why a token command is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    #[error("--user {0:?}: a user name is 1-64 characters of letters, digits, - _ . @")]
    BadUser(String),
    #[error("--label: {0}")]
    BadLabel(&'static str),
    #[error("--expires: the token would expire at {0}, which is not in the future")]
    AlreadyExpired(DateTime<Utc>),
    #[error("no token {0:?} (hookline tokens list --all shows every id)")]
    UnknownId(String),
    #[error("token {0} is revoked; issue a new one (hookline tokens create)")]
    Revoked(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What [`issue`] makes.
#[derive(Clone, Debug)]
pub struct NewToken {
    pub user: String,
    pub role: Role,
    pub expires_at: Option<DateTime<Utc>>,
    pub label: Option<String>,
}

/// A new token id: `tok_` and 12 random hex digits.
pub fn new_id() -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string();
    format!("tok_{}", &hex[..12])
}

/// Longest label.
pub const MAX_LABEL: usize = 200;

/// Stores `token` (its hash) for `req.user`, as `actor` did; records it.
/// `token` is the secret the caller generated and shows once.
pub async fn issue(
    store: &dyn TokenStore,
    audit: &dyn OperatorAudit,
    actor: &str,
    req: &NewToken,
    token: &str,
) -> Result<StoredToken, TokenError> {
    if !is_name(&req.user) {
        return Err(TokenError::BadUser(req.user.clone()));
    }
    let label = req
        .label
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty());
    if let Some(l) = label {
        if l.chars().count() > MAX_LABEL {
            return Err(TokenError::BadLabel("at most 200 characters"));
        }
        if l.chars().any(char::is_control) {
            return Err(TokenError::BadLabel(
                "no control characters (newlines, tabs)",
            ));
        }
    }
    let now = Utc::now();
    if let Some(e) = req.expires_at.filter(|e| *e <= now) {
        return Err(TokenError::AlreadyExpired(e));
    }
    let row = StoredToken {
        id: new_id(),
        user_name: req.user.clone(),
        role: req.role,
        hash: hash_hex(token),
        label: label.map(str::to_owned),
        created_at: now,
        created_by: actor.to_owned(),
        expires_at: req.expires_at,
        revoked_at: None,
    };
    store.insert_token(&row).await?;
    let detail = json!({ "user": row.user_name, "role": row.role.as_str(), "label": row.label, "expires_at": row.expires_at });
    audit::record(
        audit,
        Operation::new(actor, Action::TokenCreate, Some(row.id.clone()), 1, detail),
    )
    .await?;
    Ok(row)
}

/// Revokes token `id` now; records it. Revoking a revoked token changes
/// nothing and records nothing.
pub async fn revoke(
    store: &dyn TokenStore,
    audit: &dyn OperatorAudit,
    actor: &str,
    id: &str,
) -> Result<StoredToken, TokenError> {
    let Some(before) = store.token(id).await? else {
        return Err(TokenError::UnknownId(id.to_owned()));
    };
    if store.revoke_token(id, Utc::now()).await? {
        let detail = json!({ "user": before.user_name, "role": before.role.as_str() });
        audit::record(
            audit,
            Operation::new(actor, Action::TokenRevoke, Some(id.to_owned()), 1, detail),
        )
        .await?;
    }
    store
        .token(id)
        .await?
        .ok_or_else(|| TokenError::UnknownId(id.to_owned()))
}

/// Gives token `id` the role `role`; records the change (from, to).
pub async fn set_role(
    store: &dyn TokenStore,
    audit: &dyn OperatorAudit,
    actor: &str,
    id: &str,
    role: Role,
) -> Result<StoredToken, TokenError> {
    let Some(before) = store.token(id).await? else {
        return Err(TokenError::UnknownId(id.to_owned()));
    };
    if before.revoked_at.is_some() {
        return Err(TokenError::Revoked(id.to_owned()));
    }
    if before.role != role && store.set_token_role(id, role).await? {
        let detail =
            json!({ "user": before.user_name, "from": before.role.as_str(), "to": role.as_str() });
        audit::record(
            audit,
            Operation::new(actor, Action::TokenRole, Some(id.to_owned()), 1, detail),
        )
        .await?;
    }
    store
        .token(id)
        .await?
        .ok_or_else(|| TokenError::UnknownId(id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> StoredToken {
        StoredToken {
            id: new_id(),
            user_name: "alice".into(),
            role: Role::Member,
            hash: hash_hex("hl_x"),
            label: None,
            created_at: Utc::now(),
            created_by: "cli:ops".into(),
            expires_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn a_stored_token_grants_its_user_alone_until_revoked_or_expired() {
        let now = Utc::now();
        let t = row();
        let g = t.grant(now);
        assert_eq!(g.as_ref().map(|g| g.principal.as_str()), Some("alice"));
        assert_eq!(
            g.map(|g| g.read_scope()),
            Some(AllowedUsers::Only(vec!["alice".into()]))
        );
        let expired = StoredToken {
            expires_at: Some(now - chrono::Duration::seconds(1)),
            ..row()
        };
        assert_eq!(
            (expired.status(now), expired.grant(now)),
            (TokenStatus::Expired, None)
        );
        let revoked = StoredToken {
            revoked_at: Some(now),
            ..expired
        };
        assert_eq!(
            revoked.status(now),
            TokenStatus::Revoked,
            "revoked wins over expired"
        );
    }

    #[test]
    fn ids_are_tok_and_twelve_hex_digits_and_serializing_drops_the_hash() -> anyhow::Result<()> {
        let t = row();
        assert!(t.id.len() == 16 && t.id.starts_with("tok_"), "{}", t.id);
        assert!(t.id[4..].chars().all(|c| c.is_ascii_hexdigit()));
        let json = serde_json::to_string(&t)?;
        assert!(
            !json.contains(&t.hash) && json.contains("\"role\":\"member\""),
            "{json}"
        );
        assert!(!format!("{t:?}").contains(&t.hash));
        Ok(())
    }
}
