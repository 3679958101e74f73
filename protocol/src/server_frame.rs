//! Frames the server sends: encoded by the worker, parsed by the widget.
//!
//! Legacy connections (the workshop front end) understand only
//! `{name, message, timestamp}`; [`legacy_frame`] builds those.

use serde_json::{json, Map, Value};

use crate::client_frame::HistoryAnchor;
use crate::error::{ErrorCode, ProtocolError};
use crate::message::ChatMessage;

#[derive(Debug, Clone, PartialEq)]
pub enum ServerFrame {
    /// First frame on every v1 connection.
    Welcome { seq: u64, online: u32, name: String, max_message_chars: usize },
    /// A page of messages in ascending `seq` order. `anchor` echoes the request
    /// (`None` for the page sent on join). `more` says whether further messages
    /// exist beyond this page in the direction asked: older ones for the join
    /// page and `before`, newer ones for `after` (and for `since` on join).
    History { messages: Vec<ChatMessage>, more: bool, anchor: Option<HistoryAnchor> },
    /// Someone else's message.
    Message(ChatMessage),
    /// Your message was stored with this `seq`.
    Ack { id: String, seq: u64, timestamp: u64 },
    /// Someone joined or left; `online` is the new count.
    Presence { online: u32, joined: Option<String>, left: Option<String> },
    /// Someone is typing.
    Typing { name: String },
    /// A frame was refused; the connection stays open.
    Error(ProtocolError),
}

fn message_value(m: &ChatMessage) -> Value {
    json!({"seq": m.seq, "id": m.id, "name": m.name, "message": m.message, "timestamp": m.timestamp})
}

impl ServerFrame {
    /// Encode as a v1 text frame.
    pub fn encode(&self) -> String {
        let value = match self {
            ServerFrame::Welcome { seq, online, name, max_message_chars } => json!({
                "type": "welcome", "seq": seq, "online": online, "name": name,
                "maxMessageChars": max_message_chars,
            }),
            ServerFrame::History { messages, more, anchor } => {
                let mut obj = Map::new();
                obj.insert("type".into(), "history".into());
                obj.insert("messages".into(), messages.iter().map(message_value).collect());
                obj.insert("more".into(), (*more).into());
                match anchor {
                    Some(HistoryAnchor::Before(s)) => obj.insert("before".into(), (*s).into()),
                    Some(HistoryAnchor::After(s)) => obj.insert("after".into(), (*s).into()),
                    None => None,
                };
                Value::Object(obj)
            }
            ServerFrame::Message(m) => {
                let mut v = message_value(m);
                v["type"] = "message".into();
                v
            }
            ServerFrame::Ack { id, seq, timestamp } => {
                json!({"type": "ack", "id": id, "seq": seq, "timestamp": timestamp})
            }
            ServerFrame::Presence { online, joined, left } => {
                let mut obj = Map::new();
                obj.insert("type".into(), "presence".into());
                obj.insert("online".into(), (*online).into());
                if let Some(n) = joined {
                    obj.insert("joined".into(), n.as_str().into());
                }
                if let Some(n) = left {
                    obj.insert("left".into(), n.as_str().into());
                }
                Value::Object(obj)
            }
            ServerFrame::Typing { name } => json!({"type": "typing", "name": name}),
            ServerFrame::Error(e) => {
                let mut v = json!({"type": "error", "code": e.code.as_str(), "message": e.message});
                if let Some(id) = &e.id {
                    v["id"] = id.as_str().into();
                }
                v
            }
        };
        value.to_string()
    }

