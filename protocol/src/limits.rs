//! Documented default limits. A site may override some of them (see the
//! sites registry in the worker); everything else is fixed by the protocol.

use serde::{Deserialize, Serialize};

/// Largest WebSocket frame the server reads; bigger frames close the socket with 1009.
pub const MAX_FRAME_BYTES: usize = 16 * 1024;
/// Longest display name, in characters, after cleaning.
pub const MAX_NAME_CHARS: usize = 32;
/// Longest client-generated message id.
pub const MAX_CLIENT_ID_CHARS: usize = 64;
/// Longest room id (`[A-Za-z0-9_-]`).
pub const MAX_ROOM_CHARS: usize = 64;
/// Longest site id (`[a-z0-9-]`).
pub const MAX_SITE_CHARS: usize = 32;
/// Messages in the history frame sent on join (without `since`).
pub const JOIN_HISTORY: usize = 50;
/// Messages sent on join in a live event (past [`BIG_ROOM`] connections):
/// after a deploy every member joins at once, and the page is most of a
/// join's cost.
pub const LIVE_JOIN_HISTORY: usize = 20;
/// Most messages one history frame carries when resuming with `since`;
/// `more: true` tells the client to ask for the rest.
pub const RESUME_HISTORY: usize = 200;
/// Largest `limit` a `history` request may ask for.
pub const MAX_HISTORY_PAGE: usize = 100;
/// Minimum time between two relayed typing notices from one connection.
pub const TYPING_INTERVAL_MS: f64 = 2_000.0;
/// Past this many connections a room is a live event: joins and leaves are
/// no longer announced to everyone (after a deploy every member rejoins at
/// once, and each announcement would cost a send to each of them).
pub const BIG_ROOM: u32 = 500;
/// In a live event a client tells the room its read position at most this
/// often: each `read` is a write on the room's one owner, and thousands of
/// viewers each reporting every message would be most of its load.
pub const LIVE_READ_INTERVAL_MS: f64 = 10_000.0;
/// Read receipts are shared in rooms of at most this many connections (a
/// receipt is a frame to everyone: in a crowd they would be most of the traffic).
pub const RECEIPTS_MAX: u32 = 50;
/// Receipts one member's reading may send everyone: a burst, then this many
/// per second. Reading goes on meanwhile (the room keeps the position, and
/// the next receipt carries it): a member stepping `read` through the
/// history would otherwise cost a frame to every member per step.
pub const RECEIPT_BURST: u32 = 5;
pub const RECEIPT_PER_SEC: f64 = 1.0;
/// Name given to visitors who did not choose one.
pub const ANONYMOUS: &str = "Anonymous";

/// `history` requests one member may make: a burst, then this many per
/// second (a request reads up to 100 rows; unthrottled they would let one
/// member keep the room's CPU busy).
pub const HISTORY_BURST: u32 = 20;
pub const HISTORY_PER_SEC: f64 = 4.0;
/// New connections one address may open in one room: a burst of the site's
/// `max_connections_per_address` plus this, then [`JOIN_PER_SEC`] (a
/// reconnect loop cannot keep the room joining, and every socket of an
/// address can still come back at once after a deploy).
pub const JOIN_BURST_EXTRA: u32 = 10;
pub const JOIN_PER_SEC: f64 = 2.0;
/// Most rate-limit buckets one room keeps in memory; the least recently used
/// is dropped first, so a flood of new keys cannot wipe the others.
pub const MAX_BUCKETS: usize = 10_000;

