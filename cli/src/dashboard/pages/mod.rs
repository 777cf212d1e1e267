//! The pages, one file each: a handler parses the request, calls the
//! use case (the store's reader, [`hookline_core::ops`]) and renders with
//! [`super::views`].

pub mod audit;
pub mod export;
pub mod failures;
pub mod health;
pub mod login;
pub mod logs;
pub mod replay;
pub mod search;
pub mod session;
pub mod sessions;
pub mod trace;
pub mod usage;
