//! The room's rules, as a state machine with no I/O: the server-side twin of
//! [`crate::session::Session`].
//!
//! A [`RoomCore`] decides who may join, what a frame does, what is stored and
//! what is sent to whom; the Room Durable Object (`worker/src/room/`) only
//! carries that out. It is driven in this order:
//!
//! 1. [`RoomCore::new`] with the room's key and the state it saved last
//!    ([`Output::SaveState`]), then [`RoomCore::restore`] with the members of
//!    the sockets still open (after hibernation);
//! 2. [`RoomCore::join`] when a connection arrives: either a refusal (an
//!    error frame and a close code) or the [`Member`] to keep in the socket's
//!    attachment, with the frames for the newcomer and the others;
//! 3. [`RoomCore::handle_frame`] for every text frame from a member;
//! 4. [`RoomCore::leave`] when a member's socket closes.
//!
//! Each returns the [`Output`]s to carry out, in order. Storage is reached
//! through the [`Store`] trait, synchronously; time, randomness and the
//! counts of connected sockets are passed in. The rules, in one place:
//!
//! - dedupe is exact on `(author, client id)`: a retry is answered with its
//!   own original seq; the same id for another request is `id_conflict`;
//! - authors are a verified `sub`, or an anonymous sender key the room issued
//!   (see [`sender_key`]): no member can act under another's scope;
//! - limits survive reconnecting: anonymous senders share a bucket per
//!   address, joins are throttled per address, `history` and typing cost
//!   tokens too ([`throttle`]);
//! - every change to a message (edit, delete, reaction) and every moderation
//!   action is an event with its own seq, in the one sequence
//!   ([`lifecycle`], [`moderation`]);
//! - moderators (a token's `role: moderator`) may do anything to anyone's
//!   messages, set mutes, bans, slow mode and locks ([`sanctions`]) and pin
//!   one message for everyone ([`pin`]); authors may edit their own within
//!   the site's window and delete them;
//! - members may report others' messages to the moderators, once per
//!   message, a few a minute; reports are no events of the sequence, and
//!   only moderators (and the site's server) hear of them ([`reports`]);
//! - past [`BIG_ROOM`] connections a room is a live event: no join, leave
//!   or typing is relayed, and the count is told now and then instead
//!   ([`presence::LiveCount`]).

pub mod attachments;
pub mod emoji;
pub mod lifecycle;
pub mod member;
pub mod moderation;
pub mod output;
pub mod overview;
mod pin;
pub mod policy;
pub mod presence;
mod reports;
pub mod sanctions;
pub mod sender_key;
mod slow_mode;
pub mod store;
pub mod throttle;

use serde::{Deserialize, Serialize};

use crate::client_frame::{ClientFrame, Dialect, FileRef, HistoryAnchor, ModerationAction};
use crate::error::{close_code, ErrorCode, ProtocolError};
use crate::limits::Limits;
use crate::limits::{
    ANONYMOUS, BIG_ROOM, JOIN_HISTORY, LIVE_JOIN_HISTORY, MAX_FRAME_BYTES, RECEIPTS_MAX,
    RESUME_HISTORY,
};
use crate::lru::LruMap;
use crate::message::{ChatMessage, ModerationNotice, ReplyRef, Role, RoomEvent};
use crate::server_frame::{legacy_frame, message_frame, Reader, Rules, ServerFrame, Welcome};
use crate::validate::{clean_name, message_text};

pub use self::attachments::FilePlace;
pub use self::member::{JoinRequest, Member, VerifiedUser};
pub use self::output::Output;
use self::policy::Filtered;
pub use self::policy::RoomPolicy;
use self::presence::{LiveCount, Presence};
use self::sanctions::Sanctions;
pub use self::sender_key::RoomKey;
use self::slow_mode::SlowMode;
pub use self::store::{
    Change, MemoryStore, Page, PageQuery, Prior, Purged, Record, RecordKind, Store, StoreError,
    Upload, UploadState, MAX_PURGE_EVENTS,
};
use self::throttle::Throttles;

/// Retention is checked every this many records (not on every send).
pub const RETENTION_CHECK_EVERY: u64 = 100;
/// The author the site's server posts and moderates as (site API).
pub(crate) const SITE_BOT: &str = "bot:site";
/// Anonymous members one address counts as in a message's reactions (an
/// emoji each): a few people behind one NAT, not the keys one visitor
/// takes with private windows.
pub const REACTIONS_PER_ADDRESS: u32 = 5;
/// Read positions remembered for read receipts (members who left included).
const RECEIPTS_MEMORY: usize = 1_000;

/// What the adapter knows about the room's sockets right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sockets {
    /// Connections in the room, not counting the one joining or leaving.
    pub online: u32,
    /// Of those, connections from the joining client's address.
    pub from_address: u32,
    /// And from its network, when wider than the address (an IPv6 /48, see
    /// [`crate::address::network_of`]).
    pub from_network: u32,
    /// Whether any legacy (workshop front end) connection is present: only
    /// then are legacy frames worth encoding.
    pub legacy: bool,
    /// The room's counts are short for now (an owner that woke, before its
    /// fan-out objects said who is there: it knows its own sockets only): a
    /// live event's count is not told until they are known.
    pub counts_short: bool,
}

