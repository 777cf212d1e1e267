//! The hook's log: JSON lines in a file (never stdout, never stderr while
//! running as a hook), rotated by size: `hook.log` past `max_bytes` becomes
//! `hook.log.1`, older ones shift up to `hook.log.5`, the oldest is dropped.
//! Writing a log line can fail (full disk, no permission); that is ignored.

use std::cell::RefCell;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value};

/// Rotated files kept beside `hook.log`.
pub const KEEP: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
        }
    }

    /// `HOOKLINE_LOG_LEVEL` (`error`, `warn`, `info`, `debug`); `info` by default.
    fn from_env() -> Level {
        match crate::paths::env("HOOKLINE_LOG_LEVEL")
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str()
        {
            "error" => Level::Error,
            "warn" | "warning" => Level::Warn,
            "debug" | "trace" => Level::Debug,
            _ => Level::Info,
        }
    }
}

/// A JSON-lines file logger with fields shared by every line (request id,
/// session id, event type, once known).
#[derive(Debug)]
pub struct Logger {
    path: PathBuf,
    max_bytes: u64,
    level: Level,
    context: RefCell<Map<String, Value>>,
}

impl Logger {
    pub fn new(path: PathBuf, max_bytes: u64) -> Logger {
        Logger {
            path,
            max_bytes,
            level: Level::from_env(),
            context: RefCell::new(Map::new()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Adds a field to every later line.
    pub fn set(&self, key: &str, value: impl Into<Value>) {
        self.context
            .borrow_mut()
            .insert(key.to_owned(), value.into());
    }

    /// Drops a field [`Logger::set`] added.
    pub fn unset(&self, key: &str) {
        self.context.borrow_mut().remove(key);
    }

    pub fn error(&self, message: &str, fields: &[(&str, Value)]) {
        self.log(Level::Error, message, fields);
    }
    pub fn warn(&self, message: &str, fields: &[(&str, Value)]) {
        self.log(Level::Warn, message, fields);
    }
    pub fn info(&self, message: &str, fields: &[(&str, Value)]) {
        self.log(Level::Info, message, fields);
    }
    pub fn debug(&self, message: &str, fields: &[(&str, Value)]) {
        self.log(Level::Debug, message, fields);
    }

    pub fn log(&self, level: Level, message: &str, fields: &[(&str, Value)]) {
        if level > self.level {
            return;
        }
        let mut line = Map::new();
        line.insert(
            "timestamp".into(),
            Utc::now()
                .to_rfc3339_opts(SecondsFormat::Millis, true)
                .into(),
        );
        line.insert("level".into(), level.as_str().into());
        line.insert("message".into(), message.into());
        line.insert("pid".into(), std::process::id().into());
        for (k, v) in self.context.borrow().iter() {
            line.insert(k.clone(), v.clone());
        }
        for (k, v) in fields {
            line.insert((*k).to_owned(), v.clone());
        }
        let Ok(mut text) = serde_json::to_string(&Value::Object(line)) else {
            return;
        };
        text.push('\n');
        let _ = self.write(text.as_bytes());
    }

    fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            crate::fsutil::create_private_dir(dir)?;
        }
        if fs::metadata(&self.path).is_ok_and(|m| m.len() >= self.max_bytes) {
            self.rotate();
        }
        let mut opts = OpenOptions::new();
        opts.append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        // One write per line: appends from concurrent hooks do not interleave.
        opts.open(&self.path)?.write_all(bytes)
    }

    fn rotate(&self) {
        let numbered = |i: usize| {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{i}"));
            PathBuf::from(p)
        };
        let _ = fs::remove_file(numbered(KEEP));
        for i in (1..KEEP).rev() {
            let _ = fs::rename(numbered(i), numbered(i + 1));
        }
        let _ = fs::rename(&self.path, numbered(1));
    }
}

/// Short form of an error chain for a log field.
pub fn err_field(e: &dyn std::fmt::Display) -> (&'static str, Value) {
    ("error", Value::String(e.to_string()))
}

/// An error and its sources, `outer: inner: …`, as the `error` field.
pub fn err_chain(e: &dyn std::error::Error) -> (&'static str, Value) {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    ("error", Value::String(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_by_size_and_keeps_five() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let log = Logger::new(dir.path().join("hook.log"), 1024);
        for i in 0..400 {
            log.error(
                "a line that takes some room in the file",
                &[("i", i.into())],
            );
        }
        let mut names: Vec<String> = fs::read_dir(dir.path())?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "hook.log",
                "hook.log.1",
                "hook.log.2",
                "hook.log.3",
                "hook.log.4",
                "hook.log.5"
            ]
        );
        let last = fs::read_to_string(dir.path().join("hook.log"))?;
        let line: Value = serde_json::from_str(last.lines().last().unwrap_or_default())?;
        assert_eq!(line["level"], "ERROR");
        assert_eq!(line["i"], 399);
        Ok(())
    }
}
