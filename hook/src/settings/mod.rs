//! Claude Code's `settings.json`: reading, and writing with a backup,
//! keeping everything `install` does not own exactly as it was.

pub mod hooks;
pub mod mcp;
pub mod ordered;

use std::io;
use std::path::{Path, PathBuf};

use ordered::Json;

/// Which settings file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `~/.claude/settings.json` (or `$CLAUDE_CONFIG_DIR/settings.json`).
    User,
    /// `<dir>/.claude/settings.json`.
    Project(PathBuf),
}

impl Scope {
    pub fn path(&self) -> PathBuf {
        match self {
            Scope::User => crate::paths::claude_user_settings(),
            Scope::Project(dir) => dir.join(".claude").join("settings.json"),
        }
    }
}

/// Reads a settings file; a missing or empty file is an empty object.
pub fn load(path: &Path) -> Result<Json, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Json::Object(Vec::new())),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    if text.trim().is_empty() {
        return Ok(Json::Object(Vec::new()));
    }
    match serde_json::from_str::<Json>(&text) {
        Ok(v @ Json::Object(_)) => Ok(v),
        Ok(_) => Err(format!(
            "{} is not a JSON object; not touching it",
            path.display()
        )),
        Err(e) => Err(format!(
            "{} is not valid JSON ({e}); not touching it",
            path.display()
        )),
    }
}

/// The text written for `settings` (2-space indent, final newline).
pub fn render(settings: &Json) -> Result<String, serde_json::Error> {
    Ok(serde_json::to_string_pretty(settings)? + "\n")
}

/// Writes `settings` atomically. An existing file is first copied to
/// `settings.json.hookline-backup-<UTC time>`; returns that path.
pub fn save(path: &Path, settings: &Json) -> io::Result<Option<PathBuf>> {
    let text = render(settings).map_err(io::Error::other)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let backup = if path.exists() {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".hookline-backup-{stamp}"));
        let b = PathBuf::from(name);
        std::fs::copy(path, &b)?;
        Some(b)
    } else {
        None
    };
    let tmp = dir.join(format!(
        ".settings.json.{}.tmp",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&tmp, text)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path)?;
    Ok(backup)
}
