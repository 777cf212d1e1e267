//! Who and where: host name, OS user and `git config user.email`, which
//! Claude Code does not send. The e-mail costs a `git` process, so it is
//! cached in the spool's state folder for an hour.

use std::path::Path;
use std::process::{Command, Stdio};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How long a looked-up git e-mail is reused.
const GIT_EMAIL_TTL_SECS: i64 = 3600;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    pub host: Option<String>,
    pub user: Option<String>,
    pub git_email: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Cached {
    git_email: Option<String>,
    checked_at: DateTime<Utc>,
}

/// Looks up the identity; `state_dir` holds the cache (`identity.json`).
pub fn lookup(state_dir: &Path) -> Identity {
    Identity {
        host: gethostname::gethostname()
            .into_string()
            .ok()
            .filter(|h| !h.is_empty()),
        user: ["USER", "LOGNAME", "USERNAME"]
            .iter()
            .find_map(|v| crate::paths::env(v)),
        git_email: git_email(state_dir),
    }
}

fn git_email(state_dir: &Path) -> Option<String> {
    let cache = state_dir.join("identity.json");
    let now = Utc::now();
    if let Some(c) = std::fs::read(&cache)
        .ok()
        .and_then(|b| serde_json::from_slice::<Cached>(&b).ok())
        .filter(|c| {
            now - c.checked_at < Duration::seconds(GIT_EMAIL_TTL_SECS) && c.checked_at <= now
        })
    {
        return c.git_email;
    }
    let mut git = Command::new("git");
    git.args(["config", "--global", "--get", "user.email"])
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    // Its own process group: Claude Code signals the hook's group when it
    // cancels the hook, and git's answer is still wanted then.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut git, 0);
    let out = git.output().ok();
    // A git killed by a signal gave no answer: not cached, asked again next time.
    #[cfg(unix)]
    if out
        .as_ref()
        .is_some_and(|o| std::os::unix::process::ExitStatusExt::signal(&o.status).is_some())
    {
        return None;
    }
    let git_email = out
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    let cached = Cached {
        git_email: git_email.clone(),
        checked_at: now,
    };
    if let Ok(bytes) = serde_json::to_vec(&cached) {
        let _ = crate::fsutil::write_replace(&cache, &bytes, state_dir);
    }
    git_email
}
