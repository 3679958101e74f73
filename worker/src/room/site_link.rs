//! What a room tells the rest of its site: which room it is (the Worker
//! says so with every connection and API call), its activity for the site's
//! room list ([`crate::directory`]), and its events for the site's webhooks
//! ([`crate::webhooks`]).
//!
//! Webhook events are first written to the room's own SQLite
//! (`webhook_outbox`) and then handed to the site's queue in order, one
//! batch at a time; a batch the queue did not take stays and is retried from
//! the room's alarm. So an event survives a crash between the two objects,
//! and a room's events reach the queue in the room's order.

use std::cell::Cell;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::{
    console_error, Env, Method, Request, RequestInit, SqlStorage, SqlStorageValue, Storage, Stub,
};

use super::alarm::alarm_by;
use super::store::SqlStore;
use crate::clock::now_ms;

/// Which room this is, and what its site wants to hear.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RoomIdentity {
    pub site: String,
    pub epoch: String,
    pub room: String,
    /// The webhook events the site subscribes to.
    pub hooks: Vec<String>,
}

impl RoomIdentity {
    /// Whether the site's webhooks want `kind` events.
    pub fn wants(&self, kind: &str) -> bool {
        self.hooks.iter().any(|h| h == kind)
    }

    /// The name of the site's per-site objects (directory, webhook queue).
    pub fn site_object(&self) -> String {
        format!("{}:{}", self.site, self.epoch)
    }

    /// The site's object bound as `binding` (`DIRECTORIES`, `WEBHOOKS`).
    fn stub(&self, env: &Env, binding: &str) -> worker::Result<Stub> {
        env.durable_object(binding)?
            .get_by_name(&self.site_object())
    }

    pub fn load(store: &SqlStore) -> Option<RoomIdentity> {
        store
            .meta("identity")
            .ok()
            .flatten()
            .and_then(|j| serde_json::from_str(&j).ok())
    }

    pub fn save(&self, store: &SqlStore) {
        if let Ok(json) = serde_json::to_string(self) {
            if let Err(e) = store.set_meta("identity", &json) {
                console_error!("room: cannot save its identity: {e}");
            }
        }
    }
}

/// Webhook events forwarded per batch.
const BATCH: usize = 50;

async fn post(stub: Stub, path: &str, body: String) -> worker::Result<u16> {
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(body.into()));
    let req = Request::new_with_init(&format!("https://site.internal{path}"), &init)?;
    Ok(stub.fetch_with_request(req).await?.status_code())
}

/// The room's table of webhook events not yet handed to the queue.
#[derive(Clone)]
pub struct WebhookOutbox {
    sql: SqlStorage,
}

#[derive(Deserialize)]
struct Pending {
    id: i64,
    body: String,
}

impl WebhookOutbox {
    pub fn new(sql: SqlStorage) -> Self {
        WebhookOutbox { sql }
    }

    /// Keep a `kind` event of message or notice `data` (JSON), which the
    /// site's webhooks want (see [`RoomIdentity::wants`]).
    pub fn push(
        &self,
        id: &RoomIdentity,
        kind: &str,
        event_id: &str,
        seq: u64,
        timestamp: u64,
        data: &str,
    ) {
        let body = format!(
            r#"{{"id":{},"type":{},"site":{},"room":{},"seq":{seq},"timestamp":{timestamp},"data":{data}}}"#,
            json!(event_id),
            json!(kind),
            json!(id.site),
            json!(id.room)
        );
        if let Err(e) = self.sql.exec(
            "INSERT INTO webhook_outbox (body) VALUES (?)",
            vec![body.into()],
        ) {
            console_error!("room: cannot keep a webhook event: {e}");
        }
    }

    fn pending(&self) -> Option<(i64, Vec<String>)> {
        let bindings = vec![SqlStorageValue::Integer(BATCH as i64)];
        let rows: Vec<Pending> = self
            .sql
            .exec(
                "SELECT id, body FROM webhook_outbox ORDER BY id LIMIT ?",
                bindings,
            )
            .ok()?
            .to_array()
            .ok()?;
        let last = rows.last()?.id;
        Some((last, rows.into_iter().map(|r| r.body).collect()))
    }

