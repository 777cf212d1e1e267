//! # hookline test support
//!
//! What the test binaries of hookline repeated, once. A dev-dependency
//! only; nothing here is shipped.
//!
//! - [`process`]: free ports, child processes killed on drop, waiting for a
//!   line in a log file, the `hookline-hook` binary of this build.
//! - [`cli`]: the `hookline` binary: [`cli::Hookline::run`] runs a command
//!   with none of the environment's hookline settings;
//!   [`cli::Hookline::serve`] starts `hookline serve` as a process (for
//!   what needs one: kill -9, signals, its first-start output, its log).
//! - [`serve`]: a server future (`hookline_cli::cmd::serve::run`) in this
//!   process on a loopback port, stopped through its shutdown future.
//! - [`stores`]: a real store with a fault for chosen request ids.
//! - [`events`]: hand-built hook events and queue messages.
//! - [`db`]: a fresh Postgres database (from `DATABASE_URL`) or SQLite file
//!   per test.
//! - [`oidc`]: a real OpenID Connect provider (npm `oidc-provider`) on a
//!   free port, and a cookie-keeping client to walk its sign-in.
//! - [`log`]: the `TEST_LOG` switch: `TEST_LOG=debug cargo test ...` shows
//!   the tracing output of the code under test; quiet by default.

pub mod cli;
pub mod db;
pub mod events;
pub mod log;
pub mod oidc;
pub mod process;
pub mod serve;
pub mod stores;
