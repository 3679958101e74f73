//! The site registry: one SQLite-backed Durable Object (named "registry")
//! holding every site's configuration.
//!
//! Why a Durable Object: it is strongly consistent (a deleted site is gone
//! for the next lookup, unlike KV's eventual consistency), it runs unchanged
//! under `wrangler dev`, and the Worker caches lookups briefly (see
//! [`super::lookup`]) so the single object is not on every connection's path.
//!
//! Its HTTP interface is internal (the Worker builds every request):
//! `GET /site/{id}`, `PUT /site/{id}` (a [`SiteUpdate`]), `DELETE /site/{id}`,
//! `GET /sites`.

use std::cell::Cell;

use serde::Deserialize;
use serde_json::json;
use worker::{
    console_error, durable_object, DurableObject, Env, Error, Method, Request, Response, Result,
    Socket, SqlStorage, State, WebSocket, WebSocketIncomingMessage,
};

use super::config::{SecretChange, Site, SiteUpdate};
use crate::clock::now_ms;
use crate::http::{json_error, json_response};
use protocol::Limits;

pub const REGISTRY_OBJECT: &str = "registry";

/// The demo site's limits: `DEMO_SITE_LIMITS` (JSON, as in the admin API),
/// else the defaults. Development sets it in `.dev.vars`: there every client
/// shares the address 127.0.0.1, so per-address limits would lump them together.
fn demo_limits(env: &Env) -> Limits {
    env.var("DEMO_SITE_LIMITS")
        .ok()
        .and_then(|v| serde_json::from_str::<Limits>(&v.to_string()).ok())
        .unwrap_or_default()
        .clamped()
}

/// 64 random bits in hex: a new site's epoch (see `Site::epoch`).
fn new_epoch() -> String {
    crate::random::bytes::<8>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sites (id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS registry_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
";

#[durable_object]
pub struct SiteRegistry {
    sql: std::result::Result<SqlStorage, String>,
    env: Env,
    seeded: Cell<bool>,
}

#[derive(Deserialize)]
struct Record {
    record: String,
}

impl SiteRegistry {
    fn sql(&self) -> Result<&SqlStorage> {
        self.sql.as_ref().map_err(|e| Error::RustError(e.clone()))
    }

    fn get(&self, id: &str) -> Result<Option<Site>> {
        let rows: Vec<Record> = self
            .sql()?
            .exec("SELECT record FROM sites WHERE id = ?", vec![id.into()])?
            .to_array()?;
        match rows.first() {
            Some(r) => Ok(Some(serde_json::from_str(&r.record)?)),
            None => Ok(None),
        }
    }

    fn put(&self, site: &Site) -> Result<()> {
        self.sql()?.exec(
            "INSERT INTO sites (id, record) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record",
            vec![site.id.as_str().into(), serde_json::to_string(site)?.into()],
        )?;
        Ok(())
    }

    /// Create the development/demo site once, from `DEMO_SITE_ORIGINS`
    /// (comma-separated; empty disables it). Deleting it later is final.
    fn seed_once(&self) -> Result<()> {
        if self.seeded.get() {
            return Ok(());
        }
        let sql = self.sql()?;
        let done: Vec<Record> = sql
            .exec(
                "SELECT value AS record FROM registry_meta WHERE key = 'seeded'",
                None,
            )?
            .to_array()?;
        if done.is_empty() {
            let origins: Vec<String> = self
                .env
                .var("DEMO_SITE_ORIGINS")
                .map(|v| v.to_string())
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            let id = super::default_site(&self.env);
            if !origins.is_empty() && self.get(&id)?.is_none() {
                let update = SiteUpdate {
                    id,
                    origins,
                    allow_anonymous: true,
                    allow_no_origin: true,
                    limits: demo_limits(&self.env),
                    moderation: Default::default(),
                    secret: SecretChange::Keep,
                };
                self.put(&update.apply(None, now_ms(), new_epoch()))?;
            }
            sql.exec(
                "INSERT OR REPLACE INTO registry_meta (key, value) VALUES ('seeded', '1')",
                None,
            )?;
        }
        self.seeded.set(true);
        Ok(())
    }

    async fn handle(&self, mut req: Request) -> Result<Response> {
        self.seed_once()?;
        let url = req.url()?;
        let path = url.path().to_owned();
        let id = path.strip_prefix("/site/").unwrap_or("");
        match (req.method(), path.as_str()) {
            (Method::Get, "/sites") => {
                let rows: Vec<Record> = self
                    .sql()?
                    .exec("SELECT record FROM sites ORDER BY id", None)?
                    .to_array()?;
                let sites = rows
                    .iter()
                    .filter_map(|r| serde_json::from_str::<Site>(&r.record).ok())
                    .map(|s| s.public())
                    .collect::<Vec<_>>();
                json_response(200, &json!({ "sites": sites }))
            }
            (Method::Get, _) if !id.is_empty() => match self.get(id)? {
                Some(site) => json_response(200, &serde_json::to_value(&site)?),
                None => json_error(404, "not_found", "no such site"),
            },
            (Method::Put, _) if !id.is_empty() => {
                let update: SiteUpdate = req.json().await?;
                let existing = self.get(id)?;
                let created = existing.is_none();
                let site = update.apply(existing, now_ms(), new_epoch());
                self.put(&site)?;
                json_response(if created { 201 } else { 200 }, &site.public())
            }
            (Method::Delete, _) if !id.is_empty() => {
                let existed = self.get(id)?.is_some();
                self.sql()?
                    .exec("DELETE FROM sites WHERE id = ?", vec![id.into()])?;
                if existed {
                    json_response(200, &json!({ "deleted": id }))
                } else {
                    json_error(404, "not_found", "no such site")
                }
            }
            _ => json_error(404, "not_found", "no such registry path"),
        }
    }
}

impl DurableObject for SiteRegistry {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        let sql = sql
            .exec(SCHEMA, None)
            .map(|_| sql)
            .map_err(|e| e.to_string());
        if let Err(e) = &sql {
            console_error!("registry: cannot open storage: {e}");
        }
        SiteRegistry {
            sql,
            env,
            seeded: Cell::new(false),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        match self.handle(req).await {
            Ok(r) => Ok(r),
            Err(e) => {
                console_error!("registry: {e}");
                json_error(500, "internal", "the site registry failed")
            }
        }
    }

    async fn alarm(&self) -> Result<Response> {
        Response::ok("")
    }

    async fn websocket_message(&self, ws: WebSocket, _m: WebSocketIncomingMessage) -> Result<()> {
        let _ = ws.close(Some(1008), Some("the registry takes no sockets"));
        Ok(())
    }

    async fn websocket_close(
        &self,
        _ws: WebSocket,
        _code: usize,
        _reason: String,
        _clean: bool,
    ) -> Result<()> {
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: Error) -> Result<()> {
        Ok(())
    }

    async fn connect(&self, _socket: Socket) -> Result<()> {
        Err(Error::RustError(
            "the registry accepts no TCP connections".into(),
        ))
    }
}
