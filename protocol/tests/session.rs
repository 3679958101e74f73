//! The widget's connection policy, driven through its sans-IO state machine.

use hello_chat_protocol::client_frame::{ClientFrame, Dialect, HistoryAnchor};
use hello_chat_protocol::message::{ModerationNotice, RoomEvent};
use hello_chat_protocol::outbox::MAX_REFUSALS;
use hello_chat_protocol::server_frame::Welcome;
use hello_chat_protocol::session::{
    Cancelled, Effect, Entropy, Session, SessionConfig, Status, ANSWER_PROBE_MS,
    CONNECT_TIMEOUT_MS, DETACHED_CHECK_MS, PING_INTERVAL_MS, PONG_TIMEOUT_MS,
};
use hello_chat_protocol::{ChatMessage, ErrorCode, ProtocolError, ServerFrame};

/// A deterministic stand-in for crypto.getRandomValues (splitmix64).
fn entropy(seed: u64) -> Entropy {
    let mut state = seed;
    Box::new(move |buf: &mut [u8; 16]| {
        for chunk in buf.chunks_mut(8) {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes()[..chunk.len()]);
        }
    })
}

fn session() -> Session {
    Session::new(
        SessionConfig {
            room: "lobby".into(),
            name: "Ada".into(),
            site: None,
            token: None,
        },
        entropy(42),
    )
}

/// Our own sender key in these tests' rooms.
const ME: &str = "me-key";

fn drain(s: &mut Session) -> Vec<Effect> {
    std::iter::from_fn(|| s.poll_effect()).collect()
}

fn msg(seq: u64) -> ChatMessage {
    ChatMessage {
        seq,
        id: format!("o{seq}"),
        name: "Bo".into(),
        message: format!("m{seq}"),
        timestamp: seq,
        sender: "bo-key".into(),
        ..ChatMessage::default()
    }
}

fn welcome_with_key(seq: u64, sender_key: Option<&str>) -> String {
    ServerFrame::Welcome(Welcome {
        seq,
        online: 1,
        name: "Ada".into(),
        max_message_chars: 2000,
        sender: ME.into(),
        sender_key: sender_key.map(Into::into),
        ..Welcome::default()
    })
    .encode()
}

fn welcome(seq: u64) -> String {
    welcome_with_key(seq, Some("k1.mac1"))
}

fn history(messages: Vec<ChatMessage>, more: bool, anchor: Option<HistoryAnchor>) -> String {
    ServerFrame::History {
        events: messages.into_iter().map(RoomEvent::Message).collect(),
        more,
        anchor,
    }
    .encode()
}

fn opened(effects: &[Effect]) -> (Vec<(&'static str, String)>, Vec<String>) {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::Open { query, protocols } => Some((query.clone(), protocols.clone())),
            _ => None,
        })
        .expect("an Open effect")
}

fn opened_query(effects: &[Effect]) -> Vec<(&'static str, String)> {
    opened(effects).0
}

fn is_open(e: &Effect) -> bool {
    matches!(e, Effect::Open { .. })
}

fn transmitted(effects: &[Effect]) -> Vec<ClientFrame> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Transmit(t) if t != "ping" => Some(ClientFrame::parse(t, Dialect::V1).unwrap()),
            _ => None,
        })
        .collect()
}

fn shown(effects: &[Effect]) -> Vec<u64> {
    effects
        .iter()
        .flat_map(|e| match e {
            Effect::Show(m) => m.iter().map(|m| m.seq).collect(),
            _ => vec![],
        })
        .collect()
}

/// Connect and receive the join page `page` from a room whose latest seq is `latest`.
/// Whether the effects so far apply something of ours at once.
fn applies_any(s: &mut Session) -> bool {
    drain(s).iter().any(|e| matches!(e, Effect::Applied { .. }))
}

fn connected(s: &mut Session, now: f64, latest: u64, page: Vec<ChatMessage>) -> Vec<Effect> {
    s.start(now);
    s.on_text(&welcome(latest), now);
    s.on_text(&history(page, false, None), now);
    drain(s)
}

#[test]
fn connects_and_shows_the_join_page() {
    let mut s = session();
    s.start(0.0);
    let fx = drain(&mut s);
    assert_eq!(
        fx.first(),
        Some(&Effect::Status(Status::Connecting)),
        "the page hears `connecting` first"
    );
    let q = opened_query(&fx);
    assert!(q.contains(&("room", "lobby".into())) && q.contains(&("v", "1".into())));
    assert!(
        !q.iter().any(|(k, _)| *k == "since"),
        "a first connection asks for the latest page"
    );
    assert_eq!(s.status(), &Status::Connecting);
    s.on_text(&welcome(2), 10.0);
    s.on_text(&history(vec![msg(1), msg(2)], false, None), 10.0);
    let fx = drain(&mut s);
    assert!(fx.contains(&Effect::Status(Status::Connected)));
    assert_eq!(shown(&fx), [1, 2]);
}

#[test]
fn a_batch_of_frames_in_one_message_is_read_in_order() {
    // A busy room sends clients that asked (`batch=1`) several frames at once.
    let mut s = session();
    s.start(0.0);
    let q = opened_query(&drain(&mut s));
    assert!(q.contains(&("batch", "1".into())));
    let joined = format!(
        "[{},{}]",
        welcome(2),
        history(vec![msg(1), msg(2)], false, None)
    );
    s.on_text(&joined, 10.0);
    let fx = drain(&mut s);
    assert!(fx.contains(&Effect::Status(Status::Connected)));
    assert_eq!(shown(&fx), [1, 2]);
    let frames: Vec<String> = (3..=5)
        .map(|seq| ServerFrame::Message(msg(seq)).encode())
        .collect();
    // One frame in the batch does not parse: the others still count.
    s.on_text(
        &format!("[{},{{\"type\":7}},{}]", frames[0], frames[1..].join(",")),
        20.0,
    );
    assert_eq!(shown(&drain(&mut s)), [3, 4, 5]);
    // Garbage is ignored as before.
    s.on_text("[1,", 30.0);
    assert!(shown(&drain(&mut s)).is_empty());
}

#[test]
fn message_typed_offline_is_sent_once_with_the_same_id_after_reconnect() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    s.on_close(1006, "", 100.0);
    let fx = drain(&mut s);
    let retry_at = match s.status() {
        Status::Reconnecting {
            retry_at: Some(t),
            offline: false,
        } => *t,
        other => panic!("{other:?}"),
    };
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::Status(Status::Reconnecting { .. }))));
    assert!(
        (100.0..=600.0).contains(&retry_at),
        "first retry within the 500 ms window"
    );

    let id = s.send("hello", 150.0).unwrap();
    let fx = drain(&mut s);
    assert_eq!(
        fx,
        [Effect::Pending {
            id: id.clone(),
            text: "hello".into(),
            files: Vec::new(),
            reply_to: None,
        }],
        "nothing transmitted while down"
    );

    s.handle_timeout(retry_at);
    let q = opened_query(&drain(&mut s));
    assert!(
        q.contains(&("since", "0".into())),
        "resume after what was shown"
    );
    s.on_text(&welcome(0), retry_at + 5.0);
    let sent = transmitted(&drain(&mut s));
    assert_eq!(
        sent,
        [ClientFrame::Send {
            id: Some(id.clone()),
            message: "hello".into(),
            reply_to: None,
            attachments: Vec::new(),
        }]
    );

    // The ack is lost with the socket: the retry carries the same id.
    s.on_close(1006, "", retry_at + 10.0);
    drain(&mut s);
    let t = s.poll_timeout().unwrap();
    s.handle_timeout(t);
    s.on_text(&welcome(1), t);
    let sent = transmitted(&drain(&mut s));
    assert_eq!(
        sent,
        [ClientFrame::Send {
            id: Some(id.clone()),
            message: "hello".into(),
            reply_to: None,
            attachments: Vec::new(),
        }]
    );
    s.on_text(&history(vec![], false, Some(HistoryAnchor::After(0))), t);
    s.on_text(
        &ServerFrame::Ack {
            id: id.clone(),
            seq: 1,
            timestamp: 5,
        }
        .encode(),
        t,
    );
    let fx = drain(&mut s);
    assert!(fx.contains(&Effect::Sent { id, seq: 1 }));
    assert_eq!(shown(&fx), [1]);
    assert!(s.outbox().is_empty());
}

#[test]
fn resume_fills_a_long_gap_and_shows_each_message_once_in_order() {
    let mut s = session();
    connected(&mut s, 0.0, 3, vec![msg(1), msg(2), msg(3)]);
    s.on_close(1001, "", 1.0);
    drain(&mut s);
    let t = s.poll_timeout().unwrap();
    s.handle_timeout(t);
    assert!(opened_query(&drain(&mut s)).contains(&("since", "3".into())));
    s.on_text(&welcome(300), t);
    // A live message overtakes the resume page; then the page says there is more.
    s.on_text(&ServerFrame::Message(msg(301)).encode(), t);
    s.on_text(
        &history(
            (4..=203).map(msg).collect(),
            true,
            Some(HistoryAnchor::After(3)),
        ),
        t,
    );
    let fx = drain(&mut s);
    assert_eq!(shown(&fx), (4..=203).collect::<Vec<_>>());
    assert_eq!(
        transmitted(&fx),
        [ClientFrame::History {
            anchor: HistoryAnchor::After(203),
            limit: 100
        }]
    );
    s.on_text(
        &history(
            (204..=300).map(msg).collect(),
            false,
            Some(HistoryAnchor::After(203)),
        ),
        t,
    );
    s.on_text(&ServerFrame::Message(msg(300)).encode(), t);
    let fx = drain(&mut s);
    assert_eq!(shown(&fx), (204..=301).collect::<Vec<_>>());
    assert!(transmitted(&fx).is_empty());
}

#[test]
fn terminal_close_fails_without_retrying() {
    let mut s = session();
    s.start(0.0);
    s.on_text(
        &ServerFrame::Error(ProtocolError::new(ErrorCode::Unauthorized, "token expired")).encode(),
        1.0,
    );
    s.on_close(4001, "token expired", 2.0);
    drain(&mut s);
    assert_eq!(
        s.status(),
        &Status::Failed {
            code: 4001,
            reason: "token expired".into()
        }
    );
    assert_eq!(s.poll_timeout(), None, "no retry is scheduled");
    s.set_browser_online(true, 3.0);
    s.tab_visible(4.0);
    assert!(!drain(&mut s).iter().any(is_open));
    assert!(s.send("hi", 5.0).is_err());
}

#[test]
fn backoff_grows_with_full_jitter_and_resets_after_a_healthy_connection() {
    let mut s = session();
    s.start(0.0);
    let mut now = 0.0;
    let mut waits = vec![];
    for _ in 0..8 {
        s.on_close(1006, "", now);
        let t = s.poll_timeout().unwrap();
        waits.push(t - now);
        now = t;
        s.handle_timeout(now);
    }
    let windows = [
        500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0, 30000.0, 30000.0,
    ];
    for (w, max) in waits.iter().zip(windows) {
        assert!(*w >= 0.0 && *w <= max, "{waits:?}");
    }
    assert!(
        waits.iter().skip(4).any(|w| *w > 500.0),
        "the window grows: {waits:?}"
    );
    // Stay connected past the healthy threshold: the next failure starts small again.
    s.on_text(&welcome(0), now);
    let healthy = s.poll_timeout().unwrap();
    s.handle_timeout(healthy);
    s.on_close(1006, "", healthy);
    let t = s.poll_timeout().unwrap();
    assert!(t - healthy <= 500.0);
}

#[test]
fn connect_timeout_abandons_the_socket() {
    let mut s = session();
    s.start(0.0);
    drain(&mut s);
    assert_eq!(s.poll_timeout(), Some(CONNECT_TIMEOUT_MS));
    s.handle_timeout(CONNECT_TIMEOUT_MS);
    let fx = drain(&mut s);
    assert!(fx.contains(&Effect::CloseSocket));
    assert!(matches!(
        s.status(),
        Status::Reconnecting {
            retry_at: Some(_),
            ..
        }
    ));
}

