//! Slow mode: one message per interval per member, and a few per address.
//!
//! A member is known by their sender key, which an anonymous visitor picks:
//! a script reconnecting under a fresh key each time would be a new member
//! every time. So an anonymous member's address (hashed) has an allowance of
//! its own, [`PER_ADDRESS`] messages per interval: a household or an office
//! behind one address still gets a few voices in, one visitor with many keys
//! no more than that. Verified members keep one key whatever they do, and
//! moderators are not slowed at all.

use crate::lru::LruMap;

use super::member::Member;

/// Messages an address's anonymous members may send, together, per interval.
pub const PER_ADDRESS: usize = 3;
/// Senders and addresses remembered (least recently posting forgotten first).
const MEMORY: usize = 10_000;

pub struct SlowMode {
    /// sender key -> when their last message was accepted.
    by_sender: LruMap<String, u64>,
    /// hashed address -> when its last [`PER_ADDRESS`] messages were
    /// accepted, oldest first.
    by_address: LruMap<String, Vec<u64>>,
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
    /// an interval of `interval` ms; `None` when they may send now.
    pub fn wait(&self, member: &Member, interval: u64, now: u64) -> Option<u64> {
        if interval == 0 || member.moderates() {
            return None;
        }
        let own = self.by_sender.peek(&member.sender).copied();
        let address = anonymous_address(member)
            .and_then(|a| self.by_address.peek(a))
            .filter(|times| times.len() >= PER_ADDRESS)
            .and_then(|times| times.first().copied());
        [own, address]
            .into_iter()
            .flatten()
            .map(|last| last.saturating_add(interval))
            .filter(|&free| now < free)
            .max()
            .map(|free| free - now)
    }

    /// `member`'s message was accepted at `now`.
    pub fn posted(&mut self, member: &Member, now: u64) {
        self.by_sender.insert(member.sender.clone(), now);
        if let Some(address) = anonymous_address(member) {
            let times = self
                .by_address
                .get_or_insert_with(&address.to_owned(), Vec::new);
            times.push(now);
            if times.len() > PER_ADDRESS {
                times.remove(0);
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
        /// Whatever keys and addresses a crowd posts from: no member more than
        /// once, no address's anonymous members more than `PER_ADDRESS`
        /// times, in any interval; and a refusal says exactly how long.
        #[test]
        fn no_key_or_address_gets_more_than_its_share(
            posts in proptest::collection::vec((0usize..6, 0usize..3, proptest::bool::ANY, 0u64..4_000), 1..80)
        ) {
            const INTERVAL: u64 = 10_000;
            let mut slow = SlowMode::default();
            let mut now = 1_000_000;
            let mut accepted: Vec<(Member, u64)> = Vec::new();
            for (sender, address, verified, step) in posts {
                now += step;
                let m = member(sender, address, verified);
                let recent = |same: &dyn Fn(&Member) -> bool| accepted
                    .iter()
                    .filter(|(a, at)| same(a) && now < at + INTERVAL)
                    .count();
                let own = recent(&|a| a.sender == m.sender);
                let from_address = recent(&|a| !a.verified && a.address == m.address);
                let may = own == 0 && (m.verified || from_address < PER_ADDRESS);
                match slow.wait(&m, INTERVAL, now) {
                    None => {
                        proptest::prop_assert!(may, "let through over its share");
                        slow.posted(&m, now);
                        accepted.push((m, now));
                    }
                    Some(wait) => {
                        proptest::prop_assert!(!may, "held back within its share");
                        proptest::prop_assert!(slow.wait(&m, INTERVAL, now + wait - 1).is_some());
                        proptest::prop_assert!(slow.wait(&m, INTERVAL, now + wait).is_none());
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
        assert_eq!(slow.wait(&mo, 10_000, 2), None);
        let visitor = member(2, 1, false);
        slow.posted(&visitor, 1);
        assert_eq!(slow.wait(&visitor, 0, 2), None);
        assert_eq!(slow.wait(&visitor, 10_000, 2), Some(9_999));
    }
}
