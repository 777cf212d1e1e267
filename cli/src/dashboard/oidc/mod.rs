//! Sign-in with an OpenID Connect provider: authorization code with PKCE.
//!
//! - `GET /ui/oidc/start?next=…` makes a state, a nonce and a PKCE
//!   verifier, keeps them here (in memory, 10 minutes, one use) under a
//!   random flow id set in the `hookline_oidc` cookie (`HttpOnly`,
//!   `SameSite=Lax` so that the provider's redirect back brings it), and
//!   redirects to the provider.
//! - `GET /ui/oidc/callback?code=…&state=…` takes the flow of that cookie,
//!   checks the state, exchanges the code with the verifier, verifies the
//!   ID token ([`provider`]), maps the user claim to the user and the admin
//!   group to the admin role, and opens a dashboard session
//!   ([`super::session`]). The session cookie is `SameSite=Strict`, which a
//!   browser does not send on a redirect chain that started at the
//!   provider: the answer is a page that moves on by itself (a same-site
//!   navigation) instead of a redirect.
//!
//! Every failure (provider down, state mismatch, a refused token, a
//! missing claim) is a page saying what happened, with a way back.

pub mod provider;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use hookline_core::error::StoreError;
use hookline_core::http::{AllowedUsers, Grant, Role};
use hookline_core::store::LoginVia;
use maud::{DOCTYPE, Markup, html};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::{AppState, cookie, random_hex, session, views};
use crate::config::OidcSettings;
pub use provider::Provider;

