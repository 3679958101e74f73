//! A one-shot timer that is cleared when dropped, as `gloo_timers`'
//! `Timeout`, but with the one closure type every other callback of the
//! widget has (`FnMut(JsValue)`, see `listener.rs`): gloo's `FnMut()` added
//! an invoker of its own to the wasm and to the glue.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(f: &JsValue, ms: u32) -> f64;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: f64);
}

pub struct Timeout {
    id: f64,
    _callback: Closure<dyn FnMut(JsValue)>,
}

impl Timeout {
    /// Call `f` once, after `ms` milliseconds (unless dropped first).
    pub fn new(ms: u32, f: impl FnOnce() + 'static) -> Timeout {
        let mut f = Some(f);
        let callback = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
            if let Some(f) = f.take() {
                f()
            }
        });
        Timeout {
            id: set_timeout(callback.as_ref(), ms),
            _callback: callback,
        }
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        clear_timeout(self.id);
    }
}
