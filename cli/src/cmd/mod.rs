pub mod dev;
pub mod migrate;
