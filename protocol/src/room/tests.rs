//! The room's rules, one at a time (the invariants under random interleavings
//! are property-tested in protocol/tests/room.rs).

use super::*;
use crate::json::{self, Json};
use crate::limits::Limits;
use crate::message::Role;

const T0: u64 = 1_764_330_000_000;

fn core() -> RoomCore {
    RoomCore::new(RoomKey::new([9; 32]), None)
}

fn request(name: &str) -> JoinRequest {
    JoinRequest {
        name: name.into(),
        user: None,
        sender_key: None,
        address: Some("203.0.113.7".into()),
        dialect: Dialect::V1,
        since: None,
        read: None,
        limits: Limits::default(),
        policy: RoomPolicy::default(),
        version: 0,
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
            role: None,
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

pub(super) fn replies(outputs: &[Output]) -> Vec<Json> {
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
        reply_to: None,
        attachments: Vec::new(),
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
    assert_eq!(store.messages().len(), 1);
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
    assert_eq!(store.messages().len(), 2);
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
    assert_eq!(store.messages().len(), 1);
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
    assert_eq!(store.messages()[1].0.message, "my real message");
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
        ..Sockets::default()
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

/// One subscriber's IPv6 /48 (or /56) is hundreds of /64 "addresses": it
/// may hold no more than its network's share of a room (a tenth of it, or
/// twice an address's share), nor send more than ten addresses' worth.
#[test]
fn an_ipv6_subscriber_behind_many_slash_64s_is_held_to_its_networks_share() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let limits = Limits {
        max_connections: 100,
        max_connections_per_address: 3,
        address_burst: 10,
        address_per_sec: 0.01,
        ..Limits::default()
    };
    assert_eq!(max_from_network(&limits), 10);
    let at = |address: &str, name: &str| JoinRequest {
        limits,
        address: Some(crate::address::address_key(address)),
        ..request(name)
    };
    let joined = |core: &mut RoomCore, store: &mut MemoryStore, req, from_network| {
        let sockets = Sockets {
            online: 20,
            from_network,
            ..Sockets::default()
        };
        match core.join(req, sockets, T0, store).unwrap() {
            Joined::Accepted { member, .. } => Ok(member),
            Joined::Refused { error, .. } => Err(error.code),
        }
    };
    assert_eq!(
        joined(&mut core, &mut store, at("2001:db8:5:9::1", "A"), 10).err(),
        Some(ErrorCode::TooManyConnections),
        "the /48 holds its ten"
    );
    // Another network is let in; an IPv4 address has no wider network (its
    // own cap is the one that holds).
    assert!(joined(&mut core, &mut store, at("2001:db8:6:9::1", "B"), 0).is_ok());
    assert!(joined(&mut core, &mut store, at("198.51.100.4", "C"), 10).is_ok());

    // Messages: twelve /64s of one /48, each with its own burst of 10, send
    // 100 (ten addresses' worth) between them.
    let mut accepted = 0;
    for i in 0..12u16 {
        let m = joined(
            &mut core,
            &mut store,
            at(&format!("2001:db8:5:{i:x}::1"), &format!("V{i}")),
            0,
        )
        .expect("joins");
        for j in 0..10 {
            let out = send(&mut core, &mut store, &m, &format!("{i}-{j}"), "hi");
            accepted += usize::from(kind(&replies(&out)[0]) == "ack");
        }
    }
    assert_eq!(accepted, 100);
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
    // A deleted message is no line for the workshop front end (it has no
    // tombstones: it would show "Ada: " and nothing).
    send(&mut core, &mut store, &ada, "m2", "regretted");
    let del = r#"{"type":"delete","id":"d2","target":2}"#;
    assert_eq!(answer(&frame(&mut core, &mut store, &ada, del, T0)), "ack");
    let (old, frames) = join(
        &mut core,
        &mut store,
        JoinRequest {
            dialect: Dialect::Legacy,
            ..request("Old")
        },
    );
    assert_eq!(frames.len(), 1, "{frames:?}");
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
            assert!(v1.contains("\"id\":\"srv-4\""), "{v1}");
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

// ----- the message lifecycle and moderation -----

fn moderator(sub: &str, name: &str) -> JoinRequest {
    JoinRequest {
        user: Some(VerifiedUser {
            sub: sub.into(),
            name: Some(name.into()),
            role: Some(Role::Moderator),
        }),
        address: Some(format!("198.51.100.{}", sub.len())),
        ..request("ignored")
    }
}

fn frame(
    core: &mut RoomCore,
    store: &mut MemoryStore,
    m: &Member,
    text: &str,
    now: u64,
) -> Vec<Output> {
    core.handle_frame(m, text, Sockets::default(), now, store)
        .unwrap()
}

/// The first reply's error code, or its type.
fn answer(out: &[Output]) -> String {
    let r = &replies(out)[0];
    field(r, "code").as_str().unwrap_or(kind(r)).to_owned()
}

#[test]
fn authors_edit_within_the_window_and_delete_any_time_others_may_not() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    let (bo, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            address: Some("198.51.100.2".into()),
            ..request("Bo")
        },
    );
    send(&mut core, &mut store, &ada, "m1", "helo");
    let out = frame(
        &mut core,
        &mut store,
        &ada,
        r#"{"type":"edit","id":"e1","target":1,"message":"hello"}"#,
        T0 + 1000,
    );
    let ack = &replies(&out)[0];
    assert_eq!(
        (kind(ack), field(ack, "seq").as_u64()),
        ("ack", Some(2)),
        "the edit is an event of its own"
    );
    let update = &broadcasts(&out)[0];
    assert_eq!(
        (
            kind(update),
            field(update, "target").as_u64(),
            field(update, "message").as_str()
        ),
        ("update", Some(1), Some("hello"))
    );
    assert!(field(update, "edited").as_u64().is_some());
    // Others may neither edit nor delete it.
    assert_eq!(
        answer(&frame(
            &mut core,
            &mut store,
            &bo,
            r#"{"type":"edit","id":"e2","target":1,"message":"x"}"#,
            T0 + 2000
        )),
        "not_allowed"
    );
    assert_eq!(
        answer(&frame(
            &mut core,
            &mut store,
            &bo,
            r#"{"type":"delete","id":"d2","target":1}"#,
            T0 + 2000
        )),
        "not_allowed"
    );
    // Past the window (1 hour by default) the author may no longer edit, but may delete.
    let late = T0 + 3_600_000 + 5_000;
    assert_eq!(
        answer(&frame(
            &mut core,
            &mut store,
            &ada,
            r#"{"type":"edit","id":"e3","target":1,"message":"x"}"#,
            late
        )),
        "too_late"
    );
    let out = frame(
        &mut core,
        &mut store,
        &ada,
        r#"{"type":"delete","id":"d1","target":1}"#,
        late,
    );
    assert_eq!(answer(&out), "ack");
    let tomb = &broadcasts(&out)[0];
    assert_eq!(
        (
            field(tomb, "deleted").as_bool(),
            field(tomb, "message").as_str()
        ),
        (Some(true), Some(""))
    );
    assert_eq!(
        answer(&frame(
            &mut core,
            &mut store,
            &ada,
            r#"{"type":"edit","id":"e4","target":1,"message":"x"}"#,
            late
        )),
        "not_found"
    );
    assert_eq!(
        answer(&frame(
            &mut core,
            &mut store,
            &ada,
            r#"{"type":"delete","id":"d9","target":99}"#,
            late
        )),
        "not_found"
    );
    // A retried delete is acked with its original seq.
    assert_eq!(
        field(
            &replies(&frame(
                &mut core,
                &mut store,
                &ada,
                r#"{"type":"delete","id":"d1","target":1}"#,
                late
            ))[0],
            "seq"
        )
        .as_u64(),
        Some(3)
    );
}

#[test]
fn an_anonymous_author_deletes_their_message_as_long_as_they_hold_their_sender_key() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, welcome) = join(&mut core, &mut store, request("Ada"));
    let key = field(&welcome[0], "senderKey").as_str().unwrap().to_owned();
    send(&mut core, &mut store, &ada, "m1", "oops");
    let (without, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            entropy: [77; 16],
            ..request("Ada")
        },
    );
    assert_eq!(
        answer(&frame(
            &mut core,
            &mut store,
            &without,
            r#"{"type":"delete","id":"d","target":1}"#,
            T0 + 5
        )),
        "not_allowed"
    );
    let (with, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            sender_key: Some(key),
            ..request("Ada")
        },
    );
    assert_eq!(
        answer(&frame(
            &mut core,
            &mut store,
            &with,
            r#"{"type":"delete","id":"d","target":1}"#,
            T0 + 5
        )),
        "ack"
    );
}

#[test]
fn reactions_count_per_member_and_pages_say_which_are_mine() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    let (bo, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            address: Some("198.51.100.2".into()),
            ..request("Bo")
        },
    );
    send(&mut core, &mut store, &ada, "m1", "hi");
    let react = |id: &str, on: bool| {
        format!(r#"{{"type":"react","id":"{id}","target":1,"emoji":"👍","on":{on}}}"#)
    };
    frame(&mut core, &mut store, &bo, &react("r1", true), T0 + 1);
    let out = frame(&mut core, &mut store, &ada, &react("r2", true), T0 + 2);
    let update = &broadcasts(&out)[0];
    let thumbs = field(field(update, "reactions"), "👍");
    assert_eq!(
        (field(thumbs, "count").as_u64(), thumbs.get("mine")),
        (Some(2), None),
        "live updates carry no `mine`"
    );
    assert_eq!(
        field(field(update, "reaction"), "sender").as_str(),
        Some(ada.sender.as_str())
    );
    frame(&mut core, &mut store, &bo, &react("r3", false), T0 + 3);
    let page = store.page(PageQuery::Latest(10), &ada.author).unwrap();
    let RoomEvent::Message(m) = &page.events[0] else {
        panic!()
    };
    assert_eq!((m.reactions[0].count, m.reactions[0].mine), (1, Some(true)));
    let page = store.page(PageQuery::Latest(10), &bo.author).unwrap();
    let RoomEvent::Message(m) = &page.events[0] else {
        panic!()
    };
    assert_eq!(m.reactions[0].mine, Some(false));
    let bad = r#"{"type":"react","id":"r9","target":1,"emoji":"🍕","on":true}"#;
    assert_eq!(
        answer(&frame(&mut core, &mut store, &bo, bad, T0 + 4)),
        "not_allowed",
        "only the site's emoji"
    );
}

#[test]
fn replies_quote_the_original_and_lose_the_quote_when_it_is_deleted() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    send(&mut core, &mut store, &ada, "m1", "the original question");
    let out = frame(
        &mut core,
        &mut store,
        &ada,
        r#"{"type":"send","id":"m2","message":"the answer","replyTo":1}"#,
        T0 + 1,
    );
    let sent = broadcasts(&out);
    let quote = field(&sent[0], "replyTo");
    assert_eq!(
        (
            field(quote, "seq").as_u64(),
            field(quote, "excerpt").as_str()
        ),
        (Some(1), Some("the original question"))
    );
    // The sender gets the message too, before the ack: its quote shows
    // what the ack cannot say.
    let to_ada = replies(&out);
    let kinds: Vec<Option<&str>> = to_ada.iter().map(|f| field(f, "type").as_str()).collect();
    assert_eq!(kinds, [Some("message"), Some("ack")]);
    assert_eq!(
        field(field(&to_ada[0], "replyTo"), "name").as_str(),
        Some("Ada")
    );
    assert_eq!(
        answer(&frame(
            &mut core,
            &mut store,
            &ada,
            r#"{"type":"send","id":"m3","message":"x","replyTo":77}"#,
            T0 + 2
        )),
        "not_found"
    );
    frame(
        &mut core,
        &mut store,
        &ada,
        r#"{"type":"delete","id":"d","target":1}"#,
        T0 + 3,
    );
    let page = store.page(PageQuery::Latest(10), &ada.author).unwrap();
    let RoomEvent::Message(reply) = &page.events[1] else {
        panic!()
    };
    let quote = reply.reply_to.as_ref().unwrap();
    assert!(quote.deleted && quote.excerpt.is_empty());
}

#[test]
fn moderators_delete_anything_and_the_room_announces_it() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    let (mo, welcome) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    assert_eq!(field(&welcome[0], "role").as_str(), Some("moderator"));
    send(&mut core, &mut store, &ada, "m1", "spam spam");
    let out = frame(
        &mut core,
        &mut store,
        &mo,
        r#"{"type":"moderate","id":"x1","action":"delete","target":1,"reason":"spam"}"#,
        T0 + 1,
    );
    let kinds: Vec<String> = broadcasts(&out)
        .iter()
        .map(|f| kind(f).to_owned())
        .collect();
    assert_eq!(kinds, ["update", "moderation"]);
    let notice = &broadcasts(&out)[1];
    assert_eq!(
        (
            field(notice, "action").as_str(),
            field(notice, "target").as_u64(),
            field(notice, "by").as_str()
        ),
        (Some("delete"), Some(1), Some("Mo"))
    );
    assert_eq!(field(notice, "reason").as_str(), Some("spam"));
    let ack = replies(&out)
        .into_iter()
        .find(|f| kind(f) == "ack")
        .unwrap();
    assert_eq!(
        field(&ack, "seq").as_u64(),
        Some(3),
        "acked with the notice's seq"
    );
    // Members cannot moderate.
    assert_eq!(
        answer(&frame(
            &mut core,
            &mut store,
            &ada,
            r#"{"type":"moderate","id":"x2","action":"lock"}"#,
            T0 + 2
        )),
        "not_allowed"
    );
}

#[test]
fn a_moderator_who_edits_someone_elses_message_is_announced_an_author_is_not() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    send(&mut core, &mut store, &ada, "m1", "my phone is 555 0100");
    let kinds = |out: &[Output]| -> Vec<String> {
        broadcasts(out).iter().map(|f| kind(f).to_owned()).collect()
    };
    let edit = r#"{"type":"edit","id":"e1","target":1,"message":"my phone is [removed]"}"#;
    let out = frame(&mut core, &mut store, &mo, edit, T0 + 1);
    assert_eq!(kinds(&out), ["update", "moderation"]);
    let notice = &broadcasts(&out)[1];
    let said = |key| field(notice, key).as_str().map(str::to_owned);
    assert_eq!(
        [said("action"), said("name"), said("by")],
        [Some("edit".into()), Some("Ada".into()), Some("Mo".into())]
    );
    assert_eq!(field(notice, "target").as_u64(), Some(1));
    let ack = replies(&out)
        .into_iter()
        .find(|f| kind(f) == "ack")
        .unwrap();
    assert_eq!(
        field(&ack, "seq").as_u64(),
        Some(3),
        "acked with the notice's seq"
    );
    // A retry is the same answer, announced once.
    let again = frame(&mut core, &mut store, &mo, edit, T0 + 2);
    assert!(kinds(&again).is_empty(), "{again:?}");
    assert_eq!(field(&replies(&again)[0], "seq").as_u64(), Some(3));
    // The author's own edit is theirs to make: no notice.
    let own = r#"{"type":"edit","id":"e2","target":1,"message":"call me"}"#;
    assert_eq!(
        kinds(&frame(&mut core, &mut store, &ada, own, T0 + 3)),
        ["update"]
    );
}

