//! The room core's invariants under random interleavings (proptest):
//! - every accepted message is stored once, with a unique, increasing seq;
//! - a retry is always answered with its own original seq;
//! - nothing another member sends changes what happens to yours.

use hello_chat_protocol::client_frame::{ClientFrame, Dialect, HistoryAnchor};
use hello_chat_protocol::json::{self, Json};
use hello_chat_protocol::room::{
    JoinRequest, Joined, Member, MemoryStore, Output, RecordKind, RoomCore, RoomKey, RoomPolicy,
    Sockets, Store,
};
use hello_chat_protocol::Limits;
use proptest::prelude::*;

const T0: u64 = 1_764_330_000_000;

#[derive(Debug, Clone)]
enum Step {
    /// The victim sends text `text` under a fresh id (or retries an earlier one).
    VictimSend {
        retry_of: Option<usize>,
        text: u8,
    },
    /// The victim reconnects, presenting its sender key.
    VictimReconnect,
    /// The attacker sends, possibly under an id the victim used (seen in a
    /// `message` frame) and with the victim's or another text.
    AttackerSend {
        steal: Option<usize>,
        text: u8,
    },
    /// The attacker reconnects, presenting a key of its own, the victim's
    /// credential with a forged MAC, or none.
    AttackerReconnect {
        forge: bool,
    },
    AttackerHistory(u64),
    AttackerTyping,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (proptest::option::of(0usize..20), 0u8..4).prop_map(|(retry_of, text)| Step::VictimSend { retry_of, text }),
        1 => Just(Step::VictimReconnect),
        4 => (proptest::option::of(0usize..20), 0u8..4).prop_map(|(steal, text)| Step::AttackerSend { steal, text }),
        1 => any::<bool>().prop_map(|forge| Step::AttackerReconnect { forge }),
        1 => (0u64..40).prop_map(Step::AttackerHistory),
        1 => Just(Step::AttackerTyping),
    ]
}

fn request(name: &str, address: &str, key: Option<String>, entropy: u8) -> JoinRequest {
    JoinRequest {
        name: name.into(),
        user: None,
        sender_key: key,
        address: Some(address.into()),
        dialect: Dialect::V1,
        since: None,
        read: None,
        policy: RoomPolicy::default(),
        version: 0,
        limits: Limits {
            rate_burst: 5,
            rate_per_sec: 2.0,
            ..Limits::default()
        },
        entropy: [entropy; 16],
    }
}

fn join(
    core: &mut RoomCore,
    store: &mut MemoryStore,
    req: JoinRequest,
    now: u64,
) -> (Member, Option<String>) {
    match core
        .join(req, Sockets::default(), now, store)
        .expect("memory store")
    {
        Joined::Accepted { member, outputs } => {
            let key = outputs.iter().find_map(|o| match o {
                Output::Reply(t) => json::parse(t)
                    .ok()?
                    .get("senderKey")?
                    .as_str()
                    .map(str::to_owned),
                _ => None,
            });
            (member, key)
        }
        Joined::Refused { error, .. } => panic!("refused: {error}"),
    }
}

/// What the victim saw for one of its sends: the acked seq, or the error code.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Acked(u64),
    Refused(String),
}

fn outcome(outputs: &[Output]) -> Outcome {
    for o in outputs {
        if let Output::Reply(text) = o {
            let frame = json::parse(text).expect("valid JSON");
            match frame.get("type").and_then(Json::as_str) {
                Some("ack") => {
                    return Outcome::Acked(frame.get("seq").and_then(Json::as_u64).unwrap_or(0))
                }
                Some("error") => {
                    return Outcome::Refused(
                        frame
                            .get("code")
                            .and_then(Json::as_str)
                            .unwrap_or("")
                            .into(),
                    )
                }
                _ => {}
            }
        }
    }
    panic!("no answer in {outputs:?}")
}

const TEXTS: [&str; 4] = ["hello", "hello again", "spam", "🙂"];

struct Run {
    store: MemoryStore,
    /// For each victim send: (id, text, outcome).
    victim: Vec<(String, String, Outcome)>,
}

