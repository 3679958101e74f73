//! What the visitor typed, kept in `localStorage` across a reload: the
//! composer's draft and the unsent messages (`protocol::unsent` decides
//! what they hold). Keyed like the read position, by server, site and room,
//! and by who the widget speaks for (`protocol::identity`), so another
//! person on the same browser gets neither. Without storage (a sandboxed
//! frame, a privacy mode, a full quota) nothing is kept, as before.

use web_sys::Storage;

use crate::options::Options;

pub struct Kept {
    storage: Option<Storage>,
    /// `<server>:<site>:<room>:<identity>`.
    key: String,
    /// What storage holds now, so only changes are written.
    pub draft: String,
    pub unsent: String,
}

impl Kept {
    pub fn open(options: &Options) -> Kept {
        let who = protocol::identity::identity(options.token.as_deref(), &options.name);
        let site = options.site.as_deref().unwrap_or("");
        let key = [&options.server, ":", site, ":", &options.room, ":"].concat();
        let mut kept = Kept {
            storage: who.as_ref().and(crate::read_position::storage()),
            key: key + who.as_deref().unwrap_or(""),
            draft: String::new(),
            unsent: String::new(),
        };
        kept.draft = kept.get("hello-chat:draft:");
        kept.unsent = kept.get("hello-chat:unsent:");
        kept
    }

    fn get(&self, prefix: &str) -> String {
        self.storage
            .as_ref()
            .and_then(|s| s.get_item(&[prefix, &self.key].concat()).ok().flatten())
            .unwrap_or_default()
    }

    /// Called after everything the widget does: writes what changed.
    pub fn save(&mut self, draft: impl FnOnce() -> String, unsent: impl FnOnce() -> String) {
        let Some(s) = &self.storage else { return };
        for (prefix, now, old) in [
            ("hello-chat:draft:", draft(), &mut self.draft),
            ("hello-chat:unsent:", unsent(), &mut self.unsent),
        ] {
            if now != *old {
                let key = [prefix, &self.key].concat();
                // Empty: nothing to keep. A full quota keeps the old value.
                let _ = if now.is_empty() {
                    s.remove_item(&key)
                } else {
                    s.set_item(&key, &now)
                };
                *old = now;
            }
        }
    }
}
