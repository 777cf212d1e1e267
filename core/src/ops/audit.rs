//! The operator audit: what operators did (replays, purges, token and role
//! changes), who, when, on what and how many, in `operator_audit`. Written
//! by the use cases themselves ([`super::replay`], [`super::purge`],
//! [`crate::tokens`]) so every door (a command, a dashboard button, the
//! retention period) leaves the same row; read by `hookline audit` and the
//! dashboard's Audit page. docs/teams.md, "Operator audit".

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::error::StoreError;

/// What an operator did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Messages sent back from the DLQ to the source queue.
    Replay,
    /// Sessions deleted (`hookline purge`, the retention period).
    Purge,
    /// Every message of the DLQ deleted (`hookline dlq purge`).
    DlqPurge,
    /// A token issued (`hookline tokens create`).
    TokenCreate,
    /// A token revoked.
    TokenRevoke,
    /// A token's role changed.
    TokenRole,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Replay,
        Action::Purge,
        Action::DlqPurge,
        Action::TokenCreate,
        Action::TokenRevoke,
        Action::TokenRole,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Replay => "replay",
            Action::Purge => "purge",
            Action::DlqPurge => "dlq.purge",
            Action::TokenCreate => "token.create",
            Action::TokenRevoke => "token.revoke",
            Action::TokenRole => "token.role",
        }
    }

    /// The action named `s`, or an error listing the names.
    pub fn parse(s: &str) -> Result<Action, String> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
                format!("{s:?} is not an action; one of {}", names.join(", "))
            })
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of `operator_audit`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Operation {
    /// The row's id (0 before it is recorded).
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Who: a dashboard login's principal, `loopback`, `cli:USER@HOST`, or
    /// `retention`.
    pub actor: String,
    /// [`Action::as_str`].
    pub action: String,
    /// What it acted on: a token id, a session, `dlq`.
    pub target: Option<String>,
    /// How many: messages moved, sessions purged, tokens changed.
    pub count: i64,
    /// The rest (filters, selection, counts per table, the new role), never
    /// content or secrets.
    pub detail: Value,
}

impl Operation {
    /// A new row, now.
    pub fn new(
        actor: &str,
        action: Action,
        target: Option<String>,
        count: i64,
        detail: Value,
    ) -> Self {
        Operation {
            id: 0,
            at: Utc::now(),
            actor: actor.to_owned(),
            action: action.as_str().to_owned(),
            target,
            count,
            detail,
        }
    }
}

/// Which rows [`OperatorAudit::operations`] returns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OperationQuery {
    /// At or after this time.
    pub since: Option<DateTime<Utc>>,
    pub action: Option<Action>,
    /// At most this many, newest first.
    pub limit: i64,
}

/// The store side of the operator audit; both stores implement it.
#[async_trait::async_trait]
pub trait OperatorAudit: Send + Sync {
    /// Adds a row; returns its id.
    async fn record_operation(&self, op: &Operation) -> Result<i64, StoreError>;

    /// The rows `q` selects, newest first.
    async fn operations(&self, q: &OperationQuery) -> Result<Vec<Operation>, StoreError>;
}

/// Records `op`; a failure is logged and returned (the action itself is
/// done: the caller reports both).
pub async fn record(audit: &dyn OperatorAudit, op: Operation) -> Result<i64, StoreError> {
    match audit.record_operation(&op).await {
        Ok(id) => Ok(id),
        Err(e) => {
            tracing::error!(error = %e, action = %op.action, actor = %op.actor, "could not record the operation in operator_audit");
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_and_an_unknown_one_lists_the_names() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Ok(a));
        }
        let e = Action::parse("delete").err().unwrap_or_default();
        assert!(
            e.contains("token.revoke") && e.contains("\"delete\""),
            "{e}"
        );
    }
}