#[test]
fn the_overview_tells_the_lock_slow_mode_pin_and_the_mutes_and_bans_in_force() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (eve, _) = join(&mut core, &mut store, request("Eve"));
    let (cy, _) = join(&mut core, &mut store, request("Cy"));
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    let empty = core.overview(T0, &mut store).unwrap();
    assert!(!empty.locked && empty.slow_mode == 0 && empty.pinned.is_none());
    assert!(empty.muted.is_empty() && empty.banned.is_empty());
    send(&mut core, &mut store, &cy, "c1", "pin me");
    let act = |core: &mut RoomCore, store: &mut MemoryStore, id: &str, rest: String| {
        let text = [r#"{"type":"moderate","id":""#, id, r#"","#, &rest, "}"].concat();
        answer(&frame(core, store, &mo, &text, T0 + 1))
    };
    for (id, rest) in [
        (
            "x1",
            format!(r#""action":"mute","sender":"{}","seconds":600"#, eve.sender),
        ),
        ("x2", format!(r#""action":"mute","sender":"{}""#, cy.sender)),
        (
            "x3",
            format!(r#""action":"ban","sender":"{}","seconds":60"#, eve.sender),
        ),
        ("x4", r#""action":"slow","seconds":30"#.to_owned()),
        ("x5", r#""action":"lock""#.to_owned()),
        ("x6", r#""action":"pin","target":1"#.to_owned()),
    ] {
        assert_eq!(act(&mut core, &mut store, id, rest), "ack", "{id}");
    }
    let o = core.overview(T0 + 2, &mut store).unwrap();
    assert!(o.locked);
    assert_eq!(o.slow_mode, 30);
    assert_eq!(o.pinned.map(|m| m.message), Some("pin me".to_owned()));
    let until = |s: &[overview::Sanction]| -> Vec<(String, Option<u64>)> {
        s.iter().map(|s| (s.sender.clone(), s.until)).collect()
    };
    assert_eq!(
        until(&o.muted),
        [
            (eve.sender.clone(), Some(T0 + 1 + 600_000)),
            (cy.sender.clone(), None)
        ],
        "soonest to end first, for good last"
    );
    assert_eq!(
        until(&o.banned),
        [(eve.sender.clone(), Some(T0 + 1 + 60_000))]
    );
    // Ended sanctions are not in force.
    let later = core.overview(T0 + 1 + 60_000, &mut store).unwrap();
    assert!(later.banned.is_empty());
    assert_eq!(later.muted.len(), 2);
    // A moderator joining is told them too (to offer Unmute and Unban); a
    // member is not.
    let senders = |welcome: &Json, key: &str| -> Vec<String> {
        match field(welcome, key) {
            Json::Arr(items) => items
                .iter()
                .filter_map(|i| i.get("sender")?.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    let (_, welcome) = join(&mut core, &mut store, moderator("mo-2", "Max"));
    assert_eq!(
        senders(&welcome[0], "muted"),
        [eve.sender.clone(), cy.sender.clone()]
    );
    assert_eq!(senders(&welcome[0], "banned"), vec![eve.sender.clone()]);
    let (_, welcome) = join(&mut core, &mut store, verified("dee-1", Some("Dee")));
    assert!(senders(&welcome[0], "muted").is_empty() && senders(&welcome[0], "banned").is_empty());
}

#[test]
fn a_mute_follows_an_anonymous_member_who_reloads_under_a_new_key() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (eve, _) = join(&mut core, &mut store, request("Eve"));
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    let mute = format!(
        r#"{{"type":"moderate","id":"x1","action":"mute","sender":"{}","seconds":600}}"#,
        eve.sender
    );
    frame(&mut core, &mut store, &mo, &mute, T0);
    core.leave(&eve, Sockets::default(), T0);
    let reloaded = JoinRequest {
        entropy: entropy("a new page"),
        ..request("Eve")
    };
    let (again, welcome) = join(&mut core, &mut store, reloaded);
    assert_ne!(again.sender, eve.sender);
    assert_eq!(
        field(&welcome[0], "mutedUntil").as_u64(),
        Some(T0 + 600_000),
        "told at once"
    );
    assert_eq!(
        answer(&send(&mut core, &mut store, &again, "m1", "hi")),
        "muted"
    );
    let elsewhere = JoinRequest {
        address: Some("192.0.2.50".into()),
        ..request("Ada")
    };
    let (ada, _) = join(&mut core, &mut store, elsewhere);
    assert_eq!(
        answer(&send(&mut core, &mut store, &ada, "a1", "hi")),
        "ack"
    );
    let unmute = format!(
        r#"{{"type":"moderate","id":"x2","action":"unmute","sender":"{}"}}"#,
        eve.sender
    );
    frame(&mut core, &mut store, &mo, &unmute, T0 + 1);
    assert_eq!(
        answer(&send(&mut core, &mut store, &again, "m2", "hi")),
        "ack",
        "unmuting her lifts it from where she writes"
    );
}

#[test]
fn a_mute_of_another_member_at_a_muted_address_neither_shortens_nor_lifts_it() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (eve, _) = join(&mut core, &mut store, request("Eve"));
    let (fred, _) = join(&mut core, &mut store, request("Fred"));
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    let act = |core: &mut RoomCore, store: &mut MemoryStore, id: &str, rest: String, now| {
        let text = [r#"{"type":"moderate","id":""#, id, r#"","#, &rest, "}"].concat();
        answer(&frame(core, store, &mo, &text, now))
    };
    let hour = format!(
        r#""action":"mute","sender":"{}","seconds":3600"#,
        eve.sender
    );
    assert_eq!(act(&mut core, &mut store, "x1", hour, T0), "ack");
    // Fred, behind the same address, is muted with her; a moderator who
    // sees only him mutes him for ten minutes...
    let ten = format!(
        r#""action":"mute","sender":"{}","seconds":600"#,
        fred.sender
    );
    assert_eq!(act(&mut core, &mut store, "x2", ten, T0 + 1), "ack");
    // ...which must not shorten hers there: a newcomer at the address is
    // still muted for her hour.
    let newcomer = JoinRequest {
        entropy: entropy("a new page"),
        ..request("Eve again")
    };
    let (_, welcome) = join(&mut core, &mut store, newcomer);
    assert_eq!(
        field(&welcome[0], "mutedUntil").as_u64(),
        Some(T0 + 3_600_000)
    );
    // Unmuting him would say he can write while her mute still holds him:
    // refused, naming what to do.
    let unmute = |sender: &str| format!(r#""action":"unmute","sender":"{sender}""#);
    let out = {
        let text = [
            r#"{"type":"moderate","id":"x3","#,
            &unmute(&fred.sender),
            "}",
        ]
        .concat();
        frame(&mut core, &mut store, &mo, &text, T0 + 2)
    };
    assert_eq!(answer(&out), "not_allowed");
    assert!(field(&replies(&out)[0], "message")
        .as_str()
        .is_some_and(|m| m.contains("another member")));
    // Unmuting her frees the address; then his own ten minutes go too.
    assert_eq!(
        act(&mut core, &mut store, "x4", unmute(&eve.sender), T0 + 3),
        "ack"
    );
    assert_eq!(
        act(&mut core, &mut store, "x5", unmute(&fred.sender), T0 + 4),
        "ack"
    );
    assert_eq!(
        answer(&send(&mut core, &mut store, &fred, "f1", "free")),
        "ack"
    );
}

/// The `standing` frames in `outputs`, by the sender they go to.
fn standings(outputs: &[Output]) -> Vec<(String, Option<u64>)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::ToSender { sender, frame } => {
                let f = json::parse(frame).unwrap();
                (kind(&f) == "standing").then(|| (sender.clone(), field(&f, "mutedUntil").as_u64()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_mute_that_follows_an_address_is_told_to_the_other_members_there_and_so_is_its_end() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (eve, _) = join(&mut core, &mut store, request("Eve"));
    let (bo, _) = join(&mut core, &mut store, request("Bo"));
    let elsewhere = JoinRequest {
        address: Some("192.0.2.50".into()),
        ..request("Cy")
    };
    let (cy, _) = join(&mut core, &mut store, elsewhere);
    let (ada, _) = join(&mut core, &mut store, verified("ada", Some("Ada")));
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    let mute = format!(
        r#"{{"type":"moderate","id":"x1","action":"mute","sender":"{}","seconds":600}}"#,
        eve.sender
    );
    let out = frame(&mut core, &mut store, &mo, &mute, T0);
    // Eve hears the notice naming her; Bo, behind her address, his own
    // frame; Cy (elsewhere), Ada (verified) and the moderator nothing.
    assert_eq!(standings(&out), [(bo.sender.clone(), Some(T0 + 600_000))]);
    let unmute = format!(
        r#"{{"type":"moderate","id":"x2","action":"unmute","sender":"{}"}}"#,
        eve.sender
    );
    let out = frame(&mut core, &mut store, &mo, &unmute, T0 + 1);
    assert_eq!(standings(&out), [(bo.sender.clone(), None)]);
    assert_eq!(answer(&send(&mut core, &mut store, &bo, "b1", "hi")), "ack");
    // Bo muted on his own key stays muted when Eve's mute ends: he is told so.
    for (id, who) in [("x3", &bo), ("x4", &eve)] {
        let mute = format!(
            r#"{{"type":"moderate","id":"{id}","action":"mute","sender":"{}","seconds":60}}"#,
            who.sender
        );
        frame(&mut core, &mut store, &mo, &mute, T0 + 2);
    }
    let unmute = format!(
        r#"{{"type":"moderate","id":"x5","action":"unmute","sender":"{}"}}"#,
        eve.sender
    );
    let out = frame(&mut core, &mut store, &mo, &unmute, T0 + 3);
    assert_eq!(standings(&out), [(bo.sender.clone(), Some(T0 + 60_002))]);
    // Muting someone elsewhere, or a verified user, tells nobody.
    for (id, who) in [("x6", &cy), ("x7", &ada)] {
        let mute = format!(
            r#"{{"type":"moderate","id":"{id}","action":"mute","sender":"{}","seconds":60}}"#,
            who.sender
        );
        assert_eq!(
            standings(&frame(&mut core, &mut store, &mo, &mute, T0 + 4)),
            []
        );
    }
}

#[test]
fn muting_a_verified_user_does_not_mute_anonymous_visitors_at_the_same_address() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (bo, _) = join(&mut core, &mut store, verified("bo", Some("Bo")));
    let (eve, _) = join(&mut core, &mut store, request("Eve"));
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    let mute = format!(
        r#"{{"type":"moderate","id":"x1","action":"mute","sender":"{}","seconds":600}}"#,
        bo.sender
    );
    frame(&mut core, &mut store, &mo, &mute, T0);
    assert_eq!(
        answer(&send(&mut core, &mut store, &bo, "b1", "hi")),
        "muted"
    );
    assert_eq!(
        answer(&send(&mut core, &mut store, &eve, "e1", "hi")),
        "ack"
    );
}

#[test]
fn muted_members_cannot_post_until_unmuted() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (eve, _) = join(&mut core, &mut store, request("Eve"));
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    let mute = format!(
        r#"{{"type":"moderate","id":"x1","action":"mute","sender":"{}","seconds":600}}"#,
        eve.sender
    );
    let out = frame(&mut core, &mut store, &mo, &mute, T0);
    assert!(
        out.iter().any(|o| matches!(o, Output::SaveState(_))),
        "saved, to survive a restart"
    );
    let error = &replies(&send(&mut core, &mut store, &eve, "m1", "hi"))[0];
    assert_eq!(
        (
            field(error, "code").as_str(),
            field(error, "until").as_u64()
        ),
        (Some("muted"), Some(T0 + 600_000))
    );
    // A restarted room remembers.
    let saved = out
        .iter()
        .find_map(|o| match o {
            Output::SaveState(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap();
    let mut restarted = RoomCore::new(RoomKey::new([9; 32]), Some(&saved));
    assert_eq!(
        answer(&send(&mut restarted, &mut store, &eve, "m1", "hi")),
        "muted"
    );
    let unmute = format!(
        r#"{{"type":"moderate","id":"x2","action":"unmute","sender":"{}"}}"#,
        eve.sender
    );
    frame(&mut core, &mut store, &mo, &unmute, T0 + 1);
    assert_eq!(
        answer(&send(&mut core, &mut store, &eve, "m1", "hi")),
        "ack"
    );
    // Muted for good: no `until` (not a date past any calendar).
    let for_good = format!(
        r#"{{"type":"moderate","id":"x3","action":"mute","sender":"{}"}}"#,
        eve.sender
    );
    frame(&mut core, &mut store, &mo, &for_good, T0 + 2);
    let error = &replies(&send(&mut core, &mut store, &eve, "m2", "hi"))[0];
    assert_eq!(field(error, "code").as_str(), Some("muted"));
    assert!(error.get("until").is_none(), "{error:?}");
}

/// Two moderators on one troll: the second's shorter mute or ban (they
/// missed the first) must not lift the first early; a longer one holds.
#[test]
fn a_shorter_mute_or_ban_does_not_replace_a_longer_one_in_force() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (eve, _) = join(&mut core, &mut store, request("Eve"));
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    let (max, _) = join(&mut core, &mut store, moderator("mo-2", "Max"));
    let act = |core: &mut RoomCore,
               store: &mut MemoryStore,
               who: &Member,
               id: &str,
               action: &str,
               seconds: Option<u64>,
               at| {
        let seconds = seconds.map_or(String::new(), |s| format!(r#","seconds":{s}"#));
        let text = format!(
            r#"{{"type":"moderate","id":"{id}","action":"{action}","sender":"{}"{seconds}}}"#,
            eve.sender
        );
        let out = frame(core, store, who, &text, at);
        let r = &replies(&out)[0];
        (
            kind(r).to_owned(),
            field(r, "message").as_str().unwrap_or("").to_owned(),
        )
    };
    assert_eq!(
        act(&mut core, &mut store, &mo, "m1", "mute", None, T0).0,
        "ack"
    );
    let (answer, said) = act(&mut core, &mut store, &max, "m2", "mute", Some(60), T0 + 1);
    assert_eq!(answer, "error");
    assert!(said.contains("already muted for good"), "{said}");
    // Still muted after the 60 s the second moderator asked for.
    assert_eq!(
        kind(&replies(&send(&mut core, &mut store, &eve, "e1", "hi"))[0]).to_owned()
            + field(
                &replies(&send(&mut core, &mut store, &eve, "e2", "hi"))[0],
                "code"
            )
            .as_str()
            .unwrap_or(""),
        "errormuted"
    );
    // Lifted first, it can be shortened; a longer one replaces a shorter.
    assert_eq!(
        act(&mut core, &mut store, &max, "m3", "unmute", None, T0 + 2).0,
        "ack"
    );
    assert_eq!(
        act(&mut core, &mut store, &max, "m4", "mute", Some(60), T0 + 3).0,
        "ack"
    );
    assert_eq!(
        act(&mut core, &mut store, &mo, "m5", "mute", Some(600), T0 + 4).0,
        "ack"
    );
    // Bans alike.
    assert_eq!(
        act(&mut core, &mut store, &mo, "b1", "ban", Some(3600), T0 + 5).0,
        "ack"
    );
    let (answer, said) = act(&mut core, &mut store, &max, "b2", "ban", Some(60), T0 + 6);
    assert_eq!(
        (answer.as_str(), said.contains("already banned for longer")),
        ("error", true),
        "{said}"
    );
    assert_eq!(
        act(&mut core, &mut store, &max, "b3", "ban", None, T0 + 7).0,
        "ack",
        "for good is longer"
    );
}

#[test]
fn a_ban_after_an_anonymous_sender_left_follows_where_they_wrote_from() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let spammer = JoinRequest {
        address: Some("198.51.100.9".into()),
        ..request("Spammer")
    };
    let (eve, _) = join(&mut core, &mut store, spammer.clone());
    send(&mut core, &mut store, &eve, "s1", "buy pills");
    core.leave(&eve, Sockets::default(), T0);
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    let ban = format!(
        r#"{{"type":"moderate","id":"x1","action":"ban","sender":"{}"}}"#,
        eve.sender
    );
    frame(&mut core, &mut store, &mo, &ban, T0 + 1);
    let back = |core: &mut RoomCore, store: &mut MemoryStore, req: JoinRequest| {
        matches!(
            core.join(req, Sockets::default(), T0 + 5, store).unwrap(),
            Joined::Refused { code: 4008, .. }
        )
    };
    assert!(
        back(
            &mut core,
            &mut store,
            JoinRequest {
                entropy: entropy("new key"),
                ..spammer
            }
        ),
        "a new sender key from the same address is banned"
    );
    assert!(!back(&mut core, &mut store, request("Someone else")));
    // Only a hash of the address is kept, in the message and in the ban.
    let saved = format!("{:?}{:?}", store.records(), core.state.sanctions);
    assert!(!saved.contains("198.51.100.9"), "{saved}");
}

/// A timed ban says when it ends (the banned can tell a timeout from for
/// good), at the ban and at every refused join, also by address; a ban for
/// good says no end.
#[test]
fn a_timed_ban_says_when_it_ends_a_ban_for_good_does_not() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (eve, _) = join(&mut core, &mut store, request("Eve"));
    let (bo, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            address: Some("192.0.2.50".into()),
            ..request("Bo")
        },
    );
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    let ban = |sender: &str, seconds: &str| {
        format!(
            r#"{{"type":"moderate","id":"b-{sender}","action":"ban","sender":"{sender}"{seconds}}}"#
        )
    };
    let out = frame(
        &mut core,
        &mut store,
        &mo,
        &ban(&eve.sender, r#","seconds":600"#),
        T0,
    );
    let told = out.iter().find_map(|o| match o {
        Output::CloseSender { frame, .. } => Some(json::parse(frame).unwrap()),
        _ => None,
    });
    let until = T0 + 600_000;
    assert_eq!(
        told.as_ref().and_then(|f| field(f, "until").as_u64()),
        Some(until)
    );
    let refused = |core: &mut RoomCore, store: &mut MemoryStore, req: JoinRequest| match core
        .join(req, Sockets::default(), T0 + 5, store)
        .unwrap()
    {
        Joined::Refused { error, .. } => Some((error.code, error.until)),
        Joined::Accepted { .. } => None,
    };
    assert_eq!(
        refused(&mut core, &mut store, request("Eve again")),
        Some((ErrorCode::Banned, Some(until))),
        "a new key from the same address: the ban it follows, with its end"
    );
    frame(&mut core, &mut store, &mo, &ban(&bo.sender, ""), T0 + 1);
    assert_eq!(
        refused(
            &mut core,
            &mut store,
            JoinRequest {
                address: Some("192.0.2.50".into()),
                ..request("Bo again")
            }
        ),
        Some((ErrorCode::Banned, None)),
        "for good: no end"
    );
}

#[test]
fn a_ban_closes_the_members_connections_and_refuses_them_again() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (eve, welcome) = join(&mut core, &mut store, request("Eve"));
    let key = field(&welcome[0], "senderKey").as_str().unwrap().to_owned();
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    let ban = format!(
        r#"{{"type":"moderate","id":"x1","action":"ban","sender":"{}"}}"#,
        eve.sender
    );
    let out = frame(&mut core, &mut store, &mo, &ban, T0);
    assert!(out.iter().any(
        |o| matches!(o, Output::CloseSender { sender, code: 4008, .. } if *sender == eve.sender)
    ));
    let refused = |core: &mut RoomCore, store: &mut MemoryStore, req: JoinRequest| match core
        .join(req, Sockets::default(), T0 + 5, store)
        .unwrap()
    {
        Joined::Refused { code, error } => Some((code, error.code)),
        Joined::Accepted { .. } => None,
    };
    assert_eq!(
        refused(
            &mut core,
            &mut store,
            JoinRequest {
                sender_key: Some(key),
                ..request("Eve")
            }
        ),
        Some((4008, ErrorCode::Banned))
    );
    assert_eq!(
        refused(&mut core, &mut store, request("Eve again")),
        Some((4008, ErrorCode::Banned)),
        "a new key from the same address"
    );
    assert_eq!(
        refused(
            &mut core,
            &mut store,
            JoinRequest {
                address: Some("192.0.2.99".into()),
                ..request("Bo")
            }
        ),
        None
    );
    // Moderators cannot ban each other.
    let (mo2, _) = join(&mut core, &mut store, moderator("mo-22", "Mo2"));
    let ban_mo = format!(
        r#"{{"type":"moderate","id":"x2","action":"ban","sender":"{}"}}"#,
        mo2.sender
    );
    assert_eq!(
        answer(&frame(&mut core, &mut store, &mo, &ban_mo, T0 + 6)),
        "not_allowed"
    );
}

#[test]
fn slow_mode_and_lock_hold_members_back_but_not_moderators() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    frame(
        &mut core,
        &mut store,
        &mo,
        r#"{"type":"moderate","id":"x1","action":"slow","seconds":10}"#,
        T0,
    );
    assert_eq!(
        answer(&send(&mut core, &mut store, &ada, "m1", "one")),
        "ack"
    );
    let error = &replies(&send(&mut core, &mut store, &ada, "m2", "two"))[0];
    assert_eq!(field(error, "code").as_str(), Some("slow_mode"));
    assert!(field(error, "retryAfter")
        .as_u64()
        .is_some_and(|ms| ms > 9_000 && ms <= 10_000));
    let later = r#"{"type":"send","id":"m2","message":"two"}"#.to_string();
    assert_eq!(
        answer(&frame(&mut core, &mut store, &ada, &later, T0 + 11_000)),
        "ack"
    );
    frame(
        &mut core,
        &mut store,
        &mo,
        r#"{"type":"moderate","id":"x2","action":"lock"}"#,
        T0 + 12_000,
    );
    assert_eq!(
        answer(&frame(
            &mut core,
            &mut store,
            &ada,
            r#"{"type":"send","id":"m3","message":"x"}"#,
            T0 + 30_000
        )),
        "locked"
    );
    assert_eq!(
        answer(&frame(
            &mut core,
            &mut store,
            &mo,
            r#"{"type":"send","id":"m4","message":"x"}"#,
            T0 + 30_000
        )),
        "ack"
    );
    frame(
        &mut core,
        &mut store,
        &mo,
        r#"{"type":"moderate","id":"x3","action":"unlock"}"#,
        T0 + 31_000,
    );
    assert_eq!(
        answer(&frame(
            &mut core,
            &mut store,
            &ada,
            r#"{"type":"send","id":"m3","message":"x"}"#,
            T0 + 60_000
        )),
        "ack"
    );
}

#[test]
fn purge_tombstones_every_message_of_a_sender() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (eve, _) = join(&mut core, &mut store, request("Eve"));
    let (ada, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            address: Some("198.51.100.2".into()),
            ..request("Ada")
        },
    );
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    for i in 0..3 {
        send(&mut core, &mut store, &eve, &format!("e{i}"), "spam");
    }
    send(&mut core, &mut store, &ada, "a1", "real");
    let purge = format!(
        r#"{{"type":"moderate","id":"x1","action":"purge","sender":"{}"}}"#,
        eve.sender
    );
    let out = frame(&mut core, &mut store, &mo, &purge, T0 + 1);
    assert_eq!(
        field(&broadcasts(&out)[0], "action").as_str(),
        Some("purge")
    );
    // Webhooks hear of each message, then of the notice, all at its seq.
    let events: Vec<(&str, u64, Option<u64>)> = out
        .iter()
        .filter_map(|o| match o {
            Output::Event {
                kind, seq, part, ..
            } => Some((*kind, *seq, *part)),
            _ => None,
        })
        .collect();
    assert_eq!(
        events,
        [
            ("message.deleted", 5, Some(1)),
            ("message.deleted", 5, Some(2)),
            ("message.deleted", 5, Some(3)),
            ("moderation", 5, None),
        ]
    );
    let texts: Vec<(String, bool)> = store
        .messages()
        .into_iter()
        .map(|(m, _)| (m.message, m.deleted))
        .collect();
    assert_eq!(
        texts,
        [
            ("".into(), true),
            ("".into(), true),
            ("".into(), true),
            ("real".into(), false)
        ]
    );
}

#[test]
fn the_word_filter_blocks_or_masks_and_evasions_do_not_help() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let policy = RoomPolicy {
        words: vec!["bad".into()],
        ..RoomPolicy::default()
    };
    let (ada, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            policy: policy.clone(),
            ..request("Ada")
        },
    );
    assert_eq!(
        answer(&send(&mut core, &mut store, &ada, "m1", "so ＢＡＤ")),
        "blocked"
    );
    assert_eq!(
        answer(&send(&mut core, &mut store, &ada, "m2", "b.a.d")),
        "blocked"
    );
    let masking = RoomPolicy {
        filter_action: policy::FilterAction::Mask,
        ..policy
    };
    let (bo, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            policy: masking,
            ..request("Bo")
        },
    );
    let out = send(&mut core, &mut store, &bo, "m3", "a b.a.d day");
    assert_eq!(
        field(&broadcasts(&out)[0], "message").as_str(),
        Some("a ***** day")
    );
    // Its sender sees what the others see, not what they typed.
    assert_eq!(
        field(&replies(&out)[0], "message").as_str(),
        Some("a ***** day")
    );
    let out = send(&mut core, &mut store, &bo, "m4", "a good day");
    let kinds: Vec<Json> = replies(&out);
    assert_eq!(
        field(&kinds[0], "type").as_str(),
        Some("ack"),
        "a message stored as sent is only acked"
    );
}

#[test]
fn a_flood_of_frames_far_beyond_any_clients_ends_the_connection() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let limits = Limits {
        rate_burst: 1,
        rate_per_sec: 0.001,
        ..Limits::default()
    };
    let (eve, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            limits,
            ..request("Eve")
        },
    );
    // Refused one by one (a delete she may not make), until her budget of
    // 20 frames per message allowed, plus 200, is spent.
    let junk = r#"{"type":"delete","id":"d1","target":1}"#;
    for _ in 0..220 {
        let out = frame(&mut core, &mut store, &eve, junk, T0 + 1);
        assert!(!out.iter().any(|o| matches!(o, Output::Close { .. })));
    }
    let out = frame(&mut core, &mut store, &eve, junk, T0 + 1);
    assert!(matches!(out.as_slice(), [Output::Close { code: 1013, .. }]));
}

#[test]
fn a_blocked_message_costs_its_sender_a_token_so_the_filter_cannot_be_run_for_free() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let policy = RoomPolicy {
        words: vec!["bad".into()],
        ..RoomPolicy::default()
    };
    let limits = Limits {
        rate_burst: 3,
        rate_per_sec: 0.001,
        ..Limits::default()
    };
    let (eve, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            policy,
            limits,
            ..request("Eve")
        },
    );
    let answers: Vec<String> = (0..5)
        .map(|i| answer(&send(&mut core, &mut store, &eve, &format!("b{i}"), "bad")))
        .collect();
    assert_eq!(
        answers,
        [
            "blocked",
            "blocked",
            "blocked",
            "rate_limited",
            "rate_limited"
        ]
    );
    // Edits too, and a missing target is refused before the filter runs.
    let edit = r#"{"type":"edit","id":"e1","target":999,"message":"bad"}"#;
    assert_eq!(
        answer(&frame(&mut core, &mut store, &eve, edit, T0 + 2)),
        "not_found"
    );
}

#[test]
fn resume_brings_the_changes_missed_and_history_shows_the_current_state() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    send(&mut core, &mut store, &ada, "m1", "first");
    send(&mut core, &mut store, &ada, "m2", "second");
    frame(
        &mut core,
        &mut store,
        &ada,
        r#"{"type":"edit","id":"e1","target":1,"message":"first!"}"#,
        T0 + 5,
    );
    let (_, frames) = join(
        &mut core,
        &mut store,
        JoinRequest {
            since: Some(2),
            ..request("Bo")
        },
    );
    let items = field(&frames[1], "messages").as_array().unwrap().to_vec();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (kind(&items[0]), field(&items[0], "message").as_str()),
        ("update", Some("first!"))
    );
    let (_, frames) = join(&mut core, &mut store, request("Cy"));
    let items = field(&frames[1], "messages").as_array().unwrap().to_vec();
    let texts: Vec<&str> = items
        .iter()
        .filter_map(|m| field(m, "message").as_str())
        .collect();
    assert_eq!(
        texts,
        ["first!", "second"],
        "the join page holds messages in their current state"
    );
    assert_eq!(field(&frames[0], "seq").as_u64(), Some(3));
}

