//! Dashboard sessions on both stores: what is stored is read back as it
//! was (the grant, the CSRF token, how it signed in), an expired session is
//! not found, a deleted one is gone, and the purge takes only the expired.

use chrono::{Duration, Utc};
use hookline_conformance::db::TestDb;
use hookline_core::http::{AllowedUsers, Grant, Role, hash_hex};
use hookline_core::store::{DashboardLogin, LoginVia};

on_both!(a_stored_login_is_found_until_it_expires_or_is_deleted);

fn login(user: &str, role: Role, expires_in: Duration) -> DashboardLogin {
    let now = Utc::now();
    DashboardLogin {
        grant: Grant {
            principal: user.into(),
            users: match role {
                Role::Admin => AllowedUsers::Any,
                Role::Member => AllowedUsers::Only(vec![user.into(), "o'brien \"x\"".into()]),
            },
            role,
        },
        csrf: format!("csrf-of-{user}"),
        via: LoginVia::Oidc,
        created_at: now,
        expires_at: now + expires_in,
    }
}

async fn a_stored_login_is_found_until_it_expires_or_is_deleted(db: TestDb) -> anyhow::Result<()> {
    let store = db.logins();
    let (alice, root, old) = (
        hash_hex("alice-cookie"),
        hash_hex("root-cookie"),
        hash_hex("old"),
    );
    let a = login("alice", Role::Member, Duration::hours(12));
    store.insert_login(&alice, &a).await?;
    store
        .insert_login(&root, &login("root", Role::Admin, Duration::hours(1)))
        .await?;
    store
        .insert_login(&old, &login("old", Role::Admin, Duration::seconds(-5)))
        .await?;

    let found = store.find_login(&alice, Utc::now()).await?;
    let found = found.ok_or_else(|| anyhow::anyhow!("alice's session not found"))?;
    assert_eq!(
        (&found.grant, &found.csrf, found.via),
        (&a.grant, &a.csrf, a.via)
    );
    assert!((found.expires_at - a.expires_at).num_milliseconds().abs() < 1);
    let root_found = store.find_login(&root, Utc::now()).await?;
    assert_eq!(root_found.map(|l| l.grant.users), Some(AllowedUsers::Any));
    assert!(
        store.find_login(&old, Utc::now()).await?.is_none(),
        "an expired session is refused"
    );
    assert!(
        store
            .find_login(&root, Utc::now() + Duration::hours(2))
            .await?
            .is_none(),
        "a session is refused once its expiry passed"
    );

    assert_eq!(
        store.purge_logins(Utc::now()).await?,
        1,
        "only the expired one is purged"
    );
    assert!(store.delete_login(&alice).await?);
    assert!(!store.delete_login(&alice).await?, "deleted once");
    assert!(store.find_login(&alice, Utc::now()).await?.is_none());
    assert!(
        store.find_login(&root, Utc::now()).await?.is_some(),
        "others stay"
    );
    Ok(())
}
