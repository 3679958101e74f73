//! A Worker isolate's short memory of registry records (sites, site keys),
//! so the single registry object is not on every connection's path.
//!
//! Sans-IO: the Worker asks [`LookupCache::check`] first; on `None` it asks
//! the registry itself and hands the answer to [`LookupCache::remember`]
//! with the [`Ticket`] it took before asking. A record changed or deleted in
//! this isolate is [`LookupCache::forget`]-ten at once, and an answer from a
//! lookup that was already under way then is not remembered: it may predate
//! the change (a deleted site cached anew for `ttl_ms` after its deletion).

use crate::lookup_budget::LookupBudget;
use crate::lru::LruMap;

/// The answer to a lookup.
#[derive(Debug, PartialEq)]
pub enum Lookup<V> {
    Found(V),
    Unknown,
    /// Too many lookups of ids this isolate does not know; try again later.
    Busy,
}

/// Who asks for a record, for the budget of lookups of ids not known here.
#[derive(Clone, Copy)]
pub enum Asker<'a> {
    /// A caller who proved a key of the site: not a flood of made-up ids,
    /// never held back.
    Proven,
    /// Anyone, from this address (`CF-Connecting-IP`, when there is one):
    /// a flood from one network spends that network's budget
    /// ([`LookupBudget`]).
    From(Option<&'a str>),
}

/// Taken before a registry lookup: which forgets had happened by then.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ticket(u64);

/// Records of one kind seen lately: the known ones apart from unknown ids,
/// so a flood of made-up ids never evicts a real one, and a budget for
/// registry lookups of ids never seen.
pub struct LookupCache<V> {
    ttl_ms: u64,
    known: LruMap<String, (u64, V)>,
    unknown: LruMap<String, u64>,
    misses: LookupBudget,
    /// How many times anything was forgotten. Counted for all ids at once:
    /// forgets are rare (an admin's edit), so a lookup of another id losing
    /// its remember to one costs one more registry call, nothing else.
    forgets: u64,
}

impl<V: Clone> LookupCache<V> {
    /// At most `max_known` records and `max_unknown` unknown ids, each
    /// trusted for `ttl_ms`.
    pub fn new(ttl_ms: u64, max_known: usize, max_unknown: usize) -> Self {
        LookupCache {
            ttl_ms,
            known: LruMap::new(max_known),
            unknown: LruMap::new(max_unknown),
            misses: LookupBudget::new(0.0),
            forgets: 0,
        }
    }

    /// The answer from the cache, or `None`: ask the registry. An expired
    /// known record is asked for again without spending the budget; so is
    /// any id a `Proven` caller asks for.
    pub fn check(&mut self, id: &str, now: u64, asker: Asker) -> Option<Lookup<V>> {
        let known = self
            .known
            .get_mut(id)
            .map(|(exp, v)| (*exp > now, v.clone()));
        match known {
            Some((true, v)) => Some(Lookup::Found(v)),
            Some((false, _)) => None,
            None if self.unknown.get_mut(id).is_some_and(|exp| *exp > now) => Some(Lookup::Unknown),
            None => match asker {
                Asker::From(address) if !self.misses.try_take(address, now as f64) => {
                    Some(Lookup::Busy)
                }
                _ => None,
            },
        }
    }

    /// Take before asking the registry; hand to [`Self::remember`].
    pub fn ticket(&self) -> Ticket {
        Ticket(self.forgets)
    }

    /// The registry's answer for `id` (`None`: no such record), asked at
    /// `now` under `ticket`. Not kept if anything was forgotten since.
    pub fn remember(&mut self, id: &str, found: &Option<V>, now: u64, ticket: Ticket) {
        if ticket != self.ticket() {
            return;
        }
        match found {
            Some(v) => {
                self.unknown.remove(id);
                self.known
                    .insert(id.to_owned(), (now + self.ttl_ms, v.clone()));
            }
            None => {
                self.known.remove(id);
                self.unknown.insert(id.to_owned(), now + self.ttl_ms);
            }
        }
    }

    /// `id` changed or went: ask the registry next time, and keep no answer
    /// from a lookup under way.
    pub fn forget(&mut self, id: &str) {
        self.known.remove(id);
        self.unknown.remove(id);
        self.forgets += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> LookupCache<&'static str> {
        LookupCache::new(10_000, 10, 10)
    }

    #[test]
    fn remembers_an_answer_for_its_time() {
        let mut c = cache();
        assert_eq!(c.check("s", 0, Asker::Proven), None);
        let t = c.ticket();
        c.remember("s", &Some("site"), 0, t);
        assert_eq!(
            c.check("s", 9_999, Asker::Proven),
            Some(Lookup::Found("site"))
        );
        assert_eq!(c.check("s", 10_000, Asker::Proven), None);
        c.remember("x", &None, 0, c.ticket());
        assert_eq!(c.check("x", 5, Asker::Proven), Some(Lookup::Unknown));
    }

    #[test]
    fn a_lookup_under_way_when_the_record_is_forgotten_is_not_remembered() {
        // The registry answered before a deletion; the deleting request
        // forgot the site; then the older answer arrives.
        let mut c = cache();
        c.remember("s", &Some("site"), 0, c.ticket());
        let under_way = c.ticket();
        c.forget("s");
        c.remember("s", &Some("site"), 1, under_way);
        assert_eq!(
            c.check("s", 2, Asker::Proven),
            None,
            "deleted site cached anew"
        );
        // A lookup begun after the forget is remembered again.
        let after = c.ticket();
        c.remember("s", &None, 3, after);
        assert_eq!(c.check("s", 4, Asker::Proven), Some(Lookup::Unknown));
    }

    #[test]
    fn forgetting_clears_known_and_unknown() {
        let mut c = cache();
        c.remember("a", &Some("site"), 0, c.ticket());
        c.remember("b", &None, 0, c.ticket());
        c.forget("a");
        c.forget("b");
        assert_eq!(c.check("a", 1, Asker::Proven), None);
        assert_eq!(c.check("b", 1, Asker::Proven), None);
    }

    #[test]
    fn made_up_ids_spend_the_askers_budget_but_not_a_proven_callers() {
        let mut c = cache();
        let from = Asker::From(Some("192.0.2.1"));
        let busy = (0..200)
            .filter(|i| c.check(&format!("made-up-{i}"), 0, from) == Some(Lookup::Busy))
            .count();
        assert!(busy > 0, "a flood of made-up ids is never held back");
        assert_eq!(c.check("real", 0, Asker::Proven), None);
    }
}
