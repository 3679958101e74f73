//! A fan-out object of a sharded room (see `protocol::shard`): it holds some
//! of a big room's sockets and nothing else. Joins arrive from the room's
//! owner with the member already admitted; frames go back to the owner in
//! batches ([`InQueue`]); what the owner decides comes in [`PushBatch`]es and
//! is sent to the sockets here. The room's rules never run here.

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

use protocol::error::close_code;
use protocol::room::Member;
use protocol::shard::{
    Applied, Failed, FanoutCount, FanoutJoin, InQueue, Inbound, InboundBatch, Push, PushBatch,
    RosterEntry,
};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use worker::web_sys::WebSocket as RawSocket;
use worker::worker_sys::DurableObjectState;
use worker::{
    console_error, durable_object, DurableObject, Env, Method, Request, RequestInit, Response,
    Result, State, WebSocket, WebSocketPair,
};

use crate::http::{json_error, json_response};
use crate::room::{connection, fanout};

/// Internal headers: a join handed over by the owner, a batch of pushes, a
/// restart (tests and operators: every socket is closed as by a deploy). A
/// plain GET answers with the object's socket count.
pub const JOIN_HEADER: &str = "x-hello-fanout-join";
pub const PUSH_HEADER: &str = "x-hello-fanout-push";
pub const RESTART_HEADER: &str = "x-hello-fanout-restart";
/// The header of a batch of frames for the owner.
pub const INBOUND_HEADER: &str = "x-hello-fanout-inbound";

/// What a socket here keeps in its attachment (survives hibernation).
#[derive(Serialize, Deserialize)]
struct Held {
    owner: String,
    index: u32,
    conn: String,
    member: Member,
}

/// Frames waiting for the owner, at most (about 16 MiB of the largest).
const MAX_WAITING: usize = 1_000;

fn conn_tag(conn: &str) -> String {
    format!("c:{conn}")
}

#[durable_object(fetch)]
pub struct RoomFanout {
    state: State,
    env: Env,
    inbound: Rc<RefCell<InQueue>>,
    /// The owner's last batch applied here (a batch whose answer was lost
    /// comes again).
    applied: RefCell<Applied>,
    /// Connections whose leave is queued for the owner (in this
    /// incarnation): a roster leaves them out even if the runtime still
    /// lists their socket.
    left: RefCell<HashSet<String>>,
}

/// Past this many remembered leaves, those of sockets gone are forgotten.
const MAX_LEFT: usize = 10_000;

impl RoomFanout {
    fn held(ws: &RawSocket) -> Option<Held> {
        let text = WebSocket::from(ws.clone())
            .deserialize_attachment::<String>()
            .ok()??;
        serde_json::from_str(&text).ok()
    }

    /// Sockets here, not counting those being closed: the owner hears of
    /// each of those in a `Leave` (see `Room::inbound`).
    fn online(&self) -> u32 {
        fanout::open(self.state.as_raw())
    }

    fn join(&self, join: FanoutJoin, protocol: Option<String>) -> Result<Response> {
        let pair = WebSocketPair::new()?;
        let mut tags = vec![
            JsValue::from_str(connection::TAG_V1),
            JsValue::from(connection::sender_tag(&join.member.sender)),
            JsValue::from(conn_tag(&join.conn)),
        ];
        if join.batch {
            tags.push(JsValue::from_str(connection::TAG_BATCH));
        }
        if let Some(tag) = connection::role_tag(&join.member) {
            tags.push(JsValue::from_str(tag));
        }
        // What was pushed before the join is not for this socket.
        fanout::flush(self.state.as_raw());
        self.state
            .as_raw()
            .accept_websocket_with_tags(pair.server.as_ref(), tags)?;
        fanout::sockets_changed(self.state.as_raw());
        let held = Held {
            owner: join.owner,
            index: join.index,
            conn: join.conn,
            member: join.member,
        };
        pair.server
            .serialize_attachment(serde_json::to_string(&held)?)?;
        let mut response = Response::from_websocket(pair.client)?;
        if let Some(p) = protocol {
            response.headers_mut().set("sec-websocket-protocol", &p)?;
        }
        Ok(response)
    }

    fn socket(&self, conn: &str) -> Option<RawSocket> {
        self.state
            .as_raw()
            .get_websockets_with_tag(&conn_tag(conn))
            .ok()
            .and_then(|list| list.into_iter().next())
    }

    /// The connections here (with their sockets' members).
    fn held_sockets(&self) -> Vec<Held> {
        let sockets = self.state.as_raw().get_websockets().unwrap_or_default();
        sockets.iter().filter_map(Self::held).collect()
    }

