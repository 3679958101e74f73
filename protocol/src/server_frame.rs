//! Frames the server sends: encoded by the worker, parsed by the widget.
//!
//! Legacy connections (the workshop front end) understand only
//! `{name, message, timestamp}`; [`legacy_frame`] builds those.

use crate::client_frame::HistoryAnchor;
use crate::error::{ErrorCode, ProtocolError};
use crate::json::{self, Json, ObjectWriter};
use crate::message::{
    Attachment, ChatMessage, ModerationNotice, Reaction, ReactionChange, ReplyRef, Role, RoomEvent,
    Update,
};
use crate::report::ReportCounts;

/// The most mutes, and the most bans, a moderator's `welcome` lists.
pub const WELCOME_SANCTIONS: usize = 200;

/// A mute or ban in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sanction {
    /// The sender key it applies to (as in messages' `sender`).
    pub sender: String,
    /// Ms since the epoch; `None` for good.
    pub until: Option<u64>,
}

impl Sanction {
    fn json(&self) -> String {
        ObjectWriter::new()
            .str("sender", &self.sender)
            .opt_u64("until", self.until)
            .finish()
    }

    fn parse(j: &Json) -> Option<Sanction> {
        Some(Sanction {
            sender: j.get("sender")?.as_str()?.to_owned(),
            until: j.get("until").and_then(Json::as_u64),
        })
    }
}

/// Someone in the room, as the presence list shows them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PresenceMember {
    pub sender: String,
    pub name: String,
    pub verified: bool,
    pub role: Option<Role>,
    /// Their open connections (tabs, devices).
    pub connections: u32,
}

/// How far a member has read (read receipts).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reader {
    pub sender: String,
    pub name: String,
    pub seq: u64,
}

fn reader_fields(w: ObjectWriter, r: &Reader) -> ObjectWriter {
    w.str("sender", &r.sender)
        .str("name", &r.name)
        .u64("seq", r.seq)
}

fn parse_reader(obj: &Json) -> Option<Reader> {
    Some(Reader {
        sender: obj.get("sender")?.as_str()?.to_owned(),
        name: obj
            .get("name")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_owned(),
        seq: obj.get("seq")?.as_u64()?,
    })
}

/// The first frame on every v1 connection: who the room takes you for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Welcome {
    /// The room's latest seq (0 for an empty room).
    pub seq: u64,
    /// Connections in the room, this one included.
    pub online: u32,
    /// The name the room shows for you (cleaned, or from your token).
    pub name: String,
    pub max_message_chars: usize,
    /// Your opaque sender key, as your messages carry it.
    pub sender: String,
    /// You connected with a signed identity.
    pub verified: bool,
    /// Anonymous connections only: the credential to present when
    /// reconnecting, so the room knows the messages you sent before as
    /// yours (their retries, their ownership). Keep it secret.
    pub sender_key: Option<String>,
    /// Your role (moderators may moderate).
    pub role: Option<Role>,
    /// Who is here (the first 100 senders; `online` counts everyone).
    pub members: Vec<PresenceMember>,
    /// Verified members: the read position the room keeps for you (0: none).
    pub read_seq: u64,
    /// On joining without `since`, with a read position (the `read` you
    /// gave, or the room's for a verified member): the messages from
    /// others after it, not deleted, at most [`crate::unread::MAX_TRACKED`].
    pub unread: Option<u64>,
    /// The room is read-only for everyone but moderators.
    pub locked: bool,
    /// The message a moderator pinned above the list, as it is now.
    pub pinned: Option<ChatMessage>,
    /// The room's clock (ms since the epoch; 0 from older rooms): a client
    /// whose device clock is off judges a mute's end by it.
    pub now: u64,
    /// Slow mode: seconds between two messages of one sender (0 = off).
    pub slow_mode: u64,
    /// You are muted until then (ms since the epoch; `Some(u64::MAX)` = for good).
    pub muted_until: Option<u64>,
    /// Seconds after sending during which an author may edit a message.
    pub edit_window: u64,
    /// The emoji members may react with.
    pub emoji: Vec<String>,
    /// Read receipts are on in this room: report your read position, and
    /// these members have read this far.
    pub receipts: bool,
    pub readers: Vec<Reader>,
    /// The file types the site accepts, as an HTML `accept` list ("": no
    /// attachments); `None` from a server that does not say (any of
    /// [`FILE_TYPES`](crate::limits::FILE_TYPES)). One string, not an array:
    /// the widget hands it to its file picker as it is.
    pub accept: Option<String>,
    /// The largest file the site takes, in bytes; `None` when attachments
    /// are off or the server does not say.
    pub max_file_bytes: Option<u64>,
    /// Moderators only: the messages with open reports (the most recently
    /// reported first, at most [`crate::report::WELCOME_REPORTS`]).
    pub reports: Vec<ReportCounts>,
    /// Moderators only: the mutes and bans in force, soonest to end first
    /// (at most [`WELCOME_SANCTIONS`] of each), so that a moderator's
    /// client can offer to lift them.
    pub muted: Vec<Sanction>,
    pub banned: Vec<Sanction>,
}

