//! The WebSocket adapter: opens a socket and reports its events. Dropping a
//! `Socket` detaches its handlers and closes it, so events from an abandoned
//! socket can never reach the session.

use protocol::text::concat;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CloseEvent, MessageEvent, WebSocket};

pub enum SocketEvent {
    Text(String),
    Close { code: u16, reason: String },
}

pub struct Socket {
    ws: WebSocket,
    // Untyped, cast inside: one closure type for every callback the widget
    // gets (see `listener.rs`).
    _on_message: Closure<dyn FnMut(JsValue)>,
    _on_close: Closure<dyn FnMut(JsValue)>,
}

impl Socket {
    /// Open `url` offering `protocols` (they carry the credentials, out of
    /// the URL); `on_event` receives every event of this socket.
    pub fn open(
        url: &str,
        protocols: &[String],
        on_event: impl Fn(SocketEvent) + Clone + 'static,
    ) -> Result<Socket, String> {
        let offered = js_sys::Array::new();
        for p in protocols {
            offered.push(&p.into());
        }
        let ws = WebSocket::new_with_str_sequence(url, &offered)
            .map_err(|_| concat(&["cannot open a WebSocket to ", url]))?;
        let f = on_event.clone();
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            if let Some(text) = e.unchecked_into::<MessageEvent>().data().as_string() {
                f(SocketEvent::Text(text));
            }
        });
        let on_close = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let e: CloseEvent = e.unchecked_into();
            on_event(SocketEvent::Close {
                code: e.code(),
                reason: e.reason(),
            })
        });
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Socket {
            ws,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    pub fn send(&self, text: &str) {
        // Sending on a socket that is closing throws; the close event follows.
        let _ = self.ws.send_with_str(text);
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}
