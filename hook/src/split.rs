//! From one event and its transcript deltas to request bodies no larger than
//! the body limit. Usually one body; when the delta is too large, part 0
//! carries the event and what fits, and continuation parts (with
//! `part.parent_request_id`) carry the rest, each part's chunks covering
//! contiguous byte ranges of their file. The transcript read after an event
//! was spooled (Stop and SessionEnd, [`crate::tail`]) becomes continuation
//! parts of it the same way ([`continuations`]).

use hookline_core::meta::{HooklineMeta, Part, TranscriptChunk};
use serde_json::Value;

use crate::body::Input;
use crate::redact::{self, Counts};
use crate::transcript::FileDelta;

/// One request to spool.
#[derive(Debug)]
pub struct Planned {
    pub request_id: String,
    pub body: Vec<u8>,
    pub entries: usize,
    /// Secrets masked in this body, per rule (also in its `hookline` object).
    pub redactions: Counts,
}

/// A run of lines of one file inside one part.
struct Slice {
    file: usize,
    values: Vec<Value>,
    last_end: u64,
    redactions: Counts,
}

/// Builds the bodies. `meta` is part 0's (its request id is the event's);
/// `mint` gives request ids for continuation parts.
pub fn bodies(
    input: &Input,
    mut meta: HooklineMeta,
    files: &[FileDelta],
    limit: usize,
    mint: &mut dyn FnMut() -> String,
) -> Result<Vec<Planned>, serde_json::Error> {
    let entries = entry_count(files);
    meta.redactions = input.redactions.clone();
    for l in files.iter().flat_map(|f| &f.delta.lines) {
        redact::add(&mut meta.redactions, &l.redactions);
    }
    meta.transcript = chunks(
        files,
        files
            .iter()
            .enumerate()
            .map(|(i, f)| one_slice(i, f))
            .collect(),
    );
    let body = input.with_meta(&meta)?;
    if body.len() <= limit || entries == 0 {
        return Ok(vec![Planned {
            request_id: meta.request_id,
            body,
            entries,
            redactions: meta.redactions,
        }]);
    }
    split(input, meta, files, limit, None, mint)
}

/// Continuation parts of an event already spooled (`parent`, whose parts
/// so far are `0..index`): the transcript lines read after it was spooled,
/// in as many parts as the body limit needs, numbered from `index`. `meta`
/// is the first one's (its request id); `mint` gives the others'. Empty
/// when there is no entry to send.
pub fn continuations(
    input: &Input,
    meta: HooklineMeta,
    files: &[FileDelta],
    limit: usize,
    parent: &str,
    index: u32,
    mint: &mut dyn FnMut() -> String,
) -> Result<Vec<Planned>, serde_json::Error> {
    if entry_count(files) == 0 {
        return Ok(Vec::new());
    }
    split(input, meta, files, limit, Some((parent, index)), mint)
}

fn entry_count(files: &[FileDelta]) -> usize {
    files.iter().map(|f| f.delta.lines.len()).sum()
}

