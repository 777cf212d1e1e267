//! Tokens for `hookline serve`: `HOOKLINE_TOKENS` when given; otherwise the
//! data dir's `tokens` file (same `name:sha256hex` format, mode 0600), created
//! with a new token on first start. The token itself is printed once and
//! never stored.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context;
use hookline_core::http::{TokenSet, hash_hex};

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

pub fn resolve(
    configured: Option<&str>,
    data_dir: &Path,
    listen: SocketAddr,
) -> anyhow::Result<TokenSet> {
    if let Some(spec) = configured.filter(|s| !s.trim().is_empty()) {
        return Ok(TokenSet::parse(spec)?);
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
        return Ok(set);
    }
    anyhow::ensure!(
        listen.ip().is_loopback(),
        "refusing to listen on {listen} without a configured token: set HOOKLINE_TOKENS, or start once on loopback to create one"
    );
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
    eprintln!(
        "hookline serve: created a token (shown once; only its hash is kept in {}):\n\n    {token}\n\n\
         Point Claude Code at this server with:\n\n    hookline-hook install --user --url http://{listen} --token {token}\n",
        file.display()
    );
    Ok(TokenSet::parse(&line)?)
}
