//! `HelloChat.connect(options)`: the same zero-loss session as the widget
//! (reconnect, resume, outbox, dedupe, unread counts) with no DOM, for a
//! site that draws its own chat. Every effect of the session becomes an
//! event for the page; every method is the widget's handle's.
//!
//! It mirrors [`crate::controller`] without the view: a socket, one timer,
//! the browser's online/offline and visibility events, and the page's
//! `emit(name, detail)` callback.

use protocol::text::concat;
use std::cell::RefCell;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use js_sys::{Array, Function};
use protocol::client_frame::ModerationAction;
use protocol::report::ReportReason;
use protocol::server_frame::PresenceMember;
use protocol::session::{Effect, Session, SessionConfig, Status};
use protocol::unread::Unread;
use protocol::{ChatMessage, ErrorCode, ProtocolError};
use wasm_bindgen::prelude::*;

use crate::events::{self, obj};
use crate::listener::Listener;
use crate::options::Options;
use crate::socket::{Socket, SocketEvent};
use crate::stored;
use crate::upload::Upload;

/// A connection to one room, without a widget.
#[wasm_bindgen]
pub struct Client {
    inner: Option<Rc<RefCell<Headless>>>,
}

struct Headless {
    session: Session,
    options: Options,
    socket: Option<Socket>,
    timer: Option<Timeout>,
    listeners: Vec<Listener>,
    emit: Function,
    unread: Unread,
    joined: bool,
    /// A returning client's missed messages, as the room counted them.
    missed: Option<u64>,
    /// Our name as the room shows it (for `mentionsMe`), once welcomed.
    me: Option<String>,
    /// Who is here, kept from `welcome` and `presence` frames.
    members: Vec<PresenceMember>,
    /// Files of queued messages: (local handle, message id, bytes), kept
    /// until the message is sent or dropped; and the uploads running.
    files: Vec<(u32, String, web_sys::Blob)>,
    uploads: Vec<Upload>,
    next_local: u32,
    /// A `loadEarlier` not answered yet: asked again after a reconnect
    /// (the session drops a request the closed socket took with it).
    older_asked: bool,
    outgoing: Vec<(&'static str, JsValue)>,
    weak: Weak<RefCell<Headless>>,
}

fn now() -> f64 {
    js_sys::Date::now()
}

/// Run `f`, then everything that follows from it; the page hears last.
fn dispatch(weak: &Weak<RefCell<Headless>>, f: impl FnOnce(&mut Headless, f64)) {
    let mut f = Some(f);
    run(weak, &mut |h, t| {
        if let Some(f) = f.take() {
            f(h, t)
        }
    });
}

/// `dispatch`'s body, once: not a copy per caller.
fn run(weak: &Weak<RefCell<Headless>>, f: &mut dyn FnMut(&mut Headless, f64)) {
    let Some(rc) = weak.upgrade() else { return };
    let (emit, events) = {
        let Ok(mut h) = rc.try_borrow_mut() else {
            return;
        };
        let t = now();
        f(&mut h, t);
        h.apply_effects(t);
        h.rearm_timer(t);
        (h.emit.clone(), std::mem::take(&mut h.outgoing))
    };
    for (name, detail) in events {
        let _ = emit.call2(&JsValue::NULL, &JsValue::from_str(name), &detail);
    }
}

impl Headless {
    fn emit(&mut self, name: &'static str, detail: JsValue) {
        self.outgoing.push((name, detail));
    }

    fn own(&self, m: &ChatMessage) -> bool {
        self.session.own_sender().is_some_and(|me| me == m.sender)
    }

    /// `presence`, as the widget's page hears it: with who is here.
    fn emit_presence(&mut self, online: u32, joined: Option<String>, left: Option<String>) {
        let detail = events::presence(online, joined, left, &self.members);
        self.emit("presence", detail);
    }

    fn emit_unread(&mut self) {
        let detail = obj(&[("count", (self.unread.count() as u32).into())]);
        self.emit("unread", detail);
    }

