//! A map with a fixed capacity that forgets its least recently used entry
//! when full.
//!
//! Rooms keep rate-limit buckets and the Worker keeps site lookups in one of
//! these: memory stays bounded whatever a flood of new keys does, and the
//! entries in active use are the last to go (clearing the whole map when it
//! filled up, as before, let a flood of new keys reset everyone's limits).

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

#[derive(Debug, Clone)]
pub struct LruMap<K, V> {
    capacity: usize,
    /// key -> (value, last use)
    entries: HashMap<K, (V, u64)>,
    /// last use -> key: the first entry is the least recently used.
    by_use: BTreeMap<u64, K>,
    clock: u64,
}

impl<K: Hash + Eq + Clone, V> LruMap<K, V> {
    pub fn new(capacity: usize) -> Self {
        LruMap {
            capacity: capacity.max(1),
            entries: HashMap::new(),
            by_use: BTreeMap::new(),
            clock: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// The value for `key`, marked as just used.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let now = self.tick();
        let (value, used) = self.entries.get_mut(key)?;
        if let Some(k) = self.by_use.remove(used) {
            self.by_use.insert(now, k);
        }
        *used = now;
        Some(value)
    }

    /// The value for `key`, without marking it used.
    pub fn peek<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entries.get(key).map(|(v, _)| v)
    }

    /// The value for `key`, inserted with `make()` if absent (evicting the
    /// least recently used entry if the map is full), marked as just used.
    pub fn get_or_insert_with(&mut self, key: &K, make: impl FnOnce() -> V) -> &mut V {
        if !self.entries.contains_key(key) {
            self.evict_if_full();
        }
        let now = self.tick();
        // Last use 0 marks a new entry (the clock starts at 1).
        let slot = self
            .entries
            .entry(key.clone())
            .or_insert_with(|| (make(), 0));
        self.by_use.remove(&slot.1);
        self.by_use.insert(now, key.clone());
        slot.1 = now;
        &mut slot.0
    }

    fn evict_if_full(&mut self) {
        if self.entries.len() >= self.capacity {
            if let Some((_, oldest)) = self.by_use.pop_first() {
                self.entries.remove(&oldest);
            }
        }
    }

    /// Insert or replace; evicts the least recently used entry if full.
    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, (v, _))| (k, v))
    }

    pub fn insert(&mut self, key: K, value: V) {
        self.remove(&key);
        self.get_or_insert_with(&key, || value);
    }

    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let (value, used) = self.entries.remove(key)?;
        self.by_use.remove(&used);
        Some(value)
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.by_use.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used() {
        let mut m = LruMap::new(2);
        m.insert("a", 1);
        m.insert("b", 2);
        assert_eq!(m.get_mut("a"), Some(&mut 1), "a is now the most recent");
        m.insert("c", 3);
        assert_eq!(
            (m.peek("a"), m.peek("b"), m.peek("c")),
            (Some(&1), None, Some(&3))
        );
        *m.get_or_insert_with(&"d", || 4) += 10;
        assert_eq!(
            (m.peek("a"), m.peek("c"), m.peek("d")),
            (None, Some(&3), Some(&14))
        );
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn a_flood_of_new_keys_never_evicts_a_key_in_use() {
        let mut m = LruMap::new(100);
        m.insert("keep".to_owned(), 0);
        for i in 0..10_000 {
            m.insert(format!("flood-{i}"), i);
            if i % 50 == 0 {
                m.get_mut("keep").expect("kept while in use");
            }
        }
        assert!(m.peek("keep").is_some());
        assert_eq!(m.len(), 100);
        assert_eq!(m.remove("keep"), Some(0));
        assert_eq!(m.len(), 99);
    }
}
