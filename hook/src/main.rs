//! `hookline-hook`: see the crate documentation (`lib.rs`) for the layout.
//!
//! Claude Code runs this binary on every hook event. Whatever happens it
//! must not get in Claude Code's way: exit 0 (exit 2 would block Claude,
//! any other code shows an error), nothing on stdout (Claude Code reads it),
//! and return within the deadline. Errors go to the log file. Nor may a
//! signal lose its event: SIGTERM, SIGHUP and SIGINT are caught first of
//! all (`signals.rs`).

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use hookline_hook::cli::Cli;
use hookline_hook::signals::Signals;

fn main() -> ExitCode {
    let started = Instant::now();
    // Before anything else: from here on, Claude Code's SIGTERM cannot
    // kill the hook before its event is in the spool.
    let signals = Signals::catch();
    match Cli::try_parse() {
        Ok(cli) => hookline_hook::run(cli, started, &signals),
        Err(e) => {
            signals.release();
            // --help and --version print to stdout, as a person expects.
            // A bad command line goes to stderr, and exits 0: Claude Code
            // may be the caller, and must not be blocked by a typo.
            let _ = e.print();
            ExitCode::SUCCESS
        }
    }
}
