//! What moderators set on a room: lock, slow mode, mutes and bans. Kept in
//! the object's memory and saved to storage (as JSON) whenever it changes,
//! so it survives hibernation and restarts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Most mutes and bans kept (the soonest to expire are dropped first).
pub const MAX_SANCTIONS: usize = 10_000;
/// `until` of a sanction for good.
pub const FOREVER: u64 = u64::MAX;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ban {
    pub until: u64,
    /// Where the banned sender was connected from or last wrote from, as
    /// keyed hashes: anonymous senders get a new sender key by reconnecting
    /// without theirs.
    pub addresses: Vec<String>,
}

/// A mute that follows a muted sender's address (hashed, as for bans) to
/// the new sender keys anonymous visitors get by reloading the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginMute {
    /// The sender key the moderator muted (unmuting it lifts this too).
    pub sender: String,
    pub until: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Sanctions {
    pub locked: bool,
    /// Seconds between two messages of one sender (0 = off).
    pub slow_secs: u64,
    /// sender key -> muted until (ms since the epoch).
    pub mutes: BTreeMap<String, u64>,
    pub bans: BTreeMap<String, Ban>,
    /// Address hash -> the mute it carries, for anonymous members.
    pub muted_origins: BTreeMap<String, OriginMute>,
}

impl Sanctions {
    /// Until when `sender` is muted: by sender key or, for an anonymous
    /// member, by `origin`, where they write from.
    pub fn muted_until(&self, sender: &str, origin: Option<&str>, now: u64) -> Option<u64> {
        let by_origin = origin
            .and_then(|o| self.muted_origins.get(o))
            .map(|m| m.until);
        self.mutes
            .get(sender)
            .copied()
            .into_iter()
            .chain(by_origin)
            .filter(|&until| until > now)
            .max()
    }

    /// Whether a connection of `sender` (from `origin`, its address's hash,
    /// for anonymous members) is banned.
    pub fn banned(&self, sender: &str, origin: Option<&str>, anonymous: bool, now: u64) -> bool {
        self.banned_until(sender, origin, anonymous, now).is_some()
    }

    /// When the ban that keeps `sender` out ends ([`FOREVER`]: never), if
    /// one does: theirs, or (anonymous) one that follows their address.
    pub fn banned_until(
        &self,
        sender: &str,
        origin: Option<&str>,
        anonymous: bool,
        now: u64,
    ) -> Option<u64> {
        let own = self.bans.get(sender).map(|b| b.until);
        let followed = origin.filter(|_| anonymous).and_then(|o| {
            self.bans
                .values()
                .filter(|b| b.addresses.iter().any(|x| x == o))
                .map(|b| b.until)
                .max()
        });
        own.into_iter().chain(followed).filter(|u| *u > now).max()
    }

    /// Bans saved before addresses were hashed hold them plain: hash them
    /// (a hash never has the `.` or `:` of an IPv4 or IPv6 address).
    pub fn hash_plain_addresses(&mut self, hash: impl Fn(&str) -> String) {
        for address in self.bans.values_mut().flat_map(|b| b.addresses.iter_mut()) {
            if address.contains(['.', ':']) {
                *address = hash(address);
            }
        }
    }

    pub fn mute(&mut self, sender: &str, until: u64, origins: Vec<String>, now: u64) {
        self.prune(now);
        for origin in origins {
            // Another member's longer mute of that address
            // stays theirs: this one must not shorten it, nor its unmute
            // lift it.
            let held = self
                .muted_origins
                .get(&origin)
                .is_some_and(|m| m.sender != sender && m.until > until);
            if !held {
                let mute = OriginMute {
                    sender: sender.to_owned(),
                    until,
                };
                self.muted_origins.insert(origin, mute);
            }
        }
        while self.muted_origins.len() > MAX_SANCTIONS {
            let soonest = self
                .muted_origins
                .iter()
                .min_by_key(|(_, m)| m.until)
                .map(|(o, _)| o.clone());
            if let Some(o) = soonest {
                self.muted_origins.remove(&o);
            }
        }
        self.mutes.insert(sender.to_owned(), until);
        while self.mutes.len() > MAX_SANCTIONS {
            let soonest = self
                .mutes
                .iter()
                .min_by_key(|(_, u)| **u)
                .map(|(s, _)| s.clone());
            if let Some(s) = soonest {
                self.mutes.remove(&s);
            }
        }
    }

    pub fn ban(&mut self, sender: &str, until: u64, addresses: Vec<String>, now: u64) {
        self.prune(now);
        self.bans
            .insert(sender.to_owned(), Ban { until, addresses });
        while self.bans.len() > MAX_SANCTIONS {
            let soonest = self
                .bans
                .iter()
                .min_by_key(|(_, b)| b.until)
                .map(|(s, _)| s.clone());
            if let Some(s) = soonest {
                self.bans.remove(&s);
            }
        }
    }

    /// Lift `sender`'s mute, and the one that followed their address.
    pub fn unmute(&mut self, sender: &str) {
        self.mutes.remove(sender);
        self.muted_origins.retain(|_, m| m.sender != sender);
    }

    /// Forget what has expired.
    pub fn prune(&mut self, now: u64) {
        self.mutes.retain(|_, until| *until > now);
        self.muted_origins.retain(|_, m| m.until > now);
        self.bans.retain(|_, b| b.until > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutes_and_bans_expire_and_bans_follow_the_address_of_anonymous_senders() {
        let mut s = Sanctions::default();
        s.mute("a", 100, vec!["hash-a".into()], 0);
        assert_eq!(s.muted_until("a", None, 50), Some(100));
        assert_eq!(s.muted_until("a", None, 100), None);
        assert_eq!(
            s.muted_until("reloaded", Some("hash-a"), 50),
            Some(100),
            "same address, new key"
        );
        assert_eq!(s.muted_until("reloaded", Some("hash-b"), 50), None);
        s.unmute("a");
        assert_eq!(s.muted_until("reloaded", Some("hash-a"), 50), None);
        s.ban("b", FOREVER, vec!["192.0.2.1".into()], 0);
        s.hash_plain_addresses(|a| format!("h{}", a.len()));
        assert_eq!(s.bans["b"].addresses, ["h9"], "a ban saved before hashing");
        assert!(s.banned("b", None, false, 1 << 50));
        assert!(
            s.banned("new-anonymous-key", Some("h9"), true, 5),
            "same address, new key"
        );
        assert!(!s.banned("new-anonymous-key", Some("h10"), true, 5));
        assert!(
            !s.banned("verified-user", Some("h9"), false, 5),
            "verified users are banned by identity only"
        );
        s.ban("c", 10, vec![], 0);
        s.prune(20);
        assert!(!s.bans.contains_key("c"));
    }
}
