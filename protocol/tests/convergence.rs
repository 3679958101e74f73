//! Convergence of the widget's view with the room (proptest): the real
//! client session (`Session`) talks to the real room core (`RoomCore` over a
//! `MemoryStore`) through a simulated link that drops at random moments,
//! while other members send, edit, delete and react and a moderator
//! removes and purges. However it interleaves, once the link is back and
//! quiet, the widget shows every message in the room's current state, and
//! it applied each change once, in order.

use std::collections::BTreeMap;

use hello_chat_protocol::client_frame::{ClientFrame, Dialect};
use hello_chat_protocol::message::{ChatMessage, Role};
use hello_chat_protocol::room::{
    JoinRequest, Joined, Member, MemoryStore, Output, PageQuery, RoomCore, RoomKey, RoomPolicy,
    Sockets, Store, VerifiedUser,
};
use hello_chat_protocol::session::{Effect, Session, SessionConfig};
use hello_chat_protocol::{Limits, RoomEvent};
use proptest::prelude::*;

const T0: u64 = 1_764_330_000_000;

#[derive(Debug, Clone)]
enum Step {
    /// Another member (0..3) sends, edits, deletes or reacts.
    Other { who: usize, act: u8, target: u8 },
    /// The moderator removes a message or purges a member.
    Moderator { purge: bool, target: u8 },
    /// The watched widget's visitor acts.
    Visitor { act: u8, target: u8 },
    /// The link drops (the widget reconnects by itself later).
    Drop,
    /// Time passes.
    Wait,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0usize..3, 0u8..4, any::<u8>()).prop_map(|(who, act, target)| Step::Other { who, act, target }),
        1 => (any::<bool>(), any::<u8>()).prop_map(|(purge, target)| Step::Moderator { purge, target }),
        3 => (0u8..4, any::<u8>()).prop_map(|(act, target)| Step::Visitor { act, target }),
        1 => Just(Step::Drop),
        2 => Just(Step::Wait),
    ]
}

fn limits() -> Limits {
    Limits {
        rate_burst: 1000,
        rate_per_sec: 1000.0,
        address_burst: 1000,
        address_per_sec: 1000.0,
        ..Limits::default()
    }
}

fn request(
    name: &str,
    address: &str,
    user: Option<VerifiedUser>,
    key: Option<String>,
    since: Option<u64>,
    entropy: u8,
) -> JoinRequest {
    JoinRequest {
        name: name.into(),
        user,
        sender_key: key,
        address: Some(address.into()),
        dialect: Dialect::V1,
        since,
        read: None,
        limits: limits(),
        policy: RoomPolicy::default(),
        version: 0,
        entropy: [entropy; 16],
    }
}

struct World {
    core: RoomCore,
    store: MemoryStore,
    now: u64,
    others: Vec<Member>,
    moderator: Member,
    session: Session,
    /// The widget's member while its link is up.
    link: Option<Member>,
    /// Frames the room sent the widget, not yet delivered.
    inbox: Vec<String>,
    /// What the widget shows: seq -> message.
    view: BTreeMap<u64, ChatMessage>,
    /// Seqs of every event the widget applied (messages and updates).
    applied: Vec<u64>,
}

impl World {
    fn new() -> World {
        let mut core = RoomCore::new(RoomKey::new([5; 32]), None);
        let mut store = MemoryStore::default();
        let joined = |req: JoinRequest, core: &mut RoomCore, store: &mut MemoryStore| match core
            .join(req, Sockets::default(), T0, store)
        {
            Ok(Joined::Accepted { member, .. }) => member,
            other => panic!("{other:?}"),
        };
        let others = (0..3)
            .map(|i| {
                joined(
                    request(
                        &format!("M{i}"),
                        &format!("192.0.2.{i}"),
                        None,
                        None,
                        None,
                        10 + i as u8,
                    ),
                    &mut core,
                    &mut store,
                )
            })
            .collect();
        let mo = VerifiedUser {
            sub: "mod".into(),
            name: Some("Mo".into()),
            role: Some(Role::Moderator),
        };
        let moderator = joined(
            request("Mo", "192.0.2.200", Some(mo), None, None, 99),
            &mut core,
            &mut store,
        );
        let mut entropy_counter = 0u8;
        let entropy = Box::new(move |buf: &mut [u8; 16]| {
            entropy_counter = entropy_counter.wrapping_add(1);
            buf.fill(entropy_counter);
        });
        let session = Session::new(
            SessionConfig {
                room: "r".into(),
                name: "Vi".into(),
                site: None,
                token: None,
            },
            entropy,
        );
        World {
            core,
            store,
            now: T0,
            others,
            moderator,
            session,
            link: None,
            inbox: Vec::new(),
            view: BTreeMap::new(),
            applied: Vec::new(),
        }
    }