    fn apply_effects(&mut self, t: f64) {
        while let Some(effect) = self.session.poll_effect() {
            match effect {
                Effect::Open { query, protocols } => {
                    self.socket = None;
                    let url = self.options.socket_url(&query);
                    let weak = self.weak.clone();
                    let on_event = move |event: SocketEvent| {
                        dispatch(&weak, move |h, t| match event {
                            SocketEvent::Text(text) => h.session.on_text(&text, t),
                            SocketEvent::Close { code, reason } => {
                                h.session.on_close(code, &reason, t)
                            }
                        })
                    };
                    match Socket::open(&url, &protocols, on_event) {
                        Ok(socket) => self.socket = Some(socket),
                        Err(_) => self.session.on_close(1006, "", t),
                    }
                }
                Effect::Transmit(text) => {
                    if let Some(s) = &self.socket {
                        s.send(&text);
                    }
                }
                Effect::CloseSocket => self.socket = None,
                Effect::Status(status) => {
                    let detail = match &status {
                        Status::Reconnecting { retry_at, offline } => {
                            let mut pairs = vec![("status", status.as_str().into())];
                            if let Some(at) = retry_at {
                                pairs.push(("retryIn", (at - t).max(0.0).round().into()));
                            }
                            pairs.push(("offline", (*offline).into()));
                            obj(&pairs)
                        }
                        Status::Failed { code, reason } => {
                            let mut pairs = vec![
                                ("status", status.as_str().into()),
                                ("code", (*code).into()),
                                ("reason", reason.as_str().into()),
                            ];
                            if let Some(at) = self.session.ban_ends() {
                                pairs.push(("until", at.round().into()));
                            }
                            obj(&pairs)
                        }
                        _ => obj(&[("status", status.as_str().into())]),
                    };
                    self.emit("status", detail);
                }
                Effect::Welcome {
                    name,
                    online,
                    sender,
                    verified,
                    role,
                    members,
                    unread,
                } => {
                    self.missed = unread;
                    self.me = Some(name.clone());
                    self.members = members;
                    let detail = obj(&[
                        ("name", name.into()),
                        ("sender", sender.into()),
                        ("verified", verified.into()),
                        (
                            "role",
                            role.map_or(JsValue::UNDEFINED, |r| r.as_str().into()),
                        ),
                    ]);
                    self.emit("welcome", detail);
                    self.emit_presence(online, None, None);
                    self.session.read_up_to(self.unread.read(), now());
                    if self.older_asked {
                        self.older_asked = self.session.load_earlier();
                    }
                }
                Effect::Room(room) => {
                    self.session.read_up_to(self.unread.read(), now());
                    // What the room lets us do now, for a page that draws its
                    // own composer and reactions (on joining, on every change).
                    let emoji = Array::new();
                    for e in &room.emoji {
                        emoji.push(&JsValue::from_str(e));
                    }
                    let num = |n: u64| JsValue::from_f64(n as f64);
                    let detail = obj(&[
                        ("locked", room.locked.into()),
                        ("slowMode", num(room.slow_mode)),
                        // For good: Infinity.
                        (
                            "mutedUntil",
                            room.muted_until.map_or(JsValue::UNDEFINED, |u| {
                                JsValue::from_f64(if u == u64::MAX {
                                    f64::INFINITY
                                } else {
                                    u as f64
                                })
                            }),
                        ),
                        ("editWindow", num(room.edit_window)),
                        ("emoji", emoji.into()),
                        (
                            "accept",
                            room.accept
                                .as_deref()
                                .map_or(JsValue::UNDEFINED, JsValue::from_str),
                        ),
                        (
                            "maxFileBytes",
                            room.max_file_bytes.map_or(JsValue::UNDEFINED, num),
                        ),
                        (
                            "maxMessageChars",
                            num(self.session.max_message_chars() as u64),
                        ),
                        (
                            "pinned",
                            room.pinned.as_ref().map_or(JsValue::UNDEFINED, |m| {
                                let own = self.own(m);
                                events::message(m, own, self.me.as_deref(), &self.options.server)
                            }),
                        ),
                    ]);
                    self.emit("room", detail);
                }
                Effect::ReadElsewhere(seq) => {
                    if self.unread.seen(seq) {
                        self.emit_unread();
                    }
                    stored::save(&self.options, self.unread.read());
                }
                // The headless client keeps no list: nothing is ever below it.
                Effect::Show(messages) | Effect::Arrived(messages) => self.show(&messages),
                Effect::ShowNewer { .. } | Effect::ShowInstead { .. } => {}
                Effect::ShowOlder { messages, more } => {
                    self.older_asked = false;
                    let list = Array::new();
                    for m in &messages {
                        list.push(&events::message(
                            m,
                            self.own(m),
                            self.me.as_deref(),
                            &self.options.server,
                        ));
                    }
                    let detail = obj(&[("messages", list.into()), ("more", more.into())]);
                    self.emit("older", detail);
                }
                Effect::Updated { seq, message } => {
                    if message.deleted && self.unread.deleted(message.seq) {
                        self.emit_unread();
                    }
                    let detail = events::message(
                        &message,
                        self.own(&message),
                        self.me.as_deref(),
                        &self.options.server,
                    );
                    let _ = js_sys::Reflect::set(&detail, &"eventSeq".into(), &(seq as f64).into());
                    self.emit("update", detail);
                }
                Effect::Moderation(n) | Effect::ModerationBelow(n) => {
                    let detail = events::notice(&n);
                    self.emit("moderation", detail);
                }
                // Moderators: open reports (`all`: every one, on joining).
                Effect::Reports { counts, all } => {
                    self.emit("reports", events::reports(&counts, all));
                }
                Effect::Pending { id, text, .. } => {
                    let detail = obj(&[("id", id.into()), ("text", text.into())]);
                    self.emit("pending", detail);
                }
                Effect::Sent { id, seq } => {
                    self.forget_files(&id);
                    let detail = obj(&[("id", id.into()), ("seq", (seq as f64).into())]);
                    self.emit("sent", detail);
                }
                Effect::Renamed { id, new_id } => {
                    let detail = obj(&[("id", id.into()), ("newId", new_id.into())]);
                    self.emit("renamed", detail);
                }
                Effect::SendFailed { id, error } => {
                    let detail = events::error(&error.with_id(Some(&id)));
                    self.emit("failed", detail);
                }
                Effect::Upload { id, local, url } => self.upload(id, local, &url, t),
                Effect::Presence {
                    online,
                    joined,
                    left,
                    member,
                } => {
                    if let Some(m) = member {
                        self.members.retain(|x| x.sender != m.sender);
                        if m.connections > 0 {
                            self.members.push(m);
                        }
                    }
                    self.emit_presence(online, joined, left);
                }
                Effect::Receipt(r) => {
                    let detail = obj(&[
                        ("sender", r.sender.into()),
                        ("name", r.name.into()),
                        ("seq", (r.seq as f64).into()),
                    ]);
                    self.emit("receipt", detail);
                }
                Effect::Typing { name, sender } => {
                    let detail = obj(&[
                        ("name", name.into()),
                        ("sender", sender.map_or(JsValue::UNDEFINED, JsValue::from)),
                    ]);
                    self.emit("typing", detail);
                }
                // Its page hears the `error` that follows.
                Effect::EditFailed { .. } | Effect::Applied { .. } => {}
                Effect::Error(error) => {
                    let detail = events::error(&error);
                    self.emit("error", detail);
                }
            }
        }
    }

