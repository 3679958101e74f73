//! What a room remembers about one socket: the core's [`Member`], kept in the
//! socket's attachment (which survives hibernation; the object's fields do
//! not), and the socket's tags.

use protocol::room::Member;
use worker::WebSocket;

/// Socket tags: the room fans a frame out once per dialect, by tag, instead
/// of reading every socket's attachment; and counts a client address's
/// sockets by its tag.
pub const TAG_V1: &str = "v1";
pub const TAG_LEGACY: &str = "legacy";

pub fn dialect_tag(member: &Member) -> &'static str {
    if member.v1 {
        TAG_V1
    } else {
        TAG_LEGACY
    }
}

pub fn address_tag(address: &str) -> String {
    format!("ip:{address}")
}

/// All of one sender's sockets (a ban closes them).
pub fn sender_tag(sender: &str) -> String {
    format!("s:{sender}")
}

/// Store in the socket's attachment, as one JSON string: reading it back is
/// then a single string copy per frame instead of a crossing per field.
pub fn save(ws: &WebSocket, member: &Member) -> worker::Result<()> {
    ws.serialize_attachment(serde_json::to_string(member)?)
}

pub fn load(ws: &WebSocket) -> Option<Member> {
    let text = ws.deserialize_attachment::<String>().ok()??;
    serde_json::from_str(&text).ok()
}