#[test]
fn the_presence_list_names_who_is_here() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    let (_, frames) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    let members = field(&frames[0], "members").as_array().unwrap().to_vec();
    let mut names: Vec<&str> = members
        .iter()
        .filter_map(|m| field(m, "name").as_str())
        .collect();
    names.sort();
    assert_eq!(names, ["Ada", "Mo"]);
    let out = core.leave(&ada, Sockets::default(), T0);
    let left = &broadcasts(&out)[0];
    assert_eq!(
        field(field(left, "member"), "connections").as_u64(),
        Some(0)
    );
}

// ----- the site's server, webhooks, retention by age -----

#[test]
fn the_site_posts_as_a_bot_idempotently_and_may_moderate() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let bot = core.site_member("Helpdesk", Limits::default());
    let post = |core: &mut RoomCore, store: &mut MemoryStore| {
        let frame = ClientFrame::Send {
            id: Some("welcome-1".into()),
            message: "Welcome!".into(),
            reply_to: None,
            attachments: Vec::new(),
        };
        core.act(&bot, frame, Sockets::default(), T0, store)
            .unwrap()
    };
    let out = post(&mut core, &mut store);
    let m = &broadcasts(&out)[0];
    assert_eq!(
        (field(m, "role").as_str(), field(m, "name").as_str()),
        (Some("bot"), Some("Helpdesk"))
    );
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Event {
            kind: "message.created",
            seq: 1,
            ..
        }
    )));
    assert_eq!(
        field(&replies(&post(&mut core, &mut store))[0], "seq").as_u64(),
        Some(1),
        "the same id: the same message"
    );
    let (eve, _) = join(&mut core, &mut store, request("Eve"));
    send(&mut core, &mut store, &eve, "e1", "spam");
    let out = core
        .act(
            &bot,
            ClientFrame::Delete {
                id: "d1".into(),
                target: 2,
            },
            Sockets::default(),
            T0,
            &mut store,
        )
        .unwrap();
    let kinds: Vec<&str> = out
        .iter()
        .filter_map(|o| match o {
            Output::Event { kind, .. } => Some(*kind),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["message.deleted", "moderation"]);
    // Never online, but a moderator: other moderators cannot silence it.
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    for action in ["ban", "mute", "purge"] {
        let act = format!(
            r#"{{"type":"moderate","id":"b-{action}","action":"{action}","sender":"{}"}}"#,
            bot.sender
        );
        assert_eq!(
            answer(&frame(&mut core, &mut store, &mo, &act, T0 + 2)),
            "not_allowed",
            "{action}"
        );
    }
}

#[test]
fn erasing_a_user_tombstones_their_messages_and_tells_the_room() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(
        &mut core,
        &mut store,
        verified("ada@example.com", Some("Ada")),
    );
    let (bo, _) = join(&mut core, &mut store, request("Bo"));
    send(&mut core, &mut store, &ada, "a1", "my address is 1 Main St");
    send(&mut core, &mut store, &bo, "b1", "hi");
    send(&mut core, &mut store, &ada, "a2", "bye");
    let thumbs_up = r#"{"type":"react","id":"r1","target":2,"emoji":"👍","on":true}"#;
    frame(&mut core, &mut store, &ada, thumbs_up, T0 + 5);
    assert_eq!(store.messages_by("u:ada@example.com").unwrap().len(), 2);
    let (erased, out) = core
        .erase_user("ada@example.com", Limits::default(), T0 + 9, &mut store)
        .unwrap();
    assert_eq!((erased.messages, erased.reactions), (2, 1));
    let frames = broadcasts(&out);
    let notice = &frames[0];
    assert_eq!(
        (
            field(notice, "action").as_str(),
            field(notice, "sender").as_str()
        ),
        (Some("purge"), Some(ada.sender.as_str()))
    );
    // Her reaction on Bo's message is taken back where open widgets see it.
    let update = &frames[1];
    let change = field(update, "reaction");
    assert_eq!(
        (
            field(update, "type").as_str(),
            field(update, "target").as_u64(),
            field(change, "on").as_bool(),
            field(change, "sender").as_str(),
        ),
        (
            Some("update"),
            Some(2),
            Some(false),
            Some(ada.sender.as_str())
        )
    );
    assert!(
        update
            .get("reactions")
            .is_none_or(|r| r.get("👍").is_none()),
        "Bo's message has no reaction left"
    );
    assert!(
        field(update, "seq").as_u64() > field(notice, "seq").as_u64(),
        "the update has a seq of its own, after the notice's"
    );
    let left: Vec<(String, String, usize)> = store
        .messages()
        .into_iter()
        .map(|(m, _)| (m.name, m.message, m.reactions.len()))
        .collect();
    let gone = (String::new(), String::new(), 0);
    assert_eq!(
        left,
        [gone.clone(), ("Bo".into(), "hi".into(), 0), gone],
        "text, name and reactions are gone"
    );
    assert_eq!(
        core.erase_user("nobody", Limits::default(), T0, &mut store)
            .unwrap()
            .0
            .messages,
        0
    );
}

#[test]
fn an_erasure_counts_and_announces_only_reactions_someone_could_see() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, verified("ada", Some("Ada")));
    let (cy, _) = join(&mut core, &mut store, verified("cy", Some("Cy")));
    let (bo, _) = join(&mut core, &mut store, request("Bo"));
    send(&mut core, &mut store, &ada, "a1", "mine");
    send(&mut core, &mut store, &bo, "b1", "soon gone");
    send(&mut core, &mut store, &bo, "b2", "stays");
    for (who, target) in [(&ada, 1), (&ada, 2), (&cy, 2), (&ada, 3)] {
        let react = format!(
            r#"{{"type":"react","id":"r{target}","target":{target},"emoji":"👍","on":true}}"#
        );
        frame(&mut core, &mut store, who, &react, T0 + 5);
    }
    let delete = r#"{"type":"delete","id":"d2","target":2}"#;
    frame(&mut core, &mut store, &bo, delete, T0 + 6);

    // Ada's on her own message and on the deleted one were visible to no one.
    let (erased, out) = core
        .erase_user("ada", Limits::default(), T0 + 9, &mut store)
        .unwrap();
    assert_eq!((erased.messages, erased.reactions), (1, 1));
    let targets: Vec<Option<u64>> = broadcasts(&out)
        .iter()
        .filter(|f| field(f, "type").as_str() == Some("update"))
        .map(|f| field(f, "target").as_u64())
        .collect();
    assert_eq!(targets, [Some(3)], "Bo's standing message only");

    // Cy reacted only on the deleted message: nothing to say, nothing counted.
    let (erased, out) = core
        .erase_user("cy", Limits::default(), T0 + 10, &mut store)
        .unwrap();
    assert_eq!(
        (erased.messages, erased.notices, erased.reactions),
        (0, 0, 0)
    );
    assert!(broadcasts(&out).is_empty(), "{out:?}");
}

#[test]
fn notices_name_members_who_left_by_their_last_message_but_not_erased_ones() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (mo, _) = join(&mut core, &mut store, moderator("mo", "Mo"));
    let (eve, _) = join(&mut core, &mut store, request("Eve"));
    let (bo, _) = join(&mut core, &mut store, verified("bo", Some("Bo")));
    send(&mut core, &mut store, &eve, "e1", "spam");
    send(&mut core, &mut store, &bo, "b1", "hello");
    core.leave(&eve, Sockets::default(), T0);
    core.leave(&bo, Sockets::default(), T0);
    core.erase_user("bo", Limits::default(), T0 + 1, &mut store)
        .unwrap();
    let act = |action: &str, sender: &str, id: &str| {
        format!(r#"{{"type":"moderate","id":"{id}","action":"{action}","sender":"{sender}"}}"#)
    };
    let name_in = |out: &[Output]| {
        field(&broadcasts(out)[0], "name")
            .as_str()
            .map(str::to_owned)
    };
    let out = frame(
        &mut core,
        &mut store,
        &mo,
        &act("purge", &eve.sender, "x1"),
        T0 + 2,
    );
    assert_eq!(
        name_in(&out).as_deref(),
        Some("Eve"),
        "gone, named by what she wrote"
    );
    let out = frame(
        &mut core,
        &mut store,
        &mo,
        &act("ban", &eve.sender, "x2"),
        T0 + 3,
    );
    assert_eq!(
        name_in(&out).as_deref(),
        Some("Eve"),
        "her tombstones keep her name"
    );
    let out = frame(
        &mut core,
        &mut store,
        &mo,
        &act("ban", &bo.sender, "x3"),
        T0 + 4,
    );
    assert_eq!(name_in(&out), None, "an erased name does not come back");
}

#[test]
fn erasing_a_user_takes_their_name_out_of_moderation_notices() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, moderator("ada", "Ada"));
    let (mo, _) = join(&mut core, &mut store, moderator("mo", "Mo"));
    let (bo, _) = join(&mut core, &mut store, request("Bo"));
    send(&mut core, &mut store, &ada, "a1", "hi");
    let mute = |sender: &str, id: &str| {
        format!(
            r#"{{"type":"moderate","id":"{id}","action":"mute","sender":"{sender}","seconds":60}}"#
        )
    };
    // One she gave, one about her (moderators may unmute each other).
    frame(&mut core, &mut store, &ada, &mute(&bo.sender, "x1"), T0 + 1);
    let unmute = format!(
        r#"{{"type":"moderate","id":"x2","action":"unmute","sender":"{}"}}"#,
        ada.sender
    );
    frame(&mut core, &mut store, &mo, &unmute, T0 + 2);
    core.erase_user("ada", Limits::default(), T0 + 3, &mut store)
        .unwrap();
    let page = store.page(PageQuery::After(0, 10), &mo.author).unwrap();
    let notices: Vec<(String, Option<String>, String)> = page
        .events
        .into_iter()
        .filter_map(|e| match e {
            RoomEvent::Moderation(n) => Some((n.action, n.name, n.by)),
            _ => None,
        })
        .collect();
    assert_eq!(
        notices,
        [
            ("mute".into(), Some("Bo".into()), String::new()),
            ("unmute".into(), None, "Mo".into()),
            ("purge".into(), None, "Site".into()),
        ]
    );
    assert_eq!(
        core.erase_user("nobody", Limits::default(), T0, &mut store)
            .unwrap()
            .0
            .messages,
        0
    );
}

#[test]
fn erasing_a_user_named_only_in_notices_tells_the_room_once_and_drops_reasons_about_them() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, moderator("ada", "Ada"));
    let (mo, _) = join(&mut core, &mut store, moderator("mo", "Mo"));
    let unmute = format!(
        r#"{{"type":"moderate","id":"x1","action":"unmute","sender":"{}","reason":"Ada said sorry"}}"#,
        ada.sender
    );
    let out = frame(&mut core, &mut store, &mo, &unmute, T0 + 1);
    assert_eq!(
        field(&broadcasts(&out)[0], "bySender").as_str(),
        Some(mo.sender.as_str()),
        "a notice names its moderator's key"
    );
    let (erased, out) = core
        .erase_user("ada", Limits::default(), T0 + 2, &mut store)
        .unwrap();
    assert_eq!(
        (erased.messages, erased.notices > 0),
        (0, true),
        "she wrote no message; a notice named her"
    );
    let notice = &broadcasts(&out)[0];
    assert_eq!(
        (
            field(notice, "action").as_str(),
            field(notice, "sender").as_str(),
            field(notice, "erased").as_bool()
        ),
        (Some("purge"), Some(ada.sender.as_str()), Some(true)),
        "the room is told, so that open widgets forget her name"
    );
    let page = store.page(PageQuery::After(0, 10), &mo.author).unwrap();
    let about_her = page.events.into_iter().find_map(|e| match e {
        RoomEvent::Moderation(n) if n.action == "unmute" => Some((n.name, n.reason)),
        _ => None,
    });
    assert_eq!(
        about_her,
        Some((None, None)),
        "her name and the reason about her are gone"
    );
    let (_, out) = core
        .erase_user("ada", Limits::default(), T0 + 3, &mut store)
        .unwrap();
    assert!(
        broadcasts(&out).is_empty(),
        "nothing left to erase, nothing said"
    );
}

