//! The integration tests of `hookline-ingest`, as one test binary: one
//! module per area. To add tests: put `NAME.rs` here and add `mod NAME;`
//! below (alphabetical order).

mod http;
mod identity;