    /// `PUT` file `local` of message `id` to `path` on the server; progress
    /// and the outcome come back as events and to the session.
    fn upload(&mut self, id: String, local: u32, path: &str, t: f64) {
        let blob = self
            .files
            .iter()
            .find(|(l, _, _)| *l == local)
            .map(|(_, _, b)| b.clone())
            .filter(|_| path.starts_with("/uploads/"));
        let Some(blob) = blob else {
            let error = ProtocolError::new(
                protocol::ErrorCode::Internal,
                "the file is no longer available",
            );
            return self.session.upload_failed(&id, local, error, t);
        };
        let url = concat(&[self.options.server.as_str(), path]);
        let (weak, weak_end) = (self.weak.clone(), self.weak.clone());
        let (for_progress, for_end) = (id.clone(), id.clone());
        let total = blob.size();
        let started = Upload::start(
            &id,
            local,
            &url,
            &blob,
            &blob.type_(),
            move |loaded| {
                let detail = obj(&[
                    ("id", for_progress.as_str().into()),
                    ("loaded", loaded.into()),
                    ("total", total.into()),
                ]);
                dispatch(&weak, |h, _| h.emit("progress", detail));
            },
            move |result| {
                let id = for_end.clone();
                dispatch(&weak_end, |h, t| {
                    h.uploads.retain(|u| !(u.id == id && u.local == local));
                    match result {
                        Ok(key) => h.session.uploaded(&id, local, &key, t),
                        Err(e) => h.session.upload_failed(&id, local, e, t),
                    }
                })
            },
        );
        match started {
            Ok(upload) => self.uploads.push(upload),
            Err(e) => self.session.upload_failed(&id, local, e, t),
        }
    }

