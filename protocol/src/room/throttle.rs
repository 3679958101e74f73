//! The room's rate limits, in bounded memory.
//!
//! Every limit is a token bucket in one [`LruMap`]: a flood of new keys drops
//! the least recently used buckets, never the ones in use, and never all of
//! them at once. Buckets live in the object's memory: after hibernation they
//! start full, which is right (an evicted room was idle).

use crate::address::{network_of, NETWORK_FACTOR};
use crate::limits::{
    Limits, HISTORY_BURST, HISTORY_PER_SEC, JOIN_BURST_EXTRA, JOIN_PER_SEC, MAX_BUCKETS,
    RECEIPT_BURST, RECEIPT_PER_SEC, TYPING_INTERVAL_MS,
};
use crate::lru::LruMap;
use crate::rate_limit::TokenBucket;
use crate::report::{REPORT_BURST, REPORT_REFILL_SECS};

use super::member::Member;

pub struct Throttles {
    buckets: LruMap<String, TokenBucket>,
}

impl Default for Throttles {
    fn default() -> Self {
        Throttles {
            buckets: LruMap::new(MAX_BUCKETS),
        }
    }
}

impl Throttles {
    fn bucket(&mut self, key: String, burst: u32, per_sec: f64, now: u64) -> &mut TokenBucket {
        self.buckets
            .get_or_insert_with(&key, || TokenBucket::new(burst, per_sec, now as f64))
    }

    fn take(&mut self, key: String, burst: u32, per_sec: f64, now: u64) -> bool {
        self.bucket(key, burst, per_sec, now).try_take(now as f64)
    }

    /// One token from `member`'s own bucket and, for anonymous members with
    /// a known address, one from the address's bucket and one from its
    /// network's ([`NETWORK_FACTOR`] addresses' worth): all or nothing.
    fn take_pair(
        &mut self,
        kind: char,
        member: &Member,
        own: (u32, f64),
        address: (u32, f64),
        now: u64,
    ) -> bool {
        let own_key = format!("{kind}:{}", member.author);
        if !self.take(own_key.clone(), own.0, own.1, now) {
            return false;
        }
        let Some(ip) = member.address.as_ref().filter(|_| !member.verified) else {
            return true;
        };
        let ip_key = format!("{kind}:ip:{ip}");
        let mut taken = self.take(ip_key.clone(), address.0, address.1, now);
        if let (true, Some(net)) = (taken, network_of(ip)) {
            let (burst, per_sec) = (
                address.0.saturating_mul(NETWORK_FACTOR),
                address.1 * f64::from(NETWORK_FACTOR),
            );
            taken = self.take(format!("{kind}:net:{net}"), burst, per_sec, now);
            if !taken {
                self.refund(&ip_key);
            }
        }
        if !taken {
            self.refund(&own_key);
        }
        taken
    }

    fn refund(&mut self, key: &str) {
        if let Some(b) = self.buckets.get_mut(key) {
            b.refund();
        }
    }

    /// A message, under the site's sender and address limits.
    pub fn take_message(&mut self, member: &Member, now: u64) -> bool {
        let l = member.limits;
        self.take_pair(
            'm',
            member,
            (l.rate_burst, l.rate_per_sec),
            (l.address_burst, l.address_per_sec),
            now,
        )
    }

    /// A `history` request.
    pub fn take_history(&mut self, member: &Member, now: u64) -> bool {
        let own = (HISTORY_BURST, HISTORY_PER_SEC);
        self.take_pair(
            'h',
            member,
            own,
            (
                HISTORY_BURST * ADDRESS_FACTOR,
                HISTORY_PER_SEC * f64::from(ADDRESS_FACTOR),
            ),
            now,
        )
    }

    /// Any frame at all: a budget far above what a client sends (its
    /// messages' limits, times 20, plus room for a resent outbox, typing and
    /// reads), so that a flood of frames the room refuses one by one (each
    /// still parsed and answered) ends with the connection.
    pub fn take_frame(&mut self, member: &Member, now: u64) -> bool {
        let l = member.limits;
        let budget = |burst: u32, per_sec: f64, factor: u32| {
            (
                burst.saturating_mul(factor).saturating_add(10 * factor),
                per_sec * f64::from(factor) + f64::from(factor),
            )
        };
        // An address may be a whole office behind one NAT, typing and
        // reading away: five times as generous.
        let address = FRAME_FACTOR * 5;
        self.take_pair(
            'f',
            member,
            budget(l.rate_burst, l.rate_per_sec, FRAME_FACTOR),
            budget(l.address_burst, l.address_per_sec, address),
            now,
        )
    }

    /// Whether to send everyone a read receipt of `member`'s.
    pub fn take_receipt(&mut self, member: &Member, now: u64) -> bool {
        self.take_pair(
            'r',
            member,
            (RECEIPT_BURST, RECEIPT_PER_SEC),
            (
                RECEIPT_BURST * ADDRESS_FACTOR,
                RECEIPT_PER_SEC * f64::from(ADDRESS_FACTOR),
            ),
            now,
        )
    }

    /// A new report (see [`crate::report::REPORT_BURST`]).
    pub fn take_report(&mut self, member: &Member, now: u64) -> bool {
        let per_sec = 1.0 / f64::from(REPORT_REFILL_SECS);
        self.take_pair(
            'p',
            member,
            (REPORT_BURST, per_sec),
            (
                REPORT_BURST * ADDRESS_FACTOR,
                per_sec * f64::from(ADDRESS_FACTOR),
            ),
            now,
        )
    }

    /// A new connection from `address`.
    pub fn take_join(&mut self, address: Option<&str>, limits: &Limits, now: u64) -> bool {
        let burst = limits
            .max_connections_per_address
            .saturating_add(JOIN_BURST_EXTRA);
        let Some(a) = address else { return true };
        let key = format!("j:{a}");
        if !self.take(key.clone(), burst, JOIN_PER_SEC, now) {
            return false;
        }
        let Some(net) = network_of(a) else {
            return true;
        };
        let (burst, per_sec) = (
            burst.saturating_mul(NETWORK_FACTOR),
            JOIN_PER_SEC * f64::from(NETWORK_FACTOR),
        );
        if self.take(format!("j:net:{net}"), burst, per_sec, now) {
            return true;
        }
        self.refund(&key);
        false
    }

    /// `member`'s message came: their next keystroke starts a new message,
    /// and is told at once (everyone stopped showing them typing).
    pub fn typing_done(&mut self, member: &Member) {
        self.buckets.remove(&format!("t:{}", member.author));
    }

    /// Whether to relay a typing notice: at most one per interval per
    /// sender, and for anonymous members [`ADDRESS_FACTOR`] members' worth
    /// per address (fresh connections under fresh names are not a way to
    /// make the whole room read "… is typing" from one visitor).
    pub fn take_typing(&mut self, member: &Member, now: u64) -> bool {
        // A bucket of one token, refilled once per interval.
        let per_sec = 1000.0 / TYPING_INTERVAL_MS;
        self.take_pair(
            't',
            member,
            (1, per_sec),
            (ADDRESS_FACTOR, per_sec * f64::from(ADDRESS_FACTOR)),
            now,
        )
    }
}

/// An address may hold several members (a household, an office): its
/// `history`, receipt, report and typing buckets are this many members' worth.
const ADDRESS_FACTOR: u32 = 5;
/// Frames a member may send per message their limits allow.
const FRAME_FACTOR: u32 = 20;
