//! Bearer tokens. Configured as `name:sha256hex` pairs (`HOOKLINE_TOKENS`,
//! separated by commas or white space); only hashes are kept. A presented
//! token is hashed and compared with every configured hash in constant time.

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

#[derive(Clone)]
struct Token {
    principal: String,
    hash: [u8; 32],
}

/// The configured tokens.
#[derive(Clone, Default)]
pub struct TokenSet {
    tokens: Vec<Token>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.tokens.iter().map(|t| t.principal.as_str()).collect();
        f.debug_struct("TokenSet")
            .field("principals", &names)
            .finish()
    }
}

/// SHA-256 of a token, as configured in `HOOKLINE_TOKENS`.
pub fn hash_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl TokenSet {
    /// Parses `name:sha256hex` pairs. The same principal may appear several
    /// times (rotation: old and new token both valid).
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
            let (name, hash) = entry
                .split_once(':')
                .ok_or_else(|| err("expected name:sha256hex"))?;
            if name.is_empty()
                || name.len() > 64
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
            {
                return Err(err(
                    "the name must be 1-64 characters of letters, digits, - _ . @",
                ));
            }
            let bytes = hex::decode(hash).map_err(|_| err("the hash must be hexadecimal"))?;
            let hash: [u8; 32] = bytes
                .try_into()
                .map_err(|_| err("the hash must be 64 hex digits (SHA-256)"))?;
            tokens.push(Token {
                principal: name.to_owned(),
                hash,
            });
        }
        Ok(TokenSet { tokens })
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The principal of a presented token, or `None`. Every configured hash
    /// is compared, in constant time, whatever matches.
    pub fn verify(&self, token: &str) -> Option<&str> {
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = None;
        for t in &self.tokens {
            if bool::from(t.hash.ct_eq(&presented)) && found.is_none() {
                found = Some(t.principal.as_str());
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
}
