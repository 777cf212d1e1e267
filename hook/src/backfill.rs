//! Backfill: finding Claude Code's transcripts on disk and turning them into
//! request bodies whose request ids depend only on their content, so the
//! same transcript lines always make the same requests and a rerun is a
//! no-op on the server (ingest and the worker deduplicate by request id,
//! transcript rows by (session, uuid)).
//!
//! Claude Code keeps `<config>/projects/<encoded cwd>/<session>.jsonl` and
//! the session's subagents in `<session>/subagents/agent-<id>.jsonl`.

use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use hookline_core::meta::{
    ClientInfo, HooklineMeta, META_VERSION, TranscriptChunk, TranscriptSource,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::body::Input;
use crate::identity::Identity;
use crate::net::CLIENT_NAME;
use crate::transcript::reader;

/// `hook_event_name` of a backfilled batch: an audit row and its
/// transcript entries, no other domain rows.
pub const EVENT_NAME: &str = "HooklineBackfill";
/// Most entries in one batch (batches stay stable when a file grows: only
/// the last one changes).
pub const MAX_ENTRIES: usize = 500;
/// Room kept in a body for the event fields and the `hookline` object.
const OVERHEAD: usize = 4096;

/// Claude Code's configuration folder: `CLAUDE_CONFIG_DIR`, else `~/.claude`.
pub fn claude_dir() -> PathBuf {
    crate::paths::env("CLAUDE_CONFIG_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::paths::home().join(".claude"))
}

/// The folder name Claude Code gives a project: every character that is not
/// an ASCII letter or digit becomes `-`.
pub fn encode_project(dir: &Path) -> String {
    dir.to_string_lossy()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// One transcript file of a session.
#[derive(Clone, Debug, PartialEq)]
pub struct TranscriptFile {
    pub path: PathBuf,
    pub source: TranscriptSource,
    pub agent_id: Option<String>,
}

/// A session found on disk: its main transcript (if present) and subagents.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionFiles {
    pub session_id: String,
    /// The project folder (under `projects/`).
    pub project: PathBuf,
    pub files: Vec<TranscriptFile>,
}

/// What to scan.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only sessions with a file modified at or after this time.
    pub since: Option<SystemTime>,
    /// Only this project (the cwd Claude Code ran in).
    pub project: Option<PathBuf>,
}

fn sorted_dir(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    v.sort();
    Ok(v)
}

fn modified_since(path: &Path, since: Option<SystemTime>) -> bool {
    since.is_none_or(|s| {
        std::fs::metadata(path)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t >= s)
    })
}

fn project_matches(folder: &Path, wanted: &Path) -> bool {
    let name = folder.file_name().map(|n| n.to_string_lossy().into_owned());
    let wanted = std::fs::canonicalize(wanted).unwrap_or_else(|_| wanted.to_path_buf());
    let enc = encode_project(&wanted);
    // Claude Code cuts names over 200 characters and appends a hash.
    name.is_some_and(|n| n == enc || (enc.len() > 200 && n.starts_with(&enc[..200])))
}

/// Sessions under `<claude_dir>/projects`, in path order.
pub fn scan(claude_dir: &Path, filter: &Filter) -> io::Result<Vec<SessionFiles>> {
    let projects = claude_dir.join("projects");
    let mut out = Vec::new();
    for folder in sorted_dir(&projects)? {
        if !folder.is_dir()
            || filter
                .project
                .as_deref()
                .is_some_and(|p| !project_matches(&folder, p))
        {
            continue;
        }
        let mut sessions: Vec<String> = Vec::new();
        for p in sorted_dir(&folder)? {
            let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned());
            let Some(stem) = stem else { continue };
            let is_jsonl = p.extension().is_some_and(|e| e == "jsonl") && p.is_file();
            let has_subagents = p.join("subagents").is_dir();
            if (is_jsonl || has_subagents) && !sessions.contains(&stem) {
                sessions.push(stem);
            }
        }
        sessions.sort();
        for session_id in sessions {
            let mut files = Vec::new();
            let main = folder.join(format!("{session_id}.jsonl"));
            if main.is_file() {
                files.push(TranscriptFile {
                    path: main,
                    source: TranscriptSource::Main,
                    agent_id: None,
                });
            }
            let sub = folder.join(&session_id).join("subagents");
            if let Ok(entries) = sorted_dir(&sub) {
                for p in entries {
                    let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
                    let agent = name.as_deref().and_then(|n| {
                        n.strip_prefix("agent-")
                            .and_then(|n| n.strip_suffix(".jsonl"))
                            .map(str::to_owned)
                    });
                    if let Some(agent) = agent.filter(|_| p.is_file()) {
                        files.push(TranscriptFile {
                            path: p,
                            source: TranscriptSource::Agent,
                            agent_id: Some(agent),
                        });
                    }
                }
            }
            if !files.is_empty() && files.iter().any(|f| modified_since(&f.path, filter.since)) {
                out.push(SessionFiles {
                    session_id,
                    project: folder.clone(),
                    files,
                });
            }
        }
    }
    Ok(out)
}

