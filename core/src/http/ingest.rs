//! The handlers: authenticate, bound, parse, validate, stamp the envelope,
//! enqueue, answer. Ingest never touches the database, so it stays up when
//! the database is not.

use std::net::SocketAddr;

use axum::Extension;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};

use super::IngestState;
use super::auth::{Grant, Role};
use super::error::ApiError;
use super::request as rq;
use crate::envelope::{Envelope, Payload, QueueMessage};
use crate::error::EnvelopeError;
use crate::event::HookEvent;
use crate::ids::RequestId;
use crate::queue::{OutMessage, QueueError, attr};
use crate::store::owner::may_write;
use crate::validate::{FieldError, ValidationErrors};

/// How much of a refused body the INVALID audit record keeps.
const KEEP_OF_REFUSED: usize = 4096;

pub async fn events(
    st: State<IngestState>,
    h: HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Body,
) -> Response {
    match intake(&st, &h, peer.map(|p| p.0.0), body).await {
        Ok(id) => (
            StatusCode::ACCEPTED,
            Json(json!({"request_id": id.as_str(), "status": "queued"})),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// Claude Code's native http hooks: 204 with no body, because Claude Code
/// parses a 2xx JSON body as hook output.
pub async fn hook(
    st: State<IngestState>,
    h: HeaderMap,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Body,
) -> Response {
    match intake(&st, &h, peer.map(|p| p.0.0), body).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

pub async fn health() -> Response {
    Json(json!({"status": "ok", "version": crate::VERSION})).into_response()
}

pub async fn method_not_allowed() -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "use POST (GET for /health)",
    )
    .into_response()
}

pub async fn not_found() -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such path; POST events to /v1/events",
    )
    .into_response()
}

/// What is known of a request before its body is read.
struct Intake<'a> {
    st: &'a IngestState,
    h: &'a HeaderMap,
    peer: Option<SocketAddr>,
    principal: String,
    role: Role,
    /// The users a member may write into, stamped on the envelope for the
    /// worker's check (`None`: an admin, writes anywhere).
    writer_users: Option<Vec<String>>,
    trace: (String, Option<String>),
}

async fn intake(
    st: &IngestState,
    h: &HeaderMap,
    peer: Option<SocketAddr>,
    body: Body,
) -> Result<RequestId, ApiError> {
    let grant = match rq::bearer(h) {
        Some(t) => st.tokens.grant(t).await,
        None => None,
    };
    let Some(grant) = grant else {
        tracing::warn!(
            source_ip = rq::source_ip(h, peer).as_deref().unwrap_or("-"),
            "unauthenticated request refused"
        );
        return Err(ApiError::unauthorized());
    };
    let trace = match rq::traceparent(h) {
        Some((trace, span)) => (trace, Some(span)),
        None => (rq::new_trace_id(), None),
    };
    let writer_users = grant.writer_users();
    let Grant {
        principal,
        users: allowed,
        role,
    } = grant;
    let i = Intake {
        st,
        h,
        peer,
        principal,
        role,
        writer_users,
        trace,
    };

    let header_id = match rq::request_id(h).transpose() {
        Ok(id) => id,
        Err(e) => {
            return Err(i
                .refuse(
                    ApiError::invalid(&ValidationErrors(vec![e])),
                    None,
                    Bytes::new(),
                )
                .await);
        }
    };
    if !rq::is_json(h) {
        let e = ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/json",
        );
        return Err(i.refuse(e, header_id, Bytes::new()).await);
    }
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body is over the {}-byte limit", st.max_body),
        )
    };
    if rq::content_length(h).is_some_and(|n| n > st.max_body) {
        return Err(i.refuse(too_large(), header_id, Bytes::new()).await);
    }
    let bytes = match tokio::time::timeout(st.body_timeout, read_body(body, st.max_body)).await {
        Ok(Ok(b)) => b,
        Ok(Err(BodyError::TooLarge)) => {
            return Err(i.refuse(too_large(), header_id, Bytes::new()).await);
        }
        Ok(Err(BodyError::Unreadable(e))) => {
            // The body did not arrive in full: the client gave up mid-upload
            // (its deadline), the connection broke, or the chunked framing
            // was broken. Nothing was refused, so nothing is recorded: an
            // INVALID record under the client's request id would turn its
            // resend into a DUPLICATE, a loss (found by scripts/chaos). 408
            // tells a client still listening to send it again.
            tracing::warn!(
                request_id = header_id.as_ref().map(RequestId::as_str).unwrap_or("-"),
                error = %e,
                principal = %i.principal,
                "request body not received in full; nothing recorded"
            );
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_incomplete",
                "the request body was not received in full; send it again",
            ));
        }
        Err(_) => {
            let e = ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!(
                    "the body did not arrive within {} s",
                    st.body_timeout.as_secs_f64()
                ),
            );
            return Err(i.refuse(e, header_id, Bytes::new()).await);
        }
    };
    let value: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            let err = FieldError::new(
                "$",
                "invalid_json",
                format!("the body is not valid JSON: {e}"),
            );
            let api = ApiError {
                code: "invalid_json",
                ..ApiError::invalid(&ValidationErrors(vec![err]))
            };
            return Err(i.refuse(api, header_id, bytes).await);
        }
    };
    let event = match HookEvent::parse(value.clone()) {
        Ok(ev) => ev,
        Err(errors) => return Err(i.refuse(ApiError::invalid(&errors), header_id, bytes).await),
    };
    let user = event.meta.as_ref().and_then(|m| m.user.as_deref());
    if !allowed.allows(user) {
        let e = ApiError::forbidden_user(&i.principal, &allowed, user);
        return Err(i.refuse(e, header_id, bytes).await);
    }
    if let Some(e) = i.session_refusal(event.common.session_id.as_str()).await {
        return Err(i.refuse(e, header_id, bytes).await);
    }
    let request_id = match header_id {
        Some(id) => id,
        None => match event
            .meta
            .as_ref()
            .map(|m| RequestId::parse_field("hookline.request_id", &m.request_id))
        {
            Some(Ok(id)) => id,
            _ => RequestId::new_v7(),
        },
    };
    let env = i.envelope(request_id.clone(), Payload::Json(value), None);
    i.enqueue(env, event.kind.name()).await?;
    tracing::info!(
        request_id = %request_id,
        trace_id = %i.trace.0,
        span_id = i.trace.1.as_deref(),
        event_type = event.kind.name(),
        session_id = %event.common.session_id,
        principal = %i.principal,
        "event queued"
    );
    Ok(request_id)
}