    /// Message `id` is sent or dropped: its files' bytes and uploads go.
    fn forget_files(&mut self, id: &str) {
        self.files.retain(|(_, msg, _)| msg != id);
        self.uploads.retain(|u| u.id != id);
    }

    fn show(&mut self, messages: &[ChatMessage]) {
        let before = self.unread.count();
        if !self.joined {
            self.joined = true;
            self.unread.joined(messages.last().map_or(0, |m| m.seq));
            self.session.read_up_to(self.unread.read(), now());
        }
        for m in messages {
            let own = self.own(m);
            self.unread.arrived(m.seq, own, m.deleted);
            let detail = events::message(m, own, self.me.as_deref(), &self.options.server);
            self.emit("message", detail);
        }
        // What a returning client missed beyond the join page counts too.
        if let (Some(total), Some(first)) = (self.missed.take(), messages.first()) {
            self.unread.behind(total, first.seq);
        }
        if self.unread.count() != before {
            self.emit_unread();
        }
        stored::save(&self.options, self.unread.read());
    }

    fn rearm_timer(&mut self, t: f64) {
        self.timer = self.session.poll_timeout().map(|at| {
            let weak = self.weak.clone();
            Timeout::new((at - t).clamp(0.0, 2_147_483_647.0) as u32, move || {
                dispatch(&weak, |h, t| h.session.handle_timeout(t))
            })
        });
    }

    fn act(&mut self, result: Result<String, ProtocolError>) -> Option<String> {
        if let Err(e) = &result {
            let detail = events::error(e);
            self.emit("error", detail);
        }
        result.ok()
    }
}

#[wasm_bindgen]
impl Client {
    /// Connect to `options.room`; `emit(eventName, detail)` receives every
    /// event. Throws for invalid options, like `mount`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        options: JsValue,
        emit: Function,
        default_server: String,
    ) -> Result<Client, JsValue> {
        let options = Options::read(&options, &default_server)
            .map_err(|e| JsValue::from(js_sys::Error::new(&e.replace("mount", "connect"))))?;
        let config = SessionConfig {
            room: options.room.clone(),
            name: options.name.clone(),
            site: options.site.clone(),
            token: options.token.clone(),
        };
        let unread = Unread::new(stored::load(&options));
        let rc = Rc::new_cyclic(|weak| {
            RefCell::new(Headless {
                session: Session::new(config, crate::entropy::entropy()),
                options,
                socket: None,
                timer: None,
                listeners: Vec::new(),
                emit,
                unread,
                joined: false,
                missed: None,
                me: None,
                members: Vec::new(),
                files: Vec::new(),
                uploads: Vec::new(),
                next_local: 0,
                older_asked: false,
                outgoing: Vec::new(),
                weak: weak.clone(),
            })
        });
        let weak = Rc::downgrade(&rc);
        rc.borrow_mut().listeners = listen(&weak);
        dispatch(&weak, |h, t| {
            if web_sys::window().is_some_and(|w| !w.navigator().on_line()) {
                h.session.set_browser_online(false, t);
            }
            h.session.read_before(h.unread.read());
            h.session.start(t);
        });
        Ok(Client { inner: Some(rc) })
    }

