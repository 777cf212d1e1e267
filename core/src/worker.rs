//! Batch processing: what the worker function does with one SQS batch.
//!
//! Each record is handled on its own: the audit row, then the domain rows in
//! one transaction. Permanent problems (a bad envelope, a failed validation,
//! data the database refuses) are recorded as INVALID or FAILED and not
//! reported, so they do not loop. Transient ones (database unreachable,
//! conflicts, timeouts, a panic) are reported as batch item failures, to be
//! redelivered; on the last allowed receive they are marked FAILED before
//! the queue moves them to the DLQ.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use chrono::{DateTime, Utc};
use futures::FutureExt;
use serde_json::Value;
use tracing::Instrument;

use crate::envelope::{Envelope, Payload, QueueMessage};
use crate::error::{EnvelopeError, WorkerError};
use crate::event::HookEvent;
use crate::mapping::plan;
use crate::store::{AuditRecord, Failure, Outcome, Status, Store, Work};
use crate::validate::{FieldError, ValidationErrors};

/// Settings of the worker.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// The queue's redrive `maxReceiveCount`: on this receive, a transient
    /// failure is final for this queue and the audit row becomes FAILED.
    pub max_receive_count: u32,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            max_receive_count: 5,
        }
    }
}

/// One queue message, independent of the queue (SQS, embedded).
#[derive(Clone, Debug)]
pub struct QueueRecord {
    pub message_id: String,
    pub body: String,
    /// ApproximateReceiveCount, 1 on the first delivery.
    pub receive_count: u32,
    /// When the message was sent to the queue (SentTimestamp).
    pub sent_at: Option<DateTime<Utc>>,
    /// The `request_id` message attribute, used when the body cannot be read.
    pub request_id_attr: Option<String>,
}

/// Processes a batch; returns the message ids to report as failed.
pub async fn process_batch(
    store: &dyn Store,
    cfg: &WorkerConfig,
    records: &[QueueRecord],
) -> Vec<String> {
    let mut failed = Vec::new();
    for record in records {
        // Instrument, not `span.enter()`: an entered guard held across an
        // await stays entered on the thread while the task is suspended, so
        // other tasks ran inside this span, and the tracing registry panicked
        // ("tried to clone a span that already closed"), killing the task
        // (in `hookline serve`: the queue writer, so every send got 503).
        let span = tracing::info_span!("record", message_id = %record.message_id);
        if process_record(store, cfg, record).instrument(span).await == Disposition::Redeliver {
            failed.push(record.message_id.clone());
        }
    }
    failed
}

/// What becomes of a record after one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Done (stored, duplicate, or recorded as INVALID/FAILED): delete it.
    Done,
    /// Report it as a batch item failure: the queue redelivers it.
    Redeliver,
}

/// Handles one record.
pub async fn process_record(
    store: &dyn Store,
    cfg: &WorkerConfig,
    record: &QueueRecord,
) -> Disposition {
    let started = Instant::now();
    // Decoded once: the audit row and the processing read the same message.
    let decoded = QueueMessage::decode(&record.body);
    let audit = audit_of(record, decoded.as_ref().ok());
    let result = AssertUnwindSafe(handle(store, &audit, decoded, started))
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(WorkerError::Panic(msg))
        });
    let err = match result {
        Ok(outcome) => {
            tracing::info!(request_id = %audit.request_id, event_type = %audit.event_type, ?outcome, "record processed");
            return Disposition::Done;
        }
        Err(e) => e,
    };
    let transient = match &err {
        WorkerError::Store(e) => e.is_transient(),
        WorkerError::Panic(_) => true,
        _ => false,
    };
    let last = record.receive_count >= cfg.max_receive_count;
    let status = if transient && !last {
        Status::Retrying
    } else {
        Status::Failed
    };
    let code = match &err {
        WorkerError::Store(e) => e.code(),
        WorkerError::Panic(_) => "PANIC",
        WorkerError::Envelope(_) => "ENVELOPE",
        _ => "INVALID",
    };
    let message = if transient && last {
        format!(
            "{err} (receive {} of {}: leaving for the DLQ)",
            record.receive_count, cfg.max_receive_count
        )
    } else {
        err.to_string()
    };
    tracing::error!(request_id = %audit.request_id, code, status = status.as_str(), error = %message, "record failed");
    let failure = Failure {
        status,
        code,
        message: &message,
        processing_ms: i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX),
    };
    let recorded = store.record_failure(&audit, &failure).await;
    if let Err(e) = &recorded {
        tracing::warn!(request_id = %audit.request_id, error = %e, "could not record the failure");
    }
    // A permanent failure that could not even be recorded is retried, so
    // that it is not lost silently.
    if transient || recorded.is_err() {
        Disposition::Redeliver
    } else {
        Disposition::Done
    }
}

