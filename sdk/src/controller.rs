//! Wires the sans-IO [`Session`] to the browser: the socket, one timer, the
//! DOM and the page's event handlers. Every entry point (a socket event, a
//! timer, a click) goes through [`dispatch`], which runs the session, carries
//! out its effects, re-arms the timer and only then calls the page's handlers,
//! so a handler that calls back into the widget never finds it busy.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::Function;
use protocol::client_frame::ModerationAction;
use protocol::message::ModerationNotice;
use protocol::read_out::ReadOut;
use protocol::server_frame::{PresenceMember, Reader};
use protocol::session::{Effect, RoomStatus, Session, SessionConfig, Status};
use protocol::text::{concat, decimal};
use protocol::typists::Typists;
use protocol::unread::Unread;
use protocol::{ChatMessage, ProtocolError};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, Event, KeyboardEvent};

use crate::attach;
use crate::events::{self, obj};
use crate::files::Files;
use crate::listener::Listener;
use crate::mentions::Mentions;
use crate::options::Options;
use crate::resized::Resized;
use crate::socket::{Socket, SocketEvent};
use crate::stored;
use crate::strings::Strings;
use crate::timeout::Timeout;
use crate::view::dom::{cast_ref, target};
use crate::view::View;

/// At most one "New report on …" said in this long (ms).
const REPORT_SAY_MS: f64 = 10_000.0;
/// Messages kept in the DOM; older ones are dropped and paged back on demand.
const MAX_MESSAGES_IN_DOM: u32 = 300;
/// People who spoke lately, kept for @mentions.
const MAX_TALKERS: usize = 50;
/// Messages arriving together past this many are read out as one line
/// ("12 new messages"), not one by one.
const MAX_ANNOUNCED: usize = 5;

pub type Shared = Rc<RefCell<Controller>>;

