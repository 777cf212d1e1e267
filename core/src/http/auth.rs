//! Bearer tokens. Configured as `name:sha256hex[:users[:role]]` entries
//! (`HOOKLINE_TOKENS`, separated by commas or white space); only hashes are
//! kept. A presented token is hashed and compared with every configured
//! hash in constant time.
//!
//! The optional third field binds the token to the users whose events it
//! may send (the `hookline.user` the hook stamps): `alice` or `alice|bob`,
//! or `*` for any user. Without it a token may send any user's events, as
//! before the field existed.
//!
//! The optional fourth field is the token's [`Role`]: `admin` (the default,
//! what every token was before roles existed) or `member`. A member sees
//! and writes only the sessions of its users, so a member token must name
//! them (`alice:…:alice:member`). docs/teams.md has the rules.
//!
//! Who checks a presented token is an [`Authenticator`]: a [`TokenSet`]
//! (these configured entries), or one that also reads the token table.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Why a `HOOKLINE_TOKENS` value is refused (which entry, why).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("HOOKLINE_TOKENS entry {index} ({entry:?}): {reason}")]
pub struct TokenConfigError {
    pub index: usize,
    pub entry: String,
    pub reason: &'static str,
}

/// What a principal may do beyond its own sessions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Role {
    /// Only its own users' sessions: writes into them, reads them.
    Member,
    /// Every session; operator actions (replay, purge).
    #[default]
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "member" => Some(Role::Member),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whose events a token may send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowedUsers {
    /// Any user's, and events with no user (`*`, or no third field).
    Any,
    /// Only events stamped with one of these users.
    Only(Vec<String>),
}

impl AllowedUsers {
    /// Whether an event stamped with `user` (None: not stamped) may be sent.
    pub fn allows(&self, user: Option<&str>) -> bool {
        match (self, user) {
            (AllowedUsers::Any, _) => true,
            (AllowedUsers::Only(users), Some(u)) => users.iter().any(|a| a == u),
            (AllowedUsers::Only(_), None) => false,
        }
    }
}

impl std::fmt::Display for AllowedUsers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AllowedUsers::Any => f.write_str("*"),
            AllowedUsers::Only(users) => f.write_str(&users.join(", ")),
        }
    }
}

#[derive(Clone)]
struct Token {
    grant: Grant,
    hash: [u8; 32],
}

/// What a verified token grants: its principal, the users it may send
/// events of, and its role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub principal: String,
    pub users: AllowedUsers,
    pub role: Role,
}

impl Grant {
    /// Whose sessions this principal may read: every user's for an admin,
    /// its own users' for a member.
    pub fn read_scope(&self) -> AllowedUsers {
        match self.role {
            Role::Admin => AllowedUsers::Any,
            Role::Member => self.users.clone(),
        }
    }

    /// Whose existing sessions this principal may add events to: `None`
    /// for an admin (any), its users for a member (none when it names no
    /// user list, which the configuration refuses).
    pub fn writer_users(&self) -> Option<Vec<String>> {
        match (self.role, &self.users) {
            (Role::Admin, _) => None,
            (Role::Member, AllowedUsers::Only(users)) => Some(users.clone()),
            (Role::Member, AllowedUsers::Any) => Some(Vec::new()),
        }
    }
}

/// Checks presented bearer tokens. Every place that accepts a token (the
/// ingest, the read API, the dashboard's login) asks one of these.
#[async_trait::async_trait]
pub trait Authenticator: Send + Sync {
    /// What a presented token grants, or `None` (unknown, revoked, expired).
    async fn grant(&self, token: &str) -> Option<Grant>;
}

#[async_trait::async_trait]
impl Authenticator for TokenSet {
    async fn grant(&self, token: &str) -> Option<Grant> {
        TokenSet::grant(self, token).cloned()
    }
}

/// The configured tokens.
#[derive(Clone, Default)]
pub struct TokenSet {
    tokens: Vec<Token>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self
            .tokens
            .iter()
            .map(|t| t.grant.principal.as_str())
            .collect();
        f.debug_struct("TokenSet")
            .field("principals", &names)
            .finish()
    }
}

/// SHA-256 of a token, as configured in `HOOKLINE_TOKENS`.
pub fn hash_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A principal or user name: 1-64 characters of letters, digits, `- _ . @`.
pub fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
}

impl TokenSet {
    /// Parses `name:sha256hex[:users]` entries. The same principal may
    /// appear several times (rotation: old and new token both valid).
    pub fn parse(spec: &str) -> Result<TokenSet, TokenConfigError> {
        let mut tokens = Vec::new();
        for (index, entry) in spec
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|e| !e.is_empty())
            .enumerate()
        {
            let err = |reason| TokenConfigError {
                index,
                entry: entry.chars().take(80).collect(),
                reason,
            };
            let mut fields = entry.splitn(4, ':');
            let (Some(name), Some(hash)) = (fields.next(), fields.next()) else {
                return Err(err("expected name:sha256hex[:users[:role]]"));
            };
            if !is_name(name) {
                return Err(err(
                    "the name must be 1-64 characters of letters, digits, - _ . @",
                ));
            }
            let bytes = hex::decode(hash).map_err(|_| err("the hash must be hexadecimal"))?;
            let hash: [u8; 32] = bytes
                .try_into()
                .map_err(|_| err("the hash must be 64 hex digits (SHA-256)"))?;
            let users = match fields.next() {
                None | Some("*") => AllowedUsers::Any,
                Some(list) => {
                    let users: Vec<String> = list.split('|').map(str::to_owned).collect();
                    if !users.iter().all(|u| is_name(u)) {
                        return Err(err(
                            "the users must be * or user names (letters, digits, - _ . @) separated by |",
                        ));
                    }
                    AllowedUsers::Only(users)
                }
            };
            let role = match fields.next() {
                None => Role::Admin,
                Some(r) => Role::parse(r).ok_or_else(|| err("the role must be admin or member"))?,
            };
            if role == Role::Member && users == AllowedUsers::Any {
                return Err(err(
                    "a member token must name its users (name:sha256hex:alice:member)",
                ));
            }
            tokens.push(Token {
                grant: Grant {
                    principal: name.to_owned(),
                    users,
                    role,
                },
                hash,
            });
        }
        Ok(TokenSet { tokens })
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The principal of a presented token, or `None`.
    pub fn verify(&self, token: &str) -> Option<&str> {
        self.grant(token).map(|g| g.principal.as_str())
    }

