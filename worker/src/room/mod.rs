//! The Room Durable Object: one per site and room. It owns the room's sockets
//! (accepted with the hibernation API, so an idle room costs nothing) and its
//! history (SQLite, see [`store`]), and carries out what the room core
//! (`protocol::room::RoomCore`, where every rule of the room lives) decides.
//!
//! A frame's path: [`Room::web_socket_message`] refuses an oversized frame
//! before it is copied into wasm, loads the sender's [`Member`] from the
//! socket's attachment, hands the text to the core and carries out the
//! [`Output`]s: replies, broadcasts ([`fanout`]), closes, a retention alarm.
//!
//! The socket handlers are plain synchronous exports rather than the
//! `#[durable_object]` macro's async ones: a frame then costs no promise and
//! no microtask, and the runtime hands over the frame as a JS value whose size
//! can be checked before anything is copied.

mod alarm;
mod api;
pub(crate) mod connection;
pub(crate) mod fanout;
mod file_bytes;
mod files;
pub(crate) mod shards;
mod site_link;
pub mod store;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use protocol::address::network_of;
use protocol::client_frame::Dialect;
use protocol::error::close_code;
use protocol::room::{JoinRequest, Joined, Member, Output, RoomCore, RoomKey, Sockets, StoreError};
use protocol::server_frame::encode_event;
use protocol::shard::{FanoutJoin, Inbound, InboundBatch, Placement, Push, ShardPlan};
use protocol::{ErrorCode, ProtocolError, ServerFrame};
use wasm_bindgen::prelude::*;
use worker::web_sys::WebSocket as RawSocket;
use worker::{
    console_error, durable_object, DurableObject, Env, Error, Request, Response, Result, State,
    WebSocket, WebSocketPair,
};

use self::connection::{TAG_LEGACY, TAG_V1};
use self::shards::Shards;
pub use self::site_link::RoomIdentity;
use self::site_link::WebhookOutbox;
use self::store::SqlStore;
use crate::clock::now_ms;
use crate::http::json_error;
use crate::random;
use crate::ticket::{ApiTicket, JoinTicket, API_HEADER, SITE_HEADER, TICKET_HEADER};
use crate::upgrade::refuse_socket_with;

/// The core and its store, opened together (the core needs the room's key).
struct Inner {
    core: RoomCore,
    store: SqlStore,
    /// See [`SqlStore::incarnation`].
    incarnation: String,
}

#[durable_object(alarm)]
pub struct Room {
    state: State,
    env: Env,
    inner: RefCell<std::result::Result<Inner, StoreError>>,
    /// Whether any legacy (workshop) sockets are connected; `None` = ask the
    /// runtime. Saves a socket lookup per message in the usual case of none.
    legacy_present: Cell<Option<bool>>,
    /// Which room this is, once a connection or an API call has said so.
    identity: RefCell<Option<RoomIdentity>>,
    /// When the site's room list last heard from this room (0: it must hear
    /// at the next event, e.g. after a report failed).
    last_report: Rc<Cell<u64>>,
    /// When the latest event the room list has not heard of happened (0:
    /// none); the alarm tells it once the report interval has passed.
    report_owed: Cell<u64>,
    /// [`REPORT_EVERY_MS`], which the test server shortens (`REPORT_MS`).
    report_every_ms: u64,
    /// [`REPORT_WATCHED_MS`] (`REPORT_WATCHED_MS`), never longer than the
    /// above, and whether the room list said, answering the last report,
    /// that someone is looking at this room in it.
    report_watched_ms: u64,
    watched: Rc<Cell<bool>>,
    /// When the room last asked the site's webhook queue which events it
    /// wants, and its answer not yet applied.
    hooks_checked: Cell<u64>,
    fresh_hooks: Rc<RefCell<Option<Vec<String>>>>,
    /// [`HOOKS_CHECK_EVERY_MS`] and a retention "day" ([`DAY_MS`]), which
    /// the test server shortens (`HOOKS_CHECK_MS`, `RETENTION_DAY_MS`).
    hooks_check_ms: u64,
    day_ms: u64,
    /// A forwarder of webhook events is running.
    forwarding: Rc<Cell<bool>>,
    /// A call that lists this room on the site's room list, or takes it
    /// off, is under way; and which of the two is wanted now.
    listing: Rc<Cell<bool>>,
    list_wanted: Rc<Cell<bool>>,
    /// The room's fan-out objects, once it is big enough to have any.
    shards: Shards,
    /// What the room told the site's room list of its files, and heard.
    file_bytes: file_bytes::FileBytes,
}

/// Whom a core decision concerns: a socket here, a socket on a fan-out
/// object, or an API call (whose replies are returned).
#[derive(Clone, Copy)]
enum Origin<'a> {
    Socket(&'a RawSocket),
    Remote { index: u32, conn: &'a str },
    Api,
}

impl<'a> Origin<'a> {
    fn socket(self) -> Option<&'a RawSocket> {
        match self {
            Origin::Socket(ws) => Some(ws),
            _ => None,
        }
    }

    /// The fan-out socket to leave out on object `index`.
    fn skip_on(self, index: u32) -> Option<String> {
        match self {
            Origin::Remote { index: i, conn } if i == index => Some(conn.to_owned()),
            _ => None,
        }
    }
}