/// One request to spool.
#[derive(Debug)]
pub struct Batch {
    pub request_id: String,
    pub body: Vec<u8>,
    pub entries: usize,
}

/// What reading one file gave.
#[derive(Debug, Default)]
pub struct FileBatches {
    pub batches: Vec<Batch>,
    /// Lines that were not JSON objects.
    pub skipped: usize,
}

/// The request id of a batch: a UUID v7 whose time is the batch's first
/// entry's and whose other bits are a SHA-256 of the session, the file's
/// agent id and every entry, so the same lines always give the same id.
pub fn request_id(
    session_id: &str,
    agent_id: Option<&str>,
    entries: &[Value],
    at: DateTime<Utc>,
) -> String {
    let mut h = Sha256::new();
    h.update(b"hookline-backfill\0");
    h.update(session_id.as_bytes());
    h.update(b"\0");
    h.update(agent_id.unwrap_or("").as_bytes());
    for e in entries {
        h.update(b"\0");
        h.update(serde_json::to_vec(e).unwrap_or_default());
    }
    let digest = h.finalize();
    let mut rand = [0u8; 10];
    rand.copy_from_slice(&digest[..10]);
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &rand)
        .into_uuid()
        .to_string()
}

fn entry_time(v: &Value) -> Option<DateTime<Utc>> {
    v.get("timestamp")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Reads `file` whole and cuts it into batches that fit `body_limit`.
pub fn batches(
    session: &SessionFiles,
    file: &TranscriptFile,
    who: &Identity,
    body_limit: usize,
    redactor: Option<&crate::redact::Redactor>,
) -> io::Result<FileBatches> {
    let len = std::fs::metadata(&file.path)?.len();
    let delta = reader::read_delta(&file.path, 0, len.max(1))?;
    let mtime = std::fs::metadata(&file.path)
        .and_then(|m| m.modified())
        .map(DateTime::<Utc>::from)
        .unwrap_or_else(|_| Utc::now());
    let room = body_limit.saturating_sub(OVERHEAD).max(1024);
    // Runs of (values, start offset, end offset, secrets masked).
    let mut runs: Vec<(Vec<Value>, u64, u64, crate::redact::Counts)> = Vec::new();
    let mut size = 0usize;
    let mut start = delta.start;
    for line in &delta.lines {
        let mut value = line.value.clone();
        let mut masked = crate::redact::Counts::new();
        if let Some(r) = redactor {
            r.redact_value(&mut value, &mut masked);
        }
        let mut n = serde_json::to_vec(&value).map_or(0, |b| b.len()) + 1;
        if n > room {
            crate::truncate::fit(&mut value, room);
            n = serde_json::to_vec(&value).map_or(0, |b| b.len()) + 1;
        }
        let full = runs
            .last()
            .is_none_or(|r| r.0.len() >= MAX_ENTRIES || size + n > room);
        if full {
            if let Some(r) = runs.last() {
                start = r.2;
            }
            runs.push((Vec::new(), start, start, Default::default()));
            size = 0;
        }
        size += n;
        if let Some(r) = runs.last_mut() {
            r.0.push(value);
            r.2 = line.end;
            crate::redact::add(&mut r.3, &masked);
        }
    }
    if let Some(r) = runs.last_mut() {
        r.2 = delta.end;
    }
    let path = file.path.to_string_lossy().into_owned();
    let main_path = session
        .project
        .join(format!("{}.jsonl", session.session_id))
        .to_string_lossy()
        .into_owned();
    let mut out = FileBatches {
        batches: Vec::new(),
        skipped: delta.skipped,
    };
    for (entries, start, end, redactions) in runs {
        let at = entries.iter().find_map(entry_time).unwrap_or(mtime);
        let cwd = entries
            .iter()
            .find_map(|e| e.get("cwd").and_then(Value::as_str))
            .map(str::to_owned);
        let request_id = request_id(&session.session_id, file.agent_id.as_deref(), &entries, at);
        let mut event = json!({
            "session_id": session.session_id,
            "transcript_path": main_path,
            "hook_event_name": EVENT_NAME,
        });
        if let Some(cwd) = cwd {
            event["cwd"] = Value::String(cwd);
        }
        let input = Input::parse(serde_json::to_vec(&event).map_err(io::Error::other)?)
            .map_err(|e| io::Error::other(e.to_string()))?;
        let count = entries.len();
        let meta = HooklineMeta {
            v: META_VERSION,
            request_id: request_id.clone(),
            captured_at: at,
            client: ClientInfo {
                name: CLIENT_NAME.into(),
                version: hookline_core::VERSION.into(),
            },
            host: who.host.clone(),
            user: who.user.clone(),
            git_email: who.git_email.clone(),
            part: None,
            heartbeat: false,
            redactions,
            transcript: vec![TranscriptChunk {
                source: file.source,
                path: path.clone(),
                agent_id: file.agent_id.clone(),
                start_offset: start,
                end_offset: end,
                entries,
            }],
        };
        out.batches.push(Batch {
            request_id,
            body: input.with_meta(&meta).map_err(io::Error::other)?,
            entries: count,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(p: &Path, s: &str) -> io::Result<()> {
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d)?;
        }
        std::fs::write(p, s)
    }

    #[test]
    fn scan_finds_sessions_and_subagents_and_filters_by_project() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let a = dir.path().join("projects/-home-me-app");
        let b = dir.path().join("projects/-home-me-other");
        write(&a.join("s1.jsonl"), "{\"uuid\":\"u1\"}\n")?;
        write(&a.join("s1/subagents/agent-x9.jsonl"), "{\"uuid\":\"x\"}\n")?;
        write(&a.join("s1/tool-results/t.txt"), "big")?;
        write(&b.join("s2.jsonl"), "{\"uuid\":\"u2\"}\n")?;
        let all = scan(dir.path(), &Filter::default())?;
        let ids: Vec<&str> = all.iter().map(|s| s.session_id.as_str()).collect();
        assert_eq!(ids, ["s1", "s2"]);
        assert_eq!(all[0].files.len(), 2);
        assert_eq!(all[0].files[1].agent_id.as_deref(), Some("x9"));
        let only = scan(
            dir.path(),
            &Filter {
                project: Some(PathBuf::from("/home/me/other")),
                ..Filter::default()
            },
        )?;
        assert_eq!(only.len(), 1);
        assert_eq!(only[0].session_id, "s2");
        Ok(())
    }

    #[test]
    fn the_same_lines_give_the_same_request_ids() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("projects/-p/s1.jsonl");
        let mut text = String::new();
        for i in 0..(MAX_ENTRIES + 10) {
            text.push_str(&format!(
                "{{\"uuid\":\"u{i}\",\"timestamp\":\"2026-11-01T10:00:00.000Z\",\"type\":\"user\"}}\n"
            ));
        }
        write(&p, &text)?;
        let sessions = scan(dir.path(), &Filter::default())?;
        let s = &sessions[0];
        let who = Identity::default();
        let one = batches(s, &s.files[0], &who, 1_000_000, None)?;
        let two = batches(s, &s.files[0], &who, 1_000_000, None)?;
        let ids = |b: &FileBatches| {
            b.batches
                .iter()
                .map(|b| b.request_id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(one.batches.len(), 2);
        assert_eq!(one.batches[0].entries, MAX_ENTRIES);
        assert_eq!(ids(&one), ids(&two));
        assert!(
            uuid::Uuid::parse_str(&one.batches[0].request_id)
                .is_ok_and(|u| u.get_version_num() == 7)
        );
        // A grown file keeps its full batches and changes only the last.
        std::fs::write(&p, format!("{text}{{\"uuid\":\"new\"}}\n"))?;
        let three = batches(s, &s.files[0], &who, 1_000_000, None)?;
        assert_eq!(ids(&three)[0], ids(&one)[0]);
        assert_ne!(ids(&three)[1], ids(&one)[1]);
        Ok(())
    }
}
