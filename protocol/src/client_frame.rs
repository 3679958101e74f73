//! Frames a client sends, and the one place they are parsed.
//!
//! Protocol v1 frames carry a `type`. Legacy clients (the workshop front end,
//! connected without `v=1`) send only `{"message":"..."}`; [`ClientFrame::parse`]
//! accepts that shape for them and nothing else.

use crate::error::{ErrorCode, ProtocolError};
use crate::json::{self, Json, ObjectWriter};
use crate::limits::MAX_HISTORY_PAGE;
use crate::report::{clean_note, ReportReason};
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
    /// Post a message, possibly as a reply to message `reply_to`. `id` makes
    /// retries idempotent; without one the server makes an id and a retry
    /// would post twice.
    Send {
        id: Option<String>,
        message: String,
        reply_to: Option<u64>,
        /// Files uploaded with tickets from `upload` (at most [`MAX_FILES`]).
        attachments: Vec<FileRef>,
    },
    /// Ask for a ticket to upload file number `file` of message `id`.
    Upload {
        id: String,
        file: u32,
        request: UploadRequest,
    },
    /// Change the text of message `target`.
    Edit {
        id: String,
        target: u64,
        message: String,
    },
    /// Delete message `target` (leaves a tombstone).
    Delete { id: String, target: u64 },
    /// Add (`on`) or take back a reaction to message `target`.
    React {
        id: String,
        target: u64,
        emoji: String,
        on: bool,
    },
    /// A moderator's action.
    Moderate {
        id: String,
        action: ModerationAction,
        reason: Option<String>,
    },
    /// Ask for a page of history: messages just before `before`, or just after `after`.
    History { anchor: HistoryAnchor, limit: usize },
    /// The sender is typing; relayed to the others, never stored.
    Typing,
    /// The member has seen everything up to `seq` (their read position;
    /// kept by the room for verified members, across their devices).
    Read { seq: u64 },
    /// Tell the room's moderators that message `target` (someone else's)
    /// breaks the rules.
    Report {
        id: String,
        target: u64,
        reason: ReportReason,
        note: Option<String>,
    },
}

/// Most files one message may carry.
pub const MAX_FILES: usize = 10;
/// Longest alternative text of a file, in characters.
pub const MAX_ALT_CHARS: usize = 300;

/// A file a `send` attaches: the key its upload ticket named, and its
/// alternative text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileRef {
    pub key: String,
    pub alt: String,
}

/// What a client wants to upload: checked against the site's limits before
/// a ticket is issued (the Worker checks the bytes themselves).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UploadRequest {
    pub name: String,
    pub size: u64,
    pub mime: String,
    /// Images: their size in pixels, shown before they load.
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// What a moderator can do. `seconds: None` means for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModerationAction {
    Delete {
        target: u64,
    },
    Mute {
        sender: String,
        seconds: Option<u64>,
    },
    Unmute {
        sender: String,
    },
    Ban {
        sender: String,
        seconds: Option<u64>,
    },
    Unban {
        sender: String,
    },
    /// Delete every message of a sender.
    Purge {
        sender: String,
    },
    /// Seconds between two messages of one sender (0 = off).
    Slow {
        seconds: u64,
    },
    Lock,
    Unlock,
    /// Show `target` above the list, for everyone (one per room: it
    /// replaces the one pinned before).
    Pin {
        target: u64,
    },
    /// Unpin `target` (`None`: whichever is pinned). Naming it keeps a
    /// moderator's late or queued Unpin from taking down a newer pin.
    Unpin {
        target: Option<u64>,
    },
    /// Close the open reports on `target` without acting on the message
    /// (told to moderators only, never announced).
    Dismiss {
        target: u64,
    },
}

