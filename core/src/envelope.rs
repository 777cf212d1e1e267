//! The queue message: what ingest enqueues and the worker reads.
//!
//! Versioned from day one (`type` tag), so messages sitting in the DLQ still
//! parse after a deploy. The format is documented in `docs/envelope.md`.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::EnvelopeError;
use crate::ids::RequestId;
use crate::validate::ValidationErrors;

/// SQS's message size limit is 1 MiB for the body and the attributes
/// together; the body is kept under this, leaving room for the attributes.
pub const MAX_BODY_BYTES: usize = 1_048_576 - 8 * 1024;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum QueueMessage {
    #[serde(rename = "hook_event.v1")]
    HookEventV1(Envelope),
}

/// One received request, stamped by ingest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub request_id: RequestId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    pub received_at: DateTime<Utc>,
    /// Name of the token's principal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// The sender's role (`admin` or `member`). Absent in messages queued
    /// before roles existed: written as an admin's were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The users whose sessions a `member` sender may write into (its
    /// token's users); absent for an admin or any-user token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// `X-Hookline-Client` (name/version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// Selected request headers, `Authorization` replaced by `[REDACTED]`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Set when the request was authenticated but invalid: the worker writes
    /// an INVALID audit row with these reasons and no domain rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<ValidationErrors>,
    pub payload: Payload,
}

/// The request body. `json` for a JSON body, `text` for one that is not JSON
/// (invalid requests only); the `gzip_*` forms when the plain form would not
/// fit in one queue message (base64 of gzip of the JSON or text bytes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "encoding", content = "data", rename_all = "snake_case")]
pub enum Payload {
    Json(Value),
    Text(String),
    GzipJson(String),
    GzipText(String),
}

impl Payload {
    /// The plain form (`json` or `text`) of a possibly compressed payload.
    pub fn decompressed(&self) -> Result<Payload, EnvelopeError> {
        let unzip = |data: &str| -> Result<Vec<u8>, EnvelopeError> {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data)
                .map_err(|e| EnvelopeError::Malformed(format!("payload base64: {e}")))?;
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(bytes.as_slice())
                .take(16 * 1024 * 1024)
                .read_to_end(&mut out)
                .map_err(|e| EnvelopeError::Malformed(format!("payload gzip: {e}")))?;
            Ok(out)
        };
        Ok(match self {
            Payload::GzipJson(d) => Payload::Json(
                serde_json::from_slice(&unzip(d)?)
                    .map_err(|e| EnvelopeError::Malformed(format!("payload json: {e}")))?,
            ),
            Payload::GzipText(d) => Payload::Text(String::from_utf8_lossy(&unzip(d)?).into_owned()),
            plain => plain.clone(),
        })
    }

    fn compressed(&self) -> Result<Payload, EnvelopeError> {
        let zip = |bytes: &[u8]| -> Result<String, EnvelopeError> {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(bytes)
                .and_then(|_| enc.finish())
                .map(|z| base64::engine::general_purpose::STANDARD.encode(z))
                .map_err(|e| EnvelopeError::Malformed(format!("gzip: {e}")))
        };
        Ok(match self {
            Payload::Json(v) => Payload::GzipJson(zip(&serde_json::to_vec(v)?)?),
            Payload::Text(t) => Payload::GzipText(zip(t.as_bytes())?),
            already => already.clone(),
        })
    }
}

impl QueueMessage {
    pub fn envelope(&self) -> &Envelope {
        match self {
            QueueMessage::HookEventV1(e) => e,
        }
    }

    /// Serializes for the queue, compressing the payload when the plain form
    /// is over [`MAX_BODY_BYTES`]; errors when even that does not fit.
    pub fn encode(&self) -> Result<String, EnvelopeError> {
        let plain = serde_json::to_string(self)?;
        if plain.len() <= MAX_BODY_BYTES {
            return Ok(plain);
        }
        let QueueMessage::HookEventV1(env) = self;
        let mut small = env.clone();
        small.payload = env.payload.compressed()?;
        let body = serde_json::to_string(&QueueMessage::HookEventV1(small))?;
        if body.len() > MAX_BODY_BYTES {
            return Err(EnvelopeError::TooLarge {
                bytes: body.len(),
                limit: MAX_BODY_BYTES,
            });
        }
        Ok(body)
    }

    /// The users a member sender may write into, or `None` when the sender
    /// may write anywhere (an admin, or a message from before roles).
    pub fn writer_users(&self) -> Option<&[String]> {
        let env = self.envelope();
        match env.role.as_deref() {
            None | Some("admin") => None,
            // A member, or a role this version does not know: restricted.
            Some(_) => Some(env.users.as_deref().unwrap_or(&[])),
        }
    }

    /// Parses a queue message body and decompresses its payload.
    pub fn decode(body: &str) -> Result<QueueMessage, EnvelopeError> {
        let QueueMessage::HookEventV1(mut env) =
            serde_json::from_str(body).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        env.payload = env.payload.decompressed()?;
        Ok(QueueMessage::HookEventV1(env))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(payload: Payload) -> QueueMessage {
        QueueMessage::HookEventV1(Envelope {
            request_id: RequestId::new_v7(),
            trace_id: None,
            span_id: None,
            received_at: Utc::now(),
            principal: Some("alice".into()),
            role: None,
            users: None,
            source_ip: None,
            user_agent: None,
            client: None,
            headers: BTreeMap::new(),
            invalid: None,
            payload,
        })
    }

    #[test]
    fn small_messages_stay_plain_and_round_trip() -> anyhow::Result<()> {
        let m = envelope(Payload::Json(serde_json::json!({"a": "b\u{0}c"})));
        let body = m.encode()?;
        assert!(body.contains("\"encoding\":\"json\""));
        assert_eq!(QueueMessage::decode(&body)?, m);
        Ok(())
    }

    #[test]
    fn a_message_without_a_role_writes_anywhere_and_a_member_only_its_users() -> anyhow::Result<()>
    {
        let old = r#"{"type":"hook_event.v1","request_id":"r-1","received_at":"2026-12-01T00:00:00Z","payload":{"encoding":"json","data":{}}}"#;
        assert_eq!(QueueMessage::decode(old)?.writer_users(), None);
        let QueueMessage::HookEventV1(mut env) = envelope(Payload::Json(serde_json::json!({})));
        env.role = Some("member".into());
        env.users = Some(vec!["alice".into()]);
        let m = QueueMessage::decode(&QueueMessage::HookEventV1(env.clone()).encode()?)?;
        assert_eq!(m.writer_users(), Some(&["alice".to_owned()][..]));
        env.role = Some("admin".into());
        assert_eq!(QueueMessage::HookEventV1(env).writer_users(), None);
        Ok(())
    }

    #[test]
    fn a_one_mib_body_is_compressed_under_the_sqs_limit() -> anyhow::Result<()> {
        let big = "x".repeat(1_048_576);
        let m = envelope(Payload::Json(serde_json::json!({ "tool_response": big })));
        let body = m.encode()?;
        assert!(body.len() <= MAX_BODY_BYTES);
        assert!(body.contains("gzip_json"));
        assert_eq!(QueueMessage::decode(&body)?, m);
        Ok(())
    }
}
