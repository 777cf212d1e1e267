//! Running the real binary as Claude Code does, in a private sandbox
//! (home, spool, log and config under a temp folder; environment cleared).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

pub const BIN: &str = env!("CARGO_BIN_EXE_hookline-hook");

pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

pub struct Sandbox {
    pub dir: tempfile::TempDir,
    envs: Vec<(String, String)>,
}

impl Sandbox {
    pub fn new(url: Option<&str>) -> std::io::Result<Sandbox> {
        let dir = tempfile::tempdir()?;
        let root = dir.path().to_path_buf();
        let mut s = Sandbox {
            dir,
            envs: Vec::new(),
        };
        s.set("HOME", root.join("home"));
        s.set("HOOKLINE_SPOOL_DIR", root.join("spool"));
        s.set("HOOKLINE_LOG_DIR", root.join("log"));
        s.set("HOOKLINE_CONFIG", root.join("config.toml"));
        s.set("HOOKLINE_TOKEN", "test-token");
        s.set("HOOKLINE_LOG_LEVEL", "debug");
        if let Some(u) = url {
            s.set("HOOKLINE_URL", u);
        }
        std::fs::create_dir_all(root.join("home"))?;
        Ok(s)
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn set(&mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) {
        let v = v.as_ref().to_string_lossy().into_owned();
        self.envs.retain(|(key, _)| key != k);
        self.envs.push((k.to_owned(), v));
    }

    pub fn unset(&mut self, k: &str) {
        self.envs.retain(|(key, _)| key != k);
    }

    /// The binary with the sandbox's environment (and nothing else).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn run(&self, args: &[&str], stdin: &[u8]) -> std::io::Result<Out> {
        let mut cmd = self.command(args);
        let t = Instant::now();
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        if let Some(mut i) = child.stdin.take() {
            // A hook that stops reading early is fine (bounded stdin).
            let _ = i.write_all(stdin);
        }
        let out = child.wait_with_output()?;
        Ok(Out {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: t.elapsed(),
        })
    }

    /// Runs the hook as Claude Code does and checks the never-harm rules:
    /// exit code 0, nothing on stdout.
    pub fn hook(&self, stdin: &[u8]) -> Result<Out, Box<dyn std::error::Error>> {
        let out = self.run(&[], stdin)?;
        if out.code != Some(0) || !out.stdout.is_empty() {
            return Err(format!(
                "hook broke the rules: code {:?}, stdout {:?}, stderr {:?}",
                out.code, out.stdout, out.stderr
            )
            .into());
        }
        Ok(out)
    }

    /// Runs [`Sandbox::hook`], then waits until what it left to the tail
    /// sender is done ([`Sandbox::settled`]): Stop and SessionEnd leave their
    /// transcript and the sending to a detached process.
    pub fn hook_settled(&self, stdin: &[u8]) -> Result<Out, Box<dyn std::error::Error>> {
        let out = self.hook(stdin)?;
        self.settled()?;
        Ok(out)
    }

    /// `hookline-hook status --json`.
    pub fn status(&self) -> Result<Value, Box<dyn std::error::Error>> {
        let out = self.run(&["status", "--json"], b"")?;
        Ok(serde_json::from_str(&out.stdout)?)
    }

    /// Waits (10 s at most, else an error) until `status` shows no tail
    /// job and no tail sender at work: every transcript Stop and SessionEnd
    /// left is spooled, and sent if it could be.
    pub fn settled(&self) -> Result<(), Box<dyn std::error::Error>> {
        let t = Instant::now();
        loop {
            let s = self.status()?;
            if s["tail_jobs"] == 0 && s["tail_sender_running"] == false {
                return Ok(());
            }
            if t.elapsed() > Duration::from_secs(10) {
                return Err(format!("tail jobs not done after 10 s: {s}").into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (10 s at most, else an error) until `pending/` is empty: what
    /// a hook left to the sender it started is sent.
    pub fn delivered(&self) -> Result<(), Box<dyn std::error::Error>> {
        let t = Instant::now();
        while !self.pending().is_empty() {
            if t.elapsed() > Duration::from_secs(10) {
                return Err(format!("still pending after 10 s: {:?}", self.pending()).into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    pub fn spool(&self) -> PathBuf {
        self.root().join("spool")
    }

    fn bodies(&self, area: &str) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.spool().join(area))
            .map(|d| {
                d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .filter(|n| n.ends_with(".json"))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Body file names in `pending/`.
    pub fn pending(&self) -> Vec<String> {
        self.bodies("pending")
    }

    /// Body file names in `failed/`.
    pub fn failed(&self) -> Vec<String> {
        self.bodies("failed")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root().join("log/hook.log")).unwrap_or_default()
    }
}

impl Drop for Sandbox {
    /// A sender still at work (a tail job's, or one a hook left its
    /// sending to) is let finish before the folder goes.
    fn drop(&mut self) {
        let state = self.spool().join("state");
        if state.join("tails").is_dir() || state.join("tails.lock").is_file() {
            let _ = self.settled();
        }
    }
}

/// A hook event as Claude Code sends it.
pub fn event(session: &str, name: &str, extra: Value) -> Vec<u8> {
    let mut v = json!({
        "session_id": session,
        "transcript_path": format!("/nonexistent/{session}.jsonl"),
        "cwd": "/home/user/project",
        "permission_mode": "default",
        "hook_event_name": name,
    });
    if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    serde_json::to_vec(&v).unwrap_or_default()
}

/// A recorded Claude Code payload from tests/fixtures/events.
pub fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/events")
        .join(format!("{name}.json"));
    std::fs::read(p).unwrap_or_default()
}

/// Session ids of bodies, in the order given.
pub fn session_of(body: &Value) -> String {
    body["session_id"].as_str().unwrap_or_default().to_owned()
}
