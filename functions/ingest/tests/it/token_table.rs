//! The Lambda ingest with `DATABASE_URL`: configured as the function is
//! (`IngestConfig::from_vars`, no `HOOKLINE_TOKENS` needed), it accepts the
//! token table's tokens (Postgres, as on AWS) beside the configured ones,
//! each for its own user only, and refuses revoked and expired ones.

use std::sync::Arc;

use axum::http::StatusCode;
use chrono::Utc;
use hookline_core::config::IngestConfig;
use hookline_core::http::{Role, hash_hex};
use hookline_core::tokens::{self, NewToken};
use hookline_store_postgres::PgStore;
use hookline_test_support::db::PgDatabase;

use crate::TestQueue;
use crate::identity::{event, post};

#[tokio::test]
async fn the_ingest_with_a_database_accepts_table_tokens_for_their_user_only() -> anyhow::Result<()>
{
    let db = PgDatabase::create().await?;
    let result = async {
        let q = TestQueue::embedded().await?;
        let url = db.url();
        let env = format!("ci:{}", hash_hex("hl_env_ci"));
        let vars = |k: &str| match k {
            "DATABASE_URL" => Some(url.clone()),
            "HOOKLINE_QUEUE_URL" => Some("http://unused".to_owned()),
            "HOOKLINE_TOKENS" => Some(env.clone()),
            _ => None,
        };
        let cfg = IngestConfig::from_vars(&vars)?;
        assert!(cfg.database_url.is_some());
        let store = Arc::new(PgStore::new(db.pool.clone()));
        let st = cfg.state(
            q.queue(),
            Some(store.clone() as Arc<dyn hookline_core::config::IngestDb>),
        );

        let new = |user: &str, expires_at| NewToken {
            user: user.into(),
            role: Role::Member,
            expires_at,
            label: None,
        };
        tokens::issue(
            store.as_ref(),
            store.as_ref(),
            "cli:t",
            &new("alice", None),
            "hl_alice",
        )
        .await?;
        let soon = Some(Utc::now() + chrono::Duration::milliseconds(300));
        tokens::issue(
            store.as_ref(),
            store.as_ref(),
            "cli:t",
            &new("bob", soon),
            "hl_bob",
        )
        .await?;
        let gone = tokens::issue(
            store.as_ref(),
            store.as_ref(),
            "cli:t",
            &new("carol", None),
            "hl_carol",
        )
        .await?;
        tokens::revoke(store.as_ref(), store.as_ref(), "cli:t", &gone.id).await?;

        assert_eq!(
            post(&st, "hl_alice", &event(Some("alice"))).await?.0,
            StatusCode::ACCEPTED
        );
        let (s, body) = post(&st, "hl_alice", &event(Some("bob"))).await?;
        assert_eq!(
            (s, body["error"]["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden_user"))
        );
        assert_eq!(
            post(&st, "hl_carol", &event(Some("carol"))).await?.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            post(&st, "hl_env_ci", &event(Some("dave"))).await?.0,
            StatusCode::ACCEPTED,
            "the environment token"
        );
        assert_eq!(
            post(&st, "hl_bob", &event(Some("bob"))).await?.0,
            StatusCode::ACCEPTED
        );
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        assert_eq!(
            post(&st, "hl_bob", &event(Some("bob"))).await?.0,
            StatusCode::UNAUTHORIZED,
            "expired: refused at once, cached or not"
        );
        let principals: Vec<String> = q
            .drain()
            .await?
            .iter()
            .filter_map(|m| {
                let msg = hookline_core::envelope::QueueMessage::decode(&m.body).ok()?;
                msg.envelope().principal.clone()
            })
            .collect();
        assert!(
            principals.iter().filter(|p| *p == "alice").count() == 2,
            "{principals:?}"
        );
        assert!(principals.contains(&"bob".to_owned()) && principals.contains(&"ci".to_owned()));
        anyhow::Ok(())
    }
    .await;
    db.drop_database().await?;
    result
}
