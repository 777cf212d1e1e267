//! Reading what ingest needs from request headers: the bearer token, the
//! content type, the request id, W3C trace context, the client address, and
//! the headers kept for the audit row (Authorization always redacted).

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::http::{HeaderMap, header};

use crate::ids::RequestId;
use crate::validate::FieldError;

/// Headers copied to the audit row.
const KEPT: [&str; 8] = [
    "authorization",
    "content-type",
    "content-length",
    "user-agent",
    "x-request-id",
    "traceparent",
    "x-hookline-client",
    "x-forwarded-for",
];

pub const REDACTED: &str = "[REDACTED]";

fn text<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(h: &HeaderMap) -> Option<&str> {
    let v = text(h, header::AUTHORIZATION.as_str())?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Whether the body is declared JSON (`application/json`, `…+json`), or not
/// declared at all.
pub fn is_json(h: &HeaderMap) -> bool {
    let Some(ct) = text(h, header::CONTENT_TYPE.as_str()) else {
        return true;
    };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// The declared body length, if any.
pub fn content_length(h: &HeaderMap) -> Option<usize> {
    text(h, header::CONTENT_LENGTH.as_str())?.parse().ok()
}

/// `X-Request-Id`, checked.
pub fn request_id(h: &HeaderMap) -> Option<Result<RequestId, FieldError>> {
    text(h, "x-request-id").map(|v| RequestId::parse_field("X-Request-Id", v))
}

/// Trace id and parent span id of a valid W3C `traceparent`
/// (`00-<32 hex>-<16 hex>-<2 hex>`); an invalid one is ignored, as the
/// specification says.
pub fn traceparent(h: &HeaderMap) -> Option<(String, String)> {
    let v = text(h, "traceparent")?;
    let parts: Vec<&str> = v.split('-').collect();
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    };
    let [version, trace, span, flags] = parts.as_slice() else {
        return None;
    };
    let valid = hex(version, 2)
        && *version != "ff"
        && hex(trace, 32)
        && hex(span, 16)
        && hex(flags, 2)
        && trace.bytes().any(|b| b != b'0')
        && span.bytes().any(|b| b != b'0');
    valid.then(|| ((*trace).to_owned(), (*span).to_owned()))
}

/// The client address: the first `X-Forwarded-For` hop (what a Lambda
/// function URL sets), else the peer of the connection.
pub fn source_ip(h: &HeaderMap, peer: Option<SocketAddr>) -> Option<String> {
    text(h, "x-forwarded-for")
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().chars().take(64).collect())
        .or_else(|| peer.map(|p| p.ip().to_string()))
}

pub fn user_agent(h: &HeaderMap) -> Option<String> {
    text(h, header::USER_AGENT.as_str()).map(|v| v.chars().take(256).collect())
}

pub fn client(h: &HeaderMap) -> Option<String> {
    text(h, "x-hookline-client").map(|v| v.chars().take(128).collect())
}

/// Headers for the audit row, values bounded, `Authorization` redacted.
pub fn kept_headers(h: &HeaderMap) -> BTreeMap<String, String> {
    KEPT.iter()
        .filter_map(|name| {
            let value = if *name == "authorization" {
                h.contains_key(*name).then(|| REDACTED.to_owned())
            } else {
                text(h, name).map(|v| v.chars().take(512).collect())
            };
            value.map(|v| ((*name).to_owned(), v))
        })
        .collect()
}

/// A new random trace id (32 hex) or span id (16 hex).
pub fn new_trace_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn traceparent_is_parsed_only_when_valid() {
        let ok = headers(&[(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )]);
        assert_eq!(
            traceparent(&ok),
            Some((
                "4bf92f3577b34da6a3ce929d0e0e4736".into(),
                "00f067aa0ba902b7".into()
            ))
        );
        for bad in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "garbage",
        ] {
            let mut h = HeaderMap::new();
            h.insert("traceparent", HeaderValue::from_static(bad));
            assert_eq!(traceparent(&h), None, "{bad}");
        }
    }

    #[test]
    fn authorization_is_redacted_and_forwarded_for_wins() {
        let h = headers(&[
            ("authorization", "Bearer s3cret"),
            ("x-forwarded-for", "203.0.113.7, 10.0.0.1"),
        ]);
        let kept = kept_headers(&h);
        assert_eq!(
            kept.get("authorization").map(String::as_str),
            Some(REDACTED)
        );
        assert!(!format!("{kept:?}").contains("s3cret"));
        assert_eq!(source_ip(&h, None).as_deref(), Some("203.0.113.7"));
        assert_eq!(bearer(&h), Some("s3cret"));
    }

    #[test]
    fn json_content_types() {
        assert!(is_json(&headers(&[(
            "content-type",
            "application/json; charset=utf-8"
        )])));
        assert!(is_json(&headers(&[(
            "content-type",
            "application/cloudevents+json"
        )])));
        assert!(is_json(&HeaderMap::new()));
        assert!(!is_json(&headers(&[("content-type", "text/plain")])));
        assert!(!is_json(&headers(&[(
            "content-type",
            "application/x-www-form-urlencoded"
        )])));
    }
}