#[test]
fn silent_socket_is_declared_dead_after_a_missed_pong() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    s.handle_timeout(PING_INTERVAL_MS);
    let fx = drain(&mut s);
    assert!(fx.contains(&Effect::Transmit("ping".into())));
    s.on_text("pong", PING_INTERVAL_MS + 100.0);
    s.handle_timeout(PING_INTERVAL_MS + PONG_TIMEOUT_MS);
    assert!(
        !drain(&mut s).contains(&Effect::CloseSocket),
        "pong arrived in time"
    );
    s.handle_timeout(2.0 * PING_INTERVAL_MS);
    drain(&mut s);
    s.handle_timeout(2.0 * PING_INTERVAL_MS + PONG_TIMEOUT_MS);
    assert!(drain(&mut s).contains(&Effect::CloseSocket));
    assert!(matches!(s.status(), Status::Reconnecting { .. }));
}

#[test]
fn offline_browser_waits_then_reconnects_at_once() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    s.set_browser_online(false, 1.0);
    s.on_close(1006, "", 2.0);
    assert_eq!(
        s.status(),
        &Status::Reconnecting {
            retry_at: None,
            offline: true
        }
    );
    assert_eq!(s.poll_timeout(), None, "no retries while offline");
    drain(&mut s);
    s.set_browser_online(true, 60_000.0);
    assert!(drain(&mut s).iter().any(is_open));
}

#[test]
fn a_widget_taken_out_of_the_page_closes_its_socket_and_resumes_when_put_back() {
    let mut s = session();
    connected(&mut s, 0.0, 2, vec![msg(1), msg(2)]);
    s.set_detached(true, 1.0);
    assert!(drain(&mut s).contains(&Effect::CloseSocket));
    s.on_close(1000, "", 2.0);
    s.set_browser_online(true, 3.0);
    s.tab_visible(4.0);
    let id = s.send("typed meanwhile", 5.0).unwrap();
    assert!(
        !drain(&mut s).iter().any(is_open),
        "out of the page, nothing reconnects"
    );
    // Only a slow look whether it is back: put back into a closed panel
    // (no size), no resize would tell it.
    assert_eq!(s.poll_timeout(), Some(1.0 + DETACHED_CHECK_MS));
    s.set_detached(true, 1.0 + DETACHED_CHECK_MS);
    s.handle_timeout(1.0 + DETACHED_CHECK_MS);
    assert!(
        !drain(&mut s).iter().any(is_open),
        "still out: still nothing"
    );
    assert_eq!(s.poll_timeout(), Some(1.0 + 2.0 * DETACHED_CHECK_MS));
    s.set_detached(false, 60_000.0);
    let fx = drain(&mut s);
    assert!(
        opened_query(&fx).contains(&("since", "2".into())),
        "resumes"
    );
    s.on_text(&welcome(2), 60_001.0);
    s.on_text(&history(vec![], false, None), 60_001.0);
    let sent = transmitted(&drain(&mut s));
    assert!(
        sent.iter()
            .any(|f| matches!(f, ClientFrame::Send { id: Some(i), .. } if *i == id)),
        "what was typed meanwhile goes out: {sent:?}"
    );
}

#[test]
fn a_widget_destroyed_while_out_of_the_page_runs_no_timer() {
    let mut s = session();
    connected(&mut s, 0.0, 2, vec![msg(1), msg(2)]);
    s.set_detached(true, 1.0);
    s.on_close(1000, "", 2.0);
    assert!(
        s.poll_timeout().is_some(),
        "it looks again whether it is back"
    );
    s.close();
    assert_eq!(s.poll_timeout(), None);
    s.set_detached(true, DETACHED_CHECK_MS + 1.0);
    s.handle_timeout(DETACHED_CHECK_MS + 1.0);
    assert_eq!(s.poll_timeout(), None, "and none comes back");
    assert!(!drain(&mut s).iter().any(is_open));
}

#[test]
fn a_page_moving_the_widget_in_and_out_cannot_make_it_reconnect_in_a_loop() {
    let mut s = session();
    connected(&mut s, 0.0, 2, vec![msg(1), msg(2)]);
    drain(&mut s);
    // A careless app re-mounts its view (and the widget's element) twice a
    // second; each time the widget is put back it may connect again.
    let mut opens = 0;
    let mut t = 60_000.0;
    for _ in 0..20 {
        s.set_detached(true, t);
        s.on_close(1000, "", t + 1.0);
        s.set_detached(false, t + 200.0);
        s.handle_timeout(t + 499.0);
        opens += drain(&mut s).iter().filter(|e| is_open(e)).count();
        t += 500.0;
    }
    assert!(opens <= 4, "{opens} sockets opened in 10 s");
    // Left in the page, it is back all the same, within the backoff's cap.
    let at = s.poll_timeout().expect("a retry is set");
    assert!(at <= t + 30_000.0, "retry at {at}");
    s.handle_timeout(at);
    assert!(
        drain(&mut s).iter().any(is_open),
        "reconnects once left in place"
    );
}

#[test]
fn a_widget_put_back_after_the_clock_was_set_back_reconnects_at_once() {
    let mut s = session();
    let t = 10_000_000.0;
    connected(&mut s, t, 2, vec![msg(1), msg(2)]);
    s.set_detached(true, t + 60_000.0);
    s.on_close(1000, "", t + 60_001.0);
    drain(&mut s);
    // The device's clock is set back an hour; a minute later (real time),
    // two minutes after its socket opened, the widget is put back.
    s.handle_timeout(t + 60_002.0 - 3_600_000.0);
    s.set_detached(false, t + 120_000.0 - 3_600_000.0);
    assert!(
        drain(&mut s).iter().any(is_open),
        "its socket opened two minutes ago: no backoff to wait for"
    );
}

#[test]
fn visible_tab_skips_the_backoff_wait() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    for i in 0..6 {
        s.on_close(1006, "", i as f64);
        s.handle_timeout(s.poll_timeout().unwrap());
    }
    s.on_close(1006, "", 100.0);
    drain(&mut s);
    s.tab_visible(101.0);
    assert!(drain(&mut s).iter().any(is_open));
}

#[test]
fn rate_limited_message_is_resent_later_and_refused_one_fails() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    let a = s.send("first", 1.0).unwrap();
    drain(&mut s);
    s.on_text(
        &ServerFrame::Error(ProtocolError::new(ErrorCode::RateLimited, "slow").with_id(Some(&a)))
            .encode(),
        2.0,
    );
    assert!(transmitted(&drain(&mut s)).is_empty());
    let wake = s.poll_timeout().unwrap();
    assert!(wake > 2.0 && wake < 5000.0);
    s.handle_timeout(wake);
    assert_eq!(
        transmitted(&drain(&mut s)),
        [ClientFrame::Send {
            id: Some(a.clone()),
            message: "first".into(),
            reply_to: None,
            attachments: Vec::new(),
        }]
    );
    s.on_text(
        &ServerFrame::Error(ProtocolError::new(ErrorCode::BadText, "no").with_id(Some(&a)))
            .encode(),
        wake,
    );
    let fx = drain(&mut s);
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::SendFailed { id, .. } if *id == a)));
    assert!(s.retry(&a, wake));
    assert_eq!(transmitted(&drain(&mut s)).len(), 1);
}

#[test]
fn local_validation_and_bounded_outbox() {
    let mut s = session();
    assert_eq!(s.send("   ", 0.0).unwrap_err().code, ErrorCode::Empty);
    assert_eq!(
        s.send(&"x".repeat(2001), 0.0).unwrap_err().code,
        ErrorCode::TooLong
    );
    for i in 0..50 {
        s.send(&format!("m{i}"), 0.0).unwrap();
    }
    assert_eq!(
        s.send("one more", 0.0).unwrap_err().code,
        ErrorCode::OutboxFull
    );
}

#[test]
fn client_ids_are_unique() {
    let mut s = session();
    let ids: std::collections::HashSet<String> = (0..50)
        .map(|i| s.send(&format!("{i}"), 0.0).unwrap())
        .collect();
    assert_eq!(ids.len(), 50);
    assert!(ids
        .iter()
        .all(|id| hello_chat_protocol::validate::is_client_id(id)));
}

#[test]
fn paging_back_asks_before_the_oldest_shown() {
    let mut s = session();
    s.start(0.0);
    s.on_text(&welcome(100), 0.0);
    s.on_text(&history((51..=100).map(msg).collect(), true, None), 0.0);
    drain(&mut s);
    assert!(s.load_earlier());
    assert!(!s.load_earlier(), "one request at a time");
    asked_for(&mut s, HistoryAnchor::Before(51));
    s.on_text(
        &history(
            (1..=50).map(msg).collect(),
            false,
            Some(HistoryAnchor::Before(51)),
        ),
        1.0,
    );
    let fx = drain(&mut s);
    assert!(matches!(&fx[0], Effect::ShowOlder { messages, more: false } if messages.len() == 50));
    assert!(!s.load_earlier(), "nothing older");
}

#[test]
fn destroy_closes_and_stops_everything() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    s.close();
    let fx = drain(&mut s);
    assert!(fx.contains(&Effect::CloseSocket) && fx.contains(&Effect::Status(Status::Closed)));
    assert_eq!(s.poll_timeout(), None);
    s.on_close(1000, "", 1.0);
    s.set_browser_online(true, 2.0);
    assert!(drain(&mut s).is_empty());
}

#[test]
fn going_offline_probes_the_open_socket_and_queues_until_back_online() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    s.set_browser_online(false, 1000.0);
    assert!(
        drain(&mut s).contains(&Effect::Transmit("ping".into())),
        "the socket is probed at once"
    );
    let id = s.send("typed offline", 1500.0).unwrap();
    drain(&mut s);
    // No pong: the socket is dead, and no retry is scheduled while offline.
    s.handle_timeout(1000.0 + PONG_TIMEOUT_MS);
    let fx = drain(&mut s);
    assert!(fx.contains(&Effect::CloseSocket));
    assert_eq!(
        s.status(),
        &Status::Reconnecting {
            retry_at: None,
            offline: true
        }
    );
    assert_eq!(s.poll_timeout(), None);
    s.set_browser_online(true, 9000.0);
    assert!(opened_query(&drain(&mut s)).contains(&("since", "0".into())));
    s.on_text(&welcome(0), 9100.0);
    assert_eq!(
        transmitted(&drain(&mut s)),
        [ClientFrame::Send {
            id: Some(id),
            message: "typed offline".into(),
            reply_to: None,
            attachments: Vec::new(),
        }]
    );
}

#[test]
fn a_frame_sent_before_the_network_changed_does_not_answer_its_probe() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    s.set_browser_online(false, 1000.0);
    assert!(drain(&mut s).contains(&Effect::Transmit("ping".into())));
    // A frame the browser had already received, handed over after the
    // offline event: it says nothing about the link now.
    s.on_text(r#"{"type":"presence","online":2,"joined":"Bo"}"#, 1100.0);
    s.handle_timeout(1000.0 + PONG_TIMEOUT_MS);
    assert!(drain(&mut s).contains(&Effect::CloseSocket));
    assert_eq!(
        s.status(),
        &Status::Reconnecting {
            retry_at: None,
            offline: true
        }
    );
}

#[test]
fn a_probe_answered_in_time_keeps_the_socket() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    s.tab_visible(100.0);
    assert!(drain(&mut s).contains(&Effect::Transmit("ping".into())));
    s.on_text("pong", 200.0);
    s.handle_timeout(100.0 + PONG_TIMEOUT_MS);
    assert!(!drain(&mut s).contains(&Effect::CloseSocket));
    assert_eq!(s.status(), &Status::Connected);
}

#[test]
fn a_message_stored_before_its_ack_was_lost_is_recognised_as_ours_on_resume() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    let id = s.send("did it arrive?", 1.0).unwrap();
    drain(&mut s);
    // The room stored it, but the connection died before the ack.
    s.on_close(1006, "", 2.0);
    drain(&mut s);
    let t = s.poll_timeout().unwrap();
    s.handle_timeout(t);
    s.on_text(&welcome(1), t);
    let stored = ChatMessage {
        id: id.clone(),
        message: "did it arrive?".into(),
        sender: ME.into(),
        ..msg(1)
    };
    s.on_text(
        &history(vec![stored], false, Some(HistoryAnchor::After(0))),
        t,
    );
    let fx = drain(&mut s);
    let sent_at = fx
        .iter()
        .position(|e| {
            *e == Effect::Sent {
                id: id.clone(),
                seq: 1,
            }
        })
        .expect("marked sent");
    let shown_at = fx
        .iter()
        .position(|e| matches!(e, Effect::Show(m) if m.iter().any(|m| m.id == id)))
        .expect("shown");
    assert!(
        sent_at < shown_at,
        "the view learns it is ours before showing it"
    );
    assert!(s.outbox().is_empty());
    s.on_text(
        &ServerFrame::Ack {
            id: id.clone(),
            seq: 1,
            timestamp: 5,
        }
        .encode(),
        t,
    );
    assert!(
        shown(&drain(&mut s)).is_empty(),
        "a late duplicate ack shows nothing"
    );
}

