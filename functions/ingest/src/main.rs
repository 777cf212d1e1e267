//! hookline ingest function. The HTTP contract is built in issue 3; this shell
//! only proves the package builds and links against `hookline-core`.

fn main() -> anyhow::Result<()> {
    anyhow::bail!(
        "hookline-ingest {} is not implemented yet (see docs/architecture.md)",
        hookline_core::VERSION
    )
}