/// The site's rules for what members write, as `welcome` gives them:
/// sent again to everyone connected when the site changes one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rules {
    pub max_message_chars: usize,
    /// Seconds after sending during which an author may edit a message.
    pub edit_window: u64,
    /// The emoji members may react with.
    pub emoji: Vec<String>,
    /// The file types the site accepts, as an HTML `accept` list ("": none).
    pub accept: String,
    /// The largest file the site takes, in bytes (`None`: attachments off,
    /// or a server that does not say).
    pub max_file_bytes: Option<u64>,
}

// A frame lives for one parse or one encode: boxing `Welcome` (one per
// connection) would save nothing worth its churn.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum ServerFrame {
    Welcome(Welcome),
    /// A page of the room's events in ascending `seq` order. `anchor` echoes
    /// the request (`None` for the page sent on join). `more` says whether
    /// further events exist beyond this page in the direction asked: older
    /// ones for the join page and `before`, newer ones for `after` (and for
    /// `since` on join). Messages are in their current state; resumes and
    /// `after` pages also carry the updates and moderation notices missed.
    History {
        events: Vec<RoomEvent>,
        more: bool,
        anchor: Option<HistoryAnchor>,
    },
    /// Someone else's message.
    Message(ChatMessage),
    /// A message changed (edit, delete, reactions): its full current state.
    Update(Update),
    /// A moderator acted.
    Moderation(ModerationNotice),
    /// Your message or action was stored with this `seq`.
    Ack {
        id: String,
        seq: u64,
        timestamp: u64,
    },
    /// Someone joined or left; `online` is the new count of connections.
    Presence {
        online: u32,
        joined: Option<String>,
        left: Option<String>,
        member: Option<PresenceMember>,
    },
    /// Someone is typing: `sender`, their key in this room (absent from
    /// older rooms), lets a member's other tabs and devices leave them out.
    Typing {
        name: String,
        sender: Option<String>,
    },
    /// You (a verified member, on another tab or device) have read
    /// everything up to `seq`.
    Read {
        seq: u64,
    },
    /// The ticket for file `file` of your message `id`: `PUT` its bytes to
    /// `url` (a path on the server) before `expires`, then send the message
    /// naming `key`.
    Upload {
        id: String,
        file: u32,
        key: String,
        url: String,
        expires: u64,
    },
    /// Read receipts: `sender` (named `name`) has read up to `seq`.
    Receipt(Reader),
    /// The site changed its rules for what members write.
    Rules(Rules),
    /// The pinned message changed: pinned, unpinned (`None`), edited, or
    /// gone (deleted: `None`).
    Pinned(Option<ChatMessage>),
    /// Moderators only: the open reports on a message now (a new report,
    /// or 0 when they were dismissed).
    Reported(ReportCounts),
    /// Moderators only: every message with open reports, as `welcome`
    /// lists them, replacing what the moderator knew (after an erasure too
    /// large to tell message by message). `reported` with `all: true`.
    ReportedAll(Vec<ReportCounts>),
    /// Yours alone: what the room lets you do changed without a notice
    /// naming you (a mute that follows your address, set or lifted on
    /// another sender key): `mutedUntil` as in `welcome`.
    Standing {
        muted_until: Option<u64>,
    },
    /// A frame was refused; the connection stays open.
    Error(ProtocolError),
}

