//! `TEST_LOG`: unset, tests are quiet; set to a filter (`debug`,
//! `hookline_core=trace,info`), the code under test logs to the test's
//! output (captured by the test harness, shown for failing tests or with
//! `--nocapture`).
//!
//! [`init`] is called by the helpers that start code under test (the
//! databases, in-process serve); a test that uses none of them calls it
//! itself. A `hookline serve` process gets the same filter as `RUST_LOG`
//! (see [`crate::cli::Hookline::serve`]).

use std::sync::Once;

/// The filter of `TEST_LOG`, when set and not empty.
pub fn filter() -> Option<String> {
    std::env::var("TEST_LOG")
        .ok()
        .filter(|f| !f.trim().is_empty())
}

/// Installs the global tracing subscriber once per test binary when
/// `TEST_LOG` is set; does nothing otherwise.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if let Some(f) = filter() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(f))
                .with_test_writer()
                .try_init();
        }
    });
}
