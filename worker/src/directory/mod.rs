//! The RoomDirectory Durable Object: one per site (named `site:epoch`),
//! listing the site's rooms with their last activity and message count, for
//! the site API's room list and for requests that span every room (a user's
//! export or erasure). Rooms report to it now and then (at most every 10 s
//! when busy), so it is off every message's path.
//!
//! While someone is looking at the list (the moderation console polls it
//! while it is shown), the rooms in the part of it they listed report more
//! often, every 2 s when busy: the answer to a room's report says whether
//! it is in a part listed in the last 15 s (see `protocol::room_watch`). The
//! cost is bounded by what was listed, at most 8 pages of at
//! most 100 rooms, and is paid only while someone looks.
//!
//! It also tells the site's rooms when the site's rules change (word filter,
//! emoji, limits…): the Worker hands it the news (`POST /rules`, an
//! [`ApiTicket`] without a room) and its alarm passes it to every listed
//! room, [`NEWS_BATCH`] at a time, so rooms whose members are connected stop
//! judging by the old rules within a second or so, without asking anyone on
//! a message's path. Rooms not listed (never used) learn with their first
//! connection, as always.
//!
//! News that changes nothing rooms see (a PATCH of origins, or of nothing)
//! is not passed on. News arriving while a round is under way does not
//! restart it from the first room: it goes on from where it is, then wraps
//! around to the rooms it had passed, so that a site changed more often
//! than a round lasts still reaches its last rooms.
//!
//! A room reports when members first connect too (with `lastActivity` 0
//! if nothing was ever written in it), so that rooms with members hear the
//! news; those rooms stay out of `GET /rooms` until something is written.
//!
//! It keeps the bytes of files each room holds too ([`file_bytes`]), for
//! the site's cap on them.
//!
//! Internal interface: `POST /report {room, lastActivity, messages,
//! openReports}` (answers
//! `{ok, watched}`), `POST /unlist {room}`, `GET /rooms?limit=&cursor=` (by
//! room id, paged; `&watch=1`: a person is looking at this page, as the
//! site API passes it on; each room with its `fileBytes`, and the site's
//! in all), `POST /rules` (an `ApiTicket`), `POST /files {room, bytes,
//! version, max?}` (answers `{ok, elsewhere}`), `POST /erase` (an
//! `ApiTicket` of the site as it was, deleted).

mod erase;
mod file_bytes;

pub use self::erase::erase_site;

use std::cell::RefCell;

use futures_util::future::join_all;
use protocol::room_watch::Watched;
use protocol::site_api::{room_list_query, RoomListQuery};
use serde::Deserialize;
use serde_json::json;
use worker::{
    console_error, durable_object, DurableObject, Env, Headers, Method, Request, RequestInit,
    Response, Result, SqlStorage, State,
};

