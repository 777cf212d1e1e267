//! `hookline`: the operator CLI. Each subcommand is a module in `cmd/` with
//! its `Opts` and `run`.

use clap::{Parser, Subcommand};
use hookline_cli::cmd;

/// hookline: capture every Claude Code session into a database you can query.
#[derive(Debug, Parser)]
#[command(name = "hookline", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply the database migrations (a deploy step; `serve` does it on start).
    Migrate(cmd::migrate::Opts),
    /// Local development: the event-source poller for the local AWS stack.
    Dev(cmd::dev::Opts),
    /// Captured conversations: list them, show one as a transcript.
    Sessions(cmd::sessions::Opts),
    /// Run the whole pipeline in one process: ingest API, queue and worker,
    /// on an embedded SQLite store and queue unless told otherwise.
    Serve(cmd::serve::Opts),
    /// The dead-letter queue: list, show, replay (after a fix), purge.
    Dlq(cmd::dlq::Opts),
    /// Event statistics: counts, success rate, latency percentiles, errors.
    Events(cmd::events::Opts),
    /// Log lines from CloudWatch Logs or local files, filtered by request id,
    /// trace id, level and time.
    Logs(cmd::logs::Opts),
    /// Delete what was captured of some sessions (--session, --user,
    /// --before) from every table and the DLQ; --dry-run counts.
    Purge(cmd::purge::Opts),
    /// Full-text search over prompts, replies, tool inputs and results, and
    /// file paths: ranked hits with snippets (--help: the query syntax).
    Search(cmd::search::Opts),
    /// One request's whole path: hook, ingest, queue, worker, audit, domain rows.
    Trace(cmd::trace::Opts),
    /// The web dashboard (sessions, failures and DLQ replay, live health,
    /// logs) for any hookline database and queue, e.g. the AWS deployment's.
    Dashboard(cmd::dashboard::Opts),
    /// What sessions, models, users, hosts and projects spent: tokens and
    /// exact cost per day, week, month, session or 5-hour billing block.
    Usage(cmd::usage::Opts),
    /// The price table costs are computed at: list it, import a newer one.
    Prices(cmd::prices::Opts),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    hookline_core::telemetry::init("hookline", "warn");
    match Cli::parse().command {
        Command::Migrate(opts) => cmd::migrate::run(opts).await,
        Command::Dev(opts) => cmd::dev::run(opts).await,
        Command::Sessions(opts) => cmd::sessions::run(opts).await,
        Command::Serve(opts) => cmd::serve::main(opts).await,
        Command::Dlq(opts) => cmd::dlq::run(opts).await,
        Command::Events(opts) => cmd::events::run(opts).await,
        Command::Logs(opts) => cmd::logs::run(opts).await,
        Command::Search(opts) => cmd::search::run(opts).await,
        Command::Trace(opts) => cmd::trace::run(opts).await,
        Command::Dashboard(opts) => cmd::dashboard::run(opts).await,
        Command::Purge(opts) => cmd::purge::run(opts).await,
        Command::Usage(opts) => cmd::usage::run(opts).await,
        Command::Prices(opts) => cmd::prices::run(opts).await,
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