impl ModerationAction {
    /// The action named `action` with the fields of a `moderate` frame
    /// (`None`: absent), checked as the room checks them; `Ok(None)`: no
    /// such action. Also for clients that build it from their own
    /// arguments (the headless client's `moderate`). No formatting here:
    /// it is in the headless client's wasm.
    pub fn from_parts(
        action: &str,
        target: Option<u64>,
        sender: Option<&str>,
        seconds: Option<u64>,
    ) -> Result<Option<ModerationAction>, ProtocolError> {
        let required = || target.ok_or_else(|| bad("\"target\" is required"));
        let sender = || match sender {
            Some(s) if crate::validate::is_client_id(s) => Ok(s.to_owned()),
            _ => Err(bad("\"sender\" must be a sender key")),
        };
        let seconds = || match seconds {
            Some(s) if s > MAX_SANCTION_SECS => {
                Err(bad("\"seconds\" is at most a year; leave it out for good"))
            }
            other => Ok(other),
        };
        // A mute or ban of no time would be announced and end at once.
        let sanction = || match seconds()? {
            Some(0) => Err(bad("\"seconds\" must be at least 1; leave it out for good")),
            other => Ok(other),
        };
        Ok(Some(match action {
            "delete" => ModerationAction::Delete {
                target: required()?,
            },
            "mute" => ModerationAction::Mute {
                sender: sender()?,
                seconds: sanction()?,
            },
            "unmute" => ModerationAction::Unmute { sender: sender()? },
            "ban" => ModerationAction::Ban {
                sender: sender()?,
                seconds: sanction()?,
            },
            "unban" => ModerationAction::Unban { sender: sender()? },
            "purge" => ModerationAction::Purge { sender: sender()? },
            "slow" => ModerationAction::Slow {
                seconds: seconds()?.unwrap_or(0),
            },
            "lock" => ModerationAction::Lock,
            "unlock" => ModerationAction::Unlock,
            "pin" => ModerationAction::Pin {
                target: required()?,
            },
            "unpin" => ModerationAction::Unpin { target },
            "dismiss" => ModerationAction::Dismiss {
                target: required()?,
            },
            _ => return Ok(None),
        }))
    }

    pub fn name(&self) -> &'static str {
        match self {
            ModerationAction::Delete { .. } => "delete",
            ModerationAction::Mute { .. } => "mute",
            ModerationAction::Unmute { .. } => "unmute",
            ModerationAction::Ban { .. } => "ban",
            ModerationAction::Unban { .. } => "unban",
            ModerationAction::Purge { .. } => "purge",
            ModerationAction::Slow { .. } => "slow",
            ModerationAction::Lock => "lock",
            ModerationAction::Unlock => "unlock",
            ModerationAction::Pin { .. } => "pin",
            ModerationAction::Unpin { .. } => "unpin",
            ModerationAction::Dismiss { .. } => "dismiss",
        }
    }

    /// The sender it concerns, if any.
    pub fn sender(&self) -> Option<&str> {
        match self {
            ModerationAction::Mute { sender, .. }
            | ModerationAction::Unmute { sender }
            | ModerationAction::Ban { sender, .. }
            | ModerationAction::Unban { sender }
            | ModerationAction::Purge { sender } => Some(sender),
            _ => None,
        }
    }
}