/// Play `steps`; with `attacker == false` the attacker's steps are skipped
/// (the clock still advances the same way).
fn play(steps: &[Step], attacker: bool) -> Run {
    let mut core = RoomCore::new(RoomKey::new([3; 32]), None);
    let mut store = MemoryStore::default();
    let (mut victim, victim_key) = join(
        &mut core,
        &mut store,
        request("Ada", "192.0.2.1", None, 1),
        T0,
    );
    let (mut eve, _) = join(
        &mut core,
        &mut store,
        request("Eve", "198.51.100.9", None, 2),
        T0,
    );
    let mut sent: Vec<(String, String, Outcome)> = Vec::new();
    let mut fresh = 0u32;
    for (i, step) in steps.iter().enumerate() {
        let now = T0 + 200 * (i as u64 + 1);
        let is_attacker = !matches!(step, Step::VictimSend { .. } | Step::VictimReconnect);
        if is_attacker && !attacker {
            continue;
        }
        let none = Sockets::default();
        match step {
            Step::VictimSend { retry_of, text } => {
                let (id, text) = match retry_of.and_then(|r| sent.get(r)) {
                    Some((id, text, _)) => (id.clone(), text.clone()),
                    None => {
                        fresh += 1;
                        (format!("v{fresh}"), TEXTS[*text as usize].to_owned())
                    }
                };
                let frame = ClientFrame::Send {
                    id: Some(id.clone()),
                    message: text.clone(),
                    reply_to: None,
                    attachments: Vec::new(),
                }
                .encode();
                let out = core
                    .handle_frame(&victim, &frame, none, now, &mut store)
                    .expect("memory store");
                sent.push((id, text, outcome(&out)));
            }
            Step::VictimReconnect => {
                victim = join(
                    &mut core,
                    &mut store,
                    request("Ada", "192.0.2.1", victim_key.clone(), 9),
                    now,
                )
                .0;
            }
            Step::AttackerSend { steal, text } => {
                let id = match steal.and_then(|s| sent.get(s)) {
                    Some((id, _, _)) => id.clone(),
                    None => format!("e{i}"),
                };
                let frame = ClientFrame::Send {
                    id: Some(id),
                    message: TEXTS[*text as usize].into(),
                    reply_to: None,
                    attachments: Vec::new(),
                }
                .encode();
                core.handle_frame(&eve, &frame, none, now, &mut store)
                    .expect("memory store");
            }
            Step::AttackerReconnect { forge } => {
                let key = if *forge {
                    victim_key
                        .as_ref()
                        .map(|k| format!("{}.AAAAAAAAAAAAAAAAAAAAAA", &k[..22]))
                } else {
                    None
                };
                eve = join(
                    &mut core,
                    &mut store,
                    request("Ada", "198.51.100.9", key, 10 + i as u8),
                    now,
                )
                .0;
                assert_ne!(
                    eve.author, victim.author,
                    "nobody can take the victim's scope"
                );
            }
            Step::AttackerHistory(seq) => {
                let frame = ClientFrame::History {
                    anchor: HistoryAnchor::Before(*seq),
                    limit: 100,
                }
                .encode();
                core.handle_frame(&eve, &frame, none, now, &mut store)
                    .expect("memory store");
            }
            Step::AttackerTyping => {
                core.handle_frame(&eve, &ClientFrame::Typing.encode(), none, now, &mut store)
                    .expect("memory store");
            }
        }
    }
    Run {
        store,
        victim: sent,
    }
}

proptest! {
    #[test]
    fn every_accepted_message_is_stored_once_with_a_unique_increasing_seq(steps in prop::collection::vec(step(), 0..80)) {
        let run = play(&steps, true);
        let seqs: Vec<u64> = run.store.messages().iter().map(|(m, _)| m.seq).collect();
        prop_assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
        let mut keys: Vec<(String, Option<String>)> = run.store.records().iter().map(|r| (r.author.clone(), r.client_id.clone())).collect();
        keys.sort();
        keys.dedup();
        prop_assert_eq!(keys.len(), seqs.len(), "one stored message per (author, id)");
        for (id, text, outcome) in &run.victim {
            if let Outcome::Acked(seq) = outcome {
                let stored = run.store.records().iter().find(|r| r.seq == *seq).expect("acked seq is stored");
                let RecordKind::Message(m) = &stored.kind else { panic!("a message") };
                prop_assert_eq!(&m.message, text);
                prop_assert_eq!(stored.client_id.as_deref(), Some(id.as_str()));
            }
        }
    }

    #[test]
    fn a_retry_is_always_answered_with_its_own_original_seq(steps in prop::collection::vec(step(), 0..80)) {
        let run = play(&steps, true);
        let mut first: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
        for (id, _, outcome) in &run.victim {
            if let Outcome::Acked(seq) = outcome {
                let original = *first.entry(id.as_str()).or_insert(*seq);
                prop_assert_eq!(*seq, original, "retry of {} acked with another seq", id);
            }
        }
    }

    #[test]
    fn no_member_can_change_another_members_outcome(steps in prop::collection::vec(step(), 0..80)) {
        let alone = play(&steps, false);
        let attacked = play(&steps, true);
        let kinds = |run: &Run| -> Vec<(String, String, String)> {
            run.victim.iter().map(|(id, text, o)| {
                let o = match o { Outcome::Acked(_) => "ack".to_owned(), Outcome::Refused(code) => code.clone() };
                (id.clone(), text.clone(), o)
            }).collect()
        };
        prop_assert_eq!(kinds(&alone), kinds(&attacked));
        // And what the victim stored reads the same, in the same order.
        let texts = |run: &Run, author: &str| -> Vec<String> {
            run.store.messages().into_iter().filter(|(_, a)| a == author).map(|(m, _)| m.message).collect()
        };
        let author = alone.store.messages().first().map(|(_, a)| a.clone()).unwrap_or_default();
        prop_assert_eq!(texts(&alone, &author), texts(&attacked, &author));
    }
}

#[test]
fn the_store_never_reuses_a_seq_after_trimming() {
    let mut store = MemoryStore::default();
    let mut core = RoomCore::new(RoomKey::new([1; 32]), None);
    let limits = Limits {
        retention: 10,
        rate_burst: 1000,
        address_burst: 1000,
        ..Limits::default()
    };
    let (ada, _) = join(
        &mut core,
        &mut store,
        JoinRequest {
            limits,
            ..request("Ada", "192.0.2.1", None, 1)
        },
        T0,
    );
    for i in 0..30 {
        let frame = ClientFrame::Send {
            id: Some(format!("m{i}")),
            message: "x".into(),
            reply_to: None,
            attachments: Vec::new(),
        }
        .encode();
        core.handle_frame(&ada, &frame, Sockets::default(), T0 + i, &mut store)
            .unwrap();
    }
    store.trim(10).unwrap();
    assert_eq!(store.messages().len(), 10);
    let frame = ClientFrame::Send {
        id: Some("after".into()),
        message: "x".into(),
        reply_to: None,
        attachments: Vec::new(),
    }
    .encode();
    let out = core
        .handle_frame(&ada, &frame, Sockets::default(), T0 + 100, &mut store)
        .unwrap();
    assert_eq!(outcome(&out), Outcome::Acked(31));
}
