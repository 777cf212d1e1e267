//! The `hookline` CLI as a library: the subcommands (`cmd/`), how they open
//! stores and queues (`config.rs`), and the web dashboard (`dashboard/`), so that the
//! integration tests can drive the dashboard's router directly.

// The doc comments of the clap options are their `--help` text, printed as
// written: a URL there stays bare rather than `<...>`.
#![allow(rustdoc::bare_urls)]

pub mod cmd;
pub mod config;
pub mod dashboard;
pub mod export;
pub mod history;
pub mod read_api;
pub mod text;
pub mod tokens;