/// Why a frame from the server could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    NotJson,
    UnknownType,
    /// A required field is missing or of the wrong type.
    Field(&'static str),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::NotJson => f.write_str("frame is not JSON"),
            FrameError::UnknownType => f.write_str("unknown frame type"),
            FrameError::Field(name) => write!(f, "field \"{name}\" is missing or invalid"),
        }
    }
}

impl std::error::Error for FrameError {}

// ----- encoding -----

fn reactions_json(reactions: &[Reaction]) -> String {
    // An object keyed by emoji: {"👍":{"count":2,"mine":true}}.
    let mut w = ObjectWriter::new();
    for r in reactions {
        let mut entry = ObjectWriter::new().u64("count", u64::from(r.count));
        if let Some(mine) = r.mine {
            entry = entry.bool("mine", mine);
        }
        w = w.raw(&r.emoji, &entry.finish());
    }
    w.finish()
}

/// The fields every message carries; the rare ones only when set.
fn message_fields(w: ObjectWriter, m: &ChatMessage) -> ObjectWriter {
    let mut w = w
        .str("id", &m.id)
        .str("name", &m.name)
        .str("message", &m.message)
        .u64("timestamp", m.timestamp)
        .str("sender", &m.sender)
        .bool("verified", m.verified)
        .opt_str("role", m.role.map(Role::as_str))
        .opt_u64("edited", m.edited)
        .flag("deleted", m.deleted);
    if !m.reactions.is_empty() {
        w = w.raw("reactions", &reactions_json(&m.reactions));
    }
    if !m.attachments.is_empty() {
        w = w.raw(
            "attachments",
            &json::array(m.attachments.iter().map(attachment_json)),
        );
    }
    if let Some(r) = &m.reply_to {
        let quote = ObjectWriter::new()
            .u64("seq", r.seq)
            .str("name", &r.name)
            .str("excerpt", &r.excerpt)
            .flag("deleted", r.deleted)
            .str("sender", &r.sender)
            .finish();
        w = w.raw("replyTo", &quote);
    }
    w
}

fn attachment_json(a: &Attachment) -> String {
    ObjectWriter::new()
        .str("key", &a.key)
        .str("name", &a.name)
        .str("mime", &a.mime)
        .u64("size", a.size)
        .opt_u64("width", a.width.map(u64::from))
        .opt_u64("height", a.height.map(u64::from))
        .str("alt", &a.alt)
        .opt_str("url", a.url.as_deref())
        .finish()
}

/// The `message` frame for `m`, encoded from a reference (the room encodes
/// it once per broadcast and still needs the message afterwards).
pub fn message_frame(m: &ChatMessage) -> String {
    message_fields(
        ObjectWriter::new().str("type", "message").u64("seq", m.seq),
        m,
    )
    .finish()
}

fn update_fields(w: ObjectWriter, u: &Update) -> ObjectWriter {
    let mut w = message_fields(w.u64("seq", u.seq).u64("target", u.message.seq), &u.message);
    if let Some(c) = &u.reaction {
        let change = ObjectWriter::new()
            .str("emoji", &c.emoji)
            .bool("on", c.on)
            .str("sender", &c.sender)
            .finish();
        w = w.raw("reaction", &change);
    }
    w
}

fn moderation_fields(w: ObjectWriter, n: &ModerationNotice) -> ObjectWriter {
    w.u64("seq", n.seq)
        .str("action", &n.action)
        .opt_u64("target", n.target)
        .opt_str("sender", n.sender.as_deref())
        .opt_str("name", n.name.as_deref())
        .opt_u64("until", n.until)
        .opt_u64("seconds", n.seconds)
        .str("by", &n.by)
        .opt_str("bySender", n.by_sender.as_deref())
        .opt_str("reason", n.reason.as_deref())
        .u64("timestamp", n.timestamp)
        .flag("erased", n.erased)
}

