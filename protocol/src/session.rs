//! The widget's connection, as a state machine with no I/O (in the style of
//! quinn-proto): the adapter in `sdk/` feeds it socket events, the clock and
//! the visitor's actions, and carries out the [`Effect`]s it queues.
//!
//! Policy in one place:
//! - connect with a timeout; on failure retry with exponential backoff and
//!   full jitter ([`Backoff`]), reset only after a connection stayed healthy;
//! - a `ping` every 25 s; no answer within 5 s means the socket is dead;
//! - reconnect at once when the browser comes back online or the tab becomes
//!   visible, and not at all while the browser says it is offline;
//! - resume with `since=<last seq shown>`, fill any gap, show each message
//!   once and in order ([`Timeline`]);
//! - queue what the visitor sends ([`Outbox`]) and send it with the same id
//!   until the room acks it; a message the room keeps refusing is marked
//!   failed after a bounded number of tries, so the rest go on;
//! - present the sender key the room issued (anonymous visitors) when
//!   reconnecting, so the room knows the earlier messages as ours; tell our
//!   own messages by that sender key, never by name;
//! - stop for good on a terminal close code (bad token, origin, site).

use crate::text::{concat, decimal};
use std::collections::VecDeque;
use std::rc::Rc;

use crate::backoff::Backoff;
use crate::client_frame::ModerationAction;
use crate::client_frame::{ClientFrame, HistoryAnchor, MAX_FILES};
use crate::connect::offered_protocols;
use crate::error::{close_code, ErrorCode, ProtocolError};
use crate::limits::{Limits, BIG_ROOM, LIVE_READ_INTERVAL_MS, TYPING_INTERVAL_MS};
use crate::message::{Attachment, ChatMessage};
use crate::message::{ModerationNotice, Role, RoomEvent, Update};
pub use crate::outbox::OutgoingFile;
use crate::outbox::{Action, Outbox, OutboxItem, OutboxState, Refusal};
use crate::report::{ReportCounts, ReportReason};
use crate::server_frame::{PresenceMember, Reader, Sanction, ServerFrame, Welcome};
use crate::timeline::Timeline;
use crate::unsent;
use crate::validate;

mod timers;
use timers::{Timer, Timers};

pub const CONNECT_TIMEOUT_MS: f64 = 10_000.0;
pub const PING_INTERVAL_MS: f64 = 25_000.0;
pub const PONG_TIMEOUT_MS: f64 = 5_000.0;
/// Something sent that the room answers (a message, an edit, a reaction,
/// an upload request) and nothing heard back for this long: the socket is
/// probed at once, not at the next heartbeat (up to [`PING_INTERVAL_MS`]
/// away): a visitor waiting for their message learns of a dead link in
/// seconds.
pub const ANSWER_PROBE_MS: f64 = 3_000.0;
/// A connection that stayed up this long resets the backoff.
pub const HEALTHY_AFTER_MS: f64 = 10_000.0;
/// How often a widget taken out of the page looks whether it is back
/// ([`Session::set_detached`]).
pub const DETACHED_CHECK_MS: f64 = 5_000.0;
/// Messages asked for per gap-fill or "load earlier" request.
pub const PAGE: usize = 50;
/// Messages shown below one jumped to ([`Session::jump_to`]), as context.
pub const JUMP_CONTEXT: u64 = 10;
/// How long to wait before resending a message the room rate-limited.
pub const RATE_LIMIT_RETRY_MS: f64 = 1_500.0;
/// How long after a timed ban ends (on our clock) to join again: the
/// room's clock may be a little behind what we learnt of it.
pub const BAN_END_MARGIN_MS: f64 = 1_000.0;

/// Who connects where.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionConfig {
    pub room: String,
    pub name: String,
    pub site: Option<String>,
    pub token: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// First attempt in progress.
    Connecting,
    Connected,
    /// Lost (or never got) a connection; retrying at `retry_at` (ms, the
    /// session's clock), or as soon as the browser is online again.
    Reconnecting {
        retry_at: Option<f64>,
        offline: bool,
    },
    /// Will not retry: the server refused us for good.
    Failed {
        code: u16,
        reason: String,
    },
    /// Destroyed by the page.
    Closed,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Connecting => "connecting",
            Status::Connected => "connected",
            Status::Reconnecting { .. } => "reconnecting",
            Status::Failed { .. } => "failed",
            Status::Closed => "closed",
        }
    }
}

/// Fills a buffer with random bytes from a good source
/// (`crypto.getRandomValues` in the widget): client ids and jitter.
pub type Entropy = Box<dyn FnMut(&mut [u8; 16])>;

/// What the adapter must do or show.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Open a WebSocket to `<server>/ws?<query>` offering these subprotocols
    /// (they carry the credentials, out of the URL), dropping any previous one.
    Open {
        query: Vec<(&'static str, String)>,
        protocols: Vec<String>,
    },
    /// Send this text frame on the open socket.
    Transmit(String),
    /// Close the current socket and forget it (its later events are stale).
    CloseSocket,
    Status(Status),
    /// The room accepted us under this (possibly cleaned) name; our messages
    /// carry `sender`. `members`: who is here (the first 100).
    Welcome {
        name: String,
        online: u32,
        sender: String,
        verified: bool,
        role: Option<Role>,
        members: Vec<PresenceMember>,
        /// A returning visitor's missed messages from others, as the
        /// room counted them ([`Session::read_before`]).
        unread: Option<u64>,
    },
    /// The room's rules for us changed (on joining, or by a moderator).
    Room(RoomStatus),
    /// Append these confirmed messages, in order, after what is shown.
    Show(Vec<ChatMessage>),
    /// Confirmed messages that arrived while the view shows only older ones
    /// (the reader is far up, see [`Session::forget_newer_than`]): count
    /// them, tell of them, but do not append them; [`Effect::ShowNewer`]
    /// brings them when the reader comes down.
    Arrived(Vec<ChatMessage>),
    /// Add these messages, in order, below what is shown (the answer to
    /// [`Session::load_newer`]). `latest`: the reader asked for the latest,
    /// so the view stays at its bottom.
    ShowNewer {
        messages: Vec<ChatMessage>,
        latest: bool,
    },
    /// Show these messages instead of everything shown (the answer to
    /// [`Session::jump_to_latest`] or [`Session::jump_to`]); `more`: older
    /// ones exist; `at`: the message jumped to, to bring into view (else
    /// the view goes to its bottom, the latest).
    ShowInstead {
        messages: Vec<ChatMessage>,
        more: bool,
        at: Option<u64>,
    },
    /// A message changed (edit, delete, reactions), by the event at `seq`:
    /// its new state. `mine` in its reactions is filled in for us.
    Updated {
        seq: u64,
        message: ChatMessage,
    },
    /// A moderator acted (after `Updated` for a removed message).
    Moderation(ModerationNotice),
    /// As `Moderation`, while the view shows only older events: no line yet.
    ModerationBelow(ModerationNotice),
    /// Insert these older messages, in order, before what is shown.
    ShowOlder {
        messages: Vec<ChatMessage>,
        more: bool,
    },
    /// An outbox message was queued or changed state; `reply_to`: the
    /// message it answers.
    Pending {
        id: String,
        text: String,
        files: Vec<OutgoingFile>,
        reply_to: Option<u64>,
    },
    /// A reaction, a delete or an edit of ours, to show on its message at
    /// once (offline, it may wait for minutes), again after the room's
    /// `update` redrew the message without it, or `undone`: the room
    /// refused it, so the message is as it was.
    Applied {
        action: Action,
        undone: bool,
    },
    /// `PUT` the bytes of file `local` of message `id` to `url` (a path on
    /// the server), then call [`Session::uploaded`] or [`Session::upload_failed`].
    Upload {
        id: String,
        local: u32,
        url: String,
    },
    Sent {
        id: String,
        seq: u64,
    },
    /// An outbox message now goes by `new_id` (retried after `id_conflict`).
    Renamed {
        id: String,
        new_id: String,
    },
    SendFailed {
        id: String,
        error: ProtocolError,
    },
    Presence {
        online: u32,
        joined: Option<String>,
        left: Option<String>,
        member: Option<PresenceMember>,
    },
    Typing {
        name: String,
        /// The typist's sender key, when the room says (it tells apart two
        /// people of one name).
        sender: Option<String>,
    },
    /// The room keeps this read position for us (a verified member): we
    /// read up to `seq` here or on another tab or device.
    ReadElsewhere(u64),
    /// Read receipts: this member has read up to `reader.seq`.
    Receipt(Reader),
    /// The room refused an edit of message `target` (its window closed,
    /// the room locked, ...): `text` is what the visitor wrote, to give back.
    /// `Error` follows.
    EditFailed {
        target: u64,
        text: String,
        error: ProtocolError,
    },
    /// Moderators: the open reports on these messages (`all`: on joining,
    /// every message with any, so forget the others; else those that
    /// changed, 0 when dismissed). A deleted message has none.
    Reports {
        counts: Vec<ReportCounts>,
        all: bool,
    },
    /// A refusal from the room worth telling the visitor about.
    Error(ProtocolError),
}

