//! Reports, one rule at a time (see `reports`); under random interleavings
//! in protocol/tests/reports.rs.

use super::tests::replies;
use super::*;
use crate::json::{self, Json};
use crate::message::Role;
use crate::report::{Evidence, Report, ReportCounts, ReportReason};

const T0: u64 = 1_764_330_000_000;

fn request(name: &str, address: &str) -> JoinRequest {
    let mut entropy = [0u8; 16];
    for (i, b) in name.bytes().enumerate() {
        entropy[i % 16] ^= b.wrapping_mul(31).wrapping_add(i as u8);
    }
    JoinRequest {
        name: name.into(),
        user: None,
        sender_key: None,
        address: Some(address.into()),
        dialect: Dialect::V1,
        since: None,
        read: None,
        limits: Limits::default(),
        policy: RoomPolicy::default(),
        version: 0,
        entropy,
    }
}

fn user(sub: &str, role: Option<Role>) -> JoinRequest {
    JoinRequest {
        user: Some(VerifiedUser {
            sub: sub.into(),
            name: Some(sub.to_uppercase()),
            role,
        }),
        ..request(sub, "198.51.100.9")
    }
}

struct Room {
    core: RoomCore,
    store: MemoryStore,
    now: u64,
}

impl Room {
    fn new() -> Room {
        Room {
            core: RoomCore::new(RoomKey::new([7; 32]), None),
            store: MemoryStore::default(),
            now: T0,
        }
    }

    fn join(&mut self, req: JoinRequest) -> (Member, Vec<Json>) {
        match self
            .core
            .join(req, Sockets::default(), self.now, &mut self.store)
            .unwrap()
        {
            Joined::Accepted { member, outputs } => (member, replies(&outputs)),
            Joined::Refused { error, .. } => panic!("refused: {error}"),
        }
    }

    fn frame(&mut self, m: &Member, text: &str) -> Vec<Output> {
        self.now += 1;
        self.core
            .handle_frame(m, text, Sockets::default(), self.now, &mut self.store)
            .unwrap()
    }

    /// `m` posts `text`; returns its seq.
    fn post(&mut self, m: &Member, text: &str) -> u64 {
        self.now += 1_000;
        let out = self.frame(m, &format!(r#"{{"type":"send","message":"{text}"}}"#));
        field(&replies(&out)[0], "seq").as_u64().unwrap()
    }

    fn report(&mut self, m: &Member, id: &str, target: u64, reason: &str) -> Vec<Output> {
        self.frame(
            m,
            &format!(r#"{{"type":"report","id":"{id}","target":{target},"reason":"{reason}"}}"#),
        )
    }

    fn open(&self, target: u64) -> usize {
        self.store
            .open_reports()
            .iter()
            .filter(|r| r.target == target)
            .count()
    }
}

fn to_moderators(outputs: &[Output]) -> Vec<Json> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::ToModerators(text) => Some(json::parse(text).unwrap()),
            _ => None,
        })
        .collect()
}

fn field<'a>(frame: &'a Json, key: &str) -> &'a Json {
    frame.get(key).unwrap_or(&Json::Null)
}

/// The first reply's error code, or its type.
fn answer(out: &[Output]) -> String {
    let r = &replies(out)[0];
    field(r, "code")
        .as_str()
        .or(field(r, "type").as_str())
        .unwrap_or("")
        .to_owned()
}

/// Nothing but the actor's own answer, moderators' frames and webhooks:
/// no broadcast, no frame to anyone's other sockets.
fn told_no_member(out: &[Output]) -> bool {
    out.iter().all(|o| {
        matches!(
            o,
            Output::Reply(_) | Output::ToModerators(_) | Output::SiteEvent { .. }
        )
    })
}

