//! `hookline`: the operator CLI. Each subcommand is a module in `cmd/` with
//! its `Opts` and `run`.

use clap::{Parser, Subcommand};

mod backend;
mod cmd;
mod db;
mod tokens;

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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    hookline_core::telemetry::init("hookline", "warn");
    match Cli::parse().command {
        Command::Migrate(opts) => cmd::migrate::run(opts).await,
        Command::Dev(opts) => cmd::dev::run(opts).await,
        Command::Sessions(opts) => cmd::sessions::run(opts).await,
        Command::Serve(opts) => cmd::serve::run(opts).await,
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
