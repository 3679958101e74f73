//! The room's rules, as a state machine with no I/O: the server-side twin of
//! [`crate::session::Session`].
//!
//! A [`RoomCore`] decides who may join, what a frame does, what is stored and
//! what is sent to whom; the Room Durable Object (`worker/src/room/`) only
//! carries that out. It is driven in this order:
//!
//! 1. [`RoomCore::join`] when a connection arrives: either a refusal (an
//!    error frame and a close code) or the [`Member`] to keep in the socket's
//!    attachment, with the frames for the newcomer and the others;
//! 2. [`RoomCore::handle_frame`] for every text frame from a member;
//! 3. [`RoomCore::leave`] when a member's socket closes.
//!
//! Each returns the [`Output`]s to carry out, in order. Storage is reached
//! through the [`Store`] trait, synchronously; time, randomness and the
//! counts of connected sockets are passed in. The rules, in one place:
//!
//! - dedupe is exact on `(author, client id)`: a retry is answered with its
//!   own original seq; the same id with another text is `id_conflict`;
//! - authors are a verified `sub`, or an anonymous sender key the room issued
//!   (see [`sender_key`]): no member can act under another's scope;
//! - limits survive reconnecting: anonymous senders share a bucket per
//!   address, joins are throttled per address, `history` and typing cost
//!   tokens too ([`throttle`]).

pub mod member;
pub mod output;
pub mod sender_key;
pub mod store;
pub mod throttle;

use crate::client_frame::{ClientFrame, Dialect, HistoryAnchor};
use crate::error::{close_code, ErrorCode, ProtocolError};
use crate::limits::{ANONYMOUS, JOIN_HISTORY, MAX_FRAME_BYTES, RESUME_HISTORY};
use crate::message::ChatMessage;
use crate::server_frame::{legacy_frame, message_frame, ServerFrame, Welcome};
use crate::validate::{clean_name, message_text};

pub use self::member::{JoinRequest, Member, VerifiedUser};
pub use self::output::Output;
pub use self::sender_key::RoomKey;
pub use self::store::{MemoryStore, Page, PageQuery, Store, StoreError, StoredMessage};
use self::throttle::Throttles;

/// Retention is checked every this many messages (not on every send).
pub const RETENTION_CHECK_EVERY: u64 = 100;

/// What the adapter knows about the room's sockets right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sockets {
    /// Connections in the room, not counting the one joining or leaving.
    pub online: u32,
    /// Of those, connections from the joining client's address.
    pub from_address: u32,
    /// Whether any legacy (workshop front end) connection is present: only
    /// then are legacy frames worth encoding.
    pub legacy: bool,
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

pub struct RoomCore {
    key: RoomKey,
    throttles: Throttles,
}

impl RoomCore {
    pub fn new(key: RoomKey) -> Self {
        RoomCore {
            key,
            throttles: Throttles::default(),
        }
    }

    // ----- joining and leaving -----

    pub fn join(
        &mut self,
        req: JoinRequest,
        sockets: Sockets,
        now: u64,
        store: &mut impl Store,
    ) -> Result<Joined, StoreError> {
        let limits = req.limits;
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
        if req.address.is_some() && sockets.from_address >= limits.max_connections_per_address {
            return refuse(
                close_code::TRY_AGAIN_LATER,
                ErrorCode::TooManyConnections,
                "too many connections from your address",
            );
        }

        let (author, name, credential) = match &req.user {
            Some(user) => (
                format!("u:{}", user.sub),
                clean_name(user.name.as_deref().unwrap_or(ANONYMOUS)),
                None,
            ),
            None => {
                let presented = req.sender_key.as_deref().and_then(|k| self.key.verify(k));
                let (author, credential) = match (presented, req.sender_key) {
                    (Some(author), Some(credential)) => (author, credential),
                    _ => self.key.issue(req.entropy),
                };
                (author, req.name, Some(credential))
            }
        };
        let member = Member {
            sender: self.key.sender(&author),
            author,
            name,
            verified: req.user.is_some(),
            v1: req.dialect == Dialect::V1,
            address: req.address,
            limits,
        };

        let mut outputs = Vec::new();
        let online = sockets.online + 1;
        if member.v1 {
            let welcome = Welcome {
                seq: store.latest_seq()?,
                online,
                name: member.name.clone(),
                max_message_chars: limits.max_message_chars,
                sender: member.sender.clone(),
                verified: member.verified,
                // Only anonymous members need it; legacy clients would not keep it.
                sender_key: credential,
            };
            outputs.push(Output::Reply(ServerFrame::Welcome(welcome).encode()));
            let (page, anchor) = match req.since {
                Some(since) => (
                    store.page(PageQuery::After(since, RESUME_HISTORY))?,
                    Some(HistoryAnchor::After(since)),
                ),
                None => (store.page(PageQuery::Latest(JOIN_HISTORY))?, None),
            };
            outputs.push(Output::Reply(
                ServerFrame::History {
                    messages: page.messages,
                    more: page.more,
                    anchor,
                }
                .encode(),
            ));
        } else {
            // The workshop front end shows each frame as one message.
            for m in store.page(PageQuery::Latest(JOIN_HISTORY))?.messages {
                outputs.push(Output::Reply(legacy_frame(
                    &m.name,
                    &m.message,
                    m.timestamp,
                )));
            }
        }
        let presence = ServerFrame::Presence {
            online,
            joined: Some(member.name.clone()),
            left: None,
        };
        outputs.push(broadcast(
            presence.encode(),
            sockets
                .legacy
                .then(|| legacy_frame(&member.name, "joined the chat", now)),
        ));
        Ok(Joined::Accepted { member, outputs })
    }

