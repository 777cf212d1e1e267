//! `hookline-hook uninstall`: removes hookline's hooks from Claude Code's
//! settings.json, and only them (with a backup), and the `hookline` MCP
//! server `install --mcp` registered. The config file and the spool stay.

use clap::Args;

use super::ScopeOpts;
use crate::settings::{self, hooks, mcp};

#[derive(Debug, Args)]
pub struct Opts {
    #[command(flatten)]
    pub scope: ScopeOpts,
    /// Print the settings.json that would be written; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(opts: &Opts) -> Result<(), String> {
    remove_mcp(opts)?;
    let path = opts.scope.scope().path();
    if !path.exists() {
        println!("{} does not exist; nothing to remove", path.display());
        return Ok(());
    }
    let mut current = settings::load(&path)?;
    let removed = hooks::remove_ours(&mut current);
    if opts.dry_run {
        print!("{}", settings::render(&current).map_err(|e| e.to_string())?);
        eprintln!(
            "(dry run: {removed} handlers would be removed; {} not written)",
            path.display()
        );
        return Ok(());
    }
    if removed == 0 {
        println!("no hookline hooks in {}", path.display());
        return Ok(());
    }
    let backup = settings::save(&path, &current)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("removed {removed} hookline hooks from {}", path.display());
    if let Some(b) = backup {
        println!("backup:  {}", b.display());
    }
    Ok(())
}

/// Removes the `hookline` MCP server from the scope's MCP config, if there.
fn remove_mcp(opts: &Opts) -> Result<(), String> {
    let path = mcp::config_path(&opts.scope.scope());
    if !path.exists() {
        return Ok(());
    }
    let mut config = settings::load(&path)?;
    if !mcp::remove(&mut config) {
        return Ok(());
    }
    if opts.dry_run {
        eprintln!(
            "(dry run: the MCP server hookline would be removed from {})",
            path.display()
        );
        return Ok(());
    }
    let backup = settings::save(&path, &config)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("removed the MCP server hookline from {}", path.display());
    if let Some(b) = backup {
        println!("backup:  {}", b.display());
    }
    Ok(())
}
