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
    /// An MCP server over stdio: the captured history as read-only tools
    /// for Claude Code (search_history, get_session, recent_sessions,
    /// usage), from the local store or a hookline server (--remote).
    Mcp(cmd::mcp::Opts),
    /// Per-person tokens in the database: create (printed once), list,
    /// revoke, change a role; refused everywhere within 30 s of a revoke.
    Tokens(cmd::tokens::Opts),
    /// What operators did (replays, purges, token and role changes): who,
    /// when, on what, how many; newest first.
    Audit(cmd::audit::Opts),
}

/// The status of a command whose reader went away (`hookline … | head`):
/// 128 + SIGPIPE, what a shell reports for a process SIGPIPE ended.
const BROKEN_PIPE: u8 = 128 + 13;

/// Whether `e` is a write to a closed pipe.
fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Rust ignores SIGPIPE, so `println!` to a closed pipe panics ("failed
/// printing to stdout: Broken pipe"): end the command quietly instead,
/// with [`BROKEN_PIPE`], whichever command printed.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(i32::from(BROKEN_PIPE));
        }
        default(info);
    }));
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    quiet_on_broken_pipe();
    hookline_core::telemetry::init("hookline", "warn");
    match run(Cli::parse().command).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if broken_pipe(&e) => std::process::ExitCode::from(BROKEN_PIPE),
        Err(e) => {
            eprintln!("Error: {e:?}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
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
        Command::Mcp(opts) => cmd::mcp::run(opts).await,
        Command::Tokens(opts) => cmd::tokens::run(opts).await,
        Command::Audit(opts) => cmd::audit::run(opts).await,
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
