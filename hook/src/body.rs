//! The request body: Claude Code's JSON exactly as it came on stdin, with
//! the `hookline` object spliced in before the closing brace (so key order,
//! spacing and numbers stay as Claude Code wrote them), see
//! `docs/wire-format.md`.

use std::io::Read;

use hookline_core::meta::{HooklineMeta, META_FIELD};
use serde::Deserialize;
use serde_json::Value;

use crate::redact::{Counts, Redactor};
use crate::stdin::Read1;

/// Largest accepted stdin.
pub const MAX_STDIN: usize = 16 * 1024 * 1024;

/// Why stdin is not a hook event.
#[derive(Debug)]
pub enum InputError {
    Read(std::io::Error),
    TooLarge,
    Empty,
    NotJsonObject(String),
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InputError::Read(e) => write!(f, "cannot read stdin: {e}"),
            InputError::TooLarge => write!(f, "stdin is over {MAX_STDIN} bytes"),
            InputError::Empty => write!(f, "stdin is empty"),
            InputError::NotJsonObject(e) => write!(f, "stdin is not a JSON object: {e}"),
        }
    }
}

impl std::error::Error for InputError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InputError::Read(e) => Some(e),
            _ => None,
        }
    }
}

/// The fields of the event the hook itself reads; everything else is
/// carried unread. Values are kept loose so an odd type is the server's
/// call, not a reason to drop the event.
#[derive(Debug, Default, Deserialize)]
pub struct Peek {
    pub session_id: Option<Value>,
    pub hook_event_name: Option<Value>,
    pub transcript_path: Option<Value>,
    pub cwd: Option<Value>,
    pub agent_id: Option<Value>,
    pub agent_type: Option<Value>,
    pub agent_transcript_path: Option<Value>,
    hookline: Option<serde::de::IgnoredAny>,
}

fn as_str(v: &Option<Value>) -> Option<&str> {
    v.as_ref().and_then(Value::as_str)
}

impl Peek {
    pub fn session_id(&self) -> Option<&str> {
        as_str(&self.session_id)
    }
    pub fn event_name(&self) -> Option<&str> {
        as_str(&self.hook_event_name)
    }
    pub fn transcript_path(&self) -> Option<&str> {
        as_str(&self.transcript_path).filter(|p| !p.is_empty())
    }
    pub fn agent_id(&self) -> Option<&str> {
        as_str(&self.agent_id)
    }
    pub fn agent_transcript_path(&self) -> Option<&str> {
        as_str(&self.agent_transcript_path).filter(|p| !p.is_empty())
    }
}

/// One hook event read from stdin.
#[derive(Debug)]
pub struct Input {
    raw: Vec<u8>,
    pub peek: Peek,
    /// Secrets masked in `raw` by [`Input::redact`].
    pub redactions: Counts,
}

impl Input {
    /// Reads one event from stdin (at most [`MAX_STDIN`] bytes, stopping at
    /// the object's end) and checks it.
    pub fn read(stdin: impl Read) -> Result<Input, InputError> {
        match crate::stdin::read_object(stdin, MAX_STDIN).map_err(InputError::Read)? {
            Read1::Object(raw) => Input::parse(raw),
            Read1::Empty => Err(InputError::Empty),
            Read1::TooLarge => Err(InputError::TooLarge),
            Read1::NotAnObject(why) => Err(InputError::NotJsonObject(why.to_owned())),
        }
    }

    pub fn parse(mut raw: Vec<u8>) -> Result<Input, InputError> {
        let end = raw.trim_ascii_end().len();
        raw.truncate(end);
        let start = raw.len() - raw.trim_ascii_start().len();
        raw.drain(..start);
        if raw.is_empty() {
            return Err(InputError::Empty);
        }
        if raw.first() != Some(&b'{') || raw.last() != Some(&b'}') {
            return Err(InputError::NotJsonObject(
                "does not start with { and end with }".into(),
            ));
        }
        std::str::from_utf8(&raw).map_err(|e| InputError::NotJsonObject(e.to_string()))?;
        let peek: Peek =
            serde_json::from_slice(&raw).map_err(|e| InputError::NotJsonObject(e.to_string()))?;
        Ok(Input {
            raw,
            peek,
            redactions: Counts::new(),
        })
    }

