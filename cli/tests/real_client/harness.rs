//! Running the real Claude Code: the npm-installed binary, the fake
//! Messages API (`tests/claude-code/fake-anthropic.mjs`), a fresh HOME with
//! hookline's hooks (written by `hookline-hook install`) and the test's own
//! recording hook, `hookline serve`, and a TCP proxy that can hang or stop.

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use hookline_core::event::KNOWN_EVENTS;
use hookline_test_support::cli::Serve;
use hookline_test_support::process::{Killed, free_port};

use crate::hookline;

/// Tools the scenarios use, allowed without a permission prompt
/// (`mcp__hookline__search_history`: the MCP scenario's, mcp.rs).
const ALLOWED_TOOLS: &str =
    "--allowedTools=Bash,Write,Read,Edit,Task,Agent,mcp__hookline__search_history";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Claude Code binary of `version` installed by `npm ci` in
/// tests/claude-code. Missing: an error under CI (`CI=true`), else `None`
/// (the caller skips, saying why).
pub fn claude_binary(version: &str) -> anyhow::Result<Option<PathBuf>> {
    let bin = repo_root().join(format!(
        "tests/claude-code/node_modules/claude-code-{version}/bin/claude.exe"
    ));
    if bin.is_file() {
        return Ok(Some(bin));
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    anyhow::ensure!(
        !ci,
        "Claude Code {version} is not installed ({} missing): run tests/claude-code/install",
        bin.display()
    );
    eprintln!(
        "SKIPPED: Claude Code {version} is not installed ({} missing); run tests/claude-code/install",
        bin.display()
    );
    Ok(None)
}

/// What one `claude -p` run did.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Claude Code's `--debug` log of this run (`~/.claude/debug/*.txt`).
    pub debug: String,
    /// The fake API's log: one object per request.
    pub requests: Vec<Value>,
    pub took: Duration,
    /// When the harness saw the process exit (wall clock, to set against
    /// the debug log's timestamps; polled every 5 ms).
    pub ended_at: chrono::DateTime<chrono::Utc>,
}

/// One fresh HOME and working directory Claude Code runs in.
pub struct Home {
    pub home: PathBuf,
    pub work: PathBuf,
}

impl Home {
    pub fn new(root: &Path) -> anyhow::Result<Self> {
        let home = root.join("home");
        let work = root.join("work");
        std::fs::create_dir_all(home.join(".claude"))?;
        std::fs::create_dir_all(&work)?;
        Ok(Self { home, work })
    }

