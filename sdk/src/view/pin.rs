//! The pinned message, in a bar above the list (as YouTube and Twitch pin
//! a chat message): its author and text, its links live, scrolled within
//! the bar when long; moderators get Unpin.

use protocol::text::concat;
use protocol::ChatMessage;
use wasm_bindgen::JsCast;

use super::dom::{append, append_all, attr, each, element, find, focus, set_text};
use super::message::linked_text;
use super::View;

impl View {
    /// Show `pinned` (or nothing); `moderator`: with an Unpin button.
    pub fn pin_bar(&self, pinned: Option<&ChatMessage>, moderator: bool) {
        let bar = &self.pin_box;
        // Where focus was in the bar: its control's action ("" for the bar
        // itself or a link) and which of its links, to give it back after
        // the redraw.
        let had_focus = self.focused().filter(|f| bar.contains(Some(f))).map(|f| {
            (
                f.get_attribute("data-action").unwrap_or_default(),
                links(bar).iter().position(|a| a.is_same_node(Some(&f))),
            )
        });
        bar.set_text_content(None);
        bar.set_hidden(pinned.is_none());
        if let Some(m) = pinned {
            // Its author, as a button to go to the message in the list.
            let who = element(&self.doc, "button", "hc-pin-go");
            attr(&who, "type", "button");
            attr(&who, "data-action", "go");
            attr(&who, "title", &self.strings.get("goToPinned"));
            set_text(&who, &concat(&["📌 ", &m.name]));
            let text = element(&self.doc, "p", "");
            attr(&text, "dir", "auto");
            // A message of files only: its first file's name.
            match m.attachments.first() {
                Some(file) if m.message.is_empty() => {
                    set_text(&text, &concat(&["📎 ", &file.name]))
                }
                _ => linked_text(&self.doc, &text, &m.message, "0"),
            }
            append_all(bar, &[&who, &text]);
            if moderator {
                let unpin = element(&self.doc, "button", "hc-link");
                attr(&unpin, "type", "button");
                attr(&unpin, "data-action", "unpin");
                set_text(&unpin, &self.strings.get("unpin"));
                append(bar, &unpin);
            }
        }
        // A keyboard user reading the pin keeps their place when it is
        // edited; with the pin gone, focus goes to the list, not the page.
        if let Some((action, link)) = had_focus {
            let control = match link {
                // (The same link, if an edit left it there.)
                Some(n) => links(bar).into_iter().nth(n),
                None if !action.is_empty() => find(bar, &concat(&["[data-action=", &action, "]"])),
                None => None,
            };
            match (control, pinned.is_some()) {
                // (Our own button: an HTML element.)
                (Some(c), _) => focus(c.unchecked_ref()),
                (None, true) => focus(bar),
                (None, false) => focus(&self.log),
            }
        }
    }
}

/// The links in `bar`, in order.
fn links(bar: &web_sys::Element) -> Vec<web_sys::Element> {
    let mut found = Vec::new();
    each(bar, "a", &mut |a| found.push(a));
    found
}
