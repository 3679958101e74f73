//! Slow mode: one message per interval per member, and no more from an
//! address than the anonymous members there.
//!
//! A member is known by their sender key, which an anonymous visitor picks:
//! a script reconnecting under a fresh key each time would be a new member
//! every time. So the anonymous members at one address (the room's address
//! key, in memory only) share an allowance: as many messages per interval
//! as they have connections there now. A venue of ten people behind one
//! NAT gets ten voices; one visitor reconnecting under fresh keys gets one;
//! one who opens many connections at once gets no more than as many people
//! would, within the site's cap on connections per address. Verified
//! members keep one key whatever they do, and moderators are not slowed.

use std::collections::VecDeque;

use crate::lru::LruMap;

use super::member::Member;

/// Senders and addresses remembered (least recently posting forgotten first).
const MEMORY: usize = 10_000;
/// Times kept per address: no allowance is larger in practice (a site's
/// connections per address are capped well below).
const KEPT_PER_ADDRESS: usize = 256;

pub struct SlowMode {
    /// sender key -> when their last message was accepted.
    by_sender: LruMap<String, u64>,
    /// address -> when its latest messages were accepted, oldest first.
    by_address: LruMap<String, VecDeque<u64>>,
}

impl Default for SlowMode {
    fn default() -> Self {
        SlowMode {
            by_sender: LruMap::new(MEMORY),
            by_address: LruMap::new(MEMORY),
        }
    }
}

impl SlowMode {
    /// How long `member` must wait before their next message, in ms, under
    /// an interval of `interval` ms, when their address's anonymous members
    /// hold `allowance` connections; `None` when they may send now.
    pub fn wait(&self, member: &Member, interval: u64, allowance: u32, now: u64) -> Option<u64> {
        if interval == 0 || member.moderates() {
            return None;
        }
        let recent = |at: &u64| now < at.saturating_add(interval);
        let own = self.by_sender.peek(&member.sender).copied().filter(recent);
        // The address is full when `allowance` messages came within the
        // interval: free again when the oldest of those ages out.
        let allowance = allowance.max(1) as usize;
        let address = anonymous_address(member)
            .and_then(|a| self.by_address.peek(a))
            .and_then(|times| {
                let within: Vec<u64> = times.iter().copied().filter(recent).collect();
                within
                    .len()
                    .checked_sub(allowance)
                    .and_then(|past| within.get(past).copied())
            });
        [own, address]
            .into_iter()
            .flatten()
            .map(|at| at.saturating_add(interval) - now)
            .max()
    }

    /// `member`'s message was accepted at `now`.
    pub fn posted(&mut self, member: &Member, now: u64) {
        self.by_sender.insert(member.sender.clone(), now);
        if let Some(address) = anonymous_address(member) {
            let times = self
                .by_address
                .get_or_insert_with(&address.to_owned(), VecDeque::new);
            times.push_back(now);
            if times.len() > KEPT_PER_ADDRESS {
                times.pop_front();
            }
        }
    }
}

/// The address whose allowance `member` draws on: anonymous members only.
fn anonymous_address(member: &Member) -> Option<&str> {
    member.address.as_deref().filter(|_| !member.verified)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;

    fn member(sender: usize, address: usize, verified: bool) -> Member {
        Member {
            author: format!("a:{sender}"),
            sender: format!("s{sender}"),
            name: "x".into(),
            verified,
            role: None,
            v1: true,
            address: Some(format!("ip{address}")),
            limits: Limits::default(),
        }
    }

    proptest::proptest! {
        /// Whatever keys and addresses a crowd posts from, and however many
        /// are connected at each: no member more than once, no address's
        /// anonymous members more than their connections there, in any
        /// interval; and a refusal says exactly how long to wait.
        #[test]
        fn no_key_or_address_gets_more_than_its_share(
            posts in proptest::collection::vec(
                (0usize..6, 0usize..3, proptest::bool::ANY, 0u32..4, 0u64..4_000),
                1..80,
            )
        ) {
            const INTERVAL: u64 = 10_000;
            let mut slow = SlowMode::default();
            let mut now = 1_000_000;
            let mut accepted: Vec<(Member, u64)> = Vec::new();
            for (sender, address, verified, connected, step) in posts {
                now += step;
                let m = member(sender, address, verified);
                let recent = |same: &dyn Fn(&Member) -> bool| accepted
                    .iter()
                    .filter(|(a, at)| same(a) && now < at + INTERVAL)
                    .count();
                let own = recent(&|a| a.sender == m.sender);
                let from_address = recent(&|a| !a.verified && a.address == m.address);
                let may = own == 0 && (m.verified || from_address < connected.max(1) as usize);
                match slow.wait(&m, INTERVAL, connected, now) {
                    None => {
                        proptest::prop_assert!(may, "let through over its share");
                        slow.posted(&m, now);
                        accepted.push((m, now));
                    }
                    Some(wait) => {
                        proptest::prop_assert!(!may, "held back within its share");
                        proptest::prop_assert!(slow.wait(&m, INTERVAL, connected, now + wait - 1).is_some());
                        proptest::prop_assert!(slow.wait(&m, INTERVAL, connected, now + wait).is_none());
                    }
                }
            }
        }
    }

    #[test]
    fn moderators_and_an_interval_of_zero_are_never_slowed() {
        let mut slow = SlowMode::default();
        let mut mo = member(1, 1, true);
        mo.role = Some(crate::message::Role::Moderator);
        slow.posted(&mo, 1);
        assert_eq!(slow.wait(&mo, 10_000, 1, 2), None);
        let visitor = member(2, 1, false);
        slow.posted(&visitor, 1);
        assert_eq!(slow.wait(&visitor, 0, 1, 2), None);
        assert_eq!(slow.wait(&visitor, 10_000, 5, 2), Some(9_999));
    }

    #[test]
    fn ten_people_behind_one_address_each_get_a_message_in() {
        let mut slow = SlowMode::default();
        for i in 0..10 {
            let m = member(i, 7, false);
            assert_eq!(
                slow.wait(&m, 10_000, 10, 100 + i as u64),
                None,
                "person {i}"
            );
            slow.posted(&m, 100 + i as u64);
        }
        assert!(slow.wait(&member(10, 7, false), 10_000, 10, 200).is_some());
    }
}
