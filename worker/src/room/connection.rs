//! What a room remembers about one socket. It lives in the socket's
//! attachment, which survives hibernation (the object's fields do not).

use protocol::client_frame::Dialect;
use protocol::Limits;
use serde::{Deserialize, Serialize};

/// Socket tags: the room fans a frame out once per dialect, by tag, instead
/// of reading every socket's attachment.
pub const TAG_V1: &str = "v1";
pub const TAG_LEGACY: &str = "legacy";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Connection {
    pub name: String,
    /// Idempotency key for client message ids (`user:<sub>` or `anon`).
    pub sender: String,
    /// Rate-limit and typing-throttle key: the verified user, else this socket.
    pub limiter_key: String,
    pub v1: bool,
    pub limits: Limits,
}

impl Connection {
    pub fn dialect(&self) -> Dialect {
        if self.v1 {
            Dialect::V1
        } else {
            Dialect::Legacy
        }
    }

    pub fn tag(&self) -> &'static str {
        if self.v1 {
            TAG_V1
        } else {
            TAG_LEGACY
        }
    }
}
