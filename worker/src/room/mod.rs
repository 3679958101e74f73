//! The Room Durable Object: one per site and room. It owns the room's sockets
//! (accepted with the hibernation API, so an idle room costs nothing) and its
//! history (SQLite, see [`store`]).
//!
//! Everything per-socket lives in the socket's attachment
//! ([`connection::Connection`]); the in-memory maps below hold only rate-limit
//! and typing throttles, which may safely start over after hibernation
//! (an evicted room was idle, so every bucket would be full anyway).

mod connection;
mod fanout;
pub mod store;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use protocol::client_frame::{ClientFrame, HistoryAnchor};
use protocol::limits::{JOIN_HISTORY, MAX_FRAME_BYTES, RESUME_HISTORY, TYPING_INTERVAL_MS};
use protocol::rate_limit::TokenBucket;
use protocol::server_frame::{legacy_frame, message_frame};
use protocol::{close_code, validate, ErrorCode, ProtocolError, ServerFrame};
use worker::web_sys::WebSocket as RawSocket;
use worker::{
    console_error, durable_object, DurableObject, Env, Error, Request, Response, Result, Socket, State,
    WebSocket, WebSocketIncomingMessage, WebSocketPair,
};

use self::connection::{Connection, TAG_LEGACY, TAG_V1};
use self::store::{MessageStore, Page};
use crate::clock::now_ms;
use crate::http::json_error;
use crate::ticket::{JoinTicket, TICKET_HEADER};
use crate::upgrade::refuse_socket;

/// Schedule a retention clean-up every this many messages.
const RETENTION_CHECK_EVERY: u64 = 100;
/// Throttle maps are cleared if they grow past this (a flood of distinct keys).
const MAX_THROTTLE_ENTRIES: usize = 10_000;

#[durable_object]
pub struct Room {
    state: State,
    store: std::result::Result<MessageStore, String>,
    rate: RefCell<HashMap<String, TokenBucket>>,
    typing: RefCell<HashMap<String, f64>>,
    /// Whether any legacy (workshop) sockets are connected; `None` = ask the
    /// runtime. Saves a socket lookup and an encoding per message in the
    /// usual case of none.
    legacy_present: Cell<Option<bool>>,
}

impl Room {
    fn store(&self) -> Result<&MessageStore> {
        self.store.as_ref().map_err(|e| Error::RustError(e.clone()))
    }

    fn online(&self, leaving: Option<&RawSocket>) -> u32 {
        fanout::online(self.state.as_raw(), leaving)
    }

    fn legacy_present(&self) -> bool {
        match self.legacy_present.get() {
            Some(known) => known,
            None => {
                let present = fanout::count_tagged(self.state.as_raw(), TAG_LEGACY) > 0;
                self.legacy_present.set(Some(present));
                present
            }
        }
    }

    /// Send an encoded v1 frame to the v1 sockets and, if any legacy sockets
    /// are connected, the legacy frame `legacy()` makes to them; skipping `skip`.
    fn broadcast(&self, v1: &str, legacy: impl FnOnce() -> String, skip: Option<&RawSocket>) {
        fanout::broadcast(self.state.as_raw(), TAG_V1, v1, skip);
        if self.legacy_present() {
            fanout::broadcast(self.state.as_raw(), TAG_LEGACY, &legacy(), skip);
        }
    }

    fn join(&self, ticket: JoinTicket) -> Result<Response> {
        let store = self.store()?;
        let present = self.online(None);
        if present >= ticket.limits.max_connections {
            return refuse_socket(close_code::TRY_AGAIN_LATER, ErrorCode::RoomFull, "room is full; try again later");
        }
        let pair = WebSocketPair::new()?;
        let server: &RawSocket = pair.server.as_ref();
        let conn = Connection {
            limiter_key: match &ticket.user {
                Some(user) => user.clone(),
                None => format!("conn:{}", (js_sys::Math::random() * 9e15) as u64),
            },
            name: ticket.name.clone(),
            sender: ticket.sender.clone(),
            v1: ticket.v1,
            limits: ticket.limits,
        };
        self.state.as_raw().accept_websocket_with_tags(server, vec![conn.tag().into()])?;
        conn.save(&pair.server)?;
        if !conn.v1 {
            self.legacy_present.set(Some(true));
        }

        let online = present + 1;
        if conn.v1 {
            let latest = store.latest_seq()?;
            let welcome = ServerFrame::Welcome {
                seq: latest,
                online,
                name: conn.name.clone(),
                max_message_chars: conn.limits.max_message_chars,
            };
            fanout::send(server, &welcome.encode());
            let (page, anchor) = match ticket.since {
                Some(since) => (store.after(since, RESUME_HISTORY)?, Some(HistoryAnchor::After(since))),
                None => (store.latest(JOIN_HISTORY)?, None),
            };
            fanout::send(server, &ServerFrame::History { messages: page.messages, more: page.more, anchor }.encode());
        } else {
            // The workshop front end shows each frame as one message.
            for m in store.latest(JOIN_HISTORY)?.messages {
                fanout::send(server, &legacy_frame(&m.name, &m.message, m.timestamp));
            }
        }
        self.broadcast(
            &ServerFrame::Presence { online, joined: Some(conn.name.clone()), left: None }.encode(),
            || legacy_frame(&conn.name, "joined the chat", now_ms()),
            Some(server),
        );
        Response::from_websocket(pair.client)
    }