/// A message the visitor took back before it went out: what they wrote,
/// for the composer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cancelled {
    pub text: String,
    pub reply_to: Option<u64>,
}

/// What the room lets us do right now.
#[derive(Debug, Clone, Default)]
pub struct RoomStatus {
    pub locked: bool,
    /// Slow mode: seconds between two messages (0 = off).
    pub slow_mode: u64,
    /// Muted until then (ms since the epoch; `u64::MAX` = for good).
    pub muted_until: Option<u64>,
    pub role: Option<Role>,
    /// Seconds after sending during which we may edit a message.
    pub edit_window: u64,
    /// The emoji we may react with.
    pub emoji: Vec<String>,
    /// The file types the site accepts, as an `accept` list ("": none;
    /// `None`: not said, so any the service knows).
    pub accept: Option<String>,
    /// The largest file the site takes (`None`: not said).
    pub max_file_bytes: Option<u64>,
    /// The message a moderator pinned above the list, as it is now
    /// (shared: the status is copied on every change, the message is not).
    pub pinned: Option<Rc<ChatMessage>>,
}

impl RoomStatus {
    /// Whether the room lets us post, edit and react: not locked, not
    /// muted (moderators always).
    pub fn may_act(&self) -> bool {
        self.role.is_some() || (!self.locked && self.muted_until.is_none())
    }

    /// Whether the site would take this file: the room's own verdict,
    /// given before anything is uploaded.
    pub fn check_file(&self, mime: &str, size: u64) -> Result<(), ProtocolError> {
        crate::file_rules::check(self.accept.as_deref(), self.max_file_bytes, mime, size)
    }
}

