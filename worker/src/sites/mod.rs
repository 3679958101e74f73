//! Sites (tenants): configuration, the registry Durable Object that stores
//! it, and the Worker's cached lookups.

// Pure (validation, merging, rotation): in the sans-IO core, tested natively.
pub use protocol::site_config as config;
pub mod lookup;
pub mod registry;

use worker::Env;

/// The site used when a connection names none (`DEFAULT_SITE`, else `demo`).
pub fn default_site(env: &Env) -> String {
    env.var("DEFAULT_SITE")
        .map(|v| v.to_string())
        .unwrap_or_else(|_| "demo".into())
}
