//! Reports under random interleavings (proptest) of posts, reports (repeats
//! and attacks included), deletes, dismissals and erasures:
//! - a member has at most one open report per message;
//! - every open report is on a message standing, not by its reporter;
//! - what moderators are told of a message is what the store holds;
//! - no report, dismissal or refusal is ever told to anyone but the actor
//!   and the moderators, and none of it names a reporter to moderators.

use hello_chat_protocol::client_frame::Dialect;
use hello_chat_protocol::json::{self, Json};
use hello_chat_protocol::message::Role;
use hello_chat_protocol::room::{
    JoinRequest, Joined, Member, MemoryStore, Output, RoomCore, RoomKey, RoomPolicy, Sockets,
    Store, VerifiedUser,
};
use hello_chat_protocol::Limits;
use proptest::prelude::*;

const T0: u64 = 1_764_330_000_000;
/// Members 0-2 are visitors (2 verified, sub "v"), 3 a moderator.
const MEMBERS: usize = 4;
const REASONS: [&str; 3] = ["spam", "harassment", "other"];

#[derive(Debug, Clone)]
enum Step {
    Post(usize),
    /// Member reports the message at this index of those posted (or a seq
    /// past them), under a fresh id or the last one they used.
    Report {
        who: usize,
        target: usize,
        reason: usize,
        reuse_id: bool,
    },
    /// The author deletes the message at this index.
    Delete(usize),
    /// Someone (a moderator or not) dismisses its reports.
    Dismiss {
        who: usize,
        target: usize,
    },
    /// The verified visitor is erased.
    Erase,
    Wait,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..MEMBERS).prop_map(Step::Post),
        6 => (0..MEMBERS, 0usize..12, 0usize..3, any::<bool>()).prop_map(|(who, target, reason, reuse_id)| Step::Report { who, target, reason, reuse_id }),
        1 => (0usize..12).prop_map(Step::Delete),
        1 => (0..MEMBERS, 0usize..12).prop_map(|(who, target)| Step::Dismiss { who, target }),
        1 => Just(Step::Erase),
        1 => Just(Step::Wait),
    ]
}

fn request(i: usize) -> JoinRequest {
    let user = match i {
        2 => Some(VerifiedUser {
            sub: "v".into(),
            name: Some("Vee".into()),
            role: None,
        }),
        3 => Some(VerifiedUser {
            sub: "mod".into(),
            name: Some("Mo".into()),
            role: Some(Role::Moderator),
        }),
        _ => None,
    };
    JoinRequest {
        name: format!("M{i}"),
        user,
        sender_key: None,
        address: Some(format!("203.0.113.{i}")),
        dialect: Dialect::V1,
        since: None,
        read: None,
        limits: Limits::default(),
        policy: RoomPolicy::default(),
        version: 0,
        entropy: [i as u8 + 1; 16],
    }
}

fn frames(outputs: &[Output]) -> Vec<Json> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Reply(t) | Output::ToModerators(t) => json::parse(t).ok(),
            _ => None,
        })
        .collect()
}

fn check(store: &mut MemoryStore) -> Result<(), TestCaseError> {
    let reports = store.open_reports().to_vec();
    for (i, r) in reports.iter().enumerate() {
        prop_assert!(
            !reports[..i]
                .iter()
                .any(|o| o.author == r.author && o.target == r.target),
            "two reports by one member on {}",
            r.target
        );
        let standing = store.message(r.target).unwrap();
        prop_assert!(
            matches!(&standing, Some((m, author)) if !m.deleted && *author != r.author),
            "report on {} is on a message gone or its reporter's own",
            r.target
        );
    }
    Ok(())
}

