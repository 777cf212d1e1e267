//! Logging set-up shared by the server binaries: JSON lines in the shape of
//! Lambda's JSON log format (`timestamp`, `level`, `message`, `function` and
//! the event's fields at the top level; the current span's fields, such as
//! `request_id` or lambda_runtime's `requestId`, under `span`), level from
//! `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`, else the caller's default.
//! `hookline logs` reads both the top-level and the span fields.

use std::io::Write;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Writes each JSON line to stderr with `"function":"<name>"` as its first
/// field (the formatter has no static fields; one line is one write).
struct WithFunction {
    prefix: Vec<u8>,
}

struct LineWriter<'a> {
    prefix: &'a [u8],
}

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut err = std::io::stderr().lock();
        match buf.split_first() {
            Some((b'{', rest)) => {
                let mut line = Vec::with_capacity(self.prefix.len() + buf.len());
                line.extend_from_slice(self.prefix);
                line.extend_from_slice(rest);
                err.write_all(&line)?;
            }
            _ => err.write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for WithFunction {
    type Writer = LineWriter<'a>;
    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            prefix: &self.prefix,
        }
    }
}

/// Installs the global subscriber; `function` names the component (under
/// Lambda, `AWS_LAMBDA_FUNCTION_NAME` wins), `default_level` applies when
/// neither variable is set.
pub fn init(function: &str, default_level: &str) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| {
            std::env::var("AWS_LAMBDA_LOG_LEVEL")
                .ok()
                .map(|l| l.to_lowercase())
        })
        .unwrap_or_else(|| default_level.into());
    let name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| function.to_owned());
    let prefix = format!("{{\"function\":{},", serde_json::Value::String(name)).into_bytes();
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(EnvFilter::new(filter))
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_writer(WithFunction { prefix })
        .try_init();
}