    /// Environment of every process run "as the user" in this HOME.
    pub fn env(&self, cmd: &mut Command) {
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("USER", "suite")
            .env("LANG", "C.UTF-8");
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Runs `claude -p PROMPT ARGS… --debug` in `home` against a fresh fake API
/// serving `script` (`{work}` in its strings replaced by the working dir).
pub fn claude(
    bin: &Path,
    home: &Home,
    scripts: &Path,
    run_id: &str,
    prompt: &str,
    args: &[String],
    script: &Value,
) -> anyhow::Result<Run> {
    std::fs::create_dir_all(scripts)?;
    let work = home.work.display().to_string();
    let script_file = scripts.join(format!("{run_id}.json"));
    let log_file = scripts.join(format!("{run_id}.requests.jsonl"));
    std::fs::write(
        &script_file,
        script
            .to_string()
            .replace("{work}", &work.replace('\\', "\\\\")),
    )?;
    let mut fake = Command::new("node");
    fake.arg(repo_root().join("tests/claude-code/fake-anthropic.mjs"))
        .args(["--port", "0", "--max-seconds", "180", "--id-prefix", run_id])
        .arg("--script")
        .arg(&script_file)
        .arg("--log")
        .arg(&log_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = fake.spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let fake = Killed(child);
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first)?;
    let base = first
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| anyhow::anyhow!("fake API said {first:?}"))?
        .to_string();

    let _ = std::fs::remove_dir_all(home.home.join(".claude/debug"));
    let mut cmd = Command::new(bin);
    home.env(&mut cmd);
    cmd.current_dir(&home.work)
        .env("ANTHROPIC_BASE_URL", &base)
        .env("ANTHROPIC_API_KEY", "sk-ant-fake-suite")
        .env("DISABLE_TELEMETRY", "1")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .arg("-p")
        .arg(prompt)
        .args(args)
        .args(["--debug", ALLOWED_TOOLS])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn()?;
    // Each pipe drained by its own thread, so neither can fill and stall.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_string(&mut text);
            }
            text
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = started + Duration::from_secs(90);
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            anyhow::bail!("claude {prompt:?} {args:?} ran for over 90 s (killed)");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let took = started.elapsed();
    let ended_at = chrono::Utc::now();
    let stdout = out
        .join()
        .map_err(|_| anyhow::anyhow!("stdout reader panicked"))?;
    let stderr = err
        .join()
        .map_err(|_| anyhow::anyhow!("stderr reader panicked"))?;
    drop(fake);
    let mut debug = String::new();
    let mut logs = Vec::new();
    walk(&home.home.join(".claude/debug"), &mut logs);
    logs.sort();
    // 2.1.332 can write the same lines to two files (the session's and
    // another one's); every line carries a timestamp, so drop repeats.
    let mut lines = std::collections::HashSet::new();
    for l in logs
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
    {
        for line in std::fs::read_to_string(l).unwrap_or_default().lines() {
            if lines.insert(line.to_string()) {
                debug.push_str(line);
                debug.push('\n');
            }
        }
    }
    let requests = std::fs::read_to_string(&log_file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    Ok(Run {
        code: status.code(),
        stdout,
        stderr,
        debug,
        requests,
        took,
        ended_at,
    })
}

/// hookline as a user installs it: `hookline serve` in its own data dir,
/// `hookline-hook install` into a fresh HOME, plus the recording hook.
pub struct Hooked {
    pub home: Home,
    pub data: PathBuf,
    pub records: PathBuf,
    pub hook_bin: PathBuf,
    /// The command hookline's entries run (as written in settings.json).
    pub hook_command: String,
    /// Events hookline's install registered.
    pub registered: Vec<String>,
    /// Of those, the events it registered synchronously (`async` not true).
    pub synchronous: Vec<String>,
    /// With `via_proxy`: the proxy the hook's URL points at.
    pub proxy: Option<Proxy>,
    _serve: Serve,
}

impl Hooked {
    /// With `via_proxy` the hook is pointed at a [`Proxy`] in front of serve.
    pub fn new(root: &Path, via_proxy: bool) -> anyhow::Result<Self> {
        let home = Home::new(&root.join("hooked"))?;
        let data = root.join("serve");
        let records = root.join("records");
        std::fs::create_dir_all(&data)?;
        std::fs::create_dir_all(&records)?;
        let serve = hookline()
            .serve(&data)?
            .arg("--visibility-timeout")
            .arg("2")
            .start()?;
        let (serve_port, token) = (serve.port, serve.token()?);
        let hook_bin = hookline().hook()?;
        let proxy = via_proxy.then(|| Proxy::new(serve_port)).transpose()?;
        let url = format!(
            "http://127.0.0.1:{}",
            proxy.as_ref().map_or(serve_port, |p| p.port)
        );
        let mut install = Command::new(&hook_bin);
        home.env(&mut install);
        let out = install
            .args(["install", "--url", &url, "--token", &token])
            .stdin(Stdio::null())
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "hookline-hook install: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let settings_path = home.home.join(".claude/settings.json");
        let mut settings: Value = serde_json::from_str(&std::fs::read_to_string(&settings_path)?)?;
        let hooks = settings
            .get_mut("hooks")
            .and_then(Value::as_object_mut)
            .ok_or_else(|| anyhow::anyhow!("install wrote no hooks"))?;
        let mut registered = Vec::new();
        let mut synchronous = Vec::new();
        let mut hook_command = String::new();
        for (event, entries) in hooks.iter() {
            for h in entries
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e.get("hooks").and_then(Value::as_array))
                .flatten()
            {
                if let Some(c) = h.get("command").and_then(Value::as_str) {
                    hook_command = c.to_string();
                    registered.push(event.clone());
                    if h.get("async") != Some(&Value::Bool(true)) {
                        synchronous.push(event.clone());
                    }
                }
            }
        }
        // The recorder: synchronous (so its file is written before Claude
        // Code goes on), one file per event, named so they sort by time
        // (its start, ns), and beside it `….end`, the time it was done:
        // what Claude Code waited for the recorder is not hookline's.
        let recorder = root.join("record.sh");
        std::fs::write(
            &recorder,
            format!(
                "#!/bin/sh\nf=\"{}/$(date +%s%N)-$$.json\"\ncat > \"$f.tmp\" && mv \"$f.tmp\" \"$f\" && date +%s%N > \"$f.end\"\n",
                records.display()
            ),
        )?;
        std::fs::set_permissions(
            &recorder,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )?;
        // Every hook event Claude Code 2.1.332 knows (its bundle: 34).
        for event in KNOWN_EVENTS {
            let entry = json!({"hooks": [{"type": "command", "command": recorder, "timeout": 30}]});
            match hooks.get_mut(event).and_then(Value::as_array_mut) {
                Some(list) => list.push(entry),
                None => {
                    hooks.insert(event.to_string(), json!([entry]));
                }
            }
        }
        std::fs::write(&settings_path, serde_json::to_string_pretty(&settings)?)?;
        Ok(Self {
            home,
            data,
            records,
            hook_bin,
            hook_command,
            registered,
            synchronous,
            proxy,
            _serve: serve,
        })
    }

