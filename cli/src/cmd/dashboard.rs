//! `hookline dashboard`: the web dashboard on its own listener, pointed at
//! any hookline database and queue (Postgres + SQS for the AWS deployment,
//! or the data dir of a `hookline serve`). `hookline serve` serves the same
//! pages under `/ui/` on its ingest listener.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context;
use hookline_core::http::TokenSet;

use super::logs::Sources;
use crate::config::{Role, Target};
use crate::dashboard::{self, Config, Dashboard};

#[derive(Debug, clap::Args)]
pub struct Opts {
    /// Address to listen on. Anything but loopback needs configured tokens
    /// (logins from other hosts need a TLS proxy in front: the cookie is
    /// Secure).
    #[arg(
        long,
        env = "HOOKLINE_DASHBOARD_LISTEN",
        default_value = "127.0.0.1:8788"
    )]
    listen: SocketAddr,
    /// Accepted login tokens as name:sha256hex pairs (the ingest tokens);
    /// absent → the data dir's token file, if any. The token table's
    /// tokens (`hookline tokens`) are accepted too.
    #[arg(long, env = "HOOKLINE_TOKENS", hide_env_values = true)]
    tokens: Option<String>,
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    sources: Sources,
    #[command(flatten)]
    prices: crate::config::PriceArgs,
    #[command(flatten)]
    sign_in: crate::config::SignInArgs,
}

/// The configured tokens, else the data dir's `tokens` file, else none.
pub fn login_tokens(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<TokenSet> {
    if let Some(spec) = configured.filter(|s| !s.trim().is_empty()) {
        return Ok(TokenSet::parse(spec)?);
    }
    let file = data_dir.join("tokens");
    match std::fs::read_to_string(&file) {
        Ok(spec) => TokenSet::parse(&spec).with_context(|| format!("in {}", file.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TokenSet::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", file.display())),
    }
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    let data_dir = opts.target.store.data_dir()?;
    let configured = login_tokens(opts.tokens.as_deref(), &data_dir)?;
    let stores = opts.target.store.open(Role::Operator).await?;
    let sign_in = dashboard::SignIn::configured(&opts.sign_in, stores.logins.clone())?;
    let table = crate::tokens::table_has_tokens(stores.tokens.as_ref()).await?;
    anyhow::ensure!(
        opts.listen.ip().is_loopback() || !configured.is_empty() || table || sign_in.oidc.is_some(),
        "refusing to listen on {} without a way to log in: set HOOKLINE_TOKENS, create a token with `hookline tokens create`, or set HOOKLINE_OIDC_ISSUER",
        opts.listen
    );
    let tokens = crate::tokens::authenticator(
        configured,
        stores.tokens.clone(),
        hookline_core::tokens::DEFAULT_CACHE_TTL,
    );
    let usage = dashboard::Usage {
        store: stores.usage.clone(),
        overrides: opts.prices.overrides()?,
    };
    let (ops, reader, search) = (stores.ops, stores.reader, stores.search);
    let queues = opts.target.queues().await.map_err(|e| format!("{e:#}"));
    let description = match (&opts.target.store.database_url, &queues) {
        (Some(u), Ok(q)) if u.starts_with("postgres") => {
            format!("Postgres; queue {}", q.source.name())
        }
        (_, Ok(q)) => format!("store of {}; queue {}", data_dir.display(), q.source.name()),
        (_, Err(_)) => "queue not available".to_owned(),
    };
    let state = Dashboard::with_all(
        Config {
            reader,
            ops,
            queues,
            tokens,
            logs: Some(opts.sources.clone()),
            description,
            sign_in,
        },
        usage,
        search,
    );
    let app = dashboard::router(state).fallback(dashboard::not_found);
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .with_context(|| format!("cannot listen on {}", opts.listen))?;
    eprintln!("hookline dashboard: http://{}/ui/", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("HTTP server failed")
}