enum Admission {
    /// Accepted here, or refused: the upgrade's answer.
    Answered(Response),
    /// Admitted, for fan-out object `index`.
    FanOut {
        index: u32,
        member: Member,
        outputs: Vec<Output>,
        batch: bool,
    },
}

/// The plan from `SHARD_AT` and `SHARD_SIZE` (tests shard small rooms).
fn shard_plan(env: &Env) -> ShardPlan {
    let default = ShardPlan::default();
    let var = |name: &str, default: u32| {
        env.var(name)
            .ok()
            .and_then(|v| v.to_string().parse().ok())
            .unwrap_or(default)
    };
    ShardPlan {
        at: var("SHARD_AT", default.at),
        size: var("SHARD_SIZE", default.size),
    }
}

/// A duration in milliseconds from the environment variable `name`, else `default`.
fn env_ms(env: &Env, name: &str, default: u64) -> u64 {
    env.var(name)
        .ok()
        .and_then(|v| v.to_string().parse().ok())
        .unwrap_or(default)
}

/// The site's room list hears from a busy room at most this often (and once
/// more when it goes quiet).
const REPORT_EVERY_MS: u64 = 10_000;
/// ... and this often while someone is looking at the room in the list (the
/// moderation console, shown): the list says so when it answers a report.
const REPORT_WATCHED_MS: u64 = 2_000;
/// A busy room asks its site's webhook queue which events it wants at most
/// this often (connections made before a webhook was saved do not say).
const HOOKS_CHECK_EVERY_MS: u64 = 60_000;
/// A "day" for retention by age (`RETENTION_DAY_MS` shortens it for tests).
const DAY_MS: u64 = 24 * 3600 * 1000;

fn open(state: &State) -> std::result::Result<Inner, StoreError> {
    let store = SqlStore::open(state.storage().sql())?;
    let key = store.room_key(random::bytes())?;
    let incarnation = store.incarnation(random::bytes())?;
    let mut core = RoomCore::new(RoomKey::new(key), store.core_state()?.as_deref());
    // Sockets that stayed open while the object hibernated: who is here.
    let sockets = state.as_raw().get_websockets().unwrap_or_default();
    let members: Vec<_> = sockets
        .into_iter()
        .filter_map(|ws| connection::load(&WebSocket::from(ws)))
        .collect();
    core.restore(&members);
    Ok(Inner {
        core,
        store,
        incarnation,
    })
}

impl Room {
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

    /// The Worker says which room this is (and what the site wants) with
    /// every connection and API call; remember it when it changes.
    fn learn(&self, identity: RoomIdentity, retention_days: u64, version: u64) {
        let guard = self.inner.borrow();
        let Ok(inner) = guard.as_ref() else { return };
        // A ticket older than the rules in force (made from a site cached
        // in another isolate) must not put back older hooks or retention.
        if version < inner.core.site_version() && self.identity.borrow().is_some() {
            return;
        }
        let changed = self.identity.borrow().as_ref() != Some(&identity);
        if changed {
            identity.save(&inner.store);
            self.shards.set_owner(identity.object_name());
            *self.identity.borrow_mut() = Some(identity);
        }
        if inner.store.retention_days().ok() != Some(retention_days) {
            if let Err(e) = inner.store.set_retention_days(retention_days) {
                console_error!("room: cannot record retention by age: {e}");
            }
            if retention_days > 0 {
                self.alarm_within(self.day_ms);
            }
        }
        drop(guard);
        if changed {
            self.place_files();
        }
    }

    /// Take up the site's rules a ticket carries, unless the room has newer
    /// ones: from then on every member's frames are judged by them.
    fn adopt_site(&self, ticket: &ApiTicket) {
        let outputs = self
            .inner
            .borrow_mut()
            .as_mut()
            .map(|i| {
                i.core
                    .adopt_site(ticket.policy.clone(), ticket.limits, ticket.place.version)
            })
            .unwrap_or_default();
        if !outputs.is_empty() {
            // Saved, and open widgets told of new rules (emoji, limits).
            self.carry_out(Origin::Api, outputs);
        }
    }

    /// Make sure the alarm runs within `in_ms` (see [`alarm`]).
    fn alarm_within(&self, in_ms: u64) {
        let storage = self.state.storage();
        let at = now_ms() + in_ms;
        self.state
            .wait_until(async move { alarm::alarm_by(&storage, at).await });
    }

    async fn join(&self, ticket: JoinTicket) -> Result<Response> {
        let protocol = ticket.protocol.clone();
        self.shards.rosters_known(&self.state).await;
        match self.admit(ticket)? {
            Admission::Answered(response) => Ok(response),
            Admission::FanOut {
                index,
                member,
                outputs,
                batch,
            } => {
                self.hand_over(index, member, outputs, protocol, batch)
                    .await
            }
        }
    }

