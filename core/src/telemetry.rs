//! Logging set-up shared by the server binaries: JSON lines in the shape of
//! Lambda's JSON log format (`timestamp`, `level`, `message`, fields), level
//! from `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`, else the caller's default.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; `function` names the component,
/// `default_level` applies when neither variable is set.
pub fn init(function: &str, default_level: &str) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| {
            std::env::var("AWS_LAMBDA_LOG_LEVEL")
                .ok()
                .map(|l| l.to_lowercase())
        })
        .unwrap_or_else(|| default_level.into());
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(EnvFilter::new(filter))
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_writer(std::io::stderr)
        .try_init();
    tracing::debug!(function, "telemetry ready");
}
