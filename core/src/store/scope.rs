//! The read rule, in one place (docs/teams.md, "Roles"): a member sees only
//! the sessions of its users and their spend; an admin sees everything.
//!
//! Every reader that answers a viewer (the dashboard, the read API and so
//! the remote MCP server) wraps the store's read traits once per request
//! with [`Viewer`]: [`Reader`], [`SearchStore`] and [`UsageStore`] then see
//! only the allowed sessions. The restriction goes into each query (the
//! `owners` of [`SessionFilter`], search [`Filters`](crate::search::Filters)
//! and [`UsageQuery`], and of [`Reader::session_heads`]), not onto its
//! answer, so limits and pages stay right; a session of another user is
//! simply not there (not found, nothing leaks about it). Reads by session
//! id check the session's user first.
//!
//! Local CLI commands that open the database themselves are operators and
//! read unscoped.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::page::Seek;
use super::read::{Reader, SessionFilter, SessionHead, SessionSummary, Step, ThreadLink};
use crate::error::StoreError;
use crate::http::AllowedUsers;
use crate::search::{RawHit, Search, SearchStore};
use crate::usage::{MessageUsage, Price, UsageQuery, UsageRow, UsageStore};

/// Whose sessions a viewer may read: from `Grant::read_scope`, or the
/// dashboard's `Access::scope`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewer {
    scope: AllowedUsers,
}

impl Viewer {
    pub fn new(scope: AllowedUsers) -> Viewer {
        Viewer { scope }
    }

    /// Every session (an admin, loopback).
    pub fn all() -> Viewer {
        Viewer::new(AllowedUsers::Any)
    }

    /// The users whose sessions this viewer sees; `None`: every session.
    pub fn owners(&self) -> Option<&[String]> {
        match &self.scope {
            AllowedUsers::Any => None,
            AllowedUsers::Only(users) => Some(users),
        }
    }

    /// `inner` as this viewer may read it (`inner` itself for an admin).
    pub fn reader(&self, inner: Arc<dyn Reader>) -> Arc<dyn Reader> {
        self.wrap(inner, |s| Arc::new(s))
    }

    pub fn search(&self, inner: Arc<dyn SearchStore>) -> Arc<dyn SearchStore> {
        self.wrap(inner, |s| Arc::new(s))
    }

    pub fn usage(&self, inner: Arc<dyn UsageStore>) -> Arc<dyn UsageStore> {
        self.wrap(inner, |s| Arc::new(s))
    }

    /// `inner` itself for an admin, else `scoped` of it narrowed to the
    /// viewer's users.
    fn wrap<T: ?Sized>(&self, inner: Arc<T>, scoped: fn(Scoped<T>) -> Arc<T>) -> Arc<T> {
        match self.owners() {
            None => inner,
            Some(users) => scoped(Scoped {
                inner,
                users: users.to_vec(),
                seen: Mutex::default(),
            }),
        }
    }
}

/// A store trait object restricted to the sessions of `users`.
struct Scoped<T: ?Sized> {
    inner: Arc<T>,
    users: Vec<String>,
    /// Sessions already found to be the viewer's: a session page asks for
    /// the same session's messages, tool uses and thread, one user lookup
    /// is enough. Only a yes is kept (a session's user does not change; an
    /// unknown session may arrive later); the wrapper lives one request.
    seen: Mutex<HashSet<String>>,
}

/// `owners` narrowed to `users`: a caller's own `owners`, if any, can only
/// narrow the scope further.
fn narrow(users: &[String], owners: Option<&[String]>) -> Vec<String> {
    match owners {
        None => users.to_vec(),
        Some(o) => users.iter().filter(|u| o.contains(u)).cloned().collect(),
    }
}

impl Scoped<dyn Reader> {
    async fn visible(&self, session_id: &str) -> Result<bool, StoreError> {
        if self.seen.lock().is_ok_and(|s| s.contains(session_id)) {
            return Ok(true);
        }
        let yes = self
            .inner
            .session_user(session_id)
            .await?
            .flatten()
            .is_some_and(|u| self.users.contains(&u));
        if yes && let Ok(mut s) = self.seen.lock() {
            s.insert(session_id.to_owned());
        }
        Ok(yes)
    }
}

