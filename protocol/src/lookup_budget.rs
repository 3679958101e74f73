//! How many lookups of ids it does not know a Worker isolate sends to the
//! single registry object. A made-up site or key id costs a registry
//! lookup, so a flood of them is held back; but the registry cannot tell a
//! made-up id from a real one it has not cached yet, so a flood from one
//! client must not hold back everyone else's first lookup. Each client
//! address (by [`crate::address::address_key`]) has a budget of its own, and
//! all of them share one that protects the registry.

use crate::address::address_key;
use crate::lru::LruMap;
use crate::rate_limit::TokenBucket;

/// For the registry, from every caller: after a burst, per second (a
/// registry lookup is one indexed read; the object takes hundreds a second).
const ALL_BURST: u32 = 200;
const ALL_PER_SEC: f64 = 100.0;
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
    /// budget spends nothing of the shared one.
    pub fn try_take(&mut self, address: Option<&str>, now_ms: f64) -> bool {
        if let Some(address) = address {
            let own = self
                .by_address
                .get_or_insert_with(&address_key(address), || {
                    TokenBucket::new(ADDRESS_BURST, ADDRESS_PER_SEC, now_ms)
                });
            if !own.try_take(now_ms) {
                return false;
            }
        }
        self.all.try_take(now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_flooding_spends_its_own_budget_not_everyone_elses() {
        let mut budget = LookupBudget::new(0.0);
        let taken = (0..10_000)
            .filter(|_| budget.try_take(Some("203.0.113.9"), 0.0))
            .count();
        assert_eq!(taken, ADDRESS_BURST as usize);
        // Another client's first lookups still go, at the same instant.
        assert!(budget.try_take(Some("198.51.100.7"), 0.0));
        assert!(budget.try_take(Some("2001:db8:5:7::1"), 0.0));
        // The same IPv6 subscriber under another address of its /64 does not.
        let v6 = (0..100)
            .filter(|_| budget.try_take(Some("2001:db8:5:7::2"), 0.0))
            .count();
        assert_eq!(v6, ADDRESS_BURST as usize - 1);
        // The flooder gets lookups again as its budget refills.
        assert!(!budget.try_take(Some("203.0.113.9"), 10.0));
        assert!(budget.try_take(Some("203.0.113.9"), 1000.0));
    }

    #[test]
    fn many_addresses_together_are_held_to_the_registrys_budget() {
        let mut budget = LookupBudget::new(0.0);
        let taken = (0..5000)
            .filter(|i| budget.try_take(Some(&format!("192.0.2.{}", i % 250)), 0.0))
            .count();
        assert_eq!(taken, ALL_BURST as usize);
        let unknown = (0..1000).filter(|_| budget.try_take(None, 0.0)).count();
        assert_eq!(
            unknown, 0,
            "a caller without an address shares the registry's"
        );
        assert!(budget.try_take(None, 1000.0));
    }
}
