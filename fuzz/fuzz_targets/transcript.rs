//! Transcripts, fed arbitrary bytes as the content of a transcript file:
//!
//! 1. the hook's reader (`read_delta`): whatever the bytes, the lines it
//!    takes are exactly the file's complete lines that are JSON objects, at
//!    their byte ranges; and reading the file while it grows (two reads,
//!    split anywhere) or through a small window gives the same lines as one
//!    read of the whole file, so no line is lost or sent twice;
//! 2. the server's typed view (`Entry::parse`) and the rows the worker plans
//!    from a transcript chunk: every entry is written or counted as skipped.
//!
//! The first two bytes choose the split point and the window; the rest is
//! the file.

#![no_main]

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use hookline_core::event::HookEvent;
use hookline_core::mapping;
use hookline_core::meta::{ClientInfo, HooklineMeta, TranscriptChunk, TranscriptSource};
use hookline_core::transcript::{Entry, text_of};
use hookline_hook::transcript::reader::{Delta, read_delta};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    let (params, file) = data.split_at(data.len().min(2));
    let split = params
        .first()
        .map_or(0, |b| usize::from(*b) * file.len() / 255);
    let window = params.get(1).map_or(64, |b| u64::from(*b) + 1);
    let whole = reader(file, split, window);
    entries(&whole);
});

fn scratch() -> PathBuf {
    std::env::temp_dir().join(format!(
        "hookline-fuzz-transcript-{}.jsonl",
        std::process::id()
    ))
}

fn read(path: &Path, from: u64, max: u64) -> Delta {
    match read_delta(path, from, max) {
        Ok(d) => d,
        Err(e) => panic!("read_delta failed on a readable file: {e}"),
    }
}

fn write(path: &Path, bytes: &[u8], append: bool) {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(path);
    if let Err(e) = f.and_then(|mut f| f.write_all(bytes)) {
        panic!("cannot write the scratch file {}: {e}", path.display());
    }
}

/// The objects a reader must take from a complete file: each complete line
/// that is a JSON object, with its range; plus the unterminated last line
/// if it is one.
fn expected(file: &[u8]) -> (Vec<(u64, u64, Value)>, usize) {
    let mut out = Vec::new();
    let mut skipped = 0;
    let mut offset = 0u64;
    for raw in file.split_inclusive(|&b| b == b'\n') {
        let start = offset;
        offset += raw.len() as u64;
        let text = raw.trim_ascii();
        if text.is_empty() {
            continue;
        }
        let complete = raw.last() == Some(&b'\n');
        match serde_json::from_slice::<Value>(text) {
            Ok(v @ Value::Object(_)) => out.push((start, offset, v)),
            _ if complete => skipped += 1,
            _ => {}
        }
    }
    (out, skipped)
}

fn values(d: &[Delta]) -> Vec<Value> {
    d.iter()
        .flat_map(|d| d.lines.iter().map(|l| l.value.clone()))
        .collect()
}

fn reader(file: &[u8], split: usize, window: u64) -> Vec<Value> {
    let path = scratch();
    let len = file.len() as u64;

    // One read of the whole file.
    write(&path, file, false);
    let whole = read(&path, 0, 1 << 30);
    let (want, want_skipped) = expected(file);
    let got: Vec<(u64, u64, Value)> = whole
        .lines
        .iter()
        .map(|l| (l.start, l.end, l.value.clone()))
        .collect();
    assert_eq!(
        got, want,
        "the lines taken are the file's JSON-object lines"
    );
    assert_eq!(
        whole.skipped, want_skipped,
        "complete non-object lines are counted"
    );
    assert!(whole.start == 0 && !whole.reset);
    // The next read starts after the last complete line, or at the end when
    // the unterminated last line was taken.
    let after_last_newline = file.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) as u64;
    let tail_taken = want
        .last()
        .is_some_and(|l| l.1 == len && file.last() != Some(&b'\n'));
    assert_eq!(whole.end, if tail_taken { len } else { after_last_newline });
    let mut prev = 0;
    for l in &whole.lines {
        assert!(l.start >= prev && l.end > l.start && l.end <= whole.end);
        prev = l.end;
    }
    assert_eq!(
        read(&path, whole.end, 1 << 30).lines.len(),
        0,
        "a second read takes nothing new"
    );

    // Lines never split, nothing lost or duplicated, when the file is read
    // while it grows or through a small window. (Not claimed for files with
    // non-object lines: a half-written line that parses as an object on its
    // own, then gains more text, is a writer bug the reader cannot see.)
    if whole.skipped == 0 && expected_is_prefix_stable(file) {
        write(&path, &file[..split], false);
        let first = read(&path, 0, 1 << 30);
        write(&path, &file[split..], true);
        let second = read(&path, first.end, 1 << 30);
        assert_eq!(
            values(&[first, second]),
            values(std::slice::from_ref(&whole)),
            "reading a growing file takes each line once"
        );

        let mut parts = Vec::new();
        let mut from = 0;
        loop {
            let d = read(&path, from, window);
            let end = d.end;
            parts.push(d);
            if end == from {
                break;
            }
            from = end;
        }
        assert_eq!(
            values(&parts),
            values(std::slice::from_ref(&whole)),
            "windowed reads take each line once"
        );
    }
    let _ = std::fs::remove_file(&path);
    values(std::slice::from_ref(&whole))
}