    /// Carry out what the room decided for `actor`'s frame.
    fn deliver(&mut self, actor_is_widget: bool, outputs: Vec<Output>) {
        for o in outputs {
            match o {
                Output::Reply(frame) if actor_is_widget => self.inbox.push(frame),
                Output::Broadcast { v1, .. } if !actor_is_widget && self.link.is_some() => {
                    self.inbox.push(v1)
                }
                _ => {}
            }
        }
    }

    fn act(&mut self, who: Member, frame: ClientFrame) {
        let outputs = self
            .core
            .handle_frame(
                &who,
                &frame.encode(),
                Sockets::default(),
                self.now,
                &mut self.store,
            )
            .expect("memory store");
        self.deliver(false, outputs);
    }

    /// The seq of an existing message chosen by `pick`.
    fn pick(&mut self, pick: u8) -> Option<u64> {
        let seqs: Vec<u64> = self.store.messages().iter().map(|(m, _)| m.seq).collect();
        (!seqs.is_empty()).then(|| seqs[pick as usize % seqs.len()])
    }

    fn run_widget(&mut self) {
        for _ in 0..200 {
            let mut progressed = false;
            if let Some(t) = self.session.poll_timeout() {
                if t <= self.now as f64 {
                    self.session.handle_timeout(self.now as f64);
                    progressed = true;
                }
            }
            while let Some(effect) = self.session.poll_effect() {
                progressed = true;
                self.effect(effect);
            }
            for frame in std::mem::take(&mut self.inbox) {
                progressed = true;
                self.session.on_text(&frame, self.now as f64);
            }
            if !progressed {
                return;
            }
        }
        panic!("the widget never went quiet");
    }

    fn effect(&mut self, effect: Effect) {
        match effect {
            Effect::Open { query, protocols } => {
                let since = query
                    .iter()
                    .find(|(k, _)| *k == "since")
                    .map(|(_, v)| v.parse().expect("a seq"));
                let key = protocols
                    .iter()
                    .find_map(|p| p.strip_prefix("hc-key."))
                    .map(str::to_owned);
                let req = request("Vi", "203.0.113.5", None, key, since, 0);
                match self
                    .core
                    .join(req, Sockets::default(), self.now, &mut self.store)
                    .expect("memory store")
                {
                    Joined::Accepted { member, outputs } => {
                        self.link = Some(member);
                        self.deliver(true, outputs);
                    }
                    Joined::Refused { error, .. } => panic!("refused: {error}"),
                }
            }
            Effect::CloseSocket => self.link = None,
            Effect::Transmit(text) if text == "ping" => self.inbox.push("pong".into()),
            Effect::Transmit(text) => {
                if let Some(me) = self.link.clone() {
                    let outputs = self
                        .core
                        .handle_frame(&me, &text, Sockets::default(), self.now, &mut self.store)
                        .expect("memory store");
                    self.deliver(true, outputs);
                }
            }
            Effect::Show(messages) => {
                for m in messages {
                    assert!(
                        !self.view.contains_key(&m.seq),
                        "message {} shown twice",
                        m.seq
                    );
                    self.applied.push(m.seq);
                    self.view.insert(m.seq, m);
                }
            }
            Effect::Updated { seq, message } => {
                self.applied.push(seq);
                if let Some(shown) = self.view.get_mut(&message.seq) {
                    *shown = message;
                }
            }
            Effect::Moderation(n) if n.action == "purge" => {
                for m in self
                    .view
                    .values_mut()
                    .filter(|m| Some(&m.sender) == n.sender.as_ref())
                {
                    m.deleted = true;
                    m.message.clear();
                    m.reactions.clear();
                }
            }
            _ => {}
        }
    }

