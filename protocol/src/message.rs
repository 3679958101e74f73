//! A chat message as it travels to clients, in its current state, and the
//! other events of a room's one sequence: changes to a message and
//! moderation notices. Every event has its own `seq`, so resuming with
//! `since` and paging carry changes exactly like messages.

use crate::text::{first_chars, join};
use serde::{Deserialize, Serialize};

/// What a sender is in the room, besides a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A verified user whose token carries `"role":"moderator"`.
    Moderator,
    /// Posted by the site's server (the site API).
    Bot,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Moderator => "moderator",
            Role::Bot => "bot",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "moderator" => Some(Role::Moderator),
            "bot" => Some(Role::Bot),
            _ => None,
        }
    }
}

/// One emoji's reactions on a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    pub count: u32,
    /// Whether the member receiving the frame reacted with it. Known in
    /// answers to one member (history, resume); live `update` frames go to
    /// everyone alike and leave it out (their `reaction` says who changed what).
    pub mine: Option<bool>,
}

/// The message a reply answers: enough to show a quote without fetching it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReplyRef {
    pub seq: u64,
    pub name: String,
    /// The start of its text (empty once it is deleted).
    pub excerpt: String,
    pub deleted: bool,
    /// Its author's sender key: a purge or an erasure blanks quotes of
    /// their messages even where the original is not shown.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sender: String,
}

/// Characters of a replied-to message shown in the quote.
pub const EXCERPT_CHARS: usize = 100;

impl ReplyRef {
    /// The quote of `m` as it is now: clients redraw quotes with it when
    /// `m` is edited, deleted or its author erased.
    pub fn quoting(m: &ChatMessage) -> ReplyRef {
        ReplyRef {
            seq: m.seq,
            name: m.name.clone(),
            excerpt: if m.deleted {
                String::new()
            } else if m.message.is_empty() {
                // A message of files only is quoted by their names.
                let names: Vec<&str> = m.attachments.iter().map(|a| a.name.as_str()).collect();
                first_chars(&join(&names, ", "), EXCERPT_CHARS).to_owned()
            } else {
                first_chars(&m.message, EXCERPT_CHARS).to_owned()
            },
            deleted: m.deleted,
            sender: m.sender.clone(),
        }
    }
}

/// A file attached to a message. The bytes live in object storage under
/// `key`; clients fetch them from `url`, signed and expiring, which the room
/// fills in whenever it sends the message (never stored).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    pub key: String,
    /// The file's name as the sender picked it (cleaned).
    pub name: String,
    /// Its type, as sniffed from its first bytes when it was uploaded.
    pub mime: String,
    /// Its size in bytes.
    pub size: u64,
    /// Images: their size in pixels, as the sender measured it, so a
    /// thumbnail's space is reserved before it loads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Alternative text (from the file name, editable before sending).
    #[serde(default)]
    pub alt: String,
    /// Where to fetch it (a path on the server, signed, valid for hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Attachment {
    pub fn is_image(&self) -> bool {
        self.mime.starts_with("image/")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Position in the room, assigned by the room: 1, 2, 3, ... never reused.
    pub seq: u64,
    /// The sender's client-generated id (or one the server made).
    pub id: String,
    pub name: String,
    /// The current text; empty once deleted.
    pub message: String,
    /// Milliseconds since the Unix epoch, set by the server.
    pub timestamp: u64,
    /// The sender's opaque key: the same for every message of one sender in
    /// this room, unrelated to their identity, and impossible for anyone else
    /// to post under. Clients tell their own messages by it, never by name.
    pub sender: String,
    /// Sent under a signed identity (a site's token), not anonymously.
    pub verified: bool,
    /// The sender's role, if any.
    pub role: Option<Role>,
    /// When it was last edited.
    pub edited: Option<u64>,
    /// Deleted by its author or a moderator: a tombstone.
    pub deleted: bool,
    pub reactions: Vec<Reaction>,
    pub reply_to: Option<ReplyRef>,
    /// Files sent with it (emptied when it is deleted).
    pub attachments: Vec<Attachment>,
}

/// What changed in a live `update` about reactions, so each client can keep
/// its own `mine` without a frame per member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionChange {
    pub emoji: String,
    pub on: bool,
    /// Who reacted (their sender key).
    pub sender: String,
}

/// A change to a message: its full current state, at a seq of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// The event's own seq.
    pub seq: u64,
    /// The message's current state (`message.seq` is the target).
    pub message: ChatMessage,
    pub reaction: Option<ReactionChange>,
}

/// A moderator's (or the site's) action, as the room announces it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ModerationNotice {
    pub seq: u64,
    /// `delete`, `mute`, `unmute`, `ban`, `unban`, `purge`, `slow`, `lock`, `unlock`.
    pub action: String,
    /// The message concerned (`delete`).
    pub target: Option<u64>,
    /// The sender concerned (`mute`, `ban`, `purge` and their undoing).
    pub sender: Option<String>,
    /// That sender's display name, when known.
    pub name: Option<String>,
    /// Until when a mute or ban lasts (ms since the epoch); absent = for good.
    pub until: Option<u64>,
    /// Slow mode's interval in seconds (0 = off).
    pub seconds: Option<u64>,
    /// The moderator's display name.
    pub by: String,
    /// The moderator's sender key (notices since 2026-11-30), so that a
    /// client can forget their name when they are erased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_sender: Option<String>,
    pub reason: Option<String>,
    pub timestamp: u64,
    /// A `purge` that erased the user `sender` at their request (GDPR):
    /// clients forget their name wherever they show it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub erased: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One item of a room's sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomEvent {
    Message(ChatMessage),
    Update(Update),
    Moderation(ModerationNotice),
}

impl RoomEvent {
    pub fn seq(&self) -> u64 {
        match self {
            RoomEvent::Message(m) => m.seq,
            RoomEvent::Update(u) => u.seq,
            RoomEvent::Moderation(n) => n.seq,
        }
    }
}
