//! The hook's configuration: the TOML file `install` writes, overridden key
//! by key by environment variables. Read once at start; a missing or broken
//! file is not an error (the problem is kept in `Config::problems`, logged
//! by the caller), so the hook still spools every event.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::paths;

/// Default total deadline of one invocation.
pub const DEFAULT_TIMEOUT_MS: u64 = 1000;
/// Default largest request body; ingest accepts 1 MiB, a little is kept back.
pub const DEFAULT_BODY_LIMIT: usize = 1_000_000;
/// Default first probe interval of the circuit breaker.
pub const DEFAULT_PROBE_INTERVAL_MS: u64 = 15_000;
/// Default size at which `hook.log` is rotated (the seed's 10 MB).
pub const DEFAULT_LOG_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Default largest transcript delta read per file per event.
pub const DEFAULT_TRANSCRIPT_MAX_BYTES: u64 = 8 * 1024 * 1024;

/// A token: never printed, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

/// The file's keys; every one optional. Unknown keys are ignored.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct FileConfig {
    /// Base URL of the ingest API (`HOOKLINE_URL`); the hook appends `/v1/events`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Bearer token (`HOOKLINE_TOKEN`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Total deadline of one invocation in ms (`HOOKLINE_TIMEOUT_MS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Spool folder (`HOOKLINE_SPOOL_DIR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spool_dir: Option<PathBuf>,
    /// Folder of `hook.log` (`HOOKLINE_LOG_DIR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_dir: Option<PathBuf>,
    /// Rotate `hook.log` past this size (`HOOKLINE_LOG_MAX_BYTES`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_max_bytes: Option<u64>,
    /// Largest request body; larger transcript deltas are split (`HOOKLINE_BODY_LIMIT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_limit: Option<usize>,
    /// First circuit-breaker probe interval in ms (`HOOKLINE_PROBE_INTERVAL_MS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe_interval_ms: Option<u64>,
    /// Largest transcript delta read per file per event (`HOOKLINE_TRANSCRIPT_MAX_BYTES`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript_max_bytes: Option<u64>,
    /// Attach transcript deltas (`HOOKLINE_TRANSCRIPTS`, `true`/`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcripts: Option<bool>,
    /// Secret masking before spooling (`[redaction]`; `HOOKLINE_REDACT=off`
    /// turns it off). See docs/privacy.md.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redaction: Option<crate::redact::Settings>,
}

/// The configuration in force.
#[derive(Debug, Clone)]
pub struct Config {
    pub config_path: PathBuf,
    /// Base URL, without a trailing `/` or `/v1/events`.
    pub url: Option<String>,
    pub token: Option<Secret>,
    pub timeout: Duration,
    pub spool_dir: PathBuf,
    pub log_file: PathBuf,
    pub log_max_bytes: u64,
    pub body_limit: usize,
    pub probe_interval: Duration,
    pub transcript_max_bytes: u64,
    pub transcripts: bool,
    /// Redaction settings; `enabled` is resolved (environment, then file, then on).
    pub redaction: crate::redact::Settings,
    /// What went wrong while reading the configuration (to be logged).
    pub problems: Vec<String>,
}

