//! Dashboard sessions kept in the store: a login survives a restart of
//! `hookline serve` on the same data, logout revokes the cookie at once, an
//! expired session is refused. Driven over HTTP against `serve::run` in
//! this process with `--loopback-login` (else loopback needs no login).

use chrono::{Duration, Utc};
use hookline_cli::cmd::serve;
use hookline_cli::config::{Role as Opener, StoreArgs};
use hookline_core::http::{AllowedUsers, Grant, Role, hash_hex};
use hookline_core::store::{DashboardLogin, LoginVia};
use hookline_test_support::oidc::Browser;
use hookline_test_support::serve::InProcess;
use reqwest::{Method, StatusCode};

const TOKEN: &str = "hl_sign_in_test_token";

async fn start(dir: &std::path::Path) -> anyhow::Result<InProcess> {
    let mut opts = crate::serve::in_process_opts(dir, &format!("tester:{}", hash_hex(TOKEN)));
    opts.sign_in.loopback_login = true;
    let server =
        InProcess::start(|listener, shutdown| serve::run(opts, listener, shutdown)).await?;
    // Up (and so migrated) before a test opens the same store itself.
    for _ in 0..100 {
        if reqwest::get(format!("{}/health", server.addr))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Ok(server)
}

/// The status of GET /ui/sessions with this browser's cookies, and where a
/// redirect points.
async fn sessions_page(
    b: &mut Browser,
    addr: &str,
) -> anyhow::Result<(StatusCode, Option<String>, String)> {
    let (page, location) = b
        .send(Method::GET, &format!("{addr}/ui/sessions"), None)
        .await?;
    Ok((page.status, location, page.body))
}

#[tokio::test]
async fn a_login_survives_a_restart_and_logout_revokes_the_cookie() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(dir.path()).await?;
    let addr = server.addr.clone();
    let mut b = Browser::new()?;

    let (status, location, _) = sessions_page(&mut b, &addr).await?;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "--loopback-login: no cookie, no page"
    );
    assert!(location.is_some_and(|l| l.contains("/ui/login")));
    let (page, _) = b
        .send(
            Method::POST,
            &format!("{addr}/ui/login"),
            Some(&[("token", TOKEN)]),
        )
        .await?;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let cookie = b
        .cookie(&addr, "hookline_ui")
        .ok_or_else(|| anyhow::anyhow!("no session cookie after the login"))?;
    assert_eq!(sessions_page(&mut b, &addr).await?.0, StatusCode::OK);

    // The same data, a new process: the cookie still works.
    server.stop().await?;
    let server = start(dir.path()).await?;
    let addr = server.addr.clone();
    b.set_cookie(&addr, "hookline_ui", Some(&cookie))?;
    let (status, _, body) = sessions_page(&mut b, &addr).await?;
    assert_eq!(status, StatusCode::OK, "the session survived the restart");
    assert!(body.contains("tester"), "the header names who is logged in");

    // Logout (with the page's CSRF token): the same cookie is refused.
    let csrf = body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .ok_or_else(|| anyhow::anyhow!("no CSRF token on the page"))?
        .to_owned();
    let (page, location) = b
        .send(
            Method::POST,
            &format!("{addr}/ui/logout"),
            Some(&[("csrf", csrf.as_str())]),
        )
        .await?;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(location.is_some_and(|l| l.contains("/ui/login?signed_out=1")));
    b.set_cookie(&addr, "hookline_ui", Some(&cookie))?;
    assert_eq!(
        sessions_page(&mut b, &addr).await?.0,
        StatusCode::SEE_OTHER,
        "revoked"
    );
    let out = b
        .follow(&format!("{addr}/ui/login?signed_out=1"), None)
        .await?;
    assert!(out.body.contains("You are signed out"));
    server.stop().await
}

#[tokio::test]
async fn an_expired_session_is_refused_and_a_live_one_accepted() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(dir.path()).await?;
    let addr = server.addr.clone();
    let stores = StoreArgs {
        data_dir: Some(dir.path().to_owned()),
        database_url: None,
    }
    .open(Opener::Operator)
    .await?;
    let row = |expires_in: Duration| DashboardLogin {
        grant: Grant {
            principal: "alice".into(),
            users: AllowedUsers::Only(vec!["alice".into()]),
            role: Role::Member,
        },
        csrf: "c".into(),
        via: LoginVia::Token,
        created_at: Utc::now() - Duration::hours(13),
        expires_at: Utc::now() + expires_in,
    };
    stores
        .logins
        .insert_login(&hash_hex("expired-cookie"), &row(Duration::minutes(-1)))
        .await?;
    stores
        .logins
        .insert_login(&hash_hex("live-cookie"), &row(Duration::minutes(5)))
        .await?;

    let mut b = Browser::new()?;
    b.set_cookie(&addr, "hookline_ui", Some("expired-cookie"))?;
    assert_eq!(
        sessions_page(&mut b, &addr).await?.0,
        StatusCode::SEE_OTHER,
        "expired"
    );
    b.set_cookie(&addr, "hookline_ui", Some("live-cookie"))?;
    let (status, _, body) = sessions_page(&mut b, &addr).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("alice"));
    // The store only knows the hash: the hash itself is no cookie.
    b.set_cookie(&addr, "hookline_ui", Some(&hash_hex("live-cookie")))?;
    assert_eq!(sessions_page(&mut b, &addr).await?.0, StatusCode::SEE_OTHER);
    server.stop().await
}
