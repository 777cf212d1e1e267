//! The token table and its authenticator on both stores: a stored token
//! is found by its hash and grants its user alone; the cache keeps a row at
//! most its window, so a revocation and a role change are seen after it;
//! an expired row is refused at once; clashing ids or hashes are refused;
//! every change leaves an operator audit row; a revocation or a role
//! change ends the dashboard sessions its user signed in with a token.

use std::time::Duration;

use chrono::Utc;
use hookline_conformance::db::TestDb;
use hookline_core::http::{AllowedUsers, Authenticator, Grant, Role, TokenSet, hash_hex};
use hookline_core::ops::audit::{Action, OperationQuery};
use hookline_core::store::{DashboardLogin, LoginVia};
use hookline_core::tokens::{
    self, NewToken, StoreAuthenticator, StoredToken, TokenError, TokenStatus,
};

on_both!(
    a_revoked_token_is_refused_once_the_cache_window_passes,
    an_expired_token_is_refused_at_once,
    token_changes_are_in_the_operator_audit,
    a_revocation_or_role_change_ends_the_users_token_logins,
);

fn member(user: &str) -> NewToken {
    NewToken {
        user: user.into(),
        role: Role::Member,
        expires_at: None,
        label: Some("laptop".into()),
    }
}

async fn a_revoked_token_is_refused_once_the_cache_window_passes(db: TestDb) -> anyhow::Result<()> {
    let (store, ops) = (db.tokens(), db.ops());
    let t = tokens::issue(
        store.as_ref(),
        ops.as_ref(),
        "cli:t",
        &member("alice"),
        "hl_a",
    )
    .await?;
    let found = store.token_by_hash(&hash_hex("hl_a")).await?;
    assert_eq!(found.as_ref().map(|f| f.id.as_str()), Some(t.id.as_str()));
    assert_eq!(found.and_then(|f| f.label), Some("laptop".into()));

    let window = Duration::from_millis(500);
    let auth = StoreAuthenticator::with_ttl(TokenSet::default(), store.clone(), window);
    let g = auth.grant("hl_a").await;
    assert_eq!(g.as_ref().map(|g| g.principal.as_str()), Some("alice"));
    assert_eq!(
        g.as_ref().map(|g| g.users.clone()),
        Some(AllowedUsers::Only(vec!["alice".into()]))
    );
    assert_eq!(g.map(|g| g.role), Some(Role::Member));
    assert!(auth.grant("hl_b").await.is_none());
    assert!(auth.grant("").await.is_none());

    tokens::set_role(store.as_ref(), ops.as_ref(), "cli:t", &t.id, Role::Admin).await?;
    tokens::revoke(store.as_ref(), ops.as_ref(), "cli:t", &t.id).await?;
    assert!(
        auth.grant("hl_a").await.is_some(),
        "cached within the window"
    );
    tokio::time::sleep(window + Duration::from_millis(100)).await;
    assert!(
        auth.grant("hl_a").await.is_none(),
        "refused after the window"
    );
    let row = store.token(&t.id).await?;
    assert_eq!(
        row.as_ref().map(|r| r.status(Utc::now())),
        Some(TokenStatus::Revoked)
    );
    assert_eq!(row.map(|r| r.role), Some(Role::Admin));
    let again = tokens::set_role(store.as_ref(), ops.as_ref(), "cli:t", &t.id, Role::Member).await;
    assert!(matches!(again, Err(TokenError::Revoked(_))), "{again:?}");
    Ok(())
}

async fn an_expired_token_is_refused_at_once(db: TestDb) -> anyhow::Result<()> {
    let store = db.tokens();
    // Microseconds: what both stores keep.
    let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
    let row = StoredToken {
        id: tokens::new_id(),
        user_name: "bob".into(),
        role: Role::Admin,
        hash: hash_hex("hl_old"),
        label: None,
        created_at: now - chrono::Duration::days(2),
        created_by: "cli:t".into(),
        expires_at: Some(now - chrono::Duration::seconds(1)),
        revoked_at: None,
    };
    store.insert_token(&row).await?;
    let auth = StoreAuthenticator::new(TokenSet::default(), store.clone());
    assert!(auth.grant("hl_old").await.is_none());
    let listed = store.tokens().await?;
    assert_eq!(listed, vec![row.clone()], "times round-trip exactly");
    let clash = StoredToken {
        id: tokens::new_id(),
        ..row.clone()
    };
    assert!(
        store.insert_token(&clash).await.is_err(),
        "a hash is unique"
    );
    let past = NewToken {
        expires_at: Some(now),
        ..member("bob")
    };
    let e = tokens::issue(store.as_ref(), db.ops().as_ref(), "cli:t", &past, "hl_x").await;
    assert!(matches!(e, Err(TokenError::AlreadyExpired(_))), "{e:?}");
    Ok(())
}