    fn run(
        &self,
        f: impl FnOnce(&mut Headless, f64) -> Result<String, ProtocolError>,
    ) -> Option<String> {
        let weak = Rc::downgrade(self.inner.as_ref()?);
        let mut id = None;
        dispatch(&weak, |h, t| {
            let result = f(h, t);
            id = h.act(result);
        });
        id
    }

    pub fn send(&self, text: String) -> Option<String> {
        self.run(|h, t| h.session.send(&text, t))
    }

    pub fn reply(&self, seq: f64, text: String) -> Option<String> {
        self.run(|h, t| h.session.reply(Some(seq as u64), &text, t))
    }

    pub fn edit(&self, seq: f64, text: String) -> Option<String> {
        self.run(|h, t| h.session.edit(seq as u64, &text, t))
    }

    pub fn remove(&self, seq: f64) -> Option<String> {
        self.run(|h, t| h.session.remove(seq as u64, t))
    }

    pub fn react(&self, seq: f64, emoji: String, on: bool) -> Option<String> {
        self.run(|h, t| h.session.react(seq as u64, &emoji, on, t))
    }

    /// Report someone else's message `seq` to the moderators: `reason` is
    /// `spam`, `harassment` or `other`; `note` (optional) at most 200 characters.
    pub fn report(&self, seq: f64, reason: String, note: Option<String>) -> Option<String> {
        self.run(|h, t| {
            let reason = ReportReason::parse(&reason).ok_or_else(|| {
                ProtocolError::new(
                    ErrorCode::BadFrame,
                    "reason must be spam, harassment or other",
                )
            })?;
            // Checked as the room checks it: refused now, not as a late `failed`.
            let note = match note {
                Some(n) => protocol::report::clean_note(&n)
                    .map_err(|e| ProtocolError::new(ErrorCode::BadFrame, e))?,
                None => None,
            };
            h.session.report(seq as u64, reason, note, t)
        })
    }

    /// A moderator's action (the room refuses it from anyone else), with
    /// the fields of a `moderate` frame: `("mute", None, Some(key), Some(600),
    /// Some("spam"))`.
    pub fn moderate(
        &self,
        action: String,
        target: Option<f64>,
        sender: Option<String>,
        seconds: Option<f64>,
        reason: Option<String>,
    ) -> Option<String> {
        self.run(|h, t| {
            let whole = |n: f64| n as u64;
            let action = ModerationAction::from_parts(
                &action,
                target.map(whole),
                sender.as_deref(),
                seconds.map(whole),
            )?
            .ok_or_else(|| ProtocolError::new(ErrorCode::BadFrame, "unknown moderation action"))?;
            let reason = reason.filter(|r| !r.trim().is_empty());
            h.session.moderate(action, reason, t)
        })
    }

    /// Send a failed message again, or drop it.
    pub fn retry(&self, id: String) -> bool {
        self.with(|h, t| h.session.retry(&id, t))
    }

    pub fn discard(&self, id: String) -> bool {
        self.with(|h, _| {
            let dropped = h.session.discard(&id);
            h.forget_files(&id);
            dropped
        })
    }

    /// Send a file (a `File` or `Blob`, as it is: a headless page prepares
    /// its own images) with optional text; returns the message's client id.
    /// Upload progress comes as `progress {id, loaded, total}` events.
    #[wasm_bindgen(js_name = sendFile)]
    pub fn send_file(&self, file: web_sys::Blob, text: String) -> Option<String> {
        let name = js_sys::Reflect::get(&file, &"name".into())
            .ok()
            .and_then(|n| n.as_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "file".to_owned());
        self.run(|h, t| {
            // What the site would refuse is refused before any upload.
            h.session
                .room()
                .check_file(&file.type_(), file.size() as u64)?;
            let local = h.next_local;
            h.next_local += 1;
            let alt = name
                .rsplit_once('.')
                .map_or(name.as_str(), |(stem, _)| stem);
            let outgoing = protocol::session::OutgoingFile::new(
                local,
                &name,
                file.size() as u64,
                &file.type_(),
                None,
                None,
                alt,
            );
            let id = h.session.send_files(&text, vec![outgoing], None, t)?;
            h.files.push((local, id.clone(), file));
            Ok(id)
        })
    }