/// A message as a history page carries it (no `type`).
fn message_object(m: &ChatMessage) -> String {
    message_fields(ObjectWriter::new().u64("seq", m.seq), m).finish()
}

/// One item of a history page: a message as it is, or an update or notice
/// with its `type`.
pub fn encode_event(e: &RoomEvent) -> String {
    match e {
        RoomEvent::Message(m) => message_object(m),
        RoomEvent::Update(u) => {
            update_fields(ObjectWriter::new().str("type", "update"), u).finish()
        }
        RoomEvent::Moderation(n) => {
            moderation_fields(ObjectWriter::new().str("type", "moderation"), n).finish()
        }
    }
}

fn member_json(m: &PresenceMember) -> String {
    ObjectWriter::new()
        .str("sender", &m.sender)
        .str("name", &m.name)
        .bool("verified", m.verified)
        .opt_str("role", m.role.map(Role::as_str))
        .u64("connections", u64::from(m.connections))
        .finish()
}

impl ServerFrame {
    /// Encode as a v1 text frame.
    pub fn encode(&self) -> String {
        match self {
            ServerFrame::Welcome(w) => ObjectWriter::new()
                .str("type", "welcome")
                .u64("seq", w.seq)
                .u64("online", u64::from(w.online))
                .str("name", &w.name)
                .u64("maxMessageChars", w.max_message_chars as u64)
                .str("sender", &w.sender)
                .bool("verified", w.verified)
                .opt_str("senderKey", w.sender_key.as_deref())
                .opt_str("role", w.role.map(Role::as_str))
                .raw("members", &json::array(w.members.iter().map(member_json)))
                .opt_u64("readSeq", Some(w.read_seq).filter(|s| *s > 0))
                .opt_u64("unread", w.unread)
                .opt_u64("now", Some(w.now).filter(|n| *n > 0))
                .bool("locked", w.locked)
                .opt_raw("pinned", w.pinned.as_ref().map(message_object))
                .u64("slowMode", w.slow_mode)
                .opt_u64("mutedUntil", w.muted_until)
                .u64("editWindow", w.edit_window)
                .raw(
                    "emoji",
                    &json::array(w.emoji.iter().map(|e| json_string(e))),
                )
                .flag("receipts", w.receipts)
                .opt_str("accept", w.accept.as_deref())
                .opt_u64("maxFileBytes", w.max_file_bytes)
                .opt_raw(
                    "readers",
                    w.receipts.then(|| {
                        json::array(
                            w.readers
                                .iter()
                                .map(|r| reader_fields(ObjectWriter::new(), r).finish()),
                        )
                    }),
                )
                .opt_raw(
                    "reports",
                    (!w.reports.is_empty()).then(|| {
                        json::array(
                            w.reports
                                .iter()
                                .map(|c| c.fields(ObjectWriter::new()).finish()),
                        )
                    }),
                )
                .opt_raw(
                    "muted",
                    (!w.muted.is_empty()).then(|| json::array(w.muted.iter().map(Sanction::json))),
                )
                .opt_raw(
                    "banned",
                    (!w.banned.is_empty())
                        .then(|| json::array(w.banned.iter().map(Sanction::json))),
                )
                .finish(),
            ServerFrame::History {
                events,
                more,
                anchor,
            } => {
                let w = ObjectWriter::new()
                    .str("type", "history")
                    .raw("messages", &json::array(events.iter().map(encode_event)))
                    .bool("more", *more);
                match anchor {
                    Some(HistoryAnchor::Before(s)) => w.u64("before", *s),
                    Some(HistoryAnchor::After(s)) => w.u64("after", *s),
                    None => w,
                }
                .finish()
            }
            ServerFrame::Message(m) => message_frame(m),
            ServerFrame::Update(u) => {
                update_fields(ObjectWriter::new().str("type", "update"), u).finish()
            }
            ServerFrame::Moderation(n) => {
                moderation_fields(ObjectWriter::new().str("type", "moderation"), n).finish()
            }
            ServerFrame::Ack { id, seq, timestamp } => ObjectWriter::new()
                .str("type", "ack")
                .str("id", id)
                .u64("seq", *seq)
                .u64("timestamp", *timestamp)
                .finish(),
            ServerFrame::Presence {
                online,
                joined,
                left,
                member,
            } => {
                let w = ObjectWriter::new()
                    .str("type", "presence")
                    .u64("online", u64::from(*online))
                    .opt_str("joined", joined.as_deref())
                    .opt_str("left", left.as_deref());
                match member {
                    Some(m) => w.raw("member", &member_json(m)),
                    None => w,
                }
                .finish()
            }
            ServerFrame::Typing { name, sender } => ObjectWriter::new()
                .str("type", "typing")
                .str("name", name)
                .opt_str("sender", sender.as_deref())
                .finish(),
            ServerFrame::Read { seq } => ObjectWriter::new()
                .str("type", "read")
                .u64("seq", *seq)
                .finish(),
            ServerFrame::Receipt(r) => {
                reader_fields(ObjectWriter::new().str("type", "receipt"), r).finish()
            }
            ServerFrame::Upload {
                id,
                file,
                key,
                url,
                expires,
            } => ObjectWriter::new()
                .str("type", "upload")
                .str("id", id)
                .u64("file", u64::from(*file))
                .str("key", key)
                .str("url", url)
                .u64("expires", *expires)
                .finish(),
            ServerFrame::Rules(r) => ObjectWriter::new()
                .str("type", "rules")
                .u64("maxMessageChars", r.max_message_chars as u64)
                .u64("editWindow", r.edit_window)
                .raw(
                    "emoji",
                    &json::array(r.emoji.iter().map(|e| json_string(e))),
                )
                .str("accept", &r.accept)
                .opt_u64("maxFileBytes", r.max_file_bytes)
                .finish(),
            ServerFrame::Pinned(m) => ObjectWriter::new()
                .str("type", "pinned")
                .opt_raw("message", m.as_ref().map(message_object))
                .finish(),
            ServerFrame::Reported(c) => c
                .fields(ObjectWriter::new().str("type", "reported"))
                .finish(),
            ServerFrame::ReportedAll(all) => ObjectWriter::new()
                .str("type", "reported")
                .bool("all", true)
                .raw(
                    "reports",
                    &json::array(all.iter().map(|c| c.fields(ObjectWriter::new()).finish())),
                )
                .finish(),
            ServerFrame::Standing { muted_until } => ObjectWriter::new()
                .str("type", "standing")
                .opt_u64("mutedUntil", *muted_until)
                .finish(),
            ServerFrame::Error(e) => ObjectWriter::new()
                .str("type", "error")
                .str("code", e.code.as_str())
                .str("message", &e.message)
                .opt_str("id", e.id.as_deref())
                .opt_u64("until", e.until)
                .opt_u64("retryAfter", e.retry_after)
                .finish(),
        }
    }