/// Longest moderation reason, in characters.
pub const MAX_REASON_CHARS: usize = 200;
/// Longest reaction emoji, in bytes (a family emoji with modifiers is ~25).
pub const MAX_EMOJI_BYTES: usize = 32;
/// Longest mute or ban given in seconds: a year (for good: leave it out).
pub const MAX_SANCTION_SECS: u64 = 366 * 24 * 3600;

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
        if text.is_empty() {
            // (The Worker hands a binary frame on as empty text.)
            return Err(bad("empty or binary frame; send JSON text"));
        }
        let obj = json::parse(text).map_err(|_| bad("frame is not valid JSON"))?;
        if !obj.is_object() {
            return Err(bad("frame must be a JSON object"));
        }
        match dialect {
            Dialect::Legacy => match obj.get("message") {
                Some(Json::Str(m)) => Ok(ClientFrame::Send {
                    id: None,
                    message: m.clone(),
                    reply_to: None,
                    attachments: Vec::new(),
                }),
                _ => Err(bad("expected {\"message\": \"...\"}")),
            },
            Dialect::V1 => Self::parse_v1(&obj),
        }
    }

    fn parse_v1(obj: &Json) -> Result<ClientFrame, ProtocolError> {
        let id = match obj.get("id") {
            None | Some(Json::Null) => None,
            Some(Json::Str(id)) if is_client_id(id) => Some(id.clone()),
            Some(_) => return Err(bad("\"id\" must be 1-64 characters of A-Z a-z 0-9 _ . : -")),
        };
        // Refusals name the frame's id, a type this server does not know
        // (a newer client's) included: the client waits on that id.
        let kind = match obj.get("type") {
            Some(Json::Str(t)) => t.as_str(),
            Some(_) => return Err(bad("\"type\" must be a string").with_id(id.as_deref())),
            None => return Err(bad("missing \"type\"").with_id(id.as_deref())),
        };
        // Everything but `send`, `history` and `typing` needs an id (its ack names it).
        let with_id = |f: &dyn Fn(String) -> Result<ClientFrame, ProtocolError>| match &id {
            Some(id) => f(id.clone()).map_err(|e| e.with_id(Some(id))),
            None => Err(bad(format!("\"{kind}\" needs an \"id\""))),
        };
        match kind {
            "send" => {
                let reply_to =
                    optional_seq(obj, "replyTo").map_err(|e| e.with_id(id.as_deref()))?;
                let attachments = file_refs(obj).map_err(|e| e.with_id(id.as_deref()))?;
                match obj.get("message") {
                    Some(Json::Str(m)) => Ok(ClientFrame::Send {
                        id,
                        message: m.clone(),
                        reply_to,
                        attachments,
                    }),
                    _ => Err(bad("\"message\" must be a string").with_id(id.as_deref())),
                }
            }
            "edit" => with_id(&|id| {
                let message = string(obj, "message")?.to_owned();
                Ok(ClientFrame::Edit {
                    id,
                    target: seq(obj, "target")?,
                    message,
                })
            }),
            "delete" => with_id(&|id| {
                Ok(ClientFrame::Delete {
                    id,
                    target: seq(obj, "target")?,
                })
            }),
            "react" => with_id(&|id| {
                let emoji = string(obj, "emoji")?;
                if emoji.is_empty()
                    || emoji.len() > MAX_EMOJI_BYTES
                    || emoji.chars().any(|c| c.is_whitespace() || c.is_control())
                {
                    return Err(bad(format!(
                        "\"emoji\" must be one emoji (at most {MAX_EMOJI_BYTES} bytes)"
                    )));
                }
                let on = obj
                    .get("on")
                    .and_then(Json::as_bool)
                    .ok_or_else(|| bad("\"on\" must be true or false"))?;
                Ok(ClientFrame::React {
                    id,
                    target: seq(obj, "target")?,
                    emoji: emoji.to_owned(),
                    on,
                })
            }),
            "moderate" => with_id(&|id| {
                Ok(ClientFrame::Moderate {
                    id,
                    reason: moderation_reason(obj)?,
                    action: moderation_action(obj)?,
                })
            }),
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
            "upload" => with_id(&|id| {
                let file = optional_seq(obj, "file")?.unwrap_or(0);
                if file >= MAX_FILES as u64 {
                    return Err(bad(format!("\"file\" must be below {MAX_FILES}")));
                }
                let dimension = |key| match optional_seq(obj, key)? {
                    Some(n) if n == 0 || n > 65_535 => {
                        Err(bad(format!("\"{key}\" must be from 1 to 65535 pixels")))
                    }
                    n => Ok(n.map(|n| n as u32)),
                };
                Ok(ClientFrame::Upload {
                    id,
                    file: file as u32,
                    request: UploadRequest {
                        name: string(obj, "name")?.to_owned(),
                        size: seq(obj, "size")?,
                        mime: string(obj, "mime")?.to_owned(),
                        width: dimension("width")?,
                        height: dimension("height")?,
                    },
                })
            }),
            "report" => with_id(&|id| {
                let reason = ReportReason::parse(string(obj, "reason")?).ok_or_else(|| {
                    bad("\"reason\" must be \"spam\", \"harassment\" or \"other\"")
                })?;
                let note = match obj.get("note") {
                    None | Some(Json::Null) => None,
                    Some(Json::Str(n)) => clean_note(n).map_err(bad)?,
                    Some(_) => return Err(bad("\"note\" must be a string")),
                };
                Ok(ClientFrame::Report {
                    id,
                    target: seq(obj, "target")?,
                    reason,
                    note,
                })
            }),
            "typing" => Ok(ClientFrame::Typing),
            "read" => match optional_seq(obj, "seq")? {
                Some(seq) => Ok(ClientFrame::Read { seq }),
                None => Err(bad("read needs \"seq\"")),
            },
            other => Err(
                bad(format!("unknown frame type \"{}\"", truncate(other, 32)))
                    .with_id(id.as_deref()),
            ),
        }
    }

    /// Encode as a v1 text frame (used by the widget).
    pub fn encode(&self) -> String {
        match self {
            ClientFrame::Send {
                id,
                message,
                reply_to,
                attachments,
            } => {
                let w = ObjectWriter::new()
                    .str("type", "send")
                    .opt_str("id", id.as_deref())
                    .str("message", message)
                    .opt_u64("replyTo", *reply_to);
                if attachments.is_empty() {
                    w.finish()
                } else {
                    let refs = attachments.iter().map(|f| {
                        ObjectWriter::new()
                            .str("key", &f.key)
                            .str("alt", &f.alt)
                            .finish()
                    });
                    w.raw("attachments", &json::array(refs)).finish()
                }
            }
            ClientFrame::Upload { id, file, request } => ObjectWriter::new()
                .str("type", "upload")
                .str("id", id)
                .u64("file", u64::from(*file))
                .str("name", &request.name)
                .u64("size", request.size)
                .str("mime", &request.mime)
                .opt_u64("width", request.width.map(u64::from))
                .opt_u64("height", request.height.map(u64::from))
                .finish(),
            ClientFrame::Edit {
                id,
                target,
                message,
            } => ObjectWriter::new()
                .str("type", "edit")
                .str("id", id)
                .u64("target", *target)
                .str("message", message)
                .finish(),
            ClientFrame::Delete { id, target } => ObjectWriter::new()
                .str("type", "delete")
                .str("id", id)
                .u64("target", *target)
                .finish(),
            ClientFrame::React {
                id,
                target,
                emoji,
                on,
            } => ObjectWriter::new()
                .str("type", "react")
                .str("id", id)
                .u64("target", *target)
                .str("emoji", emoji)
                .bool("on", *on)
                .finish(),
            ClientFrame::Moderate { id, action, reason } => {
                let w = ObjectWriter::new()
                    .str("type", "moderate")
                    .str("id", id)
                    .str("action", action.name());
                let w = match action {
                    ModerationAction::Delete { target }
                    | ModerationAction::Pin { target }
                    | ModerationAction::Dismiss { target } => w.u64("target", *target),
                    ModerationAction::Mute { sender, seconds }
                    | ModerationAction::Ban { sender, seconds } => {
                        w.str("sender", sender).opt_u64("seconds", *seconds)
                    }
                    ModerationAction::Unmute { sender }
                    | ModerationAction::Unban { sender }
                    | ModerationAction::Purge { sender } => w.str("sender", sender),
                    ModerationAction::Slow { seconds } => w.u64("seconds", *seconds),
                    ModerationAction::Unpin { target } => w.opt_u64("target", *target),
                    ModerationAction::Lock | ModerationAction::Unlock => w,
                };
                w.opt_str("reason", reason.as_deref()).finish()
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
            ClientFrame::Report {
                id,
                target,
                reason,
                note,
            } => ObjectWriter::new()
                .str("type", "report")
                .str("id", id)
                .u64("target", *target)
                .str("reason", reason.as_str())
                .opt_str("note", note.as_deref())
                .finish(),
            ClientFrame::Typing => ObjectWriter::new().str("type", "typing").finish(),
            ClientFrame::Read { seq } => ObjectWriter::new()
                .str("type", "read")
                .u64("seq", *seq)
                .finish(),
        }
    }
}