impl Config {
    /// Reads the file (if any) and the environment.
    pub fn load() -> Config {
        let config_path = paths::config_file();
        let mut problems = Vec::new();
        let file = match read_file(&config_path) {
            Ok(f) => f.unwrap_or_default(),
            Err(e) => {
                problems.push(e);
                FileConfig::default()
            }
        };
        let num = |name: &str, problems: &mut Vec<String>| -> Option<u64> {
            let v = paths::env(name)?;
            v.trim()
                .parse()
                .map_err(|_| problems.push(format!("{name}={v:?} is not a number; ignored")))
                .ok()
        };
        let timeout_ms = num("HOOKLINE_TIMEOUT_MS", &mut problems).or(file.timeout_ms);
        let log_max = num("HOOKLINE_LOG_MAX_BYTES", &mut problems).or(file.log_max_bytes);
        let body_limit = num("HOOKLINE_BODY_LIMIT", &mut problems)
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
            .or(file.body_limit);
        let probe = num("HOOKLINE_PROBE_INTERVAL_MS", &mut problems).or(file.probe_interval_ms);
        let tmax =
            num("HOOKLINE_TRANSCRIPT_MAX_BYTES", &mut problems).or(file.transcript_max_bytes);
        let transcripts = match paths::env("HOOKLINE_TRANSCRIPTS").as_deref() {
            Some("0" | "false" | "no" | "off") => false,
            Some(_) => true,
            None => file.transcripts.unwrap_or(true),
        };
        let mut redaction = file.redaction.unwrap_or_default();
        redaction.enabled = Some(match paths::env("HOOKLINE_REDACT").as_deref() {
            Some("0" | "false" | "no" | "off") => false,
            Some(_) => true,
            None => redaction.enabled.unwrap_or(true),
        });
        let url = paths::env("HOOKLINE_URL")
            .or(file.url)
            .map(|u| base_url(&u));
        let token = paths::env("HOOKLINE_TOKEN")
            .or(file.token)
            .filter(|t| !t.trim().is_empty())
            .map(|t| Secret::new(t.trim()));
        let spool_dir = paths::env("HOOKLINE_SPOOL_DIR")
            .map(PathBuf::from)
            .or(file.spool_dir)
            .unwrap_or_else(paths::default_spool_dir);
        let log_dir = paths::env("HOOKLINE_LOG_DIR")
            .map(PathBuf::from)
            .or(file.log_dir)
            .unwrap_or_else(paths::default_log_dir);
        Config {
            config_path,
            url,
            token,
            timeout: Duration::from_millis(timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS)),
            spool_dir,
            log_file: log_dir.join("hook.log"),
            log_max_bytes: log_max.unwrap_or(DEFAULT_LOG_MAX_BYTES).max(1024),
            body_limit: body_limit.unwrap_or(DEFAULT_BODY_LIMIT).max(1024),
            probe_interval: Duration::from_millis(probe.unwrap_or(DEFAULT_PROBE_INTERVAL_MS)),
            transcript_max_bytes: tmax.unwrap_or(DEFAULT_TRANSCRIPT_MAX_BYTES).max(1024),
            transcripts,
            redaction,
            problems,
        }
    }

    /// The longest wait for one answer when no hook deadline applies
    /// (`flush`, the tail sender): at least a second, whatever the hook's.
    pub fn unhurried_timeout(&self) -> Duration {
        self.timeout.max(Duration::from_secs(1))
    }

    /// `POST` target of hook events.
    pub fn events_url(&self) -> Option<String> {
        self.url.as_ref().map(|u| format!("{u}/v1/events"))
    }
}

/// Normalises a configured URL to the base: trailing `/` and a pasted
/// `/v1/events` or `/v1/hook` are dropped.
pub fn base_url(url: &str) -> String {
    let u = url.trim().trim_end_matches('/');
    let u = u
        .strip_suffix("/v1/events")
        .or_else(|| u.strip_suffix("/v1/hook"))
        .unwrap_or(u);
    u.trim_end_matches('/').to_owned()
}

/// `Ok(None)` when the file does not exist.
pub fn read_file(path: &Path) -> Result<Option<FileConfig>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    toml::from_str(&text)
        .map(Some)
        .map_err(|e| format!("cannot parse {}: {e}", path.display()))
}

/// Writes the file (0600: it holds the token) atomically.
pub fn write_file(path: &Path, cfg: &FileConfig) -> std::io::Result<()> {
    let body = toml::to_string(cfg).map_err(std::io::Error::other)?;
    let text = format!(
        "# hookline-hook configuration, written by `hookline-hook install`.\n\
         # Environment variables (HOOKLINE_URL, HOOKLINE_TOKEN, ...) override these keys.\n\
         # See docs/hook.md.\n{body}"
    );
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::fsutil::create_private_dir(dir)?;
    crate::fsutil::write_atomic(path, text.as_bytes(), dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_drops_trailing_slash_and_known_paths() {
        assert_eq!(base_url("http://h:1/"), "http://h:1");
        assert_eq!(base_url("http://h:1/v1/events"), "http://h:1");
        assert_eq!(base_url("https://x/prefix/v1/hook/"), "https://x/prefix");
    }

    #[test]
    fn secret_debug_never_shows_the_token() {
        assert!(!format!("{:?}", Secret::new("abc")).contains("abc"));
    }

    #[test]
    fn file_config_round_trips() -> Result<(), Box<dyn std::error::Error>> {
        let f: FileConfig = toml::from_str("url = \"http://a\"\ntimeout_ms = 5\nunknown = 1\n")?;
        assert_eq!(f.url.as_deref(), Some("http://a"));
        assert_eq!(f.timeout_ms, Some(5));
        Ok(())
    }
}