    fn reply_error(ws: &RawSocket, conn: &Connection, error: ProtocolError) {
        // Legacy clients would show an error frame as a chat message: they get none.
        if conn.v1 {
            fanout::send(ws, &ServerFrame::Error(error).encode());
        }
    }

    fn on_frame(&self, ws: &RawSocket, conn: &Connection, text: &str) -> Result<()> {
        let frame = match ClientFrame::parse(text, conn.dialect()) {
            Ok(f) => f,
            Err(e) => {
                Self::reply_error(ws, conn, e);
                return Ok(());
            }
        };
        match frame {
            ClientFrame::Send { id, message } => self.on_send(ws, conn, id, &message),
            ClientFrame::History { anchor, limit } => {
                let store = self.store()?;
                let Page { messages, more } = match anchor {
                    HistoryAnchor::Before(seq) => store.before(seq, limit)?,
                    HistoryAnchor::After(seq) => store.after(seq, limit)?,
                };
                fanout::send(ws, &ServerFrame::History { messages, more, anchor: Some(anchor) }.encode());
                Ok(())
            }
            ClientFrame::Typing => {
                if self.throttle_typing(&conn.limiter_key) {
                    let frame = ServerFrame::Typing { name: conn.name.clone() };
                    fanout::broadcast(self.state.as_raw(), TAG_V1, &frame.encode(), Some(ws));
                }
                Ok(())
            }
        }
    }

    fn on_send(&self, ws: &RawSocket, conn: &Connection, id: Option<String>, raw: &str) -> Result<()> {
        let store = self.store()?;
        let text = match validate::message_text(raw, conn.limits.max_message_chars) {
            Ok(t) => t,
            Err(e) => {
                Self::reply_error(ws, conn, e.with_id(id.as_deref()));
                return Ok(());
            }
        };
        let limited = !self.take_rate_token(conn);
        let stored = if limited { None } else { store.append(&conn.sender, id.as_deref(), &conn.name, &text, now_ms())? };
        let Some(message) = stored else {
            // Not stored: a retry of a message already stored (acked again,
            // free of charge), or over the rate limit.
            let original = match &id {
                Some(i) => store.find(&conn.sender, i)?,
                None => None,
            };
            match (original, id) {
                (Some((seq, timestamp)), Some(id)) => {
                    if !limited {
                        self.refund_rate_token(conn);
                    }
                    fanout::send(ws, &ServerFrame::Ack { id, seq, timestamp }.encode());
                }
                (_, id) => {
                    let e = ProtocolError::new(ErrorCode::RateLimited, "sending too fast; wait a moment");
                    Self::reply_error(ws, conn, e.with_id(id.as_deref()));
                }
            }
            return Ok(());
        };
        if conn.v1 {
            let ack = ServerFrame::Ack { id: message.id.clone(), seq: message.seq, timestamp: message.timestamp };
            fanout::send(ws, &ack.encode());
        }
        let seq = message.seq;
        self.broadcast(
            &message_frame(&message),
            || legacy_frame(&message.name, &message.message, message.timestamp),
            Some(ws),
        );
        // seq counts every message ever stored: below the retention there is nothing to trim.
        if seq % RETENTION_CHECK_EVERY == 0 && seq > conn.limits.retention {
            self.schedule_retention(conn.limits.retention);
        }
        Ok(())
    }

    fn take_rate_token(&self, conn: &Connection) -> bool {
        let now = now_ms() as f64;
        let mut rate = self.rate.borrow_mut();
        if rate.len() > MAX_THROTTLE_ENTRIES {
            rate.clear();
        }
        if let Some(bucket) = rate.get_mut(&conn.limiter_key) {
            return bucket.try_take(now);
        }
        let mut bucket = TokenBucket::new(conn.limits.rate_burst, conn.limits.rate_per_sec, now);
        let taken = bucket.try_take(now);
        rate.insert(conn.limiter_key.clone(), bucket);
        taken
    }

    fn refund_rate_token(&self, conn: &Connection) {
        if let Some(bucket) = self.rate.borrow_mut().get_mut(&conn.limiter_key) {
            bucket.refund();
        }
    }

