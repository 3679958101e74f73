//! The room's rules, one at a time (the invariants under random interleavings
//! are property-tested in protocol/tests/room.rs).

use super::*;
use crate::json::{self, Json};
use crate::limits::Limits;

const T0: u64 = 1_764_330_000_000;

fn core() -> RoomCore {
    RoomCore::new(RoomKey::new([9; 32]))
}

fn request(name: &str) -> JoinRequest {
    JoinRequest {
        name: name.into(),
        user: None,
        sender_key: None,
        address: Some("203.0.113.7".into()),
        dialect: Dialect::V1,
        since: None,
        limits: Limits::default(),
        entropy: entropy(name),
    }
}

/// Distinct random bytes per name (a real adapter draws them from crypto).
fn entropy(name: &str) -> [u8; 16] {
    let mut bytes = [0u8; 16];
    for (i, b) in name.bytes().enumerate() {
        bytes[i % 16] ^= b.wrapping_mul(31).wrapping_add(i as u8);
    }
    bytes
}

fn verified(sub: &str, name: Option<&str>) -> JoinRequest {
    JoinRequest {
        user: Some(VerifiedUser {
            sub: sub.into(),
            name: name.map(Into::into),
        }),
        ..request("ignored")
    }
}

/// Join and return the member and the frames it was sent.
fn join(core: &mut RoomCore, store: &mut MemoryStore, req: JoinRequest) -> (Member, Vec<Json>) {
    match core.join(req, Sockets::default(), T0, store).unwrap() {
        Joined::Accepted { member, outputs } => (member, replies(&outputs)),
        Joined::Refused { error, .. } => panic!("refused: {error}"),
    }
}

fn replies(outputs: &[Output]) -> Vec<Json> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Reply(text) => Some(json::parse(text).unwrap()),
            _ => None,
        })
        .collect()
}

fn broadcasts(outputs: &[Output]) -> Vec<Json> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Broadcast { v1, .. } => Some(json::parse(v1).unwrap()),
            _ => None,
        })
        .collect()
}

fn send(
    core: &mut RoomCore,
    store: &mut MemoryStore,
    m: &Member,
    id: &str,
    text: &str,
) -> Vec<Output> {
    let frame = crate::client_frame::ClientFrame::Send {
        id: Some(id.into()),
        message: text.into(),
    }
    .encode();
    core.handle_frame(m, &frame, Sockets::default(), T0 + 1, store)
        .unwrap()
}

fn field<'a>(frame: &'a Json, key: &str) -> &'a Json {
    frame.get(key).unwrap_or(&Json::Null)
}

fn kind(frame: &Json) -> &str {
    field(frame, "type").as_str().unwrap_or("")
}

#[test]
fn a_message_is_stored_acked_and_broadcast() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, welcome) = join(&mut core, &mut store, request("Ada"));
    assert_eq!(kind(&welcome[0]), "welcome");
    assert_eq!(
        field(&welcome[0], "sender").as_str(),
        Some(ada.sender.as_str())
    );
    assert!(
        field(&welcome[0], "senderKey").as_str().is_some(),
        "anonymous members get a sender key"
    );
    let out = send(&mut core, &mut store, &ada, "m1", "  hello ");
    let ack = &replies(&out)[0];
    assert_eq!((kind(ack), field(ack, "seq").as_u64()), ("ack", Some(1)));
    let message = &broadcasts(&out)[0];
    assert_eq!(field(message, "message").as_str(), Some("hello"));
    assert_eq!(field(message, "sender").as_str(), Some(ada.sender.as_str()));
    assert_eq!(field(message, "verified").as_bool(), Some(false));
    assert_eq!(store.all().len(), 1);
}

#[test]
fn a_retry_is_acked_with_its_original_seq_and_stored_once() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    send(&mut core, &mut store, &ada, "m1", "hello");
    send(&mut core, &mut store, &ada, "m2", "again");
    let out = send(&mut core, &mut store, &ada, "m1", "hello");
    assert_eq!(field(&replies(&out)[0], "seq").as_u64(), Some(1));
    assert!(broadcasts(&out).is_empty(), "nobody else hears of a retry");
    assert_eq!(store.all().len(), 2);
}

#[test]
fn the_same_id_for_another_text_is_an_id_conflict_not_a_silent_ack() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    send(&mut core, &mut store, &ada, "m1", "hello");
    let error = &replies(&send(&mut core, &mut store, &ada, "m1", "something else"))[0];
    assert_eq!(
        (
            kind(error),
            field(error, "code").as_str(),
            field(error, "id").as_str()
        ),
        ("error", Some("id_conflict"), Some("m1"))
    );
    assert_eq!(store.all().len(), 1);
}

