//! Child processes of a test: ports, cleanup, waiting, the hook binary.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// A free TCP port on loopback (bound, then released).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A child process killed (and reaped) when dropped, so a failing test
/// leaves nothing behind.
pub struct Killed(pub Child);

impl Killed {
    pub fn id(&self) -> u32 {
        self.0.id()
    }

    /// SIGTERM, then waits for the exit.
    pub fn terminate(&mut self) -> anyhow::Result<ExitStatus> {
        self.signal("-TERM")?;
        Ok(self.0.wait()?)
    }

    /// SIGKILL (kill -9), then reaps it.
    pub fn kill_9(&mut self) -> anyhow::Result<()> {
        self.signal("-KILL")?;
        self.0.wait()?;
        Ok(())
    }

    fn signal(&self, signal: &str) -> anyhow::Result<()> {
        let ok = Command::new("kill")
            .args([signal, &self.0.id().to_string()])
            .status()?
            .success();
        anyhow::ensure!(ok, "kill {signal} {} failed", self.0.id());
        Ok(())
    }
}

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

/// The first `hl_…` token a first start of serve printed in `text`.
pub fn printed_token(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("hl_").map(|t| format!("hl_{t}")))
}

/// The `hookline-hook` binary: `HOOKLINE_HOOK_BIN` when set (scripts/test
/// points it at the one `cargo test --workspace` builds in the same run, so
/// nothing is built twice), else built now into the target dir of
/// `sibling` (a binary of this build, e.g. `CARGO_BIN_EXE_hookline`), so a
/// test never runs a stale hook.
pub fn hook_binary(sibling: &Path) -> anyhow::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("HOOKLINE_HOOK_BIN") {
        let bin = PathBuf::from(bin);
        anyhow::ensure!(
            bin.is_file(),
            "HOOKLINE_HOOK_BIN={} is not a file",
            bin.display()
        );
        return Ok(bin);
    }
    let hook = sibling.with_file_name("hookline-hook");
    let target = sibling
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| anyhow::anyhow!("no target dir above {}", sibling.display()))?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let ok = Command::new(cargo)
        .args(["build", "-q", "-p", "hookline-hook", "--target-dir"])
        .arg(target)
        .status()?
        .success();
    anyhow::ensure!(ok && hook.exists(), "could not build hookline-hook");
    Ok(hook)
}
