//! The bytes of the files the visitor attaches, from the moment they are
//! picked, pasted or dropped until nothing shows them any more. The session
//! knows a file only by its `local` handle; this keeps the `Blob` behind each
//! handle, the object URL that previews it, the composer's tray of staged
//! files, which queued message carries which files (and how far their upload
//! got) and the uploads running. Dropping a `Files` revokes every object URL
//! and aborts every upload, so `destroy()` cannot leave one behind.

pub use protocol::client_frame::{MAX_ALT_CHARS, MAX_FILES};
use protocol::session::OutgoingFile;
use web_sys::{Blob, Url};

use crate::upload::Upload;

/// A file's bytes, and the object URL previewing them once one was needed.
struct Kept {
    local: u32,
    blob: Blob,
    url: Option<String>,
    /// Its object key, once uploaded.
    key: Option<String>,
}

impl Drop for Kept {
    fn drop(&mut self) {
        if let Some(url) = &self.url {
            let _ = Url::revoke_object_url(url);
        }
    }
}

/// A file in the composer's tray, and whether it is ready to send
/// (downscaled and measured).
pub struct Staged {
    pub file: OutgoingFile,
    pub ready: bool,
}

/// A queued message's files: (local, size, bytes uploaded) each, for its
/// progress bar.
struct Carried {
    id: String,
    files: Vec<(u32, u64, f64)>,
}

#[derive(Default)]
pub struct Files {
    next: u32,
    kept: Vec<Kept>,
    pub staged: Vec<Staged>,
    /// The composer was submitted while a staged file was still being
    /// prepared: it is sent when the last one is ready.
    pub send_when_ready: bool,
    carried: Vec<Carried>,
    uploads: Vec<Upload>,
}

impl Files {
    /// Keep `blob`; returns its handle.
    pub fn keep(&mut self, blob: Blob) -> u32 {
        self.next += 1;
        self.kept.push(Kept {
            local: self.next,
            blob,
            url: None,
            key: None,
        });
        self.next
    }

    fn kept(&mut self, local: u32) -> Option<&mut Kept> {
        self.kept.iter_mut().find(|k| k.local == local)
    }

    pub fn blob(&self, local: u32) -> Option<Blob> {
        self.kept
            .iter()
            .find(|k| k.local == local)
            .map(|k| k.blob.clone())
    }

    /// The prepared (downscaled, re-encoded) bytes replace the picked ones.
    /// False if the file was let go meanwhile.
    pub fn replace(&mut self, local: u32, blob: Blob) -> bool {
        let Some(k) = self.kept(local) else {
            return false;
        };
        k.blob = blob;
        if let Some(url) = k.url.take() {
            let _ = Url::revoke_object_url(&url);
        }
        true
    }

    /// An object URL showing file `local`, made once.
    pub fn url(&mut self, local: u32) -> Option<String> {
        let k = self.kept(local)?;
        if k.url.is_none() {
            k.url = Url::create_object_url_with_blob(&k.blob).ok();
        }
        k.url.clone()
    }

    /// Let file `local` go: its object URL is revoked.
    pub fn release(&mut self, local: u32) {
        self.kept.retain(|k| k.local != local);
    }

    // ----- the composer's tray -----

    pub fn staged_mut(&mut self, local: u32) -> Option<&mut Staged> {
        self.staged.iter_mut().find(|s| s.file.local == local)
    }

    pub fn unstage(&mut self, local: u32) {
        self.staged.retain(|s| s.file.local != local);
        self.release(local);
    }

    /// Every staged file is ready to go.
    pub fn all_ready(&self) -> bool {
        self.staged.iter().all(|s| s.ready)
    }

    // ----- queued messages and their uploads -----

    /// Message `id` (queued, or queued again after a retry) carries `files`.
    pub fn carry(&mut self, id: &str, files: &[OutgoingFile]) {
        if files.is_empty() {
            return;
        }
        self.carried.retain(|c| c.id != id);
        self.carried.push(Carried {
            id: id.to_owned(),
            files: files.iter().map(|f| (f.local, f.size, 0.0)).collect(),
        });
    }

    pub fn renamed(&mut self, id: &str, new_id: &str) {
        for c in self.carried.iter_mut().filter(|c| c.id == id) {
            c.id = new_id.to_owned();
        }
        for u in self.uploads.iter_mut().filter(|u| u.id == id) {
            u.id = new_id.to_owned();
        }
    }

    pub fn start(&mut self, upload: Upload) {
        self.uploads.push(upload);
    }

    /// Stop message `id`'s uploads (it failed, or was cancelled), or only
    /// that of file `local`.
    pub fn stop(&mut self, id: &str, local: Option<u32>) {
        self.uploads
            .retain(|u| u.id != id || local.is_some_and(|l| l != u.local));
    }

    /// Bytes of file `local` of message `id` uploaded so far; returns the
    /// message's progress (0 to 1).
    pub fn progress(&mut self, id: &str, local: u32, loaded: f64) -> f64 {
        let Some(c) = self.carried.iter_mut().find(|c| c.id == id) else {
            return 0.0;
        };
        for f in c.files.iter_mut().filter(|f| f.0 == local) {
            f.2 = loaded.min(f.1 as f64);
        }
        let total: u64 = c.files.iter().map(|f| f.1).sum();
        let done: f64 = c.files.iter().map(|f| f.2).sum();
        if total == 0 {
            1.0
        } else {
            done / total as f64
        }
    }

    /// File `local` of message `id` is stored as `key`.
    pub fn uploaded(&mut self, id: &str, local: u32, key: &str) -> f64 {
        self.stop(id, Some(local));
        if let Some(k) = self.kept(local) {
            k.key = Some(key.to_owned());
        }
        self.progress(id, local, f64::INFINITY)
    }

    /// Message `id` was sent. Its files stay, for as long as the widget
    /// lives: our message shows them from these bytes (until the room sends
    /// their URLs). Returns (key, object URL) for each.
    pub fn sent(&mut self, id: &str) -> Vec<(String, String)> {
        self.stop(id, None);
        let Some(at) = self.carried.iter().position(|c| c.id == id) else {
            return Vec::new();
        };
        let carried = self.carried.remove(at);
        let mut shown = Vec::new();
        for (local, ..) in carried.files {
            let key = self.kept(local).and_then(|k| k.key.clone());
            if let Some((key, url)) = key.zip(self.url(local)) {
                shown.push((key, url));
            }
        }
        shown
    }

    /// Message `id` is gone unsent (cancelled, discarded): its uploads stop
    /// and its files are let go.
    pub fn dropped(&mut self, id: &str) {
        self.stop(id, None);
        let Some(at) = self.carried.iter().position(|c| c.id == id) else {
            return;
        };
        for (local, ..) in self.carried.remove(at).files {
            self.release(local);
        }
    }
}
