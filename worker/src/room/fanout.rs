//! Sending one frame to many sockets.
//!
//! The loop over the room's sockets runs in JavaScript: handed the room state,
//! a tag and the frame, it fetches the sockets and sends the same string to
//! each. Done from Rust, every recipient cost several wasm/JS crossings
//! (wrapping the socket, comparing it with the sender, sending, dropping the
//! wrapper); this way a broadcast is one crossing, whatever the room's size.
//!
//! The list of a tag's sockets is kept between broadcasts (asking the runtime
//! builds a new array each time, about 6% of a busy room's CPU) and dropped
//! whenever the room's sockets change: [`sockets_changed`] after a socket is
//! accepted, closed or fails. A socket that closed meanwhile only makes its
//! `send` throw, which is caught.

use wasm_bindgen::prelude::*;
use worker::web_sys::WebSocket;
use worker::worker_sys::DurableObjectState;

#[wasm_bindgen(inline_js = "
const lists = new WeakMap();
function tagged(state, tag) {
  let byTag = lists.get(state);
  if (!byTag) { byTag = new Map(); lists.set(state, byTag); }
  let list = byTag.get(tag);
  if (!list) { list = state.getWebSockets(tag); byTag.set(tag, list); }
  return list;
}
export function socketsChanged(state) {
  lists.delete(state);
}
export function broadcastTagged(state, tag, text, skip) {
  let sent = 0;
  for (const ws of tagged(state, tag)) {
    if (ws === skip) continue;
    try { ws.send(text); sent++; } catch (_) { /* closing: its close handler cleans up */ }
  }
  return sent;
}
export function closeTagged(state, tag, text, code, reason) {
  for (const ws of state.getWebSockets(tag)) {
    try { if (text) ws.send(text); ws.close(code, reason); } catch (_) { /* already closing */ }
  }
}
export function closeAll(state, text, code, reason) {
  for (const ws of state.getWebSockets()) {
    try { if (text) ws.send(text); ws.close(code, reason); } catch (_) { /* already closing */ }
  }
}
export function countTagged(state, tag) {
  return state.getWebSockets(tag).length;
}
export function countSockets(state, skip) {
  let n = 0;
  for (const ws of state.getWebSockets()) if (ws !== skip) n++;
  return n;
}
")]
extern "C" {
    #[wasm_bindgen(js_name = broadcastTagged)]
    fn broadcast_tagged(
        state: &DurableObjectState,
        tag: &str,
        text: &str,
        skip: Option<&WebSocket>,
    ) -> u32;
    #[wasm_bindgen(js_name = closeTagged)]
    fn close_tagged_js(state: &DurableObjectState, tag: &str, text: &str, code: u16, reason: &str);
    #[wasm_bindgen(js_name = closeAll)]
    fn close_all_js(state: &DurableObjectState, text: &str, code: u16, reason: &str);
    #[wasm_bindgen(js_name = countTagged)]
    fn count_tagged_js(state: &DurableObjectState, tag: &str) -> u32;
    #[wasm_bindgen(js_name = countSockets)]
    fn count_sockets(state: &DurableObjectState, skip: Option<&WebSocket>) -> u32;
    #[wasm_bindgen(js_name = socketsChanged)]
    fn sockets_changed_js(state: &DurableObjectState);
}

/// The room's sockets changed (one accepted, closed or failed): broadcasts
/// must ask the runtime again.
pub fn sockets_changed(state: &DurableObjectState) {
    sockets_changed_js(state)
}

/// Send `frame` to every socket tagged `tag` except `skip`; returns how many got it.
pub fn broadcast(
    state: &DurableObjectState,
    tag: &str,
    frame: &str,
    skip: Option<&WebSocket>,
) -> u32 {
    broadcast_tagged(state, tag, frame, skip)
}

/// Sockets in the room, not counting `leaving`.
pub fn online(state: &DurableObjectState, leaving: Option<&WebSocket>) -> u32 {
    count_sockets(state, leaving)
}

/// Send `frame` (unless empty) to every socket tagged `tag`, then close it.
pub fn close_tagged(state: &DurableObjectState, tag: &str, frame: &str, code: u16, reason: &str) {
    close_tagged_js(state, tag, frame, code, reason)
}

/// Send `frame` (unless empty) to every socket, then close it.
pub fn close_all(state: &DurableObjectState, frame: &str, code: u16, reason: &str) {
    close_all_js(state, frame, code, reason)
}

/// Sockets carrying `tag`.
pub fn count_tagged(state: &DurableObjectState, tag: &str) -> u32 {
    count_tagged_js(state, tag)
}

/// Send one frame to one socket, ignoring a socket that is already closing.
pub fn send(ws: &WebSocket, frame: &str) {
    let _ = ws.send_with_str(frame);
}
