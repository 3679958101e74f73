//! Webhooks: the WebhookQueue Durable Object, one per site (named
//! `site:epoch`). It keeps the site's webhooks (URL, events, secret) and a
//! durable queue of deliveries in its SQLite, and delivers them from its
//! alarm: at least once, in order per webhook and room (a lane), each
//! retried with exponential backoff (1 s doubling, at most 30 minutes) until
//! the receiver answers 2xx, for 72 hours. A delivery being retried holds
//! back the later ones of its lane only: the webhook's other rooms, and the
//! other webhooks, keep flowing. Lanes are sent to at once, within bounds
//! (`protocol::webhook::Dispatcher` decides which, and when), so a receiver
//! that hangs until the timeout does not delay the other webhooks. A
//! receiver that is down for an hour gets everything afterwards, in order.
//!
//! Rooms hand their events over with `POST /enqueue` (see
//! `room::site_link`); the site API manages webhooks with
//! `PUT`/`GET`/`DELETE /hooks[/{name}]` (a deleted site's with `DELETE
//! /hooks`: everything); rooms ask `GET /subscribed` which events are wanted. A delivery's body is dropped once it is done (the
//! history keeps ids and outcomes only: no chat text lingers there).

mod deliver;

use std::cell::Cell;
use std::collections::HashMap;
use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::stream::{FuturesUnordered, StreamExt};
use protocol::webhook::{outcome, signature, Dispatcher, LaneHead, Outcome};
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{
    console_error, durable_object, Delay, DurableObject, Env, Method, Request, Response, Result,
    SqlStorage, State,
};

use crate::clock::now_ms;
use crate::http::{json_error, json_response};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS hooks (
    name TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL, secret TEXT NOT NULL, created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    hook TEXT NOT NULL, event_id TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, room TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,
    last_status INTEGER, last_error TEXT, created_at INTEGER NOT NULL, done_at INTEGER
);
CREATE INDEX IF NOT EXISTS deliveries_by_hook ON deliveries (hook, status, seq);
CREATE TABLE IF NOT EXISTS deleted (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS last_sent (kind TEXT PRIMARY KEY, at INTEGER NOT NULL);
";

/// Queues made before deliveries had a room: add it, from the event id
/// (`<room>:<life>:<seq>`), and index the lanes. The `ALTER` fails, harmlessly,
/// where the column exists.
const ADD_ROOM: &str = "ALTER TABLE deliveries ADD COLUMN room TEXT NOT NULL DEFAULT ''";
const LANES: &str = "
UPDATE deliveries SET room = substr(event_id, 1, instr(event_id, ':') - 1)
  WHERE room = '' AND status = 'pending' AND instr(event_id, ':') > 1;
CREATE INDEX IF NOT EXISTS deliveries_by_lane ON deliveries (status, hook, room, seq);
";

/// Deliveries made in one lane in a row before the lanes are planned again.
const PER_LANE: usize = 50;
/// While deliveries are in flight, new events and lanes whose backoff ended
/// are looked for this often.
const TICK_MS: u64 = 200;
/// A run starts no new lane after this long; it ends when those in flight
/// have, and the next alarm carries on.
const RUN_MS: u64 = 5 * 60 * 1000;
/// Events queued at most once per `RATE_LIMITED_MS` for the whole site.
const RATE_LIMITED: [&str; 1] = ["storage.full"];
const RATE_LIMITED_MS: u64 = protocol::room::attachments::STORAGE_FULL_EVERY_MS;
/// Webhooks per site: each event is sent to every one that wants it.
const MAX_HOOKS: usize = 10;
/// Finished deliveries kept per webhook, for `GET` (the rest are forgotten).
const HISTORY: u64 = 100;
/// Deliveries shown per webhook in `GET`.
const SHOWN: u64 = 20;
/// Deliveries that may wait per webhook (each with its event's body): past
/// it, a receiver that has been down for long misses new events, counted in
/// `dropped`, rather than the site's one queue growing without bound
/// (anyone may post, in any number of rooms). `HOOKS_MAX_PENDING` for tests.
const MAX_PENDING: u64 = 10_000;
/// Queues made before `dropped`: the `ALTER` fails, harmlessly, where the
/// column exists.
const ADD_DROPPED: &str = "ALTER TABLE hooks ADD COLUMN dropped INTEGER NOT NULL DEFAULT 0";

#[durable_object(alarm)]
pub struct WebhookQueue {
    state: State,
    sql: SqlStorage,
    /// A delivery run is under way. Runs must not overlap: a second one would
    /// send the head of a lane that the first is still sending.
    running: Cell<bool>,
    /// Events were queued since the run last looked.
    queued: Cell<bool>,
    /// [`MAX_PENDING`], or the test server's.
    max_pending: u64,
}

#[derive(Deserialize, Clone)]
struct Hook {
    name: String,
    url: String,
    events: String,
    secret: String,
    created_at: u64,
    /// Events not queued for it since it was saved: too many waited.
    #[serde(default)]
    dropped: u64,
}

#[derive(Deserialize)]
struct PendingCount {
    hook: String,
    n: u64,
}

#[derive(Deserialize)]
struct Delivery {
    seq: i64,
    event_id: String,
    #[serde(rename = "type")]
    kind: String,
    body: String,
    status: String,
    attempts: u32,
    next_at: u64,
    last_status: Option<u16>,
    last_error: Option<String>,
    created_at: u64,
    done_at: Option<u64>,
}

/// The body of `PUT /hooks/{name}` (already checked by the Worker).
#[derive(Deserialize)]
struct HookInput {
    url: String,
    events: Vec<String>,
    secret: String,
}

/// An event as a room sends it.
#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    room: String,
}

