//! Tokens for `hookline serve`: `HOOKLINE_TOKENS` when given; otherwise the
//! data dir's `tokens` file (same `name:sha256hex` format, mode 0600),
//! created with a new token on first start on loopback (the token itself is
//! printed once and never stored); beyond loopback with none of these, the
//! token table must hold accepted tokens ([`or_table`]). After the
//! configured tokens, every check reads the token table ([`authenticator`]).

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hookline_core::http::{Authenticator, TokenSet, hash_hex};
use hookline_core::text::shell_word;
use hookline_core::tokens::{StoreAuthenticator, TokenStatus, TokenStore};

/// What serve, the dashboard and the read API check a token with: the
/// configured ones, then the token table of `store`, a row trusted for
/// `cache` (a revocation is seen within it).
pub fn authenticator(
    configured: TokenSet,
    store: Arc<dyn TokenStore>,
    cache: Duration,
) -> Arc<dyn Authenticator> {
    Arc::new(StoreAuthenticator::with_ttl(configured, store, cache))
}

/// Whether the token table holds a token accepted now.
pub async fn table_has_tokens(store: &dyn TokenStore) -> anyhow::Result<bool> {
    let now = chrono::Utc::now();
    Ok(store
        .tokens()
        .await
        .context("cannot read the token table")?
        .iter()
        .any(|t| t.status(now) == TokenStatus::Active))
}

/// A new random token: 32 bytes from the OS, hex.
pub fn generate() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    let mut f = std::fs::File::open("/dev/urandom").context("cannot read /dev/urandom")?;
    std::io::Read::read_exact(&mut f, &mut bytes)?;
    Ok(format!("hl_{}", hex_encode(&bytes)))
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The configured tokens: `configured`, else the data dir's file, else (on
/// loopback) a new token in a new file. `None`: nothing configured and not
/// on loopback, so the token table must hold the tokens (the caller
/// checks, once the store is open).
pub fn resolve(
    configured: Option<&str>,
    data_dir: &Path,
    listen: SocketAddr,
) -> anyhow::Result<Option<TokenSet>> {
    if let Some(spec) = configured.filter(|s| !s.trim().is_empty()) {
        return Ok(Some(TokenSet::parse(spec)?));
    }
    let file = data_dir.join("tokens");
    if file.exists() {
        let spec = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let set = TokenSet::parse(&spec).with_context(|| format!("in {}", file.display()))?;
        anyhow::ensure!(
            !set.is_empty(),
            "{} holds no token; delete it to get a new one",
            file.display()
        );
        eprintln!("hookline serve: accepting the tokens in {}", file.display());
        return Ok(Some(set));
    }
    if !listen.ip().is_loopback() {
        return Ok(None);
    }
    let token = generate()?;
    let line = format!("local:{}\n", hash_hex(&token));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(&file)
        .with_context(|| format!("cannot create {}", file.display()))?;
    f.write_all(line.as_bytes())?;
    f.sync_all()?;
    let install = format!("install --user --url http://{listen} --token {token}");
    let point = match hook_program() {
        Some(hook) => format!("Point Claude Code at this server with:\n\n    {hook} {install}\n"),
        None => format!(
            "Point Claude Code at this server: the hook `hookline-hook` is neither beside this \
             executable nor on PATH; install it from the repository with\n\n    \
             cargo install --locked --path hook\n\nthen run:\n\n    hookline-hook {install}\n"
        ),
    };
    eprintln!(
        "hookline serve: created a token (shown once; only its hash is kept in {}):\n\n    {token}\n\n{point}",
        file.display()
    );
    Ok(Some(TokenSet::parse(&line)?))
}

/// [`resolve`]'s `None` (not on loopback, nothing configured) is allowed
/// only when the token table holds accepted tokens.
pub async fn or_table(
    resolved: Option<TokenSet>,
    store: &dyn TokenStore,
    listen: SocketAddr,
) -> anyhow::Result<TokenSet> {
    if let Some(set) = resolved {
        return Ok(set);
    }
    anyhow::ensure!(
        table_has_tokens(store).await?,
        "refusing to listen on {listen} without a configured token: set HOOKLINE_TOKENS, create one with `hookline tokens create`, or start once on loopback to create one"
    );
    eprintln!("hookline serve: accepting the tokens of the token table (hookline tokens list)");
    Ok(TokenSet::default())
}

/// How the person reading serve's first message runs the hook: the
/// `hookline-hook` beside this executable (one `cargo build` puts both in
/// `target/release`), by its absolute path; else `hookline-hook` when a
/// directory of `PATH` holds it; else `None` (not installed).
fn hook_program() -> Option<String> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join(HOOK)))
        .filter(|p| is_executable(p));
    if let Some(p) = beside {
        return Some(shell_word(&p.to_string_lossy()));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .any(|d| is_executable(&d.join(HOOK)))
        .then(|| HOOK.to_owned())
}

const HOOK: &str = "hookline-hook";

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}
