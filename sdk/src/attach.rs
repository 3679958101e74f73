//! What the visitor does with files, and what the session asks done with
//! them. Files picked with the button, pasted or dropped on the widget are
//! staged in the composer's tray while they are prepared (downscaled and
//! measured, `downscale.rs`); Send queues them with the text through
//! `Session::send_files`, like any message (offline, they wait in the
//! outbox). The session then asks for each file's upload (`Effect::Upload`),
//! which `upload.rs` carries out, and the outcome goes back to it.

use protocol::text::{concat, decimal, parse_decimal};
use std::cell::RefCell;
use std::rc::Weak;

use js_sys::{Function, Reflect};
use protocol::session::OutgoingFile;
use protocol::{ErrorCode, ProtocolError};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Blob, ClipboardEvent, DataTransfer, DragEvent, Event, FileList, Node};

use crate::controller::{dispatch, Controller};
use crate::downscale;
use crate::files::{Staged, MAX_FILES};
use crate::upload::Upload;
use crate::view::dom::{cast, cast_ref, closest, focus, target};

/// A file's name (a `Blob` made by the page has none).
fn name_of(file: &Blob) -> String {
    Reflect::get(file, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "file".to_owned())
}

/// The alt text a file starts with: its name without the extension.
fn stem(name: &str) -> &str {
    match crate::view::attachments::last(name, b'.') {
        Some(dot) if dot > 0 => &name[..dot],
        _ => name,
    }
}

/// A file's type as it is declared and uploaded.
fn mime_of(blob: &Blob) -> String {
    let mime = blob.type_();
    if mime.is_empty() {
        "application/octet-stream".to_owned()
    } else {
        mime
    }
}

/// The files in a `FileList`.
fn list(files: Option<FileList>) -> Vec<Blob> {
    let Some(files) = files else {
        return Vec::new();
    };
    (0..files.length())
        .filter_map(|i| files.get(i))
        .map(|f| f.unchecked_into())
        .collect()
}

/// Whether a drag carries files (not text or a link).
fn carries_files(dt: &DataTransfer) -> bool {
    // Untyped, as `view::dom::prop`: no typed getter for one use.
    let types = Reflect::get(dt, &"types".into()).unwrap_or_default();
    types
        .unchecked_into::<js_sys::Array>()
        .includes(&"Files".into(), 0)
}

/// Run `f` on the controller without the rest of a dispatch (progress
/// events change nothing but a bar).
fn quietly(weak: &Weak<RefCell<Controller>>, f: impl FnOnce(&mut Controller)) {
    if let Some(rc) = weak.upgrade() {
        if let Ok(mut c) = rc.try_borrow_mut() {
            f(&mut c);
        }
    }
}

impl Controller {
    // ----- staging: the button, paste, drop -----

    /// Whether the visitor may attach files now: the composer is on and
    /// the site accepts some.
    fn takes_files(&self) -> bool {
        !self.view.input.disabled() && !self.view.attach.hidden()
    }

    /// Put `files` in the composer's tray and prepare each in the background.
    pub(crate) fn stage(&mut self, files: Vec<Blob>) {
        if !self.takes_files() {
            return;
        }
        for file in files {
            let name = name_of(&file);
            let local = self.files.keep(file.clone());
            let f = OutgoingFile::new(
                local,
                &name,
                file.size() as u64,
                &mime_of(&file),
                None,
                None,
                stem(&name),
            );
            self.view.stage(&f);
            // A type the site does not take is refused at once (preparing
            // keeps a type); the size waits for the prepared bytes.
            if let Err(e) = self.session.room().check_file(&f.mime, 0) {
                self.files.release(local);
                self.show_refused(local, &name, &e);
                continue;
            }
            if self.files.staged.len() >= MAX_FILES {
                // Said on the first file left out, as a file the site
                // refuses, where the visitor looks; the rest are dropped.
                self.files.release(local);
                let n = decimal(MAX_FILES as u64);
                let text = self.view.strings.fill("tooManyFiles", &[("n", &n)]);
                self.view.staged_refused(local, &name, &text);
                self.view.say(&concat(&[&name, ": ", &text]));
                break;
            }
            self.files.staged.push(Staged {
                file: f,
                ready: false,
            });
            let weak = self.weak.clone();
            downscale::prepare(
                file,
                Box::new(move |blob, size| {
                    dispatch(&weak, |c, t| c.staged_ready(local, blob, size, t))
                }),
            );
        }
    }

