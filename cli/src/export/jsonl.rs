//! The transcript lines as captured: each stored entry's raw JSON, one a
//! line, session after session. What is not stored is not here: lines
//! without a `uuid` (file-history-snapshot, queue-operation, summary) and
//! the subagents' progress copies; the JSON is the same value, not the same
//! bytes (key order and spacing are the store's).

use super::Part;

/// The JSONL of `parts`.
pub fn render(parts: &[Part]) -> String {
    let mut out = String::new();
    for p in parts {
        for e in &p.entries {
            out.push_str(&e.to_string());
            out.push('\n');
        }
    }
    out
}
