//! The integration tests of `hookline`, as one test binary (one link step
//! instead of one per file): one module per area, helpers from
//! `hookline-test-support`.
//!
//! To add tests: put `NAME.rs` in this directory and add `mod NAME;` below
//! (alphabetical order); run one module with
//! `cargo test -p hookline --test it -- NAME::`.
//!
//! Two suites keep binaries of their own: `cli/tests/real_client/` (runs
//! Claude Code from npm, its own harness and reporting) and
//! `cli/tests/e2e_local_aws.rs` (`#[ignore]`d, run by scripts/test against
//! `cargo lambda watch` as `--test e2e_local_aws -- --ignored`).

use hookline_test_support::cli::Hookline;

/// The `hookline` binary of this build.
fn hookline() -> Hookline {
    Hookline::new(env!("CARGO_BIN_EXE_hookline"))
}

mod backfill;
mod dashboard;
mod export;
mod hostile;
mod identity;
mod mcp;
mod oidc;
mod ops_dlq;
mod ops_trace;
mod search;
mod security;
mod serve;
mod sign_in;
mod teams;
mod tokens;
mod usage;
