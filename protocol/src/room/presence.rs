//! Who is in the room, per sender: the list `welcome` carries and presence
//! frames keep current. Kept in the object's memory and rebuilt from the
//! sockets' attachments when the object wakes from hibernation.

use std::collections::{BTreeMap, HashMap};

use crate::message::Role;
use crate::server_frame::PresenceMember;

use super::member::Member;

/// Most members listed in `welcome` (the count covers everyone).
pub const MAX_LISTED: usize = 100;

#[derive(Debug, Default, Clone)]
pub struct Presence {
    /// sender key -> who, with their connections' addresses (for bans).
    members: BTreeMap<String, (PresenceMember, Vec<Option<String>>)>,
    /// Connections of every member (asked on every frame in a crowd).
    connections: u32,
    /// address -> connections of anonymous members from there (slow mode).
    anonymous_at: HashMap<String, u32>,
}

impl Presence {
    fn entry(m: &Member) -> PresenceMember {
        PresenceMember {
            sender: m.sender.clone(),
            name: m.name.clone(),
            verified: m.verified,
            role: m.role,
            connections: 0,
        }
    }

    /// A connection of `m` arrived; returns the member as listed now.
    pub fn add(&mut self, m: &Member) -> PresenceMember {
        let (entry, addresses) = self
            .members
            .entry(m.sender.clone())
            .or_insert_with(|| (Self::entry(m), Vec::new()));
        entry.connections += 1;
        self.connections += 1;
        // The newest connection's name wins (a verified user may be renamed by their site).
        entry.name = m.name.clone();
        addresses.push(m.address.clone());
        if let Some(a) = m.address.as_ref().filter(|_| !m.verified) {
            *self.anonymous_at.entry(a.clone()).or_default() += 1;
        }
        entry.clone()
    }

    /// A connection of `m` left; returns the member as listed now (with
    /// `connections == 0` when it was their last).
    pub fn remove(&mut self, m: &Member) -> PresenceMember {
        let Some((entry, addresses)) = self.members.get_mut(&m.sender) else {
            return Self::entry(m);
        };
        if entry.connections > 0 {
            entry.connections -= 1;
            self.connections -= 1;
        }
        if let Some(i) = addresses.iter().position(|a| *a == m.address) {
            addresses.remove(i);
            if let Some(a) = m.address.as_ref().filter(|_| !m.verified) {
                if let Some(n) = self.anonymous_at.get_mut(a) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        self.anonymous_at.remove(a);
                    }
                }
            }
        }
        let now = entry.clone();
        if now.connections == 0 {
            self.members.remove(&m.sender);
        }
        now
    }

    /// The first [`MAX_LISTED`] members.
    pub fn list(&self) -> Vec<PresenceMember> {
        self.members
            .values()
            .take(MAX_LISTED)
            .map(|(m, _)| m.clone())
            .collect()
    }

    pub fn role(&self, sender: &str) -> Option<Role> {
        self.members.get(sender).and_then(|(m, _)| m.role)
    }

    pub fn name(&self, sender: &str) -> Option<String> {
        self.members.get(sender).map(|(m, _)| m.name.clone())
    }

    /// Whether `sender` is here as a verified user.
    pub fn verified(&self, sender: &str) -> bool {
        self.members.get(sender).is_some_and(|(m, _)| m.verified)
    }

    /// The addresses `sender` is connected from.
    pub fn addresses(&self, sender: &str) -> Vec<String> {
        self.members
            .get(sender)
            .map(|(_, a)| a.iter().flatten().cloned().collect())
            .unwrap_or_default()
    }

    /// Anonymous members connected from one of `origins` (addresses as
    /// `hash` makes them), each with the first such origin.
    pub fn anonymous_from(
        &self,
        origins: &[String],
        hash: impl Fn(&str) -> String,
    ) -> Vec<(String, String)> {
        self.members
            .iter()
            .filter(|(_, (m, _))| !m.verified)
            .filter_map(|(sender, (_, addresses))| {
                let origin = addresses
                    .iter()
                    .flatten()
                    .map(|a| hash(a))
                    .find(|o| origins.contains(o))?;
                Some((sender.clone(), origin))
            })
            .collect()
    }

    /// Connections of every member.
    pub fn connections(&self) -> u32 {
        self.connections
    }

    /// Connections of anonymous members from `address` now.
    pub fn anonymous_at(&self, address: &str) -> u32 {
        self.anonymous_at.get(address).copied().unwrap_or(0)
    }

    pub fn clear(&mut self) {
        self.members.clear();
        self.connections = 0;
        self.anonymous_at.clear();
    }
}

/// A live event's count is told at most this often.
pub(crate) const LIVE_COUNT_EVERY_MS: u64 = 10_000;

/// A live event announces no joins and leaves, so its count would stay what
/// each member saw on joining, stale by hundreds. It is told on its own
/// instead: with the first join, leave or message at least
/// [`LIVE_COUNT_EVERY_MS`] after the last telling, if it changed. That is
/// no timer to wake the room, and in a crowd something happens every second.
#[derive(Debug, Default, Clone)]
pub(crate) struct LiveCount {
    told: u32,
    at: Option<u64>,
}

impl LiveCount {
    /// Whether `online` is to be told now; if so, it counts as told.
    pub fn due(&mut self, online: u32, now: u64) -> bool {
        let waited = self
            .at
            .is_none_or(|at| now >= at.saturating_add(LIVE_COUNT_EVERY_MS));
        if online == self.told || !waited {
            return false;
        }
        self.told = online;
        self.at = Some(now);
        true
    }

    /// Members heard `online` another way (a small room's `presence`
    /// frame, with a name): not to be told again until it changes.
    pub fn heard(&mut self, online: u32) {
        self.told = online;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_count_is_told_when_changed_and_at_most_every_ten_seconds() {
        let mut count = LiveCount::default();
        assert!(count.due(501, 1_000));
        assert!(!count.due(502, 1_000 + LIVE_COUNT_EVERY_MS - 1));
        assert!(count.due(502, 1_000 + LIVE_COUNT_EVERY_MS));
        // Unchanged: nothing to tell, however long it has been.
        assert!(!count.due(502, 100 * LIVE_COUNT_EVERY_MS));
        assert!(count.due(480, 100 * LIVE_COUNT_EVERY_MS));
    }
}
