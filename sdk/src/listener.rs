//! A DOM event listener that removes itself when dropped, so `destroy()`
//! cannot forget one.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Event, EventTarget};

pub struct Listener {
    target: EventTarget,
    kind: &'static str,
    // Untyped (`JsValue`), the event cast inside: every callback the widget
    // gets (events, socket, uploads, decoded images) is then one closure type,
    // where each type adds an invoker to the wasm and to the glue.
    callback: Closure<dyn FnMut(JsValue)>,
}

impl Listener {
    pub fn new(
        target: &EventTarget,
        kind: &'static str,
        mut f: impl FnMut(Event) + 'static,
    ) -> Listener {
        let callback = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| f(e.unchecked_into()));
        let _ = target.add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref());
        Listener {
            target: target.clone(),
            kind,
            callback,
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.callback.as_ref().unchecked_ref());
    }
}
