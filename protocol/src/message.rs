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
}
