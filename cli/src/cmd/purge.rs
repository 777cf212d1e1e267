//! `hookline purge`: delete what was captured of some sessions (by id, by
//! user, by age) from every table and from the DLQ, with a dry-run count, a
//! confirmation and a record in `purges`. See docs/privacy.md.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use hookline_core::ops::purge::{self, PurgeReport, Selection};
use hookline_core::queue::Queue;
use hookline_core::queue::sqs::{Purpose, SqsQueue, client};

use crate::config::{QueueArgs, Role, Target};

#[derive(Debug, clap::Args)]
pub struct Opts {
    /// Only this session id.
    #[arg(long)]
    session: Option<String>,
    /// Only the sessions of this user (the OS user the hook stamped).
    #[arg(long)]
    user: Option<String>,
    /// Only sessions whose last activity is before this date
    /// (YYYY-MM-DD, an RFC 3339 time, or an age such as 90d).
    #[arg(long, value_parser = parse_before)]
    before: Option<DateTime<Utc>>,
    /// Print what would be deleted, per table and queue; delete nothing.
    #[arg(long)]
    dry_run: bool,
    /// Delete without asking (needed when stdin is not a terminal).
    #[arg(long)]
    yes: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: Target,
}

/// `--before`: a date (midnight UTC), an RFC 3339 time, or an age (`90d`).
fn parse_before(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .ok_or_else(|| format!("{s:?} is not a date"));
    }
    hookline_core::ops::since::parse_since(s)
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    let sel = Selection {
        session: opts.session.clone(),
        user: opts.user.clone(),
        before: opts.before,
    };
    if sel.is_empty() {
        anyhow::bail!("say what to purge: --session ID, --user NAME and/or --before DATE");
    }
    if !opts.dry_run && !opts.yes && !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "refusing to purge without --yes: stdin is not a terminal (use --dry-run to see the counts)"
        );
    }
    let ops = opts.target.store.open(Role::Operator).await?.ops;
    let dlq = open_dlq(&opts.target).await?;
    let dlq = dlq.as_deref();
    let actor = crate::config::cli_actor();
    if !opts.dry_run && !opts.yes {
        let preview = purge::purge(ops.as_ref(), dlq, &sel, true, &actor).await?;
        print(&preview, false);
        if preview.total() == 0 {
            return Ok(());
        }
        eprint!("delete these rows and messages? type yes: ");
        std::io::stderr().flush().ok();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if answer.trim() != "yes" {
            anyhow::bail!("nothing deleted");
        }
    }
    let report = purge::purge(ops.as_ref(), dlq, &sel, opts.dry_run, &actor).await?;
    if opts.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print(&report, true);
    }
    Ok(())
}

/// The DLQ to purge: the SQS DLQ (`HOOKLINE_DLQ_URL`), else the embedded
/// queue's when `hookline serve` has one in the data dir, else none.
async fn open_dlq(t: &Target) -> anyhow::Result<Option<Arc<dyn Queue>>> {
    if let Some(url) = t.queue.dlq_url.as_deref().filter(|u| !u.is_empty()) {
        let sqs = client(Purpose::Poll).await;
        return Ok(Some(Arc::new(SqsQueue::new(sqs, url))));
    }
    if t.queue.is_sqs() {
        anyhow::bail!("set HOOKLINE_DLQ_URL or --dlq-url (the DLQ of the SQS queue) to purge it");
    }
    let dir = t.store.data_dir()?;
    if !QueueArgs::embedded_path(&dir).exists() {
        return Ok(None);
    }
    let q = t.queues().await.context("cannot open the embedded queue")?;
    Ok(Some(q.dlq))
}

fn print(r: &PurgeReport, done: bool) {
    let verb = if r.dry_run || !done {
        "would delete"
    } else {
        "deleted"
    };
    println!("{} sessions selected; {verb}:", r.sessions.len());
    for t in purge::TABLES.iter().rev() {
        println!("  {t:<24} {}", r.counts.get(*t).copied().unwrap_or(0));
    }
    match r.counts.get(purge::DLQ) {
        Some(n) => println!("  {:<24} {n}", "dlq messages"),
        None => println!("  {:<24} - (no DLQ configured)", "dlq messages"),
    }
    if let Some(id) = r.purge_id {
        println!("recorded as purge {id} (table purges)");
    }
}
