//! `hookline tokens`: per-person tokens in the database (`api_tokens`):
//! create (the token printed once, only its SHA-256 stored), list, revoke,
//! change a role. Every change is recorded in the operator audit. The
//! ingest, the read API and the dashboard login accept them (after the
//! configured `HOOKLINE_TOKENS`) and see a revocation within 30 seconds.
//! docs/teams.md, "Tokens".

use chrono::{DateTime, Utc};
use hookline_core::http::Role;
use hookline_core::tokens::{self, NewToken, StoredToken, TokenStatus};

use crate::config::{Role as Opening, StoreArgs, cli_actor};

#[derive(Debug, clap::Args)]
pub struct Opts {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Issue a token for one person. The token is printed once; only its
    /// SHA-256 is stored. Requests bearing it are USER's: they may send
    /// only events the hook stamped with USER, and read as the role allows.
    Create {
        /// Whose token: the user name the hook stamps on their events (their
        /// OS user, `$USER`); 1-64 letters, digits, - _ . @.
        #[arg(long)]
        user: String,
        /// member: only their own sessions; admin: every session and the
        /// operator pages (replay, purge, audit).
        #[arg(long, default_value = "member", value_parser = parse_role)]
        role: Role,
        /// Valid for this long (90d, 24h, 30m, 45s); absent: until revoked.
        #[arg(long, value_parser = parse_expires, value_name = "DURATION")]
        expires: Option<chrono::Duration>,
        /// What the token is for, shown by `list` (e.g. "alice laptop").
        #[arg(long)]
        label: Option<String>,
        /// The server's URL, to print the full `hookline-hook install`
        /// command (default: a placeholder).
        #[arg(long)]
        url: Option<String>,
        /// Print JSON (the token included, once) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The tokens (id, user, role, status, dates, label); never a hash.
    /// Only the accepted ones unless --all.
    List {
        /// Also the revoked and expired tokens.
        #[arg(long)]
        all: bool,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token: every server refuses it within 30 seconds.
    Revoke {
        /// The token's id (tok_…, from `list`).
        id: String,
    },
    /// Change a token's role (takes effect within 30 seconds).
    Role {
        /// The token's id (tok_…, from `list`).
        id: String,
        /// The new role: member or admin.
        #[arg(value_parser = parse_role)]
        role: Role,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("{s:?}: the role must be member or admin"))
}

fn parse_expires(s: &str) -> Result<chrono::Duration, String> {
    let d = hookline_core::ops::since::parse_duration(s)?;
    if d <= chrono::Duration::zero() {
        return Err(format!("{s:?}: the duration must be more than zero"));
    }
    Ok(d)
}

pub async fn run(opts: Opts) -> anyhow::Result<()> {
    let stores = opts.store.open(Opening::Operator).await?;
    let (store, audit) = (stores.tokens.as_ref(), stores.ops.as_ref());
    match opts.command {
        Command::Create {
            user,
            role,
            expires,
            label,
            url,
            json,
        } => {
            let secret = crate::tokens::generate()?;
            let req = NewToken {
                user,
                role,
                expires_at: expires.map(|d| Utc::now() + d),
                label,
            };
            let t = tokens::issue(store, audit, &cli_actor(), &req, &secret).await?;
            if json {
                let mut v = serde_json::to_value(&t)?;
                v["token"] = secret.into();
                println!("{}", serde_json::to_string_pretty(&v)?);
                return Ok(());
            }
            let url = url.unwrap_or_else(|| "https://YOUR-HOOKLINE-URL".into());
            println!(
                "created token {} for {} ({}, {})\n\nThe token, shown this once (only its SHA-256 is stored):\n\n    {secret}\n\n\
                 {} installs the hook with it:\n\n    hookline-hook install --url {url} --token {secret}\n\n\
                 (or sets HOOKLINE_TOKEN={secret} where Claude Code runs). Revoke it with\n`hookline tokens revoke {}`.",
                t.id,
                t.user_name,
                t.role,
                expiry(t.expires_at),
                t.user_name,
                t.id
            );
        }
        Command::List { all, json } => {
            let now = Utc::now();
            let list: Vec<StoredToken> = store
                .tokens()
                .await?
                .into_iter()
                .filter(|t| all || t.status(now) == TokenStatus::Active)
                .collect();
            if json {
                let rows: Vec<serde_json::Value> = list
                    .iter()
                    .map(|t| {
                        let mut v = serde_json::to_value(t).unwrap_or_default();
                        v["status"] = t.status(now).as_str().into();
                        v
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                print!("{}", table(&list, now));
                println!(
                    "{} token(s){}",
                    list.len(),
                    if all {
                        ""
                    } else {
                        " accepted (--all: also revoked and expired)"
                    }
                );
            }
        }
        Command::Revoke { id } => {
            let t = tokens::revoke(store, audit, &cli_actor(), &id).await?;
            println!(
                "revoked {} ({}) at {}; every server refuses it within 30 seconds",
                t.id,
                t.user_name,
                fmt(t.revoked_at)
            );
        }
        Command::Role { id, role } => {
            let t = tokens::set_role(store, audit, &cli_actor(), &id, role).await?;
            println!(
                "{} ({}) is now {}; in effect within 30 seconds",
                t.id, t.user_name, t.role
            );
        }
    }
    Ok(())
}

fn fmt(t: Option<DateTime<Utc>>) -> String {
    t.map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string())
}

fn expiry(t: Option<DateTime<Utc>>) -> String {
    match t {
        Some(t) => format!("expires {} UTC", t.format("%Y-%m-%d %H:%M:%S")),
        None => "valid until revoked".into(),
    }
}

fn table(list: &[StoredToken], now: DateTime<Utc>) -> String {
    let mut out = format!(
        "{:<16}  {:<20}  {:<6}  {:<7}  {:<19}  {:<19}  {}\n",
        "ID", "USER", "ROLE", "STATUS", "CREATED", "EXPIRES", "LABEL"
    );
    for t in list {
        out += &format!(
            "{:<16}  {:<20}  {:<6}  {:<7}  {:<19}  {:<19}  {}\n",
            t.id,
            t.user_name,
            t.role.as_str(),
            t.status(now).as_str(),
            fmt(Some(t.created_at)),
            fmt(t.expires_at),
            t.label.as_deref().unwrap_or("-")
        );
    }
    out
}
