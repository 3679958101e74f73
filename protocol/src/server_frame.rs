//! Frames the server sends: encoded by the worker, parsed by the widget.
//!
//! Legacy connections (the workshop front end) understand only
//! `{name, message, timestamp}`; [`legacy_frame`] builds those.

use crate::client_frame::HistoryAnchor;
use crate::error::{ErrorCode, ProtocolError};
use crate::json::{self, Json, ObjectWriter};
use crate::message::ChatMessage;

/// The first frame on every v1 connection: who the room takes you for.
#[derive(Debug, Clone, PartialEq)]
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
}

#[derive(Debug, Clone, PartialEq)]
pub enum ServerFrame {
    Welcome(Welcome),
    /// A page of messages in ascending `seq` order. `anchor` echoes the request
    /// (`None` for the page sent on join). `more` says whether further messages
    /// exist beyond this page in the direction asked: older ones for the join
    /// page and `before`, newer ones for `after` (and for `since` on join).
    History {
        messages: Vec<ChatMessage>,
        more: bool,
        anchor: Option<HistoryAnchor>,
    },
    /// Someone else's message.
    Message(ChatMessage),
    /// Your message was stored with this `seq`.
    Ack {
        id: String,
        seq: u64,
        timestamp: u64,
    },
    /// Someone joined or left; `online` is the new count.
    Presence {
        online: u32,
        joined: Option<String>,
        left: Option<String>,
    },
    /// Someone is typing.
    Typing {
        name: String,
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

fn message_fields(w: ObjectWriter, m: &ChatMessage) -> ObjectWriter {
    w.u64("seq", m.seq)
        .str("id", &m.id)
        .str("name", &m.name)
        .str("message", &m.message)
        .u64("timestamp", m.timestamp)
        .str("sender", &m.sender)
        .bool("verified", m.verified)
}

/// The `message` frame for `m`, encoded from a reference (the room encodes
/// it once per broadcast and still needs the message afterwards).
pub fn message_frame(m: &ChatMessage) -> String {
    message_fields(ObjectWriter::new().str("type", "message"), m).finish()
}

/// A message as a JSON object (one element of a history page).
pub fn encode_message(m: &ChatMessage) -> String {
    message_fields(ObjectWriter::new(), m).finish()
}

impl ServerFrame {
    /// Encode as a v1 text frame.
    pub fn encode(&self) -> String {
        match self {
            ServerFrame::Welcome(w) => {
                let out = ObjectWriter::new()
                    .str("type", "welcome")
                    .u64("seq", w.seq)
                    .u64("online", u64::from(w.online))
                    .str("name", &w.name)
                    .u64("maxMessageChars", w.max_message_chars as u64)
                    .str("sender", &w.sender)
                    .bool("verified", w.verified);
                match &w.sender_key {
                    Some(key) => out.str("senderKey", key),
                    None => out,
                }
                .finish()
            }
            ServerFrame::History {
                messages,
                more,
                anchor,
            } => {
                let mut list = String::from("[");
                for (i, m) in messages.iter().enumerate() {
                    if i > 0 {
                        list.push(',');
                    }
                    list.push_str(&encode_message(m));
                }
                list.push(']');
                let w = ObjectWriter::new()
                    .str("type", "history")
                    .raw("messages", &list)
                    .bool("more", *more);
                match anchor {
                    Some(HistoryAnchor::Before(s)) => w.u64("before", *s),
                    Some(HistoryAnchor::After(s)) => w.u64("after", *s),
                    None => w,
                }
                .finish()
            }
            ServerFrame::Message(m) => message_frame(m),
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
            } => {
                let mut w = ObjectWriter::new()
                    .str("type", "presence")
                    .u64("online", u64::from(*online));
                if let Some(n) = joined {
                    w = w.str("joined", n);
                }
                if let Some(n) = left {
                    w = w.str("left", n);
                }
                w.finish()
            }
            ServerFrame::Typing { name } => ObjectWriter::new()
                .str("type", "typing")
                .str("name", name)
                .finish(),
            ServerFrame::Error(e) => {
                let w = ObjectWriter::new()
                    .str("type", "error")
                    .str("code", e.code.as_str())
                    .str("message", &e.message);
                match &e.id {
                    Some(id) => w.str("id", id),
                    None => w,
                }
                .finish()
            }
        }
    }

    /// Parse a v1 text frame (the widget's side). Errors name what is wrong.
    pub fn parse(text: &str) -> Result<ServerFrame, FrameError> {
        let obj = json::parse(text).map_err(|_| FrameError::NotJson)?;
        let kind = str_field(&obj, "type")?;
        Ok(match kind {
            "welcome" => ServerFrame::Welcome(Welcome {
                seq: u64_field(&obj, "seq")?,
                online: u64_field(&obj, "online")?.min(u64::from(u32::MAX)) as u32,
                name: str_field(&obj, "name")?.to_owned(),
                max_message_chars: obj
                    .get("maxMessageChars")
                    .and_then(Json::as_u64)
                    .unwrap_or(crate::limits::Limits::default().max_message_chars as u64)
                    as usize,
                sender: opt_str(&obj, "sender"),
                verified: obj.get("verified").and_then(Json::as_bool).unwrap_or(false),
                sender_key: obj
                    .get("senderKey")
                    .and_then(Json::as_str)
                    .map(str::to_owned),
            }),
            "history" => {
                let list = obj
                    .get("messages")
                    .and_then(Json::as_array)
                    .ok_or(FrameError::Field("messages"))?;
                let messages = list
                    .iter()
                    .map(parse_message)
                    .collect::<Result<Vec<_>, _>>()?;
                let anchor = match (
                    obj.get("before").and_then(Json::as_u64),
                    obj.get("after").and_then(Json::as_u64),
                ) {
                    (Some(b), _) => Some(HistoryAnchor::Before(b)),
                    (None, Some(a)) => Some(HistoryAnchor::After(a)),
                    _ => None,
                };
                let more = obj.get("more").and_then(Json::as_bool).unwrap_or(false);
                ServerFrame::History {
                    messages,
                    more,
                    anchor,
                }
            }
            "message" => ServerFrame::Message(parse_message(&obj)?),
            "ack" => ServerFrame::Ack {
                id: str_field(&obj, "id")?.to_owned(),
                seq: u64_field(&obj, "seq")?,
                timestamp: u64_field(&obj, "timestamp")?,
            },
            "presence" => ServerFrame::Presence {
                online: u64_field(&obj, "online")?.min(u64::from(u32::MAX)) as u32,
                joined: obj.get("joined").and_then(Json::as_str).map(str::to_owned),
                left: obj.get("left").and_then(Json::as_str).map(str::to_owned),
            },
            "typing" => ServerFrame::Typing {
                name: str_field(&obj, "name")?.to_owned(),
            },
            "error" => {
                let code = str_field(&obj, "code")?;
                ServerFrame::Error(ProtocolError {
                    code: ErrorCode::parse(code).unwrap_or(ErrorCode::Internal),
                    message: obj
                        .get("message")
                        .and_then(Json::as_str)
                        .unwrap_or(code)
                        .to_owned(),
                    id: obj.get("id").and_then(Json::as_str).map(str::to_owned),
                })
            }
            _ => return Err(FrameError::UnknownType),
        })
    }
}

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

/// An optional string field ("" when absent: older servers sent no `sender`).
fn opt_str(obj: &Json, key: &str) -> String {
    obj.get(key)
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn parse_message(obj: &Json) -> Result<ChatMessage, FrameError> {
    Ok(ChatMessage {
        seq: u64_field(obj, "seq")?,
        id: str_field(obj, "id")?.to_owned(),
        name: str_field(obj, "name")?.to_owned(),
        message: str_field(obj, "message")?.to_owned(),
        timestamp: u64_field(obj, "timestamp")?,
        sender: opt_str(obj, "sender"),
        verified: obj.get("verified").and_then(Json::as_bool).unwrap_or(false),
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
mod tests {
    use super::*;

    fn sample(seq: u64) -> ChatMessage {
        ChatMessage {
            seq,
            id: format!("c{seq}"),
            name: "Ada \"A\" <i>".into(),
            message: "hi\n</script>\u{202E}".into(),
            timestamp: 1_764_330_000_000 + seq,
            sender: "k7Qx".into(),
            verified: seq.is_multiple_of(2),
        }
    }

    #[test]
    fn every_frame_round_trips() {
        let frames = [
            ServerFrame::Welcome(Welcome {
                seq: 42,
                online: 3,
                name: "Ada".into(),
                max_message_chars: 2000,
                sender: "s1".into(),
                verified: false,
                sender_key: Some("k.m".into()),
            }),
            ServerFrame::Welcome(Welcome {
                seq: 0,
                online: 1,
                name: "Bo".into(),
                max_message_chars: 10,
                sender: "s2".into(),
                verified: true,
                sender_key: None,
            }),
            ServerFrame::History {
                messages: vec![sample(1), sample(2)],
                more: true,
                anchor: None,
            },
            ServerFrame::History {
                messages: vec![],
                more: false,
                anchor: Some(HistoryAnchor::Before(9)),
            },
            ServerFrame::History {
                messages: vec![sample(10)],
                more: false,
                anchor: Some(HistoryAnchor::After(9)),
            },
            ServerFrame::Message(sample(7)),
            ServerFrame::Ack {
                id: "x".into(),
                seq: 8,
                timestamp: 99,
            },
            ServerFrame::Presence {
                online: 2,
                joined: Some("Bo".into()),
                left: None,
            },
            ServerFrame::Presence {
                online: 1,
                joined: None,
                left: Some("Bo".into()),
            },
            ServerFrame::Typing { name: "Bo".into() },
            ServerFrame::Error(ProtocolError::new(ErrorCode::TooLong, "long").with_id(Some("m1"))),
            ServerFrame::Error(ProtocolError::new(ErrorCode::BadFrame, "bad")),
        ];
        for frame in frames {
            assert_eq!(ServerFrame::parse(&frame.encode()).unwrap(), frame);
        }
    }

    #[test]
    fn message_frame_matches_the_documented_shape() {
        let m = ChatMessage {
            seq: 42,
            id: "abc".into(),
            name: "Ada".into(),
            message: "hi".into(),
            timestamp: 1_764_330_000_000,
            sender: "Xy3".into(),
            verified: true,
        };
        assert_eq!(
            ServerFrame::Message(m).encode(),
            r#"{"type":"message","seq":42,"id":"abc","name":"Ada","message":"hi","timestamp":1764330000000,"sender":"Xy3","verified":true}"#
        );
    }

    #[test]
    fn legacy_frames_have_only_the_three_fields() {
        assert_eq!(
            legacy_frame("Ada", "hi", 5),
            r#"{"name":"Ada","message":"hi","timestamp":5}"#
        );
    }

    #[test]
    fn every_frame_is_valid_json_for_serde_json_too() {
        let frame = ServerFrame::History {
            messages: vec![sample(1)],
            more: true,
            anchor: Some(HistoryAnchor::Before(2)),
        };
        let v: serde_json::Value = serde_json::from_str(&frame.encode()).unwrap();
        assert_eq!(v["messages"][0]["message"], "hi\n</script>\u{202E}");
    }

    #[test]
    fn garbage_from_the_server_is_an_error_not_a_panic() {
        for text in [
            "",
            "{}",
            r#"{"type":"message"}"#,
            r#"{"type":"history","messages":[1]}"#,
            r#"{"type":"zzz"}"#,
        ] {
            assert!(ServerFrame::parse(text).is_err(), "{text}");
        }
    }
}