#[test]
fn another_anonymous_member_reusing_an_id_cannot_swallow_a_message() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (attacker, _) = join(&mut core, &mut store, request("Eve"));
    let (victim, _) = join(&mut core, &mut store, request("Ada"));
    assert_ne!(attacker.author, victim.author);
    // The attacker posts first under the id the victim will use.
    send(&mut core, &mut store, &attacker, "predicted-id", "spam");
    let out = send(
        &mut core,
        &mut store,
        &victim,
        "predicted-id",
        "my real message",
    );
    assert_eq!(
        field(&replies(&out)[0], "seq").as_u64(),
        Some(2),
        "the victim's own seq"
    );
    assert_eq!(
        field(&broadcasts(&out)[0], "message").as_str(),
        Some("my real message")
    );
    assert_eq!(store.all()[1].message.message, "my real message");
}

#[test]
fn an_anonymous_member_who_reconnects_with_its_sender_key_keeps_its_scope() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, welcome) = join(&mut core, &mut store, request("Ada"));
    let key = field(&welcome[0], "senderKey").as_str().unwrap().to_owned();
    send(&mut core, &mut store, &ada, "m1", "hello");
    // The ack was lost with the connection; the widget reconnects and retries.
    let (again, welcome) = join(
        &mut core,
        &mut store,
        JoinRequest {
            sender_key: Some(key.clone()),
            since: Some(0),
            ..request("Ada")
        },
    );
    assert_eq!((&again.author, &again.sender), (&ada.author, &ada.sender));
    assert_eq!(field(&welcome[0], "senderKey").as_str(), Some(key.as_str()));
    assert_eq!(
        field(
            &replies(&send(&mut core, &mut store, &again, "m1", "hello"))[0],
            "seq"
        )
        .as_u64(),
        Some(1)
    );
    // A forged or foreign key buys nothing: a fresh scope.
    let forged = format!("{}.AAAAAAAAAAAAAAAAAAAAAA", &key[..22]);
    let (other, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            sender_key: Some(forged),
            ..request("Eve")
        },
    );
    assert_ne!(other.author, ada.author);
}

#[test]
fn verified_members_are_scoped_by_sub_marked_verified_and_never_shown_by_sub() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(
        &mut core,
        &mut store,
        verified("ada@example.com", Some("Ada")),
    );
    let (no_name, _) = join(&mut core, &mut store, verified("bo@example.com", None));
    assert_eq!(no_name.name, "Anonymous");
    let out = send(&mut core, &mut store, &ada, "m1", "hi");
    assert_eq!(
        field(&broadcasts(&out)[0], "verified").as_bool(),
        Some(true)
    );
    // Another tab of the same user retries: the same scope.
    let (tab, _) = join(
        &mut core,
        &mut store,
        verified("ada@example.com", Some("Ada")),
    );
    assert_eq!(
        field(
            &replies(&send(&mut core, &mut store, &tab, "m1", "hi"))[0],
            "seq"
        )
        .as_u64(),
        Some(1)
    );
    // An anonymous "Ada" looks different: another sender key, not verified.
    let (fake, _) = join(&mut core, &mut store, request("Ada"));
    assert_ne!(fake.sender, ada.sender);
    assert!(!fake.verified);
}

#[test]
fn anonymous_rate_limits_follow_the_address_across_reconnects() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let limits = Limits {
        rate_burst: 20,
        address_burst: 30,
        address_per_sec: 0.01,
        ..Limits::default()
    };
    let mut accepted = 0;
    for round in 0..5 {
        // A new connection (and so a new anonymous sender) each round.
        let (m, _) = join(
            &mut core,
            &mut store,
            JoinRequest {
                limits,
                entropy: [round; 16],
                ..request("Flood")
            },
        );
        for i in 0..20 {
            let out = send(&mut core, &mut store, &m, &format!("r{round}-{i}"), "spam");
            accepted += usize::from(kind(&replies(&out)[0]) == "ack");
        }
    }
    assert_eq!(
        accepted, 30,
        "the address's burst, whatever the number of connections"
    );
    // Someone at another address is not affected.
    let (bo, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            address: Some("198.51.100.1".into()),
            ..request("Bo")
        },
    );
    assert_eq!(
        kind(&replies(&send(&mut core, &mut store, &bo, "b1", "hi"))[0]),
        "ack"
    );
}

#[test]
fn a_retry_is_free_even_when_the_sender_is_out_of_tokens() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let limits = Limits {
        rate_burst: 1,
        rate_per_sec: 0.01,
        ..Limits::default()
    };
    let (ada, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            limits,
            ..request("Ada")
        },
    );
    send(&mut core, &mut store, &ada, "m1", "one");
    assert_eq!(
        field(
            &replies(&send(&mut core, &mut store, &ada, "m2", "two"))[0],
            "code"
        )
        .as_str(),
        Some("rate_limited")
    );
    assert_eq!(
        field(
            &replies(&send(&mut core, &mut store, &ada, "m1", "one"))[0],
            "seq"
        )
        .as_u64(),
        Some(1)
    );
}

