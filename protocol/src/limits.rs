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
    /// Most simultaneous connections in one room.
    pub max_connections: u32,
    /// Messages a room keeps; older ones are deleted by the room's alarm.
    pub retention: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_chars: 2000,
            rate_burst: 20,
            rate_per_sec: 5.0,
            max_connections: 1000,
            retention: 10_000,
        }
    }
}

/// Upper bounds on what a site may configure, so one tenant cannot take more
/// than its share of a room object.
pub const LIMITS_CEILING: Limits = Limits {
    max_message_chars: 4000,
    rate_burst: 1000,
    rate_per_sec: 1000.0,
    max_connections: 5000,
    retention: 1_000_000,
};

impl Limits {
    /// Clamp every field into `1..=ceiling`, so a stored configuration can never
    /// disable a limit or exceed what the service allows.
    pub fn clamped(self) -> Limits {
        let c = LIMITS_CEILING;
        Limits {
            max_message_chars: self.max_message_chars.clamp(1, c.max_message_chars),
            rate_burst: self.rate_burst.clamp(1, c.rate_burst),
            rate_per_sec: if self.rate_per_sec.is_finite() {
                self.rate_per_sec.clamp(0.01, c.rate_per_sec)
            } else {
                Limits::default().rate_per_sec
            },
            max_connections: self.max_connections.clamp(1, c.max_connections),
            retention: self.retention.clamp(1, c.retention),
        }
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
            max_connections: 0,
            retention: u64::MAX,
        }
        .clamped();
        assert_eq!(wild.max_message_chars, 1);
        assert_eq!(wild.rate_burst, LIMITS_CEILING.rate_burst);
        assert_eq!(wild.rate_per_sec, Limits::default().rate_per_sec);
        assert_eq!(wild.max_connections, 1);
        assert_eq!(wild.retention, LIMITS_CEILING.retention);
        assert_eq!(Limits::default().clamped(), Limits::default());
    }
}
