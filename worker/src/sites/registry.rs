//! The site registry: one SQLite-backed Durable Object (named "registry")
//! holding every site's configuration.
//!
//! Why a Durable Object: it is strongly consistent (a deleted site is gone
//! for the next lookup, unlike KV's eventual consistency), it runs unchanged
//! under `wrangler dev`, and the Worker caches lookups briefly (see
//! [`super::lookup`]) so the single object is not on every connection's path.
//!
//! Its HTTP interface is internal (the Worker builds every request):
//! `GET /sites`; `GET`, `PUT` (create or edit), `PATCH` (edit), `DELETE`
//! `/site/{id}` (the bodies are [`SiteInput`]s: the registry holds the
//! current record, so it merges and checks); `POST /site/{id}/rotate`,
//! `PUT /site/{id}/hooks`; site keys: `POST`/`GET /site/{id}/keys`,
//! `DELETE /site/{id}/keys/{key}`, `GET /key/{key}` (which site, which hash).

use std::cell::Cell;

use serde::Deserialize;
use serde_json::json;
use worker::{
    console_error, durable_object, DurableObject, Env, Error, Method, Request, Response, Result,
    Socket, SqlStorage, State, WebSocket, WebSocketIncomingMessage,
};

use super::config::{rotate, Site, SiteInput};
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
CREATE TABLE IF NOT EXISTS site_keys (id TEXT PRIMARY KEY, site TEXT NOT NULL, hash TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS site_keys_by_site ON site_keys (site);
";

#[derive(Deserialize)]
struct KeyRow {
    id: String,
    site: String,
    hash: String,
    created_at: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rotation {
    secret: String,
    grace_ms: u64,
}

#[derive(Deserialize)]
struct NewKey {
    id: String,
    hash: String,
}

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
                let input = SiteInput {
                    origins: Some(origins),
                    allow_no_origin: Some(true),
                    ..SiteInput::default()
                };
                if let Ok(mut site) = input.apply(&id, None, now_ms(), new_epoch()) {
                    site.limits = demo_limits(&self.env);
                    self.put(&site)?;
                }
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
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let not_found = || json_error(404, "not_found", "no such site");
        match (req.method(), parts.as_slice()) {
            (Method::Get, ["sites"]) => {
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
            (Method::Get, ["site", id]) => match self.get(id)? {
                Some(site) => json_response(200, &serde_json::to_value(&site)?),
                None => not_found(),
            },
            (method @ (Method::Put | Method::Patch), ["site", id]) => {
                let input: SiteInput = match serde_json::from_str(&req.text().await?) {
                    Ok(input) => input,
                    Err(e) => {
                        return json_error(
                            400,
                            "bad_request",
                            &format!("invalid site configuration: {e}"),
                        )
                    }
                };
                let existing = self.get(id)?;
                if existing.is_none() && method == Method::Patch {
                    return not_found();
                }
                let created = existing.is_none();
                match input.apply(id, existing, now_ms(), new_epoch()) {
                    Ok(site) => {
                        self.put(&site)?;
                        json_response(if created { 201 } else { 200 }, &site.public())
                    }
                    Err(e) => json_error(400, "bad_request", &e.to_string()),
                }
            }
            // The body is read before the record: between reading the record
            // and writing it back nothing may wait, or an edit landing in
            // between would be lost.
            (Method::Post, ["site", id, "rotate"]) => {
                let rotation: Rotation = req.json().await?;
                let Some(mut site) = self.get(id)? else {
                    return not_found();
                };
                let now = now_ms();
                rotate(&mut site, rotation.secret, rotation.grace_ms, now);
                self.put(&site)?;
                json_response(200, &json!({ "previousValidUntil": site.previous_until }))
            }
            (Method::Put, ["site", id, "hooks"]) => {
                let hooks = req.json().await?;
                let Some(mut site) = self.get(id)? else {
                    return not_found();
                };
                site.hooks = hooks;
                // Rooms take hooks only from tickets as new as what they have.
                site.updated_at = super::config::next_version(site.updated_at, now_ms());
                self.put(&site)?;
                json_response(200, &json!({ "hooks": site.hooks }))
            }
            (Method::Delete, ["site", id]) => {
                if self.get(id)?.is_none() {
                    return not_found();
                }
                self.sql()?
                    .exec("DELETE FROM sites WHERE id = ?", vec![(*id).into()])?;
                self.sql()?
                    .exec("DELETE FROM site_keys WHERE site = ?", vec![(*id).into()])?;
                json_response(200, &json!({ "deleted": id }))
            }
            (Method::Post, ["site", id, "keys"]) => {
                if self.get(id)?.is_none() {
                    return not_found();
                }
                let key: NewKey = req.json().await?;
                let now = now_ms();
                self.sql()?.exec(
                    "INSERT INTO site_keys (id, site, hash, created_at) VALUES (?, ?, ?, ?)",
                    vec![
                        key.id.as_str().into(),
                        (*id).into(),
                        key.hash.as_str().into(),
                        (now as i64).into(),
                    ],
                )?;
                json_response(201, &json!({ "id": key.id, "createdAt": now }))
            }
            (Method::Get, ["site", id, "keys"]) => {
                if self.get(id)?.is_none() {
                    return not_found();
                }
                let rows: Vec<KeyRow> = self
                    .sql()?
                    .exec("SELECT id, site, hash, created_at FROM site_keys WHERE site = ? ORDER BY created_at", vec![(*id).into()])?
                    .to_array()?;
                let keys: Vec<_> = rows
                    .iter()
                    .map(|k| json!({ "id": k.id, "createdAt": k.created_at }))
                    .collect();
                json_response(200, &json!({ "keys": keys }))
            }
            (Method::Delete, ["site", id, "keys", key]) => {
                let cursor = self.sql()?.exec(
                    "DELETE FROM site_keys WHERE id = ? AND site = ?",
                    vec![(*key).into(), (*id).into()],
                )?;
                let _ = cursor.to_array::<serde_json::Value>();
                if cursor.rows_written() == 0 {
                    return json_error(404, "not_found", "no such key");
                }
                json_response(200, &json!({ "deleted": key }))
            }
            (Method::Get, ["key", key]) => {
                let rows: Vec<KeyRow> = self
                    .sql()?
                    .exec(
                        "SELECT id, site, hash, created_at FROM site_keys WHERE id = ?",
                        vec![(*key).into()],
                    )?
                    .to_array()?;
                // With the site's epoch: a key cached elsewhere must not
                // outlive its site into a new one with the same id.
                match rows.first() {
                    Some(k) => match self.get(&k.site)? {
                        Some(site) => json_response(
                            200,
                            &json!({ "site": k.site, "hash": k.hash, "epoch": site.epoch }),
                        ),
                        None => json_error(404, "not_found", "no such key"),
                    },
                    None => json_error(404, "not_found", "no such key"),
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
