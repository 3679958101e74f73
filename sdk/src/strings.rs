//! The widget's UI text. English is built in; other languages arrive as
//! `strings` (the JavaScript API fetches the visitor's locale file and merges
//! the page's own `strings` over it). `{n}`, `{name}`, `{s}`, `{reason}`
//! and the like are filled in; a text with `{n}` may have plural forms, `key.one`,
//! `key.few`, … chosen by the browser's `Intl.PluralRules` for the locale.

use js_sys::{Array, Function, Object, Reflect};
use std::cell::Cell;

use protocol::error::close_code;
use protocol::file_rules::size_at_most;
use protocol::text::{concat, parse_decimal, split_once_ascii};
use protocol::{ErrorCode, ProtocolError};
use wasm_bindgen::{JsCast, JsValue};

pub struct Strings {
    overrides: Option<Object>,
    /// An `Intl.PluralRules` for the locale, if the browser has one.
    plural: Option<Object>,
    /// The locale's zero, when its digits are not 0-9 (Arabic-Indic in
    /// ar-SA and ar-EG, Persian): counts are written in them, as the
    /// browser writes the times beside them.
    zero: Option<char>,
    /// An `Intl.ListFormat` for the locale, if the browser has one.
    list: Option<Object>,
    /// The locale's decimal separator, when not `.` (`1,5 MB`).
    comma: Option<char>,
    /// The site's largest file, as the room last said (`{max}` of
    /// `error.too_large`).
    pub max_file_bytes: Cell<Option<u64>>,
}

/// `new Intl.<class>(locale)`, reached through `Reflect` (js-sys's own
/// binding differs between its feature sets).
fn intl(class: &str, locale: Option<&str>) -> Option<Object> {
    let intl = Reflect::get(&crate::global::global(), &"Intl".into()).ok()?;
    let ctor = Reflect::get(&intl, &class.into()).ok()?;
    let ctor: &Function = ctor.dyn_ref()?;
    let locales = Array::new();
    if let Some(l) = locale {
        locales.push(&l.into());
    }
    Reflect::construct(ctor, &Array::of1(&locales))
        .ok()?
        .dyn_into()
        .ok()
}

/// Call `obj.method(arg)`.
fn call(obj: &Object, method: &str, arg: &JsValue) -> Option<JsValue> {
    let f = Reflect::get(obj, &method.into()).ok()?;
    f.dyn_ref::<Function>()?.call1(obj, arg).ok()
}

/// How `Intl.NumberFormat` writes zero in `locale`, if not as `0`, and
/// its decimal separator, if not `.`.
fn zero_and_comma(locale: Option<&str>) -> (Option<char>, Option<char>) {
    let Some(format) = intl("NumberFormat", locale) else {
        return (None, None);
    };
    let written = |n: f64| call(&format, "format", &n.into()).and_then(|s| s.as_string());
    let zero = written(0.0)
        .and_then(|z| z.chars().next())
        .filter(|c| *c != '0');
    let comma = written(1.5)
        .and_then(|s| s.chars().nth(1))
        .filter(|c| *c != '.');
    (zero, comma)
}