#[test]
fn credentials_travel_as_subprotocols_and_the_sender_key_is_presented_again() {
    let mut s = Session::new(
        SessionConfig {
            room: "lobby".into(),
            name: "Ada".into(),
            site: None,
            token: Some("h.p.sig".into()),
        },
        entropy(1),
    );
    s.start(0.0);
    let (query, protocols) = opened(&drain(&mut s));
    assert!(
        !query.iter().any(|(k, _)| *k == "token"),
        "the token stays out of the URL"
    );
    assert_eq!(protocols, ["hello-chat.v1", "hc-token.h.p.sig"]);
    s.on_text(&welcome_with_key(0, Some("key.mac")), 1.0);
    s.on_text(&history(vec![], false, None), 1.0);
    s.on_close(1006, "", 2.0);
    drain(&mut s);
    s.handle_timeout(s.poll_timeout().unwrap());
    let (_, protocols) = opened(&drain(&mut s));
    assert_eq!(
        protocols,
        ["hello-chat.v1", "hc-token.h.p.sig", "hc-key.key.mac"]
    );
}

#[test]
fn someone_elses_message_with_our_id_does_not_count_as_ours() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    let id = s.send("mine", 1.0).unwrap();
    drain(&mut s);
    // Another member posted under our id (ids travel in every message frame).
    let theirs = ChatMessage {
        id: id.clone(),
        message: "not mine".into(),
        ..msg(1)
    };
    s.on_text(&ServerFrame::Message(theirs).encode(), 2.0);
    let fx = drain(&mut s);
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Sent { .. })),
        "{fx:?}"
    );
    assert_eq!(s.outbox().len(), 1, "ours is still waiting for its own ack");
    s.on_text(
        &ServerFrame::Ack {
            id: id.clone(),
            seq: 2,
            timestamp: 3,
        }
        .encode(),
        3.0,
    );
    assert!(drain(&mut s).contains(&Effect::Sent { id, seq: 2 }));
}

#[test]
fn a_message_the_room_keeps_refusing_fails_and_the_queue_moves_on() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    let stuck = s.send("stuck", 1.0).unwrap();
    let next = s.send("next", 1.0).unwrap();
    drain(&mut s);
    let mut now = 1.0;
    let mut failed = false;
    for _ in 0..MAX_REFUSALS {
        let limited = ProtocolError::new(ErrorCode::RateLimited, "slow").with_id(Some(&stuck));
        s.on_text(&ServerFrame::Error(limited).encode(), now);
        let fx = drain(&mut s);
        failed |= fx
            .iter()
            .any(|e| matches!(e, Effect::SendFailed { id, .. } if *id == stuck));
        if let Some(t) = s.poll_timeout().filter(|_| !failed) {
            now = t;
            s.handle_timeout(now);
            drain(&mut s);
        }
    }
    assert!(failed, "marked failed after {MAX_REFUSALS} refusals");
    s.handle_timeout(now + 1.0);
    s.on_text(
        &ServerFrame::Ack {
            id: next.clone(),
            seq: 1,
            timestamp: 1,
        }
        .encode(),
        now + 2.0,
    );
    assert!(
        drain(&mut s).contains(&Effect::Sent { id: next, seq: 1 }),
        "the next message went out"
    );
}

#[test]
fn client_ids_carry_128_random_bits() {
    let mut a = session();
    let id = a.send("x", 0.0).unwrap();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    let mut b = Session::new(
        SessionConfig {
            room: "lobby".into(),
            name: "Ada".into(),
            site: None,
            token: None,
        },
        entropy(43),
    );
    assert_ne!(b.send("x", 0.0).unwrap(), id, "another source, another id");
}

#[test]
fn a_ban_stops_the_session_at_once_without_waiting_for_the_close() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    s.on_text(
        &ServerFrame::Error(ProtocolError::new(ErrorCode::Banned, "you are banned")).encode(),
        1.0,
    );
    let fx = drain(&mut s);
    assert!(fx.contains(&Effect::CloseSocket));
    assert_eq!(
        s.status(),
        &Status::Failed {
            code: 4008,
            reason: "you are banned".into()
        }
    );
    assert_eq!(s.poll_timeout(), None, "never retried");
    // What they try next is refused as banned (said so in their language),
    // not as a sign-in problem.
    assert_eq!(
        s.react(1, "👍", true, 2.0).map_err(|e| e.code),
        Err(ErrorCode::Banned)
    );
}

#[test]
fn a_timed_ban_says_when_it_ends_and_the_session_joins_again_then() {
    let mut s = session();
    let t0 = 1_800_000_000_000.0;
    connected(&mut s, t0, 0, vec![]);
    let until = t0 as u64 + 600_000;
    let mut ban = ProtocolError::new(ErrorCode::Banned, "you are banned");
    ban.until = Some(until);
    s.on_text(&ServerFrame::Error(ban.clone()).encode(), t0 + 1.0);
    drain(&mut s);
    assert!(matches!(s.status(), Status::Failed { code: 4008, .. }));
    assert_eq!(s.ban_ends(), Some(until as f64));
    // Nothing before it ends: not a retry every few seconds.
    let wake = s.poll_timeout().expect("it wakes when the ban ends");
    assert!(
        wake > until as f64 && wake < until as f64 + 60_000.0,
        "{wake}"
    );
    s.handle_timeout(until as f64 - 1.0);
    assert!(!drain(&mut s)
        .iter()
        .any(|e| matches!(e, Effect::Open { .. })));
    s.handle_timeout(wake);
    let fx = drain(&mut s);
    assert!(
        fx.iter().any(|e| matches!(e, Effect::Open { .. })),
        "{fx:?}"
    );
    assert!(matches!(s.status(), Status::Reconnecting { .. }));
    assert_eq!(s.ban_ends(), None);
    // The room still says banned (its clock behind ours): once more, later,
    // never in a loop.
    s.on_text(&ServerFrame::Error(ban).encode(), wake + 20.0);
    drain(&mut s);
    let again = s.poll_timeout().expect("tries again");
    assert!(again >= wake + 1_020.0, "{again} after {wake}");
    // Welcomed: the session goes on as before.
    s.handle_timeout(again);
    drain(&mut s);
    s.on_text(&welcome(0), again + 10.0);
    s.on_text(&history(vec![], false, None), again + 10.0);
    assert_eq!(s.status(), &Status::Connected);

    // A ban for good says no end and never wakes; one the page closes
    // does not come back either.
    let mut s = session();
    connected(&mut s, t0, 0, vec![]);
    s.on_text(
        &ServerFrame::Error(ProtocolError::new(ErrorCode::Banned, "you are banned")).encode(),
        t0 + 1.0,
    );
    assert_eq!(s.ban_ends(), None);
    let mut s = session();
    connected(&mut s, t0, 0, vec![]);
    let mut ban = ProtocolError::new(ErrorCode::Banned, "you are banned");
    ban.until = Some(until);
    s.on_text(&ServerFrame::Error(ban).encode(), t0 + 1.0);
    s.close();
    drain(&mut s);
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn what_waits_to_go_fails_with_the_reason_when_the_session_ends_for_good() {
    // Banned while a message is out and a reaction waits behind it.
    let mut s = session();
    connected(&mut s, 0.0, 1, vec![msg(1)]);
    let sent = s.send("hi", 1.0).unwrap();
    s.react(1, "👍", true, 1.0).unwrap();
    drain(&mut s);
    s.on_text(
        &ServerFrame::Error(ProtocolError::new(ErrorCode::Banned, "you are banned")).encode(),
        2.0,
    );
    let fx = drain(&mut s);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SendFailed { id, error }
            if *id == sent && error.code == ErrorCode::Banned)),
        "not \"Sending…\" for ever: {fx:?}"
    );
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Applied { undone: true, .. })),
        "the reaction shown at once is taken back"
    );
    assert_eq!(s.poll_timeout(), None);

    // Queued offline, then the room refuses the connection for good.
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    s.on_close(1006, "", 1.0);
    let queued = s.send("later", 1.5).unwrap();
    drain(&mut s);
    let t = s.poll_timeout().unwrap();
    s.handle_timeout(t);
    s.on_close(4008, "banned", t);
    let fx = drain(&mut s);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SendFailed { id, error }
            if *id == queued && error.code == ErrorCode::Banned)),
        "{fx:?}"
    );
    // Retry cannot send it: it stays "Not sent", saying why.
    assert!(!s.retry(&queued, t + 1.0));
    let fx = drain(&mut s);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SendFailed { id, .. } if *id == queued)),
        "{fx:?}"
    );

    // An expired token is not the end: what was queued waits for the page
    // to mount again with a new one (it is kept for the reload).
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    s.on_close(1006, "", 1.0);
    s.send("later", 1.5).unwrap();
    drain(&mut s);
    let t = s.poll_timeout().unwrap();
    s.handle_timeout(t);
    s.on_close(4001, "token expired", t);
    let fx = drain(&mut s);
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::SendFailed { .. })),
        "{fx:?}"
    );
}

#[test]
fn updates_and_notices_keep_their_place_and_our_reactions_are_remembered() {
    use hello_chat_protocol::message::{ModerationNotice, Reaction, ReactionChange, Update};
    let mut s = session();
    connected(&mut s, 0.0, 1, vec![msg(1)]);
    let mut reacted = msg(1);
    reacted.reactions = vec![Reaction {
        emoji: "👍".into(),
        count: 1,
        mine: None,
    }];
    let update = Update {
        seq: 2,
        message: reacted.clone(),
        reaction: Some(ReactionChange {
            emoji: "👍".into(),
            on: true,
            sender: ME.into(),
        }),
    };
    s.on_text(&ServerFrame::Update(update).encode(), 1.0);
    let mute = ModerationNotice {
        seq: 3,
        action: "mute".into(),
        sender: Some(ME.into()),
        until: Some(99),
        by: "Mo".into(),
        ..ModerationNotice::default()
    };
    s.on_text(&ServerFrame::Moderation(mute).encode(), 1.0);
    let fx = drain(&mut s);
    let updated = fx
        .iter()
        .find_map(|e| match e {
            Effect::Updated { seq: 2, message } => Some(message.clone()),
            _ => None,
        })
        .expect("an update");
    assert_eq!(
        updated.reactions[0].mine,
        Some(true),
        "our own reaction, known from the change"
    );
    assert!(fx
        .iter()
        .any(|e| matches!(e, Effect::Room(r) if r.muted_until == Some(99))));
    // Someone else's later reaction keeps ours marked as ours.
    reacted.reactions[0].count = 2;
    let other = Update {
        seq: 4,
        message: reacted,
        reaction: Some(ReactionChange {
            emoji: "👍".into(),
            on: true,
            sender: "bo-key".into(),
        }),
    };
    s.on_text(&ServerFrame::Update(other).encode(), 2.0);
    let fx = drain(&mut s);
    assert!(fx.iter().any(
        |e| matches!(e, Effect::Updated { message, .. } if message.reactions[0].mine == Some(true))
    ));
}

#[test]
fn an_edit_made_offline_goes_out_once_when_back() {
    let mut s = session();
    connected(&mut s, 0.0, 1, vec![msg(1)]);
    s.on_close(1006, "", 1.0);
    drain(&mut s);
    let id = s.edit(1, "fixed", 2.0).unwrap();
    assert!(
        transmitted(&drain(&mut s)).is_empty(),
        "nothing goes out while down"
    );
    let t = s.poll_timeout().unwrap();
    s.handle_timeout(t);
    s.on_text(&welcome(1), t);
    assert_eq!(
        transmitted(&drain(&mut s)),
        [ClientFrame::Edit {
            id,
            target: 1,
            message: "fixed".into()
        }]
    );
}

#[test]
fn a_blank_edit_goes_to_the_room_as_taking_the_text_off() {
    // (The room takes it for a message with files, and refuses it as
    // `empty` for one of text only: see the room's tests.)
    let mut s = session();
    connected(&mut s, 0.0, 1, vec![msg(1)]);
    drain(&mut s);
    let id = s.edit(1, " \u{200b} ", 2.0).unwrap();
    assert_eq!(
        transmitted(&drain(&mut s)),
        [ClientFrame::Edit {
            id,
            target: 1,
            message: String::new()
        }]
    );
}

