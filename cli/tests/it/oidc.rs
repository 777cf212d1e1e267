//! Sign-in with OpenID Connect against a real provider (the certified npm
//! `oidc-provider`, tests/oidc-provider): the authorization code flow with
//! PKCE walked with reqwest as a browser would (cookies per host, each
//! redirect followed), `hookline serve` in this process on SQLite with
//! `--loopback-login`. What a user sees (pages, statuses) and what the
//! store keeps (the session's user and role).

use chrono::Utc;
use hookline_cli::cmd::serve;
use hookline_cli::config::{Role as Opener, SignInArgs, StoreArgs};
use hookline_core::http::{AllowedUsers, Role, hash_hex};
use hookline_core::store::{DashboardLogin, LoginVia};
use hookline_test_support::oidc::{Browser, CLIENT_SECRET, Page, Provider};
use hookline_test_support::serve::InProcess;
use reqwest::StatusCode;

struct Env {
    addr: String,
    callback: String,
    dir: tempfile::TempDir,
    server: InProcess,
    _provider: Option<Provider>,
}

/// serve configured for the provider (`None`: not installed, skipped);
/// `issuer` overrides the provider's (a provider that is down).
async fn start(
    client: &str,
    secret: Option<&str>,
    issuer: Option<&str>,
) -> anyhow::Result<Option<Env>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = format!("http://{}", listener.local_addr()?);
    let callback = format!("{addr}/ui/oidc/callback");
    let provider = match issuer {
        Some(_) => None,
        None => match Provider::start(&[&callback])? {
            Some(p) => Some(p),
            None => return Ok(None),
        },
    };
    let dir = tempfile::tempdir()?;
    let mut opts = crate::serve::in_process_opts(dir.path(), "");
    opts.sign_in = SignInArgs {
        oidc_issuer: Some(issuer.map_or_else(
            || {
                provider
                    .as_ref()
                    .map(|p| p.issuer.clone())
                    .unwrap_or_default()
            },
            str::to_owned,
        )),
        oidc_client_id: Some(client.into()),
        oidc_client_secret: secret.map(str::to_owned),
        oidc_redirect_url: Some(callback.clone()),
        oidc_admin_group: Some("hookline-admins".into()),
        oidc_scopes: "openid profile email groups".into(),
        loopback_login: true,
        ..SignInArgs::default()
    };
    let server = InProcess::start_on(listener, |l, s| serve::run(opts, l, s))?;
    Ok(Some(Env {
        addr,
        callback,
        dir,
        server,
        _provider: provider,
    }))
}

/// From /ui/oidc/start through the provider's login form to the URL of
/// the answer (the callback with code and state), not visited.
async fn to_callback(
    b: &mut Browser,
    env: &Env,
    login: &str,
    password: &str,
) -> anyhow::Result<Page> {
    let form = b
        .follow(
            &format!("{}/ui/oidc/start?next=/ui/sessions", env.addr),
            Some(&env.callback),
        )
        .await?;
    assert_eq!(
        form.status,
        StatusCode::OK,
        "the provider's login form: {}",
        form.body
    );
    assert!(
        form.url.path().starts_with("/interaction/"),
        "at {}",
        form.url
    );
    let login_url = format!("{}/login", form.url.as_str().trim_end_matches('/'));
    let answer = b
        .submit(
            &login_url,
            &[("login", login), ("password", password)],
            Some(&env.callback),
        )
        .await?;
    assert!(
        answer.url.as_str().starts_with(&env.callback),
        "back at {}: {}",
        answer.url,
        answer.body
    );
    Ok(answer)
}