/// The pinned message compares by seq and edit: what can change it (a
/// whole message's comparison would cost the widget half a kilobyte).
impl PartialEq for RoomStatus {
    fn eq(&self, other: &Self) -> bool {
        let pin = |r: &RoomStatus| r.pinned.as_ref().map(|m| (m.seq, m.edited));
        self.locked == other.locked
            && self.slow_mode == other.slow_mode
            && self.muted_until == other.muted_until
            && self.role == other.role
            && self.edit_window == other.edit_window
            && self.emoji == other.emoji
            && self.accept == other.accept
            && self.max_file_bytes == other.max_file_bytes
            && pin(self) == pin(other)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Link {
    Down,
    /// Socket requested; not welcomed yet.
    Opening,
    /// Welcomed by the room.
    Up,
}

/// One widget's connection to one room. How an adapter drives it:
///
/// 1. [`Session::start`] once, then carry out every [`Effect`] that
///    [`Session::poll_effect`] gives, in order, until it gives `None`;
/// 2. feed it what happens: the socket's frames ([`Session::on_text`]) and
///    close ([`Session::on_close`]), the browser's network and visibility,
///    and the visitor's actions (`send`, `edit`, `read_up_to`, …);
/// 3. after each call, drain the effects again and arm one timer for
///    [`Session::poll_timeout`]; when it fires, call
///    [`Session::handle_timeout`].
///
/// Every call that is given `now` takes it from the same clock
/// (`Date.now()`); the session copes with that clock being set back.
pub struct Session {
    config: SessionConfig,
    link: Link,
    status: Status,
    backoff: Backoff,
    /// Connections in the room, as the last welcome or presence frame said.
    room_size: u32,
    /// The last close hit the whole room (see `close_code::is_crowd`).
    crowd_closed: bool,
    /// The room shares read receipts: report our read position even when
    /// anonymous.
    receipts: bool,
    timeline: Timeline,
    outbox: Outbox,
    effects: VecDeque<Effect>,
    entropy: Entropy,
    browser_online: bool,
    /// The widget is out of the page (see [`Session::set_detached`]).
    detached: bool,
    /// When the last socket was opened (`-inf`: never).
    last_open: f64,
    max_message_chars: usize,
    latest_seq: u64,
    /// Who the room takes us for (name, sender key, verified), once welcomed.
    me: Option<Welcome>,
    room: RoomStatus,
    /// Our own reactions, by message seq (live updates do not carry `mine`).
    my_reactions: Vec<(u64, String)>,
    /// The anonymous sender key credential to present when reconnecting.
    sender_key: Option<String>,
    /// Keep the anonymous sender key across reloads (see [`unsent`]).
    remember_visitor: bool,
    /// The last error frame, to explain a terminal close.
    last_error: Option<ProtocolError>,
    gap_request_out: bool,
    older_request_out: bool,
    /// The `after` of a [`Session::load_newer`] request out.
    newer_request_out: Option<u64>,
    /// The `before` of a [`Session::jump_to_latest`] or
    /// [`Session::jump_to`] request out, and the message jumped to.
    latest_request_out: Option<u64>,
    jump_target: Option<u64>,
    /// After a jump to the latest: page on down until the view shows all.
    catching_up: bool,
    last_typing_sent: f64,
    /// The read position the room has from us (verified members only).
    read_sent: u64,
    /// The read position kept from an earlier visit, told on joining so
    /// that the room counts what was missed (`welcome.unread`).
    read_before: u64,
    /// In a live event: a read position held back until [`Timer::Read`], and
    /// when the last one went.
    read_held: u64,
    last_read_sent: Option<f64>,
    /// Every deadline: connecting, retrying, heartbeats, probes, reads.
    timers: Timers,
    /// The ping out is a probe after a network change: only its pong
    /// answers it (a frame may have been on its way before the change).
    probing: bool,
    /// The latest `now` we were given, to notice the clock being set back.
    clock: f64,
    /// The room's clock minus ours (ms), from the frames it stamped on this
    /// connection (`None`: none yet).
    server_offset: Option<f64>,
    /// When the ban that ended the session ends, on our clock (`None`: not
    /// banned, or banned for good).
    ban_ends: Option<f64>,
    /// Moderators: the mutes and bans in force, from `welcome` and the
    /// notices since, to offer Unmute or Unban.
    muted: Vec<Sanction>,
    banned: Vec<Sanction>,
}

impl Session {
    /// `entropy` must be a good random source: it makes the client ids.
    pub fn new(config: SessionConfig, entropy: Entropy) -> Session {
        Session {
            config,
            link: Link::Down,
            status: Status::Connecting,
            backoff: Backoff::default(),
            room_size: 0,
            crowd_closed: false,
            receipts: false,
            timeline: Timeline::default(),
            outbox: Outbox::default(),
            effects: VecDeque::new(),
            entropy,
            browser_online: true,
            detached: false,
            last_open: f64::NEG_INFINITY,
            max_message_chars: Limits::default().max_message_chars,
            latest_seq: 0,
            me: None,
            room: RoomStatus::default(),
            my_reactions: Vec::new(),
            sender_key: None,
            remember_visitor: true,
            last_error: None,
            gap_request_out: false,
            older_request_out: false,
            newer_request_out: None,
            latest_request_out: None,
            jump_target: None,
            catching_up: false,
            last_typing_sent: f64::NEG_INFINITY,
            read_sent: 0,
            read_before: 0,
            read_held: 0,
            last_read_sent: None,
            timers: Timers::default(),
            probing: false,
            clock: f64::NEG_INFINITY,
            server_offset: None,
            ban_ends: None,
            muted: Vec::new(),
            banned: Vec::new(),
        }
    }

    // ----- queries -----

    pub fn status(&self) -> &Status {
        &self.status
    }

    pub fn max_message_chars(&self) -> usize {
        self.max_message_chars
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    pub fn poll_effect(&mut self) -> Option<Effect> {
        self.effects.pop_front()
    }

    /// The earliest time `handle_timeout` must be called.
    pub fn poll_timeout(&self) -> Option<f64> {
        let up = self.link == Link::Up;
        [
            self.timers.earliest(|t| up || t != Timer::Read),
            self.outbox.wake_at().filter(|_| up),
            self.mute_ends(),
        ]
        .into_iter()
        .flatten()
        .reduce(f64::min)
    }

    /// When a timed mute ends, on our clock (the room's `until` is on its).
    pub fn mute_ends(&self) -> Option<f64> {
        // Banned meanwhile (or closed): nothing lifts any more.
        self.room
            .muted_until
            .filter(|&t| t != u64::MAX && !self.is_over())
            .map(|t| self.local_time_of(t))
    }

    /// When the timed ban that stopped the session ends, on our clock: it
    /// joins again then by itself.
    pub fn ban_ends(&self) -> Option<f64> {
        self.ban_ends.filter(
            |_| matches!(self.status, Status::Failed { code, .. } if code == close_code::BANNED),
        )
    }

    /// A time on the room's clock (`until` of a mute or ban), on ours.
    pub fn local_time_of(&self, server_ms: u64) -> f64 {
        server_ms as f64 - self.server_offset.unwrap_or(0.0)
    }

    /// The room's clock at our `now`: ours, corrected by what the room's
    /// timestamps told. A device clock a day (or an hour) off would
    /// otherwise make a mute look over at once, or a message just sent look
    /// too old to edit.
    pub fn server_time(&self, now: f64) -> f64 {
        now + self.server_offset.unwrap_or(0.0)
    }

    /// A frame the room stamped arrived at `now`: how far our clock is
    /// from the room's. A frame that arrives late (the ack of a retry,
    /// answered from the room's record; a frozen tab's backlog) only makes
    /// the room look behind, so the largest sample stands: within the
    /// network's delay, nothing next to the minutes and hours that matter.
    fn server_stamped(&mut self, timestamp: u64, now: f64) {
        if timestamp > 0 && now.is_finite() {
            let sample = timestamp as f64 - now;
            self.server_offset = Some(self.server_offset.map_or(sample, |o| o.max(sample)));
        }
    }

    fn is_over(&self) -> bool {
        matches!(self.status, Status::Failed { .. } | Status::Closed)
    }

    fn set_status(&mut self, status: Status) {
        if self.status != status {
            self.status = status.clone();
            self.effects.push_back(Effect::Status(status));
        }
    }

    fn random_bytes(&mut self) -> [u8; 16] {
        let mut bytes = [0u8; 16];
        (self.entropy)(&mut bytes);
        bytes
    }

    fn random01(&mut self) -> f64 {
        let b = self.random_bytes();
        let x = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A client id: 128 random bits in hex. Unpredictable, so nobody can
    /// post ahead of us under it (the room scopes ids per sender anyway).
    fn next_id(&mut self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut id = String::with_capacity(32);
        for b in self.random_bytes() {
            id.push(HEX[usize::from(b >> 4)] as char);
            id.push(HEX[usize::from(b & 15)] as char);
        }
        id
    }

    // ----- connection lifecycle -----

    /// Called first by every entry point given `now`. Every deadline here
    /// is a time of the device's clock (`Date.now()`),
    /// and that clock may be set back while the page runs (an NTP
    /// correction, a visitor fixing it, a phone taking the network's time).
    /// Left alone, a clock set back by an hour would postpone the next
    /// reconnect, heartbeat or resend by an hour. Seen going back, the
    /// deadlines move back with it: the wait is as if the clock had stood
    /// still since the last call (at most one timer interval longer than
    /// it should be). A clock set forward only makes deadlines come early.
    fn observe_clock(&mut self, now: f64) {
        if now < self.clock {
            let by = self.clock - now;
            self.timers.shift_back(by);
            if let Some(t) = &mut self.last_read_sent {
                *t -= by;
            }
            self.last_open -= by;
            self.last_typing_sent -= by;
            if let Some(offset) = &mut self.server_offset {
                *offset += by;
            }
            self.outbox.clock_set_back(by);
            // The countdown on screen follows (not a change to announce).
            if let Status::Reconnecting {
                retry_at: Some(at), ..
            } = &mut self.status
            {
                *at -= by;
            }
        }
        if now.is_finite() {
            self.clock = now;
        }
    }

    pub fn start(&mut self, now: f64) {
        self.observe_clock(now);
        // The first status is told too: `set_status` tells only changes.
        self.effects.push_back(Effect::Status(self.status.clone()));
        self.open(now);
    }

    fn open(&mut self, now: f64) {
        if self.is_over() || self.detached {
            return;
        }
        if !self.browser_online {
            self.wait_for_network();
            return;
        }
        let mut query = vec![
            ("room", self.config.room.clone()),
            ("name", self.config.name.clone()),
            ("v", "1".into()),
            // Several frames per message when the room is busy.
            ("batch", "1".into()),
        ];
        if let Some(site) = &self.config.site {
            query.push(("site", site.clone()));
        }
        match self.timeline.resume_after() {
            Some(since) => query.push(("since", decimal(since))),
            None if self.read_before > 0 => query.push(("read", decimal(self.read_before))),
            None => {}
        }
        let protocols = offered_protocols(self.config.token.as_deref(), self.sender_key.as_deref());
        self.link = Link::Opening;
        self.last_open = now;
        // The page sent on join answers for any gap: do not ask before it arrives.
        self.gap_request_out = true;
        self.timers.stop(Timer::Retry);
        self.timers.set(Timer::Connect, now + CONNECT_TIMEOUT_MS);
        self.last_error = None;
        self.effects.push_back(Effect::Open { query, protocols });
        if self.status != Status::Connecting {
            self.set_status(Status::Reconnecting {
                retry_at: None,
                offline: false,
            });
        }
    }

    /// No retries while the browser says it is offline; its `online` event reopens.
    fn wait_for_network(&mut self) {
        self.timers.stop(Timer::Retry);
        self.set_status(Status::Reconnecting {
            retry_at: None,
            offline: true,
        });
    }

    /// Forget the current socket: its timers, requests and in-flight message.
    fn drop_link(&mut self) {
        self.link = Link::Down;
        for timer in [
            Timer::Connect,
            Timer::Ping,
            Timer::Pong,
            Timer::Healthy,
            Timer::AnswerProbe,
        ] {
            self.timers.stop(timer);
        }
        self.probing = false;
        self.gap_request_out = false;
        self.older_request_out = false;
        self.newer_request_out = None;
        self.latest_request_out = None;
        self.jump_target = None;
        self.catching_up = false;
        self.outbox.connection_lost();
    }

    /// The socket is gone (closed by either side, or declared dead by us).
    fn link_lost(&mut self, now: f64) {
        self.drop_link();
        if self.is_over() {
            return;
        }
        if !self.browser_online {
            self.wait_for_network();
            return;
        }
        // Everyone was closed at once: spread the crowd's first retry.
        let floor = if std::mem::take(&mut self.crowd_closed) {
            crate::backoff::crowd_window_ms(self.room_size)
        } else {
            0.0
        };
        let delay = {
            let r = self.random01();
            self.backoff.next_delay_at_least(r, floor)
        };
        self.timers.set(Timer::Retry, now + delay);
        self.set_status(Status::Reconnecting {
            retry_at: Some(now + delay),
            offline: false,
        });
    }

    /// Declare the current socket dead without waiting for the browser to notice.
    fn abandon_socket(&mut self, now: f64) {
        self.effects.push_back(Effect::CloseSocket);
        self.link_lost(now);
    }

    /// The socket closed. Terminal codes (4xxx) stop the session.
    pub fn on_close(&mut self, code: u16, reason: &str, now: f64) {
        self.observe_clock(now);
        if self.link == Link::Down || self.is_over() {
            return;
        }
        if close_code::is_terminal(code) {
            let reason = match self.last_error.take() {
                Some(e) => e.message,
                None if !reason.is_empty() => reason.to_owned(),
                None => "the server refused the connection".to_owned(),
            };
            self.drop_link();
            self.set_status(Status::Failed { code, reason });
            // Banned, the room erased, the site gone or the page's origin
            // refused: nothing queued can ever go. (Not a token refused: it
            // may have expired, the page may mount again with a new one,
            // and what was kept for the reload goes then.)
            if code != close_code::UNAUTHORIZED {
                if let Some(error) = self.ended() {
                    self.fail_outbox(&error);
                }
            }
            return;
        }
        self.crowd_closed = close_code::is_crowd(code);
        self.link_lost(now);
    }

    pub fn handle_timeout(&mut self, now: f64) {
        self.observe_clock(now);
        // Not welcomed in time, or a ping not answered: the socket is dead.
        let dead = self.timers.expire(Timer::Connect, now) | self.timers.expire(Timer::Pong, now);
        if dead {
            self.abandon_socket(now);
        }
        if self.timers.expire(Timer::Retry, now) {
            self.open(now);
        }
        if self.timers.expire(Timer::BanEnds, now) && self.ban_ends().is_some() {
            self.ban_ends = None;
            self.set_status(Status::Reconnecting {
                retry_at: None,
                offline: false,
            });
            self.open(now);
        }
        if self.timers.expire(Timer::AnswerProbe, now) {
            self.probe(now);
        }
        if self.timers.expire(Timer::Healthy, now) {
            self.backoff.reset();
        }
        if self.link == Link::Up && self.timers.expire(Timer::Read, now) {
            self.read_up_to(self.read_held, now);
        }
        // The caller has just told us whether the widget is in the page.
        if self.timers.expire(Timer::Detached, now) && self.detached && !self.is_over() {
            self.timers.set(Timer::Detached, now + DETACHED_CHECK_MS);
        }
        // The room announces no end to a timed mute: it just stops refusing.
        if self.mute_ends().is_some_and(|t| t <= now) {
            let room = RoomStatus {
                muted_until: None,
                ..self.room.clone()
            };
            self.set_room(room);
        }
        if self.timers.expire(Timer::Ping, now) {
            self.effects.push_back(Effect::Transmit("ping".into()));
            self.timers.set(Timer::Ping, now + PING_INTERVAL_MS);
            if !self.timers.is_set(Timer::Pong) {
                self.timers.set(Timer::Pong, now + PONG_TIMEOUT_MS);
            }
        }
        self.pump_outbox(now);
    }

    /// The browser's `online`/`offline` events (and `navigator.onLine` at start).
    /// An open socket is not trusted across a network change: it is probed
    /// with a ping and declared dead if the pong does not come back in time.
    pub fn set_browser_online(&mut self, online: bool, now: f64) {
        self.observe_clock(now);
        self.browser_online = online;
        if self.is_over() {
            return;
        }
        if self.link != Link::Down {
            self.probe(now);
            return;
        }
        if online {
            self.backoff.reset();
            self.open(now);
        } else {
            self.wait_for_network();
        }
    }

    /// Ask the server for a sign of life now.
    fn probe(&mut self, now: f64) {
        if self.link == Link::Up && !self.probing {
            self.effects.push_back(Effect::Transmit("ping".into()));
            self.timers.set(Timer::Pong, now + PONG_TIMEOUT_MS);
            self.probing = true;
        }
    }

    /// The tab became visible: do not make the visitor wait for the backoff,
    /// and check that a socket left open in the background still works.
    pub fn tab_visible(&mut self, now: f64) {
        self.observe_clock(now);
        if self.link == Link::Down && self.timers.is_set(Timer::Retry) {
            self.open(now);
        } else {
            self.probe(now);
        }
    }

    /// The widget's element left the page without `destroy()` (a
    /// single-page app swapped its view), or came back. Out of the page the
    /// socket closes, so that the member does not stay online as a ghost
    /// with a socket nobody reads, and nothing reconnects; back in, it
    /// reconnects and resumes where it was: at once, unless its last socket
    /// opened less than [`HEALTHY_AFTER_MS`] ago (then after the backoff).
    /// What was queued waits. Out of the page, a timer every
    /// [`DETACHED_CHECK_MS`] has the caller look again (the widget calls this
    /// before every `handle_timeout`): put back into a container with no
    /// size, no resize would tell it.
    pub fn set_detached(&mut self, detached: bool, now: f64) {
        self.observe_clock(now);
        if self.detached == detached {
            return;
        }
        self.detached = detached;
        if self.is_over() {
            return;
        }
        if detached {
            if self.link != Link::Down {
                self.effects.push_back(Effect::CloseSocket);
            }
            self.drop_link();
            self.timers.stop(Timer::Retry);
            self.timers.set(Timer::Detached, now + DETACHED_CHECK_MS);
            self.set_status(Status::Reconnecting {
                retry_at: None,
                offline: false,
            });
            return;
        }
        self.timers.stop(Timer::Detached);
        if now - self.last_open >= HEALTHY_AFTER_MS {
            self.backoff.reset();
            self.open(now);
        } else {
            // Put back soon after its last socket opened: a page that
            // re-mounts its view in a loop would make it reconnect in a
            // loop. It waits for the backoff, as after a failed connection.
            let delay = {
                let r = self.random01();
                self.backoff.next_delay_ms(r)
            };
            self.timers.set(Timer::Retry, now + delay);
            self.set_status(Status::Reconnecting {
                retry_at: Some(now + delay),
                offline: false,
            });
        }
    }

    /// The page destroyed the widget.
    pub fn close(&mut self) {
        if self.link != Link::Down {
            self.effects.push_back(Effect::CloseSocket);
        }
        self.drop_link();
        self.timers.stop(Timer::Retry);
        self.timers.stop(Timer::Detached);
        self.timers.stop(Timer::BanEnds);
        self.set_status(Status::Closed);
    }

    // ----- frames -----

    pub fn on_text(&mut self, text: &str, now: f64) {
        self.observe_clock(now);
        // Any frame proves the socket is alive, except to a probe.
        self.timers.stop(Timer::AnswerProbe);
        if text == "pong" || !self.probing {
            self.timers.stop(Timer::Pong);
            self.probing = false;
        }
        if text == "pong" || self.link == Link::Down {
            return;
        }
        for frame in ServerFrame::parse_all(text) {
            self.on_frame(frame, now);
        }
    }

    fn on_frame(&mut self, frame: ServerFrame, now: f64) {
        match frame {
            ServerFrame::Welcome(mut welcome) => {
                // Measured again on each connection (the device's clock
                // may have been set forward since).
                self.server_offset = None;
                self.server_stamped(welcome.now, now);
                self.link = Link::Up;
                self.timers.stop(Timer::Connect);
                self.timers.set(Timer::Ping, now + PING_INTERVAL_MS);
                self.timers.set(Timer::Healthy, now + HEALTHY_AFTER_MS);
                self.latest_seq = welcome.seq;
                self.room_size = welcome.online;
                self.receipts = welcome.receipts;
                for reader in &welcome.readers {
                    self.effects.push_back(Effect::Receipt(reader.clone()));
                }
                self.max_message_chars = welcome.max_message_chars;
                if welcome.sender_key.is_some() {
                    self.sender_key = welcome.sender_key.clone();
                }
                self.set_status(Status::Connected);
                self.effects.push_back(Effect::Welcome {
                    name: welcome.name.clone(),
                    online: welcome.online,
                    sender: welcome.sender.clone(),
                    verified: welcome.verified,
                    role: welcome.role,
                    members: welcome.members.clone(),
                    unread: welcome.unread,
                });
                self.read_sent = welcome.read_seq;
                if welcome.read_seq > 0 {
                    self.effects
                        .push_back(Effect::ReadElsewhere(welcome.read_seq));
                }
                self.set_room(RoomStatus {
                    locked: welcome.locked,
                    slow_mode: welcome.slow_mode,
                    muted_until: welcome.muted_until,
                    role: welcome.role,
                    edit_window: welcome.edit_window,
                    emoji: welcome.emoji.clone(),
                    accept: welcome.accept.clone(),
                    max_file_bytes: welcome.max_file_bytes,
                    pinned: welcome.pinned.take().map(Rc::new),
                });
                self.muted = std::mem::take(&mut welcome.muted);
                self.banned = std::mem::take(&mut welcome.banned);
                if welcome.role.is_some() {
                    self.effects.push_back(Effect::Reports {
                        counts: welcome.reports.clone(),
                        all: true,
                    });
                }
                self.me = Some(welcome);
            }
            ServerFrame::History {
                events,
                more,
                anchor,
            } => match anchor {
                None => {
                    self.gap_request_out = false;
                    // Shown even when empty: the view then knows the room is empty.
                    let released = self.timeline.start(events, more, self.latest_seq);
                    if released.is_empty() {
                        self.effects.push_back(Effect::Show(Vec::new()));
                    }
                    self.apply(released);
                    self.fill_gap_if_needed(false);
                }
                Some(HistoryAnchor::After(after)) => {
                    // Paging down from far up, or filling a gap (resuming).
                    let paging = self.newer_request_out == Some(after);
                    let mut events = events;
                    if paging {
                        self.newer_request_out = None;
                        let mut below = self.timeline.fill_newer(after, &mut events, more);
                        self.remember_all_mine(&mut below);
                        let latest = self.catching_up;
                        self.catching_up &= self.timeline.newest_shown().is_some();
                        self.effects.push_back(Effect::ShowNewer {
                            messages: below,
                            latest,
                        });
                    } else {
                        self.gap_request_out = false;
                    }
                    // What is past the events released is released as usual.
                    let released = self.timeline.receive_page(after, events);
                    self.apply(released);
                    self.fill_gap_if_needed(more && !paging);
                    if self.catching_up {
                        self.load_newer();
                    }
                }
                Some(HistoryAnchor::Before(before)) if self.latest_request_out == Some(before) => {
                    self.latest_request_out = None;
                    // A page older than the list it would have topped is stale.
                    self.older_request_out = false;
                    let mut page = self.timeline.restart(before, events, more);
                    self.remember_all_mine(&mut page);
                    let at = self.jump_target.take();
                    self.effects.push_back(Effect::ShowInstead {
                        messages: page,
                        more,
                        at,
                    });
                    // Then what was released since the jump to the latest
                    // (a jump elsewhere stays there: the reader pages down).
                    self.catching_up = at.is_none() && self.load_newer();
                }
                // Asked for above a list that has changed since: stale.
                Some(HistoryAnchor::Before(before))
                    if self.timeline.oldest_shown() != Some(before) =>
                {
                    self.older_request_out = false;
                }
                Some(HistoryAnchor::Before(_)) => {
                    self.older_request_out = false;
                    let mut older = self.timeline.prepend(events, more);
                    for m in &mut older {
                        self.remember_mine(m);
                    }
                    self.effects.push_back(Effect::ShowOlder {
                        messages: older,
                        more,
                    });
                }
            },
            ServerFrame::Message(m) => {
                self.server_stamped(m.timestamp, now);
                self.receive(RoomEvent::Message(m))
            }
            ServerFrame::Update(u) => self.receive(RoomEvent::Update(u)),
            ServerFrame::Moderation(n) => {
                self.server_stamped(n.timestamp, now);
                self.receive(RoomEvent::Moderation(n))
            }
            ServerFrame::Ack { id, seq, timestamp } => {
                self.server_stamped(timestamp, now);
                if let Some(item) = self.outbox.ack(&id) {
                    self.effects.push_back(Effect::Sent {
                        id: id.clone(),
                        seq,
                    });
                    // Our own message is shown from the ack; other actions
                    // come back as updates or notices of their own.
                    if let Action::Send {
                        text,
                        reply_to,
                        files,
                    } = item.action
                    {
                        // Borrowed, not cloned: a whole welcome (members,
                        // pinned message, ...) for four fields.
                        let (me_name, sender, verified, role) =
                            self.me.as_ref().map_or(("", "", false, None), |w| {
                                (w.name.as_str(), w.sender.as_str(), w.verified, w.role)
                            });
                        let reply_to = reply_to.map(|seq| crate::message::ReplyRef {
                            seq,
                            ..Default::default()
                        });
                        let own = ChatMessage {
                            seq,
                            id,
                            name: if me_name.is_empty() {
                                self.config.name.clone()
                            } else {
                                me_name.to_owned()
                            },
                            message: text,
                            timestamp,
                            sender: sender.to_owned(),
                            verified,
                            role,
                            reply_to,
                            attachments: files.into_iter().map(sent_file).collect(),
                            ..ChatMessage::default()
                        };
                        self.receive(RoomEvent::Message(own));
                    }
                }
            }
            ServerFrame::Presence {
                online,
                joined,
                left,
                member,
            } => {
                self.room_size = online;
                self.effects.push_back(Effect::Presence {
                    online,
                    joined,
                    left,
                    member,
                })
            }
            // Our own typing on another tab or device is not someone else's.
            ServerFrame::Typing { name, sender } => {
                if sender.is_none() || sender.as_deref() != self.own_sender() {
                    self.effects.push_back(Effect::Typing { name, sender });
                }
            }
            ServerFrame::Read { seq } => {
                self.read_sent = self.read_sent.max(seq);
                self.effects.push_back(Effect::ReadElsewhere(seq));
            }
            ServerFrame::Receipt(reader) => self.effects.push_back(Effect::Receipt(reader)),
            ServerFrame::Upload { id, file, url, .. } => {
                // Only for the message in flight: a late answer is stale.
                let upload =
                    self.outbox
                        .in_flight_mut(&id)
                        .and_then(|item| match &mut item.action {
                            Action::Send { files, .. } => files.get_mut(file as usize),
                            _ => None,
                        });
                if let Some(f) = upload.filter(|f| f.key.is_none() && !f.uploading) {
                    f.uploading = true;
                    let local = f.local;
                    self.effects.push_back(Effect::Upload { id, local, url });
                }
            }
            ServerFrame::Error(error) => self.on_error(error, now),
            ServerFrame::Reported(counts) => self.effects.push_back(Effect::Reports {
                counts: vec![counts],
                all: false,
            }),
            // Everything open, as on joining: it replaces what was shown.
            ServerFrame::ReportedAll(counts) => self
                .effects
                .push_back(Effect::Reports { counts, all: true }),
            ServerFrame::Pinned(pinned) => {
                let room = RoomStatus {
                    pinned: pinned.map(Rc::new),
                    ..self.room.clone()
                };
                self.set_room(room);
            }
            // A mute that follows our address, set or lifted on someone else.
            ServerFrame::Standing { muted_until } => {
                let room = RoomStatus {
                    muted_until,
                    ..self.room.clone()
                };
                self.set_room(room);
            }
            ServerFrame::Rules(rules) => {
                // The site changed them while we are here: as if welcomed so.
                self.max_message_chars = rules.max_message_chars;
                self.room = RoomStatus {
                    edit_window: rules.edit_window,
                    emoji: rules.emoji,
                    accept: Some(rules.accept),
                    max_file_bytes: rules.max_file_bytes,
                    ..self.room.clone()
                };
                self.effects.push_back(Effect::Room(self.room.clone()));
            }
        }
        self.pump_outbox(now);
    }

    /// Whether the page the room sends on joining (or the fill of a gap)
    /// is still to come: what it replays belongs with what came before it.
    pub fn awaiting_page(&self) -> bool {
        self.gap_request_out
    }

    /// Our sender key in this room, once welcomed.
    pub fn own_sender(&self) -> Option<&str> {
        self.me
            .as_ref()
            .map(|me| me.sender.as_str())
            .filter(|s| !s.is_empty())
    }

    /// One live event (a frame, or our own message from its ack).
    fn receive(&mut self, event: RoomEvent) {
        let released = self.timeline.receive([event]);
        self.apply(released);
        self.fill_gap_if_needed(false);
    }

    /// Apply released events in order: consecutive messages are shown
    /// together; updates and notices in between keep their place.
    fn apply(&mut self, events: Vec<RoomEvent>) {
        let below = self.timeline.newest_shown().is_some();
        let mut messages = Vec::new();
        for event in events {
            match event {
                RoomEvent::Message(mut m) => {
                    self.remember_mine(&mut m);
                    messages.push(m);
                }
                RoomEvent::Update(u) => {
                    self.show(std::mem::take(&mut messages));
                    let seq = u.seq;
                    let message = self.updated(u);
                    let shown = message.seq;
                    self.effects.push_back(Effect::Updated { seq, message });
                    // Our reactions and edits still on their way to it
                    // (the room's state lacks them) are shown again. (A
                    // delete's grey is on the message's item, which a
                    // redraw keeps.)
                    for item in self.outbox.items() {
                        if matches!(item.action, Action::React { target, .. } | Action::Edit { target, .. } if target == shown)
                        {
                            if let Some(action) = shown_at_once(&item.action) {
                                self.effects.push_back(Effect::Applied {
                                    action,
                                    undone: false,
                                });
                            }
                        }
                    }
                }
                RoomEvent::Moderation(n) => {
                    self.show(std::mem::take(&mut messages));
                    self.noticed(&n);
                    self.effects.push_back(if below {
                        Effect::ModerationBelow(n)
                    } else {
                        Effect::Moderation(n)
                    });
                }
            }
        }
        self.show(messages);
    }

    fn show(&mut self, messages: Vec<ChatMessage>) {
        self.claim_own(&messages);
        if messages.is_empty() {
            return;
        }
        self.effects
            .push_back(if self.timeline.newest_shown().is_some() {
                Effect::Arrived(messages)
            } else {
                Effect::Show(messages)
            });
    }

    /// Pages say which reactions are ours (`mine`); remember them, since
    /// live updates go to everyone alike and do not.
    fn remember_mine(&mut self, m: &mut ChatMessage) {
        for r in &m.reactions {
            let key = (m.seq, r.emoji.clone());
            match r.mine {
                Some(true) if !self.my_reactions.contains(&key) => self.my_reactions.push(key),
                Some(false) => self.my_reactions.retain(|k| *k != key),
                _ => {}
            }
        }
        self.fill_mine(m);
    }

    fn remember_all_mine(&mut self, messages: &mut [ChatMessage]) {
        for m in messages {
            self.remember_mine(m);
        }
    }

    fn fill_mine(&self, m: &mut ChatMessage) {
        for r in &mut m.reactions {
            r.mine = Some(
                self.my_reactions
                    .iter()
                    .any(|(seq, e)| *seq == m.seq && *e == r.emoji),
            );
        }
    }

    /// A live update: the message's new state, with our own reactions known.
    fn updated(&mut self, u: Update) -> ChatMessage {
        let mut m = u.message;
        if let (Some(change), Some(me)) = (&u.reaction, self.own_sender()) {
            if change.sender == me {
                let key = (m.seq, change.emoji.clone());
                self.my_reactions.retain(|k| *k != key);
                if change.on {
                    self.my_reactions.push(key);
                }
            }
        }
        if m.reactions.iter().all(|r| r.mine.is_none()) {
            self.fill_mine(&mut m);
        } else {
            self.remember_mine(&mut m);
        }
        m
    }

    /// A notice that changes what we may do, or whom a moderator may free.
    fn noticed(&mut self, n: &ModerationNotice) {
        if let Some(sender) = &n.sender {
            let list = match n.action.as_str() {
                "mute" | "unmute" => Some(&mut self.muted),
                "ban" | "unban" => Some(&mut self.banned),
                _ => None,
            };
            if let Some(list) = list {
                list.retain(|s| s.sender != *sender);
                if !n.action.starts_with("un") {
                    list.push(Sanction {
                        sender: sender.clone(),
                        until: n.until.filter(|&u| u != u64::MAX),
                    });
                }
            }
        }
        let mut room = self.room.clone();
        let about_me = n.sender.is_some() && n.sender.as_deref() == self.own_sender();
        match n.action.as_str() {
            "lock" => room.locked = true,
            "unlock" => room.locked = false,
            "slow" => {
                room.slow_mode = n.seconds.unwrap_or(0);
                self.outbox.slow_mode_changed();
            }
            "mute" if about_me => room.muted_until = Some(n.until.unwrap_or(u64::MAX)),
            "unmute" if about_me => room.muted_until = None,
            _ => {}
        }
        self.set_room(room);
    }

    fn set_room(&mut self, room: RoomStatus) {
        if room != self.room || matches!(self.effects.back(), Some(Effect::Welcome { .. })) {
            self.room = room.clone();
            self.effects.push_back(Effect::Room(room));
        }
    }

    /// Moderators: whether `sender` is muted, and whether banned, now (as
    /// far as the room has told).
    pub fn sanctioned(&self, sender: &str, now: f64) -> (bool, bool) {
        let at = self.server_time(now);
        let holds = |list: &[Sanction]| {
            list.iter()
                .any(|s| s.sender == sender && s.until.is_none_or(|u| u as f64 > at))
        };
        (holds(&self.muted), holds(&self.banned))
    }

    /// What the room lets us do right now.
    pub fn room(&self) -> &RoomStatus {
        &self.room
    }

    /// A message from our own sender key with the id of one still in our
    /// outbox is ours, stored before its ack was lost with the connection: it
    /// counts as sent (and is not sent again). Someone else's message with the
    /// same id is not ours, whatever its id.
    fn claim_own(&mut self, messages: &[ChatMessage]) {
        let Some(me) = self.own_sender().map(str::to_owned) else {
            return;
        };
        if self.outbox.is_empty() {
            return;
        }
        for m in messages.iter().filter(|m| m.sender == me) {
            if self.outbox.ack(&m.id).is_some() {
                self.effects.push_back(Effect::Sent {
                    id: m.id.clone(),
                    seq: m.seq,
                });
            }
        }
    }

    /// Ask for what is missing after the last shown message, when the server
    /// said there is more or when later messages are being held back.
    fn fill_gap_if_needed(&mut self, server_has_more: bool) {
        let needed =
            server_has_more || (self.timeline.has_gap() && self.timeline.resume_after().is_some());
        if needed && !self.gap_request_out && self.link == Link::Up {
            self.gap_request_out = true;
            let after = self.timeline.shown_through();
            self.effects.push_back(Effect::Transmit(
                ClientFrame::History {
                    anchor: HistoryAnchor::After(after),
                    limit: crate::limits::MAX_HISTORY_PAGE,
                }
                .encode(),
            ));
        }
    }

    fn on_error(&mut self, error: ProtocolError, now: f64) {
        // A ban or an erased room is final: stop at once, without waiting
        // for the close that follows.
        let final_code = match error.code {
            ErrorCode::Banned => Some(close_code::BANNED),
            ErrorCode::RoomErased => Some(close_code::ERASED),
            _ => None,
        };
        if let Some(code) = final_code {
            self.effects.push_back(Effect::CloseSocket);
            self.drop_link();
            self.set_status(Status::Failed {
                code,
                reason: error.message.clone(),
            });
            self.fail_outbox(&error);
            if let Some(until) = error.until.filter(|_| code == close_code::BANNED) {
                self.ban_ended_at(until, now);
            }
            self.effects.push_back(Effect::Error(error));
            return;
        }
        if error.code == ErrorCode::Muted {
            let room = RoomStatus {
                muted_until: Some(error.until.unwrap_or(u64::MAX)),
                ..self.room.clone()
            };
            self.set_room(room);
        }
        if let Some(id) = error.id.clone() {
            let refusal = self
                .outbox
                .refused(&id, error.clone(), now, RATE_LIMIT_RETRY_MS);
            if refusal == Refusal::WillRetry {
                return;
            }
            if refusal == Refusal::Failed {
                self.item_failed(id, &error);
            }
        } else if error.code == ErrorCode::RateLimited {
            // A throttled history request: ask again on the next occasion.
            self.gap_request_out = false;
            self.older_request_out = false;
            self.newer_request_out = None;
            self.latest_request_out = None;
        }
        self.last_error = Some(error.clone());
        self.effects.push_back(Effect::Error(error));
    }

    /// Banned until `until` (the room's clock): join again once it has
    /// passed here too, and not in a loop if our clock says it has while
    /// the room's does not.
    fn ban_ended_at(&mut self, until: u64, now: f64) {
        let ends = self.local_time_of(until);
        self.ban_ends = Some(ends);
        let wait = (ends - now).max(0.0) + BAN_END_MARGIN_MS;
        let jitter = {
            let r = self.random01();
            self.backoff.next_delay_ms(r)
        };
        self.timers.set(Timer::BanEnds, now + wait + jitter);
    }

    /// Item `id` of the outbox failed for good: a message waits for Retry
    /// / Discard; any other action is dropped, and the error says why.
    fn item_failed(&mut self, id: String, error: &ProtocolError) {
        let is_message = self
            .outbox
            .items()
            .any(|i| i.id == id && i.action.sent_text().is_some());
        if is_message {
            self.effects.push_back(Effect::SendFailed {
                id,
                error: error.clone(),
            });
            return;
        }
        let action = self.outbox.items().find(|i| i.id == id).map(|i| &i.action);
        if let Some(Action::Edit { target, text }) = action {
            self.effects.push_back(Effect::EditFailed {
                target: *target,
                text: text.clone(),
                error: error.clone(),
            });
        }
        if let Some(action) = action.and_then(shown_at_once) {
            self.effects.push_back(Effect::Applied {
                action,
                undone: true,
            });
        }
        self.outbox.discard(&id);
    }

    /// The session ended for good: nothing still queued can go. Each
    /// message says so with the reason, rather than "Sending…" for ever.
    fn fail_outbox(&mut self, error: &ProtocolError) {
        let waiting: Vec<String> = self
            .outbox
            .items()
            .filter(|i| i.state == OutboxState::Pending)
            .map(|i| i.id.clone())
            .collect();
        for id in waiting {
            self.outbox.fail(&id, error.clone());
            self.item_failed(id, error);
        }
    }

    // ----- the visitor's actions -----

    /// Queue a message. Returns its client id, or why it cannot be sent.
    pub fn send(&mut self, text: &str, now: f64) -> Result<String, ProtocolError> {
        self.reply(None, text, now)
    }

    /// Queue a message answering message `reply_to` (or none).
    pub fn reply(
        &mut self,
        reply_to: Option<u64>,
        text: &str,
        now: f64,
    ) -> Result<String, ProtocolError> {
        self.send_files(text, Vec::new(), reply_to, now)
    }

    /// Queue a message with files (the text may then be empty). Each file is
    /// uploaded (see [`Effect::Upload`]) before the message goes out.
    pub fn send_files(
        &mut self,
        text: &str,
        files: Vec<OutgoingFile>,
        reply_to: Option<u64>,
        now: f64,
    ) -> Result<String, ProtocolError> {
        if files.len() > MAX_FILES {
            return Err(ProtocolError::new(
                ErrorCode::TooLarge,
                concat(&["at most ", &decimal(MAX_FILES as u64), " files per message"]),
            ));
        }
        let text = if !files.is_empty() && validate::is_blank(text) {
            String::new()
        } else {
            validate::message_text(text, self.max_message_chars)?
        };
        let files = files
            .into_iter()
            .map(|f| OutgoingFile {
                key: None,
                uploading: false,
                ..f
            })
            .collect();
        // The next keystroke starts another message: told at once (the room
        // stops showing us typing when this one comes).
        self.last_typing_sent = f64::NEG_INFINITY;
        self.queue(
            Action::Send {
                text,
                reply_to,
                files,
            },
            now,
        )
    }

    /// File `local` of message `id` is stored as `key`: on to the next file,
    /// or the message itself.
    pub fn uploaded(&mut self, id: &str, local: u32, key: &str, now: f64) {
        self.observe_clock(now);
        if let Some(f) = self.outbox.file_mut(id, local) {
            f.key = Some(key.to_owned());
            f.uploading = false;
        }
        self.continue_in_flight(id, now);
    }

    /// File `local` of message `id` could not be uploaded: retried with a
    /// fresh ticket if that may help, else the message fails.
    pub fn upload_failed(&mut self, id: &str, local: u32, error: ProtocolError, now: f64) {
        self.observe_clock(now);
        let Some(f) = self.outbox.file_mut(id, local) else {
            return;
        };
        f.uploading = false;
        self.on_error(error.with_id(Some(id)), now);
        self.pump_outbox(now);
    }

    /// Drop a queued message, even one whose files are being uploaded (the
    /// adapter stops the upload). What was written in it, if there was one
    /// to drop: a UI gives it back to the composer.
    pub fn cancel(&mut self, id: &str, now: f64) -> Option<Cancelled> {
        self.observe_clock(now);
        let cancelled = self.outbox.cancel(id);
        self.pump_outbox(now);
        cancelled.map(|action| match action {
            Action::Send { text, reply_to, .. } => Cancelled { text, reply_to },
            _ => Cancelled::default(),
        })
    }

    /// The message in flight moved on (a file uploaded): send what is next.
    fn continue_in_flight(&mut self, id: &str, now: f64) {
        if self.link != Link::Up {
            return;
        }
        match self.outbox.in_flight_mut(id) {
            Some(item) => {
                if let Some(frame) = item.action.next_frame(&item.id) {
                    self.effects.push_back(Effect::Transmit(frame.encode()));
                }
            }
            None => self.pump_outbox(now),
        }
    }

    /// Change the text of message `target`. A blank text takes it off a
    /// message with files (which stays, files only); for a message of text
    /// only the room refuses it as `empty` (the session does not know which
    /// a message is: a UI that does checks first, as the widget's editor).
    pub fn edit(&mut self, target: u64, text: &str, now: f64) -> Result<String, ProtocolError> {
        let text = if validate::is_blank(text) {
            String::new()
        } else {
            validate::message_text(text, self.max_message_chars)?
        };
        self.queue(Action::Edit { target, text }, now)
    }

    /// Delete message `target`. Asked again while the first is unsent
    /// (offline), it is the same delete, not a second one the room would
    /// refuse as `not_found`.
    pub fn remove(&mut self, target: u64, now: f64) -> Result<String, ProtocolError> {
        let queued = self
            .outbox
            .items()
            .find(|i| matches!(i.action, Action::Delete { target: t } if t == target));
        if let Some(queued) = queued {
            return Ok(queued.id.clone());
        }
        self.queue(Action::Delete { target }, now)
    }

    /// Add (`on`) or take back a reaction.
    pub fn react(
        &mut self,
        target: u64,
        emoji: &str,
        on: bool,
        now: f64,
    ) -> Result<String, ProtocolError> {
        // One the room does not offer would be refused: not shown at once,
        // then taken back. (Before the first welcome the list is unknown.)
        let offered = &self.room.emoji;
        if !offered.is_empty() && !offered.iter().any(|e| e == emoji) {
            return Err(ProtocolError::new(
                ErrorCode::NotAllowed,
                "this reaction is not available here",
            ));
        }
        // Nor in a room that lets us do nothing (a chip shown before the
        // lock or the mute is still there to press).
        if !self.room.may_act() {
            return Err(if self.room.locked {
                ProtocolError::new(ErrorCode::Locked, "the room is read-only")
            } else {
                ProtocolError::new(ErrorCode::Muted, "you are muted")
            });
        }
        self.queue(
            Action::React {
                target,
                emoji: emoji.to_owned(),
                on,
            },
            now,
        )
    }

    /// A moderator's action.
    pub fn moderate(
        &mut self,
        action: ModerationAction,
        reason: Option<String>,
        now: f64,
    ) -> Result<String, ProtocolError> {
        self.queue(Action::Moderate { action, reason }, now)
    }

    /// Report someone else's message `target` to the moderators (acked
    /// like any action; a repeat is acked again, counted once).
    pub fn report(
        &mut self,
        target: u64,
        reason: ReportReason,
        note: Option<String>,
        now: f64,
    ) -> Result<String, ProtocolError> {
        self.queue(
            Action::Report {
                target,
                reason,
                note,
            },
            now,
        )
    }

    /// Why the session ended for good, as an error (said in the visitor's
    /// language where it has a text), if it did.
    fn ended(&self) -> Option<ProtocolError> {
        let Status::Failed { code, reason } = &self.status else {
            return None;
        };
        let error = close_code::error_code(*code).unwrap_or(ErrorCode::Internal);
        Some(ProtocolError::new(error, reason.clone()))
    }

    /// Put an action in the outbox; it goes out when the link is up.
    fn queue(&mut self, action: Action, now: f64) -> Result<String, ProtocolError> {
        self.observe_clock(now);
        if let Some(error) = self.ended() {
            return Err(error);
        }
        if self.outbox.is_full() {
            return Err(ProtocolError::new(
                ErrorCode::OutboxFull,
                "too many unsent messages; wait for the connection",
            ));
        }
        let id = self.next_id();
        self.outbox
            .push(id.clone(), action, now, OutboxState::Pending);
        if let Some(item) = self.outbox.items().last() {
            show_pending(&mut self.effects, item);
            if let Some(action) = shown_at_once(&item.action) {
                self.effects.push_back(Effect::Applied {
                    action,
                    undone: false,
                });
            }
        }
        self.pump_outbox(now);
        Ok(id)
    }

    /// Try a failed message again. One refused for its id (`id_conflict`)
    /// goes out under a fresh id; the old one stays in the view until now.
    pub fn retry(&mut self, id: &str, now: f64) -> bool {
        self.observe_clock(now);
        // Ended for good: it cannot go; it stays "Not sent", saying why.
        if let Some(error) = self.ended() {
            if self.outbox.items().any(|i| i.id == id) {
                self.effects.push_back(Effect::SendFailed {
                    id: id.to_owned(),
                    error,
                });
            }
            return false;
        }
        let fresh = self.next_id();
        let Some(item) = self.outbox.retry(id, fresh) else {
            return false;
        };
        if item.id != id {
            self.effects.push_back(Effect::Renamed {
                id: id.to_owned(),
                new_id: item.id.clone(),
            });
        }
        show_pending(&mut self.effects, item);
        self.pump_outbox(now);
        true
    }

    /// Give up on an unsent message.
    pub fn discard(&mut self, id: &str) -> bool {
        self.outbox.discard(id)
    }

    /// What to keep across a page reload: the composer's `draft` and the
    /// unsent messages (see [`unsent`]); "" for nothing.
    pub fn kept(&self, draft: &str, stored: &str, now: f64) -> String {
        let key = self.sender_key.as_deref().filter(|_| self.keeps_key());
        unsent::encode(draft, &self.outbox, stored, now, key)
    }

    /// A site for shared devices (a kiosk) forgets the visitor with the
    /// page: the next one is someone else, even under the same name.
    pub fn set_remember_visitor(&mut self, on: bool) {
        self.remember_visitor = on;
    }

    /// Whether the sender key is kept: not for a visitor forgotten with
    /// the page, even with a message to resend (which then goes out under a
    /// new key: stored twice if the room had it and its ack was lost).
    fn keeps_key(&self) -> bool {
        self.remember_visitor
    }

    /// Before [`Session::start`]: queue the messages an earlier page `kept`
    /// and show them. They go out under their own ids, so one the room
    /// already has is acked, not stored again (presenting the same anonymous
    /// sender key, which came with them). Returns the draft.
    pub fn restore(&mut self, kept: &str, now: f64) -> String {
        self.observe_clock(now);
        let (draft, key) = unsent::decode(kept, now, &mut self.outbox);
        if self.keeps_key() {
            self.sender_key = self.sender_key.take().or(key);
        }
        for i in self.outbox.items() {
            show_pending(&mut self.effects, i);
            if let OutboxState::Failed(error) = &i.state {
                self.effects.push_back(Effect::SendFailed {
                    id: i.id.clone(),
                    error: error.clone(),
                });
            }
        }
        draft
    }

    fn pump_outbox(&mut self, now: f64) {
        if self.link != Link::Up {
            return;
        }
        if let Some(item) = self.outbox.next_to_send(now) {
            // Nothing while a file is uploading: its end continues the item.
            if let Some(frame) = item.action.next_frame(&item.id) {
                self.effects.push_back(Effect::Transmit(frame.encode()));
                // The room answers it at once: silence means a dead link.
                if !self.timers.is_set(Timer::AnswerProbe) && !self.timers.is_set(Timer::Pong) {
                    self.timers.set(Timer::AnswerProbe, now + ANSWER_PROBE_MS);
                }
            }
        }
    }

    /// The visitor has seen everything up to `seq`. A verified member's room
    /// keeps it (so their other tabs and devices know); an anonymous
    /// visitor's stays in the page, unless the room shares read receipts.
    /// Sent again after a reconnect if the room knows less. In a live event
    /// (past [`BIG_ROOM`] connections) at most every
    /// [`LIVE_READ_INTERVAL_MS`]: the latest position goes when that is up.
    pub fn read_up_to(&mut self, seq: u64, now: f64) {
        self.observe_clock(now);
        let verified = self.me.as_ref().is_some_and(|w| w.verified);
        if self.link != Link::Up || !(verified || self.receipts) || seq <= self.read_sent {
            return;
        }
        if self.room_size > BIG_ROOM {
            if let Some(last) = self.last_read_sent {
                if now - last < LIVE_READ_INTERVAL_MS {
                    self.read_held = self.read_held.max(seq);
                    self.timers.set(Timer::Read, last + LIVE_READ_INTERVAL_MS);
                    return;
                }
            }
        }
        self.read_sent = seq;
        self.read_held = 0;
        self.timers.stop(Timer::Read);
        self.last_read_sent = Some(now);
        self.effects
            .push_back(Effect::Transmit(ClientFrame::Read { seq }.encode()));
    }

    /// The visitor is typing; tells the room at most every 2 s.
    pub fn typing(&mut self, now: f64) {
        self.observe_clock(now);
        if self.link == Link::Up && now - self.last_typing_sent >= TYPING_INTERVAL_MS {
            self.last_typing_sent = now;
            self.effects
                .push_back(Effect::Transmit(ClientFrame::Typing.encode()));
        }
    }

    /// Ask for the page before the oldest message shown. False if there is
    /// nothing older or a request is already out.
    pub fn load_earlier(&mut self) -> bool {
        let Some(oldest) = self.timeline.oldest_shown() else {
            return false;
        };
        if self.link != Link::Up || self.older_request_out || !self.timeline.older_exist() {
            return false;
        }
        self.older_request_out = true;
        self.effects.push_back(Effect::Transmit(
            ClientFrame::History {
                anchor: HistoryAnchor::Before(oldest),
                limit: PAGE,
            }
            .encode(),
        ));
        true
    }

    /// The view dropped messages older than `seq` to stay small.
    pub fn forget_older_than(&mut self, seq: u64) {
        self.timeline.forget_older_than(seq);
    }

    /// The view dropped what came after `seq`, far below the reader, to stay
    /// small: what arrives now comes as [`Effect::Arrived`] until
    /// [`Session::load_newer`] or [`Session::jump_to_latest`] catch up.
    pub fn forget_newer_than(&mut self, seq: u64) {
        self.timeline.forget_newer_than(seq);
    }

    /// A returning visitor read up to `seq` on an earlier visit: the room
    /// is told on joining, and counts what they missed
    /// ([`Effect::Welcome`]'s `unread`).
    pub fn read_before(&mut self, seq: u64) {
        self.read_before = seq;
    }

    /// On joining: a returning visitor who read up to `read` and missed
    /// more than the join page holds starts at their first unread message,
    /// as in Slack, rather than at the latest with a gap above it. The view
    /// then lists none of the join page (it counts it, as
    /// [`Effect::Arrived`]), gets the messages after `read` as
    /// [`Effect::ShowNewer`], pages on as the visitor reads down, and back
    /// before `read` with "load earlier". False (nothing changes) when the
    /// join page reaches back to `read`.
    pub fn start_after(&mut self, read: u64) -> bool {
        let t = &self.timeline;
        let missed = read > 0
            && t.older_exist()
            && t.oldest_shown().is_some_and(|o| o > read.saturating_add(1));
        if missed {
            self.timeline.start_after(read);
            self.load_newer();
        }
        missed
    }

    /// Ask for the page after the newest event the view shows (the reader
    /// nears it). False if the view shows all, or a request is out.
    pub fn load_newer(&mut self) -> bool {
        let Some(after) = self.timeline.newest_shown() else {
            return false;
        };
        if self.link != Link::Up
            || self.newer_request_out.is_some()
            || self.latest_request_out.is_some()
        {
            return false;
        }
        self.newer_request_out = Some(after);
        self.effects.push_back(Effect::Transmit(
            ClientFrame::History {
                anchor: HistoryAnchor::After(after),
                limit: PAGE,
            }
            .encode(),
        ));
        true
    }

    /// Show the messages around `seq` instead of what the view shows
    /// ([`Effect::ShowInstead`] with `at`): a quote's original or the
    /// pinned message, far up and not listed. Messages after it follow as
    /// the reader pages down. False when the link is down or a jump is out.
    pub fn jump_to(&mut self, seq: u64) -> bool {
        // A few below it too, as context; never past what was released.
        let before = seq
            .saturating_add(JUMP_CONTEXT + 1)
            .min(self.timeline.shown_through() + 1);
        if !self.jump(before) {
            return false;
        }
        self.jump_target = Some(seq);
        true
    }

    /// Replace what the view shows by the latest page ([`Effect::ShowInstead`]),
    /// rather than paging down to it. False if the view shows the latest
    /// already, or the link is down.
    pub fn jump_to_latest(&mut self) -> bool {
        self.timeline.newest_shown().is_some() && self.jump(self.timeline.shown_through() + 1)
    }

    /// Ask for the page before `before`, to show instead of the list.
    fn jump(&mut self, before: u64) -> bool {
        if self.link != Link::Up || self.latest_request_out.is_some() {
            return false;
        }
        self.latest_request_out = Some(before);
        self.jump_target = None;
        // An answer to it would continue the list being replaced.
        self.newer_request_out = None;
        self.effects.push_back(Effect::Transmit(
            ClientFrame::History {
                anchor: HistoryAnchor::Before(before),
                limit: PAGE,
            }
            .encode(),
        ));
        true
    }
}

/// Our own file as the ack shows it, until the room's frame (with its URL)
/// comes: the adapter still has the bytes.
fn sent_file(f: OutgoingFile) -> Attachment {
    Attachment {
        key: f.key.unwrap_or_default(),
        name: f.name,
        mime: f.mime,
        size: f.size,
        width: f.width,
        height: f.height,
        alt: f.alt,
        url: None,
    }
}

/// A copy of a reaction, a delete or an edit, which the view shows at once (not
/// `Action::clone`: the widget would carry a clone of every kind).
fn shown_at_once(action: &Action) -> Option<Action> {
    match action {
        Action::React { target, emoji, on } => Some(Action::React {
            target: *target,
            emoji: emoji.clone(),
            on: *on,
        }),
        Action::Delete { target } => Some(Action::Delete { target: *target }),
        Action::Edit { target, text } => Some(Action::Edit {
            target: *target,
            text: text.clone(),
        }),
        _ => None,
    }
}

/// Show a queued message ("Sending…"); nothing for other actions.
fn show_pending(effects: &mut VecDeque<Effect>, item: &OutboxItem) {
    if let Action::Send {
        text,
        reply_to,
        files,
    } = &item.action
    {
        effects.push_back(Effect::Pending {
            id: item.id.clone(),
            text: text.clone(),
            files: files.clone(),
            reply_to: *reply_to,
        });
    }
}