/// True when no line has a proper prefix (before its end, on a line
/// boundary of the read) that parses as a JSON object while the whole line
/// is something else; i.e. every line is an object followed only by white
/// space, or white space.
fn expected_is_prefix_stable(file: &[u8]) -> bool {
    file.split(|&b| b == b'\n').all(|line| {
        let t = line.trim_ascii();
        t.is_empty() || serde_json::from_slice::<Value>(t).is_ok_and(|v| v.is_object())
    })
}

fn at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default()
}

/// The server's view of the entries the hook read, and the rows planned
/// from them.
fn entries(lines: &[Value]) {
    for raw in lines {
        match Entry::parse(raw) {
            Ok(e) => {
                let uuid = raw.get("uuid").and_then(Value::as_str);
                assert_eq!(uuid, Some(e.uuid.as_str()));
                assert!(!e.uuid.is_empty() && e.uuid.len() <= 128);
                match raw.get("message").and_then(|m| m.get("content")) {
                    Some(Value::Array(blocks)) => assert_eq!(&e.content, blocks),
                    Some(Value::String(t)) => assert_eq!(text_of(&e.content), *t),
                    _ => assert!(e.content.is_empty()),
                }
                assert_eq!(e.message_key().is_some(), e.message_id.is_some());
                let _ = text_of(&e.content);
                assert!(e.blocks("tool_use").count() <= e.content.len());
            }
            Err(err) => {
                assert_eq!(err.field, "uuid");
                let uuid = raw.get("uuid").and_then(Value::as_str);
                assert!(uuid.is_none_or(|u| u.is_empty() || u.len() > 128));
            }
        }
    }
    for source in [TranscriptSource::Main, TranscriptSource::Agent] {
        let meta = HooklineMeta {
            v: 1,
            request_id: "01938f0e-8c6e-7d2a-9a51-0f4c2b1e7a10".into(),
            captured_at: at(),
            client: ClientInfo {
                name: "hookline-hook".into(),
                version: "fuzz".into(),
            },
            host: None,
            user: None,
            git_email: None,
            heartbeat: false,
            redactions: Default::default(),
            part: None,
            transcript: vec![TranscriptChunk {
                source,
                path: "/t.jsonl".into(),
                agent_id: Some("agent-1".into()),
                start_offset: 0,
                end_offset: 1,
                entries: lines.to_vec(),
            }],
        };
        let body = json!({
            "session_id": "00893aaf-19fa-41d2-8238-13269b9b3ca0",
            "hook_event_name": "Stop",
            "hookline": meta,
        });
        let ev = match HookEvent::parse(body) {
            Ok(ev) => ev,
            Err(e) => panic!("a Stop event carrying these entries was refused: {e}"),
        };
        let plan = mapping::plan(&ev, "01938f0e-8c6e-7d2a-9a51-0f4c2b1e7a10", at(), None);
        assert_eq!(plan.entries.len() + plan.skipped_entries, lines.len());
        let uuids: Vec<&str> = plan.entries.iter().map(|e| e.uuid.as_str()).collect();
        let parsed: Vec<String> = lines
            .iter()
            .filter_map(|l| Entry::parse(l).ok())
            .map(|e| e.uuid)
            .collect();
        assert_eq!(uuids, parsed, "entries are planned in order");
    }
}
