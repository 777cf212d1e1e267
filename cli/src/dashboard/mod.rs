//! The web dashboard: sessions, failures with DLQ replay, live health and
//! logs, as server-rendered HTML (maud, which escapes every interpolated
//! value) with one small vanilla script for the live charts.
//!
//! Served under `/ui/` by `hookline serve` (on the ingest listener) and by
//! `hookline dashboard` (pointed at any hookline database and queue).
//!
//! # Access
//!
//! - A request from a loopback peer whose `Host` is a loopback name
//!   (`localhost`, `127.0.0.1`, `[::1]`) needs no login. The `Host` check
//!   keeps DNS rebinding and same-host reverse proxies out of that rule.
//!   `--loopback-login` (`HOOKLINE_LOOPBACK_LOGIN`) turns that rule off.
//! - Anything else logs in at `/ui/login` with an ingest token (the same
//!   hashed tokens) or, when an OpenID Connect provider is configured,
//!   signs in there ([`oidc`]); either is exchanged for a session cookie
//!   (`Secure`, `HttpOnly`, `SameSite=Strict`, 12 hours) whose session is
//!   kept in the store ([`session`]): it survives restarts, and logout
//!   revokes it.
//! - What a login reads is narrowed to its scope once per request
//!   ([`scope`]): a member sees its users' sessions, hits and spend only,
//!   and the operator pages answer it 403.
//! - Every POST that changes something (replay, logout) carries a CSRF
//!   token (per session; per process for loopback) and is refused when its
//!   `Origin` names another site.

pub mod oidc;
mod pages;
pub mod scope;
pub mod session;
mod views;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use hookline_core::http::{AllowedUsers, Authenticator, Role};
use hookline_core::ops::Ops;
use hookline_core::store::{LoginStore, LoginVia, Reader};
use subtle::ConstantTimeEq;

use crate::cmd::logs::Sources;
use hookline_core::ops::replay::Queues;

/// Name of the session cookie.
pub const COOKIE: &str = "hookline_ui";
/// How long a login lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

/// What the dashboard reads and acts on.
pub struct Config {
    pub reader: Arc<dyn Reader>,
    pub ops: Arc<dyn Ops>,
    /// The source queue and its DLQ, or why they are not available.
    pub queues: Result<Queues, String>,
    pub tokens: Arc<dyn Authenticator>,
    /// Log sources of the Logs and Trace pages; None: not configured.
    pub logs: Option<Sources>,
    /// What the pages say they are looking at (store, queue).
    pub description: String,
    /// How people sign in, and where their sessions are kept.
    pub sign_in: SignIn,
}

/// How people sign in to the dashboard.
pub struct SignIn {
    /// The dashboard sessions, in the store.
    pub sessions: session::Sessions,
    /// "Sign in with SSO" (absent: token login only).
    pub oidc: Option<oidc::Oidc>,
    /// Loopback requests sign in too (no loopback exception).
    pub loopback_login: bool,
}

impl SignIn {
    /// Token login only, sessions in `logins`.
    pub fn tokens(logins: Arc<dyn LoginStore>) -> SignIn {
        SignIn {
            sessions: session::Sessions::new(logins),
            oidc: None,
            loopback_login: false,
        }
    }

    /// As configured (`hookline serve`, `hookline dashboard`).
    pub fn configured(
        args: &crate::config::SignInArgs,
        logins: Arc<dyn LoginStore>,
    ) -> anyhow::Result<SignIn> {
        let oidc = match args.oidc()? {
            Some(settings) => Some(oidc::Oidc::new(settings)?),
            None => None,
        };
        Ok(SignIn {
            sessions: session::Sessions::new(logins),
            oidc,
            loopback_login: args.loopback_login,
        })
    }
}

/// What the Usage page and the session page's costs read: the store's
/// usage rollup and prices, and the deployment's price overrides.
pub struct Usage {
    pub store: Arc<dyn hookline_core::usage::UsageStore>,
    pub overrides: Vec<hookline_core::usage::Price>,
}

/// Shared state of the dashboard's handlers.
pub struct Dashboard {
    cfg: Config,
    usage: Option<Usage>,
    /// The Search page's engine (absent: no Search page).
    search: Option<Arc<dyn hookline_core::search::SearchStore>>,
    loopback_csrf: String,
}

