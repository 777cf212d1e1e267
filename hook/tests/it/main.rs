//! Integration tests: the real `hookline-hook` binary, run as Claude Code
//! runs it, against a small in-process HTTP server.

mod delivery;
mod failures;
mod helpers;
mod identity;
mod install;
mod lines;
mod redaction;
mod robustness;
mod server;
#[cfg(unix)]
mod signals;
#[cfg(unix)]
mod tail;
mod transcript;
