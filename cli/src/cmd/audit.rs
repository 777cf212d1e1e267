//! `hookline audit`: what operators did (replays, purges, token and role
//! changes), newest first, from `operator_audit`. The dashboard's Audit
//! page shows the same rows. docs/teams.md, "Operator audit".

use chrono::{DateTime, Utc};
use hookline_core::ops::audit::{Action, Operation, OperationQuery};
use hookline_core::ops::since::parse_since;

use crate::config::{Role, StoreArgs};
use crate::text::one_line;

#[derive(Debug, clap::Args)]
pub struct Opts {
    /// Only what was done since then (30m, 24h, 7d, an RFC 3339 time).
    #[arg(long, default_value = "7d", value_parser = parse_since)]
    since: DateTime<Utc>,
    /// Only this action: replay, purge, dlq.purge, token.create,
    /// token.revoke, token.role.
    #[arg(long, value_parser = Action::parse)]
    action: Option<Action>,
    /// At most this many rows.
    #[arg(long, default_value_t = 200)]
    limit: i64,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArgs,
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    let ops = opts.store.open(Role::Operator).await?.ops;
    let q = OperationQuery {
        since: Some(opts.since),
        action: opts.action,
        limit: opts.limit.max(1),
    };
    let rows = ops.operations(&q).await?;
    if opts.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", table(&rows));
        println!(
            "{} operation(s) since {}",
            rows.len(),
            opts.since.format("%Y-%m-%d %H:%M:%S")
        );
    }
    Ok(())
}

/// The table of `hookline audit`.
pub fn table(rows: &[Operation]) -> String {
    let mut out = format!(
        "{:<19}  {:<24}  {:<12}  {:<20}  {:>6}  {}\n",
        "AT", "ACTOR", "ACTION", "TARGET", "COUNT", "DETAIL"
    );
    for r in rows {
        out += &format!(
            "{:<19}  {:<24}  {:<12}  {:<20}  {:>6}  {}\n",
            r.at.format("%Y-%m-%d %H:%M:%S"),
            r.actor,
            r.action,
            r.target.as_deref().unwrap_or("-"),
            r.count,
            one_line(&r.detail.to_string(), 100)
        );
    }
    out
}