pub type AppState = Arc<Dashboard>;

/// Who is asking: put in the request's extensions by the access check.
#[derive(Clone, Debug)]
pub struct Access {
    /// `loopback` or the token's principal.
    pub who: String,
    /// Whose sessions this login may read (every user's for an admin and
    /// for loopback).
    pub scope: AllowedUsers,
    pub role: Role,
    pub csrf: String,
    /// Logged in with a cookie (offers a logout button).
    pub cookie: bool,
}

/// 32 random bytes from the OS, hex.
pub fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    match std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
    {
        Ok(()) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        // Without a random source no secret can be made: a value no
        // submitted form can match (and no cookie ever equals).
        Err(_) => String::from("\u{0}unavailable"),
    }
}

impl Dashboard {
    pub fn new(cfg: Config) -> AppState {
        Self::build(cfg, None, None)
    }

    /// With the Usage page and costs on the session page.
    pub fn with_usage(cfg: Config, usage: Usage) -> AppState {
        Self::build(cfg, Some(usage), None)
    }

    /// With the Usage page and the Search page (what `serve` and
    /// `hookline dashboard` mount).
    pub fn with_all(
        cfg: Config,
        usage: Usage,
        search: Arc<dyn hookline_core::search::SearchStore>,
    ) -> AppState {
        Self::build(cfg, Some(usage), Some(search))
    }

    fn build(
        cfg: Config,
        usage: Option<Usage>,
        search: Option<Arc<dyn hookline_core::search::SearchStore>>,
    ) -> AppState {
        Arc::new(Dashboard {
            cfg,
            usage,
            search,
            loopback_csrf: random_hex(),
        })
    }
}

/// The dashboard's routes, all under `/ui`.
pub fn router(state: AppState) -> Router {
    // Operator pages: every user's raw events; admins only.
    let operator = Router::new()
        .route("/ui/failures", get(pages::failures::failures))
        .route("/ui/dlq/replay", post(pages::replay::replay))
        .route("/ui/health", get(pages::health::health))
        .route("/ui/api/health", get(pages::health::health_json))
        .route("/ui/logs", get(pages::logs::logs))
        .route("/ui/audit", get(pages::audit::audit))
        .route("/ui/trace/{id}", get(pages::trace::trace))
        .route_layer(middleware::from_fn(scope::admin_only));
    // The layer added last runs first: access, then the viewer's readers.
    let protected = Router::new()
        .route("/ui", get(|| async { Redirect::to("/ui/sessions") }))
        .route("/ui/", get(|| async { Redirect::to("/ui/sessions") }))
        .route("/ui/sessions", get(pages::sessions::sessions))
        .route("/ui/sessions/{id}", get(pages::session::session))
        .route("/ui/sessions/{id}/export", get(pages::export::export))
        .route("/ui/search", get(pages::search::search))
        .route("/ui/usage", get(pages::usage::usage))
        .route("/ui/logout", post(logout))
        .merge(operator)
        .route_layer(middleware::from_fn_with_state(state.clone(), scope::scoped))
        .route_layer(middleware::from_fn_with_state(state.clone(), access));
    Router::new()
        .route("/ui/login", get(pages::login::login_form).post(login))
        .route("/ui/oidc/start", get(oidc::start))
        .route("/ui/oidc/callback", get(oidc::callback))
        .route("/ui/static/app.js", get(script))
        .route("/ui/static/app.css", get(style))
        .merge(protected)
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("static/app.js"),
    )
        .into_response()
}

async fn style() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("static/app.css"),
    )
        .into_response()
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// The `Host` header without its port.
fn host_name(h: &HeaderMap) -> Option<&str> {
    let host = h.get(header::HOST)?.to_str().ok()?;
    Some(if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    })
}

/// A loopback peer asking for a loopback host name.
pub fn is_local(peer: Option<SocketAddr>, h: &HeaderMap) -> bool {
    peer.is_some_and(|p| p.ip().is_loopback())
        && host_name(h).is_some_and(|n| {
            n.eq_ignore_ascii_case("localhost")
                || n.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        })
}

