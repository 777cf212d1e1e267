pub mod dev;
pub mod migrate;
pub mod sessions;
