//! What the visitor typed, and who they are, as one string the widget keeps
//! in the browser's storage, so a reload (or a discarded tab) loses neither
//! the composer's draft, nor the outbox's unsent messages, nor an anonymous
//! visitor's sender key.
//!
//! One small JSON document:
//! `{"draft":"…","key":"<sender key>","m":[{"at":<ms>,"frame":{…}}, …]}`.
//! Each message is kept as the `send` frame the outbox puts on the wire
//! ([`Action::frame`], encoded by
//! [`ClientFrame::encode`](crate::client_frame::ClientFrame::encode)), so there is no
//! second serializer, and read back from it by the JSON reader the widget
//! already has (not `ClientFrame::parse`: the room's parser, with its error
//! texts, is not in the widget and would weigh more than this module).
//! Only messages are kept (edits, reactions and the like made offline are
//! not), each under its client id: sent again after the reload under that
//! id, it is stored once even if the room had it already (the room
//! recognises a retry by sender and id).
//!
//! The anonymous sender key is kept for as long as the storage lasts: after
//! a reload the visitor's messages are still theirs to edit and delete, and
//! their other tabs are the same person, as Intercom and Crisp keep an
//! anonymous visitor per browser. The storage is per server, site, room and
//! name, so the next visitor of a shared browser gets it only under the
//! same name; a site for shared devices turns it off (`rememberVisitor:
//! false`), or signs its users in.
//!
//! What is read back is input: anything malformed is left out, and garbage
//! restores nothing.
//!
//! Some come back "Not sent" rather than going out by themselves: one the
//! room had refused (`code` and `reason`, as it was), one that had files
//! (their bytes did not survive; Retry sends the text alone) and one written
//! over a day ago.

use crate::error::{ErrorCode, ProtocolError};
use crate::json::{self, Json, ObjectWriter};
use crate::limits::LIMITS_CEILING;
use crate::outbox::{Action, Outbox, OutboxState};
use crate::validate;

/// Older than this, a kept message waits for the visitor's Retry.
pub const STALE_AFTER_MS: f64 = 24.0 * 3600.0 * 1000.0;

/// A draft is kept up to this many bytes of UTF-8: four times the largest
/// message any site allows, in characters of up to four bytes (room for the
/// blanks and line ends the room trims). Longer (a paste gone wrong) it
/// could not be sent, and it would be encoded again at every event and
/// written at every keystroke.
pub const DRAFT_MAX_BYTES: usize = 16 * LIMITS_CEILING.max_message_chars;

/// What to keep: "" when there is no draft, nothing unsent and no sender
/// key (the adapter then removes it). `stored`: what another tab of this
/// visitor wrote since this page last did ("" if none): its unsent messages
/// (kept by a tab that is offline, or was closed offline) stay, or this
/// write would lose them, merged with ours in the order they were typed
/// (each tab's are in order already). Those this outbox had are ours to
/// keep or drop; the draft is this page's composer's.
pub fn encode(
    draft: &str,
    outbox: &Outbox,
    stored: &str,
    now: f64,
    sender_key: Option<&str>,
) -> String {
    let mut others = Outbox::default();
    decode(stored, now, &mut others);
    let mut others = others.items().filter(|i| !outbox.knows(&i.id)).peekable();
    let mut ours = outbox.items().peekable();
    // (A merge, not a sort: a sort is kilobytes of the widget.)
    let in_typed_order = std::iter::from_fn(|| match (ours.peek(), others.peek()) {
        (Some(o), Some(t)) if t.at < o.at => others.next(),
        (Some(_), _) => ours.next(),
        (None, _) => others.next(),
    });
    // The array is written here: `json::array` over a `Vec` would be one
    // more copy of it in the widget.
    let mut kept = String::new();
    for i in in_typed_order {
        let Action::Send { text, files, .. } = &i.action else {
            continue;
        };
        // A message of files alone has nothing left to keep.
        if text.is_empty() {
            continue;
        }
        let mut w = ObjectWriter::new().u64("at", i.at as u64);
        let failed = match &i.state {
            OutboxState::Failed(e) => Some((e.code, e.message.as_str())),
            OutboxState::Pending if !files.is_empty() => {
                // (Not `too_large`: the files were fine; a reload lost them.)
                Some((ErrorCode::Internal, "its files were not kept"))
            }
            OutboxState::Pending => None,
        };
        if let Some((code, reason)) = failed {
            w = w.str("code", code.as_str()).str("reason", reason);
        }
        kept.push(if kept.is_empty() { '[' } else { ',' });
        kept.push_str(&w.raw("frame", &i.action.frame(&i.id).encode()).finish());
    }
    if kept.is_empty() && draft.is_empty() && sender_key.is_none() {
        return String::new();
    }
    let mut end = draft.len().min(DRAFT_MAX_BYTES);
    while !draft.is_char_boundary(end) {
        end -= 1;
    }
    let draft = &draft[..end];
    let w = ObjectWriter::new()
        .str("draft", draft)
        .opt_str("key", sender_key);
    if kept.is_empty() {
        return w.finish();
    }
    kept.push(']');
    w.raw("m", &kept).finish()
}

