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
//!
//! Frames are not sent at once but queued, and the queue is sent when the
//! event that filled it and any already waiting have run (a zero timer). A
//! quiet room sends each frame alone, as before; a busy one has several
//! frames queued by then, and a client that asked for it (`batch=1`, socket
//! tag `batch`) gets them as one JSON array: one send per socket for the
//! lot instead of one per frame, the cost that dominates a busy room. Each
//! socket still gets exactly its frames, in the order they were decided:
//! sockets a frame skips (its sender) or is only for (a reply, a member's
//! other devices) get a list of their own. Before a socket is accepted or
//! closed the queue is sent ([`flush`]), so a new socket never gets what was
//! decided before it joined, and a closing one gets what came before its close.

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
function trySend(ws, text) {
  try { ws.send(text); } catch (_) { /* closing: its close handler cleans up */ }
}
const pending = new WeakMap();
function queue(state, entry) {
  let q = pending.get(state);
  if (!q) {
    q = [];
    pending.set(state, q);
    setTimeout(() => flush(state), 0);
  }
  q.push(entry);
}
export function broadcastTagged(state, tag, text, skip, v1Only) {
  queue(state, { tag, text, skip, v1Only });
}
export function sendOne(state, ws, text) {
  queue(state, { to: ws, text });
}
const joined = (texts) => (texts.length === 1 ? texts[0] : '[' + texts.join(',') + ']');
export function flush(state) {
  const q = pending.get(state);
  if (!q) return;
  pending.delete(state);
  // Tags as in connection.rs: TAG_V1 = 'v1', TAG_BATCH = 'batch'.
  const batching = q.length > 1 ? tagged(state, 'batch') : [];
  const isBatching = new Set(batching);
  // A member's own frames go to their v1 sockets only: the workshop front
  // end would show a frame it does not know as a message.
  const v1 = q.some((e) => e.v1Only) ? new Set(tagged(state, 'v1')) : null;
  const wanted = (e, ws) => !e.v1Only || v1.has(ws);
  // Batching sockets that do not get every 'v1' frame: a list of their own.
  const own = new Map();
  const mark = (ws) => { if (ws && isBatching.has(ws) && !own.has(ws)) own.set(ws, []); };
  for (const e of q) {
    if (e.to) mark(e.to);
    else if (e.tag === 'v1') mark(e.skip);
    else for (const ws of tagged(state, e.tag)) if (wanted(e, ws)) mark(ws);
  }
  const common = [];
  for (const e of q) {
    if (e.to) {
      const list = own.get(e.to);
      if (list) list.push(e.text); else trySend(e.to, e.text);
      continue;
    }
    if (e.tag === 'v1') {
      common.push(e.text);
      for (const [ws, list] of own) if (ws !== e.skip) list.push(e.text);
    }
    for (const ws of tagged(state, e.tag)) {
      if (!wanted(e, ws)) continue;
      if (ws === e.skip || isBatching.has(ws)) {
        if (e.tag !== 'v1' && ws !== e.skip) own.get(ws).push(e.text);
        continue;
      }
      trySend(ws, e.text);
    }
  }
  if (common.length) {
    const text = joined(common);
    for (const ws of batching) if (!own.has(ws)) trySend(ws, text);
  }
  for (const [ws, list] of own) if (list.length) trySend(ws, joined(list));
}
export function closeOne(state, ws, code, reason) {
  flush(state);
  try { ws.close(code, reason); } catch (_) { /* already closing */ }
}
export function closeTagged(state, tag, text, code, reason) {
  flush(state);
  for (const ws of state.getWebSockets(tag)) {
    try { if (text) ws.send(text); ws.close(code, reason); } catch (_) { /* already closing */ }
  }
}
export function closeAll(state, text, code, reason) {
  flush(state);
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
export function countOpen(state) {
  let n = 0;
  for (const ws of state.getWebSockets()) if (ws.readyState === 1) n++;
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
        v1_only: bool,
    );
    #[wasm_bindgen(js_name = sendOne)]
    fn send_one(state: &DurableObjectState, ws: &WebSocket, text: &str);
    #[wasm_bindgen(js_name = flush)]
    fn flush_js(state: &DurableObjectState);
    #[wasm_bindgen(js_name = closeOne)]
    fn close_one(state: &DurableObjectState, ws: &WebSocket, code: u16, reason: &str);
    #[wasm_bindgen(js_name = closeTagged)]
    fn close_tagged_js(state: &DurableObjectState, tag: &str, text: &str, code: u16, reason: &str);
    #[wasm_bindgen(js_name = closeAll)]
    fn close_all_js(state: &DurableObjectState, text: &str, code: u16, reason: &str);
    #[wasm_bindgen(js_name = countTagged)]
    fn count_tagged_js(state: &DurableObjectState, tag: &str) -> u32;
    #[wasm_bindgen(js_name = countSockets)]
    fn count_sockets(state: &DurableObjectState, skip: Option<&WebSocket>) -> u32;
    #[wasm_bindgen(js_name = countOpen)]
    fn count_open(state: &DurableObjectState) -> u32;
    #[wasm_bindgen(js_name = socketsChanged)]
    fn sockets_changed_js(state: &DurableObjectState);
}

/// The room's sockets changed (one accepted, closed or failed): broadcasts
/// must ask the runtime again.
pub fn sockets_changed(state: &DurableObjectState) {
    sockets_changed_js(state)
}

/// Send `frame` to every socket tagged `tag` except `skip`.
pub fn broadcast(state: &DurableObjectState, tag: &str, frame: &str, skip: Option<&WebSocket>) {
    broadcast_tagged(state, tag, frame, skip, false)
}

/// Send `frame` to every v1 socket of `sender` except `skip`.
pub fn to_sender(state: &DurableObjectState, sender: &str, frame: &str, skip: Option<&WebSocket>) {
    broadcast_tagged(
        state,
        &super::connection::sender_tag(sender),
        frame,
        skip,
        true,
    )
}

/// Send what is queued now (before a socket is accepted).
pub fn flush(state: &DurableObjectState) {
    flush_js(state)
}

/// Close one socket after what is queued for it.
pub fn close(state: &DurableObjectState, ws: &WebSocket, code: u16, reason: &str) {
    close_one(state, ws, code, reason)
}

/// Sockets in the room, not counting `leaving`.
pub fn online(state: &DurableObjectState, leaving: Option<&WebSocket>) -> u32 {
    count_sockets(state, leaving)
}

/// Open sockets: not those being closed (by either side), which the runtime
/// still lists until their close is complete.
pub fn open(state: &DurableObjectState) -> u32 {
    count_open(state)
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

/// Send one frame to one socket, after what is queued before it.
pub fn send(state: &DurableObjectState, ws: &WebSocket, frame: &str) {
    send_one(state, ws, frame)
}