/// Connections one network (an IPv6 /48) may hold in a room: a tenth of the
/// room, or twice an address's share if that is more. A subscriber's many
/// /64s cannot fill a room; a carrier's /48, shared by strangers, still
/// holds its share of a big one.
pub fn max_from_network(limits: &Limits) -> u32 {
    (limits.max_connections / 10).max(limits.max_connections_per_address.saturating_mul(2))
}

/// The answer to a join.
#[derive(Debug, Clone, PartialEq)]
pub enum Joined {
    /// Keep `member` with the socket and carry out `outputs`.
    Accepted {
        member: Member,
        outputs: Vec<Output>,
    },
    /// Tell the client why (`error`, for v1 clients) and close with `code`.
    Refused { code: u16, error: ProtocolError },
}

/// What the room saves to survive restarts (besides its history).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
struct SavedState {
    sanctions: Sanctions,
    policy: RoomPolicy,
    /// The site's limits as last heard (a member's own copy, from when they
    /// joined, gives way to these).
    limits: Option<Limits>,
    /// The version (the site's `updatedAt`) `policy` and `limits` came with:
    /// word of an older one (a ticket from a cache) is ignored.
    version: u64,
    /// The seq of the message pinned above the list.
    pinned: Option<u64>,
}

pub struct RoomCore {
    key: RoomKey,
    throttles: Throttles,
    presence: Presence,
    state: SavedState,
    slow_mode: SlowMode,
    /// Where files go; `None` until the adapter says (no uploads until then).
    files: Option<FilePlace>,
    /// Bytes of files the site's other rooms hold, as its room list last
    /// said (see [`Output::TellFileBytes`]), and when.
    files_elsewhere: (u64, u64),
    /// When this room last told the site's webhooks its storage was full.
    storage_full_told: Option<u64>,
    /// Upload tickets issued in this life: with the time, every ticket's
    /// object key is new, even several in one millisecond (a request's
    /// clock stands still).
    tickets_issued: u64,
    /// Read receipts: sender key -> (name, read up to), in memory only.
    readers: LruMap<String, (String, u64)>,
    /// A live event's count, told now and then instead of every join.
    live_count: LiveCount,
}

/// Shorthand for what the frame handlers return.
type Outcome = Result<Vec<Output>, StoreError>;

impl RoomCore {
    /// A room with its secret key and the state it saved last (JSON from
    /// [`Output::SaveState`]; anything unreadable starts afresh).
    pub fn new(key: RoomKey, saved: Option<&str>) -> Self {
        let mut state: SavedState = saved
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default();
        // Kept hashed from the next change on (IPv6 by its /64, as joins now
        // give them).
        state
            .sanctions
            .hash_plain_addresses(|a| key.address(&crate::address::address_key(a)));
        RoomCore {
            key,
            throttles: Throttles::default(),
            presence: Presence::default(),
            state,
            slow_mode: SlowMode::default(),
            files: None,
            files_elsewhere: (0, 0),
            storage_full_told: None,
            tickets_issued: 0,
            readers: LruMap::new(RECEIPTS_MEMORY),
            live_count: LiveCount::default(),
        }
    }