#[test]
fn typing_is_told_at_most_every_two_seconds_and_at_once_for_the_next_message() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    let told = |s: &mut Session, at: f64| {
        s.typing(at);
        transmitted(&drain(s)).contains(&ClientFrame::Typing)
    };
    assert!(told(&mut s, 10.0));
    assert!(!told(&mut s, 1_000.0), "within the interval");
    s.send("hi", 1_100.0).unwrap();
    drain(&mut s);
    assert!(told(&mut s, 1_200.0), "the next message's first keystroke");
    assert!(!told(&mut s, 1_300.0));
}

#[test]
fn our_own_typing_on_another_tab_is_not_shown() {
    let mut s = session();
    connected(&mut s, 0.0, 1, vec![msg(1)]);
    let typing = |sender: Option<&str>| {
        ServerFrame::Typing {
            name: "Ada".into(),
            sender: sender.map(Into::into),
        }
        .encode()
    };
    s.on_text(&typing(Some(ME)), 1.0);
    assert!(!drain(&mut s)
        .iter()
        .any(|e| matches!(e, Effect::Typing { .. })));
    for other in [Some("someone-else"), None] {
        s.on_text(&typing(other), 2.0);
        assert!(drain(&mut s)
            .iter()
            .any(|e| matches!(e, Effect::Typing { .. })));
    }
}

#[test]
fn an_edit_the_room_refuses_gives_its_text_back() {
    let mut s = session();
    connected(&mut s, 0.0, 1, vec![msg(1)]);
    let id = s.edit(1, "too late now", 2.0).unwrap();
    drain(&mut s);
    let refused = ProtocolError::new(ErrorCode::TooLate, "this message can no longer be edited");
    s.on_text(
        &ServerFrame::Error(refused.clone().with_id(Some(&id))).encode(),
        3.0,
    );
    let fx = drain(&mut s);
    let failed = fx.iter().position(|e| {
        matches!(e, Effect::EditFailed { target: 1, text, error }
            if text == "too late now" && error.code == ErrorCode::TooLate)
    });
    let told = fx.iter().position(|e| matches!(e, Effect::Error(_)));
    assert!(failed.is_some() && failed < told, "{fx:?}");
    assert!(s.outbox().is_empty(), "not retried");
    // A refused reaction has no text to give back: the error alone.
    let id = s.react(1, "👍", true, 4.0).unwrap();
    drain(&mut s);
    s.on_text(
        &ServerFrame::Error(refused.with_id(Some(&id))).encode(),
        5.0,
    );
    assert!(!drain(&mut s)
        .iter()
        .any(|e| matches!(e, Effect::EditFailed { .. })));
}

#[test]
fn reactions_and_deletes_show_at_once_and_are_taken_back_when_refused() {
    use hello_chat_protocol::outbox::Action;
    let mut s = session();
    connected(&mut s, 0.0, 2, vec![msg(1), msg(2)]);
    s.set_browser_online(false, 1.0);
    s.on_close(1006, "", 1.0);
    drain(&mut s);
    // Offline: nothing goes out, but the view is told at once.
    let react = s.react(1, "👍", true, 2.0).unwrap();
    let delete = s.remove(2, 3.0).unwrap();
    let fx = drain(&mut s);
    let thumbs_up = Action::React {
        target: 1,
        emoji: "👍".into(),
        on: true,
    };
    assert!(fx.contains(&Effect::Applied {
        action: thumbs_up.clone(),
        undone: false
    }));
    assert!(fx.contains(&Effect::Applied {
        action: Action::Delete { target: 2 },
        undone: false
    }));
    assert!(transmitted(&fx).is_empty());
    // Deleting again while the first waits is the same delete: one frame,
    // not a second the room would refuse as `not_found`.
    assert_eq!(s.remove(2, 4.0).unwrap(), delete);
    assert!(drain(&mut s).is_empty());
    s.set_browser_online(true, 5.0);
    s.on_text(&welcome(2), 5.0);
    let mut sent = transmitted(&drain(&mut s));
    // The room refuses the reaction (the message went meanwhile): it is
    // taken back, and the error still says why.
    let gone = ProtocolError::new(ErrorCode::NotFound, "no such message");
    s.on_text(
        &ServerFrame::Error(gone.with_id(Some(&react))).encode(),
        6.0,
    );
    let fx = drain(&mut s);
    assert!(fx.contains(&Effect::Applied {
        action: thumbs_up,
        undone: true
    }));
    assert!(fx.iter().any(|e| matches!(e, Effect::Error(_))));
    sent.extend(transmitted(&fx));
    let deletes = sent
        .iter()
        .filter(|f| matches!(f, ClientFrame::Delete { .. }))
        .count();
    assert_eq!(deletes, 1, "{sent:?}");
    // A message is not applied early: it waits in the outbox, as before.
    s.send("hi", 7.0).unwrap();
    assert!(!applies_any(&mut s));
}

#[test]
fn a_change_from_the_room_keeps_our_reactions_on_their_way_shown() {
    use hello_chat_protocol::message::{ReactionChange, Update};
    use hello_chat_protocol::outbox::Action;
    let mut s = session();
    connected(&mut s, 0.0, 1, vec![msg(1)]);
    // Taken off and put back quickly: the room's echo of the first arrives
    // while the second is on its way.
    let off = s.react(1, "👍", false, 1.0).unwrap();
    let on = s.react(1, "👍", true, 1.1).unwrap();
    drain(&mut s);
    let update = |seq: u64| {
        ServerFrame::Update(Update {
            seq,
            message: msg(1),
            reaction: Some(ReactionChange {
                emoji: "👍".into(),
                on: false,
                sender: ME.into(),
            }),
        })
        .encode()
    };
    let ack = |id: String, seq: u64| {
        ServerFrame::Ack {
            id,
            seq,
            timestamp: 1,
        }
        .encode()
    };
    s.on_text(&ack(off, 2), 2.0);
    // The room's state without ours: redrawn, then ours shown again.
    s.on_text(&update(2), 2.0);
    let fx = drain(&mut s);
    let redrawn = fx
        .iter()
        .position(|e| matches!(e, Effect::Updated { seq: 2, .. }));
    let again = fx.iter().position(|e| {
        matches!(
            e,
            Effect::Applied {
                action: Action::React {
                    target: 1,
                    on: true,
                    ..
                },
                undone: false
            }
        )
    });
    assert!(redrawn.is_some() && redrawn < again, "{fx:?}");
    // Nothing of ours on its way: a change is just redrawn.
    s.on_text(&ack(on, 3), 3.0);
    s.on_text(&update(4), 3.0);
    assert!(!applies_any(&mut s));
}

#[test]
fn an_edit_shows_at_once_and_stays_shown_over_a_change_from_the_room_until_it_is_stored() {
    use hello_chat_protocol::message::{ReactionChange, Update};
    use hello_chat_protocol::outbox::Action;
    let mut s = session();
    connected(&mut s, 0.0, 1, vec![msg(1)]);
    let id = s.edit(1, "  meet at 8 ", 1.0).unwrap();
    let edit = Action::Edit {
        target: 1,
        text: "meet at 8".into(),
    };
    let shown = Effect::Applied {
        action: edit,
        undone: false,
    };
    assert!(
        drain(&mut s).contains(&shown),
        "shown at once, as the room will store it"
    );
    // Someone reacts before it reaches the room: redrawn with the room's
    // text, then ours again.
    let update = |seq: u64| {
        ServerFrame::Update(Update {
            seq,
            message: msg(1),
            reaction: Some(ReactionChange {
                emoji: "👍".into(),
                on: true,
                sender: "bo-key".into(),
            }),
        })
        .encode()
    };
    s.on_text(&update(2), 2.0);
    let fx = drain(&mut s);
    let redrawn = fx
        .iter()
        .position(|e| matches!(e, Effect::Updated { seq: 2, .. }));
    let again = fx.iter().position(|e| *e == shown);
    assert!(redrawn.is_some() && redrawn < again, "{fx:?}");
    s.on_text(
        &ServerFrame::Ack {
            id,
            seq: 3,
            timestamp: 1,
        }
        .encode(),
        3.0,
    );
    s.on_text(&update(4), 4.0);
    assert!(!drain(&mut s).contains(&shown));
}

/// A session joined as Ada (seq 1, message 1 shown) to a room whose
/// `welcome` is `w` otherwise; its effects so far drained.
fn joined_to(w: Welcome) -> Session {
    let mut s = session();
    s.start(0.0);
    let welcome = ServerFrame::Welcome(Welcome {
        seq: 1,
        name: "Ada".into(),
        sender: ME.into(),
        ..w
    })
    .encode();
    s.on_text(&welcome, 0.0);
    s.on_text(&history(vec![msg(1)], false, None), 0.0);
    drain(&mut s);
    s
}

#[test]
fn a_reaction_in_a_room_that_lets_us_do_nothing_is_refused_at_once() {
    use hello_chat_protocol::message::Role;
    for (locked, muted_until, role, code) in [
        (true, None, None, Some(ErrorCode::Locked)),
        (false, Some(u64::MAX), None, Some(ErrorCode::Muted)),
        (true, None, Some(Role::Moderator), None),
    ] {
        let mut s = joined_to(Welcome {
            locked,
            muted_until,
            role,
            ..Welcome::default()
        });
        // The room would refuse it: not shown at once, then taken back.
        let result = s.react(1, "👍", true, 1.0);
        assert_eq!(result.as_ref().err().map(|e| e.code), code);
        if code.is_some() {
            assert!(drain(&mut s).is_empty(), "nothing shown, nothing sent");
        }
    }
}

#[test]
fn a_reaction_the_room_does_not_offer_is_refused_at_once() {
    let mut s = joined_to(Welcome {
        emoji: vec!["👍".into(), "🎉".into()],
        ..Welcome::default()
    });
    let refused = s.react(1, "👍\"],.hc-chip[aria-pressed=\"true", true, 1.0);
    assert_eq!(refused.map_err(|e| e.code), Err(ErrorCode::NotAllowed));
    assert!(drain(&mut s).is_empty(), "nothing shown, nothing sent");
    assert!(s.react(1, "🎉", true, 2.0).is_ok());
}

#[test]
fn a_pending_reply_says_what_it_answers() {
    let mut s = session();
    connected(&mut s, 0.0, 1, vec![msg(1)]);
    let id = s.reply(Some(1), "yes", 1.0).unwrap();
    assert!(drain(&mut s).contains(&Effect::Pending {
        id,
        text: "yes".into(),
        files: Vec::new(),
        reply_to: Some(1),
    }));
}

// ----- files: uploaded one by one, then the message -----

use hello_chat_protocol::client_frame::{FileRef, UploadRequest};
use hello_chat_protocol::message::Attachment;
use hello_chat_protocol::session::OutgoingFile;

/// A picture the visitor picked; the adapter keeps its bytes under `local`.
fn photo(local: u32) -> OutgoingFile {
    OutgoingFile::new(
        local,
        &format!("p{local}.png"),
        1000,
        "image/png",
        Some(10),
        Some(20),
        "",
    )
}

/// The widget's request for a ticket for file `file` of message `id`.
fn ticket_request(id: &str, file: u32, f: &OutgoingFile) -> ClientFrame {
    ClientFrame::Upload {
        id: id.into(),
        file,
        request: UploadRequest {
            name: f.name.clone(),
            size: f.size,
            mime: f.mime.clone(),
            width: f.width,
            height: f.height,
        },
    }
}

/// The room's answer: where to put the bytes of file `file` of message `id`.
fn ticket(id: &str, file: u32) -> String {
    ServerFrame::Upload {
        id: id.into(),
        file,
        key: format!("k{file}"),
        url: format!("/files/upload/t{file}"),
        expires: 600_000,
    }
    .encode()
}

/// The uploads the adapter is asked to start: (message, local file, url).
fn uploads(effects: &[Effect]) -> Vec<(String, u32, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Upload { id, local, url } => Some((id.clone(), *local, url.clone())),
            _ => None,
        })
        .collect()
}

fn send_with(id: &str, text: &str, files: &[(&str, &str)]) -> ClientFrame {
    ClientFrame::Send {
        id: Some(id.into()),
        message: text.into(),
        reply_to: None,
        attachments: files
            .iter()
            .map(|(key, alt)| FileRef {
                key: (*key).into(),
                alt: (*alt).into(),
            })
            .collect(),
    }
}