/// A lane's oldest pending delivery, as the lanes query reads it.
#[derive(Deserialize)]
struct HeadRow {
    hook: String,
    room: String,
    next_at: u64,
}

impl WebhookQueue {
    fn exec(&self, query: &str, bindings: Vec<worker::SqlStorageValue>) -> Result<()> {
        let _ = self.sql.exec(query, bindings)?.to_array::<Value>();
        Ok(())
    }

    fn hooks(&self) -> Result<Vec<Hook>> {
        self.sql
            .exec(
                "SELECT name, url, events, secret, created_at, dropped FROM hooks ORDER BY name",
                None,
            )?
            .to_array()
    }

    fn public(&self, h: &Hook) -> Result<Value> {
        let recent: Vec<Delivery> = self
            .sql
            .exec(
                "SELECT seq, event_id, type, body, status, attempts, next_at, last_status, last_error, created_at, done_at
                 FROM deliveries WHERE hook = ? ORDER BY seq DESC LIMIT ?",
                vec![h.name.as_str().into(), (SHOWN as i64).into()],
            )?
            .to_array()?;
        let deliveries: Vec<Value> = recent
            .iter()
            .map(|d| {
                let mut v = json!({ "id": d.event_id, "event": d.kind, "status": d.status, "attempts": d.attempts,
                                    "at": d.done_at.unwrap_or(d.created_at) });
                if let Some(s) = d.last_status {
                    v["lastStatus"] = json!(s);
                }
                if let Some(e) = &d.last_error {
                    v["lastError"] = json!(e);
                }
                v
            })
            .collect();
        let events: Value = serde_json::from_str(&h.events).unwrap_or(json!([]));
        let mut public = json!({ "name": h.name, "url": h.url, "events": events, "createdAt": h.created_at, "deliveries": deliveries });
        if h.dropped > 0 {
            public["dropped"] = json!(h.dropped);
        }
        Ok(public)
    }

    /// Whether an event of `kind` may be queued now: each rate-limited kind
    /// (`storage.full`, which every room of a full site may send) at most
    /// once per [`RATE_LIMITED_MS`] for the whole site; others always.
    fn first_in_its_hour(&self, kind: &str, now: u64) -> Result<bool> {
        if !RATE_LIMITED.contains(&kind) {
            return Ok(true);
        }
        let since = now.saturating_sub(RATE_LIMITED_MS) as i64;
        let recent = self
            .sql
            .exec(
                "SELECT at FROM last_sent WHERE kind = ? AND at > ?",
                vec![kind.into(), since.into()],
            )?
            .to_array::<Value>()?;
        if !recent.is_empty() {
            return Ok(false);
        }
        self.exec(
            "INSERT INTO last_sent (kind, at) VALUES (?, ?) ON CONFLICT (kind) DO UPDATE SET at = excluded.at",
            vec![kind.into(), (now as i64).into()],
        )?;
        Ok(true)
    }

    /// The site was deleted (`DELETE /hooks`): nothing is saved or queued
    /// here any more.
    fn site_deleted(&self) -> Result<bool> {
        let rows = self
            .sql
            .exec("SELECT at FROM deleted", None)?
            .to_array::<Value>()?;
        Ok(!rows.is_empty())
    }