/// The cookie of a sign-in in progress.
pub const FLOW_COOKIE: &str = "hookline_oidc";
/// How long a sign-in may take at the provider.
pub const FLOW_TTL: Duration = Duration::from_secs(600);
/// Sign-ins in progress at most (older ones are dropped first).
const MAX_FLOWS: usize = 10_000;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a sign-in failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OidcError {
    #[error("the identity provider cannot be reached or answered wrongly")]
    Unavailable(#[source] BoxError),
    #[error("this sign-in expired or was started in another browser; start again")]
    NoFlow,
    #[error("the answer's state does not match this sign-in (a forged or replayed answer)")]
    StateMismatch,
    #[error("the identity provider refused the sign-in: {0}")]
    Refused(String),
    #[error("the answer carries no authorization code")]
    NoCode,
    #[error("the identity provider did not accept the authorization code")]
    Exchange(#[source] BoxError),
    #[error("the identity provider answered without an ID token")]
    NoIdToken,
    #[error("the ID token is not valid")]
    IdToken(#[source] BoxError),
    #[error("the userinfo endpoint failed")]
    UserInfo(#[source] BoxError),
    #[error("the identity provider gave none of the claims {0} (HOOKLINE_OIDC_USER_CLAIM)")]
    MissingClaim(String),
    #[error(
        "the user name {0:?} cannot be used (empty, over 256 characters or control characters)"
    )]
    BadUser(String),
    #[error("the dashboard sessions cannot be stored")]
    Store(#[from] StoreError),
}

impl OidcError {
    fn status(&self) -> StatusCode {
        match self {
            OidcError::Unavailable(_) | OidcError::UserInfo(_) | OidcError::Store(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            OidcError::Exchange(_) | OidcError::NoIdToken => StatusCode::BAD_GATEWAY,
            OidcError::Refused(_) | OidcError::MissingClaim(_) | OidcError::BadUser(_) => {
                StatusCode::FORBIDDEN
            }
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for OidcError {
    fn into_response(self) -> Response {
        // Logged once, here, with its causes; the page shows the summary.
        tracing::warn!(error = %views::error_chain(&self), "OpenID Connect sign-in failed");
        let body = html! {
            (DOCTYPE)
            html lang="en" {
                head { meta charset="utf-8"; title { "Sign-in failed · hookline" } link rel="stylesheet" href="/ui/static/app.css"; }
                body { main.login {
                    h1 { "Sign-in failed" }
                    p.error #oidc-error { (self.to_string()) }
                    p { a href="/ui/login" { "Back to the login page" } }
                } }
            }
        };
        (self.status(), body).into_response()
    }
}

struct Flow {
    state: String,
    nonce: String,
    verifier: String,
    next: String,
    at: Instant,
}

/// The OpenID Connect sign-in: the provider and the sign-ins in progress.
pub struct Oidc {
    provider: Provider,
    flows: Mutex<HashMap<String, Flow>>,
}

impl Oidc {
    pub fn new(settings: OidcSettings) -> Result<Self, OidcError> {
        Ok(Oidc {
            provider: Provider::new(settings)?,
            flows: Mutex::new(HashMap::new()),
        })
    }

    /// A link that also signs out at the provider, when it has one.
    pub async fn end_session(&self) -> Option<url::Url> {
        self.provider.end_session().await
    }

    fn keep(&self, id: String, flow: Flow) {
        if let Ok(mut m) = self.flows.lock() {
            m.retain(|_, f| f.at.elapsed() < FLOW_TTL);
            if m.len() >= MAX_FLOWS
                && let Some(oldest) = m.iter().min_by_key(|(_, f)| f.at).map(|(k, _)| k.clone())
            {
                m.remove(&oldest);
            }
            m.insert(id, flow);
        }
    }

    fn take(&self, id: &str) -> Option<Flow> {
        let mut m = self.flows.lock().ok()?;
        m.remove(id).filter(|f| f.at.elapsed() < FLOW_TTL)
    }

    /// The grant of a verified sign-in's claims.
    pub fn grant(&self, claims: &Map<String, Value>) -> Result<Grant, OidcError> {
        let s = &self.provider.settings;
        let user = s
            .user_claims
            .iter()
            .find_map(|c| claims.get(c).and_then(Value::as_str))
            .ok_or_else(|| OidcError::MissingClaim(s.user_claims.join(", ")))?;
        if user.trim().is_empty()
            || user.chars().count() > 256
            || user.chars().any(char::is_control)
        {
            return Err(OidcError::BadUser(user.to_owned()));
        }
        let admin = s
            .admin_group
            .as_deref()
            .is_some_and(|g| match claims.get(&s.groups_claim) {
                Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(g)),
                Some(Value::String(one)) => one == g,
                _ => false,
            });
        Ok(Grant {
            principal: user.to_owned(),
            users: AllowedUsers::Only(vec![user.to_owned()]),
            role: if admin { Role::Admin } else { Role::Member },
        })
    }
}

#[derive(serde::Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

/// `GET /ui/oidc/start`: off to the provider.
pub async fn start(State(st): State<AppState>, Query(q): Query<StartQuery>) -> Response {
    let Some(oidc) = st.cfg.sign_in.oidc.as_ref() else {
        return Redirect::to("/ui/login").into_response();
    };
    let started = match oidc.provider.start().await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let id = random_hex();
    oidc.keep(
        id.clone(),
        Flow {
            state: started.state,
            nonce: started.nonce,
            verifier: started.verifier,
            next: super::safe_next(q.next),
            at: Instant::now(),
        },
    );
    let mut res = Redirect::to(started.url.as_str()).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{FLOW_COOKIE}={id}; Path=/ui/oidc; Max-Age={}; Secure; HttpOnly; SameSite=Lax",
        FLOW_TTL.as_secs()
    )) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

#[derive(serde::Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /ui/oidc/callback`: the provider's answer.
pub async fn callback(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    match finish(&st, &headers, q).await {
        Ok(res) => res,
        Err(e) => {
            let mut res = e.into_response();
            res.headers_mut().insert(header::SET_COOKIE, clear_flow());
            res
        }
    }
}

async fn finish(
    st: &AppState,
    headers: &HeaderMap,
    q: CallbackQuery,
) -> Result<Response, OidcError> {
    let oidc = st.cfg.sign_in.oidc.as_ref().ok_or(OidcError::NoFlow)?;
    let flow = cookie(headers, FLOW_COOKIE)
        .and_then(|id| oidc.take(id))
        .ok_or(OidcError::NoFlow)?;
    let state = q.state.unwrap_or_default();
    if !bool::from(state.as_bytes().ct_eq(flow.state.as_bytes())) {
        return Err(OidcError::StateMismatch);
    }
    if let Some(e) = q.error {
        return Err(OidcError::Refused(match q.error_description {
            Some(d) => format!("{e} ({d})"),
            None => e,
        }));
    }
    let code = q.code.filter(|c| !c.is_empty()).ok_or(OidcError::NoCode)?;
    let s = &oidc.provider.settings;
    // Ask userinfo only for what the ID token lacks and the grant needs:
    // the first user claim, the groups when there is an admin group.
    let mut wanted: Vec<&str> = s.user_claims.iter().take(1).map(String::as_str).collect();
    if s.admin_group.is_some() {
        wanted.push(s.groups_claim.as_str());
    }
    let claims = oidc
        .provider
        .finish(code, flow.verifier, &flow.nonce, &wanted)
        .await?;
    let grant = oidc.grant(&claims)?;
    let opened = st.cfg.sign_in.sessions.open(&grant, LoginVia::Oidc).await?;
    tracing::info!(principal = %grant.principal, role = %grant.role, "dashboard sign-in (OpenID Connect)");
    let mut res = (StatusCode::OK, signed_in(&grant, &flow.next)).into_response();
    let h = res.headers_mut();
    if let Some(v) = session::set_cookie(&opened) {
        h.append(header::SET_COOKIE, v);
    }
    h.append(header::SET_COOKIE, clear_flow());
    Ok(res)
}

fn clear_flow() -> HeaderValue {
    HeaderValue::from_static(
        "hookline_oidc=; Path=/ui/oidc; Max-Age=0; Secure; HttpOnly; SameSite=Lax",
    )
}

/// The page after a sign-in: it moves on to `next` by itself.
fn signed_in(grant: &Grant, next: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="refresh" content={ "0;url=" (next) };
                title { "Signed in · hookline" }
                link rel="stylesheet" href="/ui/static/app.css";
            }
            body { main.login {
                h1 { "Signed in" }
                p { "Signed in as " strong #signed-in-user { (grant.principal) } " (" (grant.role) ")." }
                p { a #continue href=(next) { "Continue" } }
            } }
        }
    }
}
