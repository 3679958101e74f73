//! Property-based fuzzing of every parser in `protocol/` (proptest): no input
//! panics, and every accepted input round-trips. Runs a bounded number of
//! cases in `npm test`; for a longer run:
//!   PROPTEST_CASES=200000 cargo test -p hello-chat-protocol --all-features --release --test fuzz
//! Inputs that once failed are kept as regression cases at the bottom.

use hello_chat_protocol::client_frame::{ClientFrame, Dialect, HistoryAnchor};
use hello_chat_protocol::connect::ConnectParams;
use hello_chat_protocol::json::{self, Json};
use hello_chat_protocol::message::RoomEvent;
use hello_chat_protocol::server_frame::Welcome;
use hello_chat_protocol::session::{Effect, Session, SessionConfig};
use hello_chat_protocol::validate::{clean_name, message_text};
use hello_chat_protocol::{jwt, origin, ChatMessage, ErrorCode, ProtocolError, ServerFrame};
use proptest::prelude::*;

/// Text that looks like frames: JSON punctuation, keys, escapes, numbers,
/// unicode and control characters, glued at random.
fn frameish() -> impl Strategy<Value = String> {
    let atoms = prop_oneof![
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just(":".to_owned()),
        Just(",".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        Just("\"type\"".to_owned()),
        Just("\"send\"".to_owned()),
        Just("\"history\"".to_owned()),
        Just("\"typing\"".to_owned()),
        Just("\"message\"".to_owned()),
        Just("\"id\"".to_owned()),
        Just("\"before\"".to_owned()),
        Just("\"after\"".to_owned()),
        Just("\"limit\"".to_owned()),
        Just("\\u00e9".to_owned()),
        Just("\\ud83d\\ude00".to_owned()),
        Just("\\ud800".to_owned()),
        Just("-0".to_owned()),
        Just("1e999".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("true".to_owned()),
        Just("null".to_owned()),
        Just(" ".to_owned()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "[\\PC\\pC]{0,4}",
    ];
    prop::collection::vec(atoms, 0..40).prop_map(|v| v.concat())
}

fn chat_message() -> impl Strategy<Value = ChatMessage> {
    (
        1u64..1 << 53,
        "[\\PC\\pC]{0,12}",
        "[\\PC\\pC]{0,12}",
        "[\\PC\\pC]{0,40}",
        0u64..1 << 53,
        "[A-Za-z0-9_-]{0,12}",
        any::<bool>(),
    )
        .prop_map(
            |(seq, id, name, message, timestamp, sender, verified)| ChatMessage {
                seq,
                id,
                name,
                message,
                timestamp,
                sender,
                verified,
                ..ChatMessage::default()
            },
        )
}

/// A message from us (`mine`) or from someone else.
fn message(seq: u64, mine: bool) -> ChatMessage {
    let sender = if mine { "me" } else { "other" };
    ChatMessage {
        seq,
        id: format!("m{seq}"),
        name: "x".into(),
        message: "hi".into(),
        timestamp: 0,
        sender: sender.into(),
        ..ChatMessage::default()
    }
}

fn client_frame() -> impl Strategy<Value = ClientFrame> {
    prop_oneof![
        (
            proptest::option::of("[A-Za-z0-9_.:-]{1,64}"),
            "[\\PC\\pC]{0,60}"
        )
            .prop_map(|(id, message)| ClientFrame::Send {
                id,
                message,
                reply_to: None,
                attachments: Vec::new(),
            }),
        (0u64..1 << 53, 1usize..=100, any::<bool>()).prop_map(|(s, limit, before)| {
            ClientFrame::History {
                anchor: if before {
                    HistoryAnchor::Before(s)
                } else {
                    HistoryAnchor::After(s)
                },
                limit,
            }
        }),
        Just(ClientFrame::Typing),
    ]
}

fn server_frame() -> impl Strategy<Value = ServerFrame> {
    prop_oneof![
        (0u64..1 << 53, any::<u32>(), ".{0,10}", 1usize..5000).prop_map(
            |(seq, online, name, max_message_chars)| ServerFrame::Welcome(Welcome {
                seq,
                online,
                name,
                max_message_chars,
                sender: "s".into(),
                verified: seq % 2 == 0,
                sender_key: (seq % 3 == 0).then(|| "k.m".into()),
                ..Welcome::default()
            })
        ),
        (
            prop::collection::vec(chat_message(), 0..4),
            any::<bool>(),
            proptest::option::of(0u64..1 << 53)
        )
            .prop_map(|(messages, more, a)| ServerFrame::History {
                events: messages.into_iter().map(RoomEvent::Message).collect(),
                more,
                anchor: a.map(HistoryAnchor::After)
            }),
        chat_message().prop_map(ServerFrame::Message),
        ("[\\PC\\pC]{0,10}", 0u64..1 << 53, 0u64..1 << 53)
            .prop_map(|(id, seq, timestamp)| ServerFrame::Ack { id, seq, timestamp }),
        (
            any::<u32>(),
            proptest::option::of(".{0,8}"),
            proptest::option::of(".{0,8}")
        )
            .prop_map(|(online, joined, left)| ServerFrame::Presence {
                online,
                joined,
                left,
                member: None
            }),
        (".{0,8}", proptest::option::of("[a-z.]{1,8}"))
            .prop_map(|(name, sender)| ServerFrame::Typing { name, sender }),
        (".{0,30}", proptest::option::of("[a-z0-9]{1,8}")).prop_map(|(m, id)| ServerFrame::Error(
            ProtocolError::new(ErrorCode::TooLong, m).with_id(id.as_deref())
        )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn json_accepts_exactly_what_serde_json_accepts(text in frameish()) {
        let ours = json::parse(&text);
        let theirs = serde_json::from_str::<serde_json::Value>(&text);
        match (&ours, &theirs) {
            (Ok(_), Ok(_)) | (Err(_), Err(_)) => {}
            // serde_json evaluates numbers and refuses those it cannot hold;
            // we accept them unevaluated (no frame field takes them).
            (Ok(_), Err(e)) => prop_assert!(e.to_string().contains("number out of range"), "{text:?}: {e}"),
            (Err(_), Ok(_)) => prop_assert!(false, "serde_json accepts {text:?} but we do not"),
        }
        if let (Ok(Json::Str(a)), Ok(serde_json::Value::String(b))) = (&ours, &theirs) {
            prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn json_strings_round_trip(s in "[\\PC\\pC]{0,80}") {
        let mut out = String::new();
        json::write_str(&mut out, &s);
        prop_assert_eq!(json::parse(&out), Ok(Json::Str(s.clone())));
        prop_assert_eq!(serde_json::from_str::<String>(&out).unwrap(), s);
    }

    #[test]
    fn client_frames_never_panic_and_accepted_ones_round_trip(text in frameish()) {
        for dialect in [Dialect::V1, Dialect::Legacy] {
            if let Ok(frame) = ClientFrame::parse(&text, dialect) {
                if dialect == Dialect::V1 {
                    prop_assert_eq!(ClientFrame::parse(&frame.encode(), Dialect::V1), Ok(frame));
                }
            }
        }
    }

    #[test]
    fn client_frames_encode_then_parse(frame in client_frame()) {
        prop_assert_eq!(ClientFrame::parse(&frame.encode(), Dialect::V1), Ok(frame));
    }

    #[test]
    fn server_frames_never_panic_and_round_trip(text in frameish(), frame in server_frame()) {
        if let Ok(parsed) = ServerFrame::parse(&text) {
            prop_assert_eq!(ServerFrame::parse(&parsed.encode()), Ok(parsed));
        }
        prop_assert_eq!(ServerFrame::parse(&frame.encode()), Ok(frame));
    }

    #[test]
    fn names_are_clean_bounded_and_stable(raw in "[\\PC\\pC]{0,80}") {
        let name = clean_name(&raw);
        prop_assert!(!name.is_empty() && name.chars().count() <= 32);
        prop_assert!(!name.chars().any(|c| c.is_control()));
        prop_assert!(!name.starts_with(' ') && !name.ends_with(' '));
        prop_assert_eq!(clean_name(&name), name.clone(), "cleaning is idempotent");
    }

    #[test]
    fn message_text_never_panics_and_is_trimmed(raw in "[\\PC\\pC]{0,120}", max in 1usize..200) {
        if let Ok(text) = message_text(&raw, max) {
            prop_assert_eq!(text.trim(), text.as_str());
            prop_assert!(!text.is_empty() && text.chars().count() <= max);
        }
    }

    #[test]
    fn connect_queries_never_panic(pairs in prop::collection::vec(("[a-z]{1,6}", "[\\PC\\pC]{0,20}"), 0..8)) {
        let _ = ConnectParams::from_pairs(pairs);
    }

    #[test]
    fn tokens_never_panic(token in "[A-Za-z0-9_.=+/-]{0,200}", secret in proptest::collection::vec(any::<u8>(), 0..40)) {
        prop_assert!(jwt::verify(&token, &secret, "site", "room", 1e9).is_err());
    }

    #[test]
    fn origins_never_panic(origin_text in "[\\PC\\pC]{0,40}", pattern in "[\\PC\\pC]{0,40}") {
        let _ = origin::is_valid_pattern(&pattern);
        let _ = origin::is_allowed(&origin_text, &[pattern]);
    }

    /// Whatever the server and the network do, the widget shows messages in
    /// strictly increasing seq order, each at most once, and never panics.
    #[test]
    fn session_shows_each_message_once_in_order(steps in prop::collection::vec((0u8..8, 1u64..60, any::<bool>()), 0..120)) {
        let mut counter = 0u8;
        let entropy = Box::new(move |buf: &mut [u8; 16]| { counter = counter.wrapping_add(1); buf.fill(counter); });
        let mut s = Session::new(SessionConfig { room: "r".into(), name: "n".into(), site: None, token: None }, entropy);
        let mut now = 0.0;
        s.start(now);
        let mut last_shown = 0u64;
        for (kind, seq, flag) in steps {
            now += 250.0;
            match kind {
                0 => s.on_text(&ServerFrame::Welcome(Welcome {
                    seq, online: 1, name: "n".into(), max_message_chars: 2000, sender: "me".into(), ..Welcome::default()
                }).encode(), now),
                1 => s.on_text(&ServerFrame::Message(message(seq, flag)).encode(), now),
                2 => {
                    let events = (seq..seq + 3).map(|q| RoomEvent::Message(message(q, flag))).collect();
                    let anchor = if flag { Some(HistoryAnchor::After(seq - 1)) } else { None };
                    s.on_text(&ServerFrame::History { events, more: flag, anchor }.encode(), now);
                }
                3 => { let _ = s.send("hello", now); }
                4 => s.on_close(if flag { 1006 } else { 1001 }, "", now),
                5 => { if let Some(t) = s.poll_timeout() { now = now.max(t); s.handle_timeout(now); } }
                6 => s.set_browser_online(flag, now),
                _ => s.on_text(&ServerFrame::Ack { id: "nope".into(), seq, timestamp: 0 }.encode(), now),
            }
            while let Some(effect) = s.poll_effect() {
                if let Effect::Show(messages) = effect {
                    for m in messages {
                        prop_assert!(m.seq > last_shown, "seq {} shown after {}", m.seq, last_shown);
                        last_shown = m.seq;
                    }
                }
            }
        }
    }
}

// Regression cases: inputs that once broke a parser.
#[test]
fn regressions() {
    for text in [
        "",
        "\"\\u",
        "{\"type\":\"send\",\"id\":\"",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        "-",
        "1e",
        "\"\\ud800\\u0041\"",
    ] {
        assert!(ClientFrame::parse(text, Dialect::V1).is_err());
        assert!(ServerFrame::parse(text).is_err());
    }
}