    /// Drop a queued message, even while its file uploads.
    pub fn cancel(&self, id: String) -> bool {
        self.with(|h, t| {
            h.forget_files(&id);
            h.session.cancel(&id, t).is_some()
        })
    }

    /// Ask for the messages before the oldest one received. True when an
    /// `older` event answers: at once, empty, if nothing is older (an empty
    /// room, or its first message reached), so that a page's "Load earlier"
    /// never waits for nothing; once reconnected if disconnected. False
    /// before joining (nothing to page back from yet).
    #[wasm_bindgen(js_name = loadEarlier)]
    pub fn load_earlier(&self) -> bool {
        self.with(|h, _| {
            if h.session.load_earlier() {
                h.older_asked = true;
                return true;
            }
            let timeline = h.session.timeline();
            if !h.joined && timeline.oldest_shown().is_none() {
                return false;
            }
            if timeline.older_exist() {
                // Disconnected, or asked already: one answer, after `welcome`.
                h.older_asked = true;
                return true;
            }
            let detail = obj(&[("messages", Array::new().into()), ("more", false.into())]);
            h.emit("older", detail);
            true
        })
    }

    /// The visitor has seen everything up to `seq` (the unread count and,
    /// for a signed-in user, their other devices follow).
    #[wasm_bindgen(js_name = markRead)]
    pub fn mark_read(&self, seq: f64) {
        self.with(|h, _| {
            if h.unread.seen(seq as u64) {
                h.emit_unread();
                stored::save(&h.options, h.unread.read());
            }
            h.session.read_up_to(h.unread.read(), now());
            true
        });
    }

    /// Tell the room the visitor is typing (sent at most every 2 s).
    pub fn typing(&self) {
        self.with(|h, t| {
            h.session.typing(t);
            true
        });
    }

    fn with(&self, f: impl FnOnce(&mut Headless, f64) -> bool) -> bool {
        let Some(weak) = self.inner.as_ref().map(Rc::downgrade) else {
            return false;
        };
        let mut out = false;
        dispatch(&weak, |h, t| out = f(h, t));
        out
    }

    /// Close the connection and stop every timer and listener.
    pub fn destroy(&mut self) {
        if let Some(inner) = self.inner.take() {
            if let Ok(mut h) = inner.try_borrow_mut() {
                h.session.close();
                while h.session.poll_effect().is_some() {}
                h.socket = None;
                h.timer = None;
                h.listeners.clear();
                // Dropping an upload aborts it.
                h.uploads.clear();
                h.files.clear();
            }
        }
    }
}

/// The browser's online/offline and visibility events.
fn listen(weak: &Weak<RefCell<Headless>>) -> Vec<Listener> {
    let mut out = Vec::new();
    let Some(window) = web_sys::window() else {
        return out;
    };
    let on = |target: &web_sys::EventTarget, kind: &'static str, f: fn(&mut Headless, f64)| {
        let weak = weak.clone();
        Listener::new(target, kind, move |_| dispatch(&weak, f))
    };
    out.push(on(&window, "online", |h, t| {
        h.session.set_browser_online(true, t)
    }));
    out.push(on(&window, "offline", |h, t| {
        h.session.set_browser_online(false, t)
    }));
    if let Some(doc) = window.document() {
        out.push(on(&doc, "visibilitychange", |h, t| {
            let visible = web_sys::window()
                .and_then(|w| w.document())
                .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Visible);
            if visible {
                h.session.tab_visible(t);
            }
        }));
    }
    out
}
