//! Purge (`Ops::purge_rows`), written once for every backend: the selected
//! sessions, then one DELETE per table ([`Table`], in `TABLES` order) in one
//! transaction. A dry run runs the same DELETEs and rolls them back, so its
//! counts are exactly what a purge of the same data deletes. The backends
//! give the statements ([`PurgeTx`]).

use crate::error::StoreError;
use crate::ops::purge::{PurgeRows, Selection};

/// A table a purge deletes from, in deletion order (foreign keys first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// Attempts of the selected sessions' audit rows (and, when the
    /// selection takes them, of sessionless audit rows before its date).
    Attempts,
    /// The audit rows, the same way.
    Events,
    Entries,
    Subagents,
    ToolUses,
    Messages,
    Conversations,
}

impl Table {
    /// Every table, in deletion order (the order of `TABLES`).
    pub const ALL: [Table; 7] = [
        Table::Attempts,
        Table::Events,
        Table::Entries,
        Table::Subagents,
        Table::ToolUses,
        Table::Messages,
        Table::Conversations,
    ];

    /// Its name (a key of `PurgeRows::counts`).
    pub fn name(self) -> &'static str {
        match self {
            Table::Attempts => "webhook_event_attempts",
            Table::Events => "webhook_events",
            Table::Entries => "transcript_entries",
            Table::Subagents => "subagents",
            Table::ToolUses => "tool_uses",
            Table::Messages => "messages",
            Table::Conversations => "conversations",
        }
    }
}

/// The statements of a purge transaction, per backend. Session ids are
/// passed and returned as the plan holds them (unescaped).
#[async_trait::async_trait]
pub trait PurgeTx: Send {
    /// The ids of the sessions `sel` selects, sorted.
    async fn selected(&mut self, sel: &Selection) -> Result<Vec<String>, StoreError>;
    /// Deletes the rows of `table` that belong to `ids` (and, for the audit
    /// tables, the sessionless rows `sel` takes); how many.
    async fn delete(
        &mut self,
        table: Table,
        ids: &[String],
        sel: &Selection,
    ) -> Result<u64, StoreError>;
    /// Commits (`keep`) or rolls back.
    async fn end(self, keep: bool) -> Result<(), StoreError>;
}

/// A backend that opens purge transactions.
#[async_trait::async_trait]
pub trait Purging: Send + Sync {
    type Tx: PurgeTx;
    async fn begin_purge(&self) -> Result<Self::Tx, StoreError>;
}

/// `Ops::purge_rows`: deletes (or, `dry_run`, counts) the selection's rows.
pub async fn purge_rows<B: Purging>(
    backend: &B,
    sel: &Selection,
    dry_run: bool,
) -> Result<PurgeRows, StoreError> {
    let mut tx = backend.begin_purge().await?;
    let sessions = tx.selected(sel).await?;
    let mut counts = std::collections::BTreeMap::new();
    for table in Table::ALL {
        let n = tx.delete(table, &sessions, sel).await?;
        counts.insert(
            table.name().to_owned(),
            i64::try_from(n).unwrap_or(i64::MAX),
        );
    }
    tx.end(!dry_run).await?;
    Ok(PurgeRows { sessions, counts })
}

#[cfg(test)]
mod tests {
    use super::Table;
    use crate::ops::purge::TABLES;

    #[test]
    fn the_tables_are_those_of_the_purge_report_in_deletion_order() {
        assert_eq!(Table::ALL.map(Table::name), TABLES);
    }
}