fn ack(id: &str, seq: u64) -> String {
    ServerFrame::Ack {
        id: id.into(),
        seq,
        timestamp: seq,
    }
    .encode()
}

/// Lose the connection and come back (resuming after seq `latest`).
fn reconnect(s: &mut Session, now: f64, latest: u64) -> (f64, Vec<Effect>) {
    s.on_close(1006, "", now);
    drain(s);
    let t = s.poll_timeout().unwrap();
    s.handle_timeout(t);
    s.on_text(&welcome(latest), t);
    s.on_text(
        &history(vec![], false, Some(HistoryAnchor::After(latest))),
        t,
    );
    (t, drain(s))
}

#[test]
fn files_are_uploaded_one_by_one_before_their_message_goes_out() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    let files = vec![
        photo(7),
        OutgoingFile {
            alt: "a cat".into(),
            ..photo(8)
        },
    ];
    // Files may go without text.
    let id = s.send_files("", files.clone(), None, 1.0).unwrap();
    let fx = drain(&mut s);
    assert!(fx.contains(&Effect::Pending {
        id: id.clone(),
        text: String::new(),
        files: files.clone(),
        reply_to: None,
    }));
    assert_eq!(transmitted(&fx), [ticket_request(&id, 0, &files[0])]);

    s.on_text(&ticket(&id, 0), 2.0);
    let fx = drain(&mut s);
    assert_eq!(uploads(&fx), [(id.clone(), 7, "/files/upload/t0".into())]);
    assert!(
        transmitted(&fx).is_empty(),
        "the message waits for its files"
    );
    s.on_text(&ticket(&id, 0), 2.5);
    assert!(
        uploads(&drain(&mut s)).is_empty(),
        "a repeated answer starts no second upload"
    );

    s.uploaded(&id, 7, "k0", 3.0);
    assert_eq!(
        transmitted(&drain(&mut s)),
        [ticket_request(&id, 1, &files[1])]
    );
    s.on_text(&ticket(&id, 1), 4.0);
    assert_eq!(
        uploads(&drain(&mut s)),
        [(id.clone(), 8, "/files/upload/t1".into())]
    );
    s.uploaded(&id, 8, "k1", 5.0);
    assert_eq!(
        transmitted(&drain(&mut s)),
        [send_with(&id, "", &[("k0", ""), ("k1", "a cat")])]
    );

    s.on_text(&ack(&id, 1), 6.0);
    let fx = drain(&mut s);
    assert!(fx.contains(&Effect::Sent {
        id: id.clone(),
        seq: 1
    }));
    let keys: Vec<String> = fx
        .iter()
        .find_map(|e| match e {
            Effect::Show(m) => Some(m[0].attachments.iter().map(|a| a.key.clone()).collect()),
            _ => None,
        })
        .expect("shown");
    assert_eq!(keys, ["k0", "k1"], "shown with its files");
    assert!(s.outbox().is_empty());
}

#[test]
fn files_queued_offline_are_uploaded_once_after_reconnecting() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    s.on_close(1006, "", 1.0);
    drain(&mut s);
    let id = s.send_files("look", vec![photo(1)], None, 2.0).unwrap();
    assert!(
        transmitted(&drain(&mut s)).is_empty(),
        "nothing goes out while down"
    );
    let t = s.poll_timeout().unwrap();
    s.handle_timeout(t);
    s.on_text(&welcome(0), t);
    s.on_text(&history(vec![], false, Some(HistoryAnchor::After(0))), t);
    assert_eq!(
        transmitted(&drain(&mut s)),
        [ticket_request(&id, 0, &photo(1))]
    );
    // Whatever comes next, the ticket is not asked for twice.
    s.on_text(&ServerFrame::Message(msg(1)).encode(), t + 1.0);
    s.handle_timeout(t + 2.0);
    s.typing(t + 3.0);
    let again: Vec<ClientFrame> = transmitted(&drain(&mut s))
        .into_iter()
        .filter(|f| matches!(f, ClientFrame::Upload { .. }))
        .collect();
    assert!(again.is_empty(), "{again:?}");
}

#[test]
fn an_upload_running_across_a_reconnect_is_not_asked_for_again() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    let id = s.send_files("look", vec![photo(1)], None, 1.0).unwrap();
    drain(&mut s);
    s.on_text(&ticket(&id, 0), 2.0);
    assert_eq!(uploads(&drain(&mut s)).len(), 1);
    // The socket drops; the upload goes on over HTTP.
    let (t, fx) = reconnect(&mut s, 3.0, 0);
    assert!(transmitted(&fx).is_empty(), "{fx:?}");
    s.uploaded(&id, 1, "k0", t + 1.0);
    assert_eq!(
        transmitted(&drain(&mut s)),
        [send_with(&id, "look", &[("k0", "")])]
    );
}

#[test]
fn an_upload_that_ends_while_offline_sends_its_message_on_reconnecting() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    let id = s.send_files("look", vec![photo(1)], None, 1.0).unwrap();
    s.on_text(&ticket(&id, 0), 2.0);
    drain(&mut s);
    s.on_close(1006, "", 3.0);
    drain(&mut s);
    s.uploaded(&id, 1, "k0", 4.0);
    assert!(transmitted(&drain(&mut s)).is_empty());
    let t = s.poll_timeout().unwrap();
    s.handle_timeout(t);
    s.on_text(&welcome(0), t);
    assert_eq!(
        transmitted(&drain(&mut s)),
        [send_with(&id, "look", &[("k0", "")])]
    );
}

#[test]
fn a_failed_upload_is_retried_if_that_may_help_else_the_message_fails() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    let id = s.send_files("look", vec![photo(1)], None, 1.0).unwrap();
    s.on_text(&ticket(&id, 0), 2.0);
    drain(&mut s);
    // A passing storage failure: tried again later with a fresh ticket.
    s.upload_failed(
        &id,
        1,
        ProtocolError::new(ErrorCode::Internal, "storage hiccup"),
        3.0,
    );
    let fx = drain(&mut s);
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::SendFailed { .. })),
        "{fx:?}"
    );
    assert!(transmitted(&fx).is_empty(), "not at once");
    let wake = s.poll_timeout().unwrap();
    assert!(wake > 3.0);
    s.handle_timeout(wake);
    assert_eq!(
        transmitted(&drain(&mut s)),
        [ticket_request(&id, 0, &photo(1))]
    );
    s.on_text(&ticket(&id, 0), wake + 1.0);
    assert_eq!(uploads(&drain(&mut s)).len(), 1, "uploaded again");
    // A file the site will never take: the visitor is told.
    s.upload_failed(
        &id,
        1,
        ProtocolError::new(ErrorCode::TooLarge, "files may be at most 10 MB"),
        wake + 2.0,
    );
    let fx = drain(&mut s);
    assert!(
        fx.iter().any(|e| matches!(
            e,
            Effect::SendFailed { id: failed, error } if *failed == id && error.code == ErrorCode::TooLarge
        )),
        "{fx:?}"
    );
}

#[test]
fn a_ticket_the_room_refuses_fails_the_message_and_the_queue_moves_on() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    let id = s.send_files("look", vec![photo(1)], None, 1.0).unwrap();
    let next = s.send("next", 1.0).unwrap();
    drain(&mut s);
    let refusal = ProtocolError::new(ErrorCode::UnsupportedType, "not accepted").with_id(Some(&id));
    s.on_text(&ServerFrame::Error(refusal).encode(), 2.0);
    let fx = drain(&mut s);
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::SendFailed { id: failed, error } if *failed == id && error.code == ErrorCode::UnsupportedType
    )));
    assert_eq!(transmitted(&fx), [send_with(&next, "next", &[])]);
}

#[test]
fn cancelling_a_message_while_its_file_uploads_lets_the_next_one_go() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    let id = s
        .send_files("big file", vec![photo(1)], Some(7), 1.0)
        .unwrap();
    let next = s.send("next", 1.0).unwrap();
    s.on_text(&ticket(&id, 0), 2.0);
    drain(&mut s);
    assert_eq!(
        s.cancel(&id, 3.0),
        Some(Cancelled {
            text: "big file".into(),
            reply_to: Some(7)
        }),
        "what was written, for the composer"
    );
    assert_eq!(transmitted(&drain(&mut s)), [send_with(&next, "next", &[])]);
    // The upload's end, or a late ticket, brings nothing back.
    s.uploaded(&id, 1, "k0", 4.0);
    s.on_text(&ticket(&id, 0), 4.0);
    let fx = drain(&mut s);
    assert!(
        transmitted(&fx).is_empty() && uploads(&fx).is_empty(),
        "{fx:?}"
    );
    assert_eq!(s.outbox().len(), 1);
    assert_eq!(s.cancel(&id, 5.0), None, "already gone");
}

#[test]
fn our_message_with_files_is_shown_once_from_the_rooms_frame_before_its_ack() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    let id = s.send_files("look", vec![photo(1)], None, 1.0).unwrap();
    let next = s.send("next", 1.0).unwrap();
    s.on_text(&ticket(&id, 0), 2.0);
    s.uploaded(&id, 1, "k0", 3.0);
    drain(&mut s);
    // The room sends us the message (with its file's URL) before the ack.
    let ours = ChatMessage {
        seq: 1,
        id: id.clone(),
        name: "Ada".into(),
        message: "look".into(),
        sender: ME.into(),
        attachments: vec![Attachment {
            key: "k0".into(),
            name: "p1.png".into(),
            mime: "image/png".into(),
            size: 1000,
            alt: "p1.png".into(),
            url: Some("/files/k0?exp=9&sig=s".into()),
            ..Attachment::default()
        }],
        ..ChatMessage::default()
    };
    s.on_text(&ServerFrame::Message(ours).encode(), 4.0);
    let fx = drain(&mut s);
    let sent_at = fx
        .iter()
        .position(|e| {
            *e == Effect::Sent {
                id: id.clone(),
                seq: 1,
            }
        })
        .expect("marked sent");
    let shown_at = fx
        .iter()
        .position(
            |e| matches!(e, Effect::Show(m) if m[0].id == id && m[0].attachments[0].url.is_some()),
        )
        .expect("shown with its URL");
    assert!(sent_at < shown_at, "known as ours before it is shown");
    assert_eq!(
        transmitted(&fx),
        [send_with(&next, "next", &[])],
        "the queue moves on"
    );
    s.on_text(&ack(&id, 1), 5.0);
    let fx = drain(&mut s);
    assert!(shown(&fx).is_empty(), "the ack shows it no second time");
    assert!(!fx
        .iter()
        .any(|e| matches!(e, Effect::Sent { id: i, .. } if *i == id)));
}

#[test]
fn retrying_a_message_whose_uploads_the_room_no_longer_has_uploads_them_again() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    let id = s.send_files("look", vec![photo(1)], None, 1.0).unwrap();
    s.on_text(&ticket(&id, 0), 2.0);
    s.uploaded(&id, 1, "k0", 3.0);
    drain(&mut s);
    // Offline for over an hour: the room swept the unsent upload, and now
    // names no such file.
    let gone = ProtocolError::new(
        ErrorCode::NotFound,
        "an attachment is not an upload of yours waiting to be sent",
    )
    .with_id(Some(&id));
    s.on_text(&ServerFrame::Error(gone).encode(), 4.0);
    assert!(drain(&mut s)
        .iter()
        .any(|e| matches!(e, Effect::SendFailed { .. })));
    // Retry must be able to succeed: the file goes up again, not the dead key.
    assert!(s.retry(&id, 5.0));
    assert_eq!(
        transmitted(&drain(&mut s)),
        [ticket_request(&id, 0, &photo(1))]
    );
}

#[test]
fn a_message_of_files_needs_no_text_but_carries_at_most_ten_files() {
    let mut s = session();
    assert!(s.send_files("  ", vec![photo(1)], None, 0.0).is_ok());
    assert_eq!(
        s.send_files("  ", Vec::new(), None, 0.0).unwrap_err().code,
        ErrorCode::Empty,
        "without files, text is still needed"
    );
    let eleven: Vec<OutgoingFile> = (0..11).map(photo).collect();
    assert!(s.send_files("many", eleven, None, 0.0).is_err());
    let ten: Vec<OutgoingFile> = (0..10).map(photo).collect();
    assert!(s.send_files("many", ten, None, 0.0).is_ok());
}