    /// A room with members connected must hear of the site's changes, which
    /// the site's room list passes on to the rooms it lists: make sure it
    /// lists this one, written in or not (once; the record survives the
    /// object sleeping, and goes with an erasure).
    fn make_listed(&self) {
        self.set_listed(true);
    }

    /// The last member left a room nobody wrote in: off the list again, so
    /// that rooms only opened (by anyone, any number of them) do not stay
    /// listed for good, each woken by every change of the site's rules.
    fn unlist_if_unused(&self) {
        let unused = self
            .inner
            .borrow()
            .as_ref()
            .is_ok_and(|inner| inner.store.never_written());
        if unused {
            self.set_listed(false);
        }
    }

    /// Bring the site's room list to list this room, or not: one call to
    /// the list at a time, the latest wish winning (a join while the room
    /// is being taken off is listed after it, not before).
    fn set_listed(&self, want: bool) {
        self.list_wanted.set(want);
        if self.listing.get() {
            // The call in flight goes on to this wish.
            return;
        }
        let (listed, latest, messages) = {
            let inner = self.inner.borrow();
            let Ok(inner) = inner.as_ref() else { return };
            (
                inner.store.listed().unwrap_or(false),
                inner.store.latest_event_ts().unwrap_or(0),
                inner.store.listed_figures(),
            )
        };
        if listed == want {
            return;
        }
        let Some(id) = self.identity.borrow().clone() else {
            return;
        };
        self.listing.set(true);
        let (env, sql, listing, wanted) = (
            self.env.clone(),
            self.state.storage().sql(),
            self.listing.clone(),
            self.list_wanted.clone(),
        );
        self.state.wait_until(async move {
            loop {
                let want = wanted.get();
                let heard = if want {
                    site_link::report(&env, &id, latest, messages)
                        .await
                        .is_some()
                } else {
                    site_link::unlist(&env, &id, true).await
                };
                if heard {
                    if let Err(e) = SqlStore::set_listed(&sql, want) {
                        console_error!("room: cannot record whether it is listed: {e}");
                    }
                }
                if wanted.get() == want {
                    break;
                }
            }
            listing.set(false);
        });
    }

    /// Let the core decide on a connection, and accept it here unless the
    /// room hands it to a fan-out object.
    fn admit(&self, ticket: JoinTicket) -> Result<Admission> {
        self.learn(
            ticket.identity(),
            ticket.limits.retention_days,
            ticket.place.version,
        );
        let protocol = ticket.protocol.clone();
        let mut inner = self.inner.borrow_mut();
        let Inner { core, store, .. } = inner
            .as_mut()
            .map_err(|e| Error::RustError(e.to_string()))?;
        let raw = self.state.as_raw();
        let local = fanout::online(raw, None);
        let sockets = Sockets {
            online: local + self.shards.online(),
            from_address: ticket.address.as_deref().map_or(0, |a| {
                fanout::count_tagged(raw, &connection::address_tag(a))
                    + self.shards.connections_from(a)
            }),
            from_network: ticket
                .address
                .as_deref()
                .and_then(network_of)
                .map_or(0, |n| {
                    fanout::count_tagged(raw, &connection::network_tag(&n))
                        + self.shards.connections_from_network(&n)
                }),
            legacy: self.legacy_present(),
            counts_short: self.shards.counts_short(),
        };
        let request = JoinRequest {
            name: ticket.name,
            user: ticket.user,
            sender_key: ticket.sender_key,
            address: ticket.address,
            dialect: if ticket.v1 {
                Dialect::V1
            } else {
                Dialect::Legacy
            },
            since: ticket.since,
            read: ticket.read,
            limits: ticket.limits,
            policy: ticket.policy,
            version: ticket.place.version,
            entropy: random::bytes(),
        };
        let (member, outputs) = match core
            .join(request, sockets, now_ms(), store)
            .map_err(|e| Error::RustError(e.to_string()))?
        {
            Joined::Accepted { member, outputs } => (member, outputs),
            Joined::Refused { code, error } => {
                return refuse_socket_with(code, error, protocol.as_deref())
                    .map(Admission::Answered)
            }
        };
        drop(inner);
        self.make_listed();
        let mut inner = self.inner.borrow_mut();
        let Inner { store, .. } = inner
            .as_mut()
            .map_err(|e| Error::RustError(e.to_string()))?;
        // A big room hands v1 connections to its fan-out objects (workshop
        // clients stay here: they are few, and their frames differ).
        if let (true, Placement::FanOut { index, objects }) =
            (member.v1, self.shards.place(local, &member.sender))
        {
            self.shards.grow(objects, Some(store));
            if let Some(address) = &member.address {
                self.shards.count_address(address, true);
            }
            return Ok(Admission::FanOut {
                index,
                member,
                outputs,
                batch: ticket.batch,
            });
        }
        let pair = WebSocketPair::new()?;
        let mut tags = vec![
            JsValue::from_str(connection::dialect_tag(&member)),
            JsValue::from(connection::sender_tag(&member.sender)),
        ];
        if let Some(address) = &member.address {
            tags.push(JsValue::from(connection::address_tag(address)));
            if let Some(network) = network_of(address) {
                tags.push(JsValue::from(connection::network_tag(&network)));
            }
        }
        if ticket.batch {
            tags.push(JsValue::from_str(connection::TAG_BATCH));
        }
        if let Some(tag) = connection::role_tag(&member) {
            tags.push(JsValue::from_str(tag));
        }
        // Frames queued before this socket existed are not for it (its
        // history page already has them).
        fanout::flush(raw);
        raw.accept_websocket_with_tags(pair.server.as_ref(), tags)?;
        fanout::sockets_changed(raw);
        connection::save(&pair.server, &member)?;
        if !member.v1 {
            self.legacy_present.set(Some(true));
        }
        drop(inner);
        self.carry_out(Origin::Socket(pair.server.as_ref()), outputs);
        let mut response = Response::from_websocket(pair.client)?;
        if let Some(p) = protocol {
            response.headers_mut().set("sec-websocket-protocol", &p)?;
        }
        Ok(Admission::Answered(response))
    }

