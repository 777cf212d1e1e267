//! Opening the store for the read and operator commands: the same choice as
//! `hookline serve` (`DATABASE_URL`, else the SQLite file in the data dir).

use std::path::PathBuf;
use std::sync::Arc;

use hookline_core::store::Reader;

use crate::backend;

#[derive(Debug, clap::Args)]
pub struct DbOpts {
    /// Database: postgres://… or sqlite://PATH; absent → the SQLite file of
    /// `hookline serve` in the data dir.
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// The data dir of `hookline serve` (default ~/.local/share/hookline).
    #[arg(long, global = true, env = "HOOKLINE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

pub async fn open_reader(opts: &DbOpts) -> anyhow::Result<Arc<dyn Reader>> {
    let dir = backend::data_dir(opts.data_dir.clone())?;
    Ok(backend::open_store(opts.database_url.as_deref(), &dir)
        .await?
        .reader)
}
