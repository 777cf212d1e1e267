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
use crate::mapping::{Plan, plan};
use crate::store::{AuditRecord, BatchItem, Failure, Status, Store, Work};
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
///
/// The records are written together ([`Store::apply_batch`]: a
/// transaction per session on Postgres, one for the batch on SQLite, a
/// savepoint per record), so a batch costs one WAL flush. A record the
/// database refuses fails alone. If the store fails the batch as a whole
/// (or panics), every record is retried on its own, so that one bad record
/// cannot hold back the others.
pub async fn process_batch(
    store: &dyn Store,
    cfg: &WorkerConfig,
    records: &[QueueRecord],
) -> Vec<String> {
    let started = Instant::now();
    let prepared: Vec<(AuditRecord, Result<Job, WorkerError>)> =
        records.iter().map(prepare).collect();
    let mut dispositions = vec![None; records.len()];
    let mut at = Vec::new();
    let mut items = Vec::new();
    for (i, (audit, job)) in prepared.iter().enumerate() {
        match job {
            Ok(job) => {
                at.push(i);
                items.push(BatchItem {
                    audit,
                    work: job.work(),
                    started,
                });
            }
            Err(e) => {
                let span = record_span(&records[i]);
                let d = fail(store, cfg, &records[i], audit, e, started)
                    .instrument(span)
                    .await;
                dispositions[i] = Some(d);
            }
        }
    }
    let batch = match AssertUnwindSafe(store.apply_batch(&items))
        .catch_unwind()
        .await
    {
        Ok(Ok(results)) if results.len() == items.len() => Ok(results),
        Ok(Ok(results)) => Err(format!(
            "the store returned {} results for {} records",
            results.len(),
            items.len()
        )),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(panic_message(&*panic)),
    };
    match batch {
        Ok(results) => {
            for (&i, result) in at.iter().zip(results) {
                let (record, audit) = (&records[i], &prepared[i].0);
                let d = match result {
                    Ok(outcome) => {
                        record_span(record).in_scope(|| {
                            tracing::info!(request_id = %audit.request_id, event_type = %audit.event_type, ?outcome, "record processed");
                        });
                        Disposition::Done
                    }
                    Err(e) => {
                        let e = WorkerError::Store(e);
                        fail(store, cfg, record, audit, &e, started)
                            .instrument(record_span(record))
                            .await
                    }
                };
                dispositions[i] = Some(d);
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, records = items.len(), "the batch failed as a whole; writing its records one by one");
            for &i in &at {
                let (audit, job) = &prepared[i];
                if let Ok(job) = job {
                    let record = &records[i];
                    let d = run_one(store, cfg, record, audit, job, Instant::now())
                        .instrument(record_span(record))
                        .await;
                    dispositions[i] = Some(d);
                }
            }
        }
    }
    records
        .iter()
        .zip(dispositions)
        .filter(|(_, d)| *d != Some(Disposition::Done))
        .map(|(r, _)| r.message_id.clone())
        .collect()
}

/// The span of one record. Always attached with `.instrument`, never an
/// entered guard held across an await: such a guard stays entered on the
/// thread while the task is suspended, other tasks then run inside the span,
/// and the tracing registry panicked ("tried to clone a span that already
/// closed"), which killed `hookline serve`'s queue writer (found by
/// scripts/chaos).
fn record_span(record: &QueueRecord) -> tracing::Span {
    tracing::info_span!("record", message_id = %record.message_id)
}

/// What becomes of a record after one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// Done (stored, duplicate, or recorded as INVALID/FAILED): delete it.
    Done,
    /// Report it as a batch item failure: the queue redelivers it.
    Redeliver,
}

/// What to write for one record, decided before the store is touched.
#[derive(Clone, Debug)]
enum Job {
    /// A valid event and the rows it maps to.
    Apply(Box<Plan>),
    /// A member's valid event: its rows, if its session is new or one of
    /// these users' ([`Work::ApplyOwn`]).
    ApplyOwn(Box<Plan>, Vec<String>),
    /// A valid event that writes its audit row only
    /// ([`crate::event::AUDIT_ONLY_EVENTS`]).
    AuditOnly,
    /// An INVALID audit row with these reasons.
    Invalid {
        code: &'static str,
        errors: ValidationErrors,
    },
}

