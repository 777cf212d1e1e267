//! Bodies for the volume stage (issue 22 item 4, `bench/volume.py`):
//! spotter-shaped hook events from `hookline_conformance::generate`
//! (seeded, the history `bench/scale.rs` writes), one JSON body per line as
//! the hook POSTs it, with `hookline.request_id` and `hookline.captured_at`
//! replaced by the placeholders `@@RID@@` and `@@CAT@@` that the driver
//! fills in per POST (a new id and the time of sending).
//!
//!   HOOKLINE_VOLUME_BODIES=N HOOKLINE_VOLUME_OUT=FILE \
//!     cargo bench -p hookline-conformance --bench volume_bodies
//!
//! `HOOKLINE_VOLUME_SEED` (default 1). Prints `bodies=… bytes=…` on stdout.

use std::io::Write;

use anyhow::Context;
use chrono::Utc;
use hookline_conformance::generate;
use serde_json::{Value, json};

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::var("HOOKLINE_VOLUME_BODIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let seed: u64 = std::env::var("HOOKLINE_VOLUME_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let out = std::env::var("HOOKLINE_VOLUME_OUT").context("HOOKLINE_VOLUME_OUT=FILE")?;
    let mut w = std::io::BufWriter::new(
        std::fs::File::create(&out).with_context(|| format!("cannot create {out}"))?,
    );
    let (mut bodies, mut bytes) = (0usize, 0usize);
    'all: for session in generate::sessions(seed, n, Utc::now()) {
        for record in session?.records {
            let envelope: Value = serde_json::from_str(&record.body)?;
            let mut body = envelope
                .pointer("/payload/data")
                .cloned()
                .context("a generated envelope without payload.data")?;
            body["hookline"]["request_id"] = json!("@@RID@@");
            body["hookline"]["captured_at"] = json!("@@CAT@@");
            let line = body.to_string();
            bytes += line.len();
            writeln!(w, "{line}")?;
            bodies += 1;
            if bodies >= n {
                break 'all;
            }
        }
    }
    w.flush()?;
    println!("bodies={bodies} bytes={bytes}");
    Ok(())
}
