//! The outbox's unsent messages as a string the widget keeps in the
//! browser's storage, so a reload (or a discarded tab) does not lose them.
//!
//! Only messages are kept (edits, reactions and the like made offline are
//! not), each with its client id: sent again after the reload under that
//! id, it is stored once even if the room had it already. The anonymous
//! sender key goes with them, because the room recognises a retry by sender
//! and id. What is read back is input: anything malformed is left out, and
//! garbage restores nothing.
//!
//! Some come back "Not sent" rather than going out by themselves: one the
//! room had refused (as it was), one that had files (their bytes did not
//! survive; Retry sends the text alone) and one written over a day ago.

use crate::error::{ErrorCode, ProtocolError};
use crate::json::{self, Json, ObjectWriter};
use crate::limits::LIMITS_CEILING;
use crate::outbox::{Action, Outbox, OutboxState, OUTBOX_CAPACITY};
use crate::validate;

/// Older than this, a kept message waits for the visitor's Retry.
pub const STALE_AFTER_MS: f64 = 24.0 * 3600.0 * 1000.0;

/// An unsent message read back from storage.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptMessage {
    pub id: String,
    pub text: String,
    pub reply_to: Option<u64>,
    /// When it was written (ms since the epoch).
    pub at: f64,
    /// Why it is not sent by itself, if it is not.
    pub failed: Option<ProtocolError>,
}

/// What to keep: "" when nothing is unsent (the adapter then removes it).
pub fn encode(outbox: &Outbox, sender_key: Option<&str>) -> String {
    let items: Vec<String> = outbox
        .items()
        .filter_map(|i| {
            let Action::Send {
                text,
                reply_to,
                files,
            } = &i.action
            else {
                return None;
            };
            let (code, reason) = match &i.state {
                OutboxState::Failed(e) => (Some(e.code.as_str()), Some(e.message.as_str())),
                OutboxState::Pending => (None, None),
            };
            // A file message without text has nothing left to keep.
            (!text.is_empty()).then(|| {
                ObjectWriter::new()
                    .str("id", &i.id)
                    .str("text", text)
                    .u64("at", i.at as u64)
                    .opt_u64("reply", *reply_to)
                    .flag("files", !files.is_empty())
                    .opt_str("code", code)
                    .opt_str("reason", reason)
                    .finish()
            })
        })
        .collect();
    if items.is_empty() {
        return String::new();
    }
    ObjectWriter::new()
        .u64("v", 1)
        .opt_str("key", sender_key)
        .raw("m", &json::array(items))
        .finish()
}

