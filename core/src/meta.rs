//! The `hookline` object the hook adds to Claude Code's JSON: what Claude
//! Code does not send (request id, capture time, identity) and the transcript
//! delta. The format is documented in `docs/wire-format.md`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Name of the top-level field that holds [`HooklineMeta`].
pub const META_FIELD: &str = "hookline";
/// Current version of the `hookline` object.
pub const META_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HooklineMeta {
    pub v: u32,
    pub request_id: String,
    pub captured_at: DateTime<Utc>,
    pub client: ClientInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_email: Option<String>,
    /// The hook's heartbeat: set on SessionStart and at most hourly
    /// otherwise; the worker records the (user, host) as alive at
    /// `captured_at` (table `hosts`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub heartbeat: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<Part>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transcript: Vec<TranscriptChunk>,
    /// Secrets the hook masked in this request, per rule: how many times
    /// each rule fired (never the secret). Absent when none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub redactions: BTreeMap<String, u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientInfo {
    pub name: String,
    pub version: String,
}

/// Present when one event's transcript delta was split over several requests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// 0-based; parts with `index > 0` only add transcript entries.
    pub index: u32,
    pub count: u32,
    /// Request id of part 0, on parts with `index > 0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_request_id: Option<String>,
}

impl Part {
    /// True for the parts after the first: they carry transcript entries only.
    pub fn is_continuation(&self) -> bool {
        self.index > 0
    }
}

/// Which transcript file a chunk was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TranscriptSource {
    /// The session's own transcript (`transcript_path`).
    Main,
    /// A subagent's transcript (`agent_transcript_path`).
    Agent,
}

/// New lines of one transcript file, parsed as JSON objects, unchanged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TranscriptChunk {
    pub source: TranscriptSource,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    pub start_offset: u64,
    pub end_offset: u64,
    pub entries: Vec<serde_json::Value>,
}