/// The limits a site may tune. Defaults are what `demo` and new sites get.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
/// Fields it does not know are ignored when read back (a site, a room's
/// state, a ticket written by a newer version); a site's edit is checked
/// for them (`site_config`).
#[serde(default, rename_all = "camelCase")]
pub struct Limits {
    /// Longest message, in characters after trimming.
    pub max_message_chars: usize,
    /// Token bucket: messages a sender may post in a burst.
    pub rate_burst: u32,
    /// Token bucket: messages per second a sender may post on average.
    pub rate_per_sec: f64,
    /// Token bucket shared by every anonymous sender from one client address
    /// (`CF-Connecting-IP`) in a room: a burst, then a rate. Survives
    /// reconnecting, unlike a per-connection bucket.
    pub address_burst: u32,
    pub address_per_sec: f64,
    /// Most simultaneous connections from one address in one room.
    pub max_connections_per_address: u32,
    /// Most simultaneous connections in one room.
    pub max_connections: u32,
    /// Messages a room keeps; older ones are deleted by the room's alarm.
    pub retention: u64,
    /// Days a message is kept (0: no limit by age); older ones are deleted
    /// by the room's alarm, daily.
    pub retention_days: u64,
    /// Largest file a member may attach, in bytes (0: no attachments).
    pub max_file_bytes: u64,
    /// The types of file members may attach.
    pub file_types: FileTypes,
    /// Most bytes of files the site keeps, over all its rooms (an upload
    /// counts once stored); past it, uploads are refused (`storage_full`)
    /// until messages with files go. 0: none are taken.
    pub max_storage_bytes: u64,
}

/// The file types the service knows how to check (by their first bytes).
pub const FILE_TYPES: [&str; 6] = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
];

/// A set of [`FILE_TYPES`], written as a list of their names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileTypes(u8);

impl FileTypes {
    pub const ALL: FileTypes = FileTypes((1 << FILE_TYPES.len()) - 1);

    pub fn allows(self, mime: &str) -> bool {
        FILE_TYPES
            .iter()
            .position(|t| *t == mime)
            .is_some_and(|i| self.0 & (1 << i) != 0)
    }

    pub fn names(self) -> Vec<String> {
        FILE_TYPES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, t)| (*t).to_owned())
            .collect()
    }

    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<FileTypes, String> {
        let mut bits = 0u8;
        for name in names {
            let i = FILE_TYPES.iter().position(|t| *t == name).ok_or_else(|| {
                format!(
                    "unknown file type {name:?}; known: {}",
                    FILE_TYPES.join(", ")
                )
            })?;
            bits |= 1 << i;
        }
        Ok(FileTypes(bits))
    }
}

impl Default for FileTypes {
    fn default() -> Self {
        FileTypes::ALL
    }
}

impl Serialize for FileTypes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(s)
    }
}

impl<'de> Deserialize<'de> for FileTypes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        FileTypes::from_names(names.iter().map(String::as_str)).map_err(serde::de::Error::custom)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_chars: 2000,
            rate_burst: 20,
            rate_per_sec: 5.0,
            address_burst: 30,
            address_per_sec: 5.0,
            max_connections_per_address: 20,
            max_connections: 1000,
            retention: 10_000,
            retention_days: 0,
            max_file_bytes: 10 * 1024 * 1024,
            file_types: FileTypes::ALL,
            max_storage_bytes: 5 * 1024 * 1024 * 1024,
        }
    }
}

/// Upper bounds on what a site may configure, so one tenant cannot take more
/// than its share of a room object.
pub const LIMITS_CEILING: Limits = Limits {
    max_message_chars: 4000,
    rate_burst: 1000,
    rate_per_sec: 1000.0,
    address_burst: 10_000,
    address_per_sec: 1000.0,
    max_connections_per_address: 5000,
    // Past a thousand, a room spreads its sockets over fan-out objects
    // (`shard`); 64 of them at 2,000 each is 128,000.
    max_connections: 100_000,
    retention: 1_000_000,
    retention_days: 3650,
    // The Worker streams an upload into R2 (never whole in memory); 25 MiB
    // keeps one upload short enough for a visitor's connection.
    max_file_bytes: 25 * 1024 * 1024,
    file_types: FileTypes::ALL,
    max_storage_bytes: 1024 * 1024 * 1024 * 1024,
};

