//! What a room remembers about one socket: the core's [`Member`], kept in the
//! socket's attachment (which survives hibernation; the object's fields do
//! not), and the socket's tags.

use protocol::error::close_code;
use protocol::limits::MAX_FRAME_BYTES;
use protocol::room::Member;
use wasm_bindgen::{JsCast, JsValue};
use worker::web_sys::WebSocket as RawSocket;
use worker::WebSocket;

/// Socket tags: the room fans a frame out once per dialect, by tag, instead
/// of reading every socket's attachment; and counts a client address's
/// sockets by its tag.
pub const TAG_V1: &str = "v1";
pub const TAG_LEGACY: &str = "legacy";
/// Clients that read several frames in one message (`batch=1`): see `fanout`.
pub const TAG_BATCH: &str = "batch";
/// Moderators' v1 sockets: reports are told to them alone.
pub const TAG_MODERATOR: &str = "mod";

/// The tags of `member`'s socket beyond dialect, sender and address.
pub fn role_tag(member: &Member) -> Option<&'static str> {
    (member.v1 && member.moderates()).then_some(TAG_MODERATOR)
}

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

/// All sockets from one network wider than an address (an IPv6 /48).
pub fn network_tag(network: &str) -> String {
    format!("net:{network}")
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

/// A frame's text, sizes checked first from the JS value: a 32 MiB frame is
/// never copied into wasm memory (which never shrinks). `None`: too large
/// (the socket is closed). A binary frame is handed on as empty text, so
/// that the room refuses it as it refuses any bad frame, out of the same
/// per-connection budget (refused here, a flood of them was answered one by
/// one for good).
pub fn text_of(ws: &RawSocket, message: &JsValue) -> Option<String> {
    let Some(js_text) = message.dyn_ref::<js_sys::JsString>() else {
        let bytes = message
            .dyn_ref::<js_sys::ArrayBuffer>()
            .map_or(0, |b| b.byte_length() as usize);
        if bytes > MAX_FRAME_BYTES {
            let _ = ws.close_with_code_and_reason(close_code::TOO_BIG, "frame too large");
            return None;
        }
        return Some(String::new());
    };
    // A UTF-16 unit is at least one UTF-8 byte.
    if js_text.length() as usize > MAX_FRAME_BYTES {
        let _ = ws.close_with_code_and_reason(close_code::TOO_BIG, "frame too large");
        return None;
    }
    Some(String::from(js_text))
}