#[test]
fn a_big_room_closed_by_a_deploy_comes_back_spread_out_not_all_at_once() {
    // 10,000 members closed with 1001 at once: first retries over 30 s,
    // not 500 ms; one member losing its network retries within 500 ms.
    let first_retry = |code: u16, online: u32, seed: u64| {
        let mut s = Session::new(
            SessionConfig {
                room: "lobby".into(),
                name: "Ada".into(),
                site: None,
                token: None,
            },
            entropy(seed),
        );
        s.start(0.0);
        let welcome = ServerFrame::Welcome(Welcome {
            online,
            sender: ME.into(),
            ..Welcome::default()
        })
        .encode();
        s.on_text(&welcome, 0.0);
        s.on_close(code, "", 0.0);
        s.poll_timeout().unwrap()
    };
    let crowd: Vec<f64> = (0..200)
        .map(|seed| first_retry(1001, 10_000, seed))
        .collect();
    assert!(crowd.iter().all(|t| *t <= 30_000.0));
    assert!(
        crowd.iter().filter(|t| **t > 15_000.0).count() > 50,
        "spread over the whole window: {crowd:?}"
    );
    let alone: Vec<f64> = (0..50)
        .map(|seed| first_retry(1006, 10_000, seed))
        .collect();
    assert!(alone.iter().all(|t| *t <= 500.0), "{alone:?}");
    let small: Vec<f64> = (0..50).map(|seed| first_retry(1012, 20, seed)).collect();
    assert!(
        small.iter().all(|t| *t <= 500.0),
        "a small room needs no spreading"
    );
}

fn verified_welcome(seq: u64, online: u32) -> String {
    ServerFrame::Welcome(Welcome {
        seq,
        online,
        name: "Ada".into(),
        max_message_chars: 2000,
        sender: ME.into(),
        sender_key: Some("k1.mac1".into()),
        verified: true,
        ..Welcome::default()
    })
    .encode()
}

fn reads(effects: &[Effect]) -> Vec<u64> {
    transmitted(effects)
        .into_iter()
        .filter_map(|f| match f {
            ClientFrame::Read { seq } => Some(seq),
            _ => None,
        })
        .collect()
}

#[test]
fn a_verified_member_reports_each_read_position_in_a_small_room() {
    let mut s = session();
    s.start(0.0);
    s.on_text(&verified_welcome(3, 20), 0.0);
    drain(&mut s);
    for (seq, at) in [(1, 100.0), (2, 200.0), (3, 300.0)] {
        s.read_up_to(seq, at);
    }
    assert_eq!(reads(&drain(&mut s)), [1, 2, 3]);
}

#[test]
fn in_a_live_event_read_positions_go_at_most_every_ten_seconds_and_the_latest_wins() {
    use hello_chat_protocol::limits::{BIG_ROOM, LIVE_READ_INTERVAL_MS};
    let mut s = session();
    s.start(0.0);
    s.on_text(&verified_welcome(100, BIG_ROOM + 1), 0.0);
    drain(&mut s);
    s.read_up_to(1, 1_000.0);
    assert_eq!(reads(&drain(&mut s)), [1], "the first one goes at once");
    for seq in 2..=50 {
        s.read_up_to(seq, 1_000.0 + seq as f64 * 100.0);
    }
    assert!(reads(&drain(&mut s)).is_empty(), "held back");
    let due = 1_000.0 + LIVE_READ_INTERVAL_MS;
    assert_eq!(s.poll_timeout().map(|t| t <= due), Some(true));
    s.handle_timeout(due);
    assert_eq!(reads(&drain(&mut s)), [50], "only the latest, once");
    s.handle_timeout(due + LIVE_READ_INTERVAL_MS);
    assert!(
        reads(&drain(&mut s)).is_empty(),
        "nothing new: nothing sent"
    );
}