#[test]
fn retention_by_age_keeps_what_is_younger_and_seqs_go_on_when_nothing_is() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let limits = Limits {
        rate_burst: 100,
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
    for (i, at) in [T0, T0 + 10, T0 + 5_000].into_iter().enumerate() {
        let frame = format!(r#"{{"type":"send","id":"m{i}","message":"x"}}"#);
        core.handle_frame(&ada, &frame, Sockets::default(), at, &mut store)
            .unwrap();
    }
    // "Days" of one second: everything older than 3 s before T0 + 6 s goes.
    assert_eq!(
        core.retain(None, 3, 1_000, T0 + 6_000, &mut store)
            .unwrap()
            .0,
        2
    );
    assert_eq!(store.messages().len(), 1);
    // A quiet room keeps nothing older than its days, its newest message
    // included; its seqs go on where they were.
    assert_eq!(
        core.retain(None, 3, 1_000, T0 + 60_000, &mut store)
            .unwrap()
            .0,
        1
    );
    assert!(store.messages().is_empty());
    let out = frame(
        &mut core,
        &mut store,
        &ada,
        r#"{"type":"send","id":"m9","message":"back"}"#,
        T0 + 61_000,
    );
    assert_eq!(field(&replies(&out)[0], "seq").as_u64(), Some(4));
}

#[test]
fn a_verified_members_read_position_is_kept_and_told_to_their_other_connections() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(
        &mut core,
        &mut store,
        verified("ada@example.com", Some("Ada")),
    );
    let (bo, _) = join(&mut core, &mut store, request("Bo"));
    for i in 1..=3 {
        send(&mut core, &mut store, &bo, &format!("b{i}"), "hi");
    }
    let read = |seq: u64| format!(r#"{{"type":"read","seq":{seq}}}"#);
    let out = frame(&mut core, &mut store, &ada, &read(2), T0 + 1);
    match out.as_slice() {
        [Output::ToSender { sender, frame }] => {
            assert_eq!(sender, &ada.sender);
            assert_eq!(field(&json::parse(frame).unwrap(), "seq").as_u64(), Some(2));
        }
        other => panic!("expected one ToSender, got {other:?}"),
    }
    assert!(
        frame(&mut core, &mut store, &ada, &read(1), T0 + 2).is_empty(),
        "never backwards"
    );
    assert!(frame(&mut core, &mut store, &ada, &read(99), T0 + 3).len() == 1);
    assert_eq!(
        store.read_position(&ada.author).unwrap(),
        3,
        "capped at the latest seq"
    );
    assert!(
        frame(&mut core, &mut store, &bo, &read(3), T0 + 4).is_empty(),
        "anonymous members keep theirs in the page"
    );
    assert_eq!(store.read_position(&bo.author).unwrap(), 0);

    // Ada's next connection (another device) starts from it.
    let (_, frames) = join(
        &mut core,
        &mut store,
        verified("ada@example.com", Some("Ada")),
    );
    assert_eq!(field(&frames[0], "readSeq").as_u64(), Some(3));
    let (_, frames) = join(&mut core, &mut store, request("Cy"));
    assert_eq!(frames[0].get("readSeq"), None);
}

#[test]
fn a_returning_member_is_told_how_many_messages_from_others_came_since_their_read_position() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, welcome) = join(&mut core, &mut store, request("Ada"));
    assert_eq!(
        welcome[0].get("unread"),
        None,
        "a first visit has nothing unread"
    );
    let key = field(&welcome[0], "senderKey").as_str().unwrap().to_owned();
    let (bo, _) = join(&mut core, &mut store, request("Bo"));
    for i in 1..=5 {
        send(&mut core, &mut store, &bo, &format!("b{i}"), "from Bo");
    }
    send(&mut core, &mut store, &ada, "a1", "my own");
    send(&mut core, &mut store, &bo, "b6", "from Bo");
    let delete = crate::client_frame::ClientFrame::Delete {
        id: "d1".into(),
        target: 4,
    }
    .encode();
    core.handle_frame(&bo, &delete, Sockets::default(), T0 + 2, &mut store)
        .unwrap();
    // Ada comes back having read up to 2: 3, 5 and 7 (not her own 6, not the deleted 4).
    let back = |read, since| JoinRequest {
        sender_key: Some(key.clone()),
        read,
        since,
        ..request("Ada")
    };
    let (_, frames) = join(&mut core, &mut store, back(Some(2), None));
    assert_eq!(field(&frames[0], "unread").as_u64(), Some(3));
    let (_, frames) = join(&mut core, &mut store, back(Some(2), Some(2)));
    assert_eq!(
        frames[0].get("unread"),
        None,
        "resuming, the client counts itself"
    );
    // A verified member's position is the room's when the device has none.
    let mut cy = verified("cy@example.com", Some("Cy"));
    let (cy_member, _) = join(&mut core, &mut store, cy.clone());
    store.set_read_position(&cy_member.author, 5).unwrap();
    cy.read = None;
    let (_, frames) = join(&mut core, &mut store, cy);
    assert_eq!(
        field(&frames[0], "unread").as_u64(),
        Some(2),
        "Ada's 6 and Bo's 7"
    );
}

// ----- files: upload tickets, attachments, deleting what no message needs -----

use super::attachments::{ABANDON_MS, STORAGE_FULL_EVERY_MS};
use super::UploadState;
use crate::files::{self, FileKey, Ticket, TICKET_MS};
use crate::limits::FileTypes;
use crate::message::Attachment;

/// The room object the files belong to (what `FilePlace::room` names).
const ROOM: &str = "site:e:room";

fn file_key() -> FileKey {
    FileKey::derive(b"deployment secret")
}

/// A room that knows where its files go (the adapter tells it on waking).
fn files_core() -> RoomCore {
    let mut core = core();
    core.set_files(FilePlace {
        key: file_key(),
        site: "site".into(),
        epoch: "e".into(),
        prefix: files::room_prefix("site", ROOM),
        room: ROOM.into(),
        ticket_ms: TICKET_MS,
        abandon_ms: ABANDON_MS,
    });
    core
}

/// The `upload` frame a widget sends for file `file` of message `id`.
fn upload_request(id: &str, file: u32, size: u64, mime: &str) -> String {
    format!(
        r#"{{"type":"upload","id":"{id}","file":{file},"name":"a.png","size":{size},"mime":"{mime}","width":10,"height":20}}"#
    )
}

/// Ask for a ticket for file `file` of message `id`: the object key and the
/// ticket the upload URL carries, opened as the Worker opens it.
fn ticket(
    core: &mut RoomCore,
    store: &mut MemoryStore,
    m: &Member,
    id: &str,
    file: u32,
    now: u64,
) -> (String, Ticket) {
    let out = frame(
        core,
        store,
        m,
        &upload_request(id, file, 1000, "image/png"),
        now,
    );
    let answer = &replies(&out)[0];
    assert_eq!(kind(answer), "upload", "{answer:?}");
    let url = field(answer, "url").as_str().unwrap();
    let sealed = url.strip_prefix(files::UPLOAD_PATH).unwrap();
    let ticket = file_key().open(sealed, now).unwrap();
    (field(answer, "key").as_str().unwrap().to_owned(), ticket)
}

/// Ask for a ticket and have the Worker store 900 bytes of PNG under it:
/// the key, ready to attach.
fn uploaded(
    core: &mut RoomCore,
    store: &mut MemoryStore,
    m: &Member,
    id: &str,
    file: u32,
    now: u64,
) -> String {
    let (key, ticket) = ticket(core, store, m, id, file, now);
    core.claim_upload(&ticket, 900, "image/png", now, store)
        .unwrap()
        .unwrap();
    core.commit_upload(&ticket, now, store).unwrap().unwrap();
    key
}

/// Attachments naming `keys`, without alternative text.
fn refs(keys: &[&str]) -> Vec<FileRef> {
    keys.iter()
        .map(|k| FileRef {
            key: (*k).to_owned(),
            alt: String::new(),
        })
        .collect()
}

fn send_files(
    core: &mut RoomCore,
    store: &mut MemoryStore,
    m: &Member,
    id: &str,
    text: &str,
    attachments: Vec<FileRef>,
    now: u64,
) -> Vec<Output> {
    let frame = ClientFrame::Send {
        id: Some(id.into()),
        message: text.into(),
        reply_to: None,
        attachments,
    }
    .encode();
    core.handle_frame(m, &frame, Sockets::default(), now, store)
        .unwrap()
}

/// The objects the adapter is told to delete.
fn deleted_objects(out: &[Output]) -> Vec<String> {
    let mut keys: Vec<String> = out
        .iter()
        .flat_map(|o| match o {
            Output::DeleteObjects(keys) => keys.clone(),
            _ => Vec::new(),
        })
        .collect();
    keys.sort();
    keys
}

fn orphans(core: &RoomCore, store: &mut MemoryStore, now: u64) -> Vec<String> {
    deleted_objects(
        &core
            .orphans(now, store)
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>(),
    )
}

fn sorted(keys: &[&str]) -> Vec<String> {
    let mut keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
    keys.sort();
    keys
}

/// The (key, url) of each file a message frame or history item carries.
fn files_of(m: &Json) -> Vec<(String, String)> {
    field(m, "attachments")
        .as_array()
        .unwrap_or_default()
        .iter()
        .map(|a| {
            let text = |k| field(a, k).as_str().unwrap_or_default().to_owned();
            (text("key"), text("url"))
        })
        .collect()
}

/// Whether `url` is the deployment's signed URL of object `key`, valid at `now`.
fn signed_for(url: &str, key: &str, now: u64) -> bool {
    let Some(query) = url.strip_prefix(&format!("{}{key}?exp=", files::FILES_PATH)) else {
        return false;
    };
    let Some((exp, sig)) = query.split_once("&sig=") else {
        return false;
    };
    exp.parse()
        .is_ok_and(|exp| file_key().check_url(key, exp, sig, now))
}

/// Every file of `m` has a URL the Worker will serve at `now`.
fn all_signed(m: &Json, now: u64) -> bool {
    let files = files_of(m);
    !files.is_empty() && files.iter().all(|(key, url)| signed_for(url, key, now))
}

fn generous(sub: &str) -> JoinRequest {
    JoinRequest {
        limits: Limits {
            rate_burst: 100,
            ..Limits::default()
        },
        ..verified(sub, Some(sub))
    }
}

#[test]
fn a_member_gets_an_upload_ticket_the_worker_can_open() {
    let (mut core, mut store) = (files_core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    let out = frame(
        &mut core,
        &mut store,
        &ada,
        &upload_request("m1", 0, 1000, "image/png"),
        T0,
    );
    let answer = &replies(&out)[0];
    assert_eq!(
        (
            kind(answer),
            field(answer, "id").as_str(),
            field(answer, "file").as_u64(),
            field(answer, "expires").as_u64()
        ),
        ("upload", Some("m1"), Some(0), Some(T0 + TICKET_MS))
    );
    let key = field(answer, "key").as_str().unwrap();
    // The object lives under the room's prefix, so erasing the room erases it.
    assert!(key.starts_with(&files::room_prefix("site", ROOM)) && files::is_object_key(key));
    let url = field(answer, "url").as_str().unwrap();
    assert!(url.starts_with("/uploads/"), "{url}");
    // The Worker opens the ticket with the deployment's key: one object, its size and types.
    let opened = file_key()
        .open(url.strip_prefix("/uploads/").unwrap(), T0)
        .unwrap();
    assert_eq!(
        opened,
        Ticket {
            key: key.to_owned(),
            site: "site".into(),
            epoch: "e".into(),
            room: ROOM.into(),
            size: 1000,
            mime: "image/png".into(),
            types: FileTypes::ALL.names(),
            name: "a.png".into(),
            expires: T0 + TICKET_MS,
        }
    );
    assert_eq!(
        FileKey::derive(b"another deployment")
            .open(url.strip_prefix("/uploads/").unwrap(), T0)
            .unwrap_err()
            .code,
        ErrorCode::InvalidTicket,
        "only this deployment's Worker takes it"
    );
    // The adapter is asked to sweep if the file is never sent.
    assert!(out.contains(&Output::SweepAt(T0 + TICKET_MS + ABANDON_MS)));
    assert!(
        broadcasts(&out).is_empty(),
        "nobody else hears of an upload"
    );

    // Asking again after a lost answer names a new object (one per ticket),
    // and the unused ticket is forgotten; another file of the message, or
    // another member's message, another object.
    let (again, _) = ticket(&mut core, &mut store, &ada, "m1", 0, T0 + 5);
    let (second, _) = ticket(&mut core, &mut store, &ada, "m1", 1, T0 + 5);
    let (bo, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            address: Some("198.51.100.2".into()),
            ..request("Bo")
        },
    );
    let (bos, _) = ticket(&mut core, &mut store, &bo, "m1", 0, T0 + 5);
    assert!(again != key && store.upload(key).unwrap().is_none());
    assert!(second != key && second != again && bos != key && bos != second);
}

#[test]
fn uploads_the_site_does_not_accept_are_refused_with_a_reason() {
    let (mut core, mut store) = (files_core(), MemoryStore::default());
    let images = Limits {
        max_file_bytes: 5000,
        file_types: FileTypes::from_names(["image/png", "image/jpeg"]).unwrap(),
        ..Limits::default()
    };
    let (ada, welcome) = join(
        &mut core,
        &mut store,
        JoinRequest {
            limits: images,
            ..request("Ada")
        },
    );
    let ask = |core: &mut RoomCore, store: &mut MemoryStore, m: &Member, size, mime| {
        answer(&frame(
            core,
            store,
            m,
            &upload_request("m1", 0, size, mime),
            T0,
        ))
    };
    // The welcome tells the widget what the room will say, so it can say it
    // first: its check refuses exactly what the room refuses, with the code.
    let accept = field(&welcome[0], "accept").as_str().map(str::to_owned);
    let max = field(&welcome[0], "maxFileBytes").as_u64();
    assert_eq!(accept.as_deref(), Some("image/png,image/jpeg"));
    assert_eq!(max, Some(5000));
    for (size, mime) in [
        (5000, "image/png"),
        (5001, "image/jpeg"),
        (1, "image/gif"),
        (0, "text/plain"),
        (9999, "application/x-msdownload"),
    ] {
        let client = crate::file_rules::check(accept.as_deref(), max, mime, size)
            .map_or_else(|e| e.code.as_str().to_owned(), |()| "upload".to_owned());
        assert_eq!(
            client,
            ask(&mut core, &mut store, &ada, size, mime),
            "{size} {mime}"
        );
    }
    assert_eq!(
        ask(&mut core, &mut store, &ada, 5000, "image/png"),
        "upload"
    );
    assert_eq!(
        ask(&mut core, &mut store, &ada, 5001, "image/png"),
        "too_large"
    );
    assert_eq!(
        ask(&mut core, &mut store, &ada, 10, "application/pdf"),
        "unsupported_type",
        "a known type the site did not pick"
    );
    assert_eq!(
        ask(&mut core, &mut store, &ada, 10, "application/x-msdownload"),
        "unsupported_type"
    );
    // The refusal names the message, so the widget knows which one failed.
    let out = frame(
        &mut core,
        &mut store,
        &ada,
        &upload_request("m7", 0, 5001, "image/png"),
        T0,
    );
    assert_eq!(field(&replies(&out)[0], "id").as_str(), Some("m7"));
    assert!(!out.iter().any(|o| matches!(o, Output::SweepAt(_))));

    // A site without files: a size limit of 0, or an empty list of types
    // (the widget's check reads `accept: ""` as no files), told and
    // refused alike.
    let no_types = FileTypes::from_names([]).unwrap();
    for (name, max_file_bytes, file_types) in [("Bo", 0, FileTypes::ALL), ("Dee", 5000, no_types)] {
        let limits = Limits {
            max_file_bytes,
            file_types,
            ..Limits::default()
        };
        let req = JoinRequest {
            limits,
            ..request(name)
        };
        let (member, welcome) = join(&mut core, &mut store, req);
        assert_eq!(
            ask(&mut core, &mut store, &member, 10, "image/png"),
            "not_allowed"
        );
        assert_eq!(field(&welcome[0], "accept").as_str(), Some(""));
        assert_eq!(field(&welcome[0], "maxFileBytes"), &Json::Null);
    }
    // A room whose adapter has not said where files go cannot take any.
    let (mut bare, mut bare_store) = (self::core(), MemoryStore::default());
    let (cy, welcome) = join(&mut bare, &mut bare_store, request("Cy"));
    assert_eq!(
        field(&welcome[0], "accept").as_str(),
        Some(""),
        "no button for files it cannot take"
    );
    assert_eq!(
        ask(&mut bare, &mut bare_store, &cy, 10, "image/png"),
        "internal"
    );
}

#[test]
fn muted_members_and_a_locked_room_get_no_upload_tickets() {
    let (mut core, mut store) = (files_core(), MemoryStore::default());
    let (eve, _) = join(&mut core, &mut store, request("Eve"));
    let (ada, _) = join(&mut core, &mut store, generous("ada"));
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    let png = |id: &str| upload_request(id, 0, 1000, "image/png");
    let mute = format!(
        r#"{{"type":"moderate","id":"x1","action":"mute","sender":"{}","seconds":600}}"#,
        eve.sender
    );
    frame(&mut core, &mut store, &mo, &mute, T0);
    // A muted member cannot post files either (they would wait, uploaded, for the mute to end).
    assert_eq!(
        answer(&frame(&mut core, &mut store, &eve, &png("e1"), T0 + 1)),
        "muted"
    );
    assert_eq!(
        answer(&frame(&mut core, &mut store, &ada, &png("a1"), T0 + 1)),
        "upload"
    );
    frame(
        &mut core,
        &mut store,
        &mo,
        r#"{"type":"moderate","id":"x2","action":"lock"}"#,
        T0 + 2,
    );
    assert_eq!(
        answer(&frame(&mut core, &mut store, &ada, &png("a2"), T0 + 3)),
        "locked"
    );
    assert_eq!(
        answer(&frame(&mut core, &mut store, &mo, &png("o1"), T0 + 3)),
        "upload",
        "moderators may still post"
    );
}

#[test]
fn upload_tickets_cost_messages_from_the_senders_rate_limit() {
    let (mut core, mut store) = (files_core(), MemoryStore::default());
    let (ada, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            limits: Limits {
                rate_burst: 2,
                rate_per_sec: 0.001,
                ..Limits::default()
            },
            ..verified("ada", Some("Ada"))
        },
    );
    let png = |id: &str| upload_request(id, 0, 1000, "image/png");
    assert_eq!(
        answer(&frame(&mut core, &mut store, &ada, &png("m1"), T0)),
        "upload"
    );
    assert_eq!(
        answer(&frame(&mut core, &mut store, &ada, &png("m2"), T0)),
        "upload"
    );
    // Tickets are not a way around the message rate limit.
    assert_eq!(
        answer(&frame(&mut core, &mut store, &ada, &png("m3"), T0)),
        "rate_limited"
    );
    assert_eq!(
        answer(&send(&mut core, &mut store, &ada, "m4", "hello")),
        "rate_limited",
        "the tickets spent the tokens messages need"
    );
}

