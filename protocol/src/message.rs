//! A stored chat message as it travels to clients.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Position in the room, assigned by the room: 1, 2, 3, ... never reused.
    pub seq: u64,
    /// The sender's client-generated id (or one the server made).
    pub id: String,
    pub name: String,
    pub message: String,
    /// Milliseconds since the Unix epoch, set by the server.
    pub timestamp: u64,
    /// The sender's opaque key: the same for every message of one sender in
    /// this room, unrelated to their identity, and impossible for anyone else
    /// to post under. Clients tell their own messages by it, never by name.
    pub sender: String,
    /// Sent under a signed identity (a site's token), not anonymously.
    pub verified: bool,
}