    /// Forget the leaves of sockets the runtime no longer lists.
    fn prune_left(&self, here: &[Held]) {
        let here: HashSet<&str> = here.iter().map(|h| h.conn.as_str()).collect();
        self.left.borrow_mut().retain(|c| here.contains(c.as_str()));
    }

    /// Every connection here whose leave is not sent yet (a closing one's
    /// leave comes after this, in the same stream), for an owner that woke
    /// up: `asker` is that owner's incarnation.
    fn report_roster(&self, owner: String, index: u32, asker: String) {
        let here = self.held_sockets();
        self.prune_left(&here);
        let left = self.left.borrow();
        let members = here
            .into_iter()
            .filter(|h| !left.contains(&h.conn))
            .map(|h| RosterEntry {
                conn: h.conn,
                member: h.member,
            })
            .collect();
        drop(left);
        self.to_owner(owner, index, Inbound::Roster { asker, members });
    }

    fn apply(&self, batch: PushBatch) {
        if !self.applied.borrow_mut().fresh(&batch.from, batch.n) {
            return;
        }
        let raw = self.state.as_raw();
        for push in batch.entries {
            match push {
                Push::To { to, frame } => {
                    if let Some(ws) = self.socket(&to) {
                        fanout::send(raw, &ws, &frame);
                    }
                }
                Push::All { frame, skip } => {
                    let skip = skip.and_then(|c| self.socket(&c));
                    fanout::broadcast(raw, connection::TAG_V1, &frame, skip.as_ref());
                }
                Push::Sender {
                    sender,
                    frame,
                    skip,
                } => {
                    let skip = skip.and_then(|c| self.socket(&c));
                    fanout::to_sender(raw, &sender, &frame, skip.as_ref());
                }
                Push::Moderators { frame } => {
                    fanout::broadcast(raw, connection::TAG_MODERATOR, &frame, None);
                }
                Push::Close { to, code, reason } => {
                    if let Some(ws) = self.socket(&to) {
                        fanout::close(raw, &ws, code, close_code::reason(&reason));
                    }
                }
                Push::CloseSender {
                    sender,
                    frame,
                    code,
                    reason,
                } => fanout::close_tagged(
                    raw,
                    &connection::sender_tag(&sender),
                    &frame,
                    code,
                    close_code::reason(&reason),
                ),
                Push::CloseAll {
                    frame,
                    code,
                    reason,
                } => fanout::close_all(raw, &frame, code, close_code::reason(&reason)),
                Push::Roster {
                    owner,
                    index,
                    asker,
                } => self.report_roster(owner, index, asker),
            }
        }
    }

    /// Queue `entry` for the owner and start sending if nothing is in flight.
    fn to_owner(&self, owner: String, index: u32, entry: Inbound) {
        // Rate limits are the owner's; until it answers, a flood would only
        // grow this queue. Past a bound, frames are refused, not queued.
        if matches!(entry, Inbound::Frame { .. }) && self.inbound.borrow().len() >= MAX_WAITING {
            if let Inbound::Frame { conn, .. } = &entry {
                fanout::close_tagged(
                    self.state.as_raw(),
                    &conn_tag(conn),
                    "",
                    close_code::TRY_AGAIN_LATER,
                    "room busy; reconnect",
                );
            }
            return;
        }
        self.inbound.borrow_mut().push(entry);
        let Some(first) = self.inbound.borrow_mut().take_next() else {
            return;
        };
        let (env, queue, raw) = (
            self.env.clone(),
            self.inbound.clone(),
            AsRef::<JsValue>::as_ref(self.state.as_raw())
                .clone()
                .unchecked_into::<DurableObjectState>(),
        );
        let from = self.inbound.borrow().from().to_owned();
        self.state.wait_until(async move {
            let mut next = Some(first);
            while let Some((n, entries)) = next.take() {
                let batch = InboundBatch {
                    index,
                    online: fanout::open(&raw),
                    from: from.clone(),
                    n,
                    entries,
                };
                let failed = match send_inbound(&env, &owner, &batch).await {
                    Ok(()) => {
                        queue.borrow_mut().done();
                        None
                    }
                    Err(e) => {
                        console_error!("fan-out: the owner did not take a batch: {e}");
                        Some(queue.borrow_mut().failed())
                    }
                };
                let pause = match failed {
                    // Sent again as it was: the owner applies it once.
                    Some(Failed::RetryInMs(ms)) => Some(ms),
                    // Given up: the frames in it are lost, so their senders
                    // reconnect and resend. Its leaves stay for more rounds
                    // (a leave lost for good leaves a ghost in the owner's
                    // presence until it wakes up again).
                    Some(Failed::GaveUp { lost, retry_in_ms }) => {
                        for entry in &lost {
                            if let Inbound::Frame { conn, .. } = entry {
                                fanout::close_tagged(
                                    &raw,
                                    &conn_tag(conn),
                                    "",
                                    close_code::SERVICE_RESTART,
                                    "room unavailable; reconnect",
                                );
                            }
                        }
                        retry_in_ms
                    }
                    None => None,
                };
                next = match pause {
                    Some(ms) => {
                        worker::Delay::from(std::time::Duration::from_millis(ms)).await;
                        queue.borrow().retry()
                    }
                    None => queue.borrow_mut().take_next(),
                };
            }
        });
    }
}

