//! Where the visitor stopped reading, kept in the page's `localStorage` per
//! server, site and room, so a returning visitor's unread count starts from
//! there. Storage may be unavailable (a sandboxed frame, a privacy mode):
//! then every visit starts afresh, with nothing unread.

use protocol::text::decimal;

use crate::options::Options;

pub(crate) fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn key(options: &Options) -> String {
    let site = options.site.as_deref().unwrap_or("");
    [
        "hello-chat:read:",
        &options.server,
        ":",
        site,
        ":",
        &options.room,
    ]
    .concat()
}

/// The read position kept from an earlier visit (0: none).
pub fn load(options: &Options) -> u64 {
    storage()
        .and_then(|s| s.get_item(&key(options)).ok().flatten())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn save(options: &Options, seq: u64) {
    if let Some(s) = storage() {
        let _ = s.set_item(&key(options), &decimal(seq));
    }
}