    /// Hand an admitted member to fan-out object `index`: the join goes into
    /// that object's queue, and the joiner's welcome and history right
    /// behind it, so nothing decided meanwhile is missed or seen twice.
    async fn hand_over(
        &self,
        index: u32,
        member: Member,
        outputs: Vec<Output>,
        protocol: Option<String>,
        batch: bool,
    ) -> Result<Response> {
        let conn = random::token();
        let owner = self
            .identity
            .borrow()
            .as_ref()
            .map(RoomIdentity::object_name)
            .unwrap_or_default();
        let join = FanoutJoin {
            owner,
            index,
            conn: conn.clone(),
            member: member.clone(),
            batch,
        };
        let answer = self.shards.hand_over(&self.state, join, protocol);
        self.carry_out(Origin::Remote { index, conn: &conn }, outputs);
        match answer.await {
            Ok(Ok(response)) if response.status_code() == 101 => Ok(response),
            failed => {
                match failed {
                    Ok(Err(e)) => {
                        console_error!("room: fan-out object {index} refused a join: {e}")
                    }
                    Ok(Ok(response)) => console_error!(
                        "room: fan-out object {index} refused a join: {}",
                        response.status_code()
                    ),
                    Err(_) => {}
                }
                self.remote_leave(index, &conn, &member);
                json_error(
                    503,
                    "unavailable",
                    "the room could not place the connection; try again",
                )
            }
        }
    }

    /// A member on fan-out object `index` left (or never arrived).
    fn remote_leave(&self, index: u32, conn: &str, member: &Member) {
        if let Some(address) = &member.address {
            self.shards.count_address(address, false);
        }
        let sockets = Sockets {
            online: (fanout::online(self.state.as_raw(), None) + self.shards.online())
                .saturating_sub(1),
            legacy: self.legacy_present(),
            counts_short: self.shards.counts_short(),
            ..Sockets::default()
        };
        let empty = sockets.online == 0;
        let outputs = match self.inner.borrow_mut().as_mut() {
            Ok(inner) => inner.core.leave(member, sockets, now_ms()),
            Err(_) => return,
        };
        self.carry_out(Origin::Remote { index, conn }, outputs);
        if empty {
            self.unlist_if_unused();
        }
    }

    /// Frames, leaves and rosters from fan-out object `batch.index`, in
    /// order.
    fn inbound(&self, batch: InboundBatch) {
        self.shards.ask_overdue_rosters(&self.state, now_ms());
        self.shards.grow(batch.index + 1, None);
        self.shards.heard(batch.index, batch.online);
        let index = batch.index;
        // `online` left out every socket that closed, these leaves' included:
        // before each leave, the object still held it and the later ones.
        let mut leaves = batch
            .entries
            .iter()
            .filter(|e| matches!(e, Inbound::Leave { .. }))
            .count() as u32;
        for entry in batch.entries {
            match entry {
                Inbound::Frame { conn, member, text } => {
                    self.on_text(Origin::Remote { index, conn: &conn }, &member, &text)
                }
                Inbound::Leave { conn, member } => {
                    self.shards
                        .heard(index, batch.online.saturating_add(leaves));
                    leaves -= 1;
                    // A member this owner never listed (it woke since) is
                    // not taken off: its object's roster leaves it out.
                    if self.shards.knows_leave(index, &conn) {
                        self.remote_leave(index, &conn, &member);
                    }
                    self.shards
                        .heard(index, batch.online.saturating_add(leaves));
                }
                Inbound::Roster { asker, members } => {
                    let members = self.shards.roster(index, &asker, members);
                    if let Ok(inner) = self.inner.borrow_mut().as_mut() {
                        inner.core.recall(&members);
                    }
                }
            }
        }
    }