    /// Staged file `local` is prepared: it goes as `blob`, of `size` pixels,
    /// unless the site would refuse it. Checked now, on the prepared bytes
    /// (re-encoding changes a type and a size), so the visitor learns it in
    /// the tray rather than from a message failing on upload.
    fn staged_ready(&mut self, local: u32, blob: Blob, size: Option<(u32, u32)>, t: f64) {
        let mime = mime_of(&blob);
        if let Err(e) = self.session.room().check_file(&mime, blob.size() as u64) {
            return self.refuse_staged(local, &e);
        }
        if !self.files.replace(local, blob.clone()) {
            return;
        }
        let Some(s) = self.files.staged_mut(local) else {
            return;
        };
        s.file.size = blob.size() as u64;
        s.file.mime = mime;
        s.file.width = size.map(|s| s.0);
        s.file.height = size.map(|s| s.1);
        s.ready = true;
        let f = s.file.clone();
        let url = self.files.url(local);
        self.view.staged_ready(&f, url.as_deref());
        if self.files.send_when_ready && self.files.all_ready() {
            self.files.send_when_ready = false;
            self.submit(t);
        }
    }

    /// Staged file `local` is one the site would refuse: it stays in the
    /// tray, saying why, until removed or the message goes; it is not sent.
    /// A Send waiting for it is called off, so the visitor decides.
    fn refuse_staged(&mut self, local: u32, error: &ProtocolError) {
        let Some(s) = self.files.staged_mut(local) else {
            return;
        };
        let name = s.file.name.clone();
        self.files.unstage(local);
        self.files.send_when_ready = false;
        // (Its preview's object URL is revoked: the name comes back.)
        self.show_refused(local, &name, error);
    }

    /// Staged file `local` (`name`) shows why it will not go; read out
    /// with its name, so that several refusals are told apart.
    fn show_refused(&self, local: u32, name: &str, error: &ProtocolError) {
        let text = self.view.strings.not_sent(error);
        self.view.staged_refused(local, name, &text);
        self.view.say(&concat(&[name, ": ", &text]));
    }

    /// The site's rules arrived or changed: a staged file they rule out
    /// now says so, rather than failing its message on upload. (One they
    /// refused before is let go already: added again, it is checked again.)
    pub(crate) fn recheck_staged(&mut self) {
        let refused: Vec<(u32, ProtocolError)> = self
            .files
            .staged
            .iter()
            .filter(|s| s.ready)
            .filter_map(|s| {
                let checked = self.session.room().check_file(&s.file.mime, s.file.size);
                checked.err().map(|e| (s.file.local, e))
            })
            .collect();
        for (local, error) in refused {
            self.refuse_staged(local, &error);
        }
    }

    /// The staged files, as they will be sent (with the alt texts typed).
    pub(crate) fn staged_files(&self) -> Vec<OutgoingFile> {
        self.files
            .staged
            .iter()
            .map(|s| OutgoingFile {
                alt: self
                    .view
                    .alt_of(s.file.local)
                    .unwrap_or_else(|| s.file.alt.clone()),
                ..s.file.clone()
            })
            .collect()
    }

    /// The staged files went with a message: the tray empties (their bytes
    /// now belong to the message).
    pub(crate) fn clear_staged(&mut self) {
        self.files.staged.clear();
        self.view.clear_tray();
    }

    fn unstage(&mut self, local: u32) {
        // (Removing a refused file leaves a waiting Send waiting.)
        if self.files.staged_mut(local).is_some() {
            self.files.send_when_ready = false;
        }
        self.files.unstage(local);
        self.view.unstage(local);
    }

    /// `HelloChat.sendFile(file, text)`: prepare `file`, then queue it;
    /// `done` receives the client id (or `undefined`, refused: an `error`
    /// event says why).
    pub(crate) fn send_file(&mut self, file: Blob, text: String, done: Function) {
        let name = name_of(&file);
        let local = self.files.keep(file.clone());
        let weak = self.weak.clone();
        downscale::prepare(
            file,
            Box::new(move |blob, size| {
                let mut id = None;
                dispatch(&weak, |c, t| {
                    id = c.send_prepared(local, &name, blob, size, &text, t)
                });
                let id = id.map_or(JsValue::UNDEFINED, |id| JsValue::from_str(&id));
                let _ = done.call1(&JsValue::NULL, &id);
            }),
        );
    }

