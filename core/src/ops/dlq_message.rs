//! A message of the dead-letter queue as the operator sees it (what it
//! says about itself, its audit row) and the filter of `dlq replay`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::dlq::OpsError;
use super::{AuditRow, Ops};
use crate::envelope::QueueMessage;
use crate::queue::{Received, attr};

/// One message of the DLQ with what the store knows of it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DlqMessage {
    pub message_id: String,
    pub request_id: Option<String>,
    pub event_type: Option<String>,
    pub session_id: Option<String>,
    /// Receives in the DLQ (SQS's ApproximateReceiveCount there).
    pub receive_count: u32,
    pub sent_at: Option<DateTime<Utc>>,
    pub body: String,
    pub attributes: BTreeMap<String, String>,
    /// The audit row, when the worker wrote one.
    pub audit: Option<AuditRow>,
}

impl DlqMessage {
    /// When the first attempt failed, else when the message was sent.
    pub fn first_failure_at(&self) -> Option<DateTime<Utc>> {
        self.audit
            .as_ref()
            .and_then(|a| a.first_failure_at)
            .or(self.sent_at)
    }

    pub fn error_code(&self) -> Option<&str> {
        self.audit.as_ref().and_then(|a| a.error_code.as_deref())
    }

    pub fn error_message(&self) -> Option<&str> {
        self.audit.as_ref().and_then(|a| a.error_message.as_deref())
    }
}

/// Reads what a received message says about itself, and its audit row.
pub async fn describe(ops: &dyn Ops, m: &Received) -> Result<DlqMessage, OpsError> {
    let env = QueueMessage::decode(&m.body).ok();
    let env = env.as_ref().map(QueueMessage::envelope);
    let request_id = m
        .attributes
        .get(attr::REQUEST_ID)
        .cloned()
        .or_else(|| env.map(|e| e.request_id.as_str().to_owned()));
    let payload_str = |k: &str| {
        env.and_then(|e| match &e.payload {
            crate::envelope::Payload::Json(v) => v.get(k)?.as_str().map(str::to_owned),
            _ => None,
        })
    };
    let audit = match &request_id {
        Some(id) => ops.audit_row(id).await?,
        None => None,
    };
    Ok(DlqMessage {
        message_id: m.message_id.clone(),
        event_type: m
            .attributes
            .get(attr::EVENT_TYPE)
            .cloned()
            .or_else(|| payload_str("hook_event_name"))
            .or_else(|| audit.as_ref().map(|a| a.event_type.clone())),
        session_id: payload_str("session_id")
            .or_else(|| audit.as_ref().and_then(|a| a.session_id.clone())),
        request_id,
        receive_count: m.receive_count,
        sent_at: m.sent_at,
        body: m.body.clone(),
        attributes: m.attributes.clone(),
        audit,
    })
}

/// Which messages a replay takes. Empty: all.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Request ids or message ids.
    pub ids: Vec<String>,
    pub event_type: Option<String>,
    pub session: Option<String>,
    /// Messages whose first failure (else send) is at or after this.
    pub since: Option<DateTime<Utc>>,
    pub error_code: Option<String>,
}

impl Filter {
    pub fn is_all(&self) -> bool {
        self.ids.is_empty()
            && self.event_type.is_none()
            && self.session.is_none()
            && self.since.is_none()
            && self.error_code.is_none()
    }

    pub fn matches(&self, m: &DlqMessage) -> bool {
        let id_ok = self.ids.is_empty()
            || self
                .ids
                .iter()
                .any(|id| *id == m.message_id || m.request_id.as_deref() == Some(id.as_str()));
        let eq = |want: &Option<String>, got: Option<&str>| {
            want.as_deref().is_none_or(|w| got == Some(w))
        };
        id_ok
            && eq(&self.event_type, m.event_type.as_deref())
            && eq(&self.session, m.session_id.as_deref())
            && eq(&self.error_code, m.error_code())
            && self
                .since
                .is_none_or(|s| m.first_failure_at().is_some_and(|t| t >= s))
    }
}
