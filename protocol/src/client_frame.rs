//! Frames a client sends, and the one place they are parsed.
//!
//! Protocol v1 frames carry a `type`. Legacy clients (the workshop front end,
//! connected without `v=1`) send only `{"message":"..."}`; [`ClientFrame::parse`]
//! accepts that shape for them and nothing else.

use crate::error::{ErrorCode, ProtocolError};
use crate::json::{self, Json, ObjectWriter};
use crate::limits::MAX_HISTORY_PAGE;
use crate::validate::is_client_id;

/// Which dialect a connection speaks, chosen by the `v` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The workshop front end: `{"message"}` in, `{name, message, timestamp}` out.
    Legacy,
    /// Protocol v1, documented in docs/protocol.md.
    V1,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClientFrame {
    /// Post a message. `id` makes retries idempotent; without one the server
    /// makes an id and a retry would post twice.
    Send { id: Option<String>, message: String },
    /// Ask for a page of history: messages just before `before`, or just after `after`.
    History { anchor: HistoryAnchor, limit: usize },
    /// The sender is typing; relayed to the others, never stored.
    Typing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryAnchor {
    /// Messages with `seq < n`, the newest of them, in ascending order.
    Before(u64),
    /// Messages with `seq > n`, the oldest of them, in ascending order.
    After(u64),
}

fn bad(message: impl Into<String>) -> ProtocolError {
    ProtocolError::new(ErrorCode::BadFrame, message)
}

impl ClientFrame {
    /// Parse one text frame. Errors carry the offending message id when the
    /// frame had a well-formed one, so the sender can mark that message failed.
    pub fn parse(text: &str, dialect: Dialect) -> Result<ClientFrame, ProtocolError> {
        let obj = json::parse(text).map_err(|_| bad("frame is not valid JSON"))?;
        if !obj.is_object() {
            return Err(bad("frame must be a JSON object"));
        }
        match dialect {
            Dialect::Legacy => match obj.get("message") {
                Some(Json::Str(m)) => Ok(ClientFrame::Send {
                    id: None,
                    message: m.clone(),
                }),
                _ => Err(bad("expected {\"message\": \"...\"}")),
            },
            Dialect::V1 => Self::parse_v1(&obj),
        }
    }

    fn parse_v1(obj: &Json) -> Result<ClientFrame, ProtocolError> {
        let kind = match obj.get("type") {
            Some(Json::Str(t)) => t.as_str(),
            Some(_) => return Err(bad("\"type\" must be a string")),
            None => return Err(bad("missing \"type\"")),
        };
        match kind {
            "send" => {
                let id = match obj.get("id") {
                    None | Some(Json::Null) => None,
                    Some(Json::Str(id)) if is_client_id(id) => Some(id.clone()),
                    Some(_) => {
                        return Err(bad("\"id\" must be 1-64 characters of A-Z a-z 0-9 _ . : -"))
                    }
                };
                match obj.get("message") {
                    Some(Json::Str(m)) => Ok(ClientFrame::Send {
                        id,
                        message: m.clone(),
                    }),
                    _ => Err(bad("\"message\" must be a string").with_id(id.as_deref())),
                }
            }
            "history" => {
                let before = optional_seq(obj, "before")?;
                let after = optional_seq(obj, "after")?;
                let anchor = match (before, after) {
                    (Some(b), None) => HistoryAnchor::Before(b),
                    (None, Some(a)) => HistoryAnchor::After(a),
                    _ => return Err(bad("history needs exactly one of \"before\" or \"after\"")),
                };
                let limit = match obj.get("limit") {
                    None | Some(Json::Null) => MAX_HISTORY_PAGE / 2,
                    Some(v) => match v.as_u64() {
                        Some(n) if (1..=MAX_HISTORY_PAGE as u64).contains(&n) => n as usize,
                        _ => {
                            return Err(bad(format!(
                                "\"limit\" must be an integer from 1 to {MAX_HISTORY_PAGE}"
                            )))
                        }
                    },
                };
                Ok(ClientFrame::History { anchor, limit })
            }
            "typing" => Ok(ClientFrame::Typing),
            other => Err(bad(format!(
                "unknown frame type \"{}\"",
                truncate(other, 32)
            ))),
        }
    }

    /// Encode as a v1 text frame (used by the widget).
    pub fn encode(&self) -> String {
        match self {
            ClientFrame::Send { id, message } => {
                let w = ObjectWriter::new().str("type", "send");
                let w = match id {
                    Some(id) => w.str("id", id),
                    None => w,
                };
                w.str("message", message).finish()
            }
            ClientFrame::History { anchor, limit } => {
                let (key, seq) = match anchor {
                    HistoryAnchor::Before(s) => ("before", *s),
                    HistoryAnchor::After(s) => ("after", *s),
                };
                ObjectWriter::new()
                    .str("type", "history")
                    .u64(key, seq)
                    .u64("limit", *limit as u64)
                    .finish()
            }
            ClientFrame::Typing => ObjectWriter::new().str("type", "typing").finish(),
        }
    }
}

/// Sequence numbers are JSON integers from 0 to 2^53 (exact in JavaScript).
pub const MAX_SEQ: u64 = (1 << 53) - 1;

fn optional_seq(obj: &Json, key: &str) -> Result<Option<u64>, ProtocolError> {
    match obj.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if n <= MAX_SEQ => Ok(Some(n)),
            _ => Err(bad(format!(
                "\"{key}\" must be an integer from 0 to 2^53-1"
            ))),
        },
    }
}