    /// Do what the core decided, for `origin`; returns an API call's replies.
    fn carry_out(&self, origin: Origin<'_>, outputs: Vec<Output>) -> Vec<String> {
        let mut replies = Vec::new();
        let mut events = false;
        let raw = self.state.as_raw();
        let ws = origin.socket();
        let sharded = self.shards.is_sharded();
        for output in outputs {
            match output {
                Output::Reply(frame) => match origin {
                    Origin::Socket(ws) => fanout::send(raw, ws, &frame),
                    Origin::Remote { index, conn } => self.shards.push(
                        &self.state,
                        index,
                        Push::To {
                            to: conn.to_owned(),
                            frame,
                        },
                    ),
                    Origin::Api => replies.push(frame),
                },
                Output::Broadcast { v1, legacy } => {
                    fanout::broadcast(raw, TAG_V1, &v1, ws);
                    if let Some(legacy) = legacy.filter(|_| self.legacy_present()) {
                        fanout::broadcast(raw, TAG_LEGACY, &legacy, ws);
                    }
                    if sharded {
                        self.shards.push_all(&self.state, |i| Push::All {
                            frame: v1.clone(),
                            skip: origin.skip_on(i),
                        });
                    }
                }
                Output::Close { code, reason } => match origin {
                    Origin::Socket(ws) => {
                        fanout::close(raw, ws, code, close_code::reason(&reason));
                    }
                    Origin::Remote { index, conn } => self.shards.push(
                        &self.state,
                        index,
                        Push::Close {
                            to: conn.to_owned(),
                            code,
                            reason,
                        },
                    ),
                    Origin::Api => {}
                },
                Output::CloseSender {
                    sender,
                    frame,
                    code,
                    reason,
                } => {
                    fanout::close_tagged(
                        raw,
                        &connection::sender_tag(&sender),
                        &frame,
                        code,
                        close_code::reason(&reason),
                    );
                    if sharded {
                        self.shards.push_all(&self.state, |_| Push::CloseSender {
                            sender: sender.clone(),
                            frame: frame.clone(),
                            code,
                            reason: reason.clone(),
                        });
                    }
                }
                Output::ToSender { sender, frame } => {
                    fanout::to_sender(raw, &sender, &frame, ws);
                    if sharded {
                        self.shards.push_all(&self.state, |i| Push::Sender {
                            sender: sender.clone(),
                            frame: frame.clone(),
                            skip: origin.skip_on(i),
                        });
                    }
                }
                Output::ToModerators(frame) => {
                    // (Reports came or went: the site's room list counts them.)
                    events = true;
                    fanout::broadcast(raw, connection::TAG_MODERATOR, &frame, None);
                    if sharded {
                        self.shards.push_all(&self.state, |_| Push::Moderators {
                            frame: frame.clone(),
                        });
                    }
                }
                Output::SiteEvent {
                    kind,
                    name,
                    seq,
                    timestamp,
                    data,
                } => {
                    events = true;
                    self.apply_fresh_hooks();
                    let (identity, inner) = (self.identity.borrow(), self.inner.borrow());
                    if let (Some(id), Ok(inner)) = (identity.as_ref(), inner.as_ref()) {
                        if id.wants(kind) {
                            let event_id = format!("{}:{}:{name}", id.room, inner.incarnation);
                            self.outbox()
                                .push(id, kind, &event_id, seq, timestamp, &data);
                        }
                    }
                }
                Output::Retain { keep } => self.schedule_retention(keep),
                Output::DeleteObjects(keys) => self.delete_objects(keys),
                Output::SweepAt(at) => self.sweep_by(at),
                Output::TellFileBytes => self.tell_file_bytes(),
                Output::SaveState(json) => {
                    if let Ok(inner) = self.inner.borrow().as_ref() {
                        if let Err(e) = inner.store.save_core_state(&json) {
                            console_error!("room: cannot save its state: {e}");
                        }
                    }
                }
                Output::Event {
                    kind,
                    seq,
                    timestamp,
                    event,
                    part,
                } => {
                    events = true;
                    self.apply_fresh_hooks();
                    let (identity, inner) = (self.identity.borrow(), self.inner.borrow());
                    // Encoded only for a webhook that wants it: most rooms have none.
                    if let (Some(id), Ok(inner)) = (identity.as_ref(), inner.as_ref()) {
                        if id.wants(kind) {
                            let mut event_id = format!("{}:{}:{seq}", id.room, inner.incarnation);
                            if let Some(part) = part {
                                event_id.push_str(&format!(".{part}"));
                            }
                            let data = encode_event(&event);
                            self.outbox()
                                .push(id, kind, &event_id, seq, timestamp, &data);
                        }
                    }
                }
            }
        }
        if events {
            self.tell_site();
        }
        replies
    }

    fn outbox(&self) -> WebhookOutbox {
        WebhookOutbox::new(self.state.storage().sql())
    }

