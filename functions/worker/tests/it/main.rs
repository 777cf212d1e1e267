//! The integration tests of `hookline-worker`, as one test binary: one
//! module per area. To add tests: put `NAME.rs` here and add `mod NAME;`
//! below (alphabetical order).

mod dlq;
mod lambda_event;
mod silent_hosts;
