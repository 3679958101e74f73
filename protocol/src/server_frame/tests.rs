use super::*;
use crate::message::{
    ModerationNotice, Reaction, ReactionChange, ReplyRef, Role, RoomEvent, Update,
};

fn sample(seq: u64) -> ChatMessage {
    ChatMessage {
        seq,
        id: format!("c{seq}"),
        name: "Ada \"A\" <i>".into(),
        message: "hi\n</script>\u{202E}".into(),
        timestamp: 1_764_330_000_000 + seq,
        sender: "k7Qx".into(),
        verified: seq.is_multiple_of(2),
        ..ChatMessage::default()
    }
}

fn decorated(seq: u64) -> ChatMessage {
    ChatMessage {
        role: Some(Role::Moderator),
        edited: Some(99),
        reactions: vec![
            Reaction {
                emoji: "👍".into(),
                count: 2,
                mine: Some(true),
            },
            Reaction {
                emoji: "🎉".into(),
                count: 1,
                mine: None,
            },
        ],
        reply_to: Some(ReplyRef {
            seq: 1,
            name: "Bo".into(),
            excerpt: "earlier \"words\"".into(),
            deleted: false,
            sender: "s-bo".into(),
        }),
        ..sample(seq)
    }
}

fn tombstone(seq: u64) -> ChatMessage {
    ChatMessage {
        message: String::new(),
        deleted: true,
        ..sample(seq)
    }
}

fn notice(seq: u64) -> ModerationNotice {
    ModerationNotice {
        seq,
        action: "mute".into(),
        sender: Some("k7Qx".into()),
        name: Some("Eve".into()),
        until: Some(1_764_330_600_000),
        by: "Mo".into(),
        reason: Some("spam".into()),
        timestamp: 1_764_330_000_000,
        ..ModerationNotice::default()
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
            members: vec![PresenceMember {
                sender: "s1".into(),
                name: "Ada".into(),
                connections: 2,
                ..Default::default()
            }],
            slow_mode: 30,
            edit_window: 3600,
            emoji: vec!["👍".into(), "❤️".into()],
            accept: Some("image/png,text/plain".into()),
            max_file_bytes: Some(5_000_000),
            ..Welcome::default()
        }),
        ServerFrame::Welcome(Welcome {
            seq: 0,
            online: 1,
            name: "Bo".into(),
            max_message_chars: 10,
            sender: "s2".into(),
            verified: true,
            role: Some(Role::Moderator),
            locked: true,
            muted_until: Some(5),
            pinned: Some(decorated(4)),
            reports: vec![
                ReportCounts {
                    target: 4,
                    by_reason: [2, 0, 1],
                },
                ReportCounts {
                    target: 2,
                    by_reason: [0, 1, 0],
                },
            ],
            ..Welcome::default()
        }),
        ServerFrame::Reported(ReportCounts {
            target: 7,
            by_reason: [0, 3, 0],
        }),
        ServerFrame::Reported(ReportCounts::new(7)),
        ServerFrame::Rules(Rules {
            max_message_chars: 500,
            edit_window: 60,
            emoji: vec!["👍".into()],
            accept: "image/png".into(),
            max_file_bytes: Some(1024),
        }),
        ServerFrame::Rules(Rules {
            accept: String::new(),
            ..Rules::default()
        }),
        ServerFrame::ReportedAll(vec![
            ReportCounts {
                target: 9,
                by_reason: [1, 0, 2],
            },
            ReportCounts {
                target: 3,
                by_reason: [0, 1, 0],
            },
        ]),
        ServerFrame::ReportedAll(Vec::new()),
        ServerFrame::Pinned(Some(sample(3))),
        ServerFrame::Pinned(None),
        ServerFrame::Standing {
            muted_until: Some(1_764_330_600_000),
        },
        ServerFrame::Standing { muted_until: None },
        ServerFrame::History {
            events: vec![
                RoomEvent::Message(sample(1)),
                RoomEvent::Message(decorated(2)),
            ],
            more: true,
            anchor: None,
        },
        ServerFrame::History {
            events: vec![],
            more: false,
            anchor: Some(HistoryAnchor::Before(9)),
        },
        ServerFrame::History {
            events: vec![
                RoomEvent::Message(sample(10)),
                RoomEvent::Update(Update {
                    seq: 11,
                    message: tombstone(10),
                    reaction: None,
                }),
                RoomEvent::Moderation(notice(12)),
            ],
            more: false,
            anchor: Some(HistoryAnchor::After(9)),
        },
        ServerFrame::Message(sample(7)),
        ServerFrame::Message(decorated(8)),
        ServerFrame::Update(Update {
            seq: 9,
            message: ChatMessage {
                reactions: vec![Reaction {
                    emoji: "👍".into(),
                    count: 1,
                    mine: None,
                }],
                ..sample(3)
            },
            reaction: Some(ReactionChange {
                emoji: "👍".into(),
                on: true,
                sender: "zz".into(),
            }),
        }),
        ServerFrame::Moderation(notice(13)),
        ServerFrame::Moderation(ModerationNotice {
            seq: 14,
            action: "slow".into(),
            seconds: Some(0),
            by: "Mo".into(),
            ..ModerationNotice::default()
        }),
        ServerFrame::Ack {
            id: "x".into(),
            seq: 8,
            timestamp: 99,
        },
        ServerFrame::Presence {
            online: 2,
            joined: Some("Bo".into()),
            left: None,
            member: Some(PresenceMember {
                sender: "b".into(),
                name: "Bo".into(),
                role: Some(Role::Bot),
                connections: 1,
                verified: true,
            }),
        },
        ServerFrame::Presence {
            online: 1,
            joined: None,
            left: Some("Bo".into()),
            member: None,
        },
        ServerFrame::Typing {
            name: "Bo".into(),
            sender: Some("s-bo".into()),
        },
        ServerFrame::Typing {
            name: "Bo".into(),
            sender: None,
        },
        ServerFrame::Error(ProtocolError::new(ErrorCode::TooLong, "long").with_id(Some("m1"))),
        ServerFrame::Error(ProtocolError {
            until: Some(7),
            ..ProtocolError::new(ErrorCode::Muted, "muted")
        }),
        ServerFrame::Error(ProtocolError {
            retry_after: Some(1500),
            ..ProtocolError::new(ErrorCode::SlowMode, "slow")
        }),
        ServerFrame::Error(ProtocolError::new(ErrorCode::BadFrame, "bad")),
    ];
    for frame in frames {
        assert_eq!(
            ServerFrame::parse(&frame.encode()).unwrap(),
            frame,
            "{}",
            frame.encode()
        );
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
        ..ChatMessage::default()
    };
    assert_eq!(
        ServerFrame::Message(m).encode(),
        r#"{"type":"message","seq":42,"id":"abc","name":"Ada","message":"hi","timestamp":1764330000000,"sender":"Xy3","verified":true}"#
    );
}

