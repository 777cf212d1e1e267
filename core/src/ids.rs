//! Identifier newtypes. Their only constructors check bounds, so a value of
//! these types is always safe to store, log and use as a key.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::validate::FieldError;

/// Longest accepted identifier, in bytes. Claude Code's ids are UUIDs or
/// `toolu_…` strings far below this; the bound stops hostile input early.
pub const MAX_ID_LEN: usize = 128;

fn check_id(field: &str, value: &str) -> Result<(), FieldError> {
    if value.is_empty() {
        return Err(FieldError::new(field, "empty", "must not be empty"));
    }
    if value.len() > MAX_ID_LEN {
        return Err(FieldError::new(
            field,
            "too_long",
            format!(
                "is {} bytes long; at most {MAX_ID_LEN} are accepted",
                value.len()
            ),
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
    {
        return Err(FieldError::new(
            field,
            "bad_character",
            format!("contains {c:?}; only ASCII letters, digits and - _ . : are accepted"),
        ));
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Checks `value` and wraps it; the error names `field`.
            pub fn parse_field(field: &str, value: &str) -> Result<Self, FieldError> {
                check_id(field, value)?;
                Ok(Self(value.to_owned()))
            }

            /// Checks `value` under this type's usual field name.
            pub fn parse(value: &str) -> Result<Self, FieldError> {
                Self::parse_field($field, value)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// Claude Code's `session_id`.
    SessionId,
    "session_id"
);
id_type!(
    /// The idempotency key of one hook event (UUID v7 when hookline mints it).
    RequestId,
    "request_id"
);
id_type!(
    /// Claude Code's `tool_use_id` (`toolu_…`).
    ToolUseId,
    "tool_use_id"
);

impl RequestId {
    /// A new UUID v7 request id (time-ordered).
    pub fn new_v7() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_empty_long_and_odd_ids_naming_the_field() {
        assert_eq!(
            SessionId::parse("").map_err(|e| e.code),
            Err("empty".into())
        );
        let long = "a".repeat(10_000);
        let err = SessionId::parse(&long).err();
        assert_eq!(
            err.map(|e| (e.field, e.code)),
            Some(("session_id".into(), "too_long".into()))
        );
        let err = ToolUseId::parse("toolu_1; DROP TABLE").err();
        assert_eq!(err.map(|e| e.code), Some("bad_character".into()));
    }

    #[test]
    fn accepts_claude_code_shapes() {
        assert!(SessionId::parse("00893aaf-19fa-41d2-8238-13269b9b3ca0").is_ok());
        assert!(ToolUseId::parse("toolu_01ABC123...").is_ok());
        assert!(RequestId::parse(RequestId::new_v7().as_str()).is_ok());
    }

    proptest! {
        #[test]
        fn parse_accepts_exactly_the_bounded_alphabet(s in "\\PC{0,200}") {
            let ok = !s.is_empty() && s.len() <= MAX_ID_LEN
                && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
            prop_assert_eq!(SessionId::parse(&s).is_ok(), ok);
        }

        #[test]
        fn valid_ids_round_trip_through_json(s in "[A-Za-z0-9_.:-]{1,128}") {
            let id = RequestId::parse(&s).map_err(|e| TestCaseError::fail(e.message))?;
            let json = serde_json::to_string(&id).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back: RequestId = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(back, id);
        }
    }
}