    /// The members of the sockets still open when the object wakes.
    pub fn restore<'a>(&mut self, members: impl IntoIterator<Item = &'a Member>) {
        self.presence.clear();
        for m in members {
            self.presence.add(m);
        }
    }

    /// Members connected elsewhere (on a sharded room's fan-out objects)
    /// that this object had forgotten: listed again, without announcing
    /// them, as [`RoomCore::restore`] does for its own sockets.
    pub fn recall<'a>(&mut self, members: impl IntoIterator<Item = &'a Member>) {
        for m in members {
            self.presence.add(m);
        }
    }

    fn save_state(&self) -> Output {
        Output::SaveState(serde_json::to_string(&self.state).unwrap_or_default())
    }

    /// Take up the site's rules of `version` (the site's `updatedAt`): its
    /// moderation policy and its limits, which come with every join, every
    /// call of the site's API and, when the site changes, a word to each of
    /// its rooms. Rules older than those the room has are ignored (a ticket
    /// made from a cached copy of the site may arrive after the news).
    /// From then on every member's frames are judged by these limits, not by
    /// the copy they joined with. Saved when anything changed; members told
    /// (a `rules` frame) when what `welcome` gave them did.
    pub fn adopt_site(&mut self, policy: RoomPolicy, limits: Limits, version: u64) -> Vec<Output> {
        if version < self.state.version {
            return Vec::new();
        }
        let changed = self.state.policy != policy
            || self.state.limits != Some(limits)
            || self.state.version != version;
        if !changed {
            return Vec::new();
        }
        let before = self.state.limits.map(|l| self.rules(l));
        self.state.policy = policy;
        self.state.limits = Some(limits);
        self.state.version = version;
        let mut out = vec![self.save_state()];
        let rules = self.rules(limits);
        if before.is_some_and(|b| b != rules) {
            out.push(Output::Broadcast {
                v1: ServerFrame::Rules(rules).encode(),
                legacy: None,
            });
        }
        out
    }

    /// What members are told of the site's rules, in `welcome` and `rules`.
    fn rules(&self, limits: Limits) -> Rules {
        // Files only where the site takes them and the deployment can store
        // them (no key: files off), else the widget would offer a button
        // every upload of which fails.
        let takes_files = limits.takes_files() && self.files.is_some();
        Rules {
            max_message_chars: limits.max_message_chars,
            edit_window: self.state.policy.edit_window_secs,
            emoji: self.state.policy.emoji.clone(),
            accept: if takes_files {
                limits.file_types.names().join(",")
            } else {
                String::new()
            },
            max_file_bytes: Some(limits.max_file_bytes).filter(|_| takes_files),
        }
    }

    /// The site's policy in force in this room.
    pub fn policy(&self) -> &RoomPolicy {
        &self.state.policy
    }

    /// The site's limits in force, if the room has heard them.
    pub fn limits(&self) -> Option<Limits> {
        self.state.limits
    }

    /// The version (`updatedAt`) of the site's rules in force.
    pub fn site_version(&self) -> u64 {
        self.state.version
    }

    // ----- joining and leaving -----

    pub fn join(
        &mut self,
        req: JoinRequest,
        sockets: Sockets,
        now: u64,
        store: &mut impl Store,
    ) -> Result<Joined, StoreError> {
        // A ticket older than the rules the room has heard of brings stale limits.
        let limits = match self.state.limits {
            Some(current) if req.version < self.state.version => current,
            _ => req.limits,
        };
        let refuse = |code, error, message: &str| {
            Ok(Joined::Refused {
                code,
                error: ProtocolError::new(error, message),
            })
        };
        if !self
            .throttles
            .take_join(req.address.as_deref(), &limits, now)
        {
            return refuse(
                close_code::TRY_AGAIN_LATER,
                ErrorCode::RateLimited,
                "joining too fast; try again later",
            );
        }
        if sockets.online >= limits.max_connections {
            return refuse(
                close_code::TRY_AGAIN_LATER,
                ErrorCode::RoomFull,
                "room is full; try again later",
            );
        }
        let network = req.address.as_deref().and_then(crate::address::network_of);
        if (req.address.is_some() && sockets.from_address >= limits.max_connections_per_address)
            || (network.is_some() && sockets.from_network >= max_from_network(&limits))
        {
            return refuse(
                close_code::TRY_AGAIN_LATER,
                ErrorCode::TooManyConnections,
                "too many connections from your address",
            );
        }

        let (author, name, credential, role) = match &req.user {
            Some(user) => {
                let name = clean_name(user.name.as_deref().unwrap_or(ANONYMOUS));
                (
                    format!("u:{}", user.sub),
                    name,
                    None,
                    user.role.filter(|r| *r == Role::Moderator),
                )
            }
            None => {
                let presented = req.sender_key.as_deref().and_then(|k| self.key.verify(k));
                let (author, credential) = match (presented, req.sender_key) {
                    (Some(author), Some(credential)) => (author, credential),
                    _ => self.key.issue(req.entropy),
                };
                (author, req.name, Some(credential), None)
            }
        };
        let mut member = Member {
            sender: self.key.sender(&author),
            author,
            name,
            verified: req.user.is_some(),
            role,
            v1: req.dialect == Dialect::V1,
            address: req.address,
            limits,
        };
        if let Some(until) = self.banned_until(&member, now) {
            return Ok(Joined::Refused {
                code: close_code::BANNED,
                error: Self::banned_error(until),
            });
        }

        let mut outputs = self.adopt_site(req.policy, limits, req.version);
        // A name is shown to everyone (presence, typing, receipts, its
        // messages) as a message is: the site's filter applies to the names
        // visitors pick. One it blocks is replaced, not refused: the visitor
        // still gets in, and `welcome.name` says what the room shows.
        if !member.verified {
            member.name = match self.state.policy.filter(&member.name, false) {
                Filtered::Pass(name) => name,
                Filtered::Blocked => ANONYMOUS.to_owned(),
            };
        }
        let rules = self.rules(limits);
        let listed = self.presence.add(&member);
        let online = sockets.online + 1;
        if member.v1 {
            let read_seq = if member.verified {
                store.read_position(&member.author)?
            } else {
                0
            };
            // A returning member's unread count, as the join page cannot
            // show it (it holds only the latest messages).
            let from = req.read.unwrap_or(0).max(read_seq);
            let unread = match req.since {
                None if from > 0 => Some(store.unread_after(
                    from,
                    &member.author,
                    crate::unread::MAX_TRACKED as u64,
                )?),
                _ => None,
            };
            // A moderator's client offers to lift what is in force.
            let (mut muted, mut banned) = if member.moderates() {
                self.in_force(now)
            } else {
                Default::default()
            };
            muted.truncate(crate::server_frame::WELCOME_SANCTIONS);
            banned.truncate(crate::server_frame::WELCOME_SANCTIONS);
            let sanctions = &self.state.sanctions;
            let welcome = Welcome {
                seq: store.latest_seq()?,
                now,
                online,
                name: member.name.clone(),
                max_message_chars: rules.max_message_chars,
                sender: member.sender.clone(),
                verified: member.verified,
                // Only anonymous members need it; legacy clients would not keep it.
                sender_key: credential,
                role: member.role,
                members: self.presence.list(),
                read_seq,
                unread,
                locked: sanctions.locked,
                pinned: self.pinned(now, store)?,
                slow_mode: sanctions.slow_secs,
                muted_until: sanctions.muted_until(
                    &member.sender,
                    self.origin(&member).as_deref(),
                    now,
                ),
                edit_window: rules.edit_window,
                emoji: rules.emoji,
                receipts: self.receipts_shared(),
                readers: if self.receipts_shared() {
                    self.readers()
                } else {
                    Vec::new()
                },
                accept: Some(rules.accept),
                max_file_bytes: rules.max_file_bytes,
                reports: self.open_reports(&member, store)?,
                muted,
                banned,
            };
            outputs.push(Output::Reply(ServerFrame::Welcome(welcome).encode()));
            let (mut page, anchor) = match req.since {
                Some(since) => (
                    store.page(PageQuery::After(since, RESUME_HISTORY), &member.author)?,
                    Some(HistoryAnchor::After(since)),
                ),
                None => (
                    store.page(PageQuery::Latest(join_page(online)), &member.author)?,
                    None,
                ),
            };
            self.sign_events(&mut page.events, now);
            outputs.push(Output::Reply(
                ServerFrame::History {
                    events: page.events,
                    more: page.more,
                    anchor,
                }
                .encode(),
            ));
        } else {
            // The workshop front end shows each frame as one message, and
            // has no tombstones.
            for e in store
                .page(PageQuery::Latest(JOIN_HISTORY), &member.author)?
                .events
            {
                match e {
                    RoomEvent::Message(m) if !m.deleted => {
                        outputs.push(Output::Reply(legacy_frame(
                            &m.name,
                            &legacy_text(&m),
                            m.timestamp,
                        )));
                    }
                    _ => {}
                }
            }
        }
        if online <= BIG_ROOM {
            self.live_count.heard(online);
            let presence = ServerFrame::Presence {
                online,
                joined: Some(member.name.clone()),
                left: None,
                member: Some(listed),
            };
            outputs.push(broadcast(
                presence.encode(),
                sockets
                    .legacy
                    .then(|| legacy_frame(&member.name, "joined the chat", now)),
            ));
        } else if !sockets.counts_short {
            outputs.extend(self.count_due(online, now).map(|c| broadcast(c, None)));
        }
        Ok(Joined::Accepted { member, outputs })
    }

    /// `member`'s socket closed; `sockets.online` no longer counts it.
    pub fn leave(&mut self, member: &Member, sockets: Sockets, now: u64) -> Vec<Output> {
        let listed = self.presence.remove(member);
        if sockets.online >= BIG_ROOM {
            if sockets.counts_short {
                return Vec::new();
            }
            let count = self.count_due(sockets.online, now);
            return count.map(|c| broadcast(c, None)).into_iter().collect();
        }
        self.live_count.heard(sockets.online);
        let presence = ServerFrame::Presence {
            online: sockets.online,
            joined: None,
            left: Some(member.name.clone()),
            member: Some(listed),
        };
        vec![broadcast(
            presence.encode(),
            sockets
                .legacy
                .then(|| legacy_frame(&member.name, "left the chat", now)),
        )]
    }

    // ----- frames -----

    /// One text frame from `member`.
    pub fn handle_frame(
        &mut self,
        member: &Member,
        text: &str,
        sockets: Sockets,
        now: u64,
        store: &mut impl Store,
    ) -> Outcome {
        // A member who joined before the site's limits changed is held to
        // the new ones.
        let current;
        let member = match self.state.limits {
            Some(limits) if limits != member.limits => {
                current = Member {
                    limits,
                    ..member.clone()
                };
                &current
            }
            _ => member,
        };
        if text.len() > MAX_FRAME_BYTES {
            return Ok(vec![Output::Close {
                code: close_code::TOO_BIG,
                reason: "frame too large".into(),
            }]);
        }
        // Far more frames than any client sends: refusing each would keep
        // the room busy for the others, so the connection ends.
        if !self.throttles.take_frame(member, now) {
            return Ok(vec![Output::Close {
                code: close_code::TRY_AGAIN_LATER,
                reason: "too many frames; slow down".into(),
            }]);
        }
        // A ban ends the connection; a socket that slipped through is closed now.
        if let Some(until) = self.banned_until(member, now) {
            let error = Self::banned_error(until);
            let mut outputs = reply_error(member, error);
            outputs.push(Output::Close {
                code: close_code::BANNED,
                reason: "banned".into(),
            });
            return Ok(outputs);
        }
        let mut outputs = match ClientFrame::parse(text, member.dialect()) {
            Ok(frame) => self.act(member, frame, sockets, now, store)?,
            Err(e) => reply_error(member, e),
        };
        // A live event's count rides with what goes to everyone anyway (in
        // the same batch), the sender's copy included. (`sockets` counts no
        // one here: the adapter does not count its sockets on every frame.)
        let online = self.presence.connections();
        if online > BIG_ROOM
            && !sockets.counts_short
            && outputs
                .iter()
                .any(|o| matches!(o, Output::Broadcast { .. }))
        {
            if let Some(count) = self.count_due(online, now) {
                outputs.extend(to_everyone(member, count));
            }
        }
        Ok(outputs)
    }

    /// A live event's count, when it is due to be told (see [`LiveCount`]).
    fn count_due(&mut self, online: u32, now: u64) -> Option<String> {
        self.live_count.due(online, now).then(|| {
            ServerFrame::Presence {
                online,
                joined: None,
                left: None,
                member: None,
            }
            .encode()
        })
    }

    /// What a frame does, once parsed: from a member's socket, or from the
    /// site's server through the API (a member without a socket, see
    /// [`Member::site`]).
    pub fn act(
        &mut self,
        member: &Member,
        frame: ClientFrame,
        sockets: Sockets,
        now: u64,
        store: &mut impl Store,
    ) -> Outcome {
        // Deleting a message deletes its files: know them before, check after
        // (one indexed read, not a scan: anyone may send delete frames).
        let target = match &frame {
            ClientFrame::Delete { target, .. }
            | ClientFrame::Moderate {
                action: ModerationAction::Delete { target },
                ..
            } => Some(*target),
            _ => None,
        };
        let files = match target {
            Some(t) => store
                .message(t)?
                .filter(|(m, _)| !m.deleted)
                .map(|(m, _)| m.attachments.into_iter().map(|a| a.key).collect())
                .unwrap_or_default(),
            None => Vec::new(),
        };
        // A purge (moderators only) may remove many: look for every orphan.
        let purges = matches!(
            frame,
            ClientFrame::Moderate {
                action: ModerationAction::Purge { .. },
                ..
            }
        );
        let mut outputs = self.dispatch(member, frame, sockets, now, store)?;
        if let (Some(t), false) = (target, files.is_empty()) {
            if store.message(t)?.is_none_or(|(m, _)| m.deleted) {
                outputs.push(Output::DeleteObjects(files));
            }
        }
        if purges {
            outputs.extend(self.orphans(now, store)?);
        }
        Ok(outputs)
    }

    fn dispatch(
        &mut self,
        member: &Member,
        frame: ClientFrame,
        sockets: Sockets,
        now: u64,
        store: &mut impl Store,
    ) -> Outcome {
        match frame {
            ClientFrame::Send {
                id,
                message,
                reply_to,
                attachments,
            } => self.on_send(
                member,
                id,
                &message,
                reply_to,
                &attachments,
                sockets,
                now,
                store,
            ),
            ClientFrame::Upload { id, file, request } => {
                self.on_upload(member, &id, file, request, now, store)
            }
            ClientFrame::Edit {
                id,
                target,
                message,
            } => self.on_edit(member, &id, target, &message, now, store),
            ClientFrame::Delete { id, target } => {
                self.on_delete(member, &id, target, None, now, store)
            }
            ClientFrame::React {
                id,
                target,
                emoji,
                on,
            } => self.on_react(member, &id, target, &emoji, on, now, store),
            ClientFrame::Moderate { id, action, reason } => {
                self.on_moderate(member, &id, action, reason, now, store)
            }
            ClientFrame::Report {
                id,
                target,
                reason,
                note,
            } => self.on_report(member, &id, target, reason, note, now, store),
            ClientFrame::History { anchor, limit } => {
                if !self.throttles.take_history(member, now) {
                    return Ok(reply_error(
                        member,
                        ProtocolError::new(ErrorCode::RateLimited, "asking for history too fast"),
                    ));
                }
                let query = match anchor {
                    HistoryAnchor::Before(seq) => PageQuery::Before(seq, limit),
                    HistoryAnchor::After(seq) => PageQuery::After(seq, limit),
                };
                let Page { mut events, more } = store.page(query, &member.author)?;
                self.sign_events(&mut events, now);
                Ok(vec![Output::Reply(
                    ServerFrame::History {
                        events,
                        more,
                        anchor: Some(anchor),
                    }
                    .encode(),
                )])
            }
            // Anonymous members keep their read position in the page; a
            // verified member's follows them to their other tabs and devices.
            // With read receipts on, everyone hears how far each member read.
            ClientFrame::Read { seq } => {
                let seq = seq.min(store.latest_seq()?);
                let mut outputs = Vec::new();
                if member.verified && seq > store.read_position(&member.author)? {
                    store.set_read_position(&member.author, seq)?;
                    outputs.push(Output::ToSender {
                        sender: member.sender.clone(),
                        frame: ServerFrame::Read { seq }.encode(),
                    });
                }
                outputs.extend(self.receipt(member, seq, now));
                Ok(outputs)
            }
            ClientFrame::Typing => {
                // In a live event, typing notices would be most of the traffic.
                // A muted member, or anyone in a locked room, types to no one.
                if self.presence.connections() > BIG_ROOM
                    || self.may_act(member, now).is_err()
                    || !self.throttles.take_typing(member, now)
                {
                    return Ok(Vec::new());
                }
                Ok(vec![broadcast(
                    ServerFrame::Typing {
                        name: member.name.clone(),
                        sender: Some(member.sender.clone()),
                    }
                    .encode(),
                    None,
                )])
            }
        }
    }

    /// Whether read receipts are shared now: the site wants them and the
    /// room is small enough.
    fn receipts_shared(&self) -> bool {
        self.state.policy.receipts && self.presence.connections() <= RECEIPTS_MAX
    }

    /// How far the members have read, for a newcomer (the latest 100).
    fn readers(&self) -> Vec<Reader> {
        let mut all: Vec<Reader> = self
            .readers
            .iter()
            .map(|(sender, (name, seq))| Reader {
                sender: sender.clone(),
                name: name.clone(),
                seq: *seq,
            })
            .collect();
        all.sort_by_key(|r| std::cmp::Reverse(r.seq));
        all.truncate(100);
        all
    }

    /// `member` read up to `seq`: tell everyone, once per step forward, and
    /// at most [`crate::limits::RECEIPT_PER_SEC`] (the position is kept for
    /// newcomers and the next receipt all the same).
    fn receipt(&mut self, member: &Member, seq: u64, now: u64) -> Option<Output> {
        // A muted member's name goes to no one (a locked room's readers
        // still say what they have seen).
        if !self.receipts_shared()
            || member.role == Some(Role::Bot)
            || (!member.moderates() && self.muted_until(member, now).is_some())
        {
            return None;
        }
        let before = self.readers.peek(&member.sender).map_or(0, |(_, s)| *s);
        if seq <= before {
            return None;
        }
        self.readers
            .insert(member.sender.clone(), (member.name.clone(), seq));
        if !self.throttles.take_receipt(member, now) {
            return None;
        }
        let frame = ServerFrame::Receipt(Reader {
            sender: member.sender.clone(),
            name: member.name.clone(),
            seq,
        });
        Some(broadcast(frame.encode(), None))
    }

    /// A retry of something `member` already did under `id` is answered
    /// with its original seq, free of charge; the same id for another
    /// request is `id_conflict`. `None`: the id is new.
    fn prior(
        &self,
        member: &Member,
        id: &str,
        request: u64,
        store: &mut impl Store,
    ) -> Result<Option<Vec<Output>>, StoreError> {
        let Some(prior) = store.find(&member.author, id)? else {
            return Ok(None);
        };
        if prior.request != request {
            let e = ProtocolError::new(
                ErrorCode::IdConflict,
                "this id was already used for something else",
            );
            return Ok(Some(reply_error(member, e.with_id(Some(id)))));
        }
        Ok(Some(reply(
            member,
            ServerFrame::Ack {
                id: id.to_owned(),
                seq: prior.seq,
                timestamp: prior.timestamp,
            },
        )))
    }

    /// Whether `member` may post now (lock, mute), and the part of `text`
    /// the site's word filter and link policy let through.
    fn filtered(&self, member: &Member, text: &str) -> Result<String, ProtocolError> {
        match self.state.policy.filter(text, member.verified) {
            Filtered::Pass(text) => Ok(text),
            Filtered::Blocked => Err(ProtocolError::new(
                ErrorCode::Blocked,
                "the site does not allow this message",
            )),
        }
    }

    /// Whether `member` may post or change anything now: not while the room
    /// is locked or they are muted (moderators excepted).
    fn may_act(&self, member: &Member, now: u64) -> Result<(), ProtocolError> {
        if member.moderates() {
            return Ok(());
        }
        if self.state.sanctions.locked {
            return Err(ProtocolError::new(
                ErrorCode::Locked,
                "the room is read-only",
            ));
        }
        if let Some(until) = self.muted_until(member, now) {
            return Err(ProtocolError {
                // For good: no `until`, as the `moderation` notice says.
                until: Some(until).filter(|u| *u != sanctions::FOREVER),
                ..ProtocolError::new(ErrorCode::Muted, "you are muted in this room")
            });
        }
        Ok(())
    }

    /// Until when `member` is muted (by their own mute or their address's),
    /// if they are.
    fn muted_until(&self, member: &Member, now: u64) -> Option<u64> {
        // Hashed only when some mute follows an address.
        let origin = if self.state.sanctions.muted_origins.is_empty() {
            None
        } else {
            self.origin(member)
        };
        self.state
            .sanctions
            .muted_until(&member.sender, origin.as_deref(), now)
    }

    /// Slow mode (see [`slow_mode`]).
    fn slow_mode(&self, member: &Member, now: u64) -> Result<(), ProtocolError> {
        let interval = self.state.sanctions.slow_secs.saturating_mul(1000);
        let here = member
            .address
            .as_deref()
            .map_or(0, |a| self.presence.anonymous_at(a));
        match self.slow_mode.wait(member, interval, here, now) {
            Some(wait) => Err(ProtocolError {
                retry_after: Some(wait),
                ..ProtocolError::new(ErrorCode::SlowMode, "slow mode: wait a moment")
            }),
            None => Ok(()),
        }
    }

    /// A `send`, in the order the checks run.
    #[allow(clippy::too_many_arguments)]
    fn on_send(
        &mut self,
        member: &Member,
        id: Option<String>,
        raw: &str,
        reply_to: Option<u64>,
        files: &[FileRef],
        sockets: Sockets,
        now: u64,
        store: &mut impl Store,
    ) -> Outcome {
        let fail = |e: ProtocolError| Ok(reply_error(member, e.with_id(id.as_deref())));
        // 1. The text must pass the site's rules (files may go without text).
        let text = if !files.is_empty() && crate::validate::is_blank(raw) {
            String::new()
        } else {
            match message_text(raw, member.limits.max_message_chars) {
                Ok(text) => text,
                Err(e) => return fail(e),
            }
        };
        // 2. A retry of a message this author already stored is answered with
        //    its own seq; the same id for another text is an error.
        let keys: Vec<&str> = files.iter().map(|f| f.key.as_str()).collect();
        let request = store::fingerprint(&[
            "send",
            &text,
            &reply_to.map(|r| r.to_string()).unwrap_or_default(),
            &keys.join(" "),
        ]);
        if let Some(id) = &id {
            if let Some(outputs) = self.prior(member, id, request, store)? {
                return Ok(outputs);
            }
        }
        // 3. Lock, mute, slow mode.
        if let Err(e) = self
            .may_act(member, now)
            .and_then(|()| self.slow_mode(member, now))
        {
            return fail(e);
        }
        // 4. Rate limits (the sender's, and an anonymous sender's address's),
        //    before the filter: a message it blocks has cost its sender too.
        if !self.throttles.take_message(member, now) {
            return fail(ProtocolError::new(
                ErrorCode::RateLimited,
                "sending too fast; wait a moment",
            ));
        }
        // 5. The word filter and link policy.
        let text = match self.filtered(member, &text) {
            Ok(text) => text,
            Err(e) => return fail(e),
        };
        // 6. The files must be the sender's own uploads, not sent yet.
        let attachments = match self.attachments_for(member, files, now, store)? {
            Ok(a) => a,
            Err(e) => return fail(e),
        };
        // 7. The message it answers must exist.
        let quote = match reply_to {
            None => None,
            Some(target) => match store.message(target)? {
                Some((m, _)) => Some(ReplyRef::quoting(&m)),
                None => {
                    return fail(ProtocolError::new(
                        ErrorCode::NotFound,
                        "the message you reply to does not exist",
                    ))
                }
            },
        };
        // 8. Store it with the next seq.
        let seq = store.latest_seq()? + 1;
        let message = ChatMessage {
            seq,
            id: id.clone().unwrap_or_else(|| format!("srv-{seq}")),
            name: member.name.clone(),
            message: text,
            timestamp: now,
            sender: member.sender.clone(),
            verified: member.verified,
            role: member.role,
            reply_to: quote,
            attachments,
            ..ChatMessage::default()
        };
        self.attach(&message.attachments, seq, store)?;
        let record = Record {
            seq,
            timestamp: now,
            author: member.author.clone(),
            client_id: id,
            request,
            kind: RecordKind::Message(message),
            origin: self.written_from(member),
        };
        store.append(&record)?;
        self.slow_mode.posted(member, now);
        self.throttles.typing_done(member);
        // 9. Ack the sender, tell everyone else. A message with files, a
        //    quote, or a text other than what was sent (masked, cleaned; a
        //    trim aside, which clients do too) goes to its sender too,
        //    before the ack: the ack cannot carry the files' URLs, what the
        //    quote shows or the text stored.
        let RecordKind::Message(stored) = &record.kind else {
            return Ok(Vec::new());
        };
        let mut m = stored.clone();
        self.sign(&mut m, now);
        let frame = message_frame(&m);
        let mut outputs = Vec::with_capacity(4);
        let as_sent = m.attachments.is_empty() && m.reply_to.is_none() && m.message == raw.trim();
        if !as_sent && member.v1 {
            outputs.push(Output::Reply(frame.clone()));
        }
        outputs.extend(reply(
            member,
            ServerFrame::Ack {
                id: m.id.clone(),
                seq,
                timestamp: now,
            },
        ));
        outputs.push(broadcast(
            frame,
            sockets
                .legacy
                .then(|| legacy_frame(&m.name, &legacy_text(&m), m.timestamp)),
        ));
        outputs.push(event("message.created", seq, RoomEvent::Message(m), now));
        outputs.extend(retention(seq, member));
        Ok(outputs)
    }

    // ----- the site's own server (the site API) -----

    /// The member the site's server acts as: a bot (shown with role `bot`)
    /// that may moderate, under one sender key per room, so its message ids
    /// dedupe across calls.
    pub fn site_member(&self, name: &str, limits: Limits) -> Member {
        let author = SITE_BOT.to_owned();
        Member {
            sender: self.key.sender(&author),
            author,
            name: clean_name(name),
            verified: true,
            role: Some(Role::Bot),
            v1: true,
            address: None,
            limits,
        }
    }

    /// Erase what the verified user `sub` wrote here (a GDPR request):
    /// their messages become tombstones, announced like a purge so that
    /// connected widgets blank them. Returns what changed, and what to
    /// carry out.
    pub fn erase_user(
        &mut self,
        sub: &str,
        limits: Limits,
        now: u64,
        store: &mut impl Store,
    ) -> Result<(Erasure, Vec<Output>), StoreError> {
        let author = format!("u:{sub}");
        let sender = self.key.sender(&author);
        // Files they uploaded and never sent go with their messages.
        store.abandon_uploads(&author)?;
        let reactions = store.reactions_by(&author)?;
        // Their reports go with them: moderators hear the counts drop.
        let reported = store.reported_by(&author)?;
        let erased = store.purge_author(&author, &sender)?;
        // Past either bound (their reports, their tombstones told one by
        // one, whose counts clients drop), one full list instead.
        let bounded = reported.len() >= MAX_PURGE_EVENTS || erased.count > erased.tombstones.len();
        let recounted = self.recount(&reported, bounded, store)?;
        // Only their reactions on messages still standing are seen by anyone
        // (not on their own messages, now tombstones, nor on deleted ones):
        // those are taken back in the open, and counted.
        let mut taken_back = Vec::new();
        for (target, emoji) in reactions.into_iter().rev() {
            if store.message(target)?.is_some_and(|(m, _)| !m.deleted) {
                taken_back.push((target, emoji));
            }
        }
        let changed = Erasure {
            messages: erased.count,
            notices: erased.notices,
            reactions: taken_back.len(),
        };
        if erased.count == 0 && erased.notices == 0 && taken_back.is_empty() {
            let mut outputs = recounted;
            outputs.extend(self.orphans(now, store)?);
            return Ok((changed, outputs));
        }
        // Announced even with no messages (only notices named them): open
        // widgets forget their name on `erased`.
        let site = self.site_member("Site", limits);
        let notice = ModerationNotice {
            action: "purge".into(),
            sender: Some(sender.clone()),
            by: site.name.clone(),
            reason: Some("erased at the user's request".into()),
            timestamp: now,
            erased: true,
            ..ModerationNotice::default()
        };
        let id = format!("erase-{now}");
        let request = store::fingerprint(&["erase", sub]);
        let mut outputs = self.announce(&site, &id, request, notice, now, store)?;
        self.tell_deleted(&mut outputs, erased.tombstones, now, store)?;
        outputs.extend(self.pin_follows(&site, None, now, store)?);
        // Each an update like any un-react, so that counts on open widgets
        // drop (the store has already forgotten them).
        for (target, emoji) in taken_back {
            let change = Change::React {
                emoji,
                author: author.clone(),
                sender: sender.clone(),
                on: false,
                origin: None,
            };
            let (_, frame, webhook) =
                self.record_change(&site, None, request, target, change, now, store)?;
            outputs.push(broadcast(frame, None));
            outputs.push(webhook);
        }
        outputs.extend(recounted);
        outputs.extend(self.orphans(now, store)?);
        Ok((changed, outputs))
    }

    /// Trim history to `keep` records and, when `days` is set, to what is
    /// younger than that many days of `day_ms` (the retention alarm).
    /// Returns how many records went, and what to tell (a pinned message
    /// trimmed is unpinned for those connected).
    pub fn retain(
        &mut self,
        keep: Option<u64>,
        days: u64,
        day_ms: u64,
        now: u64,
        store: &mut impl Store,
    ) -> Result<(usize, Vec<Output>), StoreError> {
        let mut trimmed = 0;
        if let Some(keep) = keep {
            trimmed += store.trim(keep)?;
        }
        if days > 0 {
            trimmed += store.trim_before(now.saturating_sub(days.saturating_mul(day_ms)))?;
        }
        if trimmed == 0 {
            return Ok((0, Vec::new()));
        }
        let site = self.site_member("Site", self.state.limits.unwrap_or_default());
        Ok((trimmed, self.pin_follows(&site, None, now, store)?))
    }
}