#[test]
fn an_update_carries_its_own_seq_and_the_target() {
    let u = Update {
        seq: 50,
        message: tombstone(7),
        reaction: None,
    };
    let v: serde_json::Value = serde_json::from_str(&ServerFrame::Update(u).encode()).unwrap();
    assert_eq!(
        (v["type"].as_str(), v["seq"].as_u64(), v["target"].as_u64()),
        (Some("update"), Some(50), Some(7))
    );
    assert_eq!(
        (v["deleted"].as_bool(), v["message"].as_str()),
        (Some(true), Some(""))
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
        events: vec![
            RoomEvent::Message(decorated(1)),
            RoomEvent::Moderation(notice(2)),
        ],
        more: true,
        anchor: Some(HistoryAnchor::Before(2)),
    };
    let v: serde_json::Value = serde_json::from_str(&frame.encode()).unwrap();
    assert_eq!(v["messages"][0]["message"], "hi\n</script>\u{202E}");
    assert_eq!(v["messages"][0]["reactions"]["👍"]["count"], 2);
    assert_eq!(v["messages"][1]["type"], "moderation");
}

#[test]
fn garbage_from_the_server_is_an_error_not_a_panic() {
    for text in [
        "",
        "{}",
        r#"{"type":"message"}"#,
        r#"{"type":"history","messages":[1]}"#,
        r#"{"type":"zzz"}"#,
        r#"{"type":"update","seq":1}"#,
    ] {
        assert!(ServerFrame::parse(text).is_err(), "{text}");
    }
}
