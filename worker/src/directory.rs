//! The RoomDirectory Durable Object: one per site (named `site:epoch`),
//! listing the site's rooms with their last activity and message count, for
//! the site API's room list and for requests that span every room (a user's
//! export or erasure). Rooms report to it now and then (at most every 10 s
//! when busy), so it is off every message's path.
//!
//! Internal interface: `POST /report {room, lastActivity, messages}`,
//! `POST /unlist {room}`, `GET /rooms?limit=&cursor=` (by room id, paged).

use serde::Deserialize;
use serde_json::json;
use worker::{
    console_error, durable_object, DurableObject, Env, Method, Request, Response, Result,
    SqlStorage, State,
};

use crate::http::{json_error, json_response};

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS rooms (
    room TEXT PRIMARY KEY,
    last_activity INTEGER NOT NULL,
    messages INTEGER NOT NULL
)";

#[durable_object(fetch)]
pub struct RoomDirectory {
    sql: SqlStorage,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    room: String,
    #[serde(default)]
    last_activity: u64,
    #[serde(default)]
    messages: u64,
}

#[derive(Deserialize)]
struct Row {
    room: String,
    last_activity: u64,
    messages: u64,
}

impl RoomDirectory {
    async fn handle(&self, mut req: Request) -> Result<Response> {
        let url = req.url()?;
        match (req.method(), url.path()) {
            (Method::Post, "/report") => {
                let r: Report = req.json().await?;
                // Reports may arrive out of order: activity only moves forward.
                let c = self.sql.exec(
                    "INSERT INTO rooms (room, last_activity, messages) VALUES (?, ?, ?)
                     ON CONFLICT (room) DO UPDATE SET
                       messages = CASE WHEN excluded.last_activity >= last_activity THEN excluded.messages ELSE messages END,
                       last_activity = MAX(last_activity, excluded.last_activity)",
                    vec![r.room.into(), (r.last_activity as i64).into(), (r.messages as i64).into()],
                )?;
                let _ = c.to_array::<serde_json::Value>();
                json_response(200, &json!({ "ok": true }))
            }
            (Method::Post, "/unlist") => {
                let r: Report = req.json().await?;
                let c = self
                    .sql
                    .exec("DELETE FROM rooms WHERE room = ?", vec![r.room.into()])?;
                let _ = c.to_array::<serde_json::Value>();
                json_response(200, &json!({ "ok": true }))
            }
            (Method::Get, "/rooms") => {
                let param = |k: &str| {
                    url.query_pairs()
                        .find(|(key, _)| key == k)
                        .map(|(_, v)| v.to_string())
                };
                let limit = match param("limit").map(|l| l.parse::<u32>()) {
                    None => 50,
                    Some(Ok(l)) if (1..=100).contains(&l) => l,
                    Some(_) => return json_error(400, "bad_request", "limit is 1-100"),
                };
                let cursor = param("cursor").unwrap_or_default();
                let rows: Vec<Row> = self
                    .sql
                    .exec(
                        "SELECT room, last_activity, messages FROM rooms WHERE room > ? ORDER BY room LIMIT ?",
                        vec![cursor.into(), (limit as i64 + 1).into()],
                    )?
                    .to_array()?;
                let more = rows.len() > limit as usize;
                let rooms: Vec<_> = rows
                    .iter()
                    .take(limit as usize)
                    .map(|r| json!({ "room": r.room, "lastActivity": r.last_activity, "messages": r.messages }))
                    .collect();
                let next = more
                    .then(|| rows.get(limit as usize - 1).map(|r| r.room.clone()))
                    .flatten();
                let mut body = json!({ "rooms": rooms });
                if let Some(next) = next {
                    body["next"] = json!(next);
                }
                json_response(200, &body)
            }
            _ => json_error(404, "not_found", "no such directory path"),
        }
    }
}

impl DurableObject for RoomDirectory {
    fn new(state: State, _env: Env) -> Self {
        let sql = state.storage().sql();
        if let Err(e) = sql.exec(SCHEMA, None) {
            console_error!("directory: cannot open storage: {e}");
        }
        RoomDirectory { sql }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        match self.handle(req).await {
            Ok(r) => Ok(r),
            Err(e) => {
                console_error!("directory: {e}");
                json_error(500, "internal", "the room list failed")
            }
        }
    }
}