    /// The events the site's webhooks want, as the queue last said, if
    /// that is news: remember it like a connection's word.
    fn apply_fresh_hooks(&self) {
        let Some(hooks) = self.fresh_hooks.borrow_mut().take() else {
            return;
        };
        let changed = self.identity.borrow().as_ref().map(|id| RoomIdentity {
            hooks,
            ..id.clone()
        });
        if let (Some(id), Ok(inner)) = (changed, self.inner.borrow().as_ref()) {
            if self.identity.borrow().as_ref() != Some(&id) {
                id.save(&inner.store);
                *self.identity.borrow_mut() = Some(id);
            }
        }
    }

    /// After something happened: hand webhook events on, and now and then
    /// report to the site's room list and ask which events its webhooks want.
    fn tell_site(&self) {
        // This runs after every event: decide before copying anything.
        let now = now_ms();
        let report = now >= self.last_report.get() + self.report_interval();
        if !report {
            self.owe_report(now);
        }
        let check = now >= self.hooks_checked.get() + self.hooks_check_ms;
        let forward = !self.forwarding.get()
            && self
                .identity
                .borrow()
                .as_ref()
                .is_some_and(|id| !id.hooks.is_empty());
        if !(report || check || forward) {
            return;
        }
        let Some(id) = self.identity.borrow().clone() else {
            return;
        };
        if report {
            self.last_report.set(now);
            if self.report_owed.replace(0) != 0 {
                self.with_store(|store| store.set_report_owed(0));
            }
            let messages = self
                .inner
                .borrow()
                .as_ref()
                .map_or((0, 0), |i| i.store.listed_figures());
            let (env, id, last, watched) = (
                self.env.clone(),
                id.clone(),
                self.last_report.clone(),
                self.watched.clone(),
            );
            let (storage, watched_ms) = (self.state.storage(), self.report_watched_ms);
            self.state.wait_until(async move {
                match site_link::report(&env, &id, now, messages).await {
                    Some(looked_at) => {
                        // Events since this report were owed for the longer
                        // interval: now looked at, the alarm tells them sooner.
                        if looked_at && !watched.replace(true) {
                            alarm::alarm_by(&storage, now + watched_ms).await;
                        }
                        watched.set(looked_at);
                    }
                    None => last.set(0),
                }
            });
        }
        if check {
            self.hooks_checked.set(now);
            let (env, id, fresh) = (self.env.clone(), id.clone(), self.fresh_hooks.clone());
            self.state.wait_until(async move {
                if let Some(hooks) = site_link::subscribed(&env, &id).await {
                    *fresh.borrow_mut() = Some(hooks);
                }
            });
        }
        if forward {
            let forward = site_link::forward(
                self.env.clone(),
                self.outbox(),
                id,
                self.forwarding.clone(),
                self.state.storage(),
            );
            self.state.wait_until(forward);
        }
    }

    /// An event the room list will not hear of at once: make sure the
    /// alarm tells it when the interval is over, even if nothing else
    /// happens (the record survives the object sleeping).
    fn owe_report(&self, now: u64) {
        if self.report_owed.replace(now) != 0 {
            return;
        }
        self.with_store(|store| store.set_report_owed(now));
        let due = self.last_report.get() + self.report_interval();
        self.alarm_within(due.saturating_sub(now));
    }

    /// How often the room list may hear from this room: more often while
    /// someone is looking at it there.
    fn report_interval(&self) -> u64 {
        if self.watched.get() {
            self.report_watched_ms
        } else {
            self.report_every_ms
        }
    }

    /// From the alarm: tell the room list what it has not heard yet, if the
    /// interval is over; returns how soon to come back if still owed.
    async fn send_owed_report(&self, now: u64) -> Option<u64> {
        let (owed, latest, messages) = {
            let inner = self.inner.borrow();
            let store = &inner.as_ref().ok()?.store;
            let owed = self.report_owed.get().max(store.report_owed().unwrap_or(0));
            if owed == 0 {
                return None;
            }
            let latest = store.latest_event_ts().unwrap_or(0);
            (owed, latest, store.listed_figures())
        };
        let due = self.last_report.get() + self.report_interval();
        if now < due {
            return Some(due - now);
        }
        let id = self.identity.borrow().clone()?;
        let Some(watched) = site_link::report(&self.env, &id, owed.max(latest), messages).await
        else {
            return Some(self.report_every_ms);
        };
        self.watched.set(watched);
        self.last_report.set(now);
        self.report_owed.set(0);
        self.with_store(|store| store.set_report_owed(0));
        None
    }

    /// Write to the store, logging a failure (nothing to answer it to).
    fn with_store(&self, write: impl FnOnce(&SqlStore) -> std::result::Result<(), StoreError>) {
        if let Ok(inner) = self.inner.borrow().as_ref() {
            if let Err(e) = write(&inner.store) {
                console_error!("room: cannot write its state: {e}");
            }
        }
    }