#[test]
fn a_ticket_stores_one_upload_and_only_the_newest_ticket_counts() {
    let (mut core, mut store) = (files_core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    let (_, first) = ticket(&mut core, &mut store, &ada, "m1", 0, T0);
    // The answer was lost; the widget asks again and gets a newer ticket.
    let (key, newer) = ticket(&mut core, &mut store, &ada, "m1", 0, T0 + 1000);
    assert_ne!(key, first.key, "one object per ticket");
    let claim = |core: &mut RoomCore, store: &mut MemoryStore, t: &Ticket, now| {
        core.claim_upload(t, 900, "image/png", now, store)
            .unwrap()
            .map_err(|e| e.code)
    };
    assert_eq!(
        claim(&mut core, &mut store, &first, T0 + 2000),
        Err(ErrorCode::TicketUsed),
        "an older ticket of the same file is stale"
    );
    assert_eq!(claim(&mut core, &mut store, &newer, T0 + 2000), Ok(()));
    assert_eq!(
        claim(&mut core, &mut store, &newer, T0 + 3000),
        Err(ErrorCode::TicketUsed),
        "a ticket is good for one upload"
    );
    // The room keeps what the Worker found: the real size and type.
    let stored = store.upload(&key).unwrap().unwrap();
    assert!(stored.state == UploadState::Claimed && stored.seq.is_none());
    assert_eq!(
        (stored.size, stored.author.as_str()),
        (900, ada.author.as_str())
    );

    let (other, late) = ticket(&mut core, &mut store, &ada, "m2", 0, T0);
    assert_eq!(
        claim(&mut core, &mut store, &late, T0 + TICKET_MS),
        Err(ErrorCode::TicketExpired)
    );
    assert_eq!(
        store.upload(&other).unwrap().unwrap().state,
        UploadState::Issued
    );
    // A ticket for an object the room never issued one for.
    let forged = Ticket {
        key: files::object_key(&files::room_prefix("site", ROOM), [7; 16]),
        ..late
    };
    assert_eq!(
        claim(&mut core, &mut store, &forged, T0),
        Err(ErrorCode::TicketUsed)
    );
}

/// A request's clock stands still: tickets asked for in one millisecond
/// each get an object of their own, and an older one never comes back to
/// life under a newer ticket's key.
#[test]
fn tickets_in_one_millisecond_never_share_a_key() {
    let (mut core, mut store) = (files_core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    let asked: Vec<(String, Ticket)> = (0..4)
        .map(|_| ticket(&mut core, &mut store, &ada, "m1", 0, T0))
        .collect();
    let keys: std::collections::BTreeSet<&String> = asked.iter().map(|(k, _)| k).collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    for (_, old) in &asked[..3] {
        assert_eq!(
            core.claim_upload(old, 900, "image/png", T0, &mut store)
                .unwrap()
                .map_err(|e| e.code),
            Err(ErrorCode::TicketUsed),
            "an older ticket works again"
        );
    }
    let newest = &asked[3].1;
    assert!(core
        .claim_upload(newest, 900, "image/png", T0, &mut store)
        .unwrap()
        .is_ok());
}

#[test]
fn a_full_storage_tells_the_sites_webhooks_once_an_hour_per_room() {
    let (mut core, mut store) = (files_core(), MemoryStore::default());
    let capped = Limits {
        max_storage_bytes: 3000,
        ..Limits::default()
    };
    let (ada, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            limits: capped,
            ..request("Ada")
        },
    );
    uploaded(&mut core, &mut store, &ada, "m1", 0, T0);
    core.set_files_elsewhere(2500, T0);
    let full = |core: &mut RoomCore, store: &mut MemoryStore, id: &str, now| {
        let out = frame(
            core,
            store,
            &ada,
            &upload_request(id, 0, 1000, "image/png"),
            now,
        );
        assert_eq!(answer(&out), "storage_full");
        out.into_iter()
            .filter_map(|o| match o {
                Output::SiteEvent {
                    kind, name, data, ..
                } => Some((kind, name, json::parse(&data).unwrap())),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let told = full(&mut core, &mut store, "m2", T0 + 1);
    assert_eq!(told.len(), 1, "{told:?}");
    let (kind, name, data) = &told[0];
    assert_eq!(
        (*kind, name.as_str()),
        ("storage.full", format!("storage.{}", T0 + 1).as_str())
    );
    assert_eq!(
        (
            field(data, "size").as_u64(),
            field(data, "maxStorageBytes").as_u64(),
            field(data, "roomFileBytes").as_u64()
        ),
        (Some(1000), Some(3000), Some(900))
    );
    // A full site refuses upload after upload: its owner hears once an hour.
    core.set_files_elsewhere(2500, T0 + 60_000);
    assert!(full(&mut core, &mut store, "m3", T0 + 60_000).is_empty());
    let later = T0 + 1 + STORAGE_FULL_EVERY_MS;
    core.set_files_elsewhere(2500, later);
    assert_eq!(full(&mut core, &mut store, "m4", later).len(), 1);
    // The site's count refusing an upload's bytes tells too (the adapter asks).
    let again = later + STORAGE_FULL_EVERY_MS;
    assert!(core
        .storage_full_event(700, again, &mut store)
        .unwrap()
        .is_some());
    assert!(core
        .storage_full_event(700, again + 1, &mut store)
        .unwrap()
        .is_none());
}

#[test]
fn the_sites_storage_for_files_counts_every_room_and_frees_with_deletions() {
    let (mut core, mut store) = (files_core(), MemoryStore::default());
    let capped = Limits {
        max_storage_bytes: 3000,
        ..Limits::default()
    };
    let (ada, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            limits: capped,
            ..request("Ada")
        },
    );
    // Issued, not used: a ticket holds nothing yet.
    let (_, unused) = ticket(&mut core, &mut store, &ada, "m0", 0, T0);
    let kept = uploaded(&mut core, &mut store, &ada, "m1", 0, T0);
    let gone = uploaded(&mut core, &mut store, &ada, "m2", 0, T0);
    assert_eq!(store.file_bytes().unwrap(), 1800);
    // The other rooms hold 1,000: 1,000 more would pass 3,000.
    core.set_files_elsewhere(1000, T0);
    let out = frame(
        &mut core,
        &mut store,
        &ada,
        &upload_request("m3", 0, 1000, "image/png"),
        T0,
    );
    assert_eq!(answer(&out), "storage_full");
    assert!(
        out.iter().any(|o| matches!(o, Output::TellFileBytes)),
        "a refusal asks for news of the other rooms"
    );
    // A ticket issued before the others filled up is refused with the bytes.
    core.set_files_elsewhere(1300, T0);
    let refused = core.claim_upload(&unused, 900, "image/png", T0 + 1, &mut store);
    assert_eq!(refused.unwrap().unwrap_err().code, ErrorCode::StorageFull);
    assert_eq!(
        store.upload(&unused.key).unwrap().unwrap().state,
        UploadState::Issued,
        "its ticket stays unused"
    );

    send_files(
        &mut core,
        &mut store,
        &ada,
        "m1",
        "",
        refs(&[&kept]),
        T0 + 2,
    );
    send_files(
        &mut core,
        &mut store,
        &ada,
        "m2",
        "",
        refs(&[&gone]),
        T0 + 3,
    );
    frame(
        &mut core,
        &mut store,
        &ada,
        r#"{"type":"delete","id":"d1","target":2}"#,
        T0 + 4,
    );
    // Freed once the object is deleted, as the adapter says.
    assert_eq!(store.file_bytes().unwrap(), 1800);
    store.forget_uploads(&[gone]).unwrap();
    assert_eq!(store.file_bytes().unwrap(), 900);
    let out = frame(
        &mut core,
        &mut store,
        &ada,
        &upload_request("m3", 0, 800, "image/png"),
        T0 + 5,
    );
    assert_eq!(kind(&replies(&out)[0]), "upload");
    assert!(out.iter().any(|o| matches!(o, Output::TellFileBytes)));

    // What the others held long ago is not held against a visitor.
    core.set_files_elsewhere(2500, T0);
    let later = frame(
        &mut core,
        &mut store,
        &ada,
        &upload_request("m5", 0, 1000, "image/png"),
        T0 + 60_000,
    );
    assert_eq!(kind(&replies(&later)[0]), "upload");

    // Asking again for a ticket for a file stored (not sent): that object
    // is deleted (its bytes count until it is), and can no longer be sent.
    core.set_files_elsewhere(0, T0);
    let (_, again) = ticket(&mut core, &mut store, &ada, "m1b", 0, T0 + 6);
    core.claim_upload(&again, 500, "image/png", T0 + 6, &mut store)
        .unwrap()
        .unwrap();
    core.commit_upload(&again, T0 + 6, &mut store)
        .unwrap()
        .unwrap();
    assert_eq!(store.file_bytes().unwrap(), 1400);
    let text = upload_request("m1b", 0, 1000, "image/png");
    let out = frame(&mut core, &mut store, &ada, &text, T0 + 7);
    let key = field(&replies(&out)[0], "key").as_str().unwrap().to_owned();
    let anew = file_key()
        .open(
            field(&replies(&out)[0], "url")
                .as_str()
                .unwrap()
                .strip_prefix(files::UPLOAD_PATH)
                .unwrap(),
            T0 + 7,
        )
        .unwrap();
    assert_eq!(deleted_objects(&out), vec![again.key.clone()]);
    assert_eq!(
        store.file_bytes().unwrap(),
        1400,
        "counted until its delete is done"
    );
    assert_eq!(
        answer(&send_files(
            &mut core,
            &mut store,
            &ada,
            "m1b",
            "",
            refs(&[&again.key]),
            T0 + 7
        )),
        "not_found",
        "an object being deleted cannot be sent"
    );
    store
        .forget_uploads(std::slice::from_ref(&again.key))
        .unwrap();
    assert_eq!(store.file_bytes().unwrap(), 900);
    // The new ticket's bytes are its own object's: asked of the site's
    // count in full before they are marked stored.
    core.claim_upload(&anew, 700, "image/png", T0 + 8, &mut store)
        .unwrap()
        .unwrap();
    assert_eq!(
        core.commit_storage(&anew, T0 + 8, &mut store).unwrap(),
        Ok((700, 3000))
    );
    // The site's count refused them: the Worker deletes the object.
    core.storage_refused(&anew, T0 + 8, &mut store).unwrap();
    assert_eq!(store.file_bytes().unwrap(), 900);
    assert_eq!(store.upload(&key).unwrap().unwrap().held, 0);
    // A claim abandoned on the way holds nothing.
    let (_, dropped) = ticket(&mut core, &mut store, &ada, "m4", 0, T0 + 9);
    core.claim_upload(&dropped, 1000, "image/png", T0 + 9, &mut store)
        .unwrap()
        .unwrap();
    assert_eq!(store.file_bytes().unwrap(), 900);
}

#[test]
fn a_message_attaches_only_the_senders_own_uploads_waiting_to_be_sent() {
    let (mut core, mut store) = (files_core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, generous("ada"));
    let (bo, _) = join(&mut core, &mut store, generous("bo"));
    let (key, t) = ticket(&mut core, &mut store, &ada, "m1", 0, T0);
    let code = |out: &[Output]| {
        let r = &replies(out)[0];
        (
            field(r, "code").as_str().unwrap_or(kind(r)).to_owned(),
            field(r, "id").as_str().map(str::to_owned),
        )
    };
    let refused = ("not_found".to_owned(), Some("m1".to_owned()));
    // Before the bytes are stored the key names nothing to show.
    let out = send_files(
        &mut core,
        &mut store,
        &ada,
        "m1",
        "look",
        refs(&[&key]),
        T0 + 1,
    );
    assert_eq!(code(&out), refused);
    core.claim_upload(&t, 900, "image/png", T0 + 2, &mut store)
        .unwrap()
        .unwrap();
    core.commit_upload(&t, T0 + 2, &mut store).unwrap().unwrap();
    // Nobody can attach (and so publish) someone else's upload.
    let bos = uploaded(&mut core, &mut store, &bo, "b1", 0, T0 + 3);
    let out = send_files(
        &mut core,
        &mut store,
        &ada,
        "m1",
        "look",
        refs(&[&bos]),
        T0 + 4,
    );
    assert_eq!(code(&out), refused);
    let unknown = files::object_key(&files::room_prefix("site", ROOM), [7; 16]);
    let out = send_files(
        &mut core,
        &mut store,
        &ada,
        "m1",
        "look",
        refs(&[&unknown]),
        T0 + 4,
    );
    assert_eq!(code(&out), refused);
    let out = send_files(
        &mut core,
        &mut store,
        &ada,
        "m1",
        "look",
        refs(&[&key, &key]),
        T0 + 4,
    );
    assert_eq!(code(&out), refused, "the same file twice in one message");
    assert!(store.messages().is_empty(), "nothing refused is stored");

    let out = send_files(
        &mut core,
        &mut store,
        &ada,
        "m1",
        "look",
        refs(&[&key]),
        T0 + 5,
    );
    assert_eq!(field(&replies(&out)[1], "seq").as_u64(), Some(1));
    // Once sent, a file cannot go out again with another message.
    let out = send_files(
        &mut core,
        &mut store,
        &ada,
        "m2",
        "again",
        refs(&[&key]),
        T0 + 6,
    );
    assert_eq!(code(&out).0, "not_found");
    assert_eq!(store.messages().len(), 1);
    // Bo's upload is still his to send.
    let out = send_files(&mut core, &mut store, &bo, "b1", "", refs(&[&bos]), T0 + 7);
    assert_eq!(field(&replies(&out)[1], "seq").as_u64(), Some(2));
}

#[test]
fn a_message_with_files_is_stored_and_sent_with_urls_that_work() {
    let (mut core, mut store) = (files_core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    let (photo, t) = ticket(&mut core, &mut store, &ada, "m1", 0, T0);
    // The Worker found a JPEG of 900 bytes where a 1000-byte PNG was announced.
    core.claim_upload(&t, 900, "image/jpeg", T0 + 1, &mut store)
        .unwrap()
        .unwrap();
    core.commit_upload(&t, T0 + 1, &mut store).unwrap().unwrap();
    let scan = uploaded(&mut core, &mut store, &ada, "m1", 1, T0 + 2);
    let attachments = vec![
        FileRef {
            key: photo.clone(),
            alt: String::new(),
        },
        FileRef {
            key: scan.clone(),
            alt: "  a red square ".into(),
        },
    ];
    let now = T0 + 10;
    // Files may go without text.
    let out = send_files(&mut core, &mut store, &ada, "m1", "  ", attachments, now);
    let answers = replies(&out);
    let kinds: Vec<&str> = answers.iter().map(kind).collect();
    assert_eq!(
        kinds,
        ["message", "ack"],
        "the sender gets the URLs before the ack"
    );
    assert_eq!(field(&answers[1], "seq").as_u64(), Some(1));
    let mine = &answers[0];
    let theirs = &broadcasts(&out)[0];
    assert_eq!(field(theirs, "message").as_str(), Some(""));
    for m in [mine, theirs] {
        let keys: Vec<String> = files_of(m).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, [photo.clone(), scan.clone()], "in the order sent");
        assert!(all_signed(m, now), "{m:?}");
    }
    // Kept as the claim found it; the alt text defaults to the file name;
    // URLs are signed when sent, never stored.
    let (stored, _) = &store.messages()[0];
    assert_eq!(
        stored.attachments,
        [
            Attachment {
                key: photo.clone(),
                name: "a.png".into(),
                mime: "image/jpeg".into(),
                size: 900,
                width: Some(10),
                height: Some(20),
                alt: "a.png".into(),
                url: None,
            },
            Attachment {
                key: scan.clone(),
                name: "a.png".into(),
                mime: "image/png".into(),
                size: 900,
                width: Some(10),
                height: Some(20),
                alt: "a red square".into(),
                url: None,
            },
        ]
    );
    assert_eq!(store.upload(&photo).unwrap().unwrap().seq, Some(1));
    // Without files, an empty message is still refused.
    assert_eq!(
        answer(&send(&mut core, &mut store, &ada, "m2", "  ")),
        "empty"
    );
}

#[test]
fn a_retried_send_with_files_is_acked_with_its_seq_and_attaches_nothing_twice() {
    let (mut core, mut store) = (files_core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, generous("ada"));
    let key = uploaded(&mut core, &mut store, &ada, "m1", 0, T0);
    send_files(
        &mut core,
        &mut store,
        &ada,
        "m1",
        "look",
        refs(&[&key]),
        T0 + 1,
    );
    send(&mut core, &mut store, &ada, "m2", "and more");
    // The ack was lost with the connection: the widget sends it again.
    let out = send_files(
        &mut core,
        &mut store,
        &ada,
        "m1",
        "look",
        refs(&[&key]),
        T0 + 9,
    );
    let answers = replies(&out);
    assert_eq!(
        (
            answers.len(),
            kind(&answers[0]),
            field(&answers[0], "seq").as_u64()
        ),
        (1, "ack", Some(1)),
        "its original seq"
    );
    assert!(broadcasts(&out).is_empty(), "nobody sees it twice");
    assert_eq!(store.messages().len(), 2);
    assert_eq!(store.upload(&key).unwrap().unwrap().seq, Some(1));
    // The same id with other files is another request.
    let other = uploaded(&mut core, &mut store, &ada, "m3", 0, T0 + 10);
    let out = send_files(
        &mut core,
        &mut store,
        &ada,
        "m1",
        "look",
        refs(&[&other]),
        T0 + 11,
    );
    assert_eq!(answer(&out), "id_conflict");
    assert_eq!(
        store.upload(&other).unwrap().unwrap().seq,
        None,
        "and attaches nothing"
    );
}

#[test]
fn deleting_a_message_deletes_its_files_and_nothing_else() {
    let (mut core, mut store) = (files_core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    let gone = uploaded(&mut core, &mut store, &ada, "m1", 0, T0);
    let kept = uploaded(&mut core, &mut store, &ada, "m2", 0, T0);
    send_files(
        &mut core,
        &mut store,
        &ada,
        "m1",
        "oops",
        refs(&[&gone]),
        T0 + 1,
    );
    send_files(
        &mut core,
        &mut store,
        &ada,
        "m2",
        "fine",
        refs(&[&kept]),
        T0 + 2,
    );
    let out = frame(
        &mut core,
        &mut store,
        &ada,
        r#"{"type":"delete","id":"d1","target":1}"#,
        T0 + 3,
    );
    assert_eq!(deleted_objects(&out), sorted(&[&gone]));
    assert!(
        files_of(&broadcasts(&out)[0]).is_empty(),
        "the tombstone shows no files"
    );
    // Until the adapter says the objects are gone, the sweep finds them again.
    assert_eq!(orphans(&core, &mut store, T0 + 4), sorted(&[&gone]));
    store.forget_uploads(&[gone]).unwrap();
    assert_eq!(core.orphans(T0 + 5, &mut store).unwrap(), None);
    assert_eq!(store.messages()[1].0.attachments.len(), 1);
}

#[test]
fn moderators_purges_and_erasure_delete_the_files_of_what_they_remove() {
    let (mut core, mut store) = (files_core(), MemoryStore::default());
    let (eve, _) = join(&mut core, &mut store, request("Eve"));
    let (ada, _) = join(&mut core, &mut store, generous("ada"));
    let (cy, _) = join(&mut core, &mut store, generous("cy"));
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    let mut post = |m: &Member, id: &str, now| {
        let key = uploaded(&mut core, &mut store, m, id, 0, now);
        send_files(&mut core, &mut store, m, id, "", refs(&[&key]), now);
        key
    };
    let ada1 = post(&ada, "a1", T0); // seq 1
    let eve1 = post(&eve, "e1", T0 + 1); // seq 2
    let eve2 = post(&eve, "e2", T0 + 2); // seq 3
    let cy1 = post(&cy, "c1", T0 + 3); // seq 4
    let ada2 = post(&ada, "a2", T0 + 4); // seq 5

    let out = frame(
        &mut core,
        &mut store,
        &mo,
        r#"{"type":"moderate","id":"x1","action":"delete","target":1}"#,
        T0 + 10,
    );
    assert_eq!(deleted_objects(&out), sorted(&[&ada1]));
    store.forget_uploads(&[ada1]).unwrap();

    let purge = format!(
        r#"{{"type":"moderate","id":"x2","action":"purge","sender":"{}"}}"#,
        eve.sender
    );
    let out = frame(&mut core, &mut store, &mo, &purge, T0 + 11);
    assert_eq!(deleted_objects(&out), sorted(&[&eve1, &eve2]));
    store.forget_uploads(&[eve1, eve2]).unwrap();

    let (_, out) = core
        .erase_user("cy", Limits::default(), T0 + 12, &mut store)
        .unwrap();
    assert_eq!(
        deleted_objects(&out),
        [cy1],
        "an erased user's files go too"
    );
    assert!(store.messages()[4].0.attachments[0].key == ada2);
}

#[test]
fn files_of_messages_trimmed_by_retention_are_swept() {
    let (mut core, mut store) = (files_core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, generous("ada"));
    let keys: Vec<String> = (1..=3)
        .map(|i| {
            let id = format!("m{i}");
            let key = uploaded(&mut core, &mut store, &ada, &id, 0, T0 + i);
            send_files(&mut core, &mut store, &ada, &id, "", refs(&[&key]), T0 + i);
            key
        })
        .collect();
    assert_eq!(
        core.retain(Some(1), 0, 0, T0 + 10, &mut store).unwrap().0,
        2
    );
    assert_eq!(
        orphans(&core, &mut store, T0 + 10),
        sorted(&[&keys[0], &keys[1]]),
        "the newest message keeps its file"
    );
}

#[test]
fn an_upload_never_sent_is_deleted_only_once_it_is_abandoned() {
    let (mut core, mut store) = (files_core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, generous("ada"));
    let stored = uploaded(&mut core, &mut store, &ada, "m1", 0, T0);
    let (never, _) = ticket(&mut core, &mut store, &ada, "m2", 0, T0);
    let sent = uploaded(&mut core, &mut store, &ada, "m3", 0, T0);
    send_files(
        &mut core,
        &mut store,
        &ada,
        "m3",
        "",
        refs(&[&sent]),
        T0 + 1,
    );
    let abandon_at = T0 + TICKET_MS + ABANDON_MS;
    assert_eq!(store.next_abandon().unwrap(), Some(abandon_at));
    // A visitor may take their time to write the message that goes with it.
    assert!(orphans(&core, &mut store, abandon_at - 1).is_empty());
    assert_eq!(
        orphans(&core, &mut store, abandon_at + 1),
        sorted(&[&stored, &never]),
        "a sent file is never abandoned"
    );
}

#[test]
fn pages_and_updates_carry_urls_signed_when_they_are_sent() {
    let (mut core, mut store) = (files_core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    let (bo, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            address: Some("198.51.100.2".into()),
            ..request("Bo")
        },
    );
    let key = uploaded(&mut core, &mut store, &ada, "m1", 0, T0);
    let sent = send_files(
        &mut core,
        &mut store,
        &ada,
        "m1",
        "look",
        refs(&[&key]),
        T0 + 1,
    );

    let out = frame(
        &mut core,
        &mut store,
        &ada,
        r#"{"type":"edit","id":"e1","target":1,"message":"look!"}"#,
        T0 + 2,
    );
    let update = &broadcasts(&out)[0];
    assert_eq!(kind(update), "update");
    assert!(all_signed(update, T0 + 2), "an edit keeps the files shown");
    let react = r#"{"type":"react","id":"r1","target":1,"emoji":"👍","on":true}"#;
    let out = frame(&mut core, &mut store, &bo, react, T0 + 3);
    assert!(all_signed(&broadcasts(&out)[0], T0 + 3));

    // A newcomer's join page, and a reconnecting widget's resume page.
    let (_, frames) = join(&mut core, &mut store, request("Cy"));
    let page = field(&frames[1], "messages").as_array().unwrap().to_vec();
    assert!(all_signed(&page[0], T0));
    let (_, frames) = join(
        &mut core,
        &mut store,
        JoinRequest {
            since: Some(0),
            ..request("Di")
        },
    );
    let page = field(&frames[1], "messages").as_array().unwrap().to_vec();
    assert_eq!(page.len(), 3, "the message, the edit and the reaction");
    assert!(page.iter().all(|e| all_signed(e, T0)));

    // A page asked for days later has URLs that work then.
    let later = T0 + 3 * 24 * 3600 * 1000;
    let out = frame(
        &mut core,
        &mut store,
        &bo,
        r#"{"type":"history","before":99,"limit":10}"#,
        later,
    );
    let page = field(&replies(&out)[0], "messages")
        .as_array()
        .unwrap()
        .to_vec();
    assert!(all_signed(&page[0], later));
    let (_, old) = &files_of(&broadcasts(&sent)[0])[0];
    assert!(
        !signed_for(old, &key, later),
        "the URL sent with the message has expired by then"
    );
}

#[test]
fn workshop_clients_see_files_by_name_live_and_on_joining() {
    let (mut core, mut store) = (files_core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    let key = uploaded(&mut core, &mut store, &ada, "m1", 0, T0);
    let frame = ClientFrame::Send {
        id: Some("m1".into()),
        message: String::new(),
        reply_to: None,
        attachments: refs(&[&key]),
    }
    .encode();
    let legacy_present = Sockets {
        legacy: true,
        ..Sockets::default()
    };
    let out = core
        .handle_frame(&ada, &frame, legacy_present, T0 + 1, &mut store)
        .unwrap();
    let live = out
        .iter()
        .find_map(|o| match o {
            Output::Broadcast {
                legacy: Some(l), ..
            } => Some(json::parse(l).unwrap()),
            _ => None,
        })
        .unwrap();
    assert_eq!(field(&live, "message").as_str(), Some("[a.png]"));
    // The workshop front end has no file view: a message of files only must
    // not show up empty when it joins later either.
    let (_, frames) = join(
        &mut core,
        &mut store,
        JoinRequest {
            dialect: Dialect::Legacy,
            ..request("Old")
        },
    );
    assert_eq!(field(&frames[0], "message").as_str(), Some("[a.png]"));
}

// ----- files, under random interleavings -----

#[derive(Debug, Clone)]
enum FileStep {
    /// Member `who` asks for a ticket for file `file` of their message `msg`.
    Ticket { who: usize, msg: u8, file: u8 },
    /// The Worker stores bytes under the newest ticket of the `n`th key issued.
    Claim(usize),
    /// Member `who` sends their message `msg` with some of the keys issued:
    /// mostly their own (`true`), else anyone's (a client may name any key).
    Send {
        who: usize,
        msg: u8,
        picks: Vec<(usize, bool)>,
    },
    /// Member `who` deletes message `target` (member 0 is a moderator).
    Delete { who: usize, target: u64 },
    /// Time passes, sometimes past a ticket's life and an upload's abandonment.
    Wait(u64),
}

fn file_step() -> impl proptest::strategy::Strategy<Value = FileStep> {
    use proptest::prelude::*;
    prop_oneof![
        3 => (0usize..3, 0u8..4, 0u8..2).prop_map(|(who, msg, file)| FileStep::Ticket { who, msg, file }),
        3 => (0usize..64).prop_map(FileStep::Claim),
        3 => (0usize..3, 0u8..4, proptest::collection::vec((0usize..64, proptest::bool::weighted(0.8)), 0..3))
            .prop_map(|(who, msg, picks)| FileStep::Send { who, msg, picks }),
        1 => (0usize..3, 1u64..16).prop_map(|(who, target)| FileStep::Delete { who, target }),
        1 => prop_oneof![0u64..TICKET_MS, 0u64..2 * (TICKET_MS + ABANDON_MS)].prop_map(FileStep::Wait),
    ]
}

proptest::proptest! {
    /// Whatever members do with tickets, uploads, messages and deletes:
    /// a file is shown with one message at most, only its uploader's, with
    /// a URL that works; no object a shown message needs is ever deleted;
    /// and, in the end, every object no message needs is deleted.
    #[test]
    fn files_are_never_shared_lost_or_leaked(
        steps in proptest::collection::vec(file_step(), 1..60)
    ) {
        let (mut core, mut store) = (files_core(), MemoryStore::default());
        let mut members: Vec<Member> = Vec::new();
        for (i, sub) in ["mo", "ada", "bo"].into_iter().enumerate() {
            let req = if i == 0 { moderator(sub, "Mo") } else { generous(sub) };
            let req = JoinRequest {
                limits: Limits { rate_burst: 10_000, rate_per_sec: 1000.0, ..Limits::default() },
                ..req
            };
            members.push(join(&mut core, &mut store, req).0);
        }
        // Every key issued, with its newest ticket and who asked for it;
        // every key handed out for deletion.
        let mut issued: Vec<(String, Ticket, usize)> = Vec::new();
        let mut deleted: std::collections::BTreeSet<String> = Default::default();
        // Every key an object was written under.
        let mut written: std::collections::BTreeSet<String> = Default::default();
        let mut now = T0;
        for step in steps {
            now += 1000;
            let out = match step {
                FileStep::Ticket { who, msg, file } => {
                    let text = upload_request(&format!("m{msg}"), u32::from(file), 1000, "image/png");
                    let out = frame(&mut core, &mut store, &members[who], &text, now);
                    if let Some(answer) = replies(&out).first().filter(|a| kind(a) == "upload") {
                        let url = field(answer, "url").as_str().unwrap();
                        let t = file_key().open(url.strip_prefix(files::UPLOAD_PATH).unwrap(), now).unwrap();
                        match issued.iter_mut().find(|(k, _, _)| *k == t.key) {
                            Some(entry) => entry.1 = t,
                            None => issued.push((t.key.clone(), t, who)),
                        }
                    }
                    out
                }
                FileStep::Claim(n) => {
                    if let Some((_, t, _)) = issued.get(n % issued.len().max(1)) {
                        if core.claim_upload(t, 900, "image/png", now, &mut store).unwrap().is_ok() {
                            core.commit_upload(t, now, &mut store).unwrap().unwrap();
                            written.insert(t.key.clone());
                        }
                    }
                    Vec::new()
                }
                FileStep::Send { who, msg, picks } => {
                    let keys: Vec<&str> = picks
                        .iter()
                        .filter_map(|&(n, own)| {
                            let pool: Vec<&str> = issued
                                .iter()
                                .filter(|(_, _, by)| !own || *by == who)
                                .map(|(k, _, _)| k.as_str())
                                .collect();
                            pool.get(n % pool.len().max(1)).copied()
                        })
                        .collect();
                    let text = if keys.is_empty() { "x" } else { "" };
                    send_files(&mut core, &mut store, &members[who], &format!("m{msg}"), text, refs(&keys), now)
                }
                FileStep::Delete { who, target } => {
                    let text = format!(r#"{{"type":"delete","id":"d{now}","target":{target}}}"#);
                    frame(&mut core, &mut store, &members[who], &text, now)
                }
                FileStep::Wait(ms) => {
                    now += ms;
                    Vec::new()
                }
            };
            // The adapter's sweep runs now and then.
            let mut gone = deleted_objects(&out);
            gone.extend(orphans(&core, &mut store, now));

            let live: Vec<(ChatMessage, String)> =
                store.messages().into_iter().filter(|(m, _)| !m.deleted).collect();
            let mut shown = std::collections::BTreeSet::new();
            for (m, author) in &live {
                for a in &m.attachments {
                    proptest::prop_assert!(shown.insert(a.key.clone()), "{} shown twice", a.key);
                    proptest::prop_assert!(!gone.contains(&a.key), "{} deleted while shown", a.key);
                    let upload = store.upload(&a.key).unwrap();
                    proptest::prop_assert!(
                        upload.is_some_and(|u| u.author == *author && u.state == UploadState::Stored && u.seq == Some(m.seq)),
                        "{} is not its author's stored upload", a.key
                    );
                }
            }
            for b in broadcasts(&out).iter().filter(|b| kind(b) == "message") {
                proptest::prop_assert!(files_of(b).iter().all(|(k, url)| signed_for(url, k, now)));
            }
            store.forget_uploads(&gone).unwrap();
            deleted.extend(gone);
            // Asking again makes the older tickets stop working: at most one
            // ticket per file is still open.
            let mut open_tickets = std::collections::BTreeMap::new();
            for (key, _, _) in &issued {
                if let Some(u) = store.upload(key).unwrap().filter(|u| u.state == UploadState::Issued) {
                    *open_tickets.entry(u.slot).or_insert(0u32) += 1;
                }
            }
            proptest::prop_assert!(open_tickets.values().all(|&n| n <= 1), "{open_tickets:?}");
        }
        // Long after: everything no message shows has been handed out for deletion.
        deleted.extend(orphans(&core, &mut store, now + 10 * (TICKET_MS + ABANDON_MS)));
        let shown: Vec<String> = store
            .messages()
            .into_iter()
            .filter(|(m, _)| !m.deleted)
            .flat_map(|(m, _)| m.attachments.into_iter().map(|a| a.key))
            .collect();
        for key in &written {
            proptest::prop_assert!(shown.contains(key) || deleted.contains(key), "{key} leaked");
        }
    }
}

#[test]
fn erasing_a_user_deletes_the_files_they_uploaded_and_never_sent() {
    // GDPR erasure cannot wait an hour for the sweep of abandoned uploads.
    let (mut core, mut store) = (files_core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, verified("ada", Some("Ada")));
    let key = uploaded(&mut core, &mut store, &ada, "m1", 0, T0);
    let (_, outputs) = core
        .erase_user("ada", Limits::default(), T0 + 1, &mut store)
        .unwrap();
    assert!(
        outputs
            .iter()
            .any(|o| matches!(o, Output::DeleteObjects(keys) if keys.contains(&key))),
        "{outputs:?}"
    );
}

#[test]
fn a_live_event_room_tells_its_count_now_and_then_instead_of_every_join_and_leave() {
    // After a deploy thousands rejoin at once: each announcement would be a
    // send to every member. The joiner still gets its welcome and history,
    // and the count goes out at most every ten seconds, without names.
    let (mut core, mut store) = (core(), MemoryStore::default());
    let crowd = |online| Sockets {
        online,
        ..Sockets::default()
    };
    let told_count = |outputs: &[Output]| -> Vec<Json> {
        let told = broadcasts(outputs);
        for frame in &told {
            assert_eq!(kind(frame), "presence", "{frame:?}");
            assert!(frame.get("joined").is_none() && frame.get("member").is_none());
        }
        told
    };
    let mut joined = Vec::new();
    let mut told = Vec::new();
    for i in 0..550 {
        let req = JoinRequest {
            address: Some(format!("10.0.{}.{}", i / 256, i % 256)),
            ..request(&format!("Ada{i}"))
        };
        let Joined::Accepted { member, outputs } = core
            .join(req, crowd(i), T0 + u64::from(i) * 10, &mut store)
            .unwrap()
        else {
            panic!("refused");
        };
        assert_eq!(replies(&outputs).len(), 2, "welcome and history");
        told.extend(broadcasts(&outputs));
        joined.push(member);
    }
    // Up to 500 each join was told, with its name; past that, the first
    // join told the count, the next 49, within 0.5 s, did not.
    let told: Vec<Json> = told
        .into_iter()
        .filter(|f| f.get("joined").is_none())
        .collect();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(field(&told[0], "online").as_u64(), Some(501));
    // A leave ten seconds later tells the count as it is now.
    let later = T0 + 5_500 + presence::LIVE_COUNT_EVERY_MS;
    let gone = joined.pop().unwrap();
    let told = told_count(&core.leave(&gone, crowd(549), later));
    assert_eq!(field(&told[0], "online").as_u64(), Some(549));
    assert!(told_count(&core.leave(&joined[0], crowd(548), later + 1)).is_empty());
    // Ten seconds on, a message carries it, to its sender too.
    let send = ClientFrame::Send {
        id: Some("m1".into()),
        message: "hi".into(),
        reply_to: None,
        attachments: Vec::new(),
    }
    .encode();
    let later = later + presence::LIVE_COUNT_EVERY_MS;
    let outputs = core
        .handle_frame(&joined[1], &send, Sockets::default(), later, &mut store)
        .unwrap();
    let count = |frames: Vec<Json>| {
        frames
            .into_iter()
            .filter(|f| kind(f) == "presence")
            .map(|f| field(&f, "online").as_u64())
            .collect::<Vec<_>>()
    };
    assert_eq!(count(broadcasts(&outputs)), [Some(548)]);
    assert_eq!(count(replies(&outputs)), [Some(548)]);
    // A small room announces each join and leave, with names.
    let small = Sockets::default();
    let Joined::Accepted { member, outputs } =
        core.join(request("Bo"), small, later, &mut store).unwrap()
    else {
        panic!("refused");
    };
    assert_eq!(
        field(&broadcasts(&outputs)[0], "joined").as_str(),
        Some("Bo")
    );
    assert!(!core.leave(&member, small, later).is_empty());
}

#[test]
fn a_live_event_room_sends_a_shorter_first_page_and_relays_no_typing() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    for i in 0..30 {
        send(&mut core, &mut store, &ada, &format!("m{i}"), "hi");
    }
    let crowd = Sockets {
        online: crate::limits::BIG_ROOM,
        ..Sockets::default()
    };
    let Joined::Accepted {
        member: bo,
        outputs,
    } = core.join(request("Bo"), crowd, T0, &mut store).unwrap()
    else {
        panic!("refused");
    };
    let history = &replies(&outputs)[1];
    assert_eq!(
        history
            .get("messages")
            .and_then(|m| m.as_array())
            .map(<[Json]>::len),
        Some(crate::limits::LIVE_JOIN_HISTORY)
    );
    // Typing is relayed in a small room...
    let typing = |core: &mut RoomCore, store: &mut MemoryStore, who: &Member| {
        core.handle_frame(
            who,
            r#"{"type":"typing"}"#,
            Sockets::default(),
            T0 + 10_000,
            store,
        )
        .unwrap()
    };
    let relayed = broadcasts(&typing(&mut core, &mut store, &bo));
    assert_eq!(
        field(&relayed[0], "sender").as_str(),
        Some(bo.sender.as_str()),
        "with the typist's key, so that their other tabs leave them out"
    );
    // ...and not once the room is a live event.
    let crowd: Vec<Member> = (0..=crate::limits::BIG_ROOM)
        .map(|i| Member {
            sender: format!("crowd{i}"),
            ..bo.clone()
        })
        .collect();
    core.restore(&crowd);
    assert!(typing(&mut core, &mut store, &ada).is_empty());
}

// ----- read receipts -----

fn with_receipts(name: &str, on: bool) -> JoinRequest {
    JoinRequest {
        policy: RoomPolicy {
            receipts: on,
            ..RoomPolicy::default()
        },
        ..request(name)
    }
}

#[test]
fn with_receipts_on_everyone_hears_how_far_each_member_read_once_per_step() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, with_receipts("Ada", true));
    send(&mut core, &mut store, &ada, "m1", "hello");
    let (bo, welcome) = join(&mut core, &mut store, with_receipts("Bo", true));
    assert_eq!(field(&welcome[0], "receipts").as_bool(), Some(true));
    // An anonymous member's read position is shared too.
    let out = frame(
        &mut core,
        &mut store,
        &bo,
        r#"{"type":"read","seq":1}"#,
        T0 + 2,
    );
    let heard = broadcasts(&out);
    assert_eq!(heard.len(), 1, "{out:?}");
    assert_eq!(
        (
            kind(&heard[0]),
            field(&heard[0], "name").as_str(),
            field(&heard[0], "seq").as_u64()
        ),
        ("receipt", Some("Bo"), Some(1))
    );
    assert_eq!(
        field(&heard[0], "sender").as_str(),
        Some(bo.sender.as_str())
    );
    // The same position again, or an older one: nothing new to say.
    assert!(broadcasts(&frame(
        &mut core,
        &mut store,
        &bo,
        r#"{"type":"read","seq":1}"#,
        T0 + 3
    ))
    .is_empty());
    // A newcomer learns where everyone is.
    let (_, welcome) = join(&mut core, &mut store, with_receipts("Cy", true));
    let readers = field(&welcome[0], "readers").as_array().unwrap();
    assert_eq!(readers.len(), 1);
    assert_eq!(field(&readers[0], "name").as_str(), Some("Bo"));
}

#[test]
fn a_member_stepping_through_history_sends_everyone_a_few_receipts_not_one_per_step() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, with_receipts("Ada", true));
    for i in 0..12 {
        send(&mut core, &mut store, &ada, &format!("m{i}"), "hello");
    }
    let (bo, _) = join(&mut core, &mut store, with_receipts("Bo", true));
    let heard: usize = (1..=12)
        .map(|seq| {
            let read = format!(r#"{{"type":"read","seq":{seq}}}"#);
            broadcasts(&frame(&mut core, &mut store, &bo, &read, T0 + 5)).len()
        })
        .sum();
    assert_eq!(heard, 5, "a burst, then one a second");
    // Newcomers still learn how far he read.
    let (_, welcome) = join(&mut core, &mut store, with_receipts("Cy", true));
    let readers = field(&welcome[0], "readers").as_array().unwrap().to_vec();
    let bo_at = readers
        .iter()
        .find(|r| field(r, "name").as_str() == Some("Bo"))
        .and_then(|r| field(r, "seq").as_u64());
    assert_eq!(bo_at, Some(12));
}

#[test]
fn without_the_site_setting_no_receipts_are_shared() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, with_receipts("Ada", false));
    send(&mut core, &mut store, &ada, "m1", "hello");
    let (bo, welcome) = join(&mut core, &mut store, with_receipts("Bo", false));
    assert_eq!(field(&welcome[0], "receipts"), &Json::Null);
    assert_eq!(
        field(&welcome[0], "readers"),
        &Json::Null,
        "no bytes spent when off"
    );
    let out = frame(
        &mut core,
        &mut store,
        &bo,
        r#"{"type":"read","seq":1}"#,
        T0 + 2,
    );
    assert!(broadcasts(&out).is_empty());
}

