//! The JSON error answer: `{"error": {"code", "message", "field"?}}`.
//! Never carries internals (those go to the log).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::store::owner::FORBIDDEN_SESSION;
use crate::validate::{FieldError, ValidationErrors};

#[derive(Debug, Clone, Serialize)]
struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Debug, Clone, Serialize)]
struct Detail<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    /// Every problem, when there are several.
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// Every field error (shown in the answer when there are several; all
    /// of them, with their own codes, go to the INVALID audit record).
    pub errors: Vec<FieldError>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            errors: Vec::new(),
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer token is required",
        )
    }

    /// 403: the token may not send events of this user (`hookline.user`).
    pub fn forbidden_user(
        principal: &str,
        allowed: &super::AllowedUsers,
        user: Option<&str>,
    ) -> Self {
        let stamped = match user {
            Some(u) => format!("this event is stamped with user {u:?}"),
            None => "this event has no user (hookline.user is missing)".to_owned(),
        };
        Self {
            field: Some("hookline.user".to_owned()),
            ..Self::new(
                StatusCode::FORBIDDEN,
                "forbidden_user",
                format!(
                    "the token of {principal:?} may send events of users {allowed} only; {stamped}"
                ),
            )
        }
    }

    /// 403: a member's event into another user's session (field
    /// `session_id`; docs/teams.md, "Roles").
    pub fn forbidden_session(session_id: &str, users: &[String]) -> Self {
        let e = crate::store::owner::forbidden_session(session_id, users);
        Self {
            field: Some(e.field.clone()),
            errors: vec![e.clone()],
            ..Self::new(StatusCode::FORBIDDEN, FORBIDDEN_SESSION, e.message)
        }
    }

    /// 400 naming the first bad field, with all of them in `errors`.
    pub fn invalid(errors: &ValidationErrors) -> Self {
        let first = errors.first();
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_event",
            message: first.map_or_else(|| "invalid event".to_owned(), ToString::to_string),
            field: first.map(|e| e.field.clone()),
            errors: errors.0.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Detail {
                code: self.code,
                message: &self.message,
                field: self.field.as_deref(),
                errors: if self.errors.len() > 1 {
                    &self.errors
                } else {
                    &[]
                },
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