#[test]
fn joins_are_refused_past_the_room_cap_the_address_cap_and_the_join_rate() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let limits = Limits {
        max_connections: 10,
        max_connections_per_address: 3,
        ..Limits::default()
    };
    let refused = |core: &mut RoomCore, store: &mut MemoryStore, sockets: Sockets| match core
        .join(
            JoinRequest {
                limits,
                ..request("X")
            },
            sockets,
            T0,
            store,
        )
        .unwrap()
    {
        Joined::Refused { code, error } => Some((code, error.code)),
        Joined::Accepted { .. } => None,
    };
    let full = Sockets {
        online: 10,
        ..Sockets::default()
    };
    assert_eq!(
        refused(&mut core, &mut store, full),
        Some((close_code::TRY_AGAIN_LATER, ErrorCode::RoomFull))
    );
    let crowded = Sockets {
        online: 3,
        from_address: 3,
        legacy: false,
    };
    assert_eq!(
        refused(&mut core, &mut store, crowded),
        Some((1013, ErrorCode::TooManyConnections))
    );
    let mut outcomes = Vec::new();
    for _ in 0..(3 + crate::limits::JOIN_BURST_EXTRA + 5) {
        outcomes.push(refused(&mut core, &mut store, Sockets::default()));
    }
    assert!(
        outcomes.contains(&Some((1013, ErrorCode::RateLimited))),
        "a reconnect loop is throttled"
    );
}

#[test]
fn history_requests_are_throttled() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    let frame = r#"{"type":"history","before":100,"limit":100}"#;
    let codes: Vec<String> = (0..50)
        .map(|_| {
            let out = core
                .handle_frame(&ada, frame, Sockets::default(), T0, &mut store)
                .unwrap();
            let r = &replies(&out)[0];
            field(r, "code").as_str().unwrap_or(kind(r)).to_owned()
        })
        .collect();
    assert_eq!(
        codes.iter().filter(|c| *c == "history").count(),
        crate::limits::HISTORY_BURST as usize
    );
    assert!(codes.iter().skip(20).all(|c| c == "rate_limited"));
}

#[test]
fn oversized_frames_close_the_connection() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    let big = format!(
        r#"{{"type":"send","message":"{}"}}"#,
        "x".repeat(MAX_FRAME_BYTES)
    );
    let out = core
        .handle_frame(&ada, &big, Sockets::default(), T0, &mut store)
        .unwrap();
    assert_eq!(
        out,
        [Output::Close {
            code: 1009,
            reason: "frame too large".into()
        }]
    );
}

#[test]
fn legacy_members_get_legacy_frames_and_no_acks() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    send(&mut core, &mut store, &ada, "m1", "before");
    let (old, frames) = join(
        &mut core,
        &mut store,
        JoinRequest {
            dialect: Dialect::Legacy,
            ..request("Old")
        },
    );
    assert_eq!(frames.len(), 1);
    assert_eq!(field(&frames[0], "message").as_str(), Some("before"));
    assert_eq!(frames[0].get("type"), None);
    let out = core
        .handle_frame(
            &old,
            r#"{"message":"from the workshop"}"#,
            Sockets {
                legacy: true,
                ..Sockets::default()
            },
            T0,
            &mut store,
        )
        .unwrap();
    assert!(replies(&out).is_empty(), "no ack for legacy clients");
    match &out[0] {
        Output::Broadcast {
            v1,
            legacy: Some(legacy),
        } => {
            assert!(v1.contains("\"id\":\"srv-2\""));
            assert!(!legacy.contains("type"));
        }
        other => panic!("{other:?}"),
    }
    // Without legacy sockets, no legacy frame is even encoded.
    let out = send(&mut core, &mut store, &ada, "m3", "x");
    assert!(matches!(&out[1], Output::Broadcast { legacy: None, .. }));
}

#[test]
fn retention_is_asked_for_every_hundred_messages_past_the_limit() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let limits = Limits {
        retention: 150,
        rate_burst: 1000,
        address_burst: 1000,
        ..Limits::default()
    };
    let (ada, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            limits,
            ..request("Ada")
        },
    );
    let mut retains = Vec::new();
    for i in 1..=300 {
        let out = send(&mut core, &mut store, &ada, &format!("m{i}"), "x");
        retains.extend(
            out.into_iter()
                .filter(|o| matches!(o, Output::Retain { .. }))
                .map(|_| i),
        );
    }
    assert_eq!(retains, [200, 300]);
}

#[test]
fn resume_returns_what_came_after_since() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    for i in 1..=5 {
        send(&mut core, &mut store, &ada, &format!("m{i}"), "x");
    }
    let (_, frames) = join(
        &mut core,
        &mut store,
        JoinRequest {
            since: Some(3),
            ..request("Bo")
        },
    );
    let history = &frames[1];
    let seqs: Vec<u64> = field(history, "messages")
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| field(m, "seq").as_u64())
        .collect();
    assert_eq!(seqs, [4, 5]);
    assert_eq!(field(history, "after").as_u64(), Some(3));
}