fn play(steps: &[Step]) -> Result<(), TestCaseError> {
    let mut core = RoomCore::new(RoomKey::new([5; 32]), None);
    let mut store = MemoryStore::default();
    let mut now = T0;
    let members: Vec<Member> = (0..MEMBERS)
        .map(
            |i| match core.join(request(i), Sockets::default(), now, &mut store) {
                Ok(Joined::Accepted { member, .. }) => member,
                other => panic!("{other:?}"),
            },
        )
        .collect();
    let mut posted: Vec<u64> = Vec::new();
    let mut ids = [0u32; MEMBERS];
    for s in steps {
        now += 500;
        let (actor, text) = match s {
            Step::Post(who) => (*who, r#"{"type":"send","message":"hi"}"#.to_owned()),
            Step::Report {
                who,
                target,
                reason,
                reuse_id,
            } => {
                if !reuse_id {
                    ids[*who] += 1;
                }
                let seq = posted
                    .get(*target)
                    .copied()
                    .unwrap_or(*target as u64 + 1_000);
                (
                    *who,
                    format!(
                        r#"{{"type":"report","id":"r{}","target":{seq},"reason":"{}"}}"#,
                        ids[*who], REASONS[*reason]
                    ),
                )
            }
            Step::Delete(i) => {
                let Some(seq) = posted.get(*i).copied() else {
                    continue;
                };
                let Some((_, author)) = store.message(seq).unwrap() else {
                    continue;
                };
                let Some(who) = members.iter().position(|m| m.author == author) else {
                    continue;
                };
                (
                    who,
                    format!(r#"{{"type":"delete","id":"d{seq}","target":{seq}}}"#),
                )
            }
            Step::Dismiss { who, target } => {
                let seq = posted.get(*target).copied().unwrap_or(1);
                ids[*who] += 1;
                (
                    *who,
                    format!(
                        r#"{{"type":"moderate","id":"x{}","action":"dismiss","target":{seq}}}"#,
                        ids[*who]
                    ),
                )
            }
            Step::Erase => {
                let (_, out) = core
                    .erase_user("v", Limits::default(), now, &mut store)
                    .unwrap();
                for f in frames(&out) {
                    if f.get("type").and_then(Json::as_str) == Some("reported") {
                        let target = f.get("target").and_then(Json::as_u64).unwrap();
                        let told = f.get("reports").and_then(Json::as_u64).unwrap();
                        let held = store.report_counts(target).unwrap().total();
                        prop_assert_eq!(told, u64::from(held));
                    }
                }
                check(&mut store)?;
                continue;
            }
            Step::Wait => {
                now += 60_000;
                continue;
            }
        };
        let out = core
            .handle_frame(&members[actor], &text, Sockets::default(), now, &mut store)
            .unwrap();
        if let Step::Post(_) = s {
            if let Some(seq) = frames(&out)
                .iter()
                .find(|f| f.get("type").and_then(Json::as_str) == Some("ack"))
                .and_then(|f| f.get("seq").and_then(Json::as_u64))
            {
                posted.push(seq);
            }
        }
        if matches!(s, Step::Report { .. } | Step::Dismiss { .. }) {
            for o in &out {
                match o {
                    Output::Reply(_) | Output::SiteEvent { .. } => {}
                    Output::ToModerators(t) => {
                        for m in &members[..3] {
                            prop_assert!(!t.contains(&m.sender), "a reporter named: {t}");
                        }
                        let f = json::parse(t).unwrap();
                        let target = f.get("target").and_then(Json::as_u64).unwrap();
                        let told = f.get("reports").and_then(Json::as_u64).unwrap();
                        let held = store.report_counts(target).unwrap().total();
                        prop_assert_eq!(told, u64::from(held));
                    }
                    other => prop_assert!(false, "told beyond the actor: {other:?}"),
                }
            }
            // Only moderators dismiss.
            if let Step::Dismiss { who, .. } = s {
                let answer = &frames(&out)[0];
                let acked = answer.get("type").and_then(Json::as_str) == Some("ack");
                prop_assert_eq!(acked, members[*who].role.is_some());
            }
        }
        check(&mut store)?;
    }
    Ok(())
}

proptest! {
    #[test]
    fn reports_stay_one_per_member_on_standing_messages_and_private(steps in prop::collection::vec(step(), 0..80)) {
        play(&steps)?;
    }
}
