//! The command line. With no subcommand the binary is the hook itself
//! (what Claude Code runs); the subcommands are for people.

use clap::{Parser, Subcommand};

use crate::cmd;

/// hookline-hook: captures Claude Code hook events (spool first, then send).
///
/// Without a subcommand it reads one hook event on stdin, as Claude Code
/// runs it; it never prints anything and always exits 0 then.
#[derive(Debug, Parser)]
#[command(name = "hookline-hook", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read one hook event on stdin, spool it and send it (the default).
    Capture,
    /// Send spooled events now.
    Flush(cmd::flush::Opts),
    /// Show the spool: pending and failed entries, circuit breaker, last error.
    Status(cmd::status::Opts),
    /// Register the hook in Claude Code's settings.json and write the config file.
    Install(cmd::install::Opts),
    /// Remove hookline's hooks from Claude Code's settings.json (nothing else).
    Uninstall(cmd::uninstall::Opts),
    /// Check config, spool, log, settings.json, server and token.
    Doctor(cmd::doctor::Opts),
    /// Send Claude Code's transcripts on disk (what the hooks missed); reruns add nothing.
    Backfill(cmd::backfill::Opts),
    /// The tail sender the hook starts on Stop and SessionEnd (`flush` does its work for a person).
    #[command(name = "send-tails", hide = true)]
    SendTails(crate::tail::sender::Opts),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_arguments_is_the_hook() -> Result<(), clap::Error> {
        assert!(Cli::try_parse_from(["hookline-hook"])?.command.is_none());
        Ok(())
    }

    #[test]
    fn the_hook_starts_the_sender_by_a_name_it_parses() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_from(["hookline-hook", crate::tail::sender::SUBCOMMAND])?;
        assert!(matches!(cli.command, Some(Command::SendTails(_))));
        let help = Cli::command().render_help().to_string();
        assert!(!help.contains("send-tails"), "hidden: {help}");
        Ok(())
    }
}
