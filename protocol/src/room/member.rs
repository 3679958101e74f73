//! Who is on a connection, as decided when it joined. The Durable Object
//! keeps it in the socket's attachment (it survives hibernation) and hands
//! it back to the core with every frame.

use serde::{Deserialize, Serialize};

use crate::client_frame::Dialect;
use crate::limits::Limits;
use crate::message::Role;

use super::policy::RoomPolicy;

/// A signed identity, already verified by the Worker (see `jwt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedUser {
    pub sub: String,
    /// The token's `name` claim; without one the member is shown as
    /// "Anonymous", never by `sub` (often an e-mail address).
    pub name: Option<String>,
    /// `moderator` when the token says so.
    #[serde(default)]
    pub role: Option<Role>,
}

/// What a connection asks for when it joins.
#[derive(Debug, Clone)]
pub struct JoinRequest {
    /// The display name the client asked for (ignored with a verified identity).
    pub name: String,
    pub user: Option<VerifiedUser>,
    /// An anonymous sender key credential from an earlier `welcome`.
    pub sender_key: Option<String>,
    /// The client's address (`CF-Connecting-IP`), for per-address limits.
    pub address: Option<String>,
    pub dialect: Dialect,
    /// Resume after this seq instead of receiving the latest page.
    pub since: Option<u64>,
    /// A returning client's read position (see [`crate::connect::ConnectParams::read`]).
    pub read: Option<u64>,
    /// The site's limits.
    pub limits: Limits,
    /// The site's moderation policy (the room keeps the latest it was given).
    pub policy: RoomPolicy,
    /// The version of the site's rules (`limits` and `policy`): its
    /// `updatedAt`. The room keeps the newest it was given.
    pub version: u64,
    /// 16 fresh random bytes, for a new anonymous sender key.
    pub entropy: [u8; 16],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// Internal sender scope (`u:<sub>` or `a:<id>`), never sent to clients.
    pub author: String,
    /// Public opaque sender key, as frames carry it.
    pub sender: String,
    pub name: String,
    pub verified: bool,
    #[serde(default)]
    pub role: Option<Role>,
    pub v1: bool,
    pub address: Option<String>,
    pub limits: Limits,
}

impl Member {
    pub fn dialect(&self) -> Dialect {
        if self.v1 {
            Dialect::V1
        } else {
            Dialect::Legacy
        }
    }

    /// Moderators (and the site's own bots) may moderate, and are exempt
    /// from lock, slow mode and the edit window.
    pub fn moderates(&self) -> bool {
        self.role.is_some()
    }
}
