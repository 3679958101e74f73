//! What a room remembers about one socket. It lives in the socket's
//! attachment, which survives hibernation (the object's fields do not).

use protocol::client_frame::Dialect;
use protocol::Limits;
use serde::{Deserialize, Serialize};
use worker::WebSocket;

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

impl Connection {
    /// Store in the socket's attachment, as one JSON string: reading it back
    /// is then a single string copy per frame instead of a crossing per field.
    pub fn save(&self, ws: &WebSocket) -> worker::Result<()> {
        ws.serialize_attachment(serde_json::to_string(self)?)
    }

    pub fn load(ws: &WebSocket) -> Option<Connection> {
        let text = ws.deserialize_attachment::<String>().ok()??;
        serde_json::from_str(&text).ok()
    }
}