#[test]
fn a_report_is_acked_counted_and_told_to_moderators_only() {
    let mut room = Room::new();
    let (ada, _) = room.join(request("Ada", "203.0.113.1"));
    let (bo, _) = room.join(request("Bo", "203.0.113.2"));
    let seq = room.post(&ada, "buy pills");
    let out = room.frame(
        &bo,
        &format!(r#"{{"type":"report","id":"r1","target":{seq},"reason":"spam","note":" ads "}}"#),
    );
    let ack = &replies(&out)[0];
    assert_eq!(field(ack, "type").as_str(), Some("ack"));
    assert_eq!(field(ack, "id").as_str(), Some("r1"));
    assert_eq!(
        field(ack, "seq").as_u64(),
        Some(seq),
        "the reported message"
    );
    assert!(told_no_member(&out));
    let told = to_moderators(&out);
    assert_eq!(told.len(), 1);
    assert_eq!(field(&told[0], "type").as_str(), Some("reported"));
    assert_eq!(field(&told[0], "target").as_u64(), Some(seq));
    assert_eq!(field(&told[0], "reports").as_u64(), Some(1));
    assert_eq!(field(field(&told[0], "reasons"), "spam").as_u64(), Some(1));
    // Moderators learn counts, never who reported.
    let text = match out.iter().find(|o| matches!(o, Output::ToModerators(_))) {
        Some(Output::ToModerators(t)) => t.clone(),
        _ => unreachable!(),
    };
    assert!(!text.contains(&bo.sender) && !text.contains("Bo"));
    // The site hears the report with its reporter, the message and the note.
    let event = out.iter().find_map(|o| match o {
        Output::SiteEvent {
            kind: "report",
            data,
            name,
            ..
        } => Some((
            json::parse(data).unwrap(),
            name.strip_prefix("report.")
                .unwrap()
                .parse::<u64>()
                .unwrap(),
        )),
        _ => None,
    });
    let (data, number) = event.expect("a report event");
    assert_eq!(field(&data, "id").as_u64(), Some(number));
    assert_eq!(field(&data, "reason").as_str(), Some("spam"));
    assert_eq!(field(&data, "note").as_str(), Some("ads"));
    assert_eq!(field(&data, "reports").as_u64(), Some(1));
    let reporter = field(&data, "reporter");
    assert_eq!(field(reporter, "sender").as_str(), Some(bo.sender.as_str()));
    assert_eq!(field(reporter, "name").as_str(), Some("Bo"));
    let message = field(&data, "message");
    assert_eq!(field(message, "message").as_str(), Some("buy pills"));
    assert_eq!(field(message, "sender").as_str(), Some(ada.sender.as_str()));
    // Not an event of the sequence: the seq did not move.
    assert_eq!(room.store.latest_seq().unwrap(), seq);
    assert_eq!(room.open(seq), 1);
}

#[test]
fn own_messages_notices_tombstones_and_unknown_seqs_cannot_be_reported() {
    let mut room = Room::new();
    let (ada, _) = room.join(request("Ada", "203.0.113.1"));
    let (mo, _) = room.join(user("mo", Some(Role::Moderator)));
    let mine = room.post(&ada, "mine");
    let theirs = room.post(&mo, "theirs");
    let gone = room.post(&mo, "gone");
    room.frame(
        &mo,
        &format!(r#"{{"type":"delete","id":"d","target":{gone}}}"#),
    );
    room.frame(&mo, r#"{"type":"moderate","id":"l","action":"lock"}"#);
    let notice = room.store.latest_seq().unwrap();
    room.frame(&mo, r#"{"type":"moderate","id":"u","action":"unlock"}"#);
    let edit_event = gone + 1;
    for (target, code) in [
        (mine, "not_allowed"),
        (gone, "not_found"),
        (notice, "not_found"),
        (edit_event, "not_found"),
        (0, "not_found"),
        (9_999, "not_found"),
    ] {
        let out = room.report(&ada, "r", target, "other");
        assert_eq!(answer(&out), code, "target {target}");
        assert_eq!(field(&replies(&out)[0], "id").as_str(), Some("r"));
        assert!(to_moderators(&out).is_empty());
    }
    assert!(room.store.open_reports().is_empty());
    assert_eq!(answer(&room.report(&ada, "r", theirs, "other")), "ack");
}

#[test]
fn a_repeat_under_any_id_is_acked_and_counted_once() {
    let mut room = Room::new();
    let (ada, _) = room.join(request("Ada", "203.0.113.1"));
    let (bo, _) = room.join(request("Bo", "203.0.113.2"));
    let seq = room.post(&ada, "hm");
    let first = room.report(&bo, "r1", seq, "spam");
    let first_at = field(&replies(&first)[0], "timestamp").as_u64();
    for id in ["r1", "r2", "r3"] {
        let out = room.report(&bo, id, seq, "harassment");
        assert_eq!(answer(&out), "ack");
        assert_eq!(field(&replies(&out)[0], "id").as_str(), Some(id));
        assert_eq!(field(&replies(&out)[0], "timestamp").as_u64(), first_at);
        assert!(to_moderators(&out).is_empty(), "nothing new to tell");
        assert!(out.len() == 1, "no webhook either");
    }
    assert_eq!(room.open(seq), 1);
    // A repeat is free: it does not eat into the rate limit.
    for i in 0..30 {
        assert_eq!(
            answer(&room.report(&bo, &format!("x{i}"), seq, "spam")),
            "ack"
        );
    }
}

#[test]
fn an_address_reports_a_message_once_however_many_anonymous_keys_it_takes() {
    let mut room = Room::new();
    let (ada, _) = room.join(request("Ada", "203.0.113.1"));
    let seq = room.post(&ada, "an opinion");
    let (first, _) = room.join(request("Sock0", "198.51.100.7"));
    let out = room.report(&first, "r", seq, "harassment");
    assert_eq!(to_moderators(&out).len(), 1);
    room.now += 60_000;
    for n in 1..8 {
        let (sock, _) = room.join(request(&format!("Sock{n}"), "198.51.100.7"));
        let out = room.report(&sock, "r", seq, "spam");
        assert_eq!(answer(&out), "ack");
        // Acked as a first report: nothing tells them someone at their
        // address (a neighbour behind the same NAT) reported it, or when.
        assert_eq!(
            field(&replies(&out)[0], "timestamp").as_u64(),
            Some(room.now)
        );
        assert!(to_moderators(&out).is_empty(), "not counted again");
        assert_eq!(out.len(), 1, "no webhook either");
    }
    assert_eq!(room.open(seq), 1);
    // Another address counts; a verified user counts whatever their address.
    let (bo, _) = room.join(request("Bo", "192.0.2.44"));
    assert_eq!(to_moderators(&room.report(&bo, "r", seq, "spam")).len(), 1);
    let (vee, _) = room.join(JoinRequest {
        address: Some("198.51.100.7".into()),
        ..user("vee", None)
    });
    assert_eq!(to_moderators(&room.report(&vee, "r", seq, "spam")).len(), 1);
    assert_eq!(room.open(seq), 3);
}

#[test]
fn reports_are_rate_limited_per_member_and_per_address() {
    let mut room = Room::new();
    let (ada, _) = room.join(request("Ada", "203.0.113.1"));
    let seqs: Vec<u64> = (0..100)
        .map(|i| room.post(&ada, &format!("m{i}")))
        .collect();
    let (bot, _) = room.join(request("Bot", "203.0.113.66"));
    let mut acked = 0;
    for (i, seq) in seqs.iter().enumerate() {
        match answer(&room.report(&bot, &format!("r{i}"), *seq, "spam")).as_str() {
            "ack" => acked += 1,
            "rate_limited" => {}
            other => panic!("{other}"),
        }
    }
    assert_eq!(acked, crate::report::REPORT_BURST as usize);
    // A minute later, ten more.
    room.now += 60_000;
    for (i, seq) in seqs.iter().enumerate() {
        room.report(&bot, &format!("s{i}"), *seq, "spam");
    }
    let by_bot = |room: &Room| {
        room.store
            .open_reports()
            .iter()
            .filter(|r| r.author == bot.author)
            .count()
    };
    assert_eq!(by_bot(&room), 20);
    // Fresh sender keys from one address share its (larger) budget (each
    // on messages of its own: on the same one they count once).
    let mut from_address = 0;
    for n in 0..10 {
        let (sock, _) = room.join(request(&format!("Sock{n}"), "203.0.113.99"));
        for (i, seq) in seqs.iter().enumerate().skip(n * 10).take(10) {
            if answer(&room.report(&sock, &format!("p{i}"), *seq, "spam")) == "ack" {
                from_address += 1;
            }
        }
    }
    assert_eq!(from_address, 50, "five members' worth per address");
}

#[test]
fn moderators_see_open_reports_on_welcome_and_only_they_do() {
    let mut room = Room::new();
    let (ada, _) = room.join(request("Ada", "203.0.113.1"));
    let (bo, _) = room.join(request("Bo", "203.0.113.2"));
    let (cy, _) = room.join(user("cy", None));
    let a = room.post(&ada, "one");
    let b = room.post(&ada, "two");
    room.report(&bo, "r1", a, "spam");
    room.report(&cy, "r2", a, "harassment");
    room.report(&bo, "r3", b, "other");
    let (_, welcome) = room.join(user("mo", Some(Role::Moderator)));
    let reports = field(&welcome[0], "reports").as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(
        field(&reports[0], "target").as_u64(),
        Some(b),
        "newest first"
    );
    assert_eq!(field(&reports[1], "reports").as_u64(), Some(2));
    assert_eq!(
        field(field(&reports[1], "reasons"), "harassment").as_u64(),
        Some(1)
    );
    for req in [request("Dee", "203.0.113.4"), user("eve", None)] {
        let (_, welcome) = room.join(req);
        assert!(field(&welcome[0], "reports").as_array().is_none());
    }
}

#[test]
fn only_moderators_dismiss_and_dismissing_is_told_to_moderators_only() {
    let mut room = Room::new();
    let (ada, _) = room.join(request("Ada", "203.0.113.1"));
    let (bo, _) = room.join(request("Bo", "203.0.113.2"));
    let (mo, _) = room.join(user("mo", Some(Role::Moderator)));
    let seq = room.post(&ada, "rude");
    room.report(&bo, "r1", seq, "harassment");
    let dismiss = format!(r#"{{"type":"moderate","id":"x","action":"dismiss","target":{seq}}}"#);
    let out = room.frame(&bo, &dismiss);
    assert_eq!(answer(&out), "not_allowed");
    assert_eq!(room.open(seq), 1);
    let out = room.frame(&mo, &dismiss);
    assert_eq!(answer(&out), "ack");
    assert_eq!(field(&replies(&out)[0], "seq").as_u64(), Some(seq));
    assert!(told_no_member(&out), "no notice for everyone");
    let told = to_moderators(&out);
    assert_eq!(field(&told[0], "reports").as_u64(), Some(0));
    assert_eq!(room.open(seq), 0);
    assert_eq!(room.store.latest_seq().unwrap(), seq, "no event");
    // Dismissing again (another moderator at once) is acked, tells nothing.
    let out = room.frame(&mo, &dismiss);
    assert_eq!((answer(&out), to_moderators(&out).len()), ("ack".into(), 0));
    // Reported again after a dismissal: counted anew.
    assert_eq!(answer(&room.report(&bo, "r2", seq, "spam")), "ack");
    assert_eq!(room.open(seq), 1);
}

#[test]
fn deleting_purging_or_trimming_a_message_takes_its_reports_with_it() {
    let mut room = Room::new();
    let (ada, _) = room.join(request("Ada", "203.0.113.1"));
    let (bo, _) = room.join(request("Bo", "203.0.113.2"));
    let (mo, _) = room.join(user("mo", Some(Role::Moderator)));
    let own_delete = room.post(&ada, "a");
    let mod_delete = room.post(&ada, "b");
    let old = room.post(&bo, "c");
    let trimmed = room.post(&bo, "d");
    for seq in [own_delete, mod_delete] {
        room.report(&bo, &format!("r{seq}"), seq, "spam");
    }
    for seq in [old, trimmed] {
        room.report(&ada, &format!("r{seq}"), seq, "spam");
    }
    assert_eq!(room.store.open_reports().len(), 4);
    room.frame(
        &ada,
        &format!(r#"{{"type":"delete","id":"d1","target":{own_delete}}}"#),
    );
    assert_eq!(room.open(own_delete), 0);
    room.frame(
        &mo,
        &format!(r#"{{"type":"moderate","id":"d2","action":"delete","target":{mod_delete}}}"#),
    );
    assert_eq!(room.open(mod_delete), 0);
    room.post(&mo, "the one kept");
    room.store.trim(1).unwrap();
    assert_eq!(room.open(trimmed), 0, "trimmed by retention");
    assert_eq!(room.open(old), 0);
    assert!(room.store.open_reports().is_empty());
    // A purge, in a room kept whole.
    let mut room = Room::new();
    let (ada, _) = room.join(request("Ada", "203.0.113.1"));
    let (bo, _) = room.join(request("Bo", "203.0.113.2"));
    let (mo, _) = room.join(user("mo", Some(Role::Moderator)));
    let seq = room.post(&bo, "spam");
    room.post(&bo, "more spam");
    let other = room.post(&ada, "a fair point");
    room.report(&ada, "r", seq, "spam");
    room.report(&bo, "r2", other, "other");
    let out = room.frame(
        &mo,
        &format!(
            r#"{{"type":"moderate","id":"p","action":"purge","sender":"{}"}}"#,
            bo.sender
        ),
    );
    assert_eq!(room.open(seq), 0);
    assert_eq!(room.open(other), 1, "only the purged member's messages");
    // Moderators get every open count at once: a purge may reach messages
    // their widgets have not loaded (a tombstone clears only a loaded one).
    let told = to_moderators(&out);
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(field(&told[0], "all").as_bool(), Some(true));
    let listed: Vec<u64> = field(&told[0], "reports")
        .as_array()
        .unwrap_or_default()
        .iter()
        .filter_map(|c| c.get("target").and_then(Json::as_u64))
        .collect();
    assert_eq!(listed, [other]);
    room.frame(
        &mo,
        &format!(r#"{{"type":"moderate","id":"d","action":"dismiss","target":{other}}}"#),
    );
    assert!(room.store.open_reports().is_empty());
    let (_, welcome) = room.join(user("mo2", Some(Role::Moderator)));
    assert!(field(&welcome[0], "reports").as_array().is_none());
}

#[test]
fn an_erasure_removes_the_users_reports_and_tells_moderators_the_new_counts() {
    let mut room = Room::new();
    let (ada, _) = room.join(request("Ada", "203.0.113.1"));
    let (cy, _) = room.join(user("cy", None));
    let (bo, _) = room.join(request("Bo", "203.0.113.2"));
    let seq = room.post(&ada, "meh");
    let hers = room.post(&cy, "hers");
    room.report(&cy, "r1", seq, "spam");
    room.report(&bo, "r2", seq, "other");
    room.report(&bo, "r3", hers, "other");
    let (_, out) = room
        .core
        .erase_user("cy", Limits::default(), room.now, &mut room.store)
        .unwrap();
    assert_eq!(room.open(seq), 1, "Bo's stays");
    assert_eq!(room.open(hers), 0, "her message is a tombstone");
    let told = to_moderators(&out);
    assert_eq!(told.len(), 1);
    assert_eq!(field(&told[0], "target").as_u64(), Some(seq));
    assert_eq!(field(&told[0], "reports").as_u64(), Some(1));
    // A user who only reported (no message of theirs): still forgotten.
    let (dee, _) = room.join(user("dee", None));
    room.report(&dee, "r4", seq, "spam");
    let (_, out) = room
        .core
        .erase_user("dee", Limits::default(), room.now, &mut room.store)
        .unwrap();
    assert_eq!(room.open(seq), 1);
    assert_eq!(to_moderators(&out).len(), 1);
    assert!(room
        .store
        .open_reports()
        .iter()
        .all(|r| r.author != "u:dee"));
}

#[test]
fn a_report_keeps_the_message_as_its_reporter_saw_it_until_its_author_is_erased() {
    let mut room = Room::new();
    let (vee, _) = room.join(user("vee", None));
    let (bo, _) = room.join(request("Bo", "203.0.113.2"));
    let seq = room.post(&vee, "you fool");
    let out = room.report(&bo, "r1", seq, "harassment");
    let data = out
        .iter()
        .find_map(|o| match o {
            Output::SiteEvent {
                kind: "report",
                data,
                ..
            } => Some(json::parse(data).unwrap()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        field(field(&data, "reported"), "message").as_str(),
        Some("you fool"),
        "the webhook carries it too"
    );
    let edit = format!(r#"{{"type":"edit","id":"e1","target":{seq},"message":"hello"}}"#);
    assert_eq!(answer(&room.frame(&vee, &edit)), "ack");
    let kept = &room.store.open_reports()[0];
    let evidence = kept.evidence.as_ref().unwrap();
    assert_eq!(
        (evidence.text.as_str(), evidence.edited),
        ("you fool", None)
    );
    let listed = kept.site_json(r#"{"message":"hello"}"#, &ReportCounts::new(seq));
    assert!(
        listed.contains(r#""reported":{"message":"you fool"}"#),
        "{listed}"
    );
    // Reported again after the edit: as it is then, edited.
    let (cy, _) = room.join(request("Cy", "203.0.113.3"));
    room.report(&cy, "r2", seq, "other");
    let second = room.store.open_reports()[1].evidence.clone().unwrap();
    assert_eq!(second.text, "hello");
    assert!(second.edited.is_some());
    // The author erased: nothing of their text is left in any report.
    room.core
        .erase_user("vee", Limits::default(), room.now, &mut room.store)
        .unwrap();
    assert!(room.store.open_reports().is_empty());
}

#[test]
fn the_evidence_names_the_files_and_leaves_out_what_it_lacks() {
    let evidence = Evidence {
        text: "look \"here\"".into(),
        edited: Some(5),
        files: vec!["a.png".into(), "b \"c\".pdf".into()],
    };
    assert_eq!(
        evidence.json(),
        r#"{"message":"look \"here\"","edited":5,"files":["a.png","b \"c\".pdf"]}"#
    );
    let files = evidence.files_json();
    assert_eq!(Evidence::parse_files(files.as_deref()), evidence.files);
    assert_eq!(
        Evidence::parse_files(Some("not json")),
        Vec::<String>::new()
    );
    assert_eq!(Evidence::parse_files(None), Vec::<String>::new());
    let bare = Evidence {
        text: String::new(),
        ..Evidence::default()
    };
    assert_eq!(bare.json(), r#"{"message":""}"#);
    assert_eq!(bare.files_json(), None);
}

#[test]
fn the_export_json_is_the_reporters_own_report_without_counts() {
    let r = Report {
        id: 3,
        target: 9,
        author: "u:dee".into(),
        origin: Some("hash".into()),
        sender: "Dk3".into(),
        name: "Dee".into(),
        verified: true,
        reason: Some(ReportReason::Spam),
        note: Some("ads".into()),
        timestamp: 77,
        evidence: Some(Evidence {
            text: "buy".into(),
            ..Evidence::default()
        }),
    };
    assert_eq!(
        r.export_json(),
        r#"{"id":3,"target":9,"reason":"spam","note":"ads","timestamp":77,"name":"Dee","sender":"Dk3","reported":{"message":"buy"}}"#
    );
}

#[test]
fn an_erasure_past_its_bounds_tells_moderators_every_open_count_at_once() {
    let mut room = Room::new();
    let (ada, _) = room.join(request("Ada", "203.0.113.1"));
    let (bo, _) = room.join(request("Bo", "203.0.113.2"));
    let (dee, _) = room.join(user("dee", None));
    let kept = room.post(&ada, "kept");
    room.report(&bo, "b1", kept, "spam");
    // Dee reported more messages than an erasure tells one by one.
    for i in 0..MAX_PURGE_EVENTS as u64 + 5 {
        room.now += 6_000;
        let seq = room.post(&ada, &format!("m{i}"));
        assert_eq!(
            answer(&room.report(&dee, &format!("d{i}"), seq, "other")),
            "ack"
        );
    }
    let (_, out) = room
        .core
        .erase_user("dee", Limits::default(), room.now, &mut room.store)
        .unwrap();
    let told = to_moderators(&out);
    assert_eq!(told.len(), 1, "one frame, not a thousand");
    assert_eq!(field(&told[0], "all").as_bool(), Some(true));
    let all = field(&told[0], "reports").as_array().unwrap();
    assert_eq!(all.len(), 1, "only Bo's is left open");
    assert_eq!(field(&all[0], "target").as_u64(), Some(kept));
    assert_eq!(field(&all[0], "reports").as_u64(), Some(1));
}

#[test]
fn muted_members_and_a_locked_room_may_still_report_legacy_clients_cannot() {
    let mut room = Room::new();
    let (ada, _) = room.join(request("Ada", "203.0.113.1"));
    let (bo, _) = room.join(request("Bo", "203.0.113.2"));
    let (mo, _) = room.join(user("mo", Some(Role::Moderator)));
    let seq = room.post(&ada, "hm");
    room.frame(
        &mo,
        &format!(
            r#"{{"type":"moderate","id":"m","action":"mute","sender":"{}"}}"#,
            bo.sender
        ),
    );
    room.frame(&mo, r#"{"type":"moderate","id":"l","action":"lock"}"#);
    assert_eq!(answer(&room.report(&bo, "r", seq, "harassment")), "ack");
    let (old, _) = room.join(JoinRequest {
        dialect: Dialect::Legacy,
        ..request("Old", "203.0.113.3")
    });
    let out = room.report(&old, "r", seq, "spam");
    // The workshop front end's dialect has sends only: the frame is a
    // message text to it, refused in silence (the room is locked).
    assert!(to_moderators(&out).is_empty());
    assert_eq!(room.open(seq), 1);
}

#[test]
fn a_report_frame_must_be_well_formed() {
    let mut room = Room::new();
    let (ada, _) = room.join(request("Ada", "203.0.113.1"));
    let (bo, _) = room.join(request("Bo", "203.0.113.2"));
    let seq = room.post(&ada, "x");
    for bad in [
        format!(r#"{{"type":"report","id":"r","target":{seq},"reason":"ugly"}}"#),
        format!(r#"{{"type":"report","target":{seq},"reason":"spam"}}"#),
        format!(
            r#"{{"type":"report","id":"r","target":{seq},"reason":"spam","note":"{}"}}"#,
            "n".repeat(201)
        ),
        r#"{"type":"report","id":"r","target":"1","reason":"spam"}"#.to_owned(),
    ] {
        assert_eq!(answer(&room.frame(&bo, &bad)), "bad_frame", "{bad}");
    }
    assert!(room.store.open_reports().is_empty());
}