    fn schedule_retention(&self, keep: u64) {
        if let Ok(inner) = self.inner.borrow().as_ref() {
            if let Err(e) = inner.store.set_retention(keep) {
                console_error!("room: cannot record retention: {e}");
                return;
            }
        }
        self.alarm_within(1_000);
    }

    fn on_text(&self, origin: Origin<'_>, member: &Member, text: &str) {
        let legacy = self.legacy_present();
        let outputs = {
            let mut inner = self.inner.borrow_mut();
            match inner.as_mut() {
                Ok(Inner { core, store, .. }) => {
                    let sockets = Sockets {
                        legacy,
                        counts_short: self.shards.counts_short(),
                        ..Sockets::default()
                    };
                    self.file_bytes.pass_news(core);
                    core.handle_frame(member, text, sockets, now_ms(), store)
                }
                Err(e) => Err(e.clone()),
            }
        };
        match outputs {
            Ok(outputs) => {
                self.carry_out(origin, outputs);
            }
            Err(e) => {
                console_error!("room: frame failed: {e}");
                if member.v1 {
                    let error = ProtocolError::new(
                        ErrorCode::Internal,
                        "the server could not handle that; try again",
                    );
                    let frame = ServerFrame::Error(error).encode();
                    self.carry_out(origin, vec![Output::Reply(frame)]);
                }
            }
        }
    }
}

/// The socket handlers (see the module doc for why they are written out).
#[wasm_bindgen]
impl Room {
    #[wasm_bindgen(js_name = webSocketMessage)]
    pub fn web_socket_message(&self, ws: RawSocket, message: JsValue) {
        let Some(member) = connection::load(&WebSocket::from(ws.clone())) else {
            let _ = ws.close_with_code_and_reason(
                close_code::INTERNAL,
                "connection state lost; reconnect",
            );
            return;
        };
        let Some(text) = connection::text_of(&ws, &message) else {
            return;
        };
        self.on_text(Origin::Socket(&ws), &member, &text);
    }

    #[wasm_bindgen(js_name = webSocketClose)]
    pub fn web_socket_close(&self, ws: RawSocket, _code: u16, _reason: String, _was_clean: bool) {
        // Complete the closing handshake (the client waits for our close frame).
        let _ = ws.close_with_code_and_reason(1000, "bye");
        fanout::sockets_changed(self.state.as_raw());
        let Some(member) = connection::load(&WebSocket::from(ws.clone())) else {
            return;
        };
        if !member.v1 {
            self.legacy_present.set(None);
        }
        let sockets = Sockets {
            online: fanout::online(self.state.as_raw(), Some(&ws)) + self.shards.online(),
            legacy: self.legacy_present(),
            counts_short: self.shards.counts_short(),
            ..Sockets::default()
        };
        let empty = sockets.online == 0;
        let outputs = match self.inner.borrow_mut().as_mut() {
            Ok(inner) => inner.core.leave(&member, sockets, now_ms()),
            Err(_) => return,
        };
        self.carry_out(Origin::Socket(&ws), outputs);
        if empty {
            self.unlist_if_unused();
        }
    }

    #[wasm_bindgen(js_name = webSocketError)]
    pub fn web_socket_error(&self, _ws: RawSocket, error: JsValue) {
        // The close handler follows and does the rest of the clean-up.
        fanout::sockets_changed(self.state.as_raw());
        console_error!("room: socket error: {error:?}");
    }
}