/// English, built in. A table, not a `match`: a match on strings compiles
/// to a comparison per key, kilobytes of code in the embed.
const DEFAULTS: &[(&str, &str)] = &[
    ("title", "Chat"),
    ("placeholder", "Write a message…"),
    ("messageLabel", "Message"),
    ("send", "Send"),
    ("logLabel", "Messages"),
    ("connecting", "Connecting…"),
    ("reconnecting", "Reconnecting…"),
    ("reconnectingIn", "Reconnecting in {s} s"),
    (
        "offline",
        "Offline. Messages will be sent when you are back online.",
    ),
    ("reconnected", "Connected again."),
    ("failed", "Can't connect: {reason}"),
    ("online", "{n} online"),
    ("typing", "{name} is typing…"),
    ("typingTwo", "{a} and {b} are typing…"),
    ("typingMany", "Several people are typing…"),
    ("newMessages", "New messages"),
    ("newCount", "{n} new messages"),
    ("loadEarlier", "Load earlier messages"),
    ("empty", "No messages yet. Say hello!"),
    ("pending", "Sending…"),
    ("notSent", "Not sent: {reason}"),
    ("retry", "Retry"),
    ("discard", "Discard"),
    ("counter", "{n} characters left"),
    ("counterOver", "Over the limit: {n}"),
    ("announce", "{name}: {text}"),
    ("verified", "Verified"),
    ("roleModerator", "Mod"),
    ("roleBot", "Bot"),
    ("edited", "(edited)"),
    ("deleted", "Message deleted"),
    ("actions", "Actions for {name}'s message"),
    ("actionsMenu", "Message actions"),
    ("reactWith", "React with {emoji}"),
    ("reaction", "{emoji} {n}: toggle your reaction"),
    ("replyQuote", "Reply to {name}: show the original"),
    ("reply", "Reply"),
    ("edit", "Edit"),
    ("delete", "Delete"),
    ("remove", "Remove"),
    ("mute", "Mute"),
    ("ban", "Ban"),
    ("unmute", "Unmute"),
    ("unban", "Unban"),
    ("save", "Save"),
    ("cancel", "Cancel"),
    ("editLabel", "Edit your message"),
    ("muteWho", "Mute {name}"),
    ("banWho", "Ban {name}"),
    ("duration", "Duration"),
    ("minutes10", "10 minutes"),
    ("hour1", "1 hour"),
    ("day1", "1 day"),
    ("forGood", "For good"),
    ("reason", "Reason (optional)"),
    ("replyingTo", "Replying to {name}: {text}"),
    ("cancelReply", "Cancel reply"),
    ("mentionList", "People to mention"),
    ("muted", "You are muted until {time}."),
    ("mutedForGood", "You are muted in this room."),
    ("bannedUntil", "You are banned from this room until {time}."),
    ("muteEnded", "You can write again."),
    ("locked", "This room is read-only."),
    ("slowMode", "Slow mode: one message every {s} s."),
    // What a moderator, whom neither holds, is told of them.
    (
        "lockedModerator",
        "Read-only for members; moderators can still write.",
    ),
    (
        "slowModeModerator",
        "Slow mode for members: one message every {s} s.",
    ),
    ("noticeDelete", "A message was removed by a moderator."),
    ("noticeEdit", "A message was edited by a moderator."),
    ("noticeMute", "{name} was muted by {by}."),
    ("noticeMuteUntil", "{name} was muted by {by} until {time}."),
    ("noticeUnmute", "{name} can write again."),
    ("noticeBan", "{name} was banned by {by}."),
    ("noticeBanUntil", "{name} was banned by {by} until {time}."),
    ("noticeUnban", "{name} was unbanned by {by}."),
    ("noticePurge", "Messages from {name} were removed by {by}."),
    // Whose, unknown: an erased user's (GDPR), or one who never wrote here.
    (
        "noticePurgeAnon",
        "A member's messages were removed by {by}.",
    ),
    (
        "noticeErased",
        "A member's data was erased at their request.",
    ),
    ("noticeSlow", "{by} turned on slow mode ({s} s)."),
    ("noticeSlowOff", "{by} turned off slow mode."),
    ("noticeLock", "{by} made the room read-only."),
    ("noticeUnlock", "{by} reopened the room."),
    ("noticePin", "{by} pinned a message."),
    ("noticeUnpin", "{by} unpinned a message."),
    ("pinned", "Pinned message"),
    ("goToPinned", "Go to the pinned message"),
    ("pin", "Pin"),
    ("unpin", "Unpin"),
    ("hideWho", "Hide messages from {name}"),
    ("unhideWho", "Show messages from {name}"),
    ("hiddenMessage", "Message from someone you hid"),
    ("reveal", "Show"),
    ("report", "Report"),
    ("reportWhy", "Why report this message?"),
    ("reportSpam", "Spam"),
    ("reportHarassment", "Harassment"),
    ("reportOther", "Something else"),
    ("reportedMark", "Reported"),
    ("reportedSay", "Reported. Moderators will review it."),
    // Said to moderators as one comes in.
    ("reportNew", "New report on a message from {name}."),
    ("reportCount", "{n} reports"),
    ("dismissReports", "Dismiss reports"),
    ("noticeReason", "{notice} Reason: {reason}"),
    ("someone", "Someone"),
    ("attach", "Attach files"),
    ("seenBy", "Seen by {n}"),
    ("seenByNames", "Seen by {names}"),
    ("notifySound", "Sound for new messages"),
    ("notifyDesktop", "Notifications for new messages"),
    ("attachments", "Files to send"),
    ("altLabel", "Description of {name}"),
    ("removeFile", "Remove {name}"),
    ("preparing", "Preparing…"),
    ("uploading", "Uploading"),
    ("openImage", "Open image: {alt}"),
    ("viewer", "Image: {alt}"),
    ("close", "Close"),
    ("attached", "Attached: {names}"),
    ("tooManyFiles", "At most {n} files per message."),
];

/// English's singulars, for the built-in texts whose count can be 1.
const DEFAULTS_ONE: &[(&str, &str)] = &[
    ("counter", "{n} character left"),
    ("newCount", "{n} new message"),
    ("tooManyFiles", "At most {n} file per message."),
    ("reportCount", "{n} report"),
];

