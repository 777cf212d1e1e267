//! The `hookline` CLI as a library: the subcommands (`cmd/`), how they open
//! stores and queues, and the web dashboard (`dashboard/`), so that the
//! integration tests can drive the dashboard's router directly.

pub mod backend;
pub mod cmd;
pub mod dashboard;
pub mod db;
pub mod text;
pub mod tokens;
