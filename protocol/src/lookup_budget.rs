//! How many lookups of ids it does not know a Worker isolate sends to the
//! single registry object. A made-up site or key id costs a registry
//! lookup, so a flood of them is held back; but the registry cannot tell a
//! made-up id from a real one it has not cached yet, so a flood from one
//! client must not hold back everyone else's first lookup. Each client
//! network (an IPv4 address, an IPv6 /48: what one subscriber may hold) has
//! a budget of its own, and all of them share one that protects the
//! registry.

use std::net::{IpAddr, Ipv6Addr};

use crate::address::address_key;
use crate::lru::LruMap;
use crate::rate_limit::TokenBucket;

/// For the registry, from every caller: after a burst, per second (twice
/// what the isolate allowed before there were budgets per network: a
/// distributed flood reaches the one registry object at most this fast from
/// each isolate).
const ALL_BURST: u32 = 100;
const ALL_PER_SEC: f64 = 40.0;
/// For one client address: what the isolate allowed everyone before, so no
/// honest client (a NAT of many visitors, a backend starting) notices it.
const ADDRESS_BURST: u32 = 50;
const ADDRESS_PER_SEC: f64 = 20.0;
/// Addresses remembered; the least recently seen goes first.
const MAX_ADDRESSES: usize = 10_000;

pub struct LookupBudget {
    all: TokenBucket,
    by_address: LruMap<String, TokenBucket>,
}

impl LookupBudget {
    pub fn new(now_ms: f64) -> Self {
        LookupBudget {
            all: TokenBucket::new(ALL_BURST, ALL_PER_SEC, now_ms),
            by_address: LruMap::new(MAX_ADDRESSES),
        }
    }

    /// Whether a lookup asked from `address` (`CF-Connecting-IP`; `None`
    /// when unknown) may go to the registry now. A client past its own
    /// budget spends nothing of the shared one, and one the shared budget
    /// refuses keeps its own.
    pub fn try_take(&mut self, address: Option<&str>, now_ms: f64) -> bool {
        let Some(address) = address else {
            return self.all.try_take(now_ms);
        };
        let own = self.by_address.get_or_insert_with(&network(address), || {
            TokenBucket::new(ADDRESS_BURST, ADDRESS_PER_SEC, now_ms)
        });
        if !own.try_take(now_ms) {
            return false;
        }
        if self.all.try_take(now_ms) {
            return true;
        }
        own.refund();
        false
    }
}

/// The network `raw` counts for: an IPv6 address by its /48, as a
/// subscriber is often given a /48 or a /56 (a /64 each would let one
/// subscriber be a crowd); anything else as [`address_key`] has it.
fn network(raw: &str) -> String {
    match raw.trim().parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            let prefix = Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
            format!("{prefix}/48")
        }
        _ => address_key(raw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn takes(budget: &mut LookupBudget, address: Option<&str>, tries: u32, now: f64) -> u32 {
        (0..tries).filter(|_| budget.try_take(address, now)).count() as u32
    }

    #[test]
    fn one_network_flooding_spends_its_own_budget_not_everyone_elses() {
        let mut budget = LookupBudget::new(0.0);
        let flooder = Some("203.0.113.9");
        assert_eq!(takes(&mut budget, flooder, 10_000, 0.0), ADDRESS_BURST);
        // Another client's first lookups still go, at the same instant.
        assert!(budget.try_take(Some("198.51.100.7"), 0.0));
        assert!(budget.try_take(Some("2001:db8:5:7::1"), 0.0));
        // The same IPv6 subscriber from another /64 of its /48 is the same
        // network: it has what is left of its own budget.
        let v6 = takes(&mut budget, Some("2001:db8:5:8::2"), 10, 0.0);
        assert_eq!(v6, 10);
        // The flooder gets lookups again as its budget refills.
        assert!(!budget.try_take(flooder, 10.0));
        assert!(budget.try_take(flooder, 1000.0));
    }

    #[test]
    fn many_networks_together_are_held_to_the_registrys_budget() {
        let mut budget = LookupBudget::new(0.0);
        let crowd: u32 = (0..250)
            .map(|i| takes(&mut budget, Some(&format!("192.0.2.{i}")), 20, 0.0))
            .sum();
        assert_eq!(crowd, ALL_BURST);
        assert_eq!(
            takes(&mut budget, None, 1000, 0.0),
            0,
            "no address: the shared budget"
        );
        // Refused by the shared budget, a newcomer keeps its own for later.
        let newcomer = Some("198.51.100.7");
        assert_eq!(takes(&mut budget, newcomer, ADDRESS_BURST * 2, 0.0), 0);
        let later = takes(&mut budget, newcomer, ADDRESS_BURST, 60_000.0);
        assert_eq!(later, ADDRESS_BURST, "its own budget is whole");
    }
}
