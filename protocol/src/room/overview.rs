//! What the site's owner sees of a room's moderation at a glance
//! (`GET /v1/sites/{site}/rooms/{room}`, the moderation console): whether it
//! is locked, its slow mode, the message pinned, and who is muted or banned
//! until when. Members learn these from `welcome` and `moderation` events;
//! the site's server had no way to read them back.

use crate::message::ChatMessage;

use super::{RoomCore, Store, StoreError};

/// A mute or ban in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sanction {
    /// The sender key it applies to (as in messages' `sender`).
    pub sender: String,
    /// Ms since the epoch; `None` for good.
    pub until: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Overview {
    pub locked: bool,
    /// Seconds between two messages of one sender (0: off).
    pub slow_mode: u64,
    pub pinned: Option<ChatMessage>,
    /// Soonest to end first; those for good last.
    pub muted: Vec<Sanction>,
    pub banned: Vec<Sanction>,
}

impl RoomCore {
    /// The room's moderation state at `now` (ended mutes and bans left out).
    pub fn overview(&self, now: u64, store: &mut impl Store) -> Result<Overview, StoreError> {
        let sanctions = &self.state.sanctions;
        let in_force = |list: &mut dyn Iterator<Item = (&String, u64)>| {
            let mut out: Vec<Sanction> = list
                .filter(|(_, until)| *until > now)
                .map(|(sender, until)| Sanction {
                    sender: sender.clone(),
                    until: (until != super::sanctions::FOREVER).then_some(until),
                })
                .collect();
            out.sort_by_key(|s| (s.until.unwrap_or(u64::MAX), s.sender.clone()));
            out
        };
        Ok(Overview {
            locked: sanctions.locked,
            slow_mode: sanctions.slow_secs,
            pinned: self.pinned(now, store)?,
            muted: in_force(&mut sanctions.mutes.iter().map(|(s, u)| (s, *u))),
            banned: in_force(&mut sanctions.bans.iter().map(|(s, b)| (s, b.until))),
        })
    }
}