impl Job {
    fn work(&self) -> Work<'_> {
        match self {
            Job::Apply(plan) => Work::Apply(plan),
            Job::ApplyOwn(plan, users) => Work::ApplyOwn { plan, users },
            Job::AuditOnly => Work::AuditOnly,
            Job::Invalid { code, errors } => Work::Invalid { code, errors },
        }
    }
}

/// Decodes a record once (the audit row and the processing read the same
/// message) and decides its job; a panic in the decision is the record's
/// failure, not the batch's.
fn prepare(record: &QueueRecord) -> (AuditRecord, Result<Job, WorkerError>) {
    let decoded = QueueMessage::decode(&record.body);
    let audit = audit_of(record, decoded.as_ref().ok());
    let job = std::panic::catch_unwind(AssertUnwindSafe(|| job_of(decoded)))
        .map_err(|panic| WorkerError::Panic(panic_message(&*panic)));
    (audit, job)
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

async fn run_one(
    store: &dyn Store,
    cfg: &WorkerConfig,
    record: &QueueRecord,
    audit: &AuditRecord,
    job: &Job,
    started: Instant,
) -> Disposition {
    let result = AssertUnwindSafe(store.apply(audit, job.work(), started))
        .catch_unwind()
        .await;
    let err = match result {
        Ok(Ok(outcome)) => {
            tracing::info!(request_id = %audit.request_id, event_type = %audit.event_type, ?outcome, "record processed");
            return Disposition::Done;
        }
        Ok(Err(e)) => WorkerError::Store(e),
        Err(panic) => WorkerError::Panic(panic_message(&*panic)),
    };
    fail(store, cfg, record, audit, &err, started).await
}

/// Records a failed attempt and decides whether the queue redelivers it.
async fn fail(
    store: &dyn Store,
    cfg: &WorkerConfig,
    record: &QueueRecord,
    audit: &AuditRecord,
    err: &WorkerError,
    started: Instant,
) -> Disposition {
    let transient = match err {
        WorkerError::Store(e) => e.is_transient(),
        WorkerError::Panic(_) => true,
    };
    let last = record.receive_count >= cfg.max_receive_count;
    let status = if transient && !last {
        Status::Retrying
    } else {
        Status::Failed
    };
    let code = match err {
        WorkerError::Store(e) => e.code(),
        WorkerError::Panic(_) => "PANIC",
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
    let recorded = store.record_failure(audit, &failure).await;
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

/// The job of a decoded message: its rows, or why it is invalid.
fn job_of(decoded: Result<QueueMessage, EnvelopeError>) -> Job {
    let invalid = |code, field: &str, kind: &str, msg: String| Job::Invalid {
        code,
        errors: ValidationErrors(vec![FieldError::new(field, kind, msg)]),
    };
    let msg = match decoded {
        Ok(m) => m,
        Err(e) => return invalid("ENVELOPE", "$", "malformed_envelope", e.to_string()),
    };
    let env = msg.envelope();
    if let Some(errors) = &env.invalid {
        return Job::Invalid {
            code: "VALIDATION",
            errors: errors.clone(),
        };
    }
    let Payload::Json(body) = &env.payload else {
        return invalid("VALIDATION", "$", "not_json", "the body is not JSON".into());
    };
    match HookEvent::parse(body.clone()) {
        Ok(event) if event.kind.is_audit_only() => Job::AuditOnly,
        Ok(event) => {
            let at = event
                .meta
                .as_ref()
                .map_or(env.received_at, |m| m.captured_at);
            let rows = Box::new(plan(
                &event,
                env.request_id.as_str(),
                at,
                env.principal.as_deref(),
            ));
            match msg.writer_users() {
                None => Job::Apply(rows),
                Some(users) => Job::ApplyOwn(rows, users.to_vec()),
            }
        }
        Err(errors) => Job::Invalid {
            code: "VALIDATION",
            errors,
        },
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
