//! The Hello Chat server: a Cloudflare Worker and its Durable Objects.
//!
//! A request travels: [`router`] (which path?) -> [`upgrade`] (checks the
//! query, the site and the identity, before any room is woken) -> the
//! [`room::Room`] Durable Object for that site and room, which keeps the
//! room's sockets (hibernation API) and its history (SQLite, see
//! [`room::store`]). A room past a thousand connections hands new ones to
//! [`shard::RoomFanout`] objects, which hold sockets and nothing else. Static files (the demo and the widget) never reach this
//! code: wrangler's asset server answers them first.

mod admin;
mod api;
mod clock;
mod directory;
mod files;
mod http;
mod random;
mod room;
mod router;
mod shard;
mod sites;
mod ticket;
mod upgrade;
mod webhooks;

use worker::{event, Context, Env, Request, Response, Result};

pub use directory::RoomDirectory;
pub use room::Room;
pub use shard::RoomFanout;
pub use sites::registry::SiteRegistry;
pub use webhooks::WebhookQueue;

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    router::handle(req, env).await
}