fn lookup(table: &[(&str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

fn default(key: &str) -> &'static str {
    lookup(DEFAULTS, key).unwrap_or("")
}

impl Strings {
    pub fn new(overrides: Option<Object>, locale: Option<&str>) -> Self {
        // English (nothing given) counts in 0-9 and has its plural built in.
        let plural = overrides.as_ref().and_then(|_| intl("PluralRules", locale));
        let (zero, comma) = match overrides {
            Some(_) => zero_and_comma(locale),
            None => (None, None),
        };
        let list = intl(
            "ListFormat",
            overrides.as_ref().map_or(Some("en"), |_| locale),
        );
        Strings {
            overrides,
            plural,
            zero,
            list,
            comma,
            max_file_bytes: Cell::new(None),
        }
    }

    /// `names` as the locale lists them: "Ada, Bo, and Cy", "Ada, Bo und
    /// Cy" (joined by ", " where the browser cannot).
    pub fn list(&self, names: &[&str]) -> String {
        let names: Array = names.iter().map(|n| JsValue::from_str(n)).collect();
        self.list
            .as_ref()
            .and_then(|f| call(f, "format", &names)?.as_string())
            .unwrap_or_else(|| names.join(", ").into())
    }

    fn given(&self, key: &str) -> Option<String> {
        self.overrides
            .as_ref()
            .and_then(|o| Reflect::get(o, &JsValue::from_str(key)).ok())
            .and_then(|v| v.as_string())
    }

    pub fn get(&self, key: &str) -> String {
        self.given(key).unwrap_or_else(|| default(key).to_owned())
    }

    /// `key`'s plural form for `n` (`key.one`, `key.few`, …) if one is given.
    fn plural_form(&self, key: &str, n: &str) -> Option<String> {
        // Counts are whole numbers; parsing an f64 would pull Rust's float
        // parser (some 15 KB) into the widget.
        let n = parse_decimal(n)?;
        // The page's (or its language file's) form, even without the base text.
        let given = self.plural.as_ref().and_then(|rules| {
            let category = call(rules, "select", &(n as f64).into())?;
            self.given(&concat(&[key, ".", &category.as_string()?]))
        });
        if given.is_some() || self.given(key).is_some() {
            return given;
        }
        // The built-in English text: its only other form is the singular.
        lookup(DEFAULTS_ONE, key)
            .filter(|_| n == 1)
            .map(str::to_owned)
    }

    /// "Not sent: <why>", the why in the visitor's language where the
    /// language file has a text for its code (`error.too_long`, …), else
    /// the room's own words (English, and more precise: "message has 2300
    /// characters; the limit is 2000").
    pub fn not_sent(&self, error: &ProtocolError) -> String {
        let key = concat(&["error.", error.code.as_str()]);
        let max = self.max_file_bytes.get().map(size_at_most);
        let why = match (self.given(&key), error.code) {
            // "The file is too large (at most {max})": the site's limit, as
            // the room's words give it.
            (Some(_), ErrorCode::TooLarge) if max.is_none() => error.message.clone(),
            (Some(_), _) => {
                let max = self.decimal(&max.unwrap_or_default());
                self.fill(&key, &[("max", &max)])
            }
            (None, _) => error.message.clone(),
        };
        self.fill("notSent", &[("reason", &why)])
    }

    /// "Can't connect: <why>", the why in the visitor's language where it
    /// has a text for the close's error (a ban, an erased room, a refused
    /// token), else the room's words (a site's setup, for its developer:
    /// the origin or site named).
    pub fn cannot_connect(&self, close: u16, reason: &str) -> String {
        let why = close_code::error_code(close)
            .and_then(|code| self.given(&concat(&["error.", code.as_str()])))
            .unwrap_or_else(|| reason.to_owned());
        self.fill("failed", &[("reason", &why)])
    }

    /// `number` ("1.5 MB", written in 0-9 with a point) in the locale's
    /// digits and with its decimal separator.
    fn decimal(&self, number: &str) -> String {
        let digits = self.digits(number);
        let Some(comma) = self.comma else {
            return digits;
        };
        let mut out = String::with_capacity(digits.len());
        for c in digits.chars() {
            out.push_str(if c == '.' { comma } else { c }.encode_utf8(&mut [0; 4]));
        }
        out
    }

    /// `number` (written in 0-9) in the locale's digits.
    pub fn digits(&self, number: &str) -> String {
        match self.zero {
            // (`push_str`, not `push` or `collect`: this crate's copy of
            // `String::push` would be a second one in the widget.)
            Some(zero) => {
                let mut out = String::new();
                for c in number.chars() {
                    let c = match c.to_digit(10) {
                        Some(d) => char::from_u32(zero as u32 + d).unwrap_or(c),
                        None => c,
                    };
                    out.push_str(c.encode_utf8(&mut [0; 4]));
                }
                out
            }
            None => number.to_owned(),
        }
    }

    /// The string for `key` with `{var}` placeholders replaced.
    pub fn fill(&self, key: &str, vars: &[(&str, &str)]) -> String {
        let template = vars
            .iter()
            .find(|(k, _)| *k == "n")
            .and_then(|(_, n)| self.plural_form(key, n))
            .unwrap_or_else(|| self.get(key));
        let mut out = String::with_capacity(template.len());
        let mut rest = template.as_str();
        while let Some((before, after)) = split_once_ascii(rest, b'{') {
            out.push_str(before);
            match split_once_ascii(after, b'}').and_then(|(name, tail)| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (name, v, tail))
            }) {
                // Counts and seconds in the locale's digits.
                Some(("n" | "s", value, tail)) => {
                    out.push_str(&self.digits(value));
                    rest = tail;
                }
                Some((_, value, tail)) => {
                    out.push_str(value);
                    rest = tail;
                }
                None => {
                    // (Not `push('{')`: see `digits`.)
                    #[allow(clippy::single_char_add_str)]
                    out.push_str("{");
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::DEFAULTS;
    use protocol::json::{parse, Json};
    use protocol::ErrorCode;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// Every file in `sdk/locales`, listed by build.rs.
    const LOCALES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/locales.rs"));

    /// Every translation has every key (plural forms `key.one` count as
    /// `key`) and nothing else but `error.<code>` texts (the same codes in
    /// every file); every text keeps English's placeholders.
    #[wasm_bindgen_test]
    fn every_locale_has_every_key_and_placeholder() {
        let mut locales = 0;
        // The error codes the first file gives texts for: every file gives the same.
        let mut error_codes: Option<Vec<String>> = None;
        for (path, text) in LOCALES {
            let Ok(Json::Obj(pairs)) = parse(text) else {
                panic!("{path:?} is not a JSON object");
            };
            for (key, english) in DEFAULTS {
                let forms: Vec<&str> = pairs
                    .iter()
                    .filter(|(k, _)| {
                        k == key || k.strip_prefix(key).is_some_and(|r| r.starts_with('.'))
                    })
                    .filter_map(|(_, v)| v.as_str())
                    .collect();
                assert!(!forms.is_empty(), "{path:?} lacks {key}");
                for var in english.split('{').skip(1).filter_map(|s| s.split_once('}')) {
                    let var = format!("{{{}}}", var.0);
                    // A plural form may spell the number out ("one message").
                    assert!(
                        forms.iter().any(|f| f.contains(&var)),
                        "{path:?}: {key} lacks {var}"
                    );
                }
            }
            let mut codes: Vec<&str> = Vec::new();
            for (key, value) in &pairs {
                // A refusal's reason by its code (`Strings::not_sent`): a code
                // the protocol knows, and no placeholders but `{max}` in
                // `error.too_large` (the site's largest file), which it has.
                if let Some(code) = key.strip_prefix("error.") {
                    assert!(
                        ErrorCode::parse(code).is_some(),
                        "{path:?}: {key}: no such error code"
                    );
                    let text = value.as_str().unwrap_or("");
                    let rest = match code {
                        "too_large" => text.replacen("{max}", "", 1),
                        _ => text.to_owned(),
                    };
                    assert!(
                        !text.trim().is_empty() && !rest.contains(['{', '}']),
                        "{path:?}: {key} is not a text without other placeholders"
                    );
                    assert!(
                        code != "too_large" || text.contains("{max}"),
                        "{path:?}: {key} does not say the limit"
                    );
                    codes.push(code);
                    continue;
                }
                let base = key.split('.').next().unwrap_or(key);
                assert!(
                    DEFAULTS.iter().any(|(k, _)| *k == base),
                    "{path:?}: unknown key {key}"
                );
                // The reply bar splits it there (`View::reply_bar`).
                if base == "replyingTo" {
                    let t = value.as_str().unwrap_or("");
                    let (name, text) = (t.find("{name}"), t.find("{text}"));
                    assert!(
                        name < text && t.ends_with("{text}"),
                        "{path:?}: {key}: {{name}} first, {{text}} last"
                    );
                }
            }
            codes.sort_unstable();
            match &error_codes {
                None => error_codes = Some(codes.iter().map(|c| c.to_string()).collect()),
                Some(first) => assert_eq!(first, &codes, "{path:?}: error.* keys differ"),
            }
            locales += 1;
        }
        assert_eq!(locales, 15);
    }
}
