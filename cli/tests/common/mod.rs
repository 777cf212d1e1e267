//! Helpers shared by the integration tests of `hookline` (each test file
//! that needs them has `mod common;`; not every file uses every helper).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on loopback (bound, then released).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The `hookline-hook` binary: `HOOKLINE_HOOK_BIN` when set (scripts/test
/// points it at the one `cargo test --workspace` builds in the same run, so
/// nothing is built twice), else built now into this target dir, so a test
/// never runs a stale hook.
pub fn hook_binary() -> anyhow::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("HOOKLINE_HOOK_BIN") {
        let bin = PathBuf::from(bin);
        anyhow::ensure!(
            bin.is_file(),
            "HOOKLINE_HOOK_BIN={} is not a file",
            bin.display()
        );
        return Ok(bin);
    }
    let me = Path::new(env!("CARGO_BIN_EXE_hookline"));
    let hook = me.with_file_name("hookline-hook");
    let target = me
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| anyhow::anyhow!("no target dir above {}", me.display()))?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let ok = Command::new(cargo)
        .args(["build", "-q", "-p", "hookline-hook", "--target-dir"])
        .arg(target)
        .status()?
        .success();
    anyhow::ensure!(ok && hook.exists(), "could not build hookline-hook");
    Ok(hook)
}

/// A child process killed (and reaped) when dropped, so a failing test
/// leaves no server behind.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits up to 30 s for `needle` to appear in the file at `path`; returns
/// the file's text.
pub fn wait_for(path: &Path, needle: &str) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            return Ok(text);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{needle:?} never appeared in {}:\n{text}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts serve on `dir`; returns it and the token it prints on first start.
pub fn serve(dir: &Path, port: u16) -> anyhow::Result<(Killed, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hookline"))
        .args(["serve", "--visibility-timeout", "2"])
        .env("HOOKLINE_DATA_DIR", dir)
        .env("HOOKLINE_LISTEN", format!("127.0.0.1:{port}"))
        .env_remove("DATABASE_URL")
        .env_remove("HOOKLINE_QUEUE_URL")
        .env_remove("HOOKLINE_TOKENS")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stderr"))?;
    let child = Killed(child);
    let mut lines = BufReader::new(stderr).lines();
    let mut token = None;
    for line in lines.by_ref() {
        let line = line?;
        if let Some(t) = line.trim().strip_prefix("hl_") {
            token = Some(format!("hl_{t}"));
        }
        if line.contains("listening on") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    let token = token.ok_or_else(|| anyhow::anyhow!("serve printed no token"))?;
    Ok((child, token))
}
