//! What every request the hook spools gets from it: its `hookline` object
//! ([`meta`]) and the masking of secrets ([`redactor`]).

use chrono::Utc;
use hookline_core::meta::{ClientInfo, HooklineMeta, META_VERSION};

use crate::config::Config;
use crate::identity::Identity;
use crate::log::Logger;
use crate::net::CLIENT_NAME;
use crate::redact::Redactor;

/// The `hookline` object of a new request, captured now.
pub fn meta(request_id: &str, who: Identity) -> HooklineMeta {
    HooklineMeta {
        v: META_VERSION,
        request_id: request_id.to_owned(),
        captured_at: Utc::now(),
        client: ClientInfo {
            name: CLIENT_NAME.into(),
            version: hookline_core::VERSION.into(),
        },
        host: who.host,
        user: who.user,
        git_email: who.git_email,
        heartbeat: false,
        part: None,
        transcript: Vec::new(),
        redactions: Default::default(),
    }
}

/// The rule set, compiled once per process; `None` when redaction is off.
pub fn redactor(cfg: &Config, log: &Logger) -> Option<Redactor> {
    if cfg.redaction.enabled == Some(false) {
        return None;
    }
    let (r, problems) = Redactor::new(&cfg.redaction);
    for p in problems {
        log.warn("configuration problem", &[("problem", p.into())]);
    }
    Some(r)
}