/// Queue the messages kept in `text` into `outbox` (checked, in order; at
/// `now`, the ones that must not go out by themselves as failed); returns
/// the draft and the sender key kept with them.
pub fn decode(text: &str, now: f64, outbox: &mut Outbox) -> (String, Option<String>) {
    let Ok(doc) = json::parse(text) else {
        return (String::new(), None);
    };
    for m in doc.get("m").and_then(Json::as_array).unwrap_or_default() {
        let (Some(frame), Some(at)) = (m.get("frame"), m.get("at").and_then(Json::as_u64)) else {
            continue;
        };
        let (Some(id), Some(text)) = (field(frame, "id"), field(frame, "message")) else {
            continue;
        };
        let Ok(text) = validate::message_text(text, LIMITS_CEILING.max_message_chars) else {
            continue;
        };
        if !validate::is_client_id(id) {
            continue;
        }
        let at = at as f64;
        let code = field(m, "code").and_then(ErrorCode::parse);
        let state = match (code, field(m, "reason")) {
            (Some(code), Some(reason)) => OutboxState::Failed(ProtocolError::new(code, reason)),
            _ if now - at > STALE_AFTER_MS => OutboxState::Failed(ProtocolError::new(
                ErrorCode::TooLate,
                "written over a day ago",
            )),
            _ => OutboxState::Pending,
        };
        let action = Action::Send {
            text,
            reply_to: frame.get("replyTo").and_then(Json::as_u64),
            files: Vec::new(),
        };
        outbox.push(id.to_owned(), action, at, state);
    }
    // It goes into a WebSocket subprotocol, which a bad one would keep
    // from opening (and it would be kept again, for good).
    let key = field(&doc, "key").filter(|k| validate::is_sender_credential(k));
    (
        field(&doc, "draft").unwrap_or_default().to_owned(),
        key.map(str::to_owned),
    )
}