async fn handle(
    store: &dyn Store,
    audit: &AuditRecord,
    decoded: Result<QueueMessage, EnvelopeError>,
    started: Instant,
) -> Result<Outcome, WorkerError> {
    let msg = match decoded {
        Ok(m) => m,
        Err(e) => {
            let errors = ValidationErrors(vec![FieldError::new(
                "$",
                "malformed_envelope",
                e.to_string(),
            )]);
            let work = Work::Invalid {
                code: "ENVELOPE",
                errors: &errors,
            };
            return Ok(store.apply(audit, work, started).await?);
        }
    };
    let env = msg.envelope();
    if let Some(errors) = &env.invalid {
        return Ok(store
            .apply(
                audit,
                Work::Invalid {
                    code: "VALIDATION",
                    errors,
                },
                started,
            )
            .await?);
    }
    let Payload::Json(body) = &env.payload else {
        let errors = ValidationErrors(vec![FieldError::new(
            "$",
            "not_json",
            "the body is not JSON",
        )]);
        return Ok(store
            .apply(
                audit,
                Work::Invalid {
                    code: "VALIDATION",
                    errors: &errors,
                },
                started,
            )
            .await?);
    };
    match HookEvent::parse(body.clone()) {
        Ok(event) => {
            let at = event
                .meta
                .as_ref()
                .map_or(env.received_at, |m| m.captured_at);
            let p = plan(
                &event,
                env.request_id.as_str(),
                at,
                env.principal.as_deref(),
            );
            Ok(store.apply(audit, Work::Apply(&p), started).await?)
        }
        Err(errors) => Ok(store
            .apply(
                audit,
                Work::Invalid {
                    code: "VALIDATION",
                    errors: &errors,
                },
                started,
            )
            .await?),
    }
}

fn str_field(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_owned)
}

/// The audit row of a record, from as much of it as can be read.
pub fn audit_of(record: &QueueRecord, decoded: Option<&QueueMessage>) -> AuditRecord {
    let now = Utc::now();
    let env: Option<Envelope> = decoded.map(|m| m.envelope().clone());
    let Some(env) = env else {
        let request_id = record
            .request_id_attr
            .clone()
            .unwrap_or_else(|| format!("sqs:{}", record.message_id));
        return AuditRecord {
            request_id,
            event_type: "unknown".into(),
            session_id: None,
            payload: None,
            payload_text: Some(record.body.chars().take(64 * 1024).collect()),
            headers: Value::Object(Default::default()),
            source_ip: None,
            user_agent: None,
            client: None,
            principal: None,
            trace_id: None,
            span_id: None,
            message_id: record.message_id.clone(),
            receive_count: i32::try_from(record.receive_count).unwrap_or(i32::MAX),
            captured_at: None,
            received_at: record.sent_at.unwrap_or(now),
            enqueued_at: record.sent_at,
        };
    };
    let (payload, payload_text) = match env.payload {
        Payload::Json(v) => (Some(v), None),
        Payload::Text(t) => (None, Some(t)),
        // decode() always returns the plain form.
        Payload::GzipJson(_) | Payload::GzipText(_) => (None, None),
    };
    let body = payload.as_ref();
    let meta = body.and_then(|b| b.get(crate::meta::META_FIELD));
    AuditRecord {
        request_id: env.request_id.to_string(),
        event_type: body
            .and_then(|b| str_field(b, "hook_event_name"))
            .filter(|n| !n.is_empty() && n.len() <= 64)
            .unwrap_or_else(|| "unknown".into()),
        session_id: body
            .and_then(|b| str_field(b, "session_id"))
            .map(|s| s.chars().take(256).collect()),
        headers: serde_json::to_value(&env.headers).unwrap_or(Value::Null),
        source_ip: env.source_ip,
        user_agent: env.user_agent,
        client: env.client,
        principal: env.principal,
        trace_id: env.trace_id,
        span_id: env.span_id,
        message_id: record.message_id.clone(),
        receive_count: i32::try_from(record.receive_count).unwrap_or(i32::MAX),
        captured_at: meta
            .and_then(|m| str_field(m, "captured_at"))
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc)),
        received_at: env.received_at,
        enqueued_at: record.sent_at,
        payload,
        payload_text,
    }
}
