//! hookline-hook: built in issue 4. Until then it honours the one rule that
//! matters to Claude Code: print nothing and exit 0.

use std::process::ExitCode;

fn main() -> ExitCode {
    let _ = hookline_core::VERSION;
    ExitCode::SUCCESS
}
