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
        limits: Limits::default(),
        policy: RoomPolicy::default(),
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
        reply_to: None,
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
    assert_eq!(erased, 2);
    let notice = &broadcasts(&out)[0];
    assert_eq!(
        (
            field(notice, "action").as_str(),
            field(notice, "sender").as_str()
        ),
        (Some("purge"), Some(ada.sender.as_str()))
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
            .0,
        0
    );
}

#[test]
fn retention_by_age_keeps_what_is_younger_and_always_the_newest() {
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
        core.retain(None, 3, 1_000, T0 + 6_000, &mut store).unwrap(),
        2
    );
    assert_eq!(store.messages().len(), 1);
    assert_eq!(
        core.retain(None, 3, 1_000, T0 + 60_000, &mut store)
            .unwrap(),
        0,
        "the newest record stays"
    );
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