/// What a user's erasure changed in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Erasure {
    /// Their messages, now tombstones.
    pub messages: usize,
    /// Notices that named them (about them, or given by them); more than 0
    /// if any did.
    pub notices: usize,
    /// Their reactions taken back in the open, one update each: the newest
    /// [`MAX_PURGE_EVENTS`] at most (older ones go silently).
    pub reactions: usize,
}

/// What the workshop front end shows for `m`: its text, and its files by name.
fn legacy_text(m: &ChatMessage) -> String {
    let mut text = m.message.clone();
    for a in &m.attachments {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&format!("[{}]", a.name));
    }
    text
}

/// A webhook event for `e`, recorded at `seq` (an update's own seq, not its
/// message's: each event has an id of its own).
fn event(kind: &'static str, seq: u64, event: RoomEvent, timestamp: u64) -> Output {
    Output::Event {
        kind,
        seq,
        timestamp,
        event: Box::new(event),
        part: None,
    }
}

/// What follows a recorded change or notice: the actor's ack, the change
/// for everyone, its webhook event and, now and then, a retention check.
fn recorded(
    member: &Member,
    id: &str,
    seq: u64,
    now: u64,
    frame: String,
    webhook: Output,
) -> Vec<Output> {
    let mut outputs = reply(
        member,
        ServerFrame::Ack {
            id: id.to_owned(),
            seq,
            timestamp: now,
        },
    );
    outputs.extend(to_everyone(member, frame));
    outputs.push(webhook);
    outputs.extend(retention(seq, member));
    outputs
}

