//! The page's global object, found once and cheaply: `web_sys::window()`
//! and `js_sys::global()` look for it under four names (`globalThis`,
//! `self`, `window`, `global`) and check it with `instanceof Window`, code
//! and glue the widget does not need (every browser that runs it has
//! `globalThis`). The headless client, which may run without a window,
//! keeps web-sys's.

#[cfg(feature = "ui")]
use wasm_bindgen::prelude::*;

#[cfg(feature = "ui")]
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(thread_local_v2, js_name = globalThis)]
    static GLOBAL_THIS: JsValue;
}

/// `globalThis`.
#[cfg(feature = "ui")]
pub fn global() -> JsValue {
    GLOBAL_THIS.with(JsValue::clone)
}

/// The page's window, if the global object is one (as `web_sys::window()`).
#[cfg(feature = "ui")]
pub fn window() -> Option<web_sys::Window> {
    let global = global();
    crate::view::dom::is_a(&global, "Window").then(|| global.unchecked_into())
}

#[cfg(not(feature = "ui"))]
pub use web_sys::window;