fn string<'a>(obj: &'a Json, key: &str) -> Result<&'a str, ProtocolError> {
    obj.get(key)
        .and_then(Json::as_str)
        .ok_or_else(|| bad(format!("\"{key}\" must be a string")))
}

/// The `attachments` of a `send`: `[{"key", "alt"}]`, at most [`MAX_FILES`].
fn file_refs(obj: &Json) -> Result<Vec<FileRef>, ProtocolError> {
    let list = match obj.get("attachments") {
        None | Some(Json::Null) => return Ok(Vec::new()),
        Some(v) => v
            .as_array()
            .ok_or_else(|| bad("\"attachments\" must be an array"))?,
    };
    if list.len() > MAX_FILES {
        return Err(bad(format!("at most {MAX_FILES} attachments per message")));
    }
    list.iter()
        .map(|f| {
            let key = string(f, "key")?;
            let alt = f.get("alt").and_then(Json::as_str).unwrap_or_default();
            if key.len() > 200 {
                return Err(bad("\"key\" is not an upload's key"));
            }
            Ok(FileRef {
                key: key.to_owned(),
                alt: alt.chars().take(MAX_ALT_CHARS).collect(),
            })
        })
        .collect()
}

fn seq(obj: &Json, key: &str) -> Result<u64, ProtocolError> {
    optional_seq(obj, key)?.ok_or_else(|| bad(format!("\"{key}\" is required")))
}

