pub mod dev;
pub mod migrate;
pub mod serve;
pub mod sessions;