    /// Parse a v1 text frame (the widget's side).
    pub fn parse(text: &str) -> Result<ServerFrame, String> {
        let value: Value = serde_json::from_str(text).map_err(|_| "not JSON".to_owned())?;
        let obj = value.as_object().ok_or("not an object")?;
        let kind = str_field(obj, "type")?;
        Ok(match kind {
            "welcome" => ServerFrame::Welcome {
                seq: u64_field(obj, "seq")?,
                online: u64_field(obj, "online")? as u32,
                name: str_field(obj, "name")?.to_owned(),
                max_message_chars: obj
                    .get("maxMessageChars")
                    .and_then(Value::as_u64)
                    .unwrap_or(crate::limits::Limits::default().max_message_chars as u64)
                    as usize,
            },
            "history" => {
                let list = obj.get("messages").and_then(Value::as_array).ok_or("messages")?;
                let messages = list
                    .iter()
                    .map(|m| m.as_object().ok_or_else(|| "message".to_owned()).and_then(parse_message))
                    .collect::<Result<Vec<_>, _>>()?;
                let anchor = match (obj.get("before").and_then(Value::as_u64), obj.get("after").and_then(Value::as_u64)) {
                    (Some(b), _) => Some(HistoryAnchor::Before(b)),
                    (None, Some(a)) => Some(HistoryAnchor::After(a)),
                    _ => None,
                };
                let more = obj.get("more").and_then(Value::as_bool).unwrap_or(false);
                ServerFrame::History { messages, more, anchor }
            }
            "message" => ServerFrame::Message(parse_message(obj)?),
            "ack" => ServerFrame::Ack {
                id: str_field(obj, "id")?.to_owned(),
                seq: u64_field(obj, "seq")?,
                timestamp: u64_field(obj, "timestamp")?,
            },
            "presence" => ServerFrame::Presence {
                online: u64_field(obj, "online")? as u32,
                joined: obj.get("joined").and_then(Value::as_str).map(str::to_owned),
                left: obj.get("left").and_then(Value::as_str).map(str::to_owned),
            },
            "typing" => ServerFrame::Typing { name: str_field(obj, "name")?.to_owned() },
            "error" => {
                let code = str_field(obj, "code")?;
                ServerFrame::Error(ProtocolError {
                    code: ErrorCode::parse(code).unwrap_or(ErrorCode::Internal),
                    message: obj.get("message").and_then(Value::as_str).unwrap_or(code).to_owned(),
                    id: obj.get("id").and_then(Value::as_str).map(str::to_owned),
                })
            }
            other => return Err(format!("unknown type {other}")),
        })
    }
}

fn str_field<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<&'a str, String> {
    obj.get(key).and_then(Value::as_str).ok_or_else(|| format!("missing {key}"))
}

fn u64_field(obj: &Map<String, Value>, key: &str) -> Result<u64, String> {
    obj.get(key).and_then(Value::as_u64).ok_or_else(|| format!("missing {key}"))
}

fn parse_message(obj: &Map<String, Value>) -> Result<ChatMessage, String> {
    Ok(ChatMessage {
        seq: u64_field(obj, "seq")?,
        id: str_field(obj, "id")?.to_owned(),
        name: str_field(obj, "name")?.to_owned(),
        message: str_field(obj, "message")?.to_owned(),
        timestamp: u64_field(obj, "timestamp")?,
    })
}

/// A frame for legacy (workshop) clients, which show every frame as
/// `{name, message, timestamp}`.
pub fn legacy_frame(name: &str, message: &str, timestamp: u64) -> String {
    json!({"name": name, "message": message, "timestamp": timestamp}).to_string()
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
        }
    }

    #[test]
    fn every_frame_round_trips() {
        let frames = [
            ServerFrame::Welcome { seq: 42, online: 3, name: "Ada".into(), max_message_chars: 2000 },
            ServerFrame::History { messages: vec![sample(1), sample(2)], more: true, anchor: None },
            ServerFrame::History { messages: vec![], more: false, anchor: Some(HistoryAnchor::Before(9)) },
            ServerFrame::History { messages: vec![sample(10)], more: false, anchor: Some(HistoryAnchor::After(9)) },
            ServerFrame::Message(sample(7)),
            ServerFrame::Ack { id: "x".into(), seq: 8, timestamp: 99 },
            ServerFrame::Presence { online: 2, joined: Some("Bo".into()), left: None },
            ServerFrame::Presence { online: 1, joined: None, left: Some("Bo".into()) },
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
        let m = ChatMessage { seq: 42, id: "abc".into(), name: "Ada".into(), message: "hi".into(), timestamp: 1_764_330_000_000 };
        let v: Value = serde_json::from_str(&ServerFrame::Message(m).encode()).unwrap();
        assert_eq!(v, json!({"type":"message","seq":42,"id":"abc","name":"Ada","message":"hi","timestamp":1_764_330_000_000u64}));
    }

    #[test]
    fn legacy_frames_have_only_the_three_fields() {
        let v: Value = serde_json::from_str(&legacy_frame("Ada", "hi", 5)).unwrap();
        assert_eq!(v, json!({"name":"Ada","message":"hi","timestamp":5}));
    }

    #[test]
    fn garbage_from_the_server_is_an_error_not_a_panic() {
        for text in ["", "{}", r#"{"type":"message"}"#, r#"{"type":"history","messages":[1]}"#, r#"{"type":"zzz"}"#] {
            assert!(ServerFrame::parse(text).is_err(), "{text}");
        }
    }
}
