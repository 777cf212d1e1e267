//! `hookline-hook doctor`: checks every link of the chain and says what to
//! fix: config, spool, log, settings.json, server (`GET /health`) and token
//! (a real, signed test event).

use std::path::Path;
use std::time::Duration;

use clap::Args;
use serde_json::json;

use super::ScopeOpts;
use crate::config::Config;
use crate::net::{Client, Outcome};
use crate::settings::{self, hooks};
use crate::spool::{Area, Spool};

#[derive(Debug, Args)]
pub struct Opts {
    #[command(flatten)]
    pub scope: ScopeOpts,
    /// Do not send the test event (it leaves one audit row, event type HooklineDoctor).
    #[arg(long)]
    pub no_send: bool,
    /// Timeout of each request in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub timeout: u64,
}

struct Checks {
    failed: usize,
}

impl Checks {
    fn ok(&self, what: &str, detail: &str) {
        println!("ok    {what}: {detail}");
    }
    fn warn(&self, what: &str, detail: &str) {
        println!("warn  {what}: {detail}");
    }
    fn fail(&mut self, what: &str, detail: &str) {
        self.failed += 1;
        println!("FAIL  {what}: {detail}");
    }
}

pub fn run(opts: &Opts, cfg: &Config) -> Result<(), String> {
    let mut c = Checks { failed: 0 };
    match crate::config::read_file(&cfg.config_path) {
        Ok(Some(_)) => c.ok("config", &cfg.config_path.display().to_string()),
        Ok(None) => c.warn(
            "config",
            &format!(
                "{} does not exist (environment only)",
                cfg.config_path.display()
            ),
        ),
        Err(e) => c.fail("config", &e),
    }
    for p in &cfg.problems {
        c.fail("config", p);
    }
    match &cfg.url {
        Some(u) => c.ok("url", u),
        None => c.fail(
            "url",
            "not set: HOOKLINE_URL or `hookline-hook install --url`",
        ),
    }
    match &cfg.token {
        Some(_) => c.ok("token", "set"),
        None => c.warn(
            "token",
            "not set: HOOKLINE_TOKEN or `install --token` (needed unless the server has no auth)",
        ),
    }
    check_spool(&mut c, cfg);
    check_log(&mut c, &cfg.log_file);
    check_settings(&mut c, opts);
    if let Some(client) = Client::new(cfg) {
        check_server(&mut c, &client, opts);
    }
    if c.failed == 0 {
        println!("all checks passed");
        Ok(())
    } else {
        Err(format!("{} check(s) failed", c.failed))
    }
}

fn check_spool(c: &mut Checks, cfg: &Config) {
    let spool = match Spool::open(&cfg.spool_dir) {
        Ok(s) => s,
        Err(e) => {
            return c.fail(
                "spool",
                &format!("cannot create {}: {e}", cfg.spool_dir.display()),
            );
        }
    };
    let probe = spool.tmp_dir().join(".doctor");
    match crate::fsutil::write_atomic(&probe, b"ok", &spool.tmp_dir()) {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            let pending = spool.list(Area::Pending).map_or(0, |l| l.len());
            let failed = spool.list(Area::Failed).map_or(0, |l| l.len());
            c.ok(
                "spool",
                &format!(
                    "{} writable; {pending} pending, {failed} failed",
                    cfg.spool_dir.display()
                ),
            );
            if failed > 0 {
                c.warn(
                    "spool",
                    "entries in failed/: see `hookline-hook status`, then `flush --failed`",
                );
            }
        }
        Err(e) => c.fail(
            "spool",
            &format!("cannot write in {}: {e}", cfg.spool_dir.display()),
        ),
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(&cfg.spool_dir)
            && m.permissions().mode() & 0o077 != 0
        {
            c.warn(
                "spool",
                &format!(
                    "{} is readable by others (chmod 700 it): it holds prompts and tool output",
                    cfg.spool_dir.display()
                ),
            );
        }
    }
    if let Some(b) = crate::breaker::Breaker::load(&spool.state_dir()) {
        c.warn(
            "circuit",
            &format!(
                "open since {} ({} failures): {}",
                b.opened_at, b.failures, b.last_error
            ),
        );
    }
}

fn check_log(c: &mut Checks, log_file: &Path) {
    let dir = log_file.parent().unwrap_or(Path::new("."));
    let writable = crate::fsutil::create_private_dir(dir).and_then(|()| {
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(log_file)
            .map(|_| ())
    });
    match writable {
        Ok(()) => c.ok("log", &log_file.display().to_string()),
        Err(e) => c.fail("log", &format!("cannot write {}: {e}", log_file.display())),
    }
}

fn check_settings(c: &mut Checks, opts: &Opts) {
    let path = opts.scope.scope().path();
    match settings::load(&path) {
        Err(e) => c.fail("settings", &e),
        Ok(s) => {
            let events = hooks::installed_events(&s);
            if events.is_empty() {
                c.fail(
                    "settings",
                    &format!(
                        "no hookline hooks in {} (run `hookline-hook install`)",
                        path.display()
                    ),
                );
            } else {
                c.ok(
                    "settings",
                    &format!(
                        "{}: {} of {} events",
                        path.display(),
                        events.len(),
                        hooks::events().count()
                    ),
                );
            }
            for event in hooks::async_but_synchronous(&s) {
                c.warn(
                    "settings",
                    &format!(
                        "hookline's {event} hook is async, and Claude Code cancels it when a `-p` turn ends (1.5 s, or the event lost): run `hookline-hook install` again"
                    ),
                );
            }
            for (event, why) in events
                .iter()
                .filter_map(|e| Some((e, hooks::not_registered(e)?)))
            {
                c.warn(
                    "settings",
                    &format!(
                        "hookline is registered on {event}, which it no longer registers ({why}): run `hookline-hook install` again"
                    ),
                );
            }
        }
    }
}

fn check_server(c: &mut Checks, client: &Client, opts: &Opts) {
    let timeout = Duration::from_secs(opts.timeout.max(1));
    match client.health(timeout) {
        Ok(200) => c.ok("server", &format!("{}/health answered 200", client.base())),
        Ok(s) => return c.fail("server", &format!("{}/health answered {s}", client.base())),
        Err(e) => return c.fail("server", &format!("{}/health: {e}", client.base())),
    }
    if opts.no_send {
        return;
    }
    let rid = uuid::Uuid::now_v7().to_string();
    let body = json!({
        "session_id": format!("hookline-doctor-{rid}"),
        "hook_event_name": "HooklineDoctor",
        "cwd": std::env::current_dir().ok(),
        "hookline": {
            "v": 1, "request_id": rid, "captured_at": chrono::Utc::now(),
            "client": {"name": crate::net::CLIENT_NAME, "version": hookline_core::VERSION},
        },
    });
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    match client.post_event(&bytes, &rid, timeout) {
        Outcome::Accepted => c.ok("token", &format!("test event accepted (request id {rid})")),
        Outcome::Refused { status: 401, .. } => c.fail(
            "token",
            "the server answered 401: the token is missing or wrong",
        ),
        Outcome::Refused { status, answer } => c.fail(
            "token",
            &format!(
                "test event refused: HTTP {status}: {}",
                crate::net::short(&answer)
            ),
        ),
        Outcome::Retry { error, .. } => {
            c.fail("token", &format!("test event not accepted: {error}"))
        }
    }
}