    fn send_prepared(
        &mut self,
        local: u32,
        name: &str,
        blob: Blob,
        size: Option<(u32, u32)>,
        text: &str,
        t: f64,
    ) -> Option<String> {
        let mime = mime_of(&blob);
        let checked = self.session.room().check_file(&mime, blob.size() as u64);
        if checked.is_err() || !self.files.replace(local, blob.clone()) {
            self.files.release(local);
            self.act(checked.map(|()| String::new()));
            return None;
        }
        let f = OutgoingFile::new(
            local,
            name,
            blob.size() as u64,
            &mime,
            size.map(|s| s.0),
            size.map(|s| s.1),
            stem(name),
        );
        let result = self.session.send_files(text, vec![f], None, t);
        let id = self.act(result);
        if id.is_none() {
            self.files.release(local);
        }
        id
    }

    // ----- the session's side: uploads, and a message's files over time -----

    /// Message `id` waits to go with `files`: show them from our bytes.
    pub(crate) fn show_pending(
        &mut self,
        id: &str,
        text: &str,
        files: Vec<OutgoingFile>,
        reply_to: Option<u64>,
    ) {
        self.files.carry(id, &files);
        let shown: Vec<(OutgoingFile, Option<String>)> = files
            .into_iter()
            .map(|f| {
                let url = self.files.url(f.local);
                (f, url)
            })
            .collect();
        self.view.pending(id, text, &shown, reply_to);
    }

    /// `PUT` file `local` of message `id` to `path` on the server.
    pub(crate) fn upload(&mut self, id: String, local: u32, path: &str, t: f64) {
        let blob = self.files.blob(local);
        // The room names a path on its own server; nothing else is followed.
        let started = match blob.filter(|_| path.starts_with("/uploads/")) {
            Some(blob) => {
                let url = concat(&[self.options.server.as_str(), path]);
                let (weak, weak_end) = (self.weak.clone(), self.weak.clone());
                let (for_progress, for_end) = (id.clone(), id.clone());
                Upload::start(
                    &id,
                    local,
                    &url,
                    &blob,
                    &mime_of(&blob),
                    move |loaded| {
                        quietly(&weak, |c| {
                            let done = c.files.progress(&for_progress, local, loaded);
                            c.view.progress(&for_progress, done);
                        })
                    },
                    move |result| {
                        let id = for_end.clone();
                        dispatch(&weak_end, |c, t| c.upload_ended(&id, local, result, t))
                    },
                )
            }
            None => Err(ProtocolError::new(
                ErrorCode::Internal,
                "the file is no longer available",
            )),
        };
        match started {
            Ok(upload) => {
                self.files.start(upload);
                let done = self.files.progress(&id, local, 0.0);
                self.view.progress(&id, done);
            }
            Err(e) => self.session.upload_failed(&id, local, e, t),
        }
    }

    fn upload_ended(
        &mut self,
        id: &str,
        local: u32,
        result: Result<String, ProtocolError>,
        t: f64,
    ) {
        match result {
            Ok(key) => {
                let done = self.files.uploaded(id, local, &key);
                self.view.progress(id, done);
                self.session.uploaded(id, local, &key, t);
            }
            Err(e) => {
                self.files.stop(id, Some(local));
                self.session.upload_failed(id, local, e, t);
            }
        }
    }

    /// Message `id` was acked: our message shows its files from these bytes
    /// until the room sends their URLs.
    pub(crate) fn files_sent(&mut self, id: &str) {
        let shown = self.files.sent(id);
        self.view.local_files.extend(shown);
    }

    /// Cancel message `id` (its upload too): it is not sent.
    pub(crate) fn cancel_send(&mut self, id: &str, t: f64) {
        if let Some(back) = self.session.cancel(id, t) {
            self.files.dropped(id);
            self.view.remove_pending(id);
            // What was written with the files comes back to the composer:
            // cancelled is not thrown away. Before a draft typed since (it
            // was written first), and its reply unless another is going.
            let draft = self.view.input_text();
            if !back.text.is_empty() {
                let text = if draft.is_empty() {
                    back.text
                } else {
                    concat(&[&back.text, "\n", &draft])
                };
                self.view.set_input_text(&text);
                self.view.update_counter(self.session.max_message_chars());
            }
            if let (Some(seq), None) = (back.reply_to, self.reply_to) {
                // (Not to a message deleted meanwhile.)
                if let Some(li) = self
                    .view
                    .item(seq)
                    .filter(|li| !li.has_attribute("data-deleted"))
                {
                    self.start_reply(&li, seq);
                }
            }
            focus(&self.view.input);
        }
    }
}

