//! What the room core asks its adapter to do.

use crate::message::RoomEvent;

/// One thing to carry out, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send this frame to the connection concerned (already encoded for its
    /// dialect).
    Reply(String),
    /// Send this frame to every moderator's (v1) connection, the one
    /// concerned included: reports, which no one else may see.
    ToModerators(String),
    /// Send to every other connection: `v1` to protocol v1 sockets and
    /// `legacy`, when there is one, to the workshop front end's sockets.
    Broadcast { v1: String, legacy: Option<String> },
    /// Close the connection concerned with this code and reason.
    Close { code: u16, reason: String },
    /// Send `frame` to every connection of `sender`, then close them with
    /// `code` (a ban).
    CloseSender {
        sender: String,
        frame: String,
        code: u16,
        reason: String,
    },
    /// Send `frame` to every other (v1) connection of `sender`: a verified
    /// member's other tabs and devices, an anonymous member's `standing`.
    ToSender { sender: String, frame: String },
    /// History has grown past the retention: trim it to `keep` records
    /// soon (the Durable Object does it from an alarm, off the send path).
    Retain { keep: u64 },
    /// Save this (JSON) and hand it back to `RoomCore::new` after a restart:
    /// the room's moderation state and policy changed.
    SaveState(String),
    /// Something the site's webhooks may want: `kind` is `message.created`,
    /// `message.updated`, `message.deleted` or `moderation`; `event` the
    /// message (current state) or notice. Left unencoded: most rooms have
    /// no webhook, and the adapter encodes it (`encode_event`) only for one.
    Event {
        kind: &'static str,
        seq: u64,
        timestamp: u64,
        event: Box<RoomEvent>,
        /// One of several events recorded under `seq`: a purge's or an
        /// erasure's `message.deleted`, one per message (`part` is its seq),
        /// before the notice. The webhook's delivery id tells them apart.
        part: Option<u64>,
    },
    /// A webhook event that is not one record of the room's history
    /// (`report`, `storage.full`), for the site's webhooks if they want it:
    /// `data` encoded already (such events are rare), `seq` the room's
    /// latest seq when it happened (they have none of their own), `name`
    /// what names the delivery within the room's life (`report.<id>`,
    /// `storage.<time>`).
    SiteEvent {
        kind: &'static str,
        name: String,
        seq: u64,
        timestamp: u64,
        data: String,
    },
    /// Delete these objects from file storage, then `forget_uploads` them
    /// (their messages were deleted, or they were never sent).
    DeleteObjects(Vec<String>),
    /// An upload ticket was issued: sweep abandoned uploads at this time.
    SweepAt(u64),
    /// An upload ticket was issued, or refused for the site's storage,
    /// judged by what the site's other rooms held as last heard: tell the
    /// site's room list what this room holds ([`Store::file_bytes`](super::Store::file_bytes))
    /// and pass its answer to [`RoomCore::set_files_elsewhere`](super::RoomCore::set_files_elsewhere),
    /// so that the next ticket, the claim, or a retry is judged by the news. (The adapter tells it too
    /// whenever the room's files go, and reserves each upload's bytes in
    /// the site's count before it is stored: [`RoomCore::commit_storage`](super::RoomCore::commit_storage).)
    TellFileBytes,
}
