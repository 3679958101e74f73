//! Members the visitor chose to hide (as Discord, Twitch and YouTube let a
//! viewer block someone): each of their messages shows as one line,
//! "Message from someone you hid", with Show; the menu of a message shown
//! that way offers to show all of theirs again. Only this visitor's view
//! changes: the room is not told, and their notifications and read-outs
//! stop. The sender keys are kept per room and identity (`stored`,
//! "hidden"), as a room's sender keys are its own.

use protocol::text::{concat, join, split_once_ascii};
use web_sys::Element;

use super::dom::{append, attr, each, element, find, set_text};
use super::message;
use super::View;

/// Kept at most: the oldest hidden goes first.
const MAX_HIDDEN: usize = 100;

/// The sender keys kept in storage (space-separated).
pub fn parse(kept: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut rest = Some(kept);
    while let Some(s) = rest.filter(|_| keys.len() < MAX_HIDDEN) {
        let (key, more) = split_once_ascii(s, b' ').map_or((s, None), |(k, m)| (k, Some(m)));
        if !key.is_empty() {
            keys.push(key.to_owned());
        }
        rest = more;
    }
    keys
}

impl View {
    pub fn is_hidden(&self, sender: &str) -> bool {
        !sender.is_empty() && self.hidden.iter().any(|h| h == sender)
    }

    /// Hide `sender`'s messages, shown and to come; what to keep.
    pub fn hide(&mut self, sender: &str) -> String {
        if !self.is_hidden(sender) {
            if self.hidden.len() >= MAX_HIDDEN {
                self.hidden.remove(0);
            }
            self.hidden.push(sender.to_owned());
        }
        let selector = concat(&[".hc-msg[data-sender=\"", sender, "\"]:not([data-own])"]);
        each(&self.list, &selector, &mut |li| self.fold(&li));
        self.mark_quotes(&self.list);
        join(&self.hidden, " ")
    }

    /// Show `sender`'s messages again; what to keep.
    pub fn unhide(&mut self, sender: &str) -> String {
        self.hidden.retain(|h| h != sender);
        let selector = concat(&["[data-hidden][data-sender=\"", sender, "\"]"]);
        each(&self.list, &selector, &mut |li| unfold(&li));
        self.mark_quotes(&self.list);
        join(&self.hidden, " ")
    }

    /// Replies in `within` that quote a hidden member say so instead of
    /// their words (shown by CSS from `data-hidden`, so that Show puts the
    /// quote back as it was). Its tooltip, which names them, goes too, and
    /// the line is its name (CSS text is not one for every reader).
    pub(super) fn mark_quotes(&self, within: &Element) {
        let line = self.strings.get("hiddenMessage");
        each(within, ".hc-quote[data-sender]", &mut |q| {
            if self.is_hidden(&q.get_attribute("data-sender").unwrap_or_default()) {
                attr(&q, "data-hidden", &line);
                attr(&q, "aria-label", &line);
                let _ = q.remove_attribute("title");
            } else {
                let _ = q.remove_attribute("data-hidden");
                let _ = q.remove_attribute("aria-label");
                let name = find(&q, ".hc-quote-name").and_then(|n| n.text_content());
                message::hint_quote(&self.strings, &q, &name.unwrap_or_default());
            }
        });
    }

    /// Show message `li` as one line, with a button to show it.
    pub(super) fn fold(&self, li: &Element) {
        attr(li, "data-hidden", "");
        if find(li, ".hc-hidden").is_some() {
            return;
        }
        let line = element(&self.doc, "p", "hc-hidden");
        set_text(&line, &self.strings.get("hiddenMessage"));
        let show = element(&self.doc, "button", "hc-link");
        attr(&show, "type", "button");
        attr(&show, "data-action", "reveal");
        // Reached by Tab from the message, as its other buttons.
        attr(&show, "tabindex", "-1");
        set_text(&show, &self.strings.get("reveal"));
        append(&line, &show);
        let _ = li.insert_before(&line, li.first_child().as_ref());
    }
}

/// Show message `li` (hidden) as it is.
pub fn unfold(li: &Element) {
    let _ = li.remove_attribute("data-hidden");
    if let Some(line) = find(li, ".hc-hidden") {
        line.remove();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn kept_keys_are_read_back_and_bounded() {
        assert_eq!(parse(" k1  k2"), ["k1", "k2"]);
        assert!(parse("").is_empty());
        let many = (0..150)
            .map(|i| format!("k{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(parse(&many).len(), MAX_HIDDEN);
    }
}