// ----- the listeners (added by `controller::listen`) -----

/// Files chosen in the picker.
pub(crate) fn on_pick(c: &mut Controller, _: Event, _: f64) {
    let files = list(c.view.picker.files());
    // Cleared, so choosing the same file again is a change too.
    c.view.picker.set_value("");
    c.stage(files);
}

/// Files pasted in the composer (a screenshot, a copied image).
pub(crate) fn on_paste(c: &mut Controller, e: Event, _: f64) {
    let data = cast_ref::<ClipboardEvent>(&e, "ClipboardEvent").and_then(|e| e.clipboard_data());
    let files = list(data.as_ref().and_then(|d| d.files()));
    if !files.is_empty() && c.takes_files() {
        // A file copied from a file manager comes with its name as plain
        // text: not that. Cells copied from a spreadsheet (or a document's
        // text and pictures) come as HTML and plain text too, and with a
        // picture of them: then the text is pasted as well (the picture can
        // be taken off).
        // (A browser's "Copy image" comes as HTML too, with the image's
        // address as its text: not that either.)
        let text = |kind| {
            data.as_ref()
                .and_then(|d| d.get_data(kind).ok())
                .unwrap_or_default()
        };
        let plain = text("text/plain");
        let address = plain.starts_with("http") && !plain.contains(' ');
        let words = !plain.is_empty() && !address;
        if !words || text("text/html").is_empty() {
            e.prevent_default();
        }
        c.stage(files);
    }
}

/// Files dragged over the widget: it accepts them, and shows it.
pub(crate) fn on_drag_over(c: &mut Controller, e: Event, _: f64) {
    let Some(dt) = cast_ref::<DragEvent>(&e, "DragEvent").and_then(|d| d.data_transfer()) else {
        return;
    };
    if carries_files(&dt) && c.takes_files() {
        e.prevent_default();
        let _ = Reflect::set(&dt, &"dropEffect".into(), &"copy".into());
        c.view.drop_target(true);
    }
}

/// The drag left the widget (not just one of its parts).
pub(crate) fn on_drag_leave(c: &mut Controller, e: Event, _: f64) {
    let related = Reflect::get(&e, &"relatedTarget".into())
        .ok()
        .and_then(|r| cast::<Node>(r, "Node"));
    if !c.view.container.contains(related.as_ref()) {
        c.view.drop_target(false);
    }
}

pub(crate) fn on_drop(c: &mut Controller, e: Event, _: f64) {
    c.view.drop_target(false);
    let Some(dt) = cast_ref::<DragEvent>(&e, "DragEvent").and_then(|d| d.data_transfer()) else {
        return;
    };
    if carries_files(&dt) {
        e.prevent_default();
        c.stage(list(dt.files()));
    }
}

/// A click in the tray: a staged file's remove button.
pub(crate) fn on_tray_click(c: &mut Controller, e: Event, _: f64) {
    let local = target(&e)
        .and_then(|el| closest(&el, ".hc-unstage"))
        .and_then(|b| b.get_attribute("data-local"))
        .and_then(|v| u32::try_from(parse_decimal(&v)?).ok());
    if let Some(local) = local {
        c.unstage(local);
    }
}

/// The image viewer: Escape or a click outside the image closes it; Tab
/// stays on its close button.
pub(crate) fn on_viewer_key(c: &mut Controller, e: Event, _: f64) {
    if !c.view.viewer_open() {
        return;
    }
    match cast_ref::<web_sys::KeyboardEvent>(&e, "KeyboardEvent")
        .map(|k| k.key())
        .as_deref()
    {
        Some("Escape") => {
            e.prevent_default();
            c.view.close_viewer();
        }
        Some("Tab") => {
            e.prevent_default();
            c.view.focus_viewer();
        }
        _ => {}
    }
}

pub(crate) fn on_viewer_click(c: &mut Controller, e: Event, _: f64) {
    let Some(target) = target(&e) else {
        return;
    };
    let backdrop = target.class_list().contains("hc-viewer");
    let close = closest(&target, "[data-action=close-viewer]").is_some();
    if c.view.viewer_open() && (backdrop || close) {
        c.view.close_viewer();
    }
}
