//! The mounted widget: what `HelloChat.mount` creates (one per element).

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use crate::controller::{dispatch, Controller, Shared};

/// One mounted widget. Nothing runs until JavaScript constructs one.
#[wasm_bindgen]
pub struct Widget {
    inner: Option<Shared>,
}

#[wasm_bindgen]
impl Widget {
    /// Mount into `el`. `emit(eventName, detail)` receives `message`,
    /// `status`, `error` and `presence` events. `default_server` is used when
    /// the options name none.
    #[wasm_bindgen(constructor)]
    pub fn new(
        el: web_sys::Element,
        options: JsValue,
        emit: js_sys::Function,
        default_server: String,
    ) -> Result<Widget, JsValue> {
        Ok(Widget {
            inner: Some(Controller::mount(&el, &options, &default_server, emit)?),
        })
    }

    /// Queue a message. Returns its client id, or `undefined` if it was
    /// refused (an `error` event says why).
    pub fn send(&self, text: String) -> Option<String> {
        self.act(&|c, t| c.session.send(&text, t))
    }

    /// Queue a reply to message `seq`.
    pub fn reply(&self, seq: f64, text: String) -> Option<String> {
        self.act(&|c, t| c.session.reply(Some(seq as u64), &text, t))
    }

    /// Change the text of your message `seq` (moderators: of any message).
    pub fn edit(&self, seq: f64, text: String) -> Option<String> {
        self.act(&|c, t| c.edit(seq as u64, &text, t))
    }

    /// Delete your message `seq` (moderators: any message).
    pub fn remove(&self, seq: f64) -> Option<String> {
        self.act(&|c, t| c.session.remove(seq as u64, t))
    }

    /// Queue `file` (a `File` or `Blob`) with `text`, once it is prepared
    /// (images downscaled): `done` then receives its client id, or
    /// `undefined` if it was refused (an `error` event says why).
    #[wasm_bindgen(js_name = sendFile)]
    pub fn send_file(&self, file: web_sys::Blob, text: String, done: js_sys::Function) {
        match &self.inner {
            Some(inner) => dispatch(&Rc::downgrade(inner), |c, _| c.send_file(file, text, done)),
            None => {
                let _ = done.call1(&JsValue::NULL, &JsValue::UNDEFINED);
            }
        }
    }

    /// Add (`on`) or take back a reaction to message `seq`.
    pub fn react(&self, seq: f64, emoji: String, on: bool) -> Option<String> {
        self.act(&|c, t| c.session.react(seq as u64, &emoji, on, t))
    }

    /// `f`, through the controller (not generic: one copy for every method).
    fn act(
        &self,
        f: &dyn Fn(&mut Controller, f64) -> Result<String, protocol::ProtocolError>,
    ) -> Option<String> {
        let inner = self.inner.as_ref()?;
        let mut id = None;
        dispatch(&Rc::downgrade(inner), |c, t| {
            let result = f(c, t);
            id = c.act(result);
        });
        id
    }

    /// The page's script says whether sound and notifications are on.
    #[wasm_bindgen(js_name = setToggles)]
    pub fn set_toggles(&self, desktop: bool, sound: bool) {
        if let Some(c) = self.inner.as_ref().and_then(|c| c.try_borrow().ok()) {
            c.view.set_toggles(desktop, sound);
        }
    }

    /// Remove every node, listener, timer and socket the widget created.
    pub fn destroy(&mut self) {
        if let Some(inner) = self.inner.take() {
            if let Ok(mut c) = inner.try_borrow_mut() {
                c.destroy();
            }
            drop::<Rc<RefCell<Controller>>>(inner);
        }
    }
}