    /// Parse a v1 text message: one frame, or (for a client that connected
    /// with `batch=1`) a JSON array of frames, in order. A frame that does
    /// not parse is left out; the others still count.
    pub fn parse_all(text: &str) -> Vec<ServerFrame> {
        if !text.trim_start().starts_with('[') {
            return ServerFrame::parse(text).into_iter().collect();
        }
        match json::parse(text) {
            Ok(Json::Arr(frames)) => frames
                .iter()
                .filter_map(|f| ServerFrame::from_json(f).ok())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Parse a v1 text frame (the widget's side). Errors name what is wrong.
    pub fn parse(text: &str) -> Result<ServerFrame, FrameError> {
        let obj = json::parse(text).map_err(|_| FrameError::NotJson)?;
        ServerFrame::from_json(&obj)
    }

    fn from_json(obj: &Json) -> Result<ServerFrame, FrameError> {
        let kind = str_field(obj, "type")?;
        Ok(match kind {
            "welcome" => ServerFrame::Welcome(Welcome {
                seq: u64_field(obj, "seq")?,
                online: u32_field(obj, "online")?,
                name: str_field(obj, "name")?.to_owned(),
                max_message_chars: obj
                    .get("maxMessageChars")
                    .and_then(Json::as_u64)
                    .unwrap_or(crate::limits::Limits::default().max_message_chars as u64)
                    as usize,
                sender: opt_str(obj, "sender"),
                verified: flag(obj, "verified"),
                sender_key: obj
                    .get("senderKey")
                    .and_then(Json::as_str)
                    .map(str::to_owned),
                role: role(obj),
                members: list(obj, "members")
                    .iter()
                    .filter_map(|m| parse_member(m).ok())
                    .collect(),
                read_seq: obj.get("readSeq").and_then(Json::as_u64).unwrap_or(0),
                unread: obj.get("unread").and_then(Json::as_u64),
                locked: flag(obj, "locked"),
                now: obj.get("now").and_then(Json::as_u64).unwrap_or(0),
                pinned: pinned(obj, "pinned"),
                slow_mode: obj.get("slowMode").and_then(Json::as_u64).unwrap_or(0),
                muted_until: obj.get("mutedUntil").and_then(Json::as_u64),
                edit_window: obj.get("editWindow").and_then(Json::as_u64).unwrap_or(0),
                emoji: list(obj, "emoji")
                    .iter()
                    .filter_map(|e| e.as_str().map(str::to_owned))
                    .collect(),
                receipts: flag(obj, "receipts"),
                readers: list(obj, "readers")
                    .iter()
                    .filter_map(parse_reader)
                    .collect(),
                accept: obj.get("accept").and_then(Json::as_str).map(str::to_owned),
                max_file_bytes: obj.get("maxFileBytes").and_then(Json::as_u64),
                reports: list(obj, "reports")
                    .iter()
                    .filter_map(ReportCounts::parse)
                    .collect(),
                muted: list(obj, "muted")
                    .iter()
                    .filter_map(Sanction::parse)
                    .collect(),
                banned: list(obj, "banned")
                    .iter()
                    .filter_map(Sanction::parse)
                    .collect(),
            }),
            "history" => {
                let items = obj
                    .get("messages")
                    .and_then(Json::as_array)
                    .ok_or(FrameError::Field("messages"))?;
                let events = items
                    .iter()
                    .map(parse_event)
                    .collect::<Result<Vec<_>, _>>()?;
                let anchor = match (
                    obj.get("before").and_then(Json::as_u64),
                    obj.get("after").and_then(Json::as_u64),
                ) {
                    (Some(b), _) => Some(HistoryAnchor::Before(b)),
                    (None, Some(a)) => Some(HistoryAnchor::After(a)),
                    _ => None,
                };
                ServerFrame::History {
                    events,
                    more: flag(obj, "more"),
                    anchor,
                }
            }
            "message" => ServerFrame::Message(parse_message(obj, "seq")?),
            "update" => ServerFrame::Update(parse_update(obj)?),
            "moderation" => ServerFrame::Moderation(parse_moderation(obj)?),
            "ack" => ServerFrame::Ack {
                id: str_field(obj, "id")?.to_owned(),
                seq: u64_field(obj, "seq")?,
                timestamp: u64_field(obj, "timestamp")?,
            },
            "presence" => ServerFrame::Presence {
                online: u32_field(obj, "online")?,
                joined: obj.get("joined").and_then(Json::as_str).map(str::to_owned),
                left: obj.get("left").and_then(Json::as_str).map(str::to_owned),
                member: obj.get("member").and_then(|m| parse_member(m).ok()),
            },
            "typing" => ServerFrame::Typing {
                name: str_field(obj, "name")?.to_owned(),
                sender: obj.get("sender").and_then(Json::as_str).map(str::to_owned),
            },
            "read" => ServerFrame::Read {
                seq: u64_field(obj, "seq")?,
            },
            "receipt" => ServerFrame::Receipt(parse_reader(obj).ok_or(FrameError::Field("seq"))?),
            "pinned" => ServerFrame::Pinned(pinned(obj, "message")),
            "reported" if flag(obj, "all") => ServerFrame::ReportedAll(
                list(obj, "reports")
                    .iter()
                    .filter_map(ReportCounts::parse)
                    .collect(),
            ),
            "reported" => {
                ServerFrame::Reported(ReportCounts::parse(obj).ok_or(FrameError::Field("target"))?)
            }
            "rules" => ServerFrame::Rules(Rules {
                max_message_chars: u64_field(obj, "maxMessageChars")? as usize,
                edit_window: u64_field(obj, "editWindow")?,
                emoji: list(obj, "emoji")
                    .iter()
                    .filter_map(|e| e.as_str().map(str::to_owned))
                    .collect(),
                accept: str_field(obj, "accept")?.to_owned(),
                max_file_bytes: obj.get("maxFileBytes").and_then(Json::as_u64),
            }),
            "standing" => ServerFrame::Standing {
                muted_until: obj.get("mutedUntil").and_then(Json::as_u64),
            },
            "upload" => ServerFrame::Upload {
                id: str_field(obj, "id")?.to_owned(),
                file: u32_field(obj, "file")?,
                key: str_field(obj, "key")?.to_owned(),
                url: str_field(obj, "url")?.to_owned(),
                expires: u64_field(obj, "expires")?,
            },
            "error" => {
                let code = str_field(obj, "code")?;
                ServerFrame::Error(ProtocolError {
                    code: ErrorCode::parse(code).unwrap_or(ErrorCode::Internal),
                    message: obj
                        .get("message")
                        .and_then(Json::as_str)
                        .unwrap_or(code)
                        .to_owned(),
                    id: obj.get("id").and_then(Json::as_str).map(str::to_owned),
                    until: obj.get("until").and_then(Json::as_u64),
                    retry_after: obj.get("retryAfter").and_then(Json::as_u64),
                })
            }
            _ => return Err(FrameError::UnknownType),
        })
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::new();
    json::write_str(&mut out, s);
    out
}

// ----- parsing helpers -----

fn str_field<'a>(obj: &'a Json, key: &'static str) -> Result<&'a str, FrameError> {
    obj.get(key)
        .and_then(Json::as_str)
        .ok_or(FrameError::Field(key))
}

fn u64_field(obj: &Json, key: &'static str) -> Result<u64, FrameError> {
    obj.get(key)
        .and_then(Json::as_u64)
        .ok_or(FrameError::Field(key))
}

fn u32_field(obj: &Json, key: &'static str) -> Result<u32, FrameError> {
    Ok(u64_field(obj, key)?.min(u64::from(u32::MAX)) as u32)
}

/// An optional string field ("" when absent: older servers sent no `sender`).
fn opt_str(obj: &Json, key: &str) -> String {
    obj.get(key)
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn flag(obj: &Json, key: &str) -> bool {
    obj.get(key).and_then(Json::as_bool).unwrap_or(false)
}

fn list<'a>(obj: &'a Json, key: &str) -> &'a [Json] {
    obj.get(key).and_then(Json::as_array).unwrap_or_default()
}

fn role(obj: &Json) -> Option<Role> {
    obj.get("role").and_then(Json::as_str).and_then(Role::parse)
}

fn parse_member(obj: &Json) -> Result<PresenceMember, FrameError> {
    Ok(PresenceMember {
        sender: str_field(obj, "sender")?.to_owned(),
        name: str_field(obj, "name")?.to_owned(),
        verified: flag(obj, "verified"),
        role: role(obj),
        connections: obj
            .get("connections")
            .and_then(Json::as_u64)
            .unwrap_or(1)
            .min(u64::from(u32::MAX)) as u32,
    })
}

/// The pinned message under `key`, if any (one that cannot be read is none).
fn pinned(obj: &Json, key: &str) -> Option<ChatMessage> {
    obj.get(key).and_then(|m| parse_message(m, "seq").ok())
}

/// A message object; its own seq is under `seq_key` (`target` in updates).
fn parse_message(obj: &Json, seq_key: &'static str) -> Result<ChatMessage, FrameError> {
    let reactions = match obj.get("reactions") {
        Some(Json::Obj(fields)) => fields
            .iter()
            .map(|(emoji, r)| Reaction {
                emoji: emoji.clone(),
                count: r
                    .get("count")
                    .and_then(Json::as_u64)
                    .unwrap_or(0)
                    .min(u64::from(u32::MAX)) as u32,
                mine: r.get("mine").and_then(Json::as_bool),
            })
            .collect(),
        _ => Vec::new(),
    };
    let reply_to = obj.get("replyTo").and_then(|r| {
        Some(ReplyRef {
            seq: r.get("seq")?.as_u64()?,
            name: opt_str(r, "name"),
            excerpt: opt_str(r, "excerpt"),
            deleted: flag(r, "deleted"),
            sender: opt_str(r, "sender"),
        })
    });
    Ok(ChatMessage {
        seq: u64_field(obj, seq_key)?,
        id: str_field(obj, "id")?.to_owned(),
        name: str_field(obj, "name")?.to_owned(),
        message: str_field(obj, "message")?.to_owned(),
        timestamp: u64_field(obj, "timestamp")?,
        sender: opt_str(obj, "sender"),
        verified: flag(obj, "verified"),
        role: role(obj),
        edited: obj.get("edited").and_then(Json::as_u64),
        deleted: flag(obj, "deleted"),
        reactions,
        reply_to,
        attachments: list(obj, "attachments")
            .iter()
            .filter_map(parse_attachment)
            .collect(),
    })
}

fn parse_attachment(a: &Json) -> Option<Attachment> {
    let text = |key| a.get(key).and_then(Json::as_str).map(str::to_owned);
    let pixels = |key| {
        a.get(key)
            .and_then(Json::as_u64)
            .and_then(|n| u32::try_from(n).ok())
    };
    Some(Attachment {
        key: text("key")?,
        name: text("name").unwrap_or_default(),
        mime: text("mime").unwrap_or_default(),
        size: a.get("size").and_then(Json::as_u64).unwrap_or(0),
        width: pixels("width"),
        height: pixels("height"),
        alt: text("alt").unwrap_or_default(),
        url: text("url"),
    })
}

fn parse_update(obj: &Json) -> Result<Update, FrameError> {
    let reaction = obj.get("reaction").and_then(|c| {
        Some(ReactionChange {
            emoji: c.get("emoji")?.as_str()?.to_owned(),
            on: c.get("on")?.as_bool()?,
            sender: c.get("sender")?.as_str()?.to_owned(),
        })
    });
    Ok(Update {
        seq: u64_field(obj, "seq")?,
        message: parse_message(obj, "target")?,
        reaction,
    })
}

fn parse_moderation(obj: &Json) -> Result<ModerationNotice, FrameError> {
    let text = |key| obj.get(key).and_then(Json::as_str).map(str::to_owned);
    Ok(ModerationNotice {
        seq: u64_field(obj, "seq")?,
        action: str_field(obj, "action")?.to_owned(),
        target: obj.get("target").and_then(Json::as_u64),
        sender: text("sender"),
        name: text("name"),
        until: obj.get("until").and_then(Json::as_u64),
        seconds: obj.get("seconds").and_then(Json::as_u64),
        by: opt_str(obj, "by"),
        by_sender: text("bySender"),
        reason: text("reason"),
        timestamp: obj.get("timestamp").and_then(Json::as_u64).unwrap_or(0),
        erased: obj.get("erased").and_then(Json::as_bool).unwrap_or(false),
    })
}

/// An item of a history page (see [`encode_event`]).
fn parse_event(obj: &Json) -> Result<RoomEvent, FrameError> {
    Ok(match obj.get("type").and_then(Json::as_str) {
        Some("update") => RoomEvent::Update(parse_update(obj)?),
        Some("moderation") => RoomEvent::Moderation(parse_moderation(obj)?),
        _ => RoomEvent::Message(parse_message(obj, "seq")?),
    })
}

/// A frame for legacy (workshop) clients, which show every frame as
/// `{name, message, timestamp}`.
pub fn legacy_frame(name: &str, message: &str, timestamp: u64) -> String {
    ObjectWriter::new()
        .str("name", name)
        .str("message", message)
        .u64("timestamp", timestamp)
        .finish()
}

#[cfg(test)]
mod tests;
