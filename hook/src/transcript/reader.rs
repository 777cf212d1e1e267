//! Reading what a transcript (JSONL) gained since an offset. Only complete
//! lines are taken: a last line still being written is left for next time
//! (unless it already parses as a whole JSON object).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use serde_json::Value;

/// One transcript line: its byte range in the file and its JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub start: u64,
    pub end: u64,
    pub value: Value,
    /// Secrets masked in `value` (see [`crate::redact`]).
    pub redactions: crate::redact::Counts,
}

/// The new part of a file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Delta {
    /// Where reading started (the saved offset, or 0 if the file shrank).
    pub start: u64,
    /// Offset after the last line taken: the next read starts here.
    pub end: u64,
    pub lines: Vec<Line>,
    /// Complete lines that were not JSON objects (skipped).
    pub skipped: usize,
    /// The file was shorter than the saved offset (replaced): read from 0.
    pub reset: bool,
}

/// Reads complete lines from `from`, about `max_bytes` of them (a single
/// longer line is still read whole).
pub fn read_delta(path: &Path, from: u64, max_bytes: u64) -> io::Result<Delta> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let (from, reset) = if len < from { (0, true) } else { (from, false) };
    let mut delta = Delta {
        start: from,
        end: from,
        reset,
        ..Delta::default()
    };
    if len == from {
        return Ok(delta);
    }
    file.seek(SeekFrom::Start(from))?;
    let mut buf = Vec::new();
    (&mut file).take(max_bytes).read_to_end(&mut buf)?;
    let mut complete = buf.iter().rposition(|&b| b == b'\n').map(|i| i + 1);
    if complete.is_none() && (buf.len() as u64) == max_bytes {
        // One line longer than the window: read on to its end.
        let mut byte = [0u8; 8192];
        loop {
            let n = file.read(&mut byte)?;
            if n == 0 {
                break;
            }
            let nl = byte[..n].iter().position(|&b| b == b'\n');
            buf.extend_from_slice(&byte[..nl.map_or(n, |i| i + 1)]);
            if nl.is_some() {
                complete = Some(buf.len());
                break;
            }
        }
    }
    // A last line without its newline yet is taken only if it is already a
    // whole JSON object (a proper prefix of an object never parses).
    let mut taken = complete.unwrap_or(0);
    let tail = &buf[taken..];
    if !tail.trim_ascii().is_empty()
        && serde_json::from_slice::<Value>(tail).is_ok_and(|v| v.is_object())
    {
        taken = buf.len();
    }
    let mut offset = from;
    for raw in buf[..taken].split_inclusive(|&b| b == b'\n') {
        let start = offset;
        offset += raw.len() as u64;
        let text = raw.trim_ascii();
        if text.is_empty() {
            continue;
        }
        match serde_json::from_slice::<Value>(text) {
            Ok(value @ Value::Object(_)) => delta.lines.push(Line {
                start,
                end: offset,
                value,
                redactions: Default::default(),
            }),
            _ => delta.skipped += 1,
        }
    }
    delta.end = offset;
    Ok(delta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_half_written_last_line_is_read_next_time() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("t.jsonl");
        let mut f = File::create(&p)?;
        f.write_all(b"{\"uuid\":\"a\"}\nnot json\n{\"uuid\":\"b\",\"te")?;
        let d = read_delta(&p, 0, 1 << 20)?;
        assert_eq!(d.lines.len(), 1);
        assert_eq!(d.skipped, 1);
        assert_eq!(d.lines[0].value["uuid"], "a");
        assert_eq!(d.end, 22);
        f.write_all(b"xt\":1}\n{\"uuid\":\"c\"}")?;
        let d2 = read_delta(&p, d.end, 1 << 20)?;
        let uuids: Vec<&Value> = d2.lines.iter().map(|l| &l.value["uuid"]).collect();
        assert_eq!(uuids, ["b", "c"], "the complete tail object is taken too");
        assert_eq!(d2.end, std::fs::metadata(&p)?.len());
        assert!(read_delta(&p, d2.end, 1 << 20)?.lines.is_empty());
        Ok(())
    }

    #[test]
    fn the_window_bounds_a_read_but_never_splits_a_line() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("t.jsonl");
        let long = format!("{{\"uuid\":\"long\",\"x\":\"{}\"}}\n", "y".repeat(5000));
        std::fs::write(&p, format!("{long}{{\"uuid\":\"next\"}}\n"))?;
        let d = read_delta(&p, 0, 100)?;
        assert_eq!(d.lines.len(), 1);
        assert_eq!(d.end, long.len() as u64);
        let d = read_delta(&p, d.end, 100)?;
        assert_eq!(d.lines[0].value["uuid"], "next");
        assert!(
            read_delta(&p, 1 << 30, 100)?.reset,
            "a shorter file is read from 0"
        );
        Ok(())
    }
}
