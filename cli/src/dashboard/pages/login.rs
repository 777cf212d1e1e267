//! The login form (also the page after a refused token).

use axum::extract::Query;
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;

/// The login form (also the page after a refused token).
pub fn login_page(error: Option<&str>, next: Option<&str>) -> Markup {
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
                    p { "Paste an ingest token (a token of " code { "HOOKLINE_TOKENS" } " or of the data dir's " code { "tokens" } " file)." }
                    @if let Some(e) = error { p.error { (e) } }
                    form method="post" action="/ui/login" {
                        input type="password" name="token" autocomplete="off" required placeholder="hl_…" autofocus;
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
}

pub async fn login_form(Query(q): Query<LoginQuery>) -> Markup {
    login_page(None, q.next.as_deref())
}