pub struct Controller {
    pub(crate) session: Session,
    pub(crate) options: Options,
    pub(crate) view: View,
    /// The message the composer answers, if any.
    pub(crate) reply_to: Option<u64>,
    /// The message whose editor ↑ opened from the composer: focus goes back
    /// there when it closes.
    pub(crate) edit_from_composer: Option<u64>,
    /// The pinned message shown (seq, edited) and whether with Unpin
    /// (redrawn only when one changes: a redraw would take focus off Unpin).
    pin_shown: Option<(u64, Option<u64>, bool)>,
    /// A new rule in the room banner, to read out with the notice that
    /// made it, or alone once no such notice can come: at the end of the
    /// effects of a frame, or of the join page after a welcome (which
    /// replays what happened while away).
    banner_news: Option<String>,
    /// A mute of ours is shown; it ended (read out with the banner's news,
    /// as a timed mute ends with no notice from the room).
    muted_shown: bool,
    mute_ended: bool,
    /// When a new report was last said (moderators).
    report_said: f64,
    /// A new report not said yet (one was, less than ten seconds ago), and
    /// the timer that says it.
    report_held: Option<u64>,
    report_timer: Option<Timeout>,
    /// The bytes of files staged, queued or shown from this page, and their uploads.
    pub(crate) files: Files,
    /// This page's draft and unsent messages as last kept (`Session::kept`),
    /// so that only a change is written.
    kept: String,
    /// Who is here (the first 100), kept current by presence frames.
    members: Vec<PresenceMember>,
    /// Who spoke lately, most recent first: offered first as @mentions.
    /// In a live event the room lists only its first 100 senders and tells
    /// no joins, so the people talking may be in no other list.
    talkers: Vec<(String, String)>,
    mentions: Mentions,
    socket: Option<Socket>,
    timer: Option<Timeout>,
    /// When `timer` fires.
    timer_at: Option<f64>,
    /// Who is typing, and the timer for the next notice to run out.
    typists: Typists,
    typing_timer: Option<Timeout>,
    /// Messages read out one by one, or held and summed up when busy.
    read_out: ReadOut,
    read_out_timer: Option<Timeout>,
    listeners: Vec<Listener>,
    /// Watches the list's size: a widget in a panel that opens may show
    /// unread messages without any scroll or visibility event.
    resized: Option<Resized>,
    emit: Function,
    /// Messages from others not seen yet, the latest seq shown, and whether
    /// the join page (which a first visit counts as read) has come.
    pub(crate) unread: Unread,
    latest_shown: u64,
    joined: bool,
    /// A returning visitor's missed messages, as the room counted them on
    /// joining, until the join page comes.
    missed: Option<u64>,
    /// The "New messages" line was put above what arrived while the
    /// visitor was away (a hidden tab, a closed panel).
    new_while_away: bool,
    /// The unread count the page was last told (told again only when it
    /// changes: a message seen as it arrives is no "1" then "0").
    told_unread: Option<u32>,
    /// The list grew: trim it once the effects are applied (not between
    /// two, which the session queued for the list as it was).
    trim_due: bool,
    /// Read receipts: how far each member has read, and our latest message.
    readers: Vec<Reader>,
    latest_own: u64,
    /// Page events collected during a dispatch, delivered after it.
    outgoing: Vec<(&'static str, JsValue)>,
    pub(crate) weak: Weak<RefCell<Controller>>,
}

fn now() -> f64 {
    js_sys::Date::now()
}

/// Run `f` on the controller, then everything that follows from it.
pub fn dispatch(weak: &Weak<RefCell<Controller>>, f: impl FnOnce(&mut Controller, f64)) {
    let mut f = Some(f);
    run(weak, &mut |c, t| {
        if let Some(f) = f.take() {
            f(c, t)
        }
    });
}

/// `dispatch`'s body, once: not a copy per caller (a dozen, in the embed).
fn run(weak: &Weak<RefCell<Controller>>, f: &mut dyn FnMut(&mut Controller, f64)) {
    let Some(rc) = weak.upgrade() else { return };
    let (emit, events) = {
        let Ok(mut c) = rc.try_borrow_mut() else {
            return;
        };
        let t = now();
        // A control that goes away (a deleted message's menu, a pill that
        // hides, a redrawn message) must not drop keyboard focus on the page.
        let anchor = c.view.focus_anchor();
        f(&mut c, t);
        c.apply_effects(t);
        c.rearm_timer(t);
        // Kept as it changes: a reload may come at any time.
        let draft = c.view.input_text();
        let kept = c.session.kept(&draft, "", t);
        if kept != c.kept {
            // Another tab's unsent messages (it is offline, or was closed
            // offline) stay: merged in, not written over, at every write.
            let stored = stored::get("kept", &c.options);
            stored::set("kept", &c.options, &c.session.kept(&draft, &stored, t));
            c.kept = kept;
        }
        if let Some(anchor) = anchor.filter(|_| !c.view.has_focus()) {
            c.view.keep_focus(&anchor);
        }
        (c.emit.clone(), std::mem::take(&mut c.outgoing))
    };
    for (name, detail) in events {
        // A throwing page handler must not break the widget.
        let _ = emit.call2(&JsValue::NULL, &JsValue::from_str(name), &detail);
    }
}

/// Ours if it carries our sender key (the same on every device of a verified
/// user), never because of its name: anyone can pick any name.
fn is_own(me: Option<&str>, m: &ChatMessage) -> bool {
    me.is_some_and(|me| me == m.sender)
}

impl Controller {
    pub fn mount(
        el: &Element,
        options: &JsValue,
        default_server: &str,
        emit: Function,
    ) -> Result<Shared, JsValue> {
        let options = Options::read(options, default_server)
            .map_err(|e| JsValue::from(js_sys::Error::new(&e)))?;
        let strings = Strings::new(options.strings.clone(), options.locale.as_deref());
        let mut view = View::mount(el, &options, strings)?;
        view.hidden = crate::view::hidden::parse(&stored::get("hidden", &options));
        let unread = Unread::new(stored::load(&options));
        let kept = stored::get("kept", &options);
        let config = SessionConfig {
            room: options.room.clone(),
            name: options.name.clone(),
            site: options.site.clone(),
            token: options.token.clone(),
        };
        let rc = Rc::new_cyclic(|weak| {
            RefCell::new(Controller {
                session: Session::new(config, crate::entropy::entropy()),
                options,
                view,
                reply_to: None,
                edit_from_composer: None,
                pin_shown: None,
                banner_news: None,
                muted_shown: false,
                mute_ended: false,
                report_said: f64::NEG_INFINITY,
                report_held: None,
                report_timer: None,
                files: Files::default(),
                kept,
                members: Vec::new(),
                talkers: Vec::new(),
                mentions: Mentions::default(),
                socket: None,
                timer: None,
                timer_at: None,
                typists: Typists::default(),
                typing_timer: None,
                read_out: ReadOut::default(),
                read_out_timer: None,
                listeners: Vec::new(),
                resized: None,
                emit,
                unread,
                latest_shown: 0,
                joined: false,
                new_while_away: false,
                told_unread: None,
                missed: None,
                readers: Vec::new(),
                latest_own: 0,
                trim_due: false,
                outgoing: Vec::new(),
                weak: weak.clone(),
            })
        });
        let weak = Rc::downgrade(&rc);
        let listeners = listen(&rc.borrow(), &weak);
        rc.borrow_mut().listeners = listeners;
        let log = rc.borrow().view.log.clone();
        let w = weak.clone();
        let mut had_height = false;
        rc.borrow_mut().resized = Some(Resized::new(&log, move || {
            dispatch(&w, |c, t| {
                // Taken out of the page without `destroy()`, or put back
                // (the element's size goes to zero and back either way).
                c.session.set_detached(!c.view.log.is_connected(), t);
                if c.view.stuck_to_bottom && !c.view.holds_place() {
                    c.view.scroll_to_bottom();
                }
                // A launcher's panel opened again after messages piled up
                // while closed: start at the first of them, as a tab shown
                // again does (not on every resize: that would pull a reader
                // back up to an old line).
                let has_height = c.view.log.client_height() > 0;
                if has_height && !had_height {
                    c.back_from_away();
                }
                had_height = has_height;
                c.mark_seen()
            })
        }));
        dispatch(&weak, |c, t| {
            c.view
                .banner("connecting", Some(&c.view.strings.get("connecting")));
            let online = crate::global::window().is_none_or(|w| w.navigator().on_line());
            if !online {
                c.session.set_browser_online(false, t);
            }
            // The draft comes back; a composer the room disables keeps it.
            c.session.set_remember_visitor(c.options.remember_visitor);
            let draft = c.session.restore(&c.kept, t);
            c.view.set_input_text(&draft);
            c.view.update_counter(c.session.max_message_chars());
            c.session.read_before(c.unread.read());
            c.session.start(t);
        });
        Ok(rc)
    }

    pub(crate) fn emit(&mut self, name: &'static str, detail: JsValue) {
        self.outgoing.push((name, detail));
    }