/// A reload keeps the draft and the unsent messages (`Session::kept`); the
/// next page's session (`restore`) gives the draft back, shows the messages,
/// presents the same anonymous sender key
/// and sends them under their own ids; one the room already stored (its ack
/// lost with the old page) counts as sent when the join page shows it.
#[test]
fn unsent_messages_survive_a_reload_and_go_out_once_under_their_ids() {
    let mut a = session();
    connected(&mut a, 0.0, 0, vec![]);
    let first = a.send("stored, ack lost", 10.0).unwrap();
    assert_eq!(transmitted(&drain(&mut a)).len(), 1);
    a.on_close(1006, "", 20.0);
    let second = a.send("never sent", 30.0).unwrap();
    let kept = a.kept("half a thought", "", 0.0);
    assert!(kept.contains("k1.mac1"), "{kept}");

    let mut b = session();
    assert_eq!(b.restore(&kept, 1000.0), "half a thought");
    let fx = drain(&mut b);
    let pending: Vec<&str> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Pending { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(pending, [first.as_str(), second.as_str()], "shown in order");
    b.start(1000.0);
    let (_, protocols) = opened(&drain(&mut b));
    assert!(protocols.contains(&"hc-key.k1.mac1".to_owned()));
    b.on_text(&welcome(1), 1001.0);
    let ours = ChatMessage {
        id: first.clone(),
        sender: ME.into(),
        message: "stored, ack lost".into(),
        ..msg(1)
    };
    b.on_text(&history(vec![ours], false, None), 1001.0);
    let fx = drain(&mut b);
    assert!(fx.contains(&Effect::Sent {
        id: first.clone(),
        seq: 1
    }));
    let sent: Vec<Option<String>> = transmitted(&fx)
        .into_iter()
        .filter_map(|f| match f {
            ClientFrame::Send { id, .. } => Some(id),
            _ => None,
        })
        .collect();
    // The first went out on the welcome, under its id (the room acks such a
    // retry with its seq, stores nothing): claimed from the page, then the next.
    assert_eq!(sent, [Some(first), Some(second)]);
    assert_eq!(b.kept("", "", 0.0).matches("\"id\"").count(), 1);
}

#[test]
fn restoring_garbage_changes_nothing() {
    let mut s = session();
    assert_eq!(
        s.restore(r#"{"key":"not a key","m":[{"frame":{"id":"x"}}]}"#, 0.0),
        ""
    );
    assert_eq!(s.restore("not json", 0.0), "");
    assert!(drain(&mut s).is_empty());
    s.start(0.0);
    let (_, protocols) = opened(&drain(&mut s));
    assert_eq!(protocols, ["hello-chat.v1"], "no key from garbage");
}

#[test]
fn a_timed_mute_lifts_by_itself_when_it_ends() {
    use hello_chat_protocol::message::ModerationNotice;
    let mut s = session();
    // The room's clock and ours: epoch milliseconds.
    let t0 = 1_800_000_000_000.0;
    connected(&mut s, t0, 0, vec![]);
    let mute = |seq: u64, until: Option<u64>| ModerationNotice {
        seq,
        action: "mute".into(),
        sender: Some(ME.into()),
        until,
        by: "Mo".into(),
        ..ModerationNotice::default()
    };
    let until = t0 as u64 + 3_000;
    s.on_text(&ServerFrame::Moderation(mute(1, Some(until))).encode(), t0);
    drain(&mut s);
    assert_eq!(s.room().muted_until, Some(until));
    assert!(s.poll_timeout().is_some_and(|t| t <= until as f64));
    s.handle_timeout(until as f64 - 1.0);
    assert_eq!(s.room().muted_until, Some(until), "not yet");
    s.handle_timeout(until as f64);
    assert_eq!(s.room().muted_until, None, "over");
    assert!(drain(&mut s)
        .iter()
        .any(|e| matches!(e, Effect::Room(r) if r.muted_until.is_none())));
    // A mute for good waits for an unmute.
    s.on_text(
        &ServerFrame::Moderation(mute(2, None)).encode(),
        t0 + 4_000.0,
    );
    s.handle_timeout(f64::MAX);
    assert_eq!(s.room().muted_until, Some(u64::MAX));
}

#[test]
fn a_mute_that_follows_our_address_is_shown_and_lifted_by_standing_frames() {
    let mut s = session();
    let t0 = 1_800_000_000_000.0;
    connected(&mut s, t0, 0, vec![]);
    // Someone at our address was muted (a notice not naming us), then unmuted.
    let until = t0 as u64 + 60_000;
    let standing = |muted_until| ServerFrame::Standing { muted_until }.encode();
    s.on_text(&standing(Some(until)), t0);
    assert!(drain(&mut s)
        .iter()
        .any(|e| matches!(e, Effect::Room(r) if r.muted_until == Some(until))));
    assert!(!s.room().may_act());
    s.on_text(&standing(None), t0 + 1_000.0);
    assert_eq!(s.room().muted_until, None, "free again before the end");
    assert!(drain(&mut s)
        .iter()
        .any(|e| matches!(e, Effect::Room(r) if r.muted_until.is_none())));
    // Timed, it also lifts by itself.
    s.on_text(&standing(Some(until)), t0 + 2_000.0);
    s.handle_timeout(until as f64);
    assert_eq!(s.room().muted_until, None, "over");
}

#[test]
fn a_timed_mute_does_not_lift_for_a_member_banned_meanwhile() {
    use hello_chat_protocol::message::ModerationNotice;
    let mut s = session();
    let t0 = 1_800_000_000_000.0;
    connected(&mut s, t0, 0, vec![]);
    let until = t0 as u64 + 3_000;
    let mute = ModerationNotice {
        seq: 1,
        action: "mute".into(),
        sender: Some(ME.into()),
        until: Some(until),
        by: "Mo".into(),
        ..ModerationNotice::default()
    };
    s.on_text(&ServerFrame::Moderation(mute).encode(), t0);
    s.on_text(
        &ServerFrame::Error(ProtocolError::new(ErrorCode::Banned, "you are banned")).encode(),
        t0 + 1.0,
    );
    drain(&mut s);
    assert_eq!(s.poll_timeout(), None, "nothing left to wake for");
    s.handle_timeout(until as f64 + 1.0);
    assert!(!drain(&mut s).iter().any(|e| matches!(e, Effect::Room(_))));
}

#[test]
fn the_visitor_is_remembered_across_pages_unless_the_site_says_not() {
    let first_page = |remember: bool| {
        let mut s = session();
        s.set_remember_visitor(remember);
        s.start(0.0);
        s.on_text(&welcome_with_key(0, Some("key.mac")), 1.0);
        s.on_text(&history(vec![], false, None), 1.0);
        s.kept("", "", 0.0)
    };
    let next_page = |kept: &str, remember: bool| {
        let mut s = session();
        s.set_remember_visitor(remember);
        s.restore(kept, 2.0);
        s.start(2.0);
        opened(&drain(&mut s)).1
    };
    let kept = first_page(true);
    assert_eq!(kept, r#"{"draft":"","key":"key.mac"}"#);
    assert_eq!(next_page(&kept, true), ["hello-chat.v1", "hc-key.key.mac"]);
    // A kiosk: nothing of the last visitor, not even from an older page.
    assert_eq!(first_page(false), "");
    assert_eq!(next_page(&kept, false), ["hello-chat.v1"]);
}

// ----- reading back: the view keeps only what is near the reader -----

/// A session showing 11..=60 of a room whose messages go on to `latest`.
fn far_up(latest: u64) -> Session {
    let mut s = session();
    connected(&mut s, 0.0, 60, (11..=60).map(msg).collect());
    live(&mut s, 61..=latest);
    drain(&mut s);
    s.forget_newer_than(60);
    s
}

/// What the session sent since the last drain: one request for a page of 50.
fn asked_for(s: &mut Session, anchor: HistoryAnchor) {
    assert_eq!(
        transmitted(&drain(s)),
        [ClientFrame::History { anchor, limit: 50 }]
    );
}

fn live(s: &mut Session, seqs: std::ops::RangeInclusive<u64>) {
    for seq in seqs {
        s.on_text(&ServerFrame::Message(msg(seq)).encode(), 1.0);
    }
}

fn page_after(after: u64, events: Vec<RoomEvent>, more: bool) -> String {
    ServerFrame::History {
        events,
        more,
        anchor: Some(HistoryAnchor::After(after)),
    }
    .encode()
}

fn seqs(messages: &[ChatMessage]) -> Vec<u64> {
    messages.iter().map(|m| m.seq).collect()
}

fn arrived(effects: &[Effect]) -> Vec<u64> {
    effects
        .iter()
        .flat_map(|e| match e {
            Effect::Arrived(m) => m.iter().map(|m| m.seq).collect(),
            _ => vec![],
        })
        .collect()
}

#[test]
fn far_up_what_arrives_is_counted_not_shown_and_paged_in_when_the_reader_comes_down() {
    let mut s = session();
    connected(&mut s, 0.0, 100, (51..=100).map(msg).collect());
    live(&mut s, 101..=110);
    assert_eq!(shown(&drain(&mut s)), (101..=110).collect::<Vec<_>>());
    assert!(!s.load_newer(), "the view shows everything");

    // The reader is far up: the view keeps up to 105.
    s.forget_newer_than(105);
    live(&mut s, 111..=111);
    let notice = ModerationNotice {
        seq: 112,
        action: "lock".into(),
        by: "Mo".into(),
        ..ModerationNotice::default()
    };
    s.on_text(&ServerFrame::Moderation(notice.clone()).encode(), 1.0);
    let fx = drain(&mut s);
    assert!(
        shown(&fx).is_empty(),
        "nothing appended below what the reader left"
    );
    assert_eq!(arrived(&fx), [111]);
    assert!(fx.contains(&Effect::ModerationBelow(notice.clone())));
    assert!(s.room().locked, "the notice still applies");

    assert!(s.load_newer());
    assert!(!s.load_newer(), "one request at a time");
    asked_for(&mut s, HistoryAnchor::After(105));
    // The page also holds 113, which was not released yet (its frame is on
    // its way): released now, and not again when its frame comes.
    let mut events: Vec<RoomEvent> = (106..=111).map(|n| RoomEvent::Message(msg(n))).collect();
    events.push(RoomEvent::Moderation(notice));
    events.push(RoomEvent::Message(msg(113)));
    s.on_text(&page_after(105, events, false), 2.0);
    live(&mut s, 113..=114);
    let fx = drain(&mut s);
    match &fx[0] {
        Effect::ShowNewer { messages, latest } => {
            // As in any page of history, the notice is not listed.
            assert_eq!(seqs(messages), (106..=111).collect::<Vec<_>>());
            assert!(!latest);
        }
        other => panic!("expected ShowNewer, got {other:?}"),
    }
    assert_eq!(shown(&fx), [113, 114], "shown as they come again");
    assert_eq!(s.timeline().newest_shown(), None);
}

#[test]
fn paging_down_goes_on_while_the_room_has_more() {
    let mut s = far_up(200);
    assert!(s.load_newer());
    drain(&mut s);
    let page = (61..=110).map(|n| RoomEvent::Message(msg(n))).collect();
    s.on_text(&page_after(60, page, true), 1.0);
    live(&mut s, 201..=201);
    let fx = drain(&mut s);
    assert!(
        matches!(&fx[0], Effect::ShowNewer { messages, .. } if seqs(messages) == (61..=110).collect::<Vec<_>>())
    );
    assert_eq!(arrived(&fx), [201], "still below what is shown");
    assert_eq!(s.timeline().newest_shown(), Some(110));
    assert!(s.load_newer());
    asked_for(&mut s, HistoryAnchor::After(110));
}

#[test]
fn jumping_to_the_latest_replaces_the_list_then_catches_up() {
    let mut s = far_up(200);
    assert!(s.load_newer());
    assert!(s.jump_to_latest());
    let fx = drain(&mut s);
    assert_eq!(
        transmitted(&fx)[1],
        ClientFrame::History {
            anchor: HistoryAnchor::Before(201),
            limit: 50
        }
    );
    // The answer to the paging request out before the jump continues nothing.
    s.on_text(
        &page_after(
            60,
            (61..=110).map(|n| RoomEvent::Message(msg(n))).collect(),
            true,
        ),
        1.0,
    );
    live(&mut s, 201..=202);
    let fx = drain(&mut s);
    assert!(!fx.iter().any(|e| matches!(e, Effect::ShowNewer { .. })));
    assert_eq!(arrived(&fx), [201, 202]);

    s.on_text(
        &history(
            (151..=200).map(msg).collect(),
            true,
            Some(HistoryAnchor::Before(201)),
        ),
        2.0,
    );
    let fx = drain(&mut s);
    assert!(
        matches!(&fx[0], Effect::ShowInstead { messages, more: true, at: None } if messages.first().map(|m| m.seq) == Some(151) && messages.len() == 50)
    );
    assert_eq!(
        transmitted(&fx),
        [ClientFrame::History {
            anchor: HistoryAnchor::After(200),
            limit: 50
        }],
        "then what came meanwhile"
    );
    s.on_text(
        &page_after(
            200,
            (201..=202).map(|n| RoomEvent::Message(msg(n))).collect(),
            false,
        ),
        3.0,
    );
    let fx = drain(&mut s);
    assert!(
        matches!(&fx[0], Effect::ShowNewer { messages, latest: true } if seqs(messages) == [201, 202])
    );
    live(&mut s, 203..=203);
    assert_eq!(shown(&drain(&mut s)), [203]);
    assert!(s.load_earlier(), "older than the new list");
    asked_for(&mut s, HistoryAnchor::Before(151));
}

#[test]
fn a_page_asked_for_above_a_list_that_changed_since_is_dropped() {
    let mut s = session();
    s.start(0.0);
    s.on_text(&welcome(100), 0.0);
    s.on_text(&history((51..=100).map(msg).collect(), true, None), 0.0);
    assert!(s.load_earlier());
    drain(&mut s);
    // The view trimmed its top meanwhile (the reader went down).
    s.forget_older_than(61);
    s.on_text(
        &history(
            (1..=50).map(msg).collect(),
            true,
            Some(HistoryAnchor::Before(51)),
        ),
        1.0,
    );
    assert!(!drain(&mut s)
        .iter()
        .any(|e| matches!(e, Effect::ShowOlder { .. })));
    assert!(s.load_earlier());
    asked_for(&mut s, HistoryAnchor::Before(61));
}

#[test]
fn a_reconnect_drops_requests_out_but_keeps_the_view_far_up() {
    let mut s = far_up(100);
    assert!(s.load_newer());
    drain(&mut s);
    s.on_close(1006, "", 1.0);
    let retry = s.poll_timeout().unwrap();
    s.handle_timeout(retry);
    s.on_text(&welcome(101), retry);
    // The resume page is not an answer to the lost request.
    s.on_text(
        &page_after(100, vec![RoomEvent::Message(msg(101))], false),
        retry,
    );
    let fx = drain(&mut s);
    assert_eq!(arrived(&fx), [101]);
    assert!(!fx.iter().any(|e| matches!(e, Effect::ShowNewer { .. })));
    assert!(s.load_newer(), "asked again on the new connection");
}

#[test]
fn new_rules_from_the_site_replace_what_welcome_said() {
    use hello_chat_protocol::server_frame::Rules;
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    s.on_text(
        &ServerFrame::Rules(Rules {
            max_message_chars: 50,
            edit_window: 60,
            emoji: vec!["🎉".into()],
            accept: "image/png".into(),
            max_file_bytes: Some(100),
        })
        .encode(),
        1.0,
    );
    let fx = drain(&mut s);
    let room = fx
        .iter()
        .find_map(|e| match e {
            Effect::Room(r) => Some(r),
            _ => None,
        })
        .expect("the room's new rules");
    assert!(room.emoji == ["🎉"] && room.edit_window == 60);
    // The widget refuses a file the room would, before uploading it.
    let refusal = |mime, size| room.check_file(mime, size).map_err(|e| e.code);
    assert_eq!(refusal("image/png", 100), Ok(()));
    assert_eq!(refusal("image/png", 101), Err(ErrorCode::TooLarge));
    assert_eq!(refusal("image/gif", 1), Err(ErrorCode::UnsupportedType));
    assert_eq!(s.max_message_chars(), 50);
    assert_eq!(
        s.send(&"x".repeat(51), 2.0).map_err(|e| e.code),
        Err(ErrorCode::TooLong)
    );
}

#[test]
fn the_pinned_message_comes_with_welcome_and_follows_pinned_frames() {
    let mut s = session();
    s.start(0.0);
    s.on_text(
        &ServerFrame::Welcome(Welcome {
            seq: 5,
            online: 1,
            name: "Ada".into(),
            sender: ME.into(),
            pinned: Some(msg(3)),
            ..Welcome::default()
        })
        .encode(),
        0.0,
    );
    s.on_text(&history(vec![msg(5)], false, None), 0.0);
    assert!(drain(&mut s)
        .iter()
        .any(|e| matches!(e, Effect::Room(r) if r.pinned.as_ref().map(|m| m.seq) == Some(3))));
    let edited = ChatMessage {
        message: "now this".into(),
        edited: Some(1),
        ..msg(3)
    };
    s.on_text(&ServerFrame::Pinned(Some(edited)).encode(), 1.0);
    assert!(drain(&mut s).iter().any(|e| matches!(e, Effect::Room(r)
        if r.pinned.as_ref().map(|m| m.message.as_str()) == Some("now this"))));
    s.on_text(&ServerFrame::Pinned(None).encode(), 2.0);
    assert!(drain(&mut s)
        .iter()
        .any(|e| matches!(e, Effect::Room(r) if r.pinned.is_none())));
    assert!(s.room().pinned.is_none());
}

#[test]
fn a_jump_to_a_message_far_up_shows_the_page_around_it_and_stays_there() {
    let mut s = session();
    joined_above_older(&mut s);
    // A quote of message 20 (not listed): the page up to 30 replaces the list.
    assert!(s.jump_to(20));
    let fx = drain(&mut s);
    assert_eq!(
        transmitted(&fx),
        [ClientFrame::History {
            anchor: HistoryAnchor::Before(31),
            limit: 50
        }]
    );
    assert!(!s.jump_to(25), "one jump at a time");
    s.on_text(
        &history(
            (1..=30).map(msg).collect(),
            false,
            Some(HistoryAnchor::Before(31)),
        ),
        1.0,
    );
    let fx = drain(&mut s);
    assert!(
        matches!(&fx[0], Effect::ShowInstead { messages, more: false, at: Some(20) } if seqs(messages) == (1..=30).collect::<Vec<_>>())
    );
    assert!(transmitted(&fx).is_empty(), "no paging down by itself");
    // Reading down pages on from 30; the latest is a jump away.
    assert!(s.load_newer());
    asked_for(&mut s, HistoryAnchor::After(30));
}

/// Joined a room at 200 with the page 151..=200, older messages above it.
fn joined_above_older(s: &mut Session) -> Vec<Effect> {
    s.start(0.0);
    s.on_text(&welcome(200), 0.0);
    s.on_text(&history((151..=200).map(msg).collect(), true, None), 0.0);
    drain(s)
}

#[test]
fn a_returning_visitor_who_missed_more_than_the_join_page_starts_at_the_first_unread() {
    // Read up to 40 last time; the room is at 200 and the join page is 151..=200.
    let mut s = session();
    let fx = joined_above_older(&mut s);
    assert_eq!(shown(&fx).len(), 50);
    assert!(
        !s.start_after(150),
        "the join page reaches back to the read position"
    );
    assert!(s.start_after(40));
    asked_for(&mut s, HistoryAnchor::After(40));
    assert_eq!(
        s.timeline().oldest_shown(),
        Some(41),
        "load earlier asks before 41"
    );
    // What arrives meanwhile is below the list.
    live(&mut s, 201..=201);
    assert_eq!(arrived(&drain(&mut s)), [201]);
    s.on_text(
        &page_after(
            40,
            (41..=90).map(|n| RoomEvent::Message(msg(n))).collect(),
            true,
        ),
        1.0,
    );
    let fx = drain(&mut s);
    assert!(
        matches!(&fx[0], Effect::ShowNewer { messages, latest: false } if seqs(messages) == (41..=90).collect::<Vec<_>>())
    );
    assert_eq!(s.timeline().newest_shown(), Some(90));
    // Reading down pages on, up to the latest, then live messages are shown.
    assert!(s.load_newer());
    asked_for(&mut s, HistoryAnchor::After(90));
    s.on_text(
        &page_after(
            90,
            (91..=201).map(|n| RoomEvent::Message(msg(n))).collect(),
            false,
        ),
        2.0,
    );
    drain(&mut s);
    assert_eq!(s.timeline().newest_shown(), None);
    live(&mut s, 202..=202);
    assert_eq!(shown(&drain(&mut s)), [202]);
}

#[test]
fn a_first_visit_or_a_caught_up_visitor_starts_at_the_latest() {
    let mut s = session();
    joined_above_older(&mut s);
    assert!(!s.start_after(0), "a first visit");
    assert!(!s.start_after(150));
    assert!(!s.start_after(200));
    assert!(transmitted(&drain(&mut s)).is_empty());
    assert_eq!(s.timeline().newest_shown(), None);
}

#[test]
fn a_returning_visitor_tells_the_room_their_read_position_on_joining_not_on_resuming() {
    let mut s = session();
    s.read_before(40);
    s.start(0.0);
    let query = opened_query(&drain(&mut s));
    assert!(query.contains(&("read", "40".into())));
    s.on_text(
        &ServerFrame::Welcome(Welcome {
            seq: 200,
            unread: Some(120),
            ..Welcome::default()
        })
        .encode(),
        0.0,
    );
    let fx = drain(&mut s);
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Welcome {
            unread: Some(120),
            ..
        }
    )));
    s.on_text(&history((151..=200).map(msg).collect(), true, None), 0.0);
    let (_, fx) = reconnect(&mut s, 1.0, 200);
    let query = opened_query(&fx);
    assert!(
        query.iter().all(|(k, _)| *k != "read"),
        "resuming: {query:?}"
    );
}

