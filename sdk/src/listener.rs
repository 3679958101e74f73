//! A DOM event listener (or a resize observer) that removes itself when
//! dropped, so `destroy()` cannot forget one.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, EventTarget, ResizeObserver};

pub struct Listener {
    target: EventTarget,
    kind: &'static str,
    callback: Closure<dyn FnMut(Event)>,
}

impl Listener {
    pub fn new(
        target: &EventTarget,
        kind: &'static str,
        f: impl FnMut(Event) + 'static,
    ) -> Listener {
        let callback = Closure::<dyn FnMut(Event)>::new(f);
        let _ = target.add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref());
        Listener {
            target: target.clone(),
            kind,
            callback,
        }
    }
}

/// Calls `f` whenever `target`'s size changes, e.g. when a closed panel
/// around the widget opens (display: none to shown).
pub struct Resized {
    observer: Option<ResizeObserver>,
    _callback: Closure<dyn FnMut()>,
}

impl Resized {
    pub fn new(target: &Element, f: impl FnMut() + 'static) -> Resized {
        let callback = Closure::<dyn FnMut()>::new(f);
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

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.callback.as_ref().unchecked_ref());
    }
}