fn truncate(s: &str, max_chars: usize) -> &str {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1(text: &str) -> Result<ClientFrame, ProtocolError> {
        ClientFrame::parse(text, Dialect::V1)
    }

    #[test]
    fn send_frames() {
        assert_eq!(
            v1(r#"{"type":"send","id":"a1","message":"hi"}"#).unwrap(),
            ClientFrame::Send {
                id: Some("a1".into()),
                message: "hi".into()
            }
        );
        assert_eq!(
            v1(r#"{"type":"send","message":"hi"}"#).unwrap(),
            ClientFrame::Send {
                id: None,
                message: "hi".into()
            }
        );
        let err = v1(r#"{"type":"send","id":"a1","message":5}"#).unwrap_err();
        assert_eq!(
            (err.code, err.id.as_deref()),
            (ErrorCode::BadFrame, Some("a1"))
        );
        assert_eq!(
            v1(r#"{"type":"send","id":"a b","message":"x"}"#)
                .unwrap_err()
                .code,
            ErrorCode::BadFrame
        );
        assert_eq!(
            v1(r#"{"type":"send","id":7,"message":"x"}"#)
                .unwrap_err()
                .code,
            ErrorCode::BadFrame
        );
    }

    #[test]
    fn malformed_frames_are_bad_frame() {
        for text in [
            "",
            "not json",
            "[]",
            "42",
            "null",
            r#"{"message":"x"}"#,
            r#"{"type":1}"#,
            r#"{"type":"nope"}"#,
            "{\"type\":\"send\",\"message\":\"x\"",
            "\u{0}",
        ] {
            assert_eq!(v1(text).unwrap_err().code, ErrorCode::BadFrame, "{text:?}");
        }
    }

    #[test]
    fn history_requests() {
        assert_eq!(
            v1(r#"{"type":"history","before":10,"limit":5}"#).unwrap(),
            ClientFrame::History {
                anchor: HistoryAnchor::Before(10),
                limit: 5
            }
        );
        assert_eq!(
            v1(r#"{"type":"history","after":0}"#).unwrap(),
            ClientFrame::History {
                anchor: HistoryAnchor::After(0),
                limit: 50
            }
        );
        for text in [
            r#"{"type":"history"}"#,
            r#"{"type":"history","before":1,"after":2}"#,
            r#"{"type":"history","before":-1}"#,
            r#"{"type":"history","before":1.5}"#,
            r#"{"type":"history","before":"3"}"#,
            r#"{"type":"history","before":1e300}"#,
            r#"{"type":"history","before":18446744073709551615}"#,
            r#"{"type":"history","before":99999999999999999999999}"#,
            r#"{"type":"history","before":1,"limit":0}"#,
            r#"{"type":"history","before":1,"limit":101}"#,
            r#"{"type":"history","before":1,"limit":-5}"#,
        ] {
            assert_eq!(v1(text).unwrap_err().code, ErrorCode::BadFrame, "{text}");
        }
    }

    #[test]
    fn legacy_dialect_accepts_only_plain_messages() {
        assert_eq!(
            ClientFrame::parse(r#"{"message":"hello"}"#, Dialect::Legacy).unwrap(),
            ClientFrame::Send {
                id: None,
                message: "hello".into()
            }
        );
        assert!(ClientFrame::parse(r#"{"type":"typing"}"#, Dialect::Legacy).is_err());
    }

    #[test]
    fn encode_round_trips() {
        for frame in [
            ClientFrame::Send {
                id: Some("x-1".into()),
                message: "a \"quoted\" <b>\n".into(),
            },
            ClientFrame::Send {
                id: None,
                message: "plain".into(),
            },
            ClientFrame::History {
                anchor: HistoryAnchor::Before(7),
                limit: 20,
            },
            ClientFrame::History {
                anchor: HistoryAnchor::After(0),
                limit: 100,
            },
            ClientFrame::Typing,
        ] {
            assert_eq!(v1(&frame.encode()).unwrap(), frame);
        }
    }
}
