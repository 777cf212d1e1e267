//! A session's downloads: `/ui/sessions/{id}/export?format=md|html|jsonl`
//! (`&thread=1` for its whole thread), the same renderings as
//! `hookline sessions export` ([`crate::export`]).

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::dashboard::scope::Viewed;
use crate::dashboard::views::{error_page, internal};
use crate::dashboard::{Access, AppState};
use crate::export::{self, ExportError, Format, Loader, Pricing};

#[derive(serde::Deserialize)]
pub struct Params {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    thread: Option<String>,
}

pub async fn export(
    State(st): State<AppState>,
    Extension(acc): Extension<Access>,
    Extension(v): Extension<Viewed>,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> Response {
    let asked = q.format.as_deref().unwrap_or("md");
    let Ok(format) = <Format as clap::ValueEnum>::from_str(asked, false) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            &acc,
            &format!("Unknown format {asked:?}: md, html or jsonl."),
        );
    };
    let thread = q.thread.as_deref().is_some_and(|t| t == "1" || t == "true");
    let pricing = match (st.usage.as_ref(), v.usage.as_ref()) {
        (Some(u), Some(store)) => match Pricing::load(store.as_ref(), u.overrides.clone()).await {
            Ok(p) => Some(p),
            Err(e) => return internal(&acc, e),
        },
        _ => None,
    };
    // Another user's session is unknown to a member's reader: 404.
    let loader = Loader {
        reader: v.reader.as_ref(),
        pricing,
        format,
    };
    let parts = match load(&loader, &id, thread).await {
        Ok(p) => p,
        Err(e @ (ExportError::UnknownSession(_) | ExportError::AmbiguousPrefix(_))) => {
            return error_page(StatusCode::NOT_FOUND, &acc, &e.to_string());
        }
        Err(e) => return internal(&acc, e),
    };
    let body = export::render(format, &parts);
    let mut res = ([(header::CONTENT_TYPE, format.content_type())], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        export::file_name(format, &parts)
    )) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

async fn load(
    loader: &Loader<'_>,
    id: &str,
    thread: bool,
) -> Result<Vec<export::Part>, ExportError> {
    let mut parts = Vec::new();
    for (sid, link) in loader.sessions_of(id, thread).await? {
        parts.push(loader.part(&sid, link).await?);
    }
    Ok(parts)
}
