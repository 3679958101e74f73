//! The upload adapter: `PUT`s one file's bytes to the signed URL the room
//! gave, with an `XMLHttpRequest` (fetch cannot report upload progress), and
//! reports progress and the outcome. Dropping an `Upload` detaches its
//! handlers and aborts it, so a cancelled or destroyed upload reports nothing.

use js_sys::{Reflect, JSON};
use protocol::{ErrorCode, ProtocolError};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Blob, XmlHttpRequest};

pub struct Upload {
    /// The message and the file it is for.
    pub id: String,
    pub local: u32,
    xhr: XmlHttpRequest,
    _progress: Closure<dyn FnMut(JsValue)>,
    _end: Closure<dyn FnMut(JsValue)>,
}

fn field(v: &JsValue, key: &str) -> Option<String> {
    Reflect::get(v, &key.into()).ok()?.as_string()
}

/// The stored object's key from a 2xx answer, or the refusal in its
/// `{"error", "message"}` body (anything else counts as `internal`: the
/// session may try again).
fn outcome(status: u16, body: &str) -> Result<String, ProtocolError> {
    let json = JSON::parse(body).unwrap_or(JsValue::UNDEFINED);
    if (200..300).contains(&status) {
        if let Some(key) = field(&json, "key").filter(|k| !k.is_empty()) {
            return Ok(key);
        }
    }
    let code = field(&json, "error")
        .and_then(|c| ErrorCode::parse(&c))
        .unwrap_or(ErrorCode::Internal);
    let message = field(&json, "message").unwrap_or_else(|| "the upload failed".to_owned());
    Err(ProtocolError::new(code, message))
}

impl Upload {
    /// Start sending `blob` to `url` as `mime`. `on_progress` gets the bytes
    /// sent so far, `on_end` the object key or why it failed (once).
    pub fn start(
        id: &str,
        local: u32,
        url: &str,
        blob: &Blob,
        mime: &str,
        mut on_progress: impl FnMut(f64) + 'static,
        mut on_end: impl FnMut(Result<String, ProtocolError>) + 'static,
    ) -> Result<Upload, ProtocolError> {
        let failed = |_| ProtocolError::new(ErrorCode::Internal, "the upload could not start");
        let xhr = XmlHttpRequest::new().map_err(failed)?;
        xhr.open("PUT", url).map_err(failed)?;
        xhr.set_request_header("Content-Type", mime)
            .map_err(failed)?;
        // Fields read untyped (as `view::dom::prop` does): a typed getter
        // each would add glue to the embed for one use.
        let progress = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let loaded = Reflect::get(&e, &"loaded".into()).unwrap_or_default();
            on_progress(loaded.as_f64().unwrap_or(0.0))
        });
        let target = xhr.clone();
        // `loadend` comes once, after success, an error or a timeout.
        let end = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
            let status = target.status().unwrap_or(0);
            let body = Reflect::get(&target, &"responseText".into()).unwrap_or_default();
            let body = body.as_string().unwrap_or_default();
            on_end(outcome(status, &body));
        });
        if let Ok(up) = xhr.upload() {
            up.set_onprogress(Some(progress.as_ref().unchecked_ref()));
        }
        xhr.set_onloadend(Some(end.as_ref().unchecked_ref()));
        xhr.send_with_opt_blob(Some(blob)).map_err(failed)?;
        Ok(Upload {
            id: id.to_owned(),
            local,
            xhr,
            _progress: progress,
            _end: end,
        })
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if let Ok(up) = self.xhr.upload() {
            up.set_onprogress(None);
        }
        self.xhr.set_onloadend(None);
        // Aborting a finished request does nothing.
        let _ = self.xhr.abort();
    }
}