    /// Masks the secrets in the event's string values (the bytes around
    /// them stay as Claude Code wrote them).
    pub fn redact(&mut self, r: &Redactor) {
        if let Some(raw) = r.redact_json(&self.raw, &mut self.redactions) {
            self.raw = raw;
        }
    }

    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// The event's JSON as it is spooled (masked once [`Input::redact`] ran).
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The event with `meta` added as the top-level `hookline` field.
    pub fn with_meta(&self, meta: &HooklineMeta) -> Result<Vec<u8>, serde_json::Error> {
        if self.peek.hookline.is_some() {
            // Claude Code never sends this field; if something did, replace it.
            let mut obj: serde_json::Map<String, Value> = serde_json::from_slice(&self.raw)?;
            obj.insert(META_FIELD.to_owned(), serde_json::to_value(meta)?);
            return serde_json::to_vec(&obj);
        }
        splice(&self.raw, meta)
    }

    /// The body of a continuation part: only the common fields that name the
    /// event (the event itself is applied once, from part 0), plus `meta`.
    pub fn continuation_with_meta(
        &self,
        meta: &HooklineMeta,
    ) -> Result<Vec<u8>, serde_json::Error> {
        let p = &self.peek;
        let mut obj = serde_json::Map::new();
        for (k, v) in [
            ("session_id", &p.session_id),
            ("transcript_path", &p.transcript_path),
            ("cwd", &p.cwd),
            ("hook_event_name", &p.hook_event_name),
            ("agent_id", &p.agent_id),
            ("agent_type", &p.agent_type),
        ] {
            if let Some(v) = v {
                obj.insert(k.to_owned(), v.clone());
            }
        }
        obj.insert(META_FIELD.to_owned(), serde_json::to_value(meta)?);
        serde_json::to_vec(&obj)
    }
}

/// `raw` is a JSON object without a `hookline` key, trimmed.
fn splice(raw: &[u8], meta: &HooklineMeta) -> Result<Vec<u8>, serde_json::Error> {
    let meta = serde_json::to_vec(meta)?;
    let inner = raw[..raw.len() - 1].trim_ascii_end();
    let mut out = Vec::with_capacity(raw.len() + meta.len() + 16);
    out.extend_from_slice(inner);
    if inner != b"{" {
        out.push(b',');
    }
    out.extend_from_slice(b"\"");
    out.extend_from_slice(META_FIELD.as_bytes());
    out.extend_from_slice(b"\":");
    out.extend_from_slice(&meta);
    out.push(b'}');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookline_core::meta::ClientInfo;

    fn meta() -> HooklineMeta {
        HooklineMeta {
            v: 1,
            request_id: "01938f0e-8c6e-7d2a-9a51-0f4c2b1e7a10".into(),
            captured_at: chrono::Utc::now(),
            client: ClientInfo {
                name: "hookline-hook".into(),
                version: "0".into(),
            },
            host: None,
            user: None,
            git_email: None,
            heartbeat: false,
            part: None,
            transcript: Vec::new(),
            redactions: Default::default(),
        }
    }

    #[test]
    fn splice_keeps_claude_codes_bytes_and_adds_hookline_last()
    -> Result<(), Box<dyn std::error::Error>> {
        let raw = br#" {"z":1, "a":1.50,"session_id":"s"}
"#;
        let input = Input::parse(raw.to_vec()).map_err(|e| e.to_string())?;
        let body = input.with_meta(&meta())?;
        let text = String::from_utf8(body)?;
        assert!(text.starts_with(r#"{"z":1, "a":1.50,"session_id":"s","hookline":{"v":1,"#));
        let v: Value = serde_json::from_str(&text)?;
        assert_eq!(
            v["hookline"]["request_id"],
            "01938f0e-8c6e-7d2a-9a51-0f4c2b1e7a10"
        );
        Ok(())
    }

    #[test]
    fn splice_into_an_empty_object_and_replace_an_existing_field()
    -> Result<(), Box<dyn std::error::Error>> {
        let body = Input::parse(b"{ }".to_vec())
            .map_err(|e| e.to_string())?
            .with_meta(&meta())?;
        let v: Value = serde_json::from_slice(&body)?;
        assert_eq!(v["hookline"]["v"], 1);
        let body = Input::parse(br#"{"hookline":"x","a":1}"#.to_vec())
            .map_err(|e| e.to_string())?
            .with_meta(&meta())?;
        let v: Value = serde_json::from_slice(&body)?;
        assert_eq!(v["hookline"]["v"], 1);
        assert_eq!(v["a"], 1);
        Ok(())
    }

    #[test]
    fn garbage_is_refused() {
        for bad in [
            &b""[..],
            b"   ",
            b"[1,2]",
            b"{\"a\":",
            b"{} {}",
            b"\"s\"",
            b"{\"a\":\"\xff\"}",
        ] {
            assert!(
                Input::parse(bad.to_vec()).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