    /// The recorder's files so far, in order.
    fn record_files(&self) -> anyhow::Result<Vec<PathBuf>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.records)?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        Ok(files)
    }

    /// What the recorder saw so far, in order.
    pub fn recorded(&self) -> anyhow::Result<Vec<Value>> {
        self.record_files()?
            .iter()
            .map(|f| Ok(serde_json::from_str(&std::fs::read_to_string(f)?)?))
            .collect()
    }

    /// When each of the recorder's runs `from..` started and how long it
    /// took (from its start to its `.end` file). The recorder is
    /// synchronous: Claude Code waits for each run, hookline or not.
    pub fn recorder_runs(
        &self,
        from: usize,
    ) -> anyhow::Result<Vec<(chrono::DateTime<chrono::Utc>, Duration)>> {
        let mut runs = Vec::new();
        for f in self.record_files()?.iter().skip(from) {
            let start = f
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.split('-').next())
                .and_then(|n| n.parse::<i64>().ok());
            let end = std::fs::read_to_string(f.with_extension("json.end"))
                .ok()
                .and_then(|t| t.trim().parse::<i64>().ok());
            if let (Some(s), Some(e)) = (start, end) {
                let took = Duration::from_nanos(u64::try_from(e - s).unwrap_or(0));
                runs.push((chrono::DateTime::from_timestamp_nanos(s), took));
            }
        }
        Ok(runs)
    }

    /// Runs `hookline-hook ARGS` as the user.
    pub fn hook(&self, args: &[&str]) -> anyhow::Result<std::process::Output> {
        let mut c = Command::new(&self.hook_bin);
        self.home.env(&mut c);
        Ok(c.args(args).stdin(Stdio::null()).output()?)
    }

    /// The entries the hooks left in the spool to send (`pending/*.json`
    /// in its default dir): events of hooks Claude Code cancelled before
    /// they sent, which the next hook (or `hookline-hook flush`) sends.
    pub fn spooled(&self) -> usize {
        std::fs::read_dir(self.home.home.join(".local/share/hookline/spool/pending"))
            .map(|d| {
                d.flatten()
                    .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                    .count()
            })
            .unwrap_or(0)
    }

    /// Waits until `hookline-hook status` shows no tail job and no tail
    /// sender at work (what Stop and SessionEnd left to their detached
    /// senders is spooled and sent), `limit` at most.
    pub fn wait_for_tail_senders(&self, limit: Duration) -> anyhow::Result<()> {
        let t = Instant::now();
        loop {
            let out = self.hook(&["status", "--json"])?;
            let s: Value = serde_json::from_slice(&out.stdout)?;
            if s["tail_jobs"] == 0 && s["tail_sender_running"] == false {
                return Ok(());
            }
            anyhow::ensure!(
                t.elapsed() < limit,
                "tail senders not done after {limit:?}: {s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The hook's own log (`hook.log` in its default state dir).
    pub fn hook_log(&self) -> String {
        std::fs::read_to_string(self.home.home.join(".local/state/hookline/hook.log"))
            .unwrap_or_default()
    }

    pub fn db_url(&self) -> String {
        format!("sqlite://{}", self.data.join("hookline.db").display())
    }
}

/// A loopback TCP proxy in front of serve: forwarding, hung (accepts and
/// never answers) or stopped (nothing listens: connection refused).
pub struct Proxy {
    pub port: u16,
    target: u16,
    mode: Arc<Mutex<Mode>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Forward,
    Hang,
    Stopped,
}

impl Proxy {
    pub fn new(target: u16) -> anyhow::Result<Self> {
        let mut p = Self {
            port: free_port()?,
            target,
            mode: Arc::new(Mutex::new(Mode::Forward)),
            thread: None,
        };
        p.listen()?;
        Ok(p)
    }

    fn listen(&mut self) -> anyhow::Result<()> {
        let listener = TcpListener::bind(("127.0.0.1", self.port))?;
        listener.set_nonblocking(true)?;
        let mode = self.mode.clone();
        let target = self.target;
        self.thread = Some(std::thread::spawn(move || {
            let mut hung = Vec::new();
            loop {
                let m = *mode.lock().unwrap_or_else(|e| e.into_inner());
                if m == Mode::Stopped {
                    return;
                }
                match listener.accept() {
                    Ok((client, _)) if m == Mode::Hang => hung.push(client),
                    Ok((client, _)) => {
                        std::thread::spawn(move || forward(client, target));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        }));
        Ok(())
    }

    pub fn set(&mut self, to: Mode) -> anyhow::Result<()> {
        *self.mode.lock().unwrap_or_else(|e| e.into_inner()) = to;
        if to == Mode::Stopped {
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
        } else if self.thread.is_none() {
            self.listen()?;
        }
        Ok(())
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.set(Mode::Stopped);
    }
}

fn forward(client: TcpStream, target: u16) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
        return;
    };
    let (Ok(mut c2), Ok(mut s2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let up = std::thread::spawn(move || {
        let mut client = client;
        let mut server = server;
        let _ = std::io::copy(&mut client, &mut server);
        let _ = server.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut s2, &mut c2);
    let _ = c2.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
}
