//! Registering `hookline mcp` with Claude Code, as `claude mcp add` writes
//! it: `mcpServers.hookline = {"type": "stdio", "command", "args", "env"}`
//! in `~/.claude.json` (user scope; `$CLAUDE_CONFIG_DIR/.claude.json` when
//! that is set) or in the project's `.mcp.json` (project scope). Everything
//! else in the file stays as it was.

use std::path::{Path, PathBuf};

use super::ordered::Json;

/// The server's name in Claude Code (its tools are `mcp__hookline__*`).
pub const NAME: &str = "hookline";

/// The file `claude mcp add --scope user|project` writes.
pub fn config_path(scope: &super::Scope) -> PathBuf {
    match scope {
        super::Scope::User => crate::paths::claude_user_config(),
        super::Scope::Project(dir) => dir.join(".mcp.json"),
    }
}

/// The `hookline` binary to register: `hookline` beside this executable
/// when there is one (they are installed together), else `hookline` as the
/// PATH finds it.
pub fn default_program() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("hookline")))
        .filter(|p| p.is_file())
        .and_then(|p| std::fs::canonicalize(&p).ok().or(Some(p)))
        .unwrap_or_else(|| PathBuf::from("hookline"))
}

/// The entry for `program mcp <args>`.
pub fn entry(program: &Path, args: &[String]) -> Json {
    let mut all = vec![Json::str("mcp")];
    all.extend(args.iter().map(|a| Json::str(a)));
    Json::object(vec![
        ("type", Json::str("stdio")),
        ("command", Json::str(&program.to_string_lossy())),
        ("args", Json::Array(all)),
        ("env", Json::Object(Vec::new())),
    ])
}

/// Sets `mcpServers.hookline` to `entry` (replacing an older one in
/// place). Errors when the file's `mcpServers` is not an object.
pub fn add(config: &mut Json, entry: Json) -> Result<(), String> {
    let servers = config
        .entry("mcpServers", Json::Object(Vec::new()))
        .ok_or("the file is not a JSON object")?;
    match servers.get_mut(NAME) {
        Some(old) => *old = entry,
        None => {
            let Json::Object(pairs) = servers else {
                return Err("its mcpServers is not a JSON object".into());
            };
            pairs.push((NAME.to_owned(), entry));
        }
    }
    Ok(())
}

/// Removes `mcpServers.hookline`; whether there was one.
pub fn remove(config: &mut Json) -> bool {
    config
        .get_mut("mcpServers")
        .and_then(|s| s.remove(NAME))
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_replaces_in_place_and_keeps_other_servers() -> Result<(), String> {
        let mut c: Json = serde_json::from_str(
            r#"{"a": 1, "mcpServers": {"other": {"type": "stdio", "command": "x"}, "hookline": {"command": "old"}}}"#,
        )
        .map_err(|e| e.to_string())?;
        add(&mut c, entry(Path::new("/bin/hookline"), &[]))?;
        let text = serde_json::to_string(&c).map_err(|e| e.to_string())?;
        assert_eq!(
            text,
            r#"{"a":1,"mcpServers":{"other":{"type":"stdio","command":"x"},"hookline":{"type":"stdio","command":"/bin/hookline","args":["mcp"],"env":{}}}}"#
        );
        assert!(remove(&mut c));
        assert!(!remove(&mut c));
        let text = serde_json::to_string(&c).map_err(|e| e.to_string())?;
        assert_eq!(
            text,
            r#"{"a":1,"mcpServers":{"other":{"type":"stdio","command":"x"}}}"#
        );
        Ok(())
    }
}
