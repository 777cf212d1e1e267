//! The `hookline` binary as an operator runs it: one command, or
//! `hookline serve` as a process.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use crate::process::{Killed, free_port, hook_binary, printed_token, wait_for};

/// The settings `hookline` reads from the environment; [`Hookline::command`]
/// removes them, so a test sees only what it sets (scripts/test exports
/// `DATABASE_URL` and LocalStack's `HOOKLINE_QUEUE_URL`).
pub const SETTINGS: [&str; 11] = [
    "DATABASE_URL",
    "HOOKLINE_DATA_DIR",
    "HOOKLINE_QUEUE_URL",
    "HOOKLINE_DLQ_URL",
    "HOOKLINE_MAX_RECEIVE_COUNT",
    "HOOKLINE_VISIBILITY_TIMEOUT",
    "HOOKLINE_TOKENS",
    "HOOKLINE_LISTEN",
    "HOOKLINE_PRICES_FILE",
    "HOOKLINE_REMOTE",
    "HOOKLINE_TOKEN",
];

/// The `hookline` binary of this build (`env!("CARGO_BIN_EXE_hookline")`
/// in the CLI's tests).
#[derive(Clone, Debug)]
pub struct Hookline {
    bin: PathBuf,
}

impl Hookline {
    pub fn new(bin: impl Into<PathBuf>) -> Self {
        Hookline { bin: bin.into() }
    }

    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// The `hookline-hook` binary of the same build.
    pub fn hook(&self) -> anyhow::Result<PathBuf> {
        hook_binary(&self.bin)
    }

    /// `hookline ARGS` without any of [`SETTINGS`] from the environment.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args);
        for k in SETTINGS {
            cmd.env_remove(k);
        }
        cmd
    }

    /// Runs `hookline ARGS` with `env` (and none of [`SETTINGS`] but those
    /// in `env`); its stdout, or an error with its stderr when it fails.
    pub fn run(&self, env: &[(&str, String)], args: &[&str]) -> anyhow::Result<String> {
        let mut cmd = self.command(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.stdin(Stdio::null()).output()?;
        anyhow::ensure!(
            out.status.success(),
            "hookline {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8(out.stdout)?)
    }

    /// `hookline serve` on `data_dir` and a free loopback port, as a
    /// process; the store is SQLite in the data dir unless
    /// [`ServeCommand::database_url`] says otherwise, the queue embedded.
    pub fn serve(&self, data_dir: &Path) -> anyhow::Result<ServeCommand> {
        let port = free_port()?;
        let mut cmd = self.command(["serve"]);
        cmd.env("HOOKLINE_DATA_DIR", data_dir)
            .env("HOOKLINE_LISTEN", format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        if let Some(filter) = crate::log::filter() {
            cmd.env("RUST_LOG", filter);
        }
        Ok(ServeCommand {
            cmd,
            port,
            log: None,
        })
    }
}

/// A `hookline serve` process to start.
pub struct ServeCommand {
    cmd: Command,
    port: u16,
    log: Option<PathBuf>,
}

impl ServeCommand {
    /// Another command-line argument (after `serve`).
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.cmd.arg(arg);
        self
    }

    /// Another environment variable.
    pub fn env(mut self, k: &str, v: impl AsRef<OsStr>) -> Self {
        self.cmd.env(k, v);
        self
    }

    /// The store: `Some(url)` for `DATABASE_URL`, `None` for SQLite in the
    /// data dir.
    pub fn database_url(self, url: Option<&str>) -> Self {
        match url {
            Some(u) => self.env("DATABASE_URL", u),
            None => self,
        }
    }

    /// Listens on `port` instead of a new one (a restart on the same port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self.cmd.env("HOOKLINE_LISTEN", format!("127.0.0.1:{port}"));
        self
    }

    /// Writes serve's stdout to `path` (instead of nowhere).
    pub fn stdout_to(mut self, path: &Path) -> anyhow::Result<Self> {
        self.cmd.stdout(std::fs::File::create(path)?);
        Ok(self)
    }

    /// Writes serve's stderr (its log) to `path` instead of a pipe.
    pub fn log_to(mut self, path: &Path) -> Self {
        self.log = Some(path.to_owned());
        self
    }

    /// Starts it and waits until it listens: its first-start output
    /// (everything before "listening on") and the token it printed, if any.
    pub fn start(mut self) -> anyhow::Result<Serve> {
        let (child, startup) = match &self.log {
            Some(path) => {
                self.cmd.stderr(std::fs::File::create(path)?);
                let child = Killed(self.cmd.spawn()?);
                (child, wait_for(path, "listening on")?)
            }
            None => {
                self.cmd.stderr(Stdio::piped());
                let mut child = Killed(self.cmd.spawn()?);
                let stderr = child
                    .0
                    .stderr
                    .take()
                    .ok_or_else(|| anyhow::anyhow!("no stderr"))?;
                let mut lines = BufReader::new(stderr).lines();
                let mut seen = String::new();
                let mut listening = false;
                for line in lines.by_ref() {
                    let line = line?;
                    listening = line.contains("listening on");
                    seen.push_str(&line);
                    seen.push('\n');
                    if listening {
                        break;
                    }
                }
                anyhow::ensure!(listening, "serve did not start:\n{seen}");
                // Keep draining stderr so the server never blocks on a full pipe.
                std::thread::spawn(move || lines.for_each(drop));
                (child, seen)
            }
        };
        Ok(Serve {
            token: printed_token(&startup),
            addr: format!("http://127.0.0.1:{}", self.port),
            port: self.port,
            startup,
            child,
        })
    }
}

/// A running `hookline serve` process, killed when dropped.
pub struct Serve {
    pub child: Killed,
    pub port: u16,
    /// `http://127.0.0.1:PORT`.
    pub addr: String,
    /// The token printed on a first start without tokens.
    pub token: Option<String>,
    /// What it printed before it listened.
    pub startup: String,
}

impl Serve {
    /// The printed token, or an error saying there was none.
    pub fn token(&self) -> anyhow::Result<String> {
        self.token
            .clone()
            .ok_or_else(|| anyhow::anyhow!("serve printed no token:\n{}", self.startup))
    }

    /// SIGTERM: stops accepting, finishes, exits.
    pub fn terminate(&mut self) -> anyhow::Result<ExitStatus> {
        self.child.terminate()
    }

    /// kill -9.
    pub fn kill_9(&mut self) -> anyhow::Result<()> {
        self.child.kill_9()
    }
}
