//! A resize observer that disconnects itself when dropped.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, ResizeObserver};

/// Calls `f` whenever `target`'s size changes, e.g. when a closed panel
/// around the widget opens (display: none to shown).
pub struct Resized {
    observer: Option<ResizeObserver>,
    // Untyped, the entries ignored: one closure type for every callback
    // the widget gets (see `listener.rs`).
    _callback: Closure<dyn FnMut(JsValue)>,
}

impl Resized {
    pub fn new(target: &Element, mut f: impl FnMut() + 'static) -> Resized {
        let callback = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| f());
        let observer = ResizeObserver::new(callback.as_ref().unchecked_ref()).ok();
        if let Some(o) = &observer {
            o.observe(target);
        }
        Resized {
            observer,
            _callback: callback,
        }
    }
}

impl Drop for Resized {
    fn drop(&mut self) {
        if let Some(o) = &self.observer {
            o.disconnect();
        }
    }
}
