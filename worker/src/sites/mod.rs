//! Sites (tenants): configuration, the registry Durable Object that stores
//! it, and the Worker's cached lookups.

pub mod config;
pub mod lookup;
pub mod registry;