/// The whole sign-in: the signed-in page and the stored session.
async fn sign_in(
    b: &mut Browser,
    env: &Env,
    login: &str,
    password: &str,
) -> anyhow::Result<(Page, DashboardLogin)> {
    let answer = to_callback(b, env, login, password).await?;
    let page = b.follow(answer.url.as_str(), None).await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let cookie = b
        .cookie(&env.addr, "hookline_ui")
        .ok_or_else(|| anyhow::anyhow!("no session cookie after the callback"))?;
    let stores = StoreArgs {
        data_dir: Some(env.dir.path().to_owned()),
        database_url: None,
    }
    .open(Opener::Operator)
    .await?;
    let row = stores
        .logins
        .find_login(&hash_hex(&cookie), Utc::now())
        .await?;
    Ok((
        page,
        row.ok_or_else(|| anyhow::anyhow!("no stored session for the cookie"))?,
    ))
}

#[tokio::test]
async fn signing_in_as_alice_opens_a_member_session_of_alice() -> anyhow::Result<()> {
    let Some(env) = start("hookline", Some(CLIENT_SECRET), None).await? else {
        return Ok(());
    };
    let mut b = Browser::new()?;
    let login = b.follow(&format!("{}/ui/sessions", env.addr), None).await?;
    assert!(
        login.url.path() == "/ui/login" && login.body.contains("Sign in with SSO"),
        "{}",
        login.body
    );

    let (page, row) = sign_in(&mut b, &env, "alice", "alice-pw").await?;
    assert!(
        page.body.contains("alice</strong> (member)"),
        "{}",
        page.body
    );
    assert_eq!(row.via, LoginVia::Oidc);
    assert_eq!(row.grant.principal, "alice");
    assert_eq!(row.grant.users, AllowedUsers::Only(vec!["alice".into()]));
    assert_eq!(row.grant.role, Role::Member);

    let sessions = b.follow(&format!("{}/ui/sessions", env.addr), None).await?;
    assert_eq!(
        (sessions.url.path(), sessions.status),
        ("/ui/sessions", StatusCode::OK)
    );
    assert!(
        sessions.body.contains("<span class=\"who\">alice"),
        "the header names alice"
    );
    env.server.stop().await
}

#[tokio::test]
async fn the_admin_group_signs_in_as_admin_and_email_stands_in_for_a_missing_username()
-> anyhow::Result<()> {
    // The public client: PKCE alone, no secret.
    let Some(env) = start("hookline-public", None, None).await? else {
        return Ok(());
    };
    let (page, carol) = sign_in(&mut Browser::new()?, &env, "carol", "carol-pw").await?;
    assert!(
        page.body.contains("carol</strong> (admin)"),
        "{}",
        page.body
    );
    assert_eq!(carol.grant.role, Role::Admin);
    let (_, dave) = sign_in(&mut Browser::new()?, &env, "dave", "dave-pw").await?;
    assert_eq!(dave.grant.principal, "dave@example.test");
    assert_eq!(dave.grant.role, Role::Member);
    env.server.stop().await
}

#[tokio::test]
async fn a_forged_state_is_refused_and_a_provider_down_is_said() -> anyhow::Result<()> {
    let Some(env) = start("hookline", Some(CLIENT_SECRET), None).await? else {
        return Ok(());
    };
    let mut b = Browser::new()?;
    let answer = to_callback(&mut b, &env, "bob", "bob-pw").await?;
    let mut forged = answer.url.clone();
    let pairs: Vec<(String, String)> = answer
        .url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                "forged".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);
    let page = b.follow(forged.as_str(), None).await?;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("state does not match"), "{}", page.body);
    assert!(b.cookie(&env.addr, "hookline_ui").is_none(), "no session");
    // The flow is spent: the genuine answer no longer signs in either.
    let page = b.follow(answer.url.as_str(), None).await?;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body
            .contains("expired or was started in another browser"),
        "{}",
        page.body
    );
    env.server.stop().await?;

    // A provider that does not answer: a page that says so, no panic.
    let port = hookline_test_support::process::free_port()?;
    let Some(down) = start("hookline", None, Some(&format!("http://127.0.0.1:{port}"))).await?
    else {
        return Ok(());
    };
    let page = Browser::new()?
        .follow(&format!("{}/ui/oidc/start", down.addr), None)
        .await?;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.body.contains("cannot be reached"), "{}", page.body);
    down.server.stop().await
}
