//! Sending one frame to many sockets.
//!
//! The frame is turned into a JavaScript string once and that same string is
//! handed to every socket, instead of copying it out of wasm memory per
//! recipient: in a room of hundreds this is most of the broadcast cost.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use worker::web_sys::WebSocket;

#[wasm_bindgen]
extern "C" {
    /// `WebSocket.send` taking a JavaScript string as it is (web-sys only
    /// offers `&str`, which is copied out of wasm memory on every call).
    #[wasm_bindgen(js_name = WebSocket)]
    type JsStringSink;
    #[wasm_bindgen(method, catch, js_name = send)]
    fn send(this: &JsStringSink, data: &js_sys::JsString) -> Result<(), JsValue>;
}

/// Whether two handles are the same JavaScript socket.
pub fn same_socket(a: &WebSocket, b: &WebSocket) -> bool {
    let (a, b): (&JsValue, &JsValue) = (a.as_ref(), b.as_ref());
    a == b
}

/// Send `frame` to every socket in `sockets` except `skip`. A socket that
/// fails (closing, gone) is skipped: its close handler does the clean-up.
pub fn broadcast(sockets: &[WebSocket], frame: &str, skip: Option<&WebSocket>) {
    let text = js_sys::JsString::from(frame);
    for ws in sockets {
        if skip.is_some_and(|s| same_socket(s, ws)) {
            continue;
        }
        let _ = ws.unchecked_ref::<JsStringSink>().send(&text);
    }
}

/// Send one frame to one socket, ignoring a socket that is already closing.
pub fn send(ws: &WebSocket, frame: &str) {
    let _ = ws.send_with_str(frame);
}