impl Limits {
    /// Whether the site takes files at all: a size limit of 0 and an empty
    /// list of types both say no, and both are told and refused alike.
    pub fn takes_files(&self) -> bool {
        self.max_file_bytes > 0 && self.file_types != FileTypes(0)
    }

    /// Clamp every field into `1..=ceiling`, so a stored configuration can never
    /// disable a limit or exceed what the service allows.
    pub fn clamped(self) -> Limits {
        let c = LIMITS_CEILING;
        Limits {
            max_message_chars: self.max_message_chars.clamp(1, c.max_message_chars),
            rate_burst: self.rate_burst.clamp(1, c.rate_burst),
            rate_per_sec: clamp_rate(
                self.rate_per_sec,
                Limits::default().rate_per_sec,
                c.rate_per_sec,
            ),
            address_burst: self.address_burst.clamp(1, c.address_burst),
            address_per_sec: clamp_rate(
                self.address_per_sec,
                Limits::default().address_per_sec,
                c.address_per_sec,
            ),
            max_connections_per_address: self
                .max_connections_per_address
                .clamp(1, c.max_connections_per_address),
            max_connections: self.max_connections.clamp(1, c.max_connections),
            retention: self.retention.clamp(1, c.retention),
            retention_days: self.retention_days.min(c.retention_days),
            max_file_bytes: self.max_file_bytes.min(c.max_file_bytes),
            file_types: self.file_types,
            max_storage_bytes: self.max_storage_bytes.min(c.max_storage_bytes),
        }
    }
}

/// A rate in `0.01..=ceiling`; a non-number becomes `default`.
fn clamp_rate(rate: f64, default: f64, ceiling: f64) -> f64 {
    if rate.is_finite() {
        rate.clamp(0.01, ceiling)
    } else {
        default
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamping_keeps_every_limit_positive_and_bounded() {
        let wild = Limits {
            max_message_chars: 0,
            rate_burst: u32::MAX,
            rate_per_sec: f64::NAN,
            address_burst: 0,
            address_per_sec: f64::INFINITY,
            max_connections_per_address: 0,
            max_connections: 0,
            retention: u64::MAX,
            retention_days: u64::MAX,
            max_file_bytes: u64::MAX,
            file_types: FileTypes::ALL,
            max_storage_bytes: u64::MAX,
        }
        .clamped();
        assert_eq!(wild.max_file_bytes, LIMITS_CEILING.max_file_bytes);
        assert_eq!(wild.max_storage_bytes, LIMITS_CEILING.max_storage_bytes);
        assert_eq!(wild.max_message_chars, 1);
        assert_eq!(wild.rate_burst, LIMITS_CEILING.rate_burst);
        assert_eq!(wild.rate_per_sec, Limits::default().rate_per_sec);
        assert_eq!(wild.max_connections, 1);
        assert_eq!(
            (wild.address_burst, wild.max_connections_per_address),
            (1, 1)
        );
        assert_eq!(wild.address_per_sec, Limits::default().address_per_sec);
        assert_eq!(wild.retention, LIMITS_CEILING.retention);
        assert_eq!(Limits::default().clamped(), Limits::default());
    }
}

#[cfg(test)]
mod file_type_tests {
    use super::*;

    #[test]
    fn file_types_are_a_list_of_known_names() {
        let t: FileTypes = serde_json::from_str(r#"["image/png","text/plain"]"#).unwrap();
        assert!(t.allows("image/png") && t.allows("text/plain") && !t.allows("image/gif"));
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"["image/png","text/plain"]"#
        );
        assert!(serde_json::from_str::<FileTypes>(r#"["application/x-msdownload"]"#).is_err());
        assert!(!FileTypes::ALL.allows("application/zip"));
        assert_eq!(FileTypes::default().names().len(), FILE_TYPES.len());
    }
}
