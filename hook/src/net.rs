//! HTTP to the ingest API: one blocking request at a time with `ureq`
//! (rustls, no async runtime), each bounded by a total timeout.
//!
//! `POST {url}/v1/events` with `Authorization: Bearer`, `X-Request-Id`,
//! a W3C `traceparent` (trace id = the request id's 32 hex digits, so logs
//! on both sides join on it) and `X-Hookline-Client`.

use std::time::Duration;

use ureq::Agent;

use crate::config::{Config, Secret};

/// Client name and version sent in `hookline.client` and `X-Hookline-Client`.
pub const CLIENT_NAME: &str = "hookline-hook";

/// Largest part of an error answer that is kept.
const MAX_ANSWER: u64 = 64 * 1024;

/// What became of one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx: acknowledged; the entry can go.
    Accepted,
    /// 4xx other than 408/429: resending would not help.
    Refused { status: u16, answer: Vec<u8> },
    /// No answer, or an answer that asks to retry (408, 429, 5xx, 3xx).
    Retry { status: Option<u16>, error: String },
}

/// The client (sends nothing without a configured URL).
#[derive(Debug, Clone)]
pub struct Client {
    agent: Agent,
    base: String,
    token: Option<Secret>,
}

pub fn client_header() -> String {
    format!("{CLIENT_NAME}/{}", hookline_core::VERSION)
}

impl Client {
    pub fn new(cfg: &Config) -> Option<Client> {
        let base = cfg.url.clone()?;
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(client_header())
            .build()
            .into();
        Some(Client {
            agent,
            base,
            token: cfg.token.clone(),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// `POST /v1/events` of one body, bounded by `timeout`.
    pub fn post_event(&self, body: &[u8], request_id: &str, timeout: Duration) -> Outcome {
        let url = format!("{}/v1/events", self.base);
        let mut req = self
            .agent
            .post(&url)
            .config()
            .timeout_global(Some(timeout))
            .build()
            .header("Content-Type", "application/json")
            .header("X-Request-Id", request_id)
            .header("traceparent", traceparent(request_id))
            .header("X-Hookline-Client", client_header());
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {}", t.expose()));
        }
        match req.send(body) {
            Err(e) => Outcome::Retry {
                status: None,
                error: describe(&e),
            },
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let answer = resp
                    .body_mut()
                    .with_config()
                    .limit(MAX_ANSWER)
                    .read_to_vec()
                    .unwrap_or_default();
                classify(status, answer)
            }
        }
    }

    /// `GET /health`: the status code, or why there was none.
    pub fn health(&self, timeout: Duration) -> Result<u16, String> {
        self.agent
            .get(format!("{}/health", self.base))
            .config()
            .timeout_global(Some(timeout))
            .build()
            .call()
            .map(|r| r.status().as_u16())
            .map_err(|e| describe(&e))
    }
}

fn classify(status: u16, answer: Vec<u8>) -> Outcome {
    match status {
        200..=299 => Outcome::Accepted,
        408 | 429 => Outcome::Retry {
            status: Some(status),
            error: format!("HTTP {status}"),
        },
        400..=499 => Outcome::Refused { status, answer },
        _ => Outcome::Retry {
            status: Some(status),
            error: format!("HTTP {status}: {}", short(&answer)),
        },
    }
}

fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        ureq::Error::ConnectionFailed => "connection failed".to_owned(),
        ureq::Error::HostNotFound => "host not found".to_owned(),
        other => other.to_string(),
    }
}

/// The first 200 characters of an answer, for messages.
pub fn short(answer: &[u8]) -> String {
    let s = String::from_utf8_lossy(answer);
    let s = s.trim();
    match s.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// `00-<request id as 32 hex>-<random 16 hex>-01`.
pub fn traceparent(request_id: &str) -> String {
    let trace: String = request_id.chars().filter(char::is_ascii_hexdigit).collect();
    let trace = if trace.len() == 32 && trace.bytes().any(|b| b != b'0') {
        trace.to_ascii_lowercase()
    } else {
        uuid::Uuid::new_v4().simple().to_string()
    };
    let span = uuid::Uuid::new_v4().simple().to_string();
    format!("00-{trace}-{}-01", &span[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_are_classified_as_the_contract_says() {
        assert_eq!(classify(202, vec![]), Outcome::Accepted);
        assert!(matches!(
            classify(400, vec![]),
            Outcome::Refused { status: 400, .. }
        ));
        assert!(matches!(classify(401, vec![]), Outcome::Refused { .. }));
        assert!(matches!(classify(413, vec![]), Outcome::Refused { .. }));
        for s in [408, 429, 500, 503, 302] {
            assert!(matches!(classify(s, vec![]), Outcome::Retry { .. }), "{s}");
        }
    }

    #[test]
    fn traceparent_carries_the_request_id() {
        let tp = traceparent("01938f0e-8c6e-7d2a-9a51-0f4c2b1e7a10");
        assert!(
            tp.starts_with("00-01938f0e8c6e7d2a9a510f4c2b1e7a10-"),
            "{tp}"
        );
        assert_eq!(tp.len(), 55);
        assert!(tp.ends_with("-01"));
    }
}