async fn send_inbound(env: &Env, owner: &str, batch: &InboundBatch) -> Result<()> {
    let headers = worker::Headers::new();
    headers.set(INBOUND_HEADER, "1")?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(serde_json::to_string(batch)?.into()));
    let request = Request::new_with_init("https://room.internal/fanout", &init)?;
    let stub = env.durable_object("ROOMS")?.get_by_name(owner)?;
    let response = crate::room::shards::within(stub.fetch_with_request(request)).await?;
    if response.status_code() >= 300 {
        return Err(worker::Error::RustError(format!(
            "owner answered {}",
            response.status_code()
        )));
    }
    Ok(())
}

/// The socket handlers, synchronous like the room's (see `room`).
#[wasm_bindgen]
impl RoomFanout {
    #[wasm_bindgen(js_name = webSocketMessage)]
    pub fn web_socket_message(&self, ws: RawSocket, message: JsValue) {
        let Some(held) = Self::held(&ws) else {
            let _ = ws.close_with_code_and_reason(
                close_code::INTERNAL,
                "connection state lost; reconnect",
            );
            return;
        };
        let Some(text) = connection::text_of(&ws, &message) else {
            return;
        };
        let entry = Inbound::Frame {
            conn: held.conn,
            member: held.member,
            text,
        };
        self.to_owner(held.owner, held.index, entry);
    }

    #[wasm_bindgen(js_name = webSocketClose)]
    pub fn web_socket_close(&self, ws: RawSocket, _code: u16, _reason: String, _was_clean: bool) {
        let _ = ws.close_with_code_and_reason(1000, "bye");
        fanout::sockets_changed(self.state.as_raw());
        if let Some(held) = Self::held(&ws) {
            self.left.borrow_mut().insert(held.conn.clone());
            if self.left.borrow().len() > MAX_LEFT {
                self.prune_left(&self.held_sockets());
            }
            let entry = Inbound::Leave {
                conn: held.conn,
                member: held.member,
            };
            self.to_owner(held.owner, held.index, entry);
        }
    }

    #[wasm_bindgen(js_name = webSocketError)]
    pub fn web_socket_error(&self, _ws: RawSocket, error: JsValue) {
        fanout::sockets_changed(self.state.as_raw());
        console_error!("fan-out: socket error: {error:?}");
    }
}

impl DurableObject for RoomFanout {
    fn new(state: State, env: Env) -> Self {
        if let Ok(pair) = worker::worker_sys::WebSocketRequestResponsePair::new("ping", "pong") {
            let _ = state.as_raw().set_websocket_auto_response(&pair);
        }
        RoomFanout {
            state,
            env,
            inbound: Rc::new(RefCell::new(InQueue::new(crate::random::token()))),
            applied: RefCell::new(Applied::default()),
            left: RefCell::new(HashSet::new()),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let headers = req.headers();
        if let Some(join) = headers.get(JOIN_HEADER)? {
            let protocol = headers.get("sec-websocket-protocol")?;
            return match serde_json::from_str::<FanoutJoin>(&join) {
                Ok(join) => self.join(join, protocol),
                Err(_) => json_error(400, "bad_request", "bad join"),
            };
        }
        if headers.has(PUSH_HEADER)? {
            let body = req.text().await?;
            match serde_json::from_str::<PushBatch>(&body) {
                Ok(batch) => self.apply(batch),
                Err(_) => return json_error(400, "bad_request", "bad push batch"),
            }
        } else if headers.has(RESTART_HEADER)? {
            let closed = self.online();
            fanout::close_all(
                self.state.as_raw(),
                "",
                close_code::SERVICE_RESTART,
                "restarting",
            );
            fanout::sockets_changed(self.state.as_raw());
            // The queue to the owner is left alone: a batch may be in flight
            // (emptying it here would let a second one start beside it), and
            // the leaves waiting in it must still reach the owner.
            return json_response(200, &serde_json::json!({ "closed": closed }));
        } else if req.method() != Method::Get {
            // A GET with no header asks how many sockets are here.
            return json_error(
                400,
                "bad_request",
                "fan-out objects are reached through their room",
            );
        }
        let count = FanoutCount {
            online: self.online(),
        };
        json_response(200, &serde_json::to_value(count)?)
    }
}