async fn token_changes_are_in_the_operator_audit(db: TestDb) -> anyhow::Result<()> {
    let (store, ops) = (db.tokens(), db.ops());
    let t = tokens::issue(
        store.as_ref(),
        ops.as_ref(),
        "cli:ann@h",
        &member("carol"),
        "hl_c",
    )
    .await?;
    tokens::set_role(
        store.as_ref(),
        ops.as_ref(),
        "cli:ann@h",
        &t.id,
        Role::Admin,
    )
    .await?;
    tokens::revoke(store.as_ref(), ops.as_ref(), "erin", &t.id).await?;
    tokens::revoke(store.as_ref(), ops.as_ref(), "erin", &t.id).await?;
    let unknown = tokens::revoke(store.as_ref(), ops.as_ref(), "erin", "tok_ffffffffffff").await;
    assert!(matches!(unknown, Err(TokenError::UnknownId(_))));
    let bad = tokens::issue(store.as_ref(), ops.as_ref(), "x", &member("a b"), "hl_d").await;
    assert!(matches!(bad, Err(TokenError::BadUser(_))));

    let all = ops
        .operations(&OperationQuery {
            limit: 10,
            ..Default::default()
        })
        .await?;
    let seen: Vec<(&str, &str)> = all
        .iter()
        .map(|o| (o.actor.as_str(), o.action.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("erin", "token.revoke"),
            ("cli:ann@h", "token.role"),
            ("cli:ann@h", "token.create")
        ],
        "newest first; a second revoke changes and records nothing"
    );
    assert!(
        all.iter()
            .all(|o| o.target.as_deref() == Some(t.id.as_str()) && o.count == 1)
    );
    assert_eq!(all[1].detail["from"], "member");
    assert!(
        !serde_json::to_string(&all)?.contains(&hash_hex("hl_c")),
        "no hash in the audit"
    );
    let only = OperationQuery {
        action: Some(Action::TokenRole),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(ops.operations(&only).await?.len(), 1);
    let later = OperationQuery {
        since: Some(Utc::now() + chrono::Duration::minutes(1)),
        limit: 10,
        ..Default::default()
    };
    assert!(ops.operations(&later).await?.is_empty());
    Ok(())
}

/// A 12-hour dashboard session of `user`, signed in `via`.
fn login_of(user: &str, via: LoginVia) -> DashboardLogin {
    let now = Utc::now();
    DashboardLogin {
        grant: Grant {
            principal: user.into(),
            users: AllowedUsers::Only(vec![user.into()]),
            role: Role::Member,
        },
        csrf: format!("csrf-{user}"),
        via,
        created_at: now,
        expires_at: now + chrono::TimeDelta::hours(12),
    }
}

async fn a_revocation_or_role_change_ends_the_users_token_logins(db: TestDb) -> anyhow::Result<()> {
    let (store, ops, logins) = (db.tokens(), db.ops(), db.logins());
    let a = tokens::issue(
        store.as_ref(),
        ops.as_ref(),
        "cli:t",
        &member("alice"),
        "hl_a",
    )
    .await?;
    let b = tokens::issue(
        store.as_ref(),
        ops.as_ref(),
        "cli:t",
        &member("bob"),
        "hl_b",
    )
    .await?;
    let cookies = [
        (hash_hex("alice-token"), login_of("alice", LoginVia::Token)),
        (hash_hex("alice-sso"), login_of("alice", LoginVia::Oidc)),
        (hash_hex("bob-token"), login_of("bob", LoginVia::Token)),
    ];
    for (id, l) in &cookies {
        logins.insert_login(id, l).await?;
    }
    let alive = |id: &str| {
        let (logins, id) = (logins.clone(), id.to_owned());
        async move { Ok::<_, anyhow::Error>(logins.find_login(&id, Utc::now()).await?.is_some()) }
    };

    tokens::revoke(store.as_ref(), ops.as_ref(), "cli:t", &a.id).await?;
    assert!(!alive(&cookies[0].0).await?, "alice's token login ended");
    assert!(
        alive(&cookies[1].0).await?,
        "her SSO login is not the token's"
    );
    assert!(alive(&cookies[2].0).await?, "bob's is not alice's");

    tokens::set_role(store.as_ref(), ops.as_ref(), "cli:t", &b.id, Role::Admin).await?;
    assert!(
        !alive(&cookies[2].0).await?,
        "bob signs in again to get his new role"
    );
    Ok(())
}