use self::file_bytes::FileBytes;
use crate::clock::now_ms;
use crate::http::{json_error, json_response};
use crate::sites::config::Site;
use crate::ticket::{header_value, ApiTicket, SITE_HEADER};
use crate::upgrade::object_name;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS rooms (
    room TEXT PRIMARY KEY,
    last_activity INTEGER NOT NULL,
    messages INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS news (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    ticket TEXT NOT NULL,
    cursor TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS told (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rules TEXT NOT NULL,
    version INTEGER NOT NULL
)";

/// Added to `rooms` after its first version (an error once they exist):
/// the open reports a room holds, so that an owner sees where reports wait
/// without opening every room.
const ROOM_COLUMNS: [&str; 1] =
    ["ALTER TABLE rooms ADD COLUMN open_reports INTEGER NOT NULL DEFAULT 0"];

/// Added to `news` after its first version (an error once they exist).
/// `end_at`: the round, after its last room, wraps around to tell the rooms
/// up to this one (NULL: it started at the first room); `wrapped`: it has.
const NEWS_COLUMNS: [&str; 2] = [
    "ALTER TABLE news ADD COLUMN end_at TEXT",
    "ALTER TABLE news ADD COLUMN wrapped INTEGER NOT NULL DEFAULT 0",
];

/// Rooms told of the site's new rules at once, per alarm.
const NEWS_BATCH: usize = 25;

#[durable_object(alarm)]
pub struct RoomDirectory {
    state: State,
    env: Env,
    sql: SqlStorage,
    watched: RefCell<Watched>,
    file_bytes: FileBytes,
}

#[derive(Deserialize)]
struct News {
    version: u64,
    ticket: String,
    cursor: String,
    end_at: Option<String>,
    wrapped: u8,
}

/// Tell `site`'s rooms its rules as they are now (after a change), through
/// its room list. A failure is logged: rooms still learn with their next
/// connection or API call.
pub async fn announce(env: &Env, site: &Site) {
    match post_site(env, site, "/rules").await {
        Ok(200) => {}
        other => console_error!(
            "directory: the rooms of {} were not told: {other:?}",
            site.id
        ),
    }
}

/// `POST <path>` to `site`'s room list, with the site (as an `ApiTicket`).
async fn post_site(env: &Env, site: &Site, path: &str) -> Result<u16> {
    let body = serde_json::to_string(&ApiTicket::of(site, ""))?;
    let stub = env
        .durable_object("DIRECTORIES")?
        .get_by_name(&format!("{}:{}", site.id, site.epoch))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(body.into()));
    let req = Request::new_with_init(&format!("https://site.internal{path}"), &init)?;
    Ok(stub.fetch_with_request(req).await?.status_code())
}

/// Call room `ticket.place.room` with `ticket` in header `header`.
async fn call_room(
    namespace: &worker::ObjectNamespace,
    ticket: &ApiTicket,
    header: &str,
    method: Method,
    path: &str,
) -> Result<Response> {
    let headers = Headers::new();
    headers.set(header, &header_value(ticket)?)?;
    let mut init = RequestInit::new();
    init.with_method(method).with_headers(headers);
    let req = Request::new_with_init(&format!("https://room.internal{path}"), &init)?;
    let p = &ticket.place;
    let stub = namespace.get_by_name(&object_name(&p.site, &p.epoch, &p.room))?;
    stub.fetch_with_request(req).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    room: String,
    #[serde(default)]
    last_activity: u64,
    #[serde(default)]
    messages: u64,
    /// Absent from rooms not yet updated: what the list holds stays.
    #[serde(default)]
    open_reports: Option<u64>,
    /// `/unlist` of a room only opened and left: only if nothing written
    /// in it was reported (a report may overtake the call).
    #[serde(default)]
    unused: bool,
}

#[derive(Deserialize)]
struct RoomFiles {
    room: String,
    #[serde(flatten)]
    figure: file_bytes::Figure,
}

#[derive(Deserialize)]
struct Told {
    rules: String,
    version: u64,
}

#[derive(Deserialize)]
struct Row {
    room: String,
    last_activity: u64,
    messages: u64,
    #[serde(default)]
    file_bytes: u64,
    #[serde(default)]
    open_reports: u64,
}

impl RoomDirectory {
    async fn handle(&self, mut req: Request) -> Result<Response> {
        let url = req.url()?;
        match (req.method(), url.path()) {
            (Method::Post, "/report") => {
                let r: Report = req.json().await?;
                // Reports may arrive out of order: activity only moves forward.
                let c = self.sql.exec(
                    "INSERT INTO rooms (room, last_activity, messages, open_reports) VALUES (?, ?, ?, COALESCE(?, 0))
                     ON CONFLICT (room) DO UPDATE SET
                       messages = CASE WHEN excluded.last_activity >= last_activity THEN excluded.messages ELSE messages END,
                       open_reports = CASE WHEN ?4 IS NOT NULL AND excluded.last_activity >= last_activity THEN ?4 ELSE open_reports END,
                       last_activity = MAX(last_activity, excluded.last_activity)",
                    vec![
                        r.room.clone().into(),
                        (r.last_activity as i64).into(),
                        (r.messages as i64).into(),
                        r.open_reports.map(|n| n as i64).into(),
                    ],
                )?;
                let _ = c.to_array::<serde_json::Value>();
                let watched = self.watched.borrow().covers(&r.room, now_ms());
                json_response(200, &json!({ "ok": true, "watched": watched }))
            }
            (Method::Post, "/unlist") => {
                let r: Report = req.json().await?;
                if r.unused {
                    let c = self.sql.exec(
                        "DELETE FROM rooms WHERE room = ? AND last_activity = 0 AND messages = 0",
                        vec![r.room.clone().into()],
                    )?;
                    let _ = c.to_array::<serde_json::Value>();
                    return json_response(200, &json!({ "ok": true }));
                }
                let c = self.sql.exec(
                    "DELETE FROM rooms WHERE room = ?",
                    vec![r.room.clone().into()],
                )?;
                let _ = c.to_array::<serde_json::Value>();
                // An erased room's files are deleted with it.
                self.file_bytes.forget_room(&r.room)?;
                json_response(200, &json!({ "ok": true }))
            }
            (Method::Post, "/erase") => {
                let text = req.text().await?;
                if serde_json::from_str::<ApiTicket>(&text).is_err() {
                    return json_error(400, "bad_request", "bad site");
                }
                self.start_erasing(&text).await?;
                json_response(200, &json!({ "ok": true }))
            }
            (Method::Post, "/files") => {
                let r: RoomFiles = req.json().await?;
                let (ok, elsewhere) = self.file_bytes.tell(&r.room, &r.figure)?;
                json_response(200, &json!({ "ok": ok, "elsewhere": elsewhere }))
            }
            (Method::Get, "/rooms") => {
                let param = |k: &str| {
                    url.query_pairs()
                        .find(|(key, _)| key == k)
                        .map(|(_, v)| v.to_string())
                };
                let query = room_list_query(
                    param("limit").as_deref(),
                    param("cursor").as_deref(),
                    param("watch").as_deref(),
                );
                let RoomListQuery {
                    limit,
                    cursor,
                    watch,
                } = match query {
                    Ok(q) => q,
                    Err(why) => return json_error(400, "bad_request", why),
                };
                let rows: Vec<Row> = self
                    .sql
                    .exec(
                        // Rooms only joined, never written in, are listed
                        // for the news of the site's rules alone (unless
                        // they hold files: the owner must find those).
                        "SELECT r.room, r.last_activity, r.messages, r.open_reports, COALESCE(f.bytes, 0) AS file_bytes
                         FROM rooms r LEFT JOIN room_files f ON f.room = r.room
                         WHERE r.room > ? AND (r.last_activity > 0 OR f.bytes > 0) ORDER BY r.room LIMIT ?",
                        vec![cursor.clone().into(), (limit as i64 + 1).into()],
                    )?
                    .to_array()?;
                let more = rows.len() > limit as usize;
                let rooms: Vec<_> = rows
                    .iter()
                    .take(limit as usize)
                    .map(|r| json!({ "room": r.room, "lastActivity": r.last_activity, "messages": r.messages, "openReports": r.open_reports, "fileBytes": r.file_bytes }))
                    .collect();
                let next = more
                    .then(|| rows.get(limit as usize - 1).map(|r| r.room.clone()))
                    .flatten();
                // Only a page a person looks at (the console says so):
                // a backend paging through every room changes nothing.
                if watch {
                    self.watched
                        .borrow_mut()
                        .listed(&cursor, next.as_deref(), now_ms());
                }
                let mut body = json!({ "rooms": rooms, "fileBytes": self.file_bytes.total()? });
                if let Some(next) = next {
                    body["next"] = json!(next);
                }
                json_response(200, &body)
            }
            (Method::Post, "/rules") => {
                let text = req.text().await?;
                let Ok(ticket) = serde_json::from_str::<ApiTicket>(&text) else {
                    return json_error(400, "bad_request", "bad rules");
                };
                // The same rules as the last news (another field changed):
                // nothing for the rooms.
                let mut unversioned = ticket.clone();
                unversioned.place.version = 0;
                let rules = serde_json::to_string(&unversioned)?;
                // Older news than the last (a slow request) is dropped too.
                let version = ticket.place.version;
                let told: Vec<Told> = self
                    .sql
                    .exec("SELECT rules, version FROM told WHERE id = 1", None)?
                    .to_array()?;
                if told
                    .first()
                    .is_some_and(|t| t.rules == rules || version < t.version)
                {
                    return json_response(200, &json!({ "ok": true, "unchanged": true }));
                }
                let c = self.sql.exec(
                    "INSERT INTO told (id, rules, version) VALUES (1, ?, ?)
                     ON CONFLICT (id) DO UPDATE SET rules = excluded.rules, version = excluded.version",
                    vec![rules.into(), (version as i64).into()],
                )?;
                let _ = c.to_array::<serde_json::Value>();
                // Older news than what is being told already is dropped.
                // Newer news mid-round goes on from the round's cursor,
                // then wraps around to the rooms before it.
                let c = self.sql.exec(
                    "INSERT INTO news (id, version, ticket, cursor, end_at, wrapped) VALUES (1, ?, ?, '', NULL, 0)
                     ON CONFLICT (id) DO UPDATE SET version = excluded.version, ticket = excluded.ticket,
                       end_at = CASE WHEN cursor = '' THEN NULL ELSE cursor END, wrapped = 0
                     WHERE excluded.version >= version",
                    vec![(ticket.place.version as i64).into(), text.into()],
                )?;
                let _ = c.to_array::<serde_json::Value>();
                self.state.storage().set_alarm(1).await?;
                json_response(200, &json!({ "ok": true }))
            }
            _ => json_error(404, "not_found", "no such directory path"),
        }
    }

    /// Tell the next batch of rooms the site's new rules; true while more
    /// are left.
    async fn tell_rooms(&self) -> Result<bool> {
        let news: Vec<News> = self
            .sql
            .exec(
                "SELECT version, ticket, cursor, end_at, wrapped FROM news WHERE id = 1",
                None,
            )?
            .to_array()?;
        let Some(news) = news.into_iter().next() else {
            return Ok(false);
        };
        // After wrapping around, only the rooms up to where it wrapped from.
        let end = match (&news.end_at, news.wrapped) {
            (Some(end), 1) => end.as_str(),
            // Above every room id (ASCII).
            _ => "\u{10FFFF}",
        };
        let rooms: Vec<Row> = self
            .sql
            .exec(
                "SELECT room, last_activity, messages FROM rooms WHERE room > ? AND room <= ? ORDER BY room LIMIT ?",
                vec![news.cursor.as_str().into(), end.into(), (NEWS_BATCH as i64).into()],
            )?
            .to_array()?;
        let ticket: Option<ApiTicket> = serde_json::from_str(&news.ticket).ok();
        if let Some(ticket) = ticket {
            let namespace = self.env.durable_object("ROOMS")?;
            let calls =
                rooms.iter().map(|row| {
                    let mut ticket = ticket.clone();
                    ticket.place.room = row.room.clone();
                    let namespace = &namespace;
                    async move {
                        call_room(namespace, &ticket, SITE_HEADER, Method::Post, "/site").await
                    }
                });
            for (row, result) in rooms.iter().zip(join_all(calls).await) {
                match result {
                    Ok(r) if r.status_code() < 300 => {}
                    Ok(r) => {
                        console_error!("directory: room {} answered {}", row.room, r.status_code())
                    }
                    Err(e) => console_error!("directory: room {} not told: {e}", row.room),
                }
            }
        }
        let version = news.version as i64;
        let more = rooms.len() == NEWS_BATCH;
        // News that came meanwhile changed the version: its round goes on
        // from this batch, which it tells again.
        let c = match rooms.last() {
            Some(last) if more => self.sql.exec(
                "UPDATE news SET cursor = ? WHERE id = 1 AND version = ?",
                vec![last.room.as_str().into(), version.into()],
            )?,
            // The last room: wrap around to those passed before the news came.
            _ if news.wrapped == 0 && news.end_at.is_some() => self.sql.exec(
                "UPDATE news SET cursor = '', wrapped = 1 WHERE id = 1 AND version = ? AND cursor = ?",
                vec![version.into(), news.cursor.as_str().into()],
            )?,
            _ => self.sql.exec(
                "DELETE FROM news WHERE id = 1 AND version = ? AND cursor = ?",
                vec![version.into(), news.cursor.as_str().into()],
            )?,
        };
        let _ = c.to_array::<serde_json::Value>();
        let left: Vec<serde_json::Value> = self
            .sql
            .exec("SELECT 1 FROM news WHERE id = 1", None)?
            .to_array()?;
        Ok(!left.is_empty())
    }
}

impl DurableObject for RoomDirectory {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        for schema in [SCHEMA, file_bytes::SCHEMA, erase::SCHEMA] {
            if let Err(e) = sql.exec(schema, None) {
                console_error!("directory: cannot open storage: {e}");
            }
        }
        for column in ROOM_COLUMNS
            .iter()
            .chain(&NEWS_COLUMNS)
            .chain(&file_bytes::COLUMNS)
        {
            // Fails once the column exists.
            let _ = sql.exec(column, None);
        }
        RoomDirectory {
            state,
            env,
            file_bytes: FileBytes::new(sql.clone()),
            sql,
            watched: RefCell::default(),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        // The site was deleted: its rooms go, and the rules with them.
        match self.erase_rooms().await {
            Ok(Some(in_ms)) => {
                self.state.storage().set_alarm(in_ms).await?;
                return Response::ok("");
            }
            Ok(None) => {}
            Err(e) => {
                console_error!("directory: erasing the rooms failed: {e}");
                self.state.storage().set_alarm(5_000).await?;
                return Response::ok("");
            }
        }
        match self.tell_rooms().await {
            Ok(true) => self.state.storage().set_alarm(1).await?,
            Ok(false) => {}
            Err(e) => {
                console_error!("directory: telling the rooms failed: {e}");
                self.state.storage().set_alarm(5_000).await?;
            }
        }
        Response::ok("")
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