#[async_trait::async_trait]
impl Reader for Scoped<dyn Reader> {
    async fn thread_link(&self, session_id: &str) -> Result<Option<ThreadLink>, StoreError> {
        if !self.visible(session_id).await? {
            return Ok(None);
        }
        self.inner.thread_link(session_id).await
    }

    async fn thread_children(&self, session_id: &str) -> Result<Vec<ThreadLink>, StoreError> {
        let mut out = Vec::new();
        for link in self.inner.thread_children(session_id).await? {
            if self.visible(&link.session_id).await? {
                out.push(link);
            }
        }
        Ok(out)
    }

    async fn session_rows(
        &self,
        filter: &SessionFilter,
        at: &Seek,
        limit: i64,
    ) -> Result<Vec<SessionSummary>, StoreError> {
        let filter = SessionFilter {
            owners: Some(narrow(&self.users, filter.owners.as_deref())),
            ..filter.clone()
        };
        self.inner.session_rows(&filter, at, limit).await
    }

    async fn session_heads(
        &self,
        id: &str,
        pattern: &str,
        owners: Option<&[String]>,
    ) -> Result<Vec<SessionHead>, StoreError> {
        let owners = narrow(&self.users, owners);
        self.inner.session_heads(id, pattern, Some(&owners)).await
    }

    async fn session_user(&self, session_id: &str) -> Result<Option<Option<String>>, StoreError> {
        if !self.visible(session_id).await? {
            return Ok(None);
        }
        self.inner.session_user(session_id).await
    }

    async fn session_messages(&self, session_id: &str) -> Result<Vec<Step>, StoreError> {
        if !self.visible(session_id).await? {
            return Ok(Vec::new());
        }
        self.inner.session_messages(session_id).await
    }

    async fn session_tool_uses(
        &self,
        session_id: &str,
        fallback: DateTime<Utc>,
    ) -> Result<Vec<Step>, StoreError> {
        if !self.visible(session_id).await? {
            return Ok(Vec::new());
        }
        self.inner.session_tool_uses(session_id, fallback).await
    }

    async fn session_entries(&self, session_id: &str) -> Result<Vec<Value>, StoreError> {
        if !self.visible(session_id).await? {
            return Ok(Vec::new());
        }
        self.inner.session_entries(session_id).await
    }

    async fn sessions_started_between(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
        owners: Option<&[String]>,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let owners = narrow(&self.users, owners);
        self.inner
            .sessions_started_between(since, until, Some(&owners), limit)
            .await
    }
}

#[async_trait::async_trait]
impl SearchStore for Scoped<dyn SearchStore> {
    async fn search_hits(&self, s: &Search) -> Result<Vec<RawHit>, StoreError> {
        let mut s = s.clone();
        s.filters.owners = Some(narrow(&self.users, s.filters.owners.as_deref()));
        self.inner.search_hits(&s).await
    }
}

#[async_trait::async_trait]
impl UsageStore for Scoped<dyn UsageStore> {
    async fn usage_rows(&self, q: &UsageQuery) -> Result<Vec<UsageRow>, StoreError> {
        let q = UsageQuery {
            owners: Some(narrow(&self.users, q.owners.as_deref())),
            ..q.clone()
        };
        self.inner.usage_rows(&q).await
    }

    async fn message_usage(&self, session_id: &str) -> Result<Vec<MessageUsage>, StoreError> {
        // The session's rollup rows, read in scope, say whether it is the
        // viewer's; a session with none has no usage to show either.
        let q = UsageQuery {
            session_id: Some(session_id.to_owned()),
            owners: Some(self.users.clone()),
            ..UsageQuery::default()
        };
        if self.inner.usage_rows(&q).await?.is_empty() {
            return Ok(Vec::new());
        }
        self.inner.message_usage(session_id).await
    }

    async fn stored_prices(&self) -> Result<Vec<Price>, StoreError> {
        self.inner.stored_prices().await
    }

    async fn put_prices(&self, prices: &[Price]) -> Result<u64, StoreError> {
        self.inner.put_prices(prices).await
    }
}
