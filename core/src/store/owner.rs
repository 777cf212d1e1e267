//! The write rule on sessions (docs/teams.md, "Roles"): a session belongs
//! to its user (`conversations.user_name`, the user the hook stamped on its
//! earliest event); a member may add events only to new sessions and to
//! sessions of its own users, an admin anywhere.
//!
//! Checked twice: early by the ingest when it can read the store
//! ([`SessionOwners`], so the sender gets a 403), and authoritatively by the
//! worker in the write transaction (`Work::ApplyOwn`), whatever the order
//! the events arrive in and on the AWS path, where the ingest has no store.

use super::read::Reader;
use crate::error::StoreError;
use crate::validate::FieldError;

/// The code of the refusal, in the 403 answer and in the INVALID audit
/// row's validation errors (field `session_id`).
pub const FORBIDDEN_SESSION: &str = "forbidden_session";

/// Whose a session is, for the ingest's early check.
#[async_trait::async_trait]
pub trait SessionOwners: Send + Sync {
    /// The user of `session_id`: `None` when no such session is captured
    /// (a new one), `Some(None)` when it has no user.
    async fn owner(&self, session_id: &str) -> Result<Option<Option<String>>, StoreError>;
}

#[async_trait::async_trait]
impl<R: Reader + ?Sized> SessionOwners for R {
    async fn owner(&self, session_id: &str) -> Result<Option<Option<String>>, StoreError> {
        self.session_user(session_id).await
    }
}

/// `s` escaped for a LIKE pattern (`\` its escape character): alone it
/// matches `s` and nothing else.
pub fn like_escape(id: &str) -> String {
    id.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Whether a member writing for `users` may add events to a session whose
/// user is `owner` (`None`: the session is new).
pub fn may_write(users: &[String], owner: Option<Option<&str>>) -> bool {
    match owner {
        None => true,
        Some(Some(o)) => users.iter().any(|u| u == o),
        Some(None) => false,
    }
}

/// The refusal of an event into another user's session. It names neither
/// the session's user nor anything else of it.
pub fn forbidden_session(session_id: &str, users: &[String]) -> FieldError {
    FieldError::new(
        "session_id",
        FORBIDDEN_SESSION,
        format!(
            "session {session_id:?} belongs to another user: a member token may add events \
             only to new sessions and to sessions of users {}",
            users.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_writes_new_sessions_and_its_users_only() {
        let alice = ["alice".to_owned()];
        assert!(may_write(&alice, None), "a new session");
        assert!(may_write(&alice, Some(Some("alice"))));
        assert!(!may_write(&alice, Some(Some("bob"))));
        assert!(!may_write(&alice, Some(None)), "a session with no user");
        assert!(!may_write(&[], Some(Some("alice"))));
    }

    #[test]
    fn the_like_escape_escapes_like_wildcards() {
        assert_eq!(like_escape(r"a_b%c\d"), r"a\_b\%c\\d");
    }
}