#[test]
fn a_clock_set_back_does_not_postpone_the_reconnect_or_the_heartbeat() {
    const HOUR: f64 = 3_600_000.0;
    let t0 = 10.0 * HOUR;
    let mut s = session();
    connected(&mut s, t0, 0, vec![]);
    s.on_close(1006, "", t0 + 1.0);
    let retry = s.poll_timeout().unwrap();
    assert!(retry - (t0 + 1.0) <= 500.0);
    // The device's clock is corrected back by an hour before the retry is due.
    s.handle_timeout(t0 + 2.0 - HOUR);
    let next = s.poll_timeout().unwrap();
    assert!(
        next - (t0 + 2.0 - HOUR) <= 500.0,
        "retry postponed by the hour: in {} ms",
        next - (t0 + 2.0 - HOUR)
    );
    if let Status::Reconnecting {
        retry_at: Some(at), ..
    } = s.status()
    {
        assert_eq!(*at, next, "the countdown shown follows the clock");
    }
    s.handle_timeout(next);
    assert!(drain(&mut s).iter().any(is_open));
    // Welcomed again, then the clock goes back another hour: the heartbeat
    // still comes one interval later, not an hour and one interval later.
    let t1 = next + 10.0;
    s.on_text(&welcome(0), t1);
    s.on_text(&history(vec![], false, None), t1);
    drain(&mut s);
    s.tab_visible(t1 + 5.0 - HOUR);
    s.on_text("pong", t1 + 6.0 - HOUR);
    let ping = s.poll_timeout().unwrap();
    assert!(ping - (t1 + 6.0 - HOUR) <= PING_INTERVAL_MS, "{ping}");
    s.handle_timeout(ping);
    assert!(drain(&mut s).contains(&Effect::Transmit("ping".into())));
}

#[test]
fn a_message_left_unanswered_probes_the_socket_before_the_next_heartbeat() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    // Answered in time: no probe.
    let id = s.send("hello", 1_000.0).unwrap();
    drain(&mut s);
    s.on_text(&ack(&id, 1), 1_200.0);
    drain(&mut s);
    assert!(
        s.poll_timeout().unwrap() > 1_000.0 + ANSWER_PROBE_MS,
        "no probe is due"
    );
    // Sent into a link that died silently: probed after ANSWER_PROBE_MS,
    // declared dead PONG_TIMEOUT_MS later, far before the heartbeat.
    s.send("into the void", 2_000.0).unwrap();
    drain(&mut s);
    let probe_at = s.poll_timeout().unwrap();
    assert_eq!(probe_at, 2_000.0 + ANSWER_PROBE_MS);
    s.handle_timeout(probe_at);
    assert!(drain(&mut s).contains(&Effect::Transmit("ping".into())));
    s.handle_timeout(probe_at + PONG_TIMEOUT_MS);
    assert!(probe_at + PONG_TIMEOUT_MS < PING_INTERVAL_MS);
    assert!(drain(&mut s).contains(&Effect::CloseSocket));
    assert!(matches!(s.status(), Status::Reconnecting { .. }));
    // Sent again on the next connection, under its id.
    s.handle_timeout(s.poll_timeout().unwrap());
    assert!(drain(&mut s).iter().any(is_open));
    s.on_text(&welcome(1), 20_000.0);
    let again = transmitted(&drain(&mut s));
    assert!(
        again
            .iter()
            .any(|f| matches!(f, ClientFrame::Send { message, .. } if message == "into the void")),
        "{again:?}"
    );
}

#[test]
fn a_mute_in_force_on_joining_is_judged_on_the_rooms_clock_from_welcome() {
    const DAY: f64 = 86_400_000.0;
    let server = 1_764_000_000_000.0;
    let local = server + DAY;
    let mut s = session();
    s.start(local);
    s.on_text(
        &ServerFrame::Welcome(Welcome {
            seq: 0,
            online: 1,
            name: "Ada".into(),
            sender: ME.into(),
            now: server as u64,
            muted_until: Some(server as u64 + 600_000),
            ..Welcome::default()
        })
        .encode(),
        local,
    );
    s.on_text(&history(vec![], false, None), local);
    drain(&mut s);
    s.handle_timeout(local + 1_000.0);
    assert!(s.room().muted_until.is_some(), "muted for ten minutes yet");
    s.handle_timeout(local + 601_000.0);
    assert!(s.room().muted_until.is_none(), "and then no more");
}

#[test]
fn a_device_clock_a_day_ahead_neither_ends_a_mute_early_nor_ages_our_messages() {
    const DAY: f64 = 86_400_000.0;
    let server = 1_764_000_000_000.0;
    let local = server + DAY;
    let mut s = session();
    connected(&mut s, local, 0, vec![]);
    let id = s.send("hello", local).unwrap();
    drain(&mut s);
    s.on_text(
        &ServerFrame::Ack {
            id,
            seq: 1,
            timestamp: server as u64 + 20,
        }
        .encode(),
        local + 40.0,
    );
    let age = s.server_time(local + 1_000.0) - (server + 20.0);
    assert!(
        age < 2_000.0,
        "our message is {age} ms old by the room's clock"
    );
    // Muted for 10 minutes: the room's `until` is on its clock.
    let mute = ModerationNotice {
        seq: 2,
        action: "mute".into(),
        sender: Some(ME.into()),
        until: Some(server as u64 + 600_000),
        seconds: Some(600),
        by: "Mo".into(),
        timestamp: server as u64 + 100,
        ..ModerationNotice::default()
    };
    s.on_text(&ServerFrame::Moderation(mute).encode(), local + 150.0);
    drain(&mut s);
    s.handle_timeout(local + 1_000.0);
    assert!(s.room().muted_until.is_some(), "still muted a second later");
    s.handle_timeout(local + 599_000.0);
    assert!(
        s.room().muted_until.is_some(),
        "still muted after 9 minutes"
    );
    s.handle_timeout(local + 601_000.0);
    assert!(s.room().muted_until.is_none(), "lifted after ten minutes");
}

#[test]
fn the_ack_of_a_retry_answered_from_the_rooms_record_does_not_skew_its_clock() {
    const HOUR: f64 = 3_600_000.0;
    let t0 = 1_764_000_000_000.0;
    let mut s = session();
    connected(&mut s, t0, 0, vec![]);
    let id = s.send("hello", t0).unwrap();
    drain(&mut s);
    // Stored by the room at t0, but the ack is lost with the connection.
    s.on_close(1006, "", t0 + 10.0);
    drain(&mut s);
    // Back 8 hours later (laptop asleep); the device clock is right.
    let t1 = t0 + 8.0 * HOUR;
    s.handle_timeout(t1);
    s.on_text(
        &ServerFrame::Welcome(Welcome {
            seq: 500,
            online: 1,
            name: "Ada".into(),
            sender: ME.into(),
            now: t1 as u64,
            ..Welcome::default()
        })
        .encode(),
        t1,
    );
    s.on_text(&history(vec![], true, None), t1);
    drain(&mut s);
    // The room answers the resend from its record: the original timestamp.
    s.on_text(
        &ServerFrame::Ack {
            id,
            seq: 1,
            timestamp: t0 as u64,
        }
        .encode(),
        t1 + 50.0,
    );
    assert!(
        (s.server_time(t1) - t1).abs() < 1_000.0,
        "the room's clock is ours"
    );
    // Muted for 10 minutes now: lifted after 10 minutes, not 8 hours more.
    let mut e = ProtocolError::new(ErrorCode::Muted, "muted");
    e.until = Some(t1 as u64 + 600_000);
    s.on_text(&ServerFrame::Error(e).encode(), t1 + 100.0);
    drain(&mut s);
    s.handle_timeout(t1 + 601_000.0);
    assert!(s.room().muted_until.is_none());
}

#[test]
fn a_message_held_by_slow_mode_goes_as_soon_as_slow_mode_is_turned_off() {
    let mut s = session();
    connected(&mut s, 0.0, 0, vec![]);
    let a = s.send("held back", 1.0).unwrap();
    drain(&mut s);
    let mut slow = ProtocolError::new(ErrorCode::SlowMode, "wait").with_id(Some(&a));
    slow.retry_after = Some(60_000);
    s.on_text(&ServerFrame::Error(slow).encode(), 2.0);
    assert!(transmitted(&drain(&mut s)).is_empty());
    s.handle_timeout(2.5);
    assert!(
        transmitted(&drain(&mut s)).is_empty(),
        "held for the interval"
    );
    // A moderator turns slow mode off: it goes now, not a minute later.
    let off = ModerationNotice {
        seq: 1,
        action: "slow".into(),
        seconds: Some(0),
        by: "Mo".into(),
        ..ModerationNotice::default()
    };
    s.on_text(&ServerFrame::Moderation(off).encode(), 3.0);
    let mut sent = transmitted(&drain(&mut s));
    if sent.is_empty() {
        s.handle_timeout(s.poll_timeout().unwrap_or(f64::MAX).max(3.0));
        sent = transmitted(&drain(&mut s));
    }
    assert_eq!(
        sent,
        [ClientFrame::Send {
            id: Some(a.clone()),
            message: "held back".into(),
            reply_to: None,
            attachments: Vec::new(),
        }]
    );
}

#[test]
fn a_moderator_knows_whom_the_room_holds_muted_or_banned_to_offer_lifting_it() {
    use hello_chat_protocol::message::Role;
    use hello_chat_protocol::server_frame::Sanction;
    let mut s = session();
    let t0 = 1_800_000_000_000.0;
    s.start(t0);
    let welcome = ServerFrame::Welcome(Welcome {
        seq: 0,
        online: 1,
        name: "Mo".into(),
        max_message_chars: 2000,
        sender: ME.into(),
        role: Some(Role::Moderator),
        now: t0 as u64,
        muted: vec![Sanction {
            sender: "eve".into(),
            until: Some(t0 as u64 + 60_000),
        }],
        banned: vec![Sanction {
            sender: "bo".into(),
            until: None,
        }],
        ..Welcome::default()
    });
    s.on_text(&welcome.encode(), t0);
    s.on_text(&history(vec![], false, None), t0);
    assert_eq!(s.sanctioned("eve", t0), (true, false));
    assert_eq!(s.sanctioned("bo", t0), (false, true));
    assert_eq!(s.sanctioned("cy", t0), (false, false));
    // A timed one ends by itself.
    assert_eq!(s.sanctioned("eve", t0 + 60_001.0), (false, false));
    // Notices keep them current.
    let notice = |seq, action: &str, sender: &str, until| {
        ServerFrame::Moderation(ModerationNotice {
            seq,
            action: action.into(),
            sender: Some(sender.into()),
            until,
            by: "Max".into(),
            ..ModerationNotice::default()
        })
        .encode()
    };
    s.on_text(&notice(1, "unban", "bo", None), t0 + 1.0);
    s.on_text(&notice(2, "mute", "cy", None), t0 + 2.0);
    s.on_text(&notice(3, "ban", "eve", Some(t0 as u64 + 5_000)), t0 + 3.0);
    assert_eq!(s.sanctioned("bo", t0 + 4.0), (false, false));
    assert_eq!(s.sanctioned("cy", t0 + 4.0), (true, false));
    assert_eq!(s.sanctioned("eve", t0 + 4.0), (true, true));
    s.on_text(&notice(4, "unmute", "eve", None), t0 + 5.0);
    assert_eq!(s.sanctioned("eve", t0 + 6.0), (false, true));
}