    fn taken(&self, last: i64) {
        if let Ok(c) = self.sql.exec(
            "DELETE FROM webhook_outbox WHERE id <= ?",
            vec![SqlStorageValue::Integer(last)],
        ) {
            let _ = c.to_array::<serde_json::Value>();
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pending().is_none()
    }

    /// Drop every waiting event (no webhook wants them any more).
    pub fn clear(&self) {
        self.taken(i64::MAX);
    }
}

/// Hand the waiting events to the site's queue, oldest first, one batch at a
/// time (`busy` keeps a second forwarder from overtaking this one). If the
/// queue cannot take them, the room's alarm tries again in a few seconds.
pub async fn forward(
    env: Env,
    outbox: WebhookOutbox,
    id: RoomIdentity,
    busy: Rc<Cell<bool>>,
    storage: Storage,
) {
    if busy.replace(true) {
        return;
    }
    while let Some((last, bodies)) = outbox.pending() {
        let sent = match id.stub(&env, "WEBHOOKS") {
            Ok(stub) => post(stub, "/enqueue", format!("[{}]", bodies.join(","))).await,
            Err(e) => Err(e),
        };
        match sent {
            Ok(200) => outbox.taken(last),
            other => {
                console_error!("room: the webhook queue did not take the events: {other:?}");
                alarm_by(&storage, now_ms() + RETRY_MS as u64).await;
                break;
            }
        }
    }
    busy.set(false);
}

/// When the queue could not be reached, try again this much later.
pub const RETRY_MS: i64 = 5_000;

/// What the site's room list answers a report.
#[derive(Deserialize)]
struct Heard {
    /// Someone is looking at the part of the list this room is in.
    #[serde(default)]
    watched: bool,
}

/// Tell the site's room list this room's activity: whether someone is
/// looking at this room in the list (then it reports more often), or None
/// if the list did not hear.
pub async fn report(
    env: &Env,
    id: &RoomIdentity,
    last_activity: u64,
    (messages, open_reports): (u64, u64),
) -> Option<bool> {
    let stub = id.stub(env, "DIRECTORIES").ok()?;
    let body = json!({
        "room": id.room,
        "lastActivity": last_activity,
        "messages": messages,
        "openReports": open_reports,
    })
    .to_string();
    let heard = async {
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(body.into()));
        let req = Request::new_with_init("https://site.internal/report", &init)?;
        let mut res = stub.fetch_with_request(req).await?;
        match res.status_code() {
            // An answer without `watched` (a list not yet updated): nobody looks.
            200 => Ok(res.json::<Heard>().await.is_ok_and(|h| h.watched)),
            status => Err(worker::Error::RustError(format!("status {status}"))),
        }
    };
    match heard.await {
        Ok(watched) => Some(watched),
        Err(e) => {
            console_error!("room: cannot report to the room list: {e}");
            None
        }
    }
}

/// The webhook events the site subscribes to now, from its queue.
pub async fn subscribed(env: &Env, id: &RoomIdentity) -> Option<Vec<String>> {
    let stub = id.stub(env, "WEBHOOKS").ok()?;
    let req = Request::new("https://site.internal/subscribed", Method::Get).ok()?;
    let mut res = stub.fetch_with_request(req).await.ok()?;
    if res.status_code() != 200 {
        return None;
    }
    res.json::<Vec<String>>().await.ok()
}

/// Take this room off the site's room list: it was erased (`unused`
/// false: its files' figure goes too), or only opened and left (`unused`:
/// only if the list has heard of nothing written in it, so that a late
/// call cannot take off a room written in meanwhile); whether the list heard.
pub async fn unlist(env: &Env, id: &RoomIdentity, unused: bool) -> bool {
    let Ok(stub) = id.stub(env, "DIRECTORIES") else {
        return false;
    };
    let body = json!({ "room": id.room, "unused": unused }).to_string();
    match post(stub, "/unlist", body).await {
        Ok(status) => status == 200,
        Err(e) => {
            console_error!("room: cannot leave the room list: {e}");
            false
        }
    }
}

/// What the site's room list answers a room's figure of its files.
#[derive(Deserialize)]
struct FileBytesHeard {
    ok: bool,
    elsewhere: u64,
}

/// A room's figure of its files (see `room::file_bytes`).
pub struct FileFigure {
    /// What it holds, with the bytes of uploads being reserved.
    pub bytes: u64,
    /// Of those, the upload this figure reserves (0: none).
    pub upload: u64,
    pub version: u64,
    /// The site's cap, for a figure that reserves an upload.
    pub max: Option<u64>,
}

/// Tell the site's room list this room's figure: whether it took it (within
/// the cap), and what the other rooms hold; None if it did not hear.
pub async fn file_bytes(env: &Env, id: &RoomIdentity, f: &FileFigure) -> Option<(bool, u64)> {
    let stub = id.stub(env, "DIRECTORIES").ok()?;
    let body = json!({ "room": id.room, "bytes": f.bytes, "upload": f.upload,
        "version": f.version, "max": f.max })
    .to_string();
    let heard = async {
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(body.into()));
        let req = Request::new_with_init("https://site.internal/files", &init)?;
        let mut res = stub.fetch_with_request(req).await?;
        match res.status_code() {
            200 => Ok(res.json::<FileBytesHeard>().await?),
            status => Err(worker::Error::RustError(format!("status {status}"))),
        }
    };
    match heard.await {
        Ok(h) => Some((h.ok, h.elsewhere)),
        Err(e) => {
            console_error!("room: cannot tell the room list its files: {e}");
            None
        }
    }
}