/// Packs the lines into parts under `limit`. `after`: `None` when the first
/// part is the event itself (part 0); `Some((parent, index))` when every
/// part is a continuation of `parent`, the first numbered `index`.
fn split(
    input: &Input,
    mut meta: HooklineMeta,
    files: &[FileDelta],
    limit: usize,
    after: Option<(&str, u32)>,
    mint: &mut dyn FnMut() -> String,
) -> Result<Vec<Planned>, serde_json::Error> {
    let first_index = after.map_or(0, |(_, i)| i);
    let parent = after.map_or_else(|| meta.request_id.clone(), |(p, _)| p.to_owned());
    // Upper bounds of what each part costs besides its entries.
    let worst_part = |parent: Option<String>| Part {
        index: u32::MAX,
        count: u32::MAX,
        parent_request_id: parent,
    };
    meta.transcript.clear();
    meta.redactions.clear();
    meta.part = Some(worst_part(Some(parent.clone())));
    let base_n = input.continuation_with_meta(&meta)?.len();
    let base0 = if after.is_none() {
        meta.part = Some(worst_part(None));
        input.with_meta(&meta)?.len()
    } else {
        base_n
    };
    let overhead: Vec<usize> = files
        .iter()
        .map(|f| {
            let c = chunk(f, Vec::new(), u64::MAX, u64::MAX);
            serde_json::to_vec(&c).map_or(0, |b| b.len() + 1)
        })
        .collect();

    let mut parts: Vec<Vec<Slice>> = vec![Vec::new()];
    let mut used = base0;
    for (fi, f) in files.iter().enumerate() {
        for line in &f.delta.lines {
            let mut value = line.value.clone();
            let size = serde_json::to_vec(&value)?.len() + 1;
            let cur = parts.len() - 1;
            let new_slice = parts[cur].last().is_none_or(|s| s.file != fi);
            let extra = if new_slice { overhead[fi] } else { 0 };
            if used + extra + size > limit {
                // Part 0 may carry the event alone; a continuation part
                // always carries an entry.
                if !parts[cur].is_empty() || (cur == 0 && after.is_none()) {
                    parts.push(Vec::new());
                    used = base_n;
                }
                let room = limit.saturating_sub(used + overhead[fi] + 1);
                crate::truncate::fit(&mut value, room);
            }
            let cur = parts.len() - 1;
            let slices = &mut parts[cur];
            if slices.last().is_none_or(|s| s.file != fi) {
                slices.push(Slice {
                    file: fi,
                    values: Vec::new(),
                    last_end: 0,
                    redactions: Counts::new(),
                });
                used += overhead[fi];
            }
            used += serde_json::to_vec(&value)?.len() + 1;
            if let Some(s) = slices.last_mut() {
                s.values.push(value);
                s.last_end = line.end;
                redact::add(&mut s.redactions, &line.redactions);
            }
        }
    }

    // Contiguous byte ranges: a slice starts where the file's previous one
    // ended; the file's last slice ends at the delta's end.
    let mut next_start: Vec<u64> = files.iter().map(|f| f.delta.start).collect();
    let last_part_of: Vec<Option<usize>> = (0..files.len())
        .map(|fi| parts.iter().rposition(|p| p.iter().any(|s| s.file == fi)))
        .collect();
    let count = u32::try_from(parts.len())
        .unwrap_or(u32::MAX)
        .saturating_add(first_index);
    let mut out = Vec::with_capacity(parts.len());
    for (pi, slices) in parts.into_iter().enumerate() {
        let index = u32::try_from(pi)
            .unwrap_or(u32::MAX)
            .saturating_add(first_index);
        let mut m = meta.clone();
        if pi > 0 {
            m.request_id = mint();
        }
        m.part = Some(Part {
            index,
            count,
            parent_request_id: (index > 0).then(|| parent.clone()),
        });
        let entries = slices.iter().map(|s| s.values.len()).sum();
        m.redactions = if index == 0 {
            input.redactions.clone()
        } else {
            Counts::new()
        };
        for s in &slices {
            redact::add(&mut m.redactions, &s.redactions);
        }
        m.transcript = slices
            .into_iter()
            .map(|s| {
                let f = &files[s.file];
                let start = next_start[s.file];
                let end = if last_part_of[s.file] == Some(pi) {
                    f.delta.end
                } else {
                    s.last_end
                };
                next_start[s.file] = end;
                chunk(f, s.values, start, end)
            })
            .collect();
        let body = if index == 0 {
            input.with_meta(&m)?
        } else {
            input.continuation_with_meta(&m)?
        };
        out.push(Planned {
            request_id: m.request_id,
            body,
            entries,
            redactions: m.redactions,
        });
    }
    Ok(out)
}

fn one_slice(file: usize, f: &FileDelta) -> Slice {
    Slice {
        file,
        values: f.delta.lines.iter().map(|l| l.value.clone()).collect(),
        last_end: f.delta.end,
        redactions: Counts::new(),
    }
}

fn chunks(files: &[FileDelta], slices: Vec<Slice>) -> Vec<TranscriptChunk> {
    slices
        .into_iter()
        .filter(|s| !s.values.is_empty())
        .map(|s| {
            let f = &files[s.file];
            chunk(f, s.values, f.delta.start, f.delta.end)
        })
        .collect()
}

fn chunk(f: &FileDelta, entries: Vec<Value>, start: u64, end: u64) -> TranscriptChunk {
    TranscriptChunk {
        source: f.source,
        path: f.path.clone(),
        agent_id: f.agent_id.clone(),
        start_offset: start,
        end_offset: end,
        entries,
    }
}
