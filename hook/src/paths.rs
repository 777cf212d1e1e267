//! Where the hook keeps its files. Every location can be moved by an
//! environment variable, so tests (and unusual setups) use their own folders.
//!
//! | what | env | default (Linux; macOS in brackets) |
//! | --- | --- | --- |
//! | config file | `HOOKLINE_CONFIG` | `$XDG_CONFIG_HOME/hookline/config.toml`, else `~/.config/hookline/config.toml` (same) |
//! | spool | `HOOKLINE_SPOOL_DIR` | `$XDG_DATA_HOME/hookline/spool`, else `~/.local/share/hookline/spool` (`~/Library/Application Support/hookline/spool`) |
//! | log folder | `HOOKLINE_LOG_DIR` | `$XDG_STATE_HOME/hookline`, else `~/.local/state/hookline` (`~/Library/Logs/hookline`) |
//! | Claude Code user settings | `CLAUDE_CONFIG_DIR` | `~/.claude/settings.json` |
//! | Claude Code user config (MCP servers) | `CLAUDE_CONFIG_DIR` | `~/.claude.json` |

use std::path::PathBuf;

/// An environment variable, with empty values treated as unset.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn env_path(name: &str) -> Option<PathBuf> {
    env(name).map(PathBuf::from)
}

/// The user's home folder (`HOME`, or `USERPROFILE` on Windows).
pub fn home() -> PathBuf {
    env_path("HOME")
        .or_else(|| env_path("USERPROFILE"))
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Expands a leading `~/` (Claude Code's docs show transcript paths so).
pub fn expand_tilde(path: &str) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => home().join(rest),
        None if path == "~" => home(),
        None => PathBuf::from(path),
    }
}

/// The configuration file.
pub fn config_file() -> PathBuf {
    env_path("HOOKLINE_CONFIG").unwrap_or_else(|| {
        env_path("XDG_CONFIG_HOME")
            .unwrap_or_else(|| home().join(".config"))
            .join("hookline")
            .join("config.toml")
    })
}

/// The default spool folder (the config file's `spool_dir` may move it).
pub fn default_spool_dir() -> PathBuf {
    if let Some(dir) = env_path("XDG_DATA_HOME") {
        return dir.join("hookline").join("spool");
    }
    if cfg!(target_os = "macos") {
        return home().join("Library/Application Support/hookline/spool");
    }
    home().join(".local/share/hookline/spool")
}

/// The default folder of `hook.log` (the config file's `log_dir` may move it).
pub fn default_log_dir() -> PathBuf {
    if let Some(dir) = env_path("XDG_STATE_HOME") {
        return dir.join("hookline");
    }
    if cfg!(target_os = "macos") {
        return home().join("Library/Logs/hookline");
    }
    home().join(".local/state/hookline")
}

/// Claude Code's user config file, where `claude mcp add --scope user`
/// registers MCP servers: `$CLAUDE_CONFIG_DIR/.claude.json`, else
/// `~/.claude.json`.
pub fn claude_user_config() -> PathBuf {
    env_path("CLAUDE_CONFIG_DIR")
        .unwrap_or_else(home)
        .join(".claude.json")
}

/// Claude Code's user settings file.
pub fn claude_user_settings() -> PathBuf {
    env_path("CLAUDE_CONFIG_DIR")
        .unwrap_or_else(|| home().join(".claude"))
        .join("settings.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_is_expanded_only_at_the_start() {
        assert!(!expand_tilde("~/x/y.jsonl").starts_with("~"));
        assert_eq!(expand_tilde("/a/~/b"), PathBuf::from("/a/~/b"));
    }
}