impl DurableObject for Room {
    fn new(state: State, env: Env) -> Self {
        let hooks_check_ms = env_ms(&env, "HOOKS_CHECK_MS", HOOKS_CHECK_EVERY_MS);
        let day_ms = env_ms(&env, "RETENTION_DAY_MS", DAY_MS);
        let report_every_ms = env_ms(&env, "REPORT_MS", REPORT_EVERY_MS);
        let report_watched_ms =
            env_ms(&env, "REPORT_WATCHED_MS", REPORT_WATCHED_MS).min(report_every_ms);
        let inner = open(&state);
        let identity = inner
            .as_ref()
            .ok()
            .and_then(|i| RoomIdentity::load(&i.store));
        if let Err(e) = &inner {
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
        let shards = Shards::new(
            env.clone(),
            shard_plan(&env),
            inner.as_ref().ok().map(|i| &i.store),
        );
        if let Some(id) = &identity {
            shards.set_owner(id.object_name());
        }
        // Woken (from hibernation, or after a restart): the members on
        // fan-out objects are not in memory any more; they will be.
        shards.ask_rosters(&state, now_ms());
        let room = Room {
            shards,
            state,
            env,
            inner: RefCell::new(inner),
            legacy_present: Cell::new(None),
            identity: RefCell::new(identity),
            last_report: Rc::new(Cell::new(0)),
            report_owed: Cell::new(0),
            report_every_ms,
            report_watched_ms,
            watched: Rc::new(Cell::new(false)),
            hooks_checked: Cell::new(now_ms()),
            fresh_hooks: Rc::new(RefCell::new(None)),
            hooks_check_ms,
            day_ms,
            forwarding: Rc::new(Cell::new(false)),
            listing: Rc::new(Cell::new(false)),
            list_wanted: Rc::new(Cell::new(false)),
            file_bytes: file_bytes::FileBytes::default(),
        };
        room.place_files();
        room.tell_owed_file_bytes();
        room
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        if req.headers().has(crate::shard::INBOUND_HEADER)? {
            return match serde_json::from_str::<InboundBatch>(&req.text().await?) {
                Ok(batch) if batch.index < protocol::shard::MAX_FANOUT => {
                    self.shards.grow(batch.index + 1, None);
                    // A batch whose answer was lost comes again: once is enough.
                    if self.shards.fresh_inbound(batch.index, &batch.from, batch.n) {
                        self.inbound(batch);
                    }
                    Response::empty()
                }
                _ => json_error(400, "bad_request", "bad inbound batch"),
            };
        }
        if req.headers().has(crate::files::CLAIM_HEADER)? {
            return self.claim(&req).await;
        }
        if let Some(news) = req.headers().get(SITE_HEADER)? {
            // The site changed: its room list tells each of its rooms.
            return match serde_json::from_str::<ApiTicket>(&news) {
                Ok(ticket) => {
                    // A room never used has nothing to update.
                    if self.identity.borrow().is_some() {
                        self.learn(
                            ticket.identity(),
                            ticket.limits.retention_days,
                            ticket.place.version,
                        );
                        self.adopt_site(&ticket);
                    }
                    Response::empty()
                }
                Err(_) => json_error(400, "bad_request", "bad site news"),
            };
        }
        if let Some(ticket) = req.headers().get(API_HEADER)? {
            return match serde_json::from_str::<ApiTicket>(&ticket) {
                Ok(ticket) => {
                    self.learn(
                        ticket.identity(),
                        ticket.limits.retention_days,
                        ticket.place.version,
                    );
                    // The word filter and the rest apply to the site's own
                    // posts too, in a room no member has opened yet.
                    self.adopt_site(&ticket);
                    self.api(req, ticket).await
                }
                Err(_) => json_error(400, "bad_request", "bad API ticket"),
            };
        }
        let ticket = match req
            .headers()
            .get(TICKET_HEADER)?
            .map(|t| serde_json::from_str::<JoinTicket>(&t))
        {
            Some(Ok(ticket)) => ticket,
            _ => return json_error(400, "bad_request", "rooms are reached through /ws"),
        };
        match self.join(ticket).await {
            Ok(response) => Ok(response),
            Err(e) => {
                console_error!("room: join failed: {e}");
                json_error(500, "internal", "the room could not accept the connection")
            }
        }
    }

    /// Trim history (by count and by age), hand on webhook events that are
    /// still waiting, and come back when either needs it again.
    async fn alarm(&self) -> Result<Response> {
        let now = now_ms();
        let (days, outputs) = {
            let mut inner = self.inner.borrow_mut();
            let Inner { core, store, .. } = inner
                .as_mut()
                .map_err(|e| Error::RustError(e.to_string()))?;
            let keep = store
                .retention()
                .map_err(|e| Error::RustError(e.to_string()))?;
            let days = store.retention_days().unwrap_or(0);
            let (_, outputs) = core
                .retain(keep, days, self.day_ms, now, store)
                .map_err(|e| Error::RustError(e.to_string()))?;
            (days, outputs)
        };
        // A pinned message trimmed: unpinned for those connected.
        self.carry_out(Origin::Api, outputs);
        let next_sweep = self.sweep_files(now).await;
        self.tell_owed_file_bytes();
        let next_report = self.send_owed_report(now).await;
        let identity = self.identity.borrow().clone();
        match identity {
            Some(id) if !id.hooks.is_empty() => {
                site_link::forward(
                    self.env.clone(),
                    self.outbox(),
                    id,
                    self.forwarding.clone(),
                    self.state.storage(),
                )
                .await;
            }
            // No webhook wants them any more.
            _ => self.outbox().clear(),
        }
        // Always come back: soon while events wait (a forward that failed,
        // or one still running), for the next day's trim, and when an
        // upload not sent yet is due to be swept.
        let mut next: Option<u64> = None;
        if !self.outbox().is_empty() {
            next = Some(site_link::RETRY_MS as u64);
        } else if days > 0 {
            next = Some(self.day_ms);
        }
        if let Some(at) = next_sweep {
            // (Due now, not yet past by the store's clock: in a second.)
            let due = at.saturating_sub(now).max(1_000);
            next = Some(next.map_or(due, |n| n.min(due)));
        }
        if let Some(in_ms) = next_report {
            next = Some(next.map_or(in_ms, |n| n.min(in_ms)));
        }
        // Not a plain set: a request may have asked for the alarm while this
        // one awaited (the runtime reports none set while it runs).
        if let Some(in_ms) = next {
            alarm::alarm_by(&self.state.storage(), now_ms() + in_ms).await;
        }
        Response::ok("")
    }
}
