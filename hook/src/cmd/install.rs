//! `hookline-hook install`: writes the config file (URL, token) and adds
//! the hook for every captured event to Claude Code's settings.json,
//! merging with the hooks already there (idempotent, with a backup); with
//! `--mcp`, also registers `hookline mcp` as Claude Code's MCP server
//! `hookline` (as `claude mcp add` would: ~/.claude.json or .mcp.json).

use std::path::PathBuf;

use clap::Args;

use super::ScopeOpts;
use crate::config::{self, Config, FileConfig};
use crate::settings::{self, hooks, mcp};

#[derive(Debug, Args)]
pub struct Opts {
    #[command(flatten)]
    pub scope: ScopeOpts,
    /// Base URL of the ingest API, e.g. `https://hooks.example.com` (saved in the config file).
    #[arg(long)]
    pub url: Option<String>,
    /// Bearer token (saved in the config file, readable by you only).
    #[arg(long)]
    pub token: Option<String>,
    /// Register Claude Code's native http hooks (no spool, no transcripts) instead; SessionStart and Setup stay command hooks.
    #[arg(long)]
    pub http: bool,
    /// Program to register (default: this executable).
    #[arg(long, value_name = "PATH")]
    pub command: Option<PathBuf>,
    /// Also register `hookline mcp` (the captured history as MCP tools)
    /// for Claude Code: in ~/.claude.json (user scope) or the project's
    /// .mcp.json (--scope project), as `claude mcp add` writes it.
    #[arg(long)]
    pub mcp: bool,
    /// The `hookline` binary --mcp registers (default: the one beside this
    /// executable, else `hookline` on PATH).
    #[arg(long, value_name = "PATH", requires = "mcp")]
    pub mcp_command: Option<PathBuf>,
    /// Arguments after `hookline mcp` (e.g. --database-url URL); repeat
    /// for several.
    #[arg(
        long = "mcp-arg",
        value_name = "ARG",
        requires = "mcp",
        allow_hyphen_values = true
    )]
    pub mcp_args: Vec<String>,
    /// Print the settings.json that would be written; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(opts: &Opts, cfg: &Config) -> Result<(), String> {
    // 1. The config file: only the keys given change.
    let mut file = config::read_file(&cfg.config_path)?.unwrap_or_default();
    let changed = opts.url.is_some() || opts.token.is_some();
    if let Some(u) = &opts.url {
        file.url = Some(config::base_url(u));
    }
    if let Some(t) = &opts.token {
        file.token = Some(t.trim().to_owned());
    }
    let url = file.url.clone().or_else(|| cfg.url.clone());
    if opts.http && url.is_none() {
        return Err("--http needs a URL: pass --url".into());
    }

    // 2. settings.json.
    let program = match &opts.command {
        Some(p) => p.clone(),
        None => std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?,
    };
    let program = std::fs::canonicalize(&program).unwrap_or(program);
    let plan = hooks::Plan {
        command: hooks::shell_word(&program.to_string_lossy()),
        http_url: opts
            .http
            .then(|| {
                url.as_deref()
                    .map(|u| format!("{}/v1/hook", config::base_url(u)))
            })
            .flatten(),
    };
    let path = opts.scope.scope().path();
    let mut current = settings::load(&path)?;
    let n = hooks::add(&mut current, &plan);
    let mcp_plan = if opts.mcp {
        let mcp_path = mcp::config_path(&opts.scope.scope());
        let mut mcp_config = settings::load(&mcp_path)?;
        let program = opts
            .mcp_command
            .clone()
            .unwrap_or_else(mcp::default_program);
        mcp::add(&mut mcp_config, mcp::entry(&program, &opts.mcp_args))
            .map_err(|e| format!("{}: {e}", mcp_path.display()))?;
        Some((mcp_path, mcp_config))
    } else {
        None
    };
    if opts.dry_run {
        if let Some((p, c)) = &mcp_plan {
            eprintln!("{}:", p.display());
            print!("{}", settings::render(c).map_err(|e| e.to_string())?);
        }
        print!("{}", settings::render(&current).map_err(|e| e.to_string())?);
        eprintln!(
            "(dry run: {} and {} not written)",
            path.display(),
            cfg.config_path.display()
        );
        return Ok(());
    }
    if changed {
        write_config(cfg, &file)?;
        println!(
            "config:   {} (url {})",
            cfg.config_path.display(),
            file.url.as_deref().unwrap_or("unset")
        );
    }
    let backup = settings::save(&path, &current)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!(
        "settings: {} ({n} events{})",
        path.display(),
        if opts.http { ", http hooks" } else { "" }
    );
    if let Some(b) = backup {
        println!("backup:   {}", b.display());
    }
    if let Some((p, c)) = &mcp_plan {
        write_mcp(p, c)?;
        println!("mcp:      {} (server \"hookline\")", p.display());
    }
    if url.is_none() {
        println!(
            "note: no URL configured yet; events are kept in the spool until one is (--url or HOOKLINE_URL)"
        );
    }
    if opts.http {
        println!(
            "note: http hooks send $HOOKLINE_TOKEN: export it in the environment Claude Code starts from"
        );
    }
    Ok(())
}

/// Writes Claude Code's MCP config; a new file is readable by its owner
/// only, as Claude Code creates `~/.claude.json`.
fn write_mcp(path: &std::path::Path, config: &settings::ordered::Json) -> Result<(), String> {
    let existed = path.exists();
    settings::save(path, config).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    #[cfg(unix)]
    if !existed && path.file_name().is_some_and(|n| n == ".claude.json") {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("cannot make {} private: {e}", path.display()))?;
    }
    Ok(())
}

fn write_config(cfg: &Config, file: &FileConfig) -> Result<(), String> {
    config::write_file(&cfg.config_path, file)
        .map_err(|e| format!("cannot write {}: {e}", cfg.config_path.display()))
}