fn field<'a>(json: &'a Json, key: &str) -> Option<&'a str> {
    json.get(key)?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::{OutgoingFile, OUTBOX_CAPACITY};
    use proptest::prelude::*;

    const NOW: f64 = 1_800_000_000_000.0;
    const PENDING: OutboxState = OutboxState::Pending;

    fn send(text: &str, files: usize) -> Action {
        Action::Send {
            text: text.into(),
            reply_to: None,
            files: (0..files as u32)
                .map(|i| OutgoingFile::new(i, "a.png", 1, "image/png", None, None, ""))
                .collect(),
        }
    }

    /// What a page restores from `kept`: (id, text, reply, why not sent).
    fn restored(kept: &str, now: f64) -> Vec<(String, String, Option<u64>, Option<ErrorCode>)> {
        let mut o = Outbox::default();
        decode(kept, now, &mut o);
        o.items()
            .map(|i| {
                let Action::Send { text, reply_to, .. } = &i.action else {
                    panic!("only messages are restored");
                };
                let failed = match &i.state {
                    OutboxState::Failed(e) => Some(e.code),
                    OutboxState::Pending => None,
                };
                (i.id.clone(), text.clone(), *reply_to, failed)
            })
            .collect()
    }

    /// A tab's write, as the widget makes it at every change: merged with
    /// what storage holds.
    fn write(storage: &mut String, draft: &str, o: &Outbox) {
        *storage = encode(draft, o, storage, NOW, None);
    }

    #[test]
    fn another_tabs_kept_message_survives_every_write_of_this_tab() {
        // Tab A, offline, kept "from a" and was closed.
        let mut a = Outbox::default();
        a.push("a1".into(), send("from a", 0), NOW, PENDING);
        let mut storage = encode("", &a, "", NOW, None);
        // Tab B types on.
        let b = Outbox::default();
        for draft in ["h", "hi", "hi there"] {
            write(&mut storage, draft, &b);
            assert!(storage.contains("from a"), "{draft}: {storage}");
        }
    }

    #[test]
    fn a_retry_under_a_new_id_does_not_bring_the_old_one_back() {
        let mut o = Outbox::default();
        o.push("x".into(), send("hello", 0), NOW, PENDING);
        let mut storage = String::new();
        write(&mut storage, "", &o);
        let taken = crate::ProtocolError::new(ErrorCode::IdConflict, "taken");
        o.refused("x", taken, NOW, 0.0);
        o.retry("x", "x2".into());
        write(&mut storage, "", &o);
        let ids: Vec<String> = restored(&storage, NOW).into_iter().map(|r| r.0).collect();
        assert_eq!(ids, ["x2"]);
    }

    #[test]
    fn a_tab_keeps_what_another_tab_kept_and_drops_what_it_sent_itself() {
        // Tab A, offline, kept "from a" and "both" (which tab B restored
        // too and has sent since).
        let mut a = Outbox::default();
        a.push("a1".into(), send("from a", 0), NOW, PENDING);
        a.push("ab".into(), send("both", 0), NOW, PENDING);
        let stored = encode("a's draft", &a, "", NOW, Some("k.1"));
        // Tab B sent "both", and has one of its own.
        let mut b = Outbox::default();
        b.push("ab".into(), send("both", 0), NOW, PENDING);
        b.ack("ab");
        b.push("b1".into(), send("from b", 0), NOW, PENDING);
        let kept = encode("b's draft", &b, &stored, NOW, Some("k.1"));
        let ids: Vec<String> = restored(&kept, NOW).into_iter().map(|r| r.0).collect();
        assert_eq!(
            ids,
            ["b1", "a1"],
            "its own, then the other tab's; not the sent one"
        );
        let (draft, key) = decode(&kept, NOW, &mut Outbox::default());
        assert_eq!((draft.as_str(), key.as_deref()), ("b's draft", Some("k.1")));
    }

    #[test]
    fn two_tabs_unsent_messages_come_back_in_the_order_they_were_typed() {
        // Offline, tab A kept "1" and "3", tab B typed "2" and "4" between.
        let mut a = Outbox::default();
        a.push("a1".into(), send("1", 0), NOW, PENDING);
        a.push("a3".into(), send("3", 0), NOW + 2.0, PENDING);
        let stored = encode("", &a, "", NOW + 2.0, None);
        let mut b = Outbox::default();
        b.push("b2".into(), send("2", 0), NOW + 1.0, PENDING);
        b.push("b4".into(), send("4", 0), NOW + 3.0, PENDING);
        let kept = encode("", &b, &stored, NOW + 3.0, None);
        let texts: Vec<String> = restored(&kept, NOW).into_iter().map(|r| r.1).collect();
        assert_eq!(texts, ["1", "2", "3", "4"]);
    }

    #[test]
    fn messages_round_trip_in_order_with_the_key_and_the_draft() {
        let mut o = Outbox::default();
        o.push("a".into(), send("one", 0), NOW, PENDING);
        let reply = Action::Send {
            text: "two \"quoted\"\nline".into(),
            reply_to: Some(7),
            files: Vec::new(),
        };
        o.push("b".into(), reply, NOW, PENDING);
        o.push("e".into(), Action::Delete { target: 3 }, NOW, PENDING);
        let kept = encode("half a thought", &o, "", NOW, Some("k3J-q_8.xZ"));
        assert!(
            kept.contains(
                r#"{"type":"send","id":"b","message":"two \"quoted\"\nline","replyTo":7}"#
            ),
            "each message as its wire frame: {kept}"
        );
        let mut back = Outbox::default();
        let (draft, key) = decode(&kept, NOW + 1000.0, &mut back);
        assert_eq!(
            (draft.as_str(), key.as_deref()),
            ("half a thought", Some("k3J-q_8.xZ"))
        );
        assert_eq!(
            restored(&kept, NOW + 1000.0),
            [
                ("a".into(), "one".into(), None, None),
                ("b".into(), "two \"quoted\"\nline".into(), Some(7), None)
            ],
            "messages only, in order, to be sent by themselves"
        );
    }

    #[test]
    fn nothing_typed_nothing_unsent_and_no_key_is_the_empty_string() {
        let mut o = Outbox::default();
        assert_eq!(encode("", &o, "", NOW, None), "");
        o.push("r".into(), Action::Delete { target: 1 }, NOW, PENDING);
        o.push("f".into(), send("", 1), NOW, PENDING);
        assert_eq!(
            encode("", &o, "", NOW, None),
            "",
            "no text, nothing to keep"
        );
        let draft_only = encode("hi", &o, "", NOW, Some("k"));
        assert_eq!(draft_only, r#"{"draft":"hi","key":"k"}"#);
    }

    #[test]
    fn a_huge_draft_is_kept_up_to_its_cap() {
        let o = Outbox::default();
        // Three bytes each, so the cap falls inside a character.
        let huge = "€".repeat(1_000_000);
        let kept = encode(&huge, &o, "", NOW, None);
        assert!(kept.len() < DRAFT_MAX_BYTES + 20, "{} bytes", kept.len());
        let (draft, _) = decode(&kept, NOW, &mut Outbox::default());
        assert_eq!(draft.len(), DRAFT_MAX_BYTES - DRAFT_MAX_BYTES % 3);
        assert!(huge.starts_with(&draft));
        let at_cap = "x".repeat(DRAFT_MAX_BYTES);
        let (draft, _) = decode(
            &encode(&at_cap, &o, "", NOW, None),
            NOW,
            &mut Outbox::default(),
        );
        assert_eq!(draft, at_cap, "up to the cap, all of it");
    }

    #[test]
    fn the_sender_key_is_kept_with_or_without_messages() {
        let mut o = Outbox::default();
        let alone = encode("", &o, "", NOW, Some("key.1"));
        assert_eq!(alone, r#"{"draft":"","key":"key.1"}"#);
        assert_eq!(
            decode(&alone, NOW, &mut o),
            (String::new(), Some("key.1".into()))
        );
        o.push("fresh".into(), send("ok", 0), NOW, PENDING);
        let (_, key) = decode(
            &encode("", &o, "", NOW, Some("key.1")),
            NOW,
            &mut Outbox::default(),
        );
        assert_eq!(key.as_deref(), Some("key.1"), "and with them");
        for forged in [r#""a b\r\nX""#, r#""evil:1""#, r#""nodot""#, "7"] {
            let doc = [r#"{"draft":"","key":"#, forged, "}"].concat();
            assert_eq!(decode(&doc, NOW, &mut o).1, None, "not a key: {forged}");
        }
        assert_eq!(
            encode("", &Outbox::default(), "", NOW, None),
            "",
            "nothing to keep"
        );
    }

    #[test]
    fn files_stale_and_refused_ones_wait_for_the_visitor() {
        let mut o = Outbox::default();
        o.push("conflict".into(), send("y", 0), NOW, PENDING);
        o.next_to_send(NOW);
        let conflict = ProtocolError::new(ErrorCode::IdConflict, "used");
        o.refused("conflict", conflict, NOW, 0.0);
        o.push("files".into(), send("look", 2), NOW, PENDING);
        o.push(
            "old".into(),
            send("hi", 0),
            NOW - STALE_AFTER_MS - 1.0,
            PENDING,
        );
        o.push(
            "fresh".into(),
            send("ok", 0),
            NOW - STALE_AFTER_MS + 1.0,
            PENDING,
        );
        let kept = encode("", &o, "", NOW, None);
        let failed: Vec<_> = restored(&kept, NOW)
            .into_iter()
            .map(|m| (m.0, m.3))
            .collect();
        assert_eq!(
            failed,
            [
                ("conflict".into(), Some(ErrorCode::IdConflict)),
                ("files".into(), Some(ErrorCode::Internal)),
                ("old".into(), Some(ErrorCode::TooLate)),
                ("fresh".into(), None),
            ]
        );
        let mut back = Outbox::default();
        decode(&kept, NOW, &mut back);
        let first = back.items().next().map(|i| i.state.clone());
        assert_eq!(
            first,
            Some(OutboxState::Failed(ProtocolError::new(
                ErrorCode::IdConflict,
                "used"
            ))),
            "with the room's reason"
        );
    }

    #[test]
    fn malformed_entries_are_left_out() {
        let entry = |frame: &str| [r#"{"at":1800000000000,"frame":"#, frame, "}"].concat();
        let doc = |m: &[String]| [r#"{"key":"bad key","m":["#, &m.join(","), "]}"].concat();
        let text = doc(&[
            entry(r#"{"id":"ok","message":"fine"}"#),
            entry(r#"{"id":"no spaces","message":"x"}"#),
            entry(r#"{"id":"blank","message":"  "}"#),
            entry(r#"{"id":"ctl","message":"a\u0007"}"#),
            entry(r#"{"message":"no id"}"#),
            r#"{"frame":{"id":"noat","message":"x"}}"#.into(),
            r#"{"at":-1,"frame":{"id":"neg","message":"x"}}"#.into(),
            "7".into(),
            "\"str\"".into(),
            "null".into(),
        ]);
        let mut o = Outbox::default();
        let (draft, key) = decode(&text, NOW, &mut o);
        assert_eq!(key, None, "not a token: never offered to the server");
        assert_eq!(draft, "");
        let ids: Vec<_> = restored(&text, NOW).into_iter().map(|m| m.0).collect();
        assert_eq!(ids, ["ok"]);
        for garbage in ["", "null", "{}", "[1]", r#"{"m":{}}"#, r#"{"draft":7}"#] {
            let mut o = Outbox::default();
            assert_eq!(decode(garbage, NOW, &mut o), (String::new(), None));
            assert!(o.is_empty());
        }
        let many: Vec<String> = (0..200)
            .map(|i| {
                let id = ["i", &crate::text::decimal(i)].concat();
                entry(&[r#"{"id":""#, &id, r#"","message":"x"}"#].concat())
            })
            .collect();
        assert_eq!(
            restored(&doc(&many), NOW).len(),
            OUTBOX_CAPACITY,
            "bounded like the outbox"
        );
    }

    proptest! {
        #[test]
        fn any_text_and_draft_round_trip(
            texts in proptest::collection::vec("[^\\x00-\\x1f\\x7f]{1,40}", 0..10),
            draft in ".{0,40}",
            key in proptest::option::of("[A-Za-z0-9_-]{1,30}\\.[A-Za-z0-9_-]{1,30}"),
        ) {
            let mut o = Outbox::default();
            let mut want = Vec::new();
            for (i, t) in texts.iter().enumerate() {
                let id = ["m", &crate::text::decimal(i as u64)].concat();
                o.push(id.clone(), send(t, 0), NOW, PENDING);
                if let Ok(t) = validate::message_text(t, LIMITS_CEILING.max_message_chars) {
                    want.push((id, t));
                }
            }
            let kept = encode(&draft, &o, "", NOW, key.as_deref());
            // Texts the room would refuse (a C1 control, blanks) are kept
            // too, and left out when read back.
            prop_assert_eq!(kept.is_empty(), draft.is_empty() && texts.is_empty() && key.is_none());
            let mut back = Outbox::default();
            let (d, k) = decode(&kept, NOW, &mut back);
            let got: Vec<_> = restored(&kept, NOW).into_iter().map(|m| (m.0, m.1)).collect();
            prop_assert_eq!(&got, &want);
            prop_assert_eq!(d, draft);
            prop_assert_eq!(k, key);
        }

        #[test]
        fn garbage_restores_nothing_and_never_panics(s in ".{0,300}") {
            let mut o = Outbox::default();
            let (_, key) = decode(&s, NOW, &mut o);
            prop_assert!(o.is_empty() || s.contains("\"m\""));
            prop_assert!(key.is_none() || !o.is_empty());
        }

        #[test]
        fn mangled_documents_never_panic(cut in 0usize..400, flip in 0usize..400, b in any::<u8>()) {
            let mut o = Outbox::default();
            o.push("a".into(), send("hello", 0), NOW, PENDING);
            o.push("b".into(), send("world", 1), NOW, PENDING);
            let mut bytes = encode("draft", &o, "", NOW, Some("key.1")).into_bytes();
            if flip < bytes.len() { bytes[flip] = b; }
            bytes.truncate(cut);
            for (id, text, ..) in restored(&String::from_utf8_lossy(&bytes), NOW) {
                prop_assert!(validate::is_client_id(&id) && !text.trim().is_empty());
            }
        }
    }
}