fn moderation_reason(obj: &Json) -> Result<Option<String>, ProtocolError> {
    match obj.get("reason") {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Str(r)) if r.chars().count() <= MAX_REASON_CHARS => {
            Ok(Some(r.trim().to_owned()).filter(|r| !r.is_empty()))
        }
        Some(_) => Err(bad(format!(
            "\"reason\" must be a string of at most {MAX_REASON_CHARS} characters"
        ))),
    }
}

fn moderation_action(obj: &Json) -> Result<ModerationAction, ProtocolError> {
    let action = string(obj, "action")?;
    let sender = match obj.get("sender") {
        None | Some(Json::Null) => None,
        Some(Json::Str(s)) => Some(s.as_str()),
        Some(_) => return Err(bad("\"sender\" must be a sender key")),
    };
    // A mute's or ban's duration of null is refused, not taken as "for
    // good": a backend that writes an unset field as null would ban for
    // good by mistake. (Elsewhere null is absent, as for every field.)
    if matches!(action, "mute" | "ban") && obj.get("seconds") == Some(&Json::Null) {
        return Err(bad(
            "\"seconds\" must be a number of seconds; leave it out for good",
        ));
    }
    let (target, seconds) = (optional_seq(obj, "target")?, optional_seq(obj, "seconds")?);
    ModerationAction::from_parts(action, target, sender, seconds)?.ok_or_else(|| {
        bad(format!(
            "unknown moderation action \"{}\"",
            truncate(action, 32)
        ))
    })
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

    #[test]
    fn a_null_duration_is_no_mute_or_ban_but_slow_mode_off() {
        let slow = v1(r#"{"type":"moderate","id":"m","action":"slow","seconds":null}"#);
        assert!(matches!(
            slow,
            Ok(ClientFrame::Moderate {
                action: ModerationAction::Slow { seconds: 0 },
                ..
            })
        ));
        for action in ["mute", "ban"] {
            let text = format!(
                r#"{{"type":"moderate","id":"m","action":"{action}","sender":"k","seconds":null}}"#
            );
            assert_eq!(v1(&text).unwrap_err().code, ErrorCode::BadFrame);
        }
    }

    fn v1(text: &str) -> Result<ClientFrame, ProtocolError> {
        ClientFrame::parse(text, Dialect::V1)
    }

    #[test]
    fn a_frame_of_a_type_not_known_here_is_refused_under_its_id() {
        for text in [
            r#"{"type":"poll","id":"p1"}"#,
            r#"{"type":5,"id":"p1"}"#,
            r#"{"id":"p1"}"#,
        ] {
            let e = v1(text).unwrap_err();
            assert_eq!(
                (e.code, e.id.as_deref()),
                (ErrorCode::BadFrame, Some("p1")),
                "{text}"
            );
        }
    }

    #[test]
    fn send_frames() {
        assert_eq!(
            v1(r#"{"type":"send","id":"a1","message":"hi"}"#).unwrap(),
            ClientFrame::Send {
                id: Some("a1".into()),
                message: "hi".into(),
                reply_to: None,
                attachments: Vec::new(),
            }
        );
        assert_eq!(
            v1(r#"{"type":"send","message":"hi"}"#).unwrap(),
            ClientFrame::Send {
                id: None,
                message: "hi".into(),
                reply_to: None,
                attachments: Vec::new(),
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
    fn lifecycle_and_moderation_frames() {
        assert_eq!(
            v1(r#"{"type":"send","id":"r1","message":"yes","replyTo":4}"#).unwrap(),
            ClientFrame::Send {
                id: Some("r1".into()),
                message: "yes".into(),
                reply_to: Some(4),
                attachments: Vec::new(),
            }
        );
        assert_eq!(
            v1(r#"{"type":"edit","id":"e1","target":3,"message":"fixed"}"#).unwrap(),
            ClientFrame::Edit {
                id: "e1".into(),
                target: 3,
                message: "fixed".into()
            }
        );
        assert_eq!(
            v1(r#"{"type":"delete","id":"d1","target":3}"#).unwrap(),
            ClientFrame::Delete {
                id: "d1".into(),
                target: 3
            }
        );
        assert_eq!(
            v1(r#"{"type":"react","id":"x1","target":3,"emoji":"👍","on":false}"#).unwrap(),
            ClientFrame::React {
                id: "x1".into(),
                target: 3,
                emoji: "👍".into(),
                on: false
            }
        );
        assert_eq!(
            v1(r#"{"type":"moderate","id":"m1","action":"ban","sender":"k1","reason":" spam "}"#)
                .unwrap(),
            ClientFrame::Moderate {
                id: "m1".into(),
                action: ModerationAction::Ban {
                    sender: "k1".into(),
                    seconds: None
                },
                reason: Some("spam".into())
            }
        );
        // Built by a client from its own arguments: checked the same way.
        assert_eq!(
            ModerationAction::from_parts("mute", None, Some("k1"), Some(600)),
            Ok(Some(ModerationAction::Mute {
                sender: "k1".into(),
                seconds: Some(600)
            }))
        );
        assert_eq!(
            ModerationAction::from_parts("explode", None, None, None),
            Ok(None)
        );
        for (action, sender, seconds) in [
            ("pin", None, None),
            ("mute", Some("a b"), None),
            ("ban", Some("k1"), Some(MAX_SANCTION_SECS + 1)),
            ("mute", Some("k1"), Some(0)),
            ("ban", Some("k1"), Some(0)),
        ] {
            assert_eq!(
                ModerationAction::from_parts(action, None, sender, seconds).map_err(|e| e.code),
                Err(ErrorCode::BadFrame),
                "{action}"
            );
        }
        for (text, want_id) in [
            (r#"{"type":"edit","target":3,"message":"x"}"#, None),
            (r#"{"type":"edit","id":"e","message":"x"}"#, Some("e")),
            (r#"{"type":"delete","id":"d","target":-1}"#, Some("d")),
            (
                r#"{"type":"react","id":"r","target":1,"emoji":"","on":true}"#,
                Some("r"),
            ),
            (
                r#"{"type":"react","id":"r","target":1,"emoji":"a b","on":true}"#,
                Some("r"),
            ),
            (
                r#"{"type":"react","id":"r","target":1,"emoji":"👍"}"#,
                Some("r"),
            ),
            (
                r#"{"type":"moderate","id":"m","action":"explode"}"#,
                Some("m"),
            ),
            (r#"{"type":"moderate","id":"m","action":"mute"}"#, Some("m")),
            (
                r#"{"type":"moderate","id":"m","action":"mute","sender":"k","seconds":99999999999}"#,
                Some("m"),
            ),
            // null is no mute's or ban's duration (for good is leaving it
            // out); for slow mode it is absent, off, as before.
            (
                r#"{"type":"moderate","id":"m","action":"ban","sender":"k","seconds":null}"#,
                Some("m"),
            ),
            // A sender key is base64url: anything else could end up in a
            // client's CSS selector or HTML through the notice.
            (
                r#"{"type":"moderate","id":"m","action":"purge","sender":"\"],.hc-msg,[x=\""}"#,
                Some("m"),
            ),
            (
                r#"{"type":"send","id":"s","message":"x","replyTo":"4"}"#,
                Some("s"),
            ),
        ] {
            let e = v1(text).unwrap_err();
            assert_eq!(
                (e.code, e.id.as_deref()),
                (ErrorCode::BadFrame, want_id),
                "{text}"
            );
        }
    }

    #[test]
    fn legacy_dialect_accepts_only_plain_messages() {
        assert_eq!(
            ClientFrame::parse(r#"{"message":"hello"}"#, Dialect::Legacy).unwrap(),
            ClientFrame::Send {
                id: None,
                message: "hello".into(),
                reply_to: None,
                attachments: Vec::new(),
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
                reply_to: None,
                attachments: Vec::new(),
            },
            ClientFrame::Send {
                id: None,
                message: "plain".into(),
                reply_to: None,
                attachments: Vec::new(),
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
            ClientFrame::Send {
                id: Some("r".into()),
                message: "re".into(),
                reply_to: Some(9),
                attachments: Vec::new(),
            },
            ClientFrame::Edit {
                id: "e".into(),
                target: 1,
                message: "new".into(),
            },
            ClientFrame::Delete {
                id: "d".into(),
                target: 2,
            },
            ClientFrame::React {
                id: "x".into(),
                target: 3,
                emoji: "🎉".into(),
                on: true,
            },
            ClientFrame::Moderate {
                id: "m".into(),
                action: ModerationAction::Delete { target: 4 },
                reason: None,
            },
            ClientFrame::Moderate {
                id: "m".into(),
                action: ModerationAction::Mute {
                    sender: "k".into(),
                    seconds: Some(600),
                },
                reason: Some("calm down".into()),
            },
            ClientFrame::Moderate {
                id: "m".into(),
                action: ModerationAction::Unban { sender: "k".into() },
                reason: None,
            },
            ClientFrame::Moderate {
                id: "m".into(),
                action: ModerationAction::Purge { sender: "k".into() },
                reason: None,
            },
            ClientFrame::Moderate {
                id: "m".into(),
                action: ModerationAction::Slow { seconds: 30 },
                reason: None,
            },
            ClientFrame::Moderate {
                id: "m".into(),
                action: ModerationAction::Pin { target: 7 },
                reason: None,
            },
            ClientFrame::Moderate {
                id: "m".into(),
                action: ModerationAction::Unpin { target: Some(7) },
                reason: None,
            },
            ClientFrame::Moderate {
                id: "m".into(),
                action: ModerationAction::Lock,
                reason: None,
            },
            ClientFrame::Moderate {
                id: "m".into(),
                action: ModerationAction::Dismiss { target: 8 },
                reason: None,
            },
            ClientFrame::Report {
                id: "p".into(),
                target: 9,
                reason: ReportReason::Harassment,
                note: Some("calls me \"names\"".into()),
            },
            ClientFrame::Report {
                id: "p".into(),
                target: 9,
                reason: ReportReason::Spam,
                note: None,
            },
        ] {
            assert_eq!(v1(&frame.encode()).unwrap(), frame);
        }
    }

    #[test]
    fn reports_need_an_id_a_target_and_a_known_reason() {
        let ok = v1(r#"{"type":"report","id":"r1","target":4,"reason":"other","note":"  "}"#);
        assert_eq!(
            ok.unwrap(),
            ClientFrame::Report {
                id: "r1".into(),
                target: 4,
                reason: ReportReason::Other,
                note: None,
            }
        );
        for bad in [
            r#"{"type":"report","target":4,"reason":"spam"}"#,
            r#"{"type":"report","id":"r1","reason":"spam"}"#,
            r#"{"type":"report","id":"r1","target":4}"#,
            r#"{"type":"report","id":"r1","target":4,"reason":"SPAM"}"#,
            r#"{"type":"report","id":"r1","target":-1,"reason":"spam"}"#,
            r#"{"type":"report","id":"r1","target":4,"reason":"spam","note":7}"#,
        ] {
            let e = v1(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::BadFrame, "{bad}");
        }
        let long = format!(
            r#"{{"type":"report","id":"r1","target":4,"reason":"spam","note":"{}"}}"#,
            "x".repeat(201)
        );
        let e = v1(&long).unwrap_err();
        assert_eq!((e.code, e.id.as_deref()), (ErrorCode::BadFrame, Some("r1")));
    }
}