#[test]
fn a_change_of_the_site_reaches_members_who_joined_before_it() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (eve, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            version: 10,
            ..request("Eve")
        },
    );
    assert_eq!(
        kind(&replies(&send(&mut core, &mut store, &eve, "a", "spam"))[0]),
        "ack"
    );
    let long = "x".repeat(60);
    assert_eq!(
        kind(&replies(&send(&mut core, &mut store, &eve, "b", &long))[0]),
        "ack"
    );
    // The site adds a filter word and shortens messages; Eve stays connected
    // (her member still carries the limits she joined with).
    let policy = RoomPolicy {
        words: vec!["spam".into()],
        ..RoomPolicy::default()
    };
    let limits = Limits {
        max_message_chars: 50,
        ..Limits::default()
    };
    let out = core.adopt_site(policy.clone(), limits, 20);
    assert!(matches!(out[0], Output::SaveState(_)), "saved: {out:?}");
    // Members are told the new limit (the filter word is not theirs to know).
    let told: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Output::Broadcast { v1, legacy: None } => Some(json::parse(v1).unwrap()),
            _ => None,
        })
        .collect();
    assert_eq!(told.len(), 1, "{out:?}");
    assert_eq!(told[0].get("type").and_then(Json::as_str), Some("rules"));
    assert_eq!(
        told[0].get("maxMessageChars").and_then(Json::as_u64),
        Some(50)
    );
    assert_eq!(
        answer(&send(&mut core, &mut store, &eve, "c", "spam")),
        "blocked"
    );
    assert_eq!(
        answer(&send(&mut core, &mut store, &eve, "d", &long)),
        "too_long"
    );
    assert_eq!(
        kind(&replies(&send(&mut core, &mut store, &eve, "e", "fine"))[0]),
        "ack"
    );
    // The same news twice changes nothing.
    assert_eq!(core.adopt_site(policy.clone(), limits, 20), []);
    // Only the words changing: saved, nothing to tell members.
    let wordier = RoomPolicy {
        words: vec!["spam".into(), "scam".into()],
        ..RoomPolicy::default()
    };
    let out = core.adopt_site(wordier, limits, 21);
    assert!(matches!(out[..], [Output::SaveState(_)]), "{out:?}");
    let out = core.adopt_site(policy.clone(), limits, 22);
    // The room keeps them across a restart.
    let Some(Output::SaveState(json)) = out.into_iter().next() else {
        unreachable!()
    };
    let mut restarted = RoomCore::new(RoomKey::new([9; 32]), Some(&json));
    assert_eq!(
        answer(&send(&mut restarted, &mut store, &eve, "f", "spam")),
        "blocked"
    );
    assert_eq!(restarted.limits(), Some(limits));
}