/// Past the retention, ask for a trim now and then. seq counts every record
/// ever stored: below the retention there is nothing to trim.
fn retention(seq: u64, member: &Member) -> Option<Output> {
    let keep = member.limits.retention;
    (seq.is_multiple_of(RETENTION_CHECK_EVERY) && seq > keep).then_some(Output::Retain { keep })
}

/// Messages on the first page a joiner gets, in a room of `online` connections.
fn join_page(online: u32) -> usize {
    if online > BIG_ROOM {
        LIVE_JOIN_HISTORY
    } else {
        JOIN_HISTORY
    }
}

fn broadcast(v1: String, legacy: Option<String>) -> Output {
    Output::Broadcast { v1, legacy }
}

/// A v1 frame for everyone, the actor included (legacy clients see new
/// messages only).
fn to_everyone(member: &Member, frame: String) -> Vec<Output> {
    let mut outputs = Vec::with_capacity(2);
    if member.v1 {
        outputs.push(Output::Reply(frame.clone()));
    }
    outputs.push(broadcast(frame, None));
    outputs
}

/// A frame for the member; legacy clients get none (they would show it as a
/// chat message, and they have no acks).
fn reply(member: &Member, frame: ServerFrame) -> Vec<Output> {
    if member.v1 {
        vec![Output::Reply(frame.encode())]
    } else {
        Vec::new()
    }
}

fn reply_error(member: &Member, error: ProtocolError) -> Vec<Output> {
    reply(member, ServerFrame::Error(error))
}

#[cfg(test)]
mod reports_tests;
#[cfg(test)]
mod tests;