/// `next` when it is a dashboard path (no open redirect), else the
/// sessions page.
fn safe_next(next: Option<String>) -> String {
    next.filter(|n| n.starts_with("/ui/") && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or_else(|| "/ui/sessions".into())
}

fn cookie<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn peer(req: &Request) -> Option<SocketAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

async fn access(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let found = if !st.cfg.sign_in.loopback_login && is_local(peer(&req), req.headers()) {
        Some(Access {
            who: "loopback".into(),
            scope: AllowedUsers::Any,
            role: Role::Admin,
            csrf: st.loopback_csrf.clone(),
            cookie: false,
        })
    } else if let Some(id) = cookie(req.headers(), COOKIE) {
        match st.cfg.sign_in.sessions.find(id).await {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(error = %views::error_chain(&e), "cannot read dashboard sessions");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the dashboard sessions cannot be read (the store is unavailable); try again\n",
                )
                    .into_response();
            }
        }
    } else {
        None
    };
    let Some(acc) = found else {
        return if req.method() == axum::http::Method::GET
            && !req.uri().path().starts_with("/ui/api/")
        {
            let back = req.uri().path_and_query().map_or("/ui/", |p| p.as_str());
            Redirect::to(&format!("/ui/login?next={}", views::url_encode(back))).into_response()
        } else {
            (StatusCode::UNAUTHORIZED, "log in at /ui/login\n").into_response()
        };
    };
    if req.method() != axum::http::Method::GET && !same_origin(req.headers()) {
        return (StatusCode::FORBIDDEN, "cross-site request refused\n").into_response();
    }
    req.extensions_mut().insert(acc);
    next.run(req).await
}

/// No `Origin` (or `Sec-Fetch-Site`) naming another site.
fn same_origin(h: &HeaderMap) -> bool {
    if h.get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|s| s == "cross-site" || s == "same-site")
    {
        return false;
    }
    let Some(origin) = h.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|o| o.eq_ignore_ascii_case(host))
}

/// Whether a submitted CSRF token is the expected one.
pub fn csrf_ok(acc: &Access, submitted: Option<&str>) -> bool {
    submitted.is_some_and(|s| bool::from(s.as_bytes().ct_eq(acc.csrf.as_bytes())))
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    token: String,
    #[serde(default)]
    next: Option<String>,
}

async fn login(
    State(st): State<AppState>,
    headers: HeaderMap,
    axum::Form(f): axum::Form<LoginForm>,
) -> Response {
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "cross-site request refused\n").into_response();
    }
    let sso = st.cfg.sign_in.oidc.is_some();
    let Some(grant) = st.cfg.tokens.grant(f.token.trim()).await else {
        return (
            StatusCode::UNAUTHORIZED,
            pages::login::login_page(Some("That token is not accepted."), f.next.as_deref(), sso),
        )
            .into_response();
    };
    let opened = match st.cfg.sign_in.sessions.open(&grant, LoginVia::Token).await {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(error = %views::error_chain(&e), "cannot store a dashboard session");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                pages::login::login_page(
                    Some("The session cannot be stored (the store is unavailable); try again."),
                    f.next.as_deref(),
                    sso,
                ),
            )
                .into_response();
        }
    };
    let mut res = Redirect::to(&safe_next(f.next)).into_response();
    if let Some(v) = session::set_cookie(&opened) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: Option<String>,
}

async fn logout(
    State(st): State<AppState>,
    axum::Extension(acc): axum::Extension<Access>,
    headers: HeaderMap,
    axum::Form(f): axum::Form<CsrfForm>,
) -> Response {
    if !csrf_ok(&acc, f.csrf.as_deref()) {
        return (StatusCode::FORBIDDEN, "missing or wrong CSRF token\n").into_response();
    }
    if let Some(id) = cookie(&headers, COOKIE)
        && let Err(e) = st.cfg.sign_in.sessions.revoke(id).await
    {
        // Not revoked: say so rather than pretend (the cookie would still
        // work elsewhere).
        tracing::error!(error = %views::error_chain(&e), "cannot revoke a dashboard session");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the session could not be revoked (the store is unavailable); try again\n",
        )
            .into_response();
    }
    let mut res = Redirect::to("/ui/login?signed_out=1").into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, session::clear_cookie());
    res
}

/// A 404 for anything else (the `hookline dashboard` listener).
pub async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Body::from("not found; the dashboard is at /ui/\n"),
    )
        .into_response()
}