    /// What a presented token grants, or `None`. Every configured hash is
    /// compared, in constant time, whatever matches.
    pub fn grant(&self, token: &str) -> Option<&Grant> {
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = None;
        for t in &self.tokens {
            if bool::from(t.hash.ct_eq(&presented)) && found.is_none() {
                found = Some(&t.grant);
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_configured_tokens_and_names_their_principal() -> Result<(), TokenConfigError> {
        let set = TokenSet::parse(&format!(
            "alice:{}, bob:{}",
            hash_hex("s3cret"),
            hash_hex("other")
        ))?;
        assert_eq!(set.verify("s3cret"), Some("alice"));
        assert_eq!(set.verify("other"), Some("bob"));
        assert_eq!(set.verify("s3cre"), None);
        assert_eq!(set.verify(""), None);
        Ok(())
    }

    #[test]
    fn bad_entries_are_refused_with_their_position() {
        let e = TokenSet::parse("alice:abcd").err();
        assert_eq!(
            e.map(|e| (e.index, e.reason)),
            Some((0, "the hash must be 64 hex digits (SHA-256)"))
        );
        let e = TokenSet::parse(&format!("ok:{} nocolon", hash_hex("x"))).err();
        assert_eq!(e.map(|e| e.index), Some(1));
    }

    #[test]
    fn debug_output_never_shows_hashes() -> Result<(), TokenConfigError> {
        let h = hash_hex("s3cret");
        let set = TokenSet::parse(&format!("alice:{h}"))?;
        assert!(!format!("{set:?}").contains(&h));
        Ok(())
    }

    #[test]
    fn a_third_field_binds_a_token_to_users() -> Result<(), TokenConfigError> {
        let set = TokenSet::parse(&format!(
            "alice:{},ci:{}:*,shared:{}:bob|carol.d",
            hash_hex("a"),
            hash_hex("c"),
            hash_hex("s")
        ))?;
        let users = |t| set.grant(t).map(|g| g.users.clone());
        assert_eq!(users("a"), Some(AllowedUsers::Any), "no field: any user");
        assert_eq!(users("c"), Some(AllowedUsers::Any));
        let shared = users("s").unwrap_or(AllowedUsers::Any);
        assert!(shared.allows(Some("bob")) && shared.allows(Some("carol.d")));
        assert!(!shared.allows(Some("alice")));
        assert!(!shared.allows(None), "an unstamped event is not bob's");
        assert!(AllowedUsers::Any.allows(None));
        assert_eq!(set.verify("s"), Some("shared"));
        Ok(())
    }

    #[test]
    fn a_fourth_field_sets_the_role() -> Result<(), TokenConfigError> {
        let set = TokenSet::parse(&format!(
            "alice:{}:alice:member ops:{}:*:admin old:{}",
            hash_hex("a"),
            hash_hex("o"),
            hash_hex("x")
        ))?;
        let grant = |t| set.grant(t).cloned();
        let alice = grant("a");
        assert_eq!(alice.as_ref().map(|g| g.role), Some(Role::Member));
        assert_eq!(
            alice.map(|g| g.read_scope()),
            Some(AllowedUsers::Only(vec!["alice".into()]))
        );
        assert_eq!(grant("o").map(|g| g.read_scope()), Some(AllowedUsers::Any));
        assert_eq!(
            grant("a").and_then(|g| g.writer_users()),
            Some(vec!["alice".to_owned()]),
            "a member writes into its users' sessions only"
        );
        assert_eq!(grant("o").map(|g| g.writer_users()), Some(None));
        assert_eq!(
            grant("x").map(|g| g.role),
            Some(Role::Admin),
            "no role: admin, as before roles"
        );
        for bad in [":*:member", "::member", ":alice:owner"] {
            let spec = format!("p:{}{bad}", hash_hex("x"));
            assert!(TokenSet::parse(&spec).is_err(), "{bad:?} accepted");
        }
        Ok(())
    }

    #[test]
    fn bad_user_lists_are_refused() {
        for bad in ["", "bob|", "bob,x", "b b", "a:b"] {
            let spec = format!("p:{}:{bad}", hash_hex("x"));
            let e = TokenSet::parse(&spec).err();
            assert!(
                e.is_some_and(|e| ["users", "expected", "role"]
                    .iter()
                    .any(|w| e.reason.contains(w))),
                "{bad:?} accepted"
            );
        }
    }
}