/// The sender key and messages kept in `text`, checked; at `now`, the ones
/// that must not go out by themselves carry why.
pub fn decode(text: &str, now: f64) -> (Option<String>, Vec<KeptMessage>) {
    let Ok(doc) = json::parse(text) else {
        return (None, Vec::new());
    };
    if doc.get("v").and_then(Json::as_u64) != Some(1) {
        return (None, Vec::new());
    }
    // It goes into a WebSocket subprotocol: token characters only.
    let key = doc
        .get("key")
        .and_then(Json::as_str)
        .filter(|k| {
            (1..=128).contains(&k.len())
                && k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map(str::to_owned);
    let mut out: Vec<KeptMessage> = Vec::new();
    for m in doc.get("m").and_then(Json::as_array).unwrap_or_default() {
        let field = |k| m.get(k).and_then(Json::as_str);
        let (Some(id), Some(raw), Some(at)) = (
            field("id"),
            field("text"),
            m.get("at").and_then(Json::as_u64),
        ) else {
            continue;
        };
        let Ok(text) = validate::message_text(raw, LIMITS_CEILING.max_message_chars) else {
            continue;
        };
        if !validate::is_client_id(id) || out.iter().any(|k| k.id == id) {
            continue;
        }
        let at = at as f64;
        let failed = match (field("code").and_then(ErrorCode::parse), field("reason")) {
            (Some(code), Some(reason)) => Some(ProtocolError::new(code, reason)),
            _ if m.get("files").and_then(Json::as_bool) == Some(true) => Some(ProtocolError::new(
                ErrorCode::TooLarge,
                "its files were not kept",
            )),
            _ if now - at > STALE_AFTER_MS => Some(ProtocolError::new(
                ErrorCode::TooLate,
                "written over a day ago",
            )),
            _ => None,
        };
        out.push(KeptMessage {
            id: id.to_owned(),
            text,
            reply_to: m.get("reply").and_then(Json::as_u64),
            at,
            failed,
        });
        if out.len() == OUTBOX_CAPACITY {
            break;
        }
    }
    (key.filter(|_| !out.is_empty()), out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::OutgoingFile;
    use proptest::prelude::*;

    const NOW: f64 = 1_800_000_000_000.0;

    fn send(text: &str, files: usize) -> Action {
        Action::Send {
            text: text.into(),
            reply_to: None,
            files: (0..files as u32)
                .map(|i| OutgoingFile::new(i, "a.png", 1, "image/png", None, None, ""))
                .collect(),
        }
    }

    #[test]
    fn round_trip_in_order_with_the_key() {
        let mut o = Outbox::default();
        o.push("a".into(), send("one", 0), NOW);
        o.push(
            "b".into(),
            Action::Send {
                text: "two \"quoted\"\nline".into(),
                reply_to: Some(7),
                files: Vec::new(),
            },
            NOW,
        );
        o.push("e".into(), Action::Delete { target: 3 }, NOW);
        let kept = encode(&o, Some("k3J-q_8.xZ"));
        let (key, msgs) = decode(&kept, NOW + 1000.0);
        assert_eq!(key.as_deref(), Some("k3J-q_8.xZ"));
        let got: Vec<_> = msgs
            .iter()
            .map(|m| {
                (
                    m.id.as_str(),
                    m.text.as_str(),
                    m.reply_to,
                    m.failed.is_none(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("a", "one", None, true),
                ("b", "two \"quoted\"\nline", Some(7), true)
            ],
            "messages only, in order, to be sent by themselves"
        );
    }

    #[test]
    fn nothing_unsent_is_the_empty_string() {
        let mut o = Outbox::default();
        assert_eq!(encode(&o, Some("k")), "");
        o.push("r".into(), Action::Delete { target: 1 }, NOW);
        o.push("f".into(), send("", 1), NOW);
        assert_eq!(encode(&o, Some("k")), "", "no text, nothing to keep");
    }

    #[test]
    fn files_stale_and_refused_ones_wait_for_the_visitor() {
        let mut o = Outbox::default();
        o.push("conflict".into(), send("y", 0), NOW);
        o.next_to_send(NOW);
        let conflict = ProtocolError::new(ErrorCode::IdConflict, "used");
        o.refused("conflict", conflict, NOW, 0.0);
        o.push("files".into(), send("look", 2), NOW);
        o.push("old".into(), send("hi", 0), NOW - STALE_AFTER_MS - 1.0);
        o.push("fresh".into(), send("ok", 0), NOW - STALE_AFTER_MS + 1.0);
        let (_, msgs) = decode(&encode(&o, None), NOW);
        let failed: Vec<_> = msgs
            .iter()
            .map(|m| (m.id.as_str(), m.failed.as_ref().map(|e| e.code)))
            .collect();
        assert_eq!(
            failed,
            [
                ("conflict", Some(ErrorCode::IdConflict)),
                ("files", Some(ErrorCode::TooLarge)),
                ("old", Some(ErrorCode::TooLate)),
                ("fresh", None),
            ]
        );
        assert_eq!(msgs[0].failed.as_ref().unwrap().message, "used");
    }

    #[test]
    fn malformed_entries_are_left_out() {
        let at = "\"at\":1800000000000";
        let doc = |m: &str| ["{\"v\":1,\"key\":\"bad key\",\"m\":[", m, "]}"].concat();
        let text = doc(&[
            "{\"id\":\"ok\",\"text\":\"fine\",",
            at,
            "}",
            ",{\"id\":\"ok\",\"text\":\"again\",",
            at,
            "}",
            ",{\"id\":\"no spaces\",\"text\":\"x\",",
            at,
            "}",
            ",{\"id\":\"blank\",\"text\":\"  \",",
            at,
            "}",
            ",{\"id\":\"ctl\",\"text\":\"a\\u0007\",",
            at,
            "}",
            ",{\"id\":\"noat\",\"text\":\"x\"}",
            ",{\"id\":\"neg\",\"text\":\"x\",\"at\":-1}",
            ",7,\"str\",null",
        ]
        .concat());
        let (key, msgs) = decode(&text, NOW);
        assert_eq!(key, None, "not a token: never offered to the server");
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].id, "ok");
        for garbage in [
            "",
            "null",
            "{}",
            "{\"v\":2,\"m\":[]}",
            "[1]",
            "{\"v\":1,\"m\":{}}",
        ] {
            assert_eq!(decode(garbage, NOW), (None, Vec::new()));
        }
        let many: Vec<String> = (0..200)
            .map(|i| {
                [
                    "{\"id\":\"i",
                    &crate::text::decimal(i),
                    "\",\"text\":\"x\",",
                    at,
                    "}",
                ]
                .concat()
            })
            .collect();
        let (_, msgs) = decode(&doc(&many.join(",")), NOW);
        assert_eq!(msgs.len(), OUTBOX_CAPACITY, "bounded like the outbox");
    }

    proptest! {
        #[test]
        fn any_text_round_trips(texts in proptest::collection::vec("[^\\x00-\\x1f\\x7f]{1,40}", 0..10),
                                key in proptest::option::of("[A-Za-z0-9_.-]{1,60}")) {
            let mut o = Outbox::default();
            let mut want = Vec::new();
            for (i, t) in texts.iter().enumerate() {
                let id = ["m", &crate::text::decimal(i as u64)].concat();
                o.push(id.clone(), send(t, 0), NOW);
                if let Ok(t) = validate::message_text(t, LIMITS_CEILING.max_message_chars) {
                    want.push((id, t));
                }
            }
            let (k, msgs) = decode(&encode(&o, key.as_deref()), NOW);
            let got: Vec<_> = msgs.into_iter().map(|m| (m.id, m.text)).collect();
            prop_assert_eq!(&got, &want);
            prop_assert_eq!(k, key.filter(|_| !want.is_empty()));
        }

        #[test]
        fn garbage_restores_nothing_and_never_panics(s in ".{0,300}") {
            let (key, msgs) = decode(&s, NOW);
            prop_assert!(msgs.is_empty() || s.contains("\"m\""));
            prop_assert!(key.is_none() || !msgs.is_empty());
        }

        #[test]
        fn mangled_documents_never_panic(cut in 0usize..400, flip in 0usize..400, b in any::<u8>()) {
            let mut o = Outbox::default();
            o.push("a".into(), send("hello", 0), NOW);
            o.push("b".into(), send("world", 1), NOW);
            let mut bytes = encode(&o, Some("key.1")).into_bytes();
            if flip < bytes.len() { bytes[flip] = b; }
            bytes.truncate(cut);
            let (_, msgs) = decode(&String::from_utf8_lossy(&bytes), NOW);
            for m in msgs {
                prop_assert!(validate::is_client_id(&m.id) && !m.text.trim().is_empty());
            }
        }
    }
}
