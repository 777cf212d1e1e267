//! `hookline dlq`: see what is in the dead-letter queue, replay it once the
//! cause is fixed, or purge it. The same commands for SQS (AWS, LocalStack)
//! and the embedded queue of `hookline serve`.

use chrono::{DateTime, Utc};
use hookline_core::ops::audit::{self, Action, Operation};
use hookline_core::ops::dlq::{self, DlqMessage, Filter};
use hookline_core::ops::replay::{Replay, replay};

use hookline_core::ops::since::parse_since;

use crate::config::{Role, Target};
use crate::text::one_line;
use crate::text::progress;

#[derive(Debug, clap::Args)]
pub struct Opts {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Messages in the DLQ with request id, event type, session, attempts,
    /// first failure and last error. They stay in the DLQ.
    List {
        /// At most this many messages.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One message in full with its audit history.
    Show {
        /// Request id or DLQ message id.
        id: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Send messages back to the source queue (after the cause is fixed).
    Replay(ReplayArgs),
    /// Delete every message of the DLQ (prints the count first).
    Purge {
        /// Really delete; without it only the count is printed.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, clap::Args)]
struct ReplayArgs {
    /// Request id or message id of one message to replay.
    id: Option<String>,
    /// Replay every message (no filter).
    #[arg(long, conflicts_with = "id")]
    all: bool,
    /// Only messages of this event type (e.g. PostToolUse).
    #[arg(long)]
    event_type: Option<String>,
    /// Only messages of this session id.
    #[arg(long)]
    session: Option<String>,
    /// Only messages that first failed since then (30m, 24h, 7d, RFC 3339).
    #[arg(long, value_parser = parse_since)]
    since: Option<DateTime<Utc>>,
    /// Only messages whose audit row has this error code (e.g. DB_TRANSIENT).
    #[arg(long)]
    error_code: Option<String>,
    /// Print what would move and the count; move nothing.
    #[arg(long)]
    dry_run: bool,
    /// Move at most this many messages.
    #[arg(long)]
    max: Option<usize>,
    /// At most this many messages per second.
    #[arg(long)]
    rate: Option<f64>,
    /// With --all on SQS: move message by message instead of the native
    /// StartMessageMoveTask.
    #[arg(long)]
    no_native: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    let ops = opts.target.store.open(Role::Operator).await?.ops;
    let queues = opts.target.queues().await?;
    let (source, dlq_q) = (queues.source.as_ref(), queues.dlq.as_ref());
    match opts.command {
        Command::List { limit, json } => {
            let msgs = dlq::list(dlq_q, ops.as_ref(), limit.max(1)).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&msgs)?);
            } else {
                print!("{}", table(&msgs));
                println!("{} message(s) listed from {}", msgs.len(), dlq_q.name());
            }
        }
        Command::Show { id, json } => {
            let found = dlq::find(dlq_q, ops.as_ref(), &id, usize::MAX).await?;
            let rid = found
                .as_ref()
                .and_then(|m| m.request_id.clone())
                .unwrap_or_else(|| id.clone());
            let detail = ops.audit_detail(&rid).await?;
            anyhow::ensure!(
                found.is_some() || detail.is_some(),
                "{id:?} is neither in the DLQ nor a known request id"
            );
            if json {
                let v = serde_json::json!({ "dlq_message": found, "audit": detail });
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                match &found {
                    Some(m) => {
                        println!("In {}: message {}", dlq_q.name(), m.message_id);
                        println!("  sent      {}", fmt_time(m.sent_at));
                        println!(
                            "  receives  {} in the DLQ (each listing counts one)",
                            m.receive_count
                        );
                        println!("  attributes {}", serde_json::to_string(&m.attributes)?);
                        println!("  body      {}", m.body);
                    }
                    None => println!("Not in {} (replayed, purged or never there).", dlq_q.name()),
                }
                if let Some(d) = &detail {
                    print!("{}", super::trace::audit_text(d));
                }
            }
        }
        Command::Replay(a) => {
            let filter = Filter {
                ids: a.id.clone().into_iter().collect(),
                event_type: a.event_type.clone(),
                session: a.session.clone(),
                since: a.since,
                error_code: a.error_code.clone(),
            };
            let req = Replay {
                filter,
                all: a.all,
                dry_run: a.dry_run,
                max: a.max,
                rate: a.rate,
                no_native: a.no_native,
            };
            let mut bar = |n: usize, total: Option<usize>| {
                progress(
                    if total.is_some() {
                        "moving"
                    } else {
                        "replaying"
                    },
                    n,
                    total,
                )
            };
            let actor = crate::config::cli_actor();
            let report = replay(ops.as_ref(), &queues, &req, &actor, &mut bar).await?;
            if let Some(moved) = report.native {
                if moved > 0 {
                    eprintln!();
                }
                println!(
                    "replayed {moved} message(s) from {} with StartMessageMoveTask",
                    dlq_q.name()
                );
                return Ok(());
            }
            if report.moved > 0 {
                eprintln!();
            }
            if a.json {
                println!("{}", serde_json::to_string_pretty(&report.report)?);
            } else {
                print!("{}", table(&report.matched));
                if report.dry_run {
                    println!(
                        "dry run: {} message(s) would move to {}; nothing moved",
                        report.matched.len(),
                        source.name()
                    );
                } else {
                    println!(
                        "replayed {} message(s) to {}; {} left in {}",
                        report.moved,
                        source.name(),
                        report.left,
                        dlq_q.name()
                    );
                }
            }
        }
        Command::Purge { yes } => {
            let n = dlq_q.depth().await?;
            println!("{n} message(s) in {}", dlq_q.name());
            if !yes {
                println!("nothing deleted; run again with --yes to delete them");
                return Ok(());
            }
            let total = usize::try_from(n).ok();
            let mut bar = |d: usize| progress("purging", d, total);
            let done = dlq::purge(dlq_q, &mut bar).await?;
            if done > 0 {
                eprintln!();
            }
            println!("purged {done} message(s) from {}", dlq_q.name());
            let op = Operation::new(
                &crate::config::cli_actor(),
                Action::DlqPurge,
                Some(dlq_q.name().to_owned()),
                i64::try_from(done).unwrap_or(i64::MAX),
                serde_json::json!({ "dlq": dlq_q.name() }),
            );
            audit::record(ops.as_ref(), op).await?;
        }
    }
    Ok(())
}

fn fmt_time(t: Option<DateTime<Utc>>) -> String {
    t.map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string())
}

/// The table of `dlq list` and `dlq replay`.
pub fn table(msgs: &[DlqMessage]) -> String {
    let mut out = format!(
        "{:<36}  {:<18}  {:<36}  {:>8}  {:<19}  {}\n",
        "REQUEST ID", "EVENT TYPE", "SESSION", "ATTEMPTS", "FIRST FAILURE", "LAST ERROR"
    );
    for m in msgs {
        let err = match (m.error_code(), m.error_message()) {
            (Some(c), Some(e)) => format!("{c}: {e}"),
            (Some(c), None) => c.to_owned(),
            _ => "-".into(),
        };
        out += &format!(
            "{:<36}  {:<18}  {:<36}  {:>8}  {:<19}  {}\n",
            m.request_id.as_deref().unwrap_or(&m.message_id),
            m.event_type.as_deref().unwrap_or("-"),
            m.session_id.as_deref().unwrap_or("-"),
            m.audit.as_ref().map_or(0, |a| a.attempts),
            fmt_time(m.first_failure_at()),
            one_line(&err, 100)
        );
    }
    out
}
