//! The login page: "Sign in with SSO" when an OpenID Connect provider is
//! configured, and the token form (also the page after a refused token,
//! and after logout).

use axum::extract::{Query, State};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;

use crate::dashboard::{AppState, views};

/// The login page; `sso`: offer the OpenID Connect sign-in.
pub fn login_page(error: Option<&str>, next: Option<&str>, sso: bool) -> Markup {
    page(error, next, sso, None)
}

fn page(error: Option<&str>, next: Option<&str>, sso: bool, out: Option<Option<&str>>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Log in · hookline" }
                link rel="stylesheet" href="/ui/static/app.css";
            }
            body {
                main.login {
                    h1 { "hookline dashboard" }
                    @if let Some(provider) = out {
                        p #signed-out { "You are signed out of hookline." }
                        @if let Some(url) = provider {
                            p { a #provider-logout href=(url) { "Also sign out at your identity provider" } }
                        }
                    }
                    @if let Some(e) = error { p.error { (e) } }
                    @if sso {
                        p {
                            a.button #sso href={ "/ui/oidc/start" @if let Some(n) = next { "?next=" (views::url_encode(n)) } } {
                                "Sign in with SSO"
                            }
                        }
                        p { "or paste a token:" }
                    } @else {
                        p { "Paste an ingest token (a token of " code { "HOOKLINE_TOKENS" } " or of the data dir's " code { "tokens" } " file)." }
                    }
                    form method="post" action="/ui/login" {
                        input type="password" name="token" autocomplete="off" required placeholder="hl_…" autofocus[!sso];
                        @if let Some(n) = next { input type="hidden" name="next" value=(n); }
                        button type="submit" { "Log in" }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    /// Set by logout: say so, and offer the provider's logout.
    signed_out: Option<String>,
}

pub async fn login_form(State(st): State<AppState>, Query(q): Query<LoginQuery>) -> Markup {
    let oidc = st.cfg.sign_in.oidc.as_ref();
    let out = match (q.signed_out.is_some(), oidc) {
        (false, _) => None,
        (true, Some(o)) => Some(o.end_session().await.map(|u| u.to_string())),
        (true, None) => Some(None),
    };
    page(
        None,
        q.next.as_deref(),
        oidc.is_some(),
        out.as_ref().map(|o| o.as_deref()),
    )
}
