//! `@mentions` in the composer: while the word at the caret starts with `@`,
//! the names of people in the room that begin with what follows are offered
//! in a list; arrow keys move, Enter or Tab picks, Escape closes.
use protocol::text::concat;

/// Lower case by the browser's rules (Rust's would add its Unicode tables
/// to the widget).
pub fn lower(text: &str) -> String {
    String::from(js_sys::JsString::from(text).to_lower_case())
}

/// Most names offered at once.
const MAX_OFFERED: usize = 5;

#[derive(Default)]
pub struct Mentions {
    /// Names offered now (empty: the list is closed).
    pub offered: Vec<String>,
    pub active: usize,
    /// Where the `@` is, in bytes of the composer's text.
    at: usize,
}

/// The byte offset in `text` of UTF-16 position `utf16` (the DOM's caret).
fn byte_offset(text: &str, utf16: u32) -> usize {
    let mut units = 0u32;
    for (i, c) in text.char_indices() {
        if units >= utf16 {
            return i;
        }
        units += c.len_utf16() as u32;
    }
    text.len()
}

impl Mentions {
    /// The composer changed: offer names for the `@word` before the caret.
    /// The one picked with the arrows stays picked while the same names are offered.
    pub fn update(&mut self, text: &str, caret: u32, names: &[String], me: &str) {
        let was = std::mem::take(&mut self.offered);
        self.find(text, caret, names, me);
        if self.offered != was {
            self.active = 0;
        }
    }

    fn find(&mut self, text: &str, caret: u32, names: &[String], me: &str) {
        let end = byte_offset(text, caret);
        let before = &text[..end];
        // (Bytes, not `rfind('@')`: see `split_once_ascii`.)
        let Some(at) = before.bytes().rposition(|b| b == b'@') else {
            return;
        };
        let prefix = &before[at + 1..];
        let starts_word = before[..at].chars().last().is_none_or(char::is_whitespace);
        if !starts_word || prefix.chars().any(char::is_whitespace) {
            return;
        }
        let prefix = lower(prefix);
        self.at = at;
        self.offered = names
            .iter()
            .filter(|n| n.as_str() != me && lower(n).starts_with(&prefix))
            .take(MAX_OFFERED)
            .cloned()
            .collect();
    }

    /// Arrow keys move through the list.
    pub fn step(&mut self, down: bool) {
        let n = self.offered.len().max(1);
        self.active = if down {
            (self.active + 1) % n
        } else {
            (self.active + n - 1) % n
        };
    }

    /// `text` with the word at the caret replaced by `@name `; closes the list.
    pub fn complete(&mut self, text: &str, caret: u32, name: &str) -> String {
        let end = byte_offset(text, caret);
        let at = self.at.min(end);
        self.offered.clear();
        concat(&[&text[..at], "@", name, " ", &text[end..]])
    }
}