#[test]
fn a_ticket_older_than_the_rules_the_room_has_changes_nothing() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let strict = RoomPolicy {
        words: vec!["spam".into()],
        ..RoomPolicy::default()
    };
    let short = Limits {
        max_message_chars: 50,
        ..Limits::default()
    };
    assert!(!core.adopt_site(strict.clone(), short, 20).is_empty());
    // A join whose ticket was made from a copy of the site cached before the
    // change: the room keeps the newer rules, and holds the newcomer to them.
    let (old, welcome) = join(
        &mut core,
        &mut store,
        JoinRequest {
            version: 10,
            ..request("Old")
        },
    );
    assert_eq!(core.policy(), &strict);
    assert_eq!(field(&welcome[0], "maxMessageChars").as_u64(), Some(50));
    assert_eq!(
        answer(&send(&mut core, &mut store, &old, "a", "spam")),
        "blocked"
    );
    assert_eq!(
        core.adopt_site(RoomPolicy::default(), Limits::default(), 15),
        []
    );
    // A newer one wins.
    assert!(!core
        .adopt_site(RoomPolicy::default(), Limits::default(), 30)
        .is_empty());
    assert_eq!(
        kind(&replies(&send(&mut core, &mut store, &old, "b", "spam"))[0]),
        "ack"
    );
}

/// The `pinned` frames among `out`, as the message text each carries (`None`: unpinned).
fn pinned_frames(frames: &[Json]) -> Vec<Option<String>> {
    frames
        .iter()
        .filter(|f| kind(f) == "pinned")
        .map(|f| {
            f.get("message")
                .map(|m| field(m, "message").as_str().unwrap_or("").to_owned())
        })
        .collect()
}

#[test]
fn a_moderator_pins_a_message_everyone_sees_it_and_later_joiners_get_it_in_welcome() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    send(&mut core, &mut store, &ada, "m1", "Welcome to the launch!");
    let pin = |core: &mut RoomCore, store: &mut MemoryStore, who: &Member, body: &str| {
        frame(core, store, who, body, T0 + 2)
    };
    // Members cannot pin; a missing or deleted message cannot be pinned.
    let by_ada = pin(
        &mut core,
        &mut store,
        &ada,
        r#"{"type":"moderate","id":"p0","action":"pin","target":1}"#,
    );
    assert_eq!(answer(&by_ada), "not_allowed");
    let missing = pin(
        &mut core,
        &mut store,
        &mo,
        r#"{"type":"moderate","id":"p1","action":"pin","target":99}"#,
    );
    assert_eq!(answer(&missing), "not_found");
    let out = pin(
        &mut core,
        &mut store,
        &mo,
        r#"{"type":"moderate","id":"p2","action":"pin","target":1}"#,
    );
    let told = broadcasts(&out);
    let notice = told.iter().find(|f| kind(f) == "moderation").unwrap();
    assert_eq!(
        (
            field(notice, "action").as_str(),
            field(notice, "target").as_u64()
        ),
        (Some("pin"), Some(1))
    );
    let shown = || vec![Some("Welcome to the launch!".to_owned())];
    assert_eq!(pinned_frames(&told), shown());
    assert_eq!(pinned_frames(&replies(&out)), shown(), "the moderator too");
    // A later joiner, and the room after a restart, know it.
    let (_, welcome) = join(&mut core, &mut store, request("Bo"));
    let pinned = field(&welcome[0], "pinned");
    assert_eq!(field(pinned, "seq").as_u64(), Some(1));
    assert_eq!(field(pinned, "name").as_str(), Some("Ada"));
    let saved = out
        .iter()
        .rev()
        .find_map(|o| match o {
            Output::SaveState(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap();
    let mut restarted = RoomCore::new(RoomKey::new([9; 32]), Some(&saved));
    let (_, welcome) = join(&mut restarted, &mut store, request("Cy"));
    assert_eq!(field(field(&welcome[0], "pinned"), "seq").as_u64(), Some(1));
    // An Unpin naming another message (pinned before this one, say) is
    // refused: it does not take this one down.
    let stale = pin(
        &mut core,
        &mut store,
        &mo,
        r#"{"type":"moderate","id":"p3","action":"unpin","target":2}"#,
    );
    assert_eq!(answer(&stale), "not_found");
    assert!(pinned_frames(&broadcasts(&stale)).is_empty());
    // Unpinned: gone for everyone, and from the next welcome.
    let out = pin(
        &mut core,
        &mut store,
        &mo,
        r#"{"type":"moderate","id":"p4","action":"unpin","target":1}"#,
    );
    assert_eq!(pinned_frames(&broadcasts(&out)), [None]);
    let (_, welcome) = join(&mut core, &mut store, request("Di"));
    assert!(welcome[0].get("pinned").is_none());
}

#[test]
fn a_pinned_message_follows_a_moderators_edits_not_its_authors_and_is_unpinned_when_deleted_or_purged(
) {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    send(&mut core, &mut store, &ada, "m1", "Doors open at 6");
    send(&mut core, &mut store, &ada, "m2", "See you there");
    let act = |core: &mut RoomCore, store: &mut MemoryStore, who: &Member, body: &str| {
        frame(core, store, who, body, T0 + 2)
    };
    act(
        &mut core,
        &mut store,
        &mo,
        r#"{"type":"moderate","id":"p1","action":"pin","target":1}"#,
    );
    // Another message's edit does not concern the pin; its own does.
    let other = act(
        &mut core,
        &mut store,
        &ada,
        r#"{"type":"edit","id":"e1","target":2,"message":"See you!"}"#,
    );
    assert!(pinned_frames(&broadcasts(&other)).is_empty());
    // Its author may not rewrite it under the pin (into a scam, say)...
    let refused = act(
        &mut core,
        &mut store,
        &ada,
        r#"{"type":"edit","id":"e2","target":1,"message":"FREE prizes: http://scam.example"}"#,
    );
    assert_eq!(
        field(&replies(&refused)[0], "code").as_str(),
        Some("not_allowed")
    );
    assert!(pinned_frames(&broadcasts(&refused)).is_empty());
    // ...a moderator may, and the pin follows.
    let edited = act(
        &mut core,
        &mut store,
        &mo,
        r#"{"type":"edit","id":"e3","target":1,"message":"Doors open at 7"}"#,
    );
    let now = || vec![Some("Doors open at 7".to_owned())];
    assert_eq!(pinned_frames(&broadcasts(&edited)), now());
    assert_eq!(pinned_frames(&replies(&edited)), now(), "the moderator too");
    // Its author deletes it: unpinned.
    let deleted = act(
        &mut core,
        &mut store,
        &ada,
        r#"{"type":"delete","id":"d1","target":1}"#,
    );
    assert_eq!(pinned_frames(&broadcasts(&deleted)), [None]);
    // Pinned again (the other one), then its author purged: unpinned.
    act(
        &mut core,
        &mut store,
        &mo,
        r#"{"type":"moderate","id":"p2","action":"pin","target":2}"#,
    );
    let purge = format!(
        r#"{{"type":"moderate","id":"x1","action":"purge","sender":"{}"}}"#,
        ada.sender
    );
    let purged = act(&mut core, &mut store, &mo, &purge);
    assert_eq!(pinned_frames(&broadcasts(&purged)), [None]);
    let (_, welcome) = join(&mut core, &mut store, request("Bo"));
    assert!(welcome[0].get("pinned").is_none());
}

/// Clients tell one version of the pinned message from another by its seq
/// and `edited` (the session's `RoomStatus`, the widget's bar): two edits
/// in the same millisecond (the Workers clock stands still between frames
/// with no I/O in between) must not carry the same stamp, or the bar keeps
/// the first text while the list shows the second.
#[test]
fn two_edits_in_the_same_millisecond_carry_different_edited_stamps() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    send(&mut core, &mut store, &ada, "m1", "Doors open at 6");
    frame(
        &mut core,
        &mut store,
        &mo,
        r#"{"type":"moderate","id":"p1","action":"pin","target":1}"#,
        T0 + 2,
    );
    let stamp = |out: &[Output]| {
        let pinned: Vec<Json> = broadcasts(out)
            .into_iter()
            .filter(|f| kind(f) == "pinned")
            .collect();
        field(field(&pinned[0], "message"), "edited").as_u64()
    };
    let first = frame(
        &mut core,
        &mut store,
        &mo,
        r#"{"type":"edit","id":"e1","target":1,"message":"scam https://evil.example"}"#,
        T0 + 3,
    );
    let second = frame(
        &mut core,
        &mut store,
        &mo,
        r#"{"type":"edit","id":"e2","target":1,"message":"Doors open at 6!"}"#,
        T0 + 3,
    );
    assert_eq!(
        pinned_frames(&broadcasts(&second)),
        [Some("Doors open at 6!".to_owned())]
    );
    assert!(
        stamp(&second) > stamp(&first),
        "{:?}",
        (stamp(&first), stamp(&second))
    );
}

/// A live event's count is not told again when it is what members last
/// heard; but a small room's presence frames tell the count too. A crowd
/// told 501 that thins below 500 (each leave told, 499 last) and grows back
/// to 501 must hear 501 again.
#[test]
fn a_live_count_told_before_the_crowd_thinned_is_told_again_when_it_returns() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let crowd = |online| Sockets {
        online,
        ..Sockets::default()
    };
    let mut joined = Vec::new();
    let mut last = Vec::new();
    for i in 0..501 {
        let req = JoinRequest {
            address: Some(format!("10.0.{}.{}", i / 256, i % 256)),
            ..request(&format!("Ada{i}"))
        };
        let Joined::Accepted { member, outputs } =
            core.join(req, crowd(i), T0, &mut store).unwrap()
        else {
            panic!("refused");
        };
        last = broadcasts(&outputs);
        joined.push(member);
    }
    assert_eq!(field(&last[0], "online").as_u64(), Some(501));
    // Two leave (500: not due yet; 499: a small room's presence frame).
    let later = T0 + presence::LIVE_COUNT_EVERY_MS;
    let a = joined.pop().unwrap();
    core.leave(&a, crowd(500), T0 + 1);
    let b = joined.pop().unwrap();
    let told = broadcasts(&core.leave(&b, crowd(499), T0 + 2));
    assert_eq!(field(&told[0], "online").as_u64(), Some(499));
    // Two come back, ten seconds on: 500 (told, with its name), then 501.
    for (i, online) in [(0, 499), (1, 500)] {
        let req = JoinRequest {
            address: Some(format!("10.9.0.{i}")),
            ..request(&format!("Back{i}"))
        };
        let Joined::Accepted { outputs, .. } =
            core.join(req, crowd(online), later, &mut store).unwrap()
        else {
            panic!("refused");
        };
        last = broadcasts(&outputs);
    }
    assert_eq!(
        last.first().map(|f| field(f, "online").as_u64()),
        Some(Some(501)),
        "members last heard 500"
    );
}