    fn apply_effects(&mut self, t: f64) {
        while let Some(effect) = self.session.poll_effect() {
            match effect {
                Effect::Open { query, protocols } => self.open_socket(&query, &protocols, t),
                Effect::Transmit(text) => {
                    if let Some(s) = &self.socket {
                        s.send(&text);
                    }
                }
                Effect::CloseSocket => self.socket = None,
                Effect::Status(status) => self.show_status(&status, t),
                Effect::Welcome {
                    online,
                    name,
                    members,
                    unread,
                    ..
                } => {
                    self.missed = unread;
                    self.view.me = Some(name);
                    self.members = members;
                    // Reconnected far up: a page asked for before is lost.
                    if self.view.near_bottom() {
                        self.session.load_newer();
                    }
                    self.show_presence(online, None, None);
                    // The room may know less than this page (read while offline).
                    self.session.read_up_to(self.unread.read(), now());
                }
                Effect::ReadElsewhere(seq) => {
                    if self.unread.seen(seq) {
                        self.emit_unread();
                    }
                    stored::save(&self.options, self.unread.read());
                }
                Effect::Room(room) => self.show_room(&room),
                Effect::Receipt(reader) => {
                    self.readers.retain(|r| r.sender != reader.sender);
                    self.readers.push(reader);
                    self.show_seen();
                }
                Effect::Updated { seq, message } => {
                    if message.deleted && self.unread.deleted(message.seq) {
                        self.emit_unread();
                    }
                    // Removed: a reply to it loses its bar (a removed text
                    // stays off the screen), the draft stays.
                    if message.deleted && self.reply_to == Some(message.seq) {
                        self.cancel_reply();
                    }
                    // So does its image, open full size.
                    if message.deleted && self.view.viewing(message.seq) {
                        self.view.close_viewer();
                    }
                    let own = is_own(self.session.own_sender(), &message);
                    self.view.update(&message, own);
                    // Edited: the reply bar quotes what it says now (in
                    // place: the visitor may be typing anywhere).
                    if !message.deleted && self.reply_to == Some(message.seq) {
                        if let Some(li) = self.view.item(message.seq) {
                            self.view
                                .requote_reply_bar(&crate::actions::reply_excerpt(&li));
                        }
                    }
                    let detail = events::message(
                        &message,
                        own,
                        self.view.me.as_deref(),
                        &self.options.server,
                    );
                    let _ = js_sys::Reflect::set(
                        &detail,
                        &"eventSeq".into(),
                        &JsValue::from_f64(seq as f64),
                    );
                    self.emit("update", detail);
                }
                Effect::Moderation(notice) => self.show_notice(&notice, true),
                Effect::Reports { counts, all } => {
                    if let Some(target) = self.view.show_reports(&counts, all) {
                        self.say_report(target);
                    }
                    self.emit("reports", events::reports(&counts, all));
                }
                Effect::ModerationBelow(notice) => self.show_notice(&notice, false),
                Effect::Show(messages) => self.show(&messages, true),
                Effect::Arrived(messages) => self.show(&messages, false),
                Effect::ShowNewer { messages, latest } => self.show_newer(&messages, latest),
                Effect::ShowInstead { messages, more, at } => {
                    self.view.clear();
                    self.show_newer(&messages, at.is_none());
                    self.view.set_more_available(more);
                    if let Some(seq) = at {
                        // Far up: the pill goes back to the latest.
                        let far_up = self.session.timeline().newest_shown().is_some();
                        self.view.pill.set_hidden(!far_up);
                        self.view.stuck_to_bottom = false;
                        self.show_item(seq);
                    }
                }
                Effect::ShowOlder { messages, more } => {
                    let me = self.session.own_sender();
                    self.view.prepend(&messages, more, |m| is_own(me, m));
                    self.trim_due = true;
                }
                Effect::Pending {
                    id,
                    text,
                    files,
                    reply_to,
                } => self.show_pending(&id, &text, files, reply_to),
                Effect::Applied { action, undone } => self.view.applied(&action, undone),
                Effect::Upload { id, local, url } => self.upload(id, local, &url, t),
                Effect::Renamed { id, new_id } => {
                    self.files.renamed(&id, &new_id);
                    self.view.remove_pending(&id);
                }
                Effect::Sent { id, .. } => {
                    self.files_sent(&id);
                    self.view.remove_pending(&id);
                }
                Effect::SendFailed { id, error } => {
                    // Its other uploads stop; Retry starts over.
                    self.files.stop(&id, None);
                    self.view.failed(&id, &error);
                }
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
                    self.show_presence(online, joined, left);
                }
                Effect::Typing { name, sender } => {
                    // (Someone the visitor hid types unseen.)
                    if !sender.as_deref().is_some_and(|s| self.view.is_hidden(s)) {
                        self.typists.typing(sender.as_deref(), &name, t as u64);
                        self.show_typing(t);
                    }
                }
                Effect::EditFailed {
                    target,
                    text,
                    error,
                } => self.edit_failed(target, &text, &error),
                Effect::Error(error) => {
                    let detail = events::error(&error);
                    self.emit("error", detail);
                }
            }
        }
        if !self.session.awaiting_page() {
            self.say_banner_news();
        }
        if std::mem::take(&mut self.trim_due) {
            self.trim();
        }
    }

    fn say_banner_news(&mut self) {
        let mut news = self.banner_news.take().unwrap_or_default();
        if std::mem::take(&mut self.mute_ended) {
            let ended = self.view.strings.get("muteEnded");
            news = if news.is_empty() {
                ended
            } else {
                concat(&[&ended, " ", &news])
            };
        }
        if !news.is_empty() {
            self.view.say(&news);
        }
    }

    /// The list stays small: what the visitor is far from goes (paging
    /// brings it back).
    fn trim(&mut self) {
        let away = !self.looking();
        let (oldest, newest) =
            self.view
                .trim(MAX_MESSAGES_IN_DOM, self.unread.first_unseen(), away);
        if let Some(seq) = oldest {
            self.session.forget_older_than(seq);
            self.view
                .set_more_available(self.session.timeline().older_exist());
        }
        if let Some(seq) = newest {
            self.session.forget_newer_than(seq);
        }
    }