    /// `member`'s socket closed; `sockets.online` no longer counts it.
    pub fn leave(&mut self, member: &Member, sockets: Sockets, now: u64) -> Vec<Output> {
        let presence = ServerFrame::Presence {
            online: sockets.online,
            joined: None,
            left: Some(member.name.clone()),
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
    ) -> Result<Vec<Output>, StoreError> {
        if text.len() > MAX_FRAME_BYTES {
            return Ok(vec![Output::Close {
                code: close_code::TOO_BIG,
                reason: "frame too large".into(),
            }]);
        }
        let frame = match ClientFrame::parse(text, member.dialect()) {
            Ok(frame) => frame,
            Err(e) => return Ok(reply_error(member, e)),
        };
        match frame {
            ClientFrame::Send { id, message } => {
                self.on_send(member, id, &message, sockets, now, store)
            }
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
                let Page { messages, more } = store.page(query)?;
                Ok(vec![Output::Reply(
                    ServerFrame::History {
                        messages,
                        more,
                        anchor: Some(anchor),
                    }
                    .encode(),
                )])
            }
            ClientFrame::Typing => {
                if !self.throttles.take_typing(member, now) {
                    return Ok(Vec::new());
                }
                Ok(vec![broadcast(
                    ServerFrame::Typing {
                        name: member.name.clone(),
                    }
                    .encode(),
                    None,
                )])
            }
        }
    }

    /// A `send`, in the order the checks run.
    fn on_send(
        &mut self,
        member: &Member,
        id: Option<String>,
        raw: &str,
        sockets: Sockets,
        now: u64,
        store: &mut impl Store,
    ) -> Result<Vec<Output>, StoreError> {
        // 1. The text must pass the site's rules.
        let text = match message_text(raw, member.limits.max_message_chars) {
            Ok(text) => text,
            Err(e) => return Ok(reply_error(member, e.with_id(id.as_deref()))),
        };
        // 2. A retry of a message this author already stored is answered with
        //    its own seq, free of charge; the same id for another text is an error.
        if let Some(id) = &id {
            if let Some(original) = store.find(&member.author, id)? {
                if original.message.message != text {
                    let e = ProtocolError::new(
                        ErrorCode::IdConflict,
                        "this id was already used for another message",
                    );
                    return Ok(reply_error(member, e.with_id(Some(id))));
                }
                let m = original.message;
                return Ok(reply(
                    member,
                    ServerFrame::Ack {
                        id: id.clone(),
                        seq: m.seq,
                        timestamp: m.timestamp,
                    },
                ));
            }
        }
        // 3. Rate limits (the sender's, and an anonymous sender's address).
        if !self.throttles.take_message(member, now) {
            let e = ProtocolError::new(ErrorCode::RateLimited, "sending too fast; wait a moment");
            return Ok(reply_error(member, e.with_id(id.as_deref())));
        }
        // 4. Store it with the next seq.
        let seq = store.latest_seq()? + 1;
        let message = ChatMessage {
            seq,
            id: id.clone().unwrap_or_else(|| format!("srv-{seq}")),
            name: member.name.clone(),
            message: text,
            timestamp: now,
            sender: member.sender.clone(),
            verified: member.verified,
        };
        let stored = StoredMessage {
            message,
            author: member.author.clone(),
            client_id: id,
        };
        store.append(&stored)?;
        // 5. Ack the sender, tell everyone else.
        let m = &stored.message;
        let mut outputs = reply(
            member,
            ServerFrame::Ack {
                id: m.id.clone(),
                seq,
                timestamp: now,
            },
        );
        outputs.push(broadcast(
            message_frame(m),
            sockets
                .legacy
                .then(|| legacy_frame(&m.name, &m.message, m.timestamp)),
        ));
        // 6. Past the retention, ask for a trim now and then. seq counts every
        //    message ever stored: below the retention there is nothing to trim.
        let keep = member.limits.retention;
        if seq % RETENTION_CHECK_EVERY == 0 && seq > keep {
            outputs.push(Output::Retain { keep });
        }
        Ok(outputs)
    }
}

fn broadcast(v1: String, legacy: Option<String>) -> Output {
    Output::Broadcast { v1, legacy }
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
mod tests;