    /// The union of every webhook's events (what rooms should send).
    fn subscribed(&self) -> Result<Vec<String>> {
        let mut all: Vec<String> = Vec::new();
        for h in self.hooks()? {
            for e in serde_json::from_str::<Vec<String>>(&h.events).unwrap_or_default() {
                if !all.contains(&e) {
                    all.push(e);
                }
            }
        }
        all.sort();
        Ok(all)
    }

    async fn handle(&self, mut req: Request) -> Result<Response> {
        let url = req.url()?;
        let path = url.path().to_owned();
        let name = path.strip_prefix("/hooks/").unwrap_or("").to_owned();
        match (req.method(), path.as_str()) {
            (Method::Post, "/enqueue") if self.site_deleted()? => {
                json_response(200, &json!({ "ok": true }))
            }
            (Method::Post, "/enqueue") => {
                let batch: Vec<Value> = req.json().await?;
                let hooks = self.hooks()?;
                let now = now_ms();
                // Room left per webhook before it waits for too many.
                let mut room_left: HashMap<String, u64> = hooks
                    .iter()
                    .map(|h| (h.name.clone(), self.max_pending))
                    .collect();
                let counts: Vec<PendingCount> = self
                    .sql
                    .exec(
                        "SELECT hook, COUNT(*) AS n FROM deliveries WHERE status = 'pending' GROUP BY hook",
                        None,
                    )?
                    .to_array()?;
                for c in counts {
                    if let Some(left) = room_left.get_mut(&c.hook) {
                        *left = left.saturating_sub(c.n);
                    }
                }
                let mut dropped: HashMap<String, u64> = HashMap::new();
                for raw in batch {
                    let Ok(event) = serde_json::from_value::<Event>(raw.clone()) else {
                        continue;
                    };
                    if !self.first_in_its_hour(&event.kind, now)? {
                        continue;
                    }
                    let body = raw.to_string();
                    for h in hooks
                        .iter()
                        .filter(|h| h.events.contains(&format!("\"{}\"", event.kind)))
                    {
                        match room_left.get_mut(&h.name) {
                            Some(left) if *left > 0 => *left -= 1,
                            _ => {
                                *dropped.entry(h.name.clone()).or_default() += 1;
                                continue;
                            }
                        }
                        self.exec(
                            "INSERT INTO deliveries (hook, event_id, type, body, room, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            vec![h.name.as_str().into(), event.id.as_str().into(), event.kind.as_str().into(), body.as_str().into(),
                                 event.room.as_str().into(), (now as i64).into(), (now as i64).into()],
                        )?;
                    }
                }
                for (hook, n) in dropped {
                    console_error!(
                        "webhooks: {hook} has {} deliveries waiting: {n} events not queued",
                        self.max_pending
                    );
                    self.exec(
                        "UPDATE hooks SET dropped = dropped + ? WHERE name = ?",
                        vec![(n as i64).into(), hook.as_str().into()],
                    )?;
                }
                // A run under way takes them up at its next look; else the alarm.
                self.queued.set(true);
                self.state.storage().set_alarm(1).await?;
                json_response(200, &json!({ "ok": true }))
            }
            // The site was deleted: its webhooks (their secrets) and every
            // delivery, whose bodies carry chat text, go now rather than
            // being retried for 72 hours at a site that is no more.
            (Method::Delete, "/hooks") => {
                // For good: this queue is the deleted site's epoch's only, and
                // a Worker that still had the site cached must not fill it again.
                self.exec(
                    "INSERT OR IGNORE INTO deleted (id, at) VALUES (1, ?)",
                    vec![(now_ms() as i64).into()],
                )?;
                self.exec("DELETE FROM hooks", Vec::new())?;
                self.exec("DELETE FROM deliveries", Vec::new())?;
                self.state.storage().delete_alarm().await?;
                json_response(200, &json!({ "ok": true }))
            }
            (Method::Get, "/subscribed") => json_response(200, &json!(self.subscribed()?)),
            (Method::Get, "/hooks") => {
                let list = self
                    .hooks()?
                    .iter()
                    .map(|h| self.public(h))
                    .collect::<Result<Vec<_>>>()?;
                json_response(200, &json!({ "webhooks": list }))
            }
            (Method::Get, _) if !name.is_empty() => {
                match self.hooks()?.into_iter().find(|h| h.name == name) {
                    Some(h) => json_response(200, &self.public(&h)?),
                    None => json_error(404, "not_found", "no such webhook"),
                }
            }
            (Method::Put, _) if !name.is_empty() => {
                let input: HookInput = req.json().await?;
                // (After the body: the site may have been deleted meanwhile.)
                if self.site_deleted()? {
                    return crate::http::unauthorized("unknown or revoked site key");
                }
                let hooks = self.hooks()?;
                let existed = hooks.iter().any(|h| h.name == name);
                if !existed && hooks.len() >= MAX_HOOKS {
                    return json_error(
                        400,
                        "bad_request",
                        &format!("a site has at most {MAX_HOOKS} webhooks"),
                    );
                }
                let events = serde_json::to_string(&input.events)?;
                self.exec(
                    "INSERT INTO hooks (name, url, events, secret, created_at) VALUES (?, ?, ?, ?, ?)
                     ON CONFLICT (name) DO UPDATE SET url = excluded.url, events = excluded.events, secret = excluded.secret, dropped = 0",
                    vec![name.as_str().into(), input.url.into(), events.into(), input.secret.into(), (now_ms() as i64).into()],
                )?;
                let hook = self.hooks()?.into_iter().find(|h| h.name == name);
                let body = match hook {
                    Some(h) => self.public(&h)?,
                    None => return json_error(500, "internal", "the webhook was not saved"),
                };
                json_response(
                    if existed { 200 } else { 201 },
                    &json!({ "webhook": body, "subscribed": self.subscribed()? }),
                )
            }
            (Method::Delete, _) if !name.is_empty() => {
                if !self.hooks()?.iter().any(|h| h.name == name) {
                    return json_error(404, "not_found", "no such webhook");
                }
                self.exec(
                    "DELETE FROM hooks WHERE name = ?",
                    vec![name.as_str().into()],
                )?;
                self.exec(
                    "DELETE FROM deliveries WHERE hook = ?",
                    vec![name.as_str().into()],
                )?;
                json_response(
                    200,
                    &json!({ "deleted": name, "subscribed": self.subscribed()? }),
                )
            }
            _ => json_error(404, "not_found", "no such webhook path"),
        }
    }

    /// The oldest pending delivery of every lane.
    fn heads(&self) -> Result<Vec<LaneHead>> {
        // SQLite takes the bare columns from the row of MIN(seq).
        let rows: Vec<HeadRow> = self
            .sql
            .exec(
                "SELECT hook, room, MIN(seq) AS seq, next_at FROM deliveries WHERE status = 'pending' GROUP BY hook, room",
                None,
            )?
            .to_array()?;
        Ok(rows
            .into_iter()
            .map(|r| LaneHead {
                hook: r.hook,
                room: r.room,
                next_at: r.next_at,
            })
            .collect())
    }

    /// Deliver what is due: the lanes (webhook, room) at once, within the
    /// dispatcher's bounds, each in order; new events and lanes whose backoff
    /// ended are taken up while others are in flight. Returns when the next
    /// delivery is due, if any is waiting.
    async fn run(&self) -> Result<Option<u64>> {
        let started = now_ms();
        let mut dispatcher = Dispatcher::new();
        let mut lanes = FuturesUnordered::new();
        let mut replan = true;
        let mut wake_at: Option<u64> = None;
        loop {
            let now = now_ms();
            if replan || self.queued.get() || wake_at.is_some_and(|w| w <= now) {
                self.queued.set(false);
                let hooks = self.hooks()?;
                let plan = dispatcher.plan(self.heads()?, now, now < started + RUN_MS);
                wake_at = plan.wake_at;
                for (hook, room) in plan.start {
                    match hooks.iter().find(|h| h.name == hook) {
                        Some(h) => lanes.push(self.deliver_lane(h.clone(), room)),
                        // Deleted meanwhile (its deliveries with it).
                        None => dispatcher.finished(&hook, &room),
                    }
                }
                replan = false;
            }
            if lanes.is_empty() {
                if self.queued.get() {
                    continue;
                }
                break;
            }
            let tick = Delay::from(Duration::from_millis(TICK_MS));
            match select(lanes.next(), tick).await {
                Either::Left((Some((hook, room, result)), _)) => {
                    dispatcher.finished(&hook, &room);
                    if let Err(e) = result {
                        console_error!("webhooks: delivering to {hook} failed: {e}");
                    }
                    replan = true;
                }
                Either::Left((None, _)) | Either::Right(_) => {}
            }
        }
        for hook in self.hooks()? {
            // Keep the history bounded.
            self.exec(
                "DELETE FROM deliveries WHERE hook = ? AND status != 'pending' AND seq NOT IN
                 (SELECT seq FROM deliveries WHERE hook = ? AND status != 'pending' ORDER BY seq DESC LIMIT ?)",
                vec![hook.name.as_str().into(), hook.name.as_str().into(), (HISTORY as i64).into()],
            )?;
        }
        // Lanes left due (the run wound down) are due now.
        let now = now_ms();
        let next = self.heads()?.iter().map(|h| h.next_at.max(now)).min();
        Ok(next)
    }

    /// Deliver lane (`hook`, `room`) in order while its head is due, up to
    /// [`PER_LANE`] deliveries; stop at the first that fails (it waits for
    /// its backoff, holding back the lane's later ones).
    async fn deliver_lane(&self, hook: Hook, room: String) -> (String, String, Result<()>) {
        let result = self.deliver_lane_inner(&hook, &room).await;
        (hook.name, room, result)
    }

    async fn deliver_lane_inner(&self, hook: &Hook, room: &str) -> Result<()> {
        for _ in 0..PER_LANE {
            // The webhook as it is now: one moved to a new URL or secret (or
            // deleted) while this lane ran gets nothing more at the old one.
            let Some(hook) = self.hooks()?.into_iter().find(|h| h.name == hook.name) else {
                return Ok(());
            };
            let hook = &hook;
            let head: Vec<Delivery> = self
                .sql
                .exec(
                    "SELECT seq, event_id, type, body, status, attempts, next_at, last_status, last_error, created_at, done_at
                     FROM deliveries WHERE status = 'pending' AND hook = ? AND room = ? ORDER BY seq LIMIT 1",
                    vec![hook.name.as_str().into(), room.into()],
                )?
                .to_array()?;
            let Some(d) = head.into_iter().next() else {
                return Ok(());
            };
            let now = now_ms();
            if d.next_at > now {
                return Ok(());
            }
            let sig = signature(hook.secret.as_bytes(), now / 1000, &d.body);
            let (status, error) =
                deliver::deliver(&hook.url, &d.kind, &d.event_id, &sig, &d.body).await;
            let done = now_ms();
            let attempts = d.attempts + 1;
            let error = if status == 0 {
                error
            } else {
                format!("HTTP {status}")
            };
            match outcome(status, attempts, d.created_at, done) {
                Outcome::Delivered => self.exec(
                    "UPDATE deliveries SET status = 'delivered', body = '', attempts = ?, last_status = ?, last_error = NULL, done_at = ? WHERE seq = ?",
                    vec![i64::from(attempts).into(), (status as i64).into(), (done as i64).into(), d.seq.into()],
                )?,
                Outcome::Failed => self.exec(
                    "UPDATE deliveries SET status = 'failed', body = '', attempts = ?, last_status = ?, last_error = ?, done_at = ? WHERE seq = ?",
                    vec![i64::from(attempts).into(), (status as i64).into(), error.into(), (done as i64).into(), d.seq.into()],
                )?,
                Outcome::Retry { at } => {
                    self.exec(
                        "UPDATE deliveries SET attempts = ?, next_at = ?, last_status = ?, last_error = ? WHERE seq = ?",
                        vec![i64::from(attempts).into(), (at as i64).into(), (status as i64).into(), error.into(), d.seq.into()],
                    )?;
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

impl DurableObject for WebhookQueue {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        if let Err(e) = sql.exec(SCHEMA, None) {
            console_error!("webhooks: cannot open storage: {e}");
        }
        // Fail where the columns exist already: nothing to do then.
        let _ = sql.exec(ADD_ROOM, None);
        let _ = sql.exec(ADD_DROPPED, None);
        if let Err(e) = sql.exec(LANES, None) {
            console_error!("webhooks: cannot index the lanes: {e}");
        }
        WebhookQueue {
            state,
            sql,
            running: Cell::new(false),
            queued: Cell::new(false),
            max_pending: env
                .var("HOOKS_MAX_PENDING")
                .ok()
                .and_then(|v| v.to_string().parse().ok())
                .unwrap_or(MAX_PENDING),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        match self.handle(req).await {
            Ok(r) => Ok(r),
            Err(e) => {
                console_error!("webhooks: {e}");
                json_error(500, "internal", "the webhook queue failed")
            }
        }
    }

    async fn alarm(&self) -> Result<Response> {
        if self.running.replace(true) {
            // Come back when this run is likely over.
            self.state.storage().set_alarm(1_000).await?;
            return Response::ok("");
        }
        let result = self.run().await;
        self.running.set(false);
        match result {
            Ok(Some(at)) => {
                self.state
                    .storage()
                    .set_alarm((at.saturating_sub(now_ms())).max(1) as i64)
                    .await?
            }
            Ok(None) => {}
            Err(e) => {
                console_error!("webhooks: delivery run failed: {e}");
                self.state.storage().set_alarm(5_000).await?;
            }
        }
        Response::ok("")
    }
}