/// An owner that woke knows its own sockets only until its fan-out objects
/// say who is there (`counts_short`): a live event's count told then would
/// be the owner's share of the room, to everyone. It is told once known.
#[test]
fn a_live_count_is_not_told_while_the_rooms_counts_are_short() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let mut joined = Vec::new();
    for i in 0..510 {
        let req = JoinRequest {
            address: Some(format!("10.0.{}.{}", i / 256, i % 256)),
            ..request(&format!("Ada{i}"))
        };
        let sockets = Sockets {
            online: i,
            ..Sockets::default()
        };
        let Joined::Accepted { member, .. } = core.join(req, sockets, T0, &mut store).unwrap()
        else {
            panic!("refused");
        };
        joined.push(member);
    }
    let send = |id: &str| {
        ClientFrame::Send {
            id: Some(id.into()),
            message: "hi".into(),
            reply_to: None,
            attachments: Vec::new(),
        }
        .encode()
    };
    let short = Sockets {
        counts_short: true,
        ..Sockets::default()
    };
    let counts = |out: &[Output]| {
        broadcasts(out)
            .into_iter()
            .filter(|f| kind(f) == "presence")
            .count()
    };
    let later = T0 + presence::LIVE_COUNT_EVERY_MS;
    let out = core
        .handle_frame(&joined[0], &send("m1"), short, later, &mut store)
        .unwrap();
    assert_eq!(counts(&out), 0, "no count while short");
    let gone = joined.pop().unwrap();
    let out = core.leave(
        &gone,
        Sockets {
            online: 509,
            ..short
        },
        later,
    );
    assert_eq!(counts(&out), 0, "no count while short");
    let out = core
        .handle_frame(
            &joined[0],
            &send("m2"),
            Sockets::default(),
            later,
            &mut store,
        )
        .unwrap();
    assert_eq!(counts(&out), 1, "told once known");
}

#[test]
fn a_pinned_message_that_retention_trims_is_unpinned_for_those_connected() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    send(&mut core, &mut store, &ada, "m1", "Doors open at 6");
    frame(
        &mut core,
        &mut store,
        &mo,
        r#"{"type":"moderate","id":"p1","action":"pin","target":1}"#,
        T0 + 2,
    );
    send(&mut core, &mut store, &ada, "m2", "See you there");
    // Keeping one record (the newest) trims the pinned message.
    let (trimmed, outputs) = core.retain(Some(1), 0, 0, T0 + 10, &mut store).unwrap();
    assert!(trimmed > 0);
    assert_eq!(pinned_frames(&broadcasts(&outputs)), [None]);
    assert!(outputs.iter().any(|o| matches!(o, Output::SaveState(_))));
    // Nothing trimmed: nothing to tell.
    let (_, outputs) = core.retain(Some(10), 0, 0, T0 + 20, &mut store).unwrap();
    assert!(outputs.is_empty());
}

#[test]
fn an_unpin_with_nothing_pinned_is_refused_and_told_to_no_one() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    let out = frame(
        &mut core,
        &mut store,
        &mo,
        r#"{"type":"moderate","id":"u1","action":"unpin"}"#,
        T0 + 2,
    );
    assert_eq!(answer(&out), "not_found");
    assert!(broadcasts(&out).is_empty(), "no notice, no pinned frame");
}

#[test]
fn a_caption_comes_off_a_message_with_files_but_a_message_of_text_cannot_be_emptied() {
    let (mut core, mut store) = (files_core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, generous("ada"));
    let key = uploaded(&mut core, &mut store, &ada, "m1", 0, T0);
    send_files(&mut core, &mut store, &ada, "m1", "look", refs(&[&key]), T0);
    send(&mut core, &mut store, &ada, "m2", "just text");
    let edit = |core: &mut RoomCore, store: &mut MemoryStore, id: &str, target: u64| {
        let text = format!(r#"{{"type":"edit","id":"{id}","target":{target},"message":"  "}}"#);
        frame(core, store, &ada, &text, T0 + 1000)
    };
    let out = edit(&mut core, &mut store, "e1", 1);
    assert_eq!(kind(&replies(&out)[0]), "ack");
    let update = &broadcasts(&out)[0];
    assert_eq!(field(update, "message").as_str(), Some(""));
    let (stored, _) = store.message(1).unwrap().unwrap();
    assert_eq!((stored.message.as_str(), stored.attachments.len()), ("", 1));
    // A message that is only text would be left blank: refused as before.
    let out = edit(&mut core, &mut store, "e2", 2);
    assert_eq!(answer(&out), "empty");
    assert_eq!(store.message(2).unwrap().unwrap().0.message, "just text");
    // One that is gone, or never was, is not found, whatever the text; a
    // blank edit retried after its message went is still acked as it was.
    assert_eq!(answer(&edit(&mut core, &mut store, "e3", 9)), "not_found");
    let retried = edit(&mut core, &mut store, "e1", 1);
    let delete = r#"{"type":"delete","id":"d1","target":1}"#;
    assert_eq!(
        kind(&replies(&frame(&mut core, &mut store, &ada, delete, T0 + 2000))[0]),
        "ack"
    );
    assert_eq!(answer(&edit(&mut core, &mut store, "e4", 1)), "not_found");
    let replayed = edit(&mut core, &mut store, "e1", 1);
    assert_eq!(replies(&replayed), replies(&retried), "the same ack");
    assert_eq!(kind(&replies(&replayed)[0]), "ack");
}

/// A name is seen by everyone (presence, typing, receipts, its messages):
/// the site's word filter and link policy apply to the names anonymous
/// visitors pick, as to their messages. A blocked one is replaced.
#[test]
fn names_visitors_pick_pass_the_sites_filter_like_messages() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let strict = RoomPolicy {
        words: vec!["bad".into()],
        links: policy::LinkPolicy::VerifiedOnly,
        ..RoomPolicy::default()
    };
    let named = |name: &str, policy: &RoomPolicy| JoinRequest {
        policy: policy.clone(),
        ..request(name)
    };
    for (picked, shown) in [
        ("so b.a.d", "Anonymous"),
        ("join evil.com/x", "Anonymous"),
        ("Ada", "Ada"),
    ] {
        let (member, welcome) = join(&mut core, &mut store, named(picked, &strict));
        assert_eq!(field(&welcome[0], "name").as_str(), Some(shown), "{picked}");
        assert_eq!(member.name, shown);
    }
    let masking = RoomPolicy {
        filter_action: policy::FilterAction::Mask,
        ..strict
    };
    let (bo, _) = join(&mut core, &mut store, named("bad Bo", &masking));
    assert_eq!(bo.name, "*** Bo");
    let out = send(&mut core, &mut store, &bo, "m1", "hi");
    assert_eq!(field(&broadcasts(&out)[0], "name").as_str(), Some("*** Bo"));
    // A name from the site's own token is the site's word.
    let (mo, _) = join(&mut core, &mut store, named_moderator("bad Mo", &masking));
    assert_eq!(mo.name, "bad Mo");
}

fn named_moderator(name: &str, policy: &RoomPolicy) -> JoinRequest {
    JoinRequest {
        policy: policy.clone(),
        ..moderator("mo-9", name)
    }
}

#[test]
fn typing_is_relayed_once_per_interval_and_at_once_after_the_senders_message() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    let (_bo, _) = join(&mut core, &mut store, request("Bo"));
    let typing = |core: &mut RoomCore, store: &mut MemoryStore, at| {
        broadcasts(&frame(core, store, &ada, r#"{"type":"typing"}"#, at))
            .iter()
            .any(|f| kind(f) == "typing")
    };
    assert!(typing(&mut core, &mut store, T0));
    assert!(
        !typing(&mut core, &mut store, T0 + 500),
        "within the interval"
    );
    frame(
        &mut core,
        &mut store,
        &ada,
        r#"{"type":"send","id":"m1","message":"hi"}"#,
        T0 + 600,
    );
    assert!(
        typing(&mut core, &mut store, T0 + 700),
        "the next message's first keystroke"
    );
    assert!(!typing(&mut core, &mut store, T0 + 800));
}

#[test]
fn one_address_is_heard_typing_as_five_members_at_most_whatever_its_connections() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let crowd: Vec<Member> = (0..20)
        .map(|i| join(&mut core, &mut store, request(&format!("V{i}"))).0)
        .collect();
    let (far, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            address: Some("198.51.100.9".into()),
            ..request("Far")
        },
    );
    let (vera, _) = join(&mut core, &mut store, verified("vera", Some("Vera")));
    let heard = |core: &mut RoomCore, store: &mut MemoryStore, who: &Member, at| {
        broadcasts(&frame(core, store, who, r#"{"type":"typing"}"#, at))
            .iter()
            .any(|f| kind(f) == "typing")
    };
    let relayed = |core: &mut RoomCore, store: &mut MemoryStore, at| {
        crowd.iter().filter(|m| heard(core, store, m, at)).count()
    };
    assert_eq!(relayed(&mut core, &mut store, T0), 5);
    // Another address, and a verified member at this one, are heard.
    assert!(heard(&mut core, &mut store, &far, T0));
    assert!(heard(&mut core, &mut store, &vera, T0));
    // The address's budget comes back at five members' pace.
    assert_eq!(relayed(&mut core, &mut store, T0 + 1_000), 2);
    assert_eq!(relayed(&mut core, &mut store, T0 + 3_000), 5);
}

/// A muted member may not post: their typing and their read receipts (both
/// carry their name to everyone) are not relayed either; in a locked room
/// only moderators are heard typing.
#[test]
fn a_muted_member_and_a_locked_room_are_not_heard_typing_or_reading() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let from = |name: &str, address: &str| JoinRequest {
        address: Some(address.into()),
        ..with_receipts(name, true)
    };
    let (ada, _) = join(&mut core, &mut store, from("Ada", "198.51.100.1"));
    let (eve, _) = join(&mut core, &mut store, from("Eve", "198.51.100.2"));
    let (mo, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            policy: RoomPolicy {
                receipts: true,
                ..RoomPolicy::default()
            },
            ..moderator("mo-1", "Mo")
        },
    );
    send(&mut core, &mut store, &ada, "m1", "hello");
    let heard = |core: &mut RoomCore, store: &mut MemoryStore, who: &Member, text: &str, at| {
        broadcasts(&frame(core, store, who, text, at))
            .iter()
            .map(|f| kind(f).to_owned())
            .collect::<Vec<_>>()
    };
    let typing = r#"{"type":"typing"}"#;
    assert_eq!(
        heard(&mut core, &mut store, &eve, typing, T0 + 1),
        ["typing"]
    );
    let mute = format!(
        r#"{{"type":"moderate","id":"x1","action":"mute","sender":"{}","seconds":600}}"#,
        eve.sender
    );
    frame(&mut core, &mut store, &mo, &mute, T0 + 4_000);
    let none: [&str; 0] = [];
    assert_eq!(heard(&mut core, &mut store, &eve, typing, T0 + 5_000), none);
    let read = r#"{"type":"read","seq":1}"#;
    assert_eq!(heard(&mut core, &mut store, &eve, read, T0 + 5_001), none);
    assert_eq!(
        heard(&mut core, &mut store, &ada, read, T0 + 5_002),
        ["receipt"]
    );
    frame(
        &mut core,
        &mut store,
        &mo,
        r#"{"type":"moderate","id":"x2","action":"lock"}"#,
        T0 + 9_000,
    );
    assert_eq!(
        heard(&mut core, &mut store, &ada, typing, T0 + 10_000),
        none
    );
    assert_eq!(
        heard(&mut core, &mut store, &mo, typing, T0 + 10_001),
        ["typing"]
    );
}

/// "Moderators cannot mute, ban or purge each other": not while one is
/// away either. One who wrote here is known by their messages; one who
/// never did is unknown, but a ban given then binds no one who moderates.
#[test]
fn moderators_cannot_ban_or_purge_a_moderator_who_is_away() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    let (kim, _) = join(&mut core, &mut store, moderator("mo-2", "Kim"));
    let (lee, _) = join(&mut core, &mut store, moderator("mo-3", "Lee"));
    send(&mut core, &mut store, &kim, "k1", "I moderate here");
    core.leave(&kim, Sockets::default(), T0 + 1);
    core.leave(&lee, Sockets::default(), T0 + 1);
    for (i, action) in ["ban", "mute", "purge"].iter().enumerate() {
        let text = format!(
            r#"{{"type":"moderate","id":"x{i}","action":"{action}","sender":"{}"}}"#,
            kim.sender
        );
        assert_eq!(
            answer(&frame(&mut core, &mut store, &mo, &text, T0 + 2)),
            "not_allowed",
            "{action} of a moderator away"
        );
    }
    // Lee never wrote: the room cannot tell, and takes the ban...
    let ban = format!(
        r#"{{"type":"moderate","id":"x9","action":"ban","sender":"{}"}}"#,
        lee.sender
    );
    assert_eq!(
        answer(&frame(&mut core, &mut store, &mo, &ban, T0 + 3)),
        "ack"
    );
    // ...which does not keep Lee out.
    let back = core
        .join(
            moderator("mo-3", "Lee"),
            Sockets::default(),
            T0 + 4,
            &mut store,
        )
        .unwrap();
    assert!(
        matches!(back, Joined::Accepted { .. }),
        "a moderator was banned"
    );
}

/// A verified user banned after they left comes back anonymously from the
/// address they wrote from no more than one banned while here does; a
/// mute of a verified user stays theirs alone; an erasure takes the
/// addresses their messages kept.
#[test]
fn a_ban_follows_a_verified_user_who_left_to_the_address_they_wrote_from() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let at = |req: JoinRequest, address: &str| JoinRequest {
        address: Some(address.into()),
        ..req
    };
    let (mo, _) = join(&mut core, &mut store, moderator("mo-1", "Mo"));
    let (vic, _) = join(
        &mut core,
        &mut store,
        at(verified("u-7", Some("Vic")), "192.0.2.7"),
    );
    let (val, _) = join(
        &mut core,
        &mut store,
        at(verified("u-8", Some("Val")), "192.0.2.8"),
    );
    send(&mut core, &mut store, &vic, "v1", "spam");
    send(&mut core, &mut store, &val, "w1", "rude");
    core.leave(&vic, Sockets::default(), T0 + 1);
    core.leave(&val, Sockets::default(), T0 + 1);
    let sanction = |core: &mut RoomCore, store: &mut MemoryStore, action: &str, who: &Member| {
        let text = format!(
            r#"{{"type":"moderate","id":"{action}","action":"{action}","sender":"{}"}}"#,
            who.sender
        );
        assert_eq!(answer(&frame(core, store, &mo, &text, T0 + 2)), "ack");
    };
    sanction(&mut core, &mut store, "ban", &vic);
    sanction(&mut core, &mut store, "mute", &val);
    let anonymous = |core: &mut RoomCore, store: &mut MemoryStore, address: &str| {
        core.join(
            at(request("Guest"), address),
            Sockets::default(),
            T0 + 3,
            store,
        )
        .unwrap()
    };
    assert!(
        matches!(
            anonymous(&mut core, &mut store, "192.0.2.7"),
            Joined::Refused { code: 4008, .. }
        ),
        "a verified user banned after leaving came back anonymously"
    );
    let Joined::Accepted { member: guest, .. } = anonymous(&mut core, &mut store, "192.0.2.8")
    else {
        panic!("a verified user's mute kept an address out");
    };
    assert_eq!(
        answer(&send(&mut core, &mut store, &guest, "g1", "hi")),
        "ack"
    );
    // Erased, Vic's messages keep no address.
    store.purge_author(&vic.author, &vic.sender).unwrap();
    assert_eq!(store.latest_origin(&vic.sender, 0, false).unwrap(), None);
}

#[test]
fn one_address_counts_as_a_few_anonymous_members_in_a_messages_reactions() {
    let (mut core, mut store) = (core(), MemoryStore::default());
    let (ada, _) = join(&mut core, &mut store, request("Ada"));
    send(&mut core, &mut store, &ada, "a1", "vote here");
    let react =
        |on: bool| format!(r#"{{"type":"react","id":"r1","target":1,"emoji":"👍","on":{on}}}"#);
    // A visitor joins again and again (private windows), reacting each time.
    let mut keys = Vec::new();
    for i in 0..REACTIONS_PER_ADDRESS {
        let req = JoinRequest {
            entropy: entropy(&format!("window {i}")),
            ..request("Eve")
        };
        let (eve, _) = join(&mut core, &mut store, req);
        assert_eq!(
            answer(&frame(&mut core, &mut store, &eve, &react(true), T0)),
            "ack"
        );
        keys.push(eve);
    }
    let req = JoinRequest {
        entropy: entropy("one window too many"),
        ..request("Eve")
    };
    let (more, _) = join(&mut core, &mut store, req);
    assert_eq!(
        answer(&frame(&mut core, &mut store, &more, &react(true), T0)),
        "not_allowed"
    );
    // The same again from one already counted is no new reaction: acked.
    let again = r#"{"type":"react","id":"r2","target":1,"emoji":"👍","on":true}"#;
    assert_eq!(
        answer(&frame(&mut core, &mut store, &keys[0], again, T0)),
        "ack"
    );
    // Another emoji, a signed-in user or another address count apart.
    let heart = r#"{"type":"react","id":"r3","target":1,"emoji":"❤️","on":true}"#;
    assert_eq!(
        answer(&frame(&mut core, &mut store, &more, heart, T0)),
        "ack"
    );
    let (vic, _) = join(&mut core, &mut store, verified("vic-1", Some("Vic")));
    assert_eq!(
        answer(&frame(&mut core, &mut store, &vic, &react(true), T0)),
        "ack"
    );
    let elsewhere = JoinRequest {
        address: Some("192.0.2.50".into()),
        ..request("Bo")
    };
    let (bo, _) = join(&mut core, &mut store, elsewhere);
    assert_eq!(
        answer(&frame(&mut core, &mut store, &bo, &react(true), T0)),
        "ack"
    );
    // One taken back makes room for another.
    let off = r#"{"type":"react","id":"r4","target":1,"emoji":"👍","on":false}"#;
    assert_eq!(
        answer(&frame(&mut core, &mut store, &keys[1], off, T0)),
        "ack"
    );
    let late = r#"{"type":"react","id":"r5","target":1,"emoji":"👍","on":true}"#;
    assert_eq!(
        answer(&frame(&mut core, &mut store, &more, late, T0)),
        "ack"
    );
    let counted = store.message(1).unwrap().unwrap().0.reactions;
    assert_eq!(
        counted.iter().find(|r| r.emoji == "👍").map(|r| r.count),
        Some(REACTIONS_PER_ADDRESS + 2),
        "five from the address, Vic and Bo"
    );
}
