//! What the site's owner sees of a room's moderation at a glance
//! (`GET /v1/sites/{site}/rooms/{room}`, the moderation console): whether it
//! is locked, its slow mode, the message pinned, and who is muted or banned
//! until when. Members learn these from `welcome` and `moderation` events;
//! the site's server had no way to read them back.

use crate::message::ChatMessage;

use super::{RoomCore, Store, StoreError};

pub use crate::server_frame::Sanction;

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
        let (muted, banned) = self.in_force(now);
        Ok(Overview {
            locked: self.state.sanctions.locked,
            slow_mode: self.state.sanctions.slow_secs,
            pinned: self.pinned(now, store)?,
            muted,
            banned,
        })
    }

    /// The mutes and the bans in force at `now`, soonest to end first.
    pub(super) fn in_force(&self, now: u64) -> (Vec<Sanction>, Vec<Sanction>) {
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
        (
            in_force(&mut sanctions.mutes.iter().map(|(s, u)| (s, *u))),
            in_force(&mut sanctions.bans.iter().map(|(s, b)| (s, b.until))),
        )
    }
}
