//! `hookline-hook`: see the crate documentation (`lib.rs`) for the layout.
//!
//! Claude Code runs this binary on every hook event. Whatever happens it
//! must not get in Claude Code's way: exit 0 (exit 2 would block Claude,
//! any other code shows an error), nothing on stdout (Claude Code reads it),
//! and return within the deadline. Errors go to the log file.

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use hookline_hook::cli::Cli;

fn main() -> ExitCode {
    let started = Instant::now();
    match Cli::try_parse() {
        Ok(cli) => hookline_hook::run(cli, started),
        Err(e) => {
            // --help and --version print to stdout, as a person expects.
            // A bad command line goes to stderr, and exits 0: Claude Code
            // may be the caller, and must not be blocked by a typo.
            let _ = e.print();
            ExitCode::SUCCESS
        }
    }
}
