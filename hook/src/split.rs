//! From one event and its transcript deltas to request bodies no larger than
//! the body limit. Usually one body; when the delta is too large, part 0
//! carries the event and what fits, and continuation parts (with
//! `part.parent_request_id`) carry the rest, each part's chunks covering
//! contiguous byte ranges of their file.

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
    let entries: usize = files.iter().map(|f| f.delta.lines.len()).sum();
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
    // Upper bounds of what each part costs besides its entries.
    let worst_part = |parent: Option<String>| Part {
        index: u32::MAX,
        count: u32::MAX,
        parent_request_id: parent,
    };
    meta.transcript.clear();
    meta.redactions.clear();
    meta.part = Some(worst_part(None));
    let base0 = input.with_meta(&meta)?.len();
    meta.part = Some(worst_part(Some(meta.request_id.clone())));
    let base_n = input.continuation_with_meta(&meta)?.len();
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
                parts.push(Vec::new());
                used = base_n;
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
    let count = u32::try_from(parts.len()).unwrap_or(u32::MAX);
    let parent = meta.request_id.clone();
    let mut out = Vec::with_capacity(parts.len());
    for (pi, slices) in parts.into_iter().enumerate() {
        let mut m = meta.clone();
        m.request_id = if pi == 0 { parent.clone() } else { mint() };
        m.part = Some(Part {
            index: u32::try_from(pi).unwrap_or(u32::MAX),
            count,
            parent_request_id: (pi > 0).then(|| parent.clone()),
        });
        let entries = slices.iter().map(|s| s.values.len()).sum();
        m.redactions = if pi == 0 {
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
        let body = if pi == 0 {
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

/// A continuation part of an event already spooled (`parent`, which had
/// `index` parts): the transcript lines read after it was spooled (the
/// tail Claude Code wrote while the hook ran). `None` when it would not fit
/// the body limit (the lines are then read on a later event).
pub fn late_part(
    input: &Input,
    mut meta: HooklineMeta,
    files: &[FileDelta],
    limit: usize,
    parent: &str,
    index: u32,
) -> Result<Option<Planned>, serde_json::Error> {
    let entries: usize = files.iter().map(|f| f.delta.lines.len()).sum();
    meta.redactions = Counts::new();
    for l in files.iter().flat_map(|f| &f.delta.lines) {
        redact::add(&mut meta.redactions, &l.redactions);
    }
    meta.part = Some(Part {
        index,
        count: index.saturating_add(1),
        parent_request_id: Some(parent.to_owned()),
    });
    meta.transcript = chunks(
        files,
        files
            .iter()
            .enumerate()
            .map(|(i, f)| one_slice(i, f))
            .collect(),
    );
    let body = input.continuation_with_meta(&meta)?;
    if body.len() > limit {
        return Ok(None);
    }
    Ok(Some(Planned {
        request_id: meta.request_id,
        body,
        entries,
        redactions: meta.redactions,
    }))
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
