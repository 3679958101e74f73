//! What the widget keeps in the page's `localStorage`, per server, site,
//! room and identity (`protocol::identity`: a token's `sub`, or the
//! anonymous visitor's name), so that two people signing in on one browser
//! share nothing: where the visitor stopped reading, so a returning
//! visitor's unread count starts from there, and (the widget only) what they
//! typed and did not send (`protocol::unsent`). Storage may be unavailable (a
//! sandboxed frame, a privacy mode) or the identity unknown (a token
//! without a subject): then nothing is kept and every visit starts afresh,
//! with nothing unread.

use protocol::text::{concat, decimal, parse_decimal};

use crate::options::Options;

/// `hello-chat:<kind>:<server>:<site>:<room>:<identity>`, and the storage.
fn place(kind: &str, options: &Options) -> Option<(web_sys::Storage, String)> {
    let who = protocol::identity::identity(options.token.as_deref(), &options.name)?;
    let storage = crate::global::window()?.local_storage().ok()??;
    let site = options.site.as_deref().unwrap_or("");
    let key = concat(&[
        "hello-chat:",
        kind,
        ":",
        &options.server,
        ":",
        site,
        ":",
        &options.room,
        ":",
        &who,
    ]);
    Some((storage, key))
}

/// The value kept under `kind` ("" for none).
pub fn get(kind: &str, options: &Options) -> String {
    place(kind, options)
        .and_then(|(s, key)| s.get_item(&key).ok().flatten())
        .unwrap_or_default()
}

/// Keep `value` under `kind`; "" removes it. A write the storage refuses (a
/// full quota, Safari's private mode) is tried again in the room the old
/// value leaves; refused again, the old value is gone too: kept, it would
/// come back after a reload out of date (a draft already sent, a message
/// list missing the latest ones).
pub fn set(kind: &str, options: &Options, value: &str) {
    if let Some((s, key)) = place(kind, options) {
        if value.is_empty() || s.set_item(&key, value).is_err() {
            let _ = s.remove_item(&key);
            if !value.is_empty() {
                let _ = s.set_item(&key, value);
            }
        }
    }
}

/// The read position kept from an earlier visit (0: none).
pub fn load(options: &Options) -> u64 {
    // Past 2^53-1 (edited by hand) the room would refuse it for ever.
    parse_decimal(&get("read", options))
        .filter(|n| *n <= protocol::client_frame::MAX_SEQ)
        .unwrap_or(0)
}

pub fn save(options: &Options, seq: u64) {
    set("read", options, &decimal(seq));
}