    fn throttle_typing(&self, key: &str) -> bool {
        let now = now_ms() as f64;
        let mut typing = self.typing.borrow_mut();
        if typing.len() > MAX_THROTTLE_ENTRIES {
            typing.clear();
        }
        match typing.get(key) {
            Some(&last) if now - last < TYPING_INTERVAL_MS => false,
            _ => {
                typing.insert(key.to_owned(), now);
                true
            }
        }
    }

    fn schedule_retention(&self, keep: u64) {
        let storage = self.state.storage();
        if let Ok(store) = self.store() {
            if let Err(e) = store.set_retention(keep) {
                console_error!("room: cannot record retention: {e}");
                return;
            }
        }
        self.state.wait_until(async move {
            if let Err(e) = storage.set_alarm(1_000).await {
                console_error!("room: cannot schedule retention: {e}");
            }
        });
    }
}

impl DurableObject for Room {
    fn new(state: State, _env: Env) -> Self {
        let store = MessageStore::open(state.storage().sql()).map_err(|e| e.to_string());
        if let Err(e) = &store {
            console_error!("room: cannot open storage: {e}");
        }
        // Heartbeats are answered by the runtime without waking the room.
        match worker::worker_sys::WebSocketRequestResponsePair::new("ping", "pong") {
            Ok(pair) => {
                if let Err(e) = state.as_raw().set_websocket_auto_response(&pair) {
                    console_error!("room: cannot set ping auto-response: {e:?}");
                }
            }
            Err(e) => console_error!("room: cannot build ping auto-response: {e:?}"),
        }
        Room { state, store, rate: RefCell::default(), typing: RefCell::default(), legacy_present: Cell::new(None) }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let ticket = match req.headers().get(TICKET_HEADER)?.map(|t| serde_json::from_str::<JoinTicket>(&t)) {
            Some(Ok(ticket)) => ticket,
            _ => return json_error(400, "bad_request", "rooms are reached through /ws"),
        };
        match self.join(ticket) {
            Ok(response) => Ok(response),
            Err(e) => {
                console_error!("room: join failed: {e}");
                json_error(500, "internal", "the room could not accept the connection")
            }
        }
    }

    async fn websocket_message(&self, ws: WebSocket, message: WebSocketIncomingMessage) -> Result<()> {
        let raw: &RawSocket = ws.as_ref();
        let Some(conn) = Connection::load(&ws) else {
            let _ = ws.close(Some(close_code::INTERNAL), Some("connection state lost; reconnect"));
            return Ok(());
        };
        let text = match message {
            WebSocketIncomingMessage::String(s) => s,
            WebSocketIncomingMessage::Binary(bytes) => {
                if bytes.len() > MAX_FRAME_BYTES {
                    let _ = ws.close(Some(close_code::TOO_BIG), Some("frame too large"));
                } else {
                    Self::reply_error(raw, &conn, ProtocolError::new(ErrorCode::BadFrame, "binary frames are not accepted; send JSON text"));
                }
                return Ok(());
            }
        };
        if text.len() > MAX_FRAME_BYTES {
            let _ = ws.close(Some(close_code::TOO_BIG), Some("frame too large"));
            return Ok(());
        }
        if let Err(e) = self.on_frame(raw, &conn, &text) {
            console_error!("room: frame failed: {e}");
            Self::reply_error(raw, &conn, ProtocolError::new(ErrorCode::Internal, "the server could not handle that; try again"));
        }
        Ok(())
    }

    async fn websocket_close(&self, ws: WebSocket, _code: usize, _reason: String, _was_clean: bool) -> Result<()> {
        let raw: &RawSocket = ws.as_ref();
        // Complete the closing handshake (the client waits for our close frame).
        let _ = ws.close(Some(1000), Some("bye"));
        if let Some(conn) = Connection::load(&ws) {
            // A verified user's bucket outlives one connection (they may have several).
            if conn.limiter_key.starts_with("conn:") {
                self.rate.borrow_mut().remove(&conn.limiter_key);
                self.typing.borrow_mut().remove(&conn.limiter_key);
            }
            if !conn.v1 {
                self.legacy_present.set(None);
            }
            let online = self.online(Some(raw));
            self.broadcast(
                &ServerFrame::Presence { online, joined: None, left: Some(conn.name.clone()) }.encode(),
                || legacy_frame(&conn.name, "left the chat", now_ms()),
                Some(raw),
            );
        }
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, error: Error) -> Result<()> {
        // The close handler follows and does the clean-up.
        console_error!("room: socket error: {error}");
        Ok(())
    }

    async fn alarm(&self) -> Result<Response> {
        let store = self.store()?;
        let keep = store.retention()?;
        if let Some(keep) = keep {
            store.trim(keep)?;
        }
        Response::ok("")
    }

    async fn connect(&self, _socket: Socket) -> Result<()> {
        Err(Error::RustError("rooms do not accept TCP connections".into()))
    }
}