enum BodyError {
    TooLarge,
    Unreadable(axum::Error),
}

/// Reads the whole body, stopping as soon as it passes `max` bytes. A body
/// that cannot be read (broken chunked encoding, the client gone) is not
/// reported as too large: it is incomplete, and not recorded.
async fn read_body(body: Body, max: usize) -> Result<Bytes, BodyError> {
    use futures::StreamExt;
    let mut stream = body.into_data_stream();
    let mut buf: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(BodyError::Unreadable)?;
        if buf.len() + chunk.len() > max {
            return Err(BodyError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

impl Intake<'_> {
    /// The write rule's early check (docs/teams.md, "Roles"): a member's
    /// event into another user's existing session is refused here when the
    /// ingest can read the store. The worker checks again in the write
    /// transaction, so a failed lookup lets the event through to it.
    async fn session_refusal(&self, session_id: &str) -> Option<ApiError> {
        let (Some(users), Some(owners)) = (&self.writer_users, &self.st.sessions) else {
            return None;
        };
        match owners.owner(session_id).await {
            Ok(owner) if !may_write(users, owner.as_ref().map(Option::as_deref)) => {
                Some(ApiError::forbidden_session(session_id, users))
            }
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, session_id, "could not read the session's user; the worker checks it");
                None
            }
        }
    }

    fn envelope(
        &self,
        request_id: RequestId,
        payload: Payload,
        invalid: Option<ValidationErrors>,
    ) -> QueueMessage {
        QueueMessage::HookEventV1(Envelope {
            request_id,
            trace_id: Some(self.trace.0.clone()),
            span_id: self.trace.1.clone(),
            received_at: Utc::now(),
            principal: Some(self.principal.clone()),
            role: Some(self.role.as_str().to_owned()),
            users: self.writer_users.clone(),
            source_ip: rq::source_ip(self.h, self.peer),
            user_agent: rq::user_agent(self.h),
            client: rq::client(self.h),
            headers: rq::kept_headers(self.h),
            invalid,
            payload,
        })
    }

    async fn enqueue(&self, msg: QueueMessage, event_type: &str) -> Result<(), ApiError> {
        let body = msg.encode().map_err(|e| match e {
            EnvelopeError::TooLarge { .. } => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the event does not fit in one queue message even compressed",
            ),
            other => {
                tracing::error!(error = %other, "could not encode the queue message");
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "unencodable",
                    "the event could not be encoded",
                )
            }
        })?;
        let env = msg.envelope();
        let out = OutMessage {
            body,
            attributes: [
                (attr::REQUEST_ID, env.request_id.to_string()),
                (attr::TRACE_ID, self.trace.0.clone()),
                (attr::EVENT_TYPE, event_type.to_owned()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        };
        match self.st.queue.send(&out).await {
            Ok(_) => Ok(()),
            Err(QueueError::Rejected(reason)) => {
                tracing::error!(request_id = %env.request_id, %reason, "queue rejected the message");
                Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "rejected",
                    "the queue refused this event",
                ))
            }
            Err(e) => {
                tracing::error!(request_id = %env.request_id, error = %e, "queue unavailable");
                Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "queue_unavailable",
                    "the queue is unavailable; keep the event and retry",
                ))
            }
        }
    }

    /// An authenticated but invalid request: its audit record is enqueued
    /// (INVALID, with the reasons) before the 4xx goes back. If the queue is
    /// down the 4xx is still the answer: the client must not resend it.
    async fn refuse(&self, e: ApiError, request_id: Option<RequestId>, body: Bytes) -> ApiError {
        let request_id = request_id.unwrap_or_else(RequestId::new_v7);
        let kept = &body[..body
            .len()
            .min(if e.status == StatusCode::PAYLOAD_TOO_LARGE {
                KEEP_OF_REFUSED
            } else {
                body.len()
            })];
        let payload = match serde_json::from_slice::<Value>(kept) {
            Ok(v) if e.status != StatusCode::PAYLOAD_TOO_LARGE => Payload::Json(v),
            _ => Payload::Text(String::from_utf8_lossy(kept).into_owned()),
        };
        let mut reasons = e.errors.clone();
        if reasons.is_empty() {
            reasons.push(FieldError::new(
                e.field.as_deref().unwrap_or("$"),
                e.code,
                e.message.clone(),
            ));
        }
        let event_type = match &payload {
            Payload::Json(v) => v
                .get("hook_event_name")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .chars()
                .take(64)
                .collect(),
            _ => "unknown".to_owned(),
        };
        let msg = self.envelope(request_id.clone(), payload, Some(ValidationErrors(reasons)));
        if let Err(q) = self.enqueue(msg, &event_type).await {
            tracing::warn!(request_id = %request_id, error = %q.message, "could not enqueue the INVALID audit record");
        }
        tracing::info!(request_id = %request_id, code = e.code, status = e.status.as_u16(), field = e.field.as_deref().unwrap_or("-"), principal = %self.principal, "request refused");
        e
    }
}
