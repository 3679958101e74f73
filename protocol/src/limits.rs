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
/// Most messages one history frame carries when resuming with `since`;
/// `more: true` tells the client to ask for the rest.
pub const RESUME_HISTORY: usize = 200;
/// Largest `limit` a `history` request may ask for.
pub const MAX_HISTORY_PAGE: usize = 100;
/// Minimum time between two relayed typing notices from one connection.
pub const TYPING_INTERVAL_MS: f64 = 2_000.0;
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
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
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
    max_connections: 5000,
    retention: 1_000_000,
    retention_days: 3650,
};

impl Limits {
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
        }
        .clamped();
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