    fn drop_link(&mut self) {
        if self.link.take().is_some() {
            self.inbox.clear();
            self.session.on_close(1006, "", self.now as f64);
        }
    }
}

fn text(i: usize) -> String {
    format!("text {i}")
}

proptest! {

    #[test]
    fn any_interleaving_of_changes_and_reconnects_converges_and_applies_each_change_once(steps in prop::collection::vec(step(), 1..60)) {
        let mut w = World::new();
        w.session.start(w.now as f64);
        w.run_widget();
        for (i, step) in steps.iter().enumerate() {
            w.now += 700;
            match step {
                Step::Other { who, act, target } => {
                    let member = w.others[*who].clone();
                    let id = format!("o{i}");
                    let frame = match (act, w.pick(*target)) {
                        (0, _) | (_, None) => ClientFrame::Send { id: Some(id), message: text(i), reply_to: None, attachments: Vec::new(), },
                        (1, Some(t)) => ClientFrame::Edit { id, target: t, message: text(i) },
                        (2, Some(t)) => ClientFrame::Delete { id, target: t },
                        (_, Some(t)) => ClientFrame::React { id, target: t, emoji: "👍".into(), on: i % 3 != 0 },
                    };
                    w.act(member, frame);
                }
                Step::Moderator { purge, target } => {
                    let id = format!("x{i}");
                    let action = if *purge {
                        hello_chat_protocol::client_frame::ModerationAction::Purge { sender: w.others[*target as usize % 3].sender.clone() }
                    } else {
                        match w.pick(*target) {
                            Some(t) => hello_chat_protocol::client_frame::ModerationAction::Delete { target: t },
                            None => continue,
                        }
                    };
                    let moderator = w.moderator.clone();
                    w.act(moderator, ClientFrame::Moderate { id, action, reason: None });
                }
                Step::Visitor { act, target } => {
                    let now = w.now as f64;
                    let _ = match (act, w.pick(*target)) {
                        (0, _) | (_, None) => w.session.send(&text(i), now),
                        (1, Some(t)) => w.session.edit(t, &text(i), now),
                        (2, Some(t)) => w.session.react(t, "🎉", i % 2 == 0, now),
                        (_, Some(t)) => w.session.reply(Some(t), &text(i), now),
                    };
                }
                Step::Drop => w.drop_link(),
                Step::Wait => w.now += 5_000,
            }
            w.run_widget();
        }
        // Let the link come back and everything settle.
        for _ in 0..20 {
            w.now += 30_000;
            w.run_widget();
        }
        prop_assert!(w.link.is_some(), "the widget reconnected");
        prop_assert!(w.session.outbox().is_empty(), "everything the visitor did went out");
        prop_assert!(w.applied.windows(2).all(|p| p[0] < p[1]), "applied in order, once each: {:?}", w.applied);
        let me = w.link.clone().expect("connected");
        let truth: BTreeMap<u64, ChatMessage> = w.store.page(PageQuery::Latest(1000), &me.author).expect("memory store").events.into_iter()
            .filter_map(|e| match e { RoomEvent::Message(m) => Some((m.seq, m)), _ => None })
            .collect();
        prop_assert_eq!(w.view.keys().collect::<Vec<_>>(), truth.keys().collect::<Vec<_>>());
        for (seq, shown) in &w.view {
            let real = &truth[seq];
            prop_assert_eq!((&shown.message, shown.deleted, shown.edited.is_some()), (&real.message, real.deleted, real.edited.is_some()), "message {}", seq);
            prop_assert_eq!(&shown.reactions, &real.reactions, "reactions of {}", seq);
        }
    }
}
