//! One module per subcommand: `Opts` (its arguments) and `run`.

pub mod backfill;
pub mod doctor;
pub mod flush;
pub mod install;
pub mod status;
pub mod uninstall;

use std::path::PathBuf;

use clap::Args;

use crate::settings::Scope;

/// Which Claude Code settings file (shared by install, uninstall, doctor).
#[derive(Debug, Args)]
pub struct ScopeOpts {
    /// Use the project's .claude/settings.json (in --project-dir).
    #[arg(long, conflicts_with = "user")]
    pub project: bool,
    /// Use the user's ~/.claude/settings.json (the default).
    #[arg(long)]
    pub user: bool,
    /// The same as --user or --project, spelled as `claude mcp add` does.
    #[arg(long, value_enum, conflicts_with_all = ["user", "project"])]
    pub scope: Option<ScopeName>,
    /// Project folder for --project (default: the current folder).
    #[arg(long, value_name = "DIR")]
    pub project_dir: Option<PathBuf>,
}

/// `--scope`'s values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ScopeName {
    User,
    Project,
}

impl ScopeOpts {
    pub fn scope(&self) -> Scope {
        if self.project || self.scope == Some(ScopeName::Project) {
            Scope::Project(
                self.project_dir
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(".")),
            )
        } else {
            Scope::User
        }
    }
}