    fn open_socket(&mut self, query: &[(&'static str, String)], protocols: &[String], t: f64) {
        self.socket = None;
        let url = self.options.socket_url(query);
        let weak = self.weak.clone();
        let on_event = move |event: SocketEvent| {
            dispatch(&weak, move |c, t| match event {
                SocketEvent::Text(text) => c.session.on_text(&text, t),
                SocketEvent::Close { code, reason } => c.session.on_close(code, &reason, t),
            })
        };
        match Socket::open(&url, protocols, on_event) {
            Ok(socket) => self.socket = Some(socket),
            // A URL the browser refuses (bad `server` option): treat as a failed attempt.
            Err(_) => self.session.on_close(1006, "", t),
        }
    }

    /// Confirmed messages, `listed` below the rest, or arrived below what
    /// the list shows (the visitor is far up): counted and told all the same.
    fn show(&mut self, messages: &[ChatMessage], listed: bool) {
        let me = self.session.own_sender().map(str::to_owned);
        // A returning visitor who missed more than the join page holds
        // starts at their first unread message (the page after their read
        // position comes next): the join page is counted, not listed.
        // (Its own messages read what is before them.)
        let read = messages
            .iter()
            .filter(|m| is_own(me.as_deref(), m))
            .fold(self.unread.read(), |read, m| read.max(m.seq));
        let listed = listed && (self.joined || !self.session.start_after(read));
        // (A join page split by a held event comes in two: the second part
        // goes below what is not listed either.)
        let listed = listed && self.session.timeline().newest_shown().is_none();
        if listed {
            self.view.append(messages, |m| is_own(me.as_deref(), m));
            self.trim_due = true;
        } else {
            self.view.pill.set_hidden(false);
            self.view.stuck_to_bottom = false;
        }
        let before = self.unread.count();
        // The join page is history: shown, not read out. So is a long
        // catch-up after a reconnect: it is summed up in one line.
        let live = self.joined;
        let quiet = !live || messages.len() > MAX_ANNOUNCED;
        if !self.joined {
            // The join page: on a first visit, all of it is read.
            self.joined = true;
            self.unread.joined(messages.last().map_or(0, |m| m.seq));
            // Kept now: the next visit counts from here even if nothing else came.
            stored::save(&self.options, self.unread.read());
        }
        // A first visit reads the join page: the room may share that too.
        self.session.read_up_to(self.unread.read(), now());
        for m in messages {
            let own = is_own(me.as_deref(), m);
            self.unread.arrived(m.seq, own, m.deleted);
            // A hidden member's message is no unread one (no badge, no
            // "New messages" line for it).
            if !own && self.view.is_hidden(&m.sender) {
                self.unread.deleted(m.seq);
            }
            self.latest_shown = self.latest_shown.max(m.seq);
            if own {
                self.latest_own = self.latest_own.max(m.seq);
            }
        }
        // What the join page does not hold of what a returning visitor
        // missed counts too (the room counted it).
        if let (Some(total), Some(first)) = (self.missed.take(), messages.first()) {
            self.unread.behind(total, first.seq);
        }
        // Where unread messages begin gets a "New messages" line: on a
        // returning visitor's join page (even if read at once, it says what
        // came while away), and when unread ones start to pile up (a hidden
        // tab, a list scrolled up). It stays until the next such start.
        let first_new = self.unread.first_unseen().filter(|_| before == 0);
        if let Some(seq) = first_new.filter(|_| !live) {
            // More than the list shows: start at the line, not the bottom
            // (so they count as unread until scrolled to).
            self.view.mark_new(seq);
            self.view.reveal_new();
        }
        self.show_seen();
        // Only what is listed can have been seen (the session may already
        // have paged further than this effect); told once it is known.
        if listed {
            self.mark_seen();
        }
        if self.unread.count() != before {
            self.emit_unread();
        }
        if let Some(seq) = first_new.filter(|_| listed && live && self.unread.count() > 0) {
            self.view.mark_new(seq);
            self.new_while_away = !self.looking();
        }
        let mut from_others = 0;
        let t = now();
        for m in messages {
            let own = is_own(me.as_deref(), m);
            if !own {
                if !quiet && !self.view.is_hidden(&m.sender) && self.read_out.arrived(t) {
                    self.view.announce(m);
                }
                from_others += 1;
            }
            let detail = events::message(m, own, self.view.me.as_deref(), &self.options.server);
            if !own && self.view.is_hidden(&m.sender) {
                // (The page's notifier stays quiet for them.)
                let _ = js_sys::Reflect::set(&detail, &"hidden".into(), &JsValue::TRUE);
            }
            self.emit("message", detail);
        }
        for m in messages.iter().filter(|m| !is_own(me.as_deref(), m)) {
            self.typists.sent(&m.sender, &m.name);
            self.talkers.retain(|(s, _)| *s != m.sender);
            self.talkers.insert(0, (m.sender.clone(), m.name.clone()));
            self.talkers.truncate(MAX_TALKERS);
        }
        self.sum_up_later(t);
        if from_others > 0 {
            self.show_typing(t);
            if live && quiet {
                let n = decimal(from_others);
                let text = self.view.strings.fill("newCount", &[("n", &n)]);
                self.view.say(&text);
            }
        }
        // The timeline knows whether older messages exist.
        self.view
            .set_more_available(self.session.timeline().older_exist());
    }

    /// Back to a tab, or a launcher panel opened again: if messages piled up
    /// at the bottom meanwhile, start at the first of them, as a returning
    /// visitor does; a visitor who was reading somewhere stays there.
    fn back_from_away(&mut self) {
        // (A tab shown again with the panel still closed: not yet.)
        if self.looking() && std::mem::take(&mut self.new_while_away) {
            self.view.reveal_new();
        }
    }

    /// A new report on `target` is said (politely), naming whose message it
    /// is when it is shown; one in ten seconds at most (a member may report
    /// ten messages at once), the latest of those held said when the ten
    /// seconds are over.
    fn say_report(&mut self, target: u64) {
        let t = now();
        let wait = self.report_said + REPORT_SAY_MS - t;
        if wait > 0.0 {
            let first = self.report_held.replace(target).is_none();
            if first {
                let weak = self.weak.clone();
                self.report_timer = Some(Timeout::new(wait as u32, move || {
                    dispatch(&weak, |c, _| {
                        c.report_timer = None;
                        if let Some(target) = c.report_held.take() {
                            c.say_report(target);
                        }
                    })
                }));
            }
            return;
        }
        self.report_said = t;
        let name = self
            .view
            .item(target)
            .and_then(|li| li.get_attribute("data-name"))
            .unwrap_or_else(|| self.view.strings.get("someone"));
        let text = self.view.strings.fill("reportNew", &[("name", &name)]);
        self.view.say(&text);
    }

    /// Held messages (a busy room) are summed up in one line when the
    /// read-out window ends.
    fn sum_up_later(&mut self, t: f64) {
        let Some(at) = self
            .read_out
            .due()
            .filter(|_| self.read_out_timer.is_none())
        else {
            return;
        };
        let weak = self.weak.clone();
        let wait = (at - t).clamp(0.0, protocol::read_out::WINDOW_MS);
        self.read_out_timer = Some(Timeout::new(wait as u32, move || {
            dispatch(&weak, |c, t| {
                c.read_out_timer = None;
                let n = c.read_out.sum_up(t);
                if n > 0 {
                    let text = c
                        .view
                        .strings
                        .fill("newCount", &[("n", &decimal(n.into()))]);
                    c.view.say(&text);
                }
            })
        }));
    }

    /// Messages paged in below the rest, as the visitor comes down from far
    /// up; `latest`: they asked for the latest, so the list follows to its
    /// bottom.
    #[inline(never)]
    fn show_newer(&mut self, messages: &[ChatMessage], latest: bool) {
        let me = self.session.own_sender().map(str::to_owned);
        self.view.add(messages, &|m| is_own(me.as_deref(), m));
        self.trim_due = true;
        // Counted when they arrived, unless older than the join page (a
        // returning visitor's first unread ones).
        let before = self.unread.count();
        for m in messages {
            self.unread
                .arrived(m.seq, is_own(me.as_deref(), m), m.deleted);
        }
        if self.unread.count() != before {
            self.emit_unread();
        }
        // The line goes above the first unread message, once it is listed
        // (unless it is still where unread ones began), and into view if
        // it is above it (a returning visitor's first page).
        let first = messages.first().map_or(u64::MAX, |m| m.seq);
        let unread_start = self.unread.first_unseen().filter(|s| *s >= first);
        if let Some(seq) = unread_start.filter(|_| !self.view.has_new_line()) {
            self.view.mark_new(seq);
            self.view.reveal_new();
        }
        self.show_seen();
        if latest {
            self.view.scroll_to_bottom();
        }
        // A page added below a reader who had reached the bottom leaves
        // them above it, and no scroll event says so: without this, a panel
        // closed and opened again would take them to the bottom.
        self.view.stuck_to_bottom = self.view.at_bottom();
        // What is on screen now is read (far up: what scrolled into view).
        self.mark_seen();
        // Still at the bottom of what is listed (a short page): go on, as no
        // scroll will come to ask.
        if self.view.near_bottom() {
            self.session.load_newer();
        }
    }

    /// The latest message counts as seen when the list shows it (scrolled to
    /// the bottom) while the page is visible; far up, what has scrolled into
    /// view does.
    pub(crate) fn mark_seen(&mut self) {
        if !self.looking() {
            return;
        }
        // Far up, the bottom of the list is not the latest, and reading down
        // (the next page comes before the bottom is reached) reads what
        // scrolled into view.
        let listed = self.session.timeline().newest_shown();
        let upto = if self.view.at_bottom() {
            listed.map_or(self.latest_shown, |n| n.min(self.latest_shown))
        } else if listed.is_some() {
            match self.view.last_visible() {
                Some(seq) => seq,
                None => return,
            }
        } else {
            return;
        };
        let read = self.unread.read();
        let changed = self.unread.seen(upto);
        if self.unread.read() != read {
            stored::save(&self.options, self.unread.read());
            self.session.read_up_to(self.unread.read(), now());
        }
        if changed {
            self.emit_unread();
        }
    }

    /// The visitor can see the list: the page is visible, and the widget
    /// has a height (a closed panel, display: none, has none).
    fn looking(&self) -> bool {
        crate::global::window()
            .and_then(|w| w.document())
            .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Visible)
            && self.view.log.client_height() > 0
    }

    /// "Seen by N" under our latest message: who else has read it.
    fn show_seen(&self) {
        if self.latest_own == 0 {
            return;
        }
        let me = self.session.own_sender();
        let names: Vec<&str> = self
            .readers
            .iter()
            // (Not those the visitor hid: their names are not shown anywhere.)
            .filter(|r| Some(r.sender.as_str()) != me && r.seq >= self.latest_own)
            .filter(|r| !self.view.is_hidden(&r.sender))
            .map(|r| r.name.as_str())
            .collect();
        self.view.seen(self.latest_own, &names);
    }

    fn emit_unread(&mut self) {
        let count = self.unread.count() as u32;
        if self.told_unread.replace(count) != Some(count) {
            self.emit("unread", obj(&[("count", count.into())]));
        }
    }

    /// The online count, and `presence` for the page (on joining too).
    fn show_presence(&mut self, online: u32, joined: Option<String>, left: Option<String>) {
        self.view.set_online(Some(online));
        let detail = events::presence(online, joined, left, &self.members);
        self.emit("presence", detail);
    }

    /// Banners and the composer follow what the room lets us do.
    fn show_room(&mut self, room: &RoomStatus) {
        let muted = room.muted_until.is_some();
        self.mute_ended |= std::mem::replace(&mut self.muted_shown, muted) && !muted;
        self.view.moderator = room.role.is_some();
        let s = &self.view.strings;
        let moderator = room.role.is_some();
        let text = match room.muted_until {
            Some(u64::MAX) => Some(s.get("mutedForGood")),
            // When it ends on this device's clock, as it will be lifted.
            Some(until) => Some(s.fill(
                "muted",
                &[(
                    "time",
                    &crate::view::dom::local_until(
                        self.session.mute_ends().unwrap_or(until as f64),
                        self.view.locale.as_deref(),
                    ),
                )],
            )),
            None if room.locked && moderator => Some(s.get("lockedModerator")),
            None if room.locked => Some(s.get("locked")),
            None if room.slow_mode > 0 => Some(s.fill(
                if moderator {
                    "slowModeModerator"
                } else {
                    "slowMode"
                },
                &[("s", &decimal(room.slow_mode))],
            )),
            None => None,
        };
        if self.view.room_banner(text.as_deref()) {
            self.banner_news = text;
        }
        let pin = room.pinned.as_ref().map(|m| (m.seq, m.edited, moderator));
        if pin != self.pin_shown {
            self.view.pin_bar(room.pinned.as_deref(), moderator);
            self.pin_shown = pin;
        }
        // The counter first: it enables Send when the text fits, and a muted
        // member's Send must stay off.
        self.view.update_counter(self.session.max_message_chars());
        // Banned (or any end): nothing can be sent, whatever the room says.
        let over = matches!(
            self.session.status(),
            Status::Failed { .. } | Status::Closed
        );
        self.view.set_composer_enabled(
            !over && (moderator || (room.muted_until.is_none() && !room.locked)),
        );
        self.view.set_file_types(room.accept.as_deref());
        self.view.strings.max_file_bytes.set(room.max_file_bytes);
        self.recheck_staged();
    }

    /// A moderation notice: a line in the list (and a purge tombstones).
    fn show_notice(&mut self, n: &ModerationNotice, listed: bool) {
        if n.action == "purge" {
            if let Some(sender) = &n.sender {
                self.view.purge(sender, n.erased);
                if n.erased {
                    // Erased (GDPR): their name goes from every line shown,
                    // and from "Seen by".
                    self.view.forget(sender);
                    self.readers.retain(|r| r.sender != *sender);
                    self.talkers.retain(|(s, _)| s != sender);
                    self.show_seen();
                }
            }
        }
        // The notices that change the rules take the banner's news: a lock
        // or slow mode says all the banner does; a mute of ours, or a rule
        // lifted while another stays, is followed by what the banner says.
        let mine = n.sender.is_some() && n.sender.as_deref() == self.session.own_sender();
        let and = match n.action.as_str() {
            "lock" | "slow" => {
                self.banner_news = None;
                String::new()
            }
            "unlock" => self.banner_news.take().unwrap_or_default(),
            // "… can write again." says the mute ended.
            "mute" | "unmute" if mine => {
                self.mute_ended = false;
                self.banner_news.take().unwrap_or_default()
            }
            _ => String::new(),
        };
        // A removal shows in place, as its tombstone: only its author is
        // told in words (a bot's cleanup of 40 messages would otherwise be
        // 40 lines, and 40 read out, for everyone).
        let author = match &n.sender {
            Some(sender) => Some(sender.as_str()) == self.session.own_sender(),
            // (Notices from before they named the author.)
            None => n
                .target
                .and_then(|t| self.view.item(t))
                .is_some_and(|li| li.has_attribute("data-own")),
        };
        let in_place = n.action == "delete" && !author;
        if let Some(key) = notice_key(n).filter(|_| !in_place) {
            // A mute's or ban's end, here and on this device's clock.
            let until = n
                .until
                .filter(|&u| u != u64::MAX)
                .map(|u| self.session.local_time_of(u))
                .map(|at| crate::view::dom::local_until(at, self.view.locale.as_deref()));
            // Far up, it is read out, but not listed: pages of history, as
            // the join page, list messages only.
            self.view
                .notice(key, n, until.as_deref().unwrap_or(""), listed, &and);
        }
        let detail = events::notice(n);
        self.emit("moderation", detail);
    }

    fn show_status(&mut self, status: &Status, t: f64) {
        let s = &self.view.strings;
        match status {
            Status::Connected => self.view.banner("", None),
            Status::Connecting => self.view.banner("connecting", Some(&s.get("connecting"))),
            Status::Reconnecting { .. } => self.refresh_countdown(t),
            Status::Failed { code, reason } => {
                let text = match self.session.ban_ends() {
                    Some(at) => s.fill(
                        "bannedUntil",
                        &[(
                            "time",
                            &crate::view::dom::local_until(at, self.view.locale.as_deref()),
                        )],
                    ),
                    None => s.cannot_connect(*code, reason),
                };
                self.view.banner("failed", Some(&text));
                // Nothing can be sent any more (banned, erased room...),
                // and nobody is counted for us; a mute said before is moot.
                self.view.set_composer_enabled(false);
                self.view.set_online(None);
                self.view.room_banner(None);
            }
            Status::Closed => {}
        }
        let mut pairs = vec![("status", JsValue::from_str(status.as_str()))];
        if let Status::Failed { code, reason } = status {
            pairs.push(("code", (*code).into()));
            pairs.push(("reason", reason.as_str().into()));
            if let Some(at) = self.session.ban_ends() {
                pairs.push(("until", at.round().into()));
            }
        }
        if let Status::Reconnecting { retry_at, offline } = status {
            if let Some(at) = retry_at {
                pairs.push(("retryIn", (at - t).max(0.0).round().into()));
            }
            pairs.push(("offline", (*offline).into()));
        }
        let detail = obj(&pairs);
        self.emit("status", detail);
    }

    /// "Reconnecting in 4 s", "Offline" or "Reconnecting…".
    fn refresh_countdown(&self, t: f64) {
        let s = &self.view.strings;
        if let Status::Reconnecting { retry_at, offline } = self.session.status() {
            if *offline {
                self.view.banner("offline", Some(&s.get("offline")));
            } else if let Some(at) = retry_at.filter(|at| *at - t >= 1000.0) {
                // Integer formatting: float Display would add ~20 KB of wasm.
                let secs = decimal((((at - t) / 1000.0).ceil() as u32).into());
                self.view.banner(
                    "reconnecting",
                    Some(&s.fill("reconnectingIn", &[("s", &secs)])),
                );
            } else {
                self.view
                    .banner("reconnecting", Some(&s.get("reconnecting")));
            }
        }
    }

    /// Show who is typing at `t`; come back when the next notice runs out.
    fn show_typing(&mut self, t: f64) {
        self.typists.expire(t as u64);
        let names: Vec<&str> = self.typists.names().collect();
        self.view.set_typing(&names);
        self.typing_timer = self.typists.next_expiry().map(|at| {
            let weak = self.weak.clone();
            let wait = (at as f64 - t).max(0.0) as u32 + 1;
            Timeout::new(wait, move || dispatch(&weak, |c, t| c.show_typing(t)))
        });
    }

    /// One timer, always set to the session's next deadline (and to the next
    /// whole second while a reconnect countdown is on screen).
    fn rearm_timer(&mut self, t: f64) {
        let mut next = self.session.poll_timeout();
        if matches!(
            self.session.status(),
            Status::Reconnecting {
                retry_at: Some(_),
                ..
            }
        ) {
            next = Some(next.map_or(t + 1000.0, |n| n.min(t + 1000.0)));
        }
        // Every event ends here: a timer already set for that time stays
        // (in a busy room, two timer calls per message otherwise).
        if next.is_some() && next == self.timer_at {
            return;
        }
        self.timer_at = next;
        self.timer = next.map(|at| {
            let weak = self.weak.clone();
            Timeout::new((at - t).clamp(0.0, 2_147_483_647.0) as u32, move || {
                dispatch(&weak, |c, t| {
                    c.timer_at = None;
                    // In case no resize told of it (the heartbeat comes by).
                    c.session.set_detached(!c.view.log.is_connected(), t);
                    c.session.handle_timeout(t);
                    c.refresh_countdown(t);
                })
            })
        });
    }

    // ----- the visitor's and the page's actions -----

    /// Run one of the handle's actions; a refusal also becomes an `error` event.
    pub fn act(&mut self, result: Result<String, ProtocolError>) -> Option<String> {
        if let Err(e) = &result {
            let detail = events::error(e);
            self.emit("error", detail);
        }
        result.ok()
    }

    /// Send the composer's text and staged files (once they are prepared).
    pub(crate) fn submit(&mut self, t: f64) {
        let text = self.view.input_text();
        if text.trim().is_empty() && self.files.staged.is_empty() {
            self.view.point_at_refused();
            return;
        }
        if !self.files.all_ready() {
            self.files.send_when_ready = true;
            return;
        }
        let files = self.staged_files();
        let result = self.session.send_files(&text, files, self.reply_to, t);
        if self.act(result).is_some() {
            // Far up, a message sent shows where it goes: the latest.
            self.session.jump_to_latest();
            self.clear_staged();
            self.view.clear_input();
            // (Sent with the Send button: no names left over the empty composer.)
            self.suggest_mentions();
            self.cancel_reply();
            self.view.update_counter(self.session.max_message_chars());
        }
    }

    fn cancel_reply(&mut self) {
        self.reply_to = None;
        self.view.reply_bar(None);
    }

    /// Offer names for an `@mention` being typed: recent talkers first, then
    /// who is online; none of a member the visitor hid.
    fn suggest_mentions(&mut self) {
        let mut names: Vec<String> = Vec::new();
        let talkers = self.talkers.iter().map(|(s, n)| (s, n));
        let online = self.members.iter().map(|m| (&m.sender, &m.name));
        for (sender, name) in talkers.chain(online) {
            if !self.view.is_hidden(sender) && !names.contains(name) {
                names.push(name.clone());
            }
        }
        let me = self.view.me.clone().unwrap_or_default();
        self.mentions
            .update(&self.view.input_text(), self.view.caret(), &names, &me);
        self.view
            .suggestions(&self.mentions.offered, self.mentions.active);
    }

    /// Put the chosen name in the composer.
    fn complete_mention(&mut self, name: &str) {
        let text = self
            .mentions
            .complete(&self.view.input_text(), self.view.caret(), name);
        self.view.set_input_text(&text);
        self.view.suggestions(&[], 0);
    }

    pub fn destroy(&mut self) {
        self.session.close();
        while self.session.poll_effect().is_some() {}
        self.socket = None;
        self.timer = None;
        self.timer_at = None;
        self.typing_timer = None;
        self.read_out_timer = None;
        self.report_timer = None;
        self.listeners.clear();
        self.resized = None;
        // Aborts every upload and revokes every object URL.
        self.files = Files::default();
        self.view.remove();
    }
}

/// Every DOM and window listener the widget needs; dropped (removed) by `destroy()`.
fn listen(c: &Controller, weak: &Weak<RefCell<Controller>>) -> Vec<Listener> {
    let v = &c.view;
    let mut out = Vec::new();
    let on =
        |target: &web_sys::EventTarget, kind: &'static str, f: fn(&mut Controller, Event, f64)| {
            let weak = weak.clone();
            Listener::new(target, kind, move |e: Event| {
                dispatch(&weak, |c, t| f(c, e, t))
            })
        };
    out.push(on(&v.form, "submit", |c, e, t| {
        e.prevent_default();
        c.submit(t);
    }));
    out.push(on(&v.input, "keydown", |c, e, t| {
        let Some(k) = cast_ref::<KeyboardEvent>(&e, "KeyboardEvent") else {
            return;
        };
        let key = k.key();
        // With names offered: arrows move, Enter or Tab picks, Escape closes
        // (not while an IME composes: its keys choose the characters). Not
        // once the caret left the @word (Home, a click): Enter then sends.
        if !c.mentions.offered.is_empty() {
            c.suggest_mentions();
        }
        if !c.mentions.offered.is_empty() && !k.is_composing() {
            match key.as_str() {
                "ArrowDown" | "ArrowUp" => {
                    e.prevent_default();
                    c.mentions.step(key == "ArrowDown");
                    c.view.suggestions(&c.mentions.offered, c.mentions.active);
                    return;
                }
                "Enter" | "Tab" => {
                    e.prevent_default();
                    let name = c.mentions.offered
                        [c.mentions.active.min(c.mentions.offered.len() - 1)]
                    .clone();
                    c.complete_mention(&name);
                    return;
                }
                "Escape" => {
                    // Handled: a launcher panel around us stays open.
                    e.prevent_default();
                    c.mentions.offered.clear();
                    c.view.suggestions(&[], 0);
                    return;
                }
                _ => {}
            }
        }
        if key == "Escape" && c.reply_to.is_some() {
            e.prevent_default();
            c.cancel_reply();
        }
        // ↑ in an empty composer edits the visitor's last message, as in
        // Slack, Discord and Teams (not an IME's ↑, picking a candidate).
        let plain =
            !(k.shift_key() || k.alt_key() || k.ctrl_key() || k.meta_key() || k.is_composing());
        if key == "ArrowUp" && plain && c.view.input.value().is_empty() && c.edit_last(t) {
            e.prevent_default();
        }
        // Enter sends, Shift+Enter is a newline, and an IME composition is
        // left alone. (Held: once; a repeat after picking an @name does not.)
        if key == "Enter" && !k.shift_key() && !k.is_composing() {
            e.prevent_default();
            if !k.repeat() {
                c.submit(t);
            }
        }
    }));
    out.push(on(&v.input, "input", |c, _, t| {
        c.view.update_counter(c.session.max_message_chars());
        c.session.typing(t);
        c.suggest_mentions();
    }));
    // A pointer picks a name (mousedown: before the composer loses focus).
    out.push(on(&v.suggest, "mousedown", |c, e, _| {
        e.prevent_default();
        let option = target(&e).and_then(|el| crate::view::dom::closest(&el, "[data-name]"));
        let name = option.and_then(|el| el.get_attribute("data-name"));
        if let Some(name) = name {
            c.complete_mention(&name);
        }
    }));
    out.push(on(&v.attach, "click", |c, _, _| c.view.picker.click()));
    // The page's script asks for permission and plays sounds: from a click only.
    if let Some(b) = &v.sound {
        out.push(on(b, "click", |c, _, _| {
            c.emit("toggle", events::obj(&[("kind", "sound".into())]))
        }));
    }
    if let Some(b) = &v.bell {
        out.push(on(b, "click", |c, _, _| {
            c.emit("toggle", events::obj(&[("kind", "desktop".into())]))
        }));
    }
    out.push(on(&v.picker, "change", attach::on_pick));
    out.push(on(&v.input, "paste", attach::on_paste));
    out.push(on(&v.tray, "click", attach::on_tray_click));
    out.push(on(&v.container, "dragover", attach::on_drag_over));
    out.push(on(&v.container, "dragleave", attach::on_drag_leave));
    out.push(on(&v.container, "drop", attach::on_drop));
    out.push(on(&v.container, "keydown", |c, e, t| {
        // Enter held down acts once: its repeats would press whatever has
        // focus next (⋯ once an edit is saved, then the menu's first
        // reaction; a chip on and off). (Shift+Enter repeats: new lines.)
        if cast_ref::<KeyboardEvent>(&e, "KeyboardEvent")
            .is_some_and(|k| k.repeat() && k.key() == "Enter" && !k.shift_key())
        {
            e.prevent_default();
        }
        attach::on_viewer_key(c, e, t)
    }));
    out.push(on(&v.container, "click", attach::on_viewer_click));
    // Its buttons: go to the message, and (moderators) Unpin this pin,
    // not a newer one pinned meanwhile.
    out.push(on(&v.pin_box, "click", |c, e, t| {
        let action = target(&e).and_then(|el| el.get_attribute("data-action"));
        let Some(pinned) = c.session.room().pinned.as_ref().map(|m| m.seq) else {
            return;
        };
        if action.as_deref() == Some("go") {
            c.go_to(pinned);
        } else if action.as_deref() == Some("unpin") {
            let target = Some(pinned);
            let result = c
                .session
                .moderate(ModerationAction::Unpin { target }, None, t);
            c.refused(result);
        }
    }));
    out.push(on(&v.reply_box, "click", |c, e, _| {
        let action = target(&e).and_then(|el| el.get_attribute("data-action"));
        if action.as_deref() == Some("cancel-reply") {
            c.cancel_reply();
        }
    }));
    out.push(on(&v.log, "keydown", |c, e, t| {
        let (Some(k), Some(target)) = (cast_ref::<KeyboardEvent>(&e, "KeyboardEvent"), target(&e))
        else {
            return;
        };
        c.on_list_key(k, &target, t);
    }));
    out.push(on(&v.earlier, "click", |c, _, _| {
        c.session.load_earlier();
    }));
    out.push(on(&v.pill, "click", |c, _, _| {
        // Far up, the latest is not in the list: it replaces it.
        if !c.session.jump_to_latest() {
            c.view.scroll_to_bottom();
        }
    }));
    out.push(on(&v.log, "scroll", |c, _, _| {
        c.view.stuck_to_bottom = c.view.at_bottom();
        let far_up = c.session.timeline().newest_shown().is_some();
        if c.view.stuck_to_bottom {
            // Far up, the bottom of the list is not the latest.
            c.view.pill.set_hidden(!far_up);
        }
        if c.view.stuck_to_bottom || far_up {
            c.mark_seen();
        }
        if far_up && c.view.near_bottom() {
            c.session.load_newer();
        }
    }));
    // Anywhere in the widget: a click outside an open menu's message closes it.
    out.push(on(&v.container, "click", |c, e, t| {
        if let Some(target) = target(&e) {
            crate::view::menu::close_if_outside(&c.view.list, Some(&target));
            if c.view.log.contains(Some(&target)) {
                c.on_list_click(&target, t);
            }
        }
    }));
    if let Some(window) = crate::global::window() {
        // On the host page, outside the widget (even when a launcher's panel
        // holds it: the path, not the retargeted target, says where).
        out.push(on(&window, "click", |c, e, _| {
            if !e.composed_path().includes(&c.view.container, 0) {
                crate::view::menu::close_if_outside(&c.view.list, None);
            }
        }));
        out.push(on(&window, "online", |c, _, t| {
            c.session.set_browser_online(true, t)
        }));
        out.push(on(&window, "offline", |c, _, t| {
            c.session.set_browser_online(false, t)
        }));
        // An on-screen keyboard opening or closing resizes the visual viewport.
        let vv = js_sys::Reflect::get(&window, &"visualViewport".into()).unwrap_or_default();
        if vv.is_object() {
            for kind in ["resize", "scroll"] {
                out.push(on(vv.unchecked_ref(), kind, |c, _, _| c.view.fit()));
            }
        }
        if let Some(doc) = window.document() {
            out.push(on(&doc, "visibilitychange", |c, _, t| {
                let visible = crate::global::window()
                    .and_then(|w| w.document())
                    .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Visible);
                if visible {
                    c.back_from_away();
                    c.session.tab_visible(t);
                    c.mark_seen();
                }
            }));
        }
    }
    out
}

/// The list's line for a moderation notice (a string key), if it has one.
fn notice_key(n: &ModerationNotice) -> Option<&'static str> {
    let timed = |n: &ModerationNotice| n.until.is_some_and(|u| u != u64::MAX);
    Some(match (n.action.as_str(), n.seconds) {
        ("delete", _) => "noticeDelete",
        ("edit", _) => "noticeEdit",
        ("mute", _) if timed(n) => "noticeMuteUntil",
        ("mute", _) => "noticeMute",
        ("unmute", _) => "noticeUnmute",
        ("ban", _) if timed(n) => "noticeBanUntil",
        ("ban", _) => "noticeBan",
        ("unban", _) => "noticeUnban",
        ("purge", _) if n.erased => "noticeErased",
        ("purge", _) if n.name.is_none() => "noticePurgeAnon",
        ("purge", _) => "noticePurge",
        ("slow", Some(0)) => "noticeSlowOff",
        ("slow", _) => "noticeSlow",
        ("lock", _) => "noticeLock",
        ("unlock", _) => "noticeUnlock",
        ("pin", _) => "noticePin",
        ("unpin", _) => "noticeUnpin",
        // A newer server's action: the event says it, the list does not.
        _ => return None,
    })
}
