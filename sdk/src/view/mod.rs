//! The widget's DOM, inside a Shadow DOM root on a host element of its own
//! (so `destroy()` can remove everything, and the page's CSS cannot reach in).
//!
//! The view only displays: it decides nothing about the connection. The
//! controller tells it what to show.

mod dom;
pub mod menu;
mod message;

use protocol::ChatMessage;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    Document, Element, HtmlButtonElement, HtmlElement, HtmlTextAreaElement, ShadowRootInit,
    ShadowRootMode,
};

use self::dom::{attr, element, html, local_time, set_hidden, set_text};
use crate::options::Options;
use crate::strings::Strings;

const STYLES: &str = include_str!("styles.css");
/// Consecutive messages by the same person within this time share one header.
const GROUP_WINDOW_MS: u64 = 5 * 60 * 1000;
/// Distance from the bottom (px) that still counts as "at the bottom".
const STICK_SLOP_PX: i32 = 48;
/// Most announcements kept in the screen-reader live region.
const MAX_ANNOUNCEMENTS: u32 = 5;

/// Styles as a constructed stylesheet: unlike a `<style>` element, it is not
/// blocked by a host page's `style-src` CSP. Older browsers get the element.
fn adopt_styles(doc: &Document, root: &web_sys::ShadowRoot) -> Result<(), JsValue> {
    let adopted = web_sys::CssStyleSheet::new().and_then(|sheet| {
        sheet.replace_sync(STYLES)?;
        js_sys::Reflect::set(
            root,
            &"adoptedStyleSheets".into(),
            &js_sys::Array::of1(&sheet),
        )?;
        Ok(())
    });
    if adopted.is_err() {
        let style = element(doc, "style", "");
        set_text(&style, STYLES);
        root.append_child(&style)?;
    }
    Ok(())
}

/// "14:05" for a time in ms since the epoch, in the visitor's locale.
pub fn time_of(ms: u64) -> String {
    local_time(ms as f64, None)
}

pub struct View {
    pub(crate) doc: Document,
    host: HtmlElement,
    online: Element,
    banner: HtmlElement,
    pub log: HtmlElement,
    pub earlier: HtmlButtonElement,
    list: Element,
    pub outbox: Element,
    empty: HtmlElement,
    pub pill: HtmlButtonElement,
    typing: Element,
    pub input: HtmlTextAreaElement,
    counter: HtmlElement,
    pub form: HtmlElement,
    send: HtmlButtonElement,
    announcer: Element,
    pub strings: Strings,
    room_banner: HtmlElement,
    pub reply_box: HtmlElement,
    pub suggest: HtmlElement,
    /// The viewer's display name (mentions of it are highlighted).
    pub me: Option<String>,
    locale: Option<String>,
    /// (sender, timestamp, own) of the newest message shown, for grouping.
    last: Option<(String, u64, bool)>,
    shown: u32,
}

/// Messages group under one header when they come from the same sender key
/// (not the same name: two people may both be "Ada").
fn same_group(prev: &Option<(String, u64, bool)>, next: &ChatMessage, own: bool) -> bool {
    prev.as_ref().is_some_and(|(sender, ts, was_own)| {
        *sender == next.sender
            && *was_own == own
            && next.timestamp.saturating_sub(*ts) < GROUP_WINDOW_MS
    })
}

impl View {
    pub fn mount(parent: &Element, options: &Options, strings: Strings) -> Result<View, JsValue> {
        let doc = parent
            .owner_document()
            .ok_or("HelloChat.mount: element is not in a document")?;
        let host = html(&doc, "div", "");
        attr(&host, "data-hello-chat-host", "");
        let root = host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))?;

        adopt_styles(&doc, &root)?;
        let container = html(&doc, "section", "hc");
        attr(&container, "data-theme", &options.theme);
        attr(&container, "dir", if options.rtl { "rtl" } else { "ltr" });
        if let Some(locale) = &options.locale {
            attr(&container, "lang", locale);
        }
        attr(&container, "aria-label", &strings.get("title"));
        if let Some(h) = &options.height {
            let _ = container.style().set_property("--_height", h);
        }

        let header = element(&doc, "header", "hc-header");
        let title = element(&doc, "h2", "hc-title");
        set_text(&title, &format!("#{}", options.room));
        let online = element(&doc, "span", "hc-online");
        header.append_with_node_2(&title, &online)?;

        let banner = html(&doc, "div", "hc-banner");
        attr(&banner, "role", "status");
        set_hidden(&banner, true);
        // What the room lets us do (muted, read-only, slow mode), apart from the connection.
        let room_banner = html(&doc, "div", "hc-roombanner");
        attr(&room_banner, "role", "status");
        set_hidden(&room_banner, true);

        let log = html(&doc, "div", "hc-log");
        attr(&log, "role", "log");
        // History pages are not read out; new messages go through `announcer`.
        attr(&log, "aria-live", "off");
        attr(&log, "aria-label", &strings.get("logLabel"));
        log.set_tab_index(0);
        let earlier: HtmlButtonElement = element(&doc, "button", "hc-earlier").unchecked_into();
        earlier.set_type("button");
        set_text(&earlier, &strings.get("loadEarlier"));
        earlier.set_hidden(true);
        let empty = html(&doc, "p", "hc-empty");
        set_text(&empty, &strings.get("empty"));
        empty.set_hidden(true);
        let list = element(&doc, "ol", "hc-list");
        let outbox = element(&doc, "ol", "hc-list hc-outbox");
        log.append_with_node_4(&earlier, &empty, &list, &outbox)?;

        let pill: HtmlButtonElement = element(&doc, "button", "hc-pill").unchecked_into();
        pill.set_type("button");
        set_text(&pill, &format!("{} ↓", strings.get("newMessages")));
        pill.set_hidden(true);

        let typing = element(&doc, "div", "hc-typing");

        let reply_bar = html(&doc, "div", "hc-replybar");
        reply_bar.set_hidden(true);
        let suggest = html(&doc, "ul", "hc-suggest");
        attr(&suggest, "role", "listbox");
        attr(&suggest, "id", "hc-suggest");
        attr(&suggest, "aria-label", &strings.get("mentionList"));
        suggest.set_hidden(true);

        let form = html(&doc, "form", "hc-composer");
        let input: HtmlTextAreaElement = element(&doc, "textarea", "hc-input").unchecked_into();
        input.set_rows(1);
        let placeholder = options
            .placeholder
            .clone()
            .unwrap_or_else(|| strings.get("placeholder"));
        input.set_placeholder(&placeholder);
        attr(&input, "aria-label", &strings.get("messageLabel"));
        attr(&input, "enterkeyhint", "send");
        attr(&input, "aria-autocomplete", "list");
        attr(&input, "aria-controls", "hc-suggest");
        let counter = html(&doc, "span", "hc-counter");
        attr(&counter, "aria-live", "polite");
        counter.set_hidden(true);
        let send: HtmlButtonElement = element(&doc, "button", "hc-send").unchecked_into();
        send.set_type("submit");
        set_text(&send, &strings.get("send"));
        form.append_with_node_3(&input, &counter, &send)?;

        let announcer = element(&doc, "div", "hc-sr");
        attr(&announcer, "aria-live", "polite");
        attr(&announcer, "aria-atomic", "false");

        container.append_with_node_7(
            &header,
            &banner,
            &room_banner,
            &log,
            &pill,
            &typing,
            &reply_bar,
        )?;
        container.append_with_node_3(&suggest, &form, &announcer)?;
        root.append_child(&container)?;
        parent.append_child(&host)?;

        Ok(View {
            doc,
            host,
            online,
            banner,
            room_banner,
            reply_box: reply_bar,
            suggest,
            log,
            earlier,
            list,
            outbox,
            empty,
            pill,
            typing,
            input,
            counter,
            form,
            send,
            announcer,
            strings,
            locale: options.locale.clone(),
            me: None,
            last: None,
            shown: 0,
        })
    }

    /// Remove every node the widget added to the page.
    pub fn remove(&self) {
        self.host.remove();
    }

    // ----- the message list -----

    fn message_item(&self, m: &ChatMessage, own: bool, grouped: bool) -> Element {
        let look = message::Look {
            own,
            grouped,
            me: self.me.as_deref(),
            locale: self.locale.as_deref(),
        };
        message::item(&self.doc, &self.strings, m, &look)
    }

    /// The `<li>` of message `seq`, if it is in the DOM.
    pub fn item(&self, seq: u64) -> Option<Element> {
        self.list
            .query_selector(&format!("[data-seq=\"{seq}\"]"))
            .ok()
            .flatten()
    }

    /// Show `m`'s new state where it is (if it is shown at all).
    pub fn update(&self, m: &ChatMessage, own: bool) {
        let Some(li) = self.item(m.seq) else { return };
        let grouped = li.class_list().contains("hc-grouped");
        let look = message::Look {
            own,
            grouped,
            me: self.me.as_deref(),
            locale: self.locale.as_deref(),
        };
        message::fill(&self.doc, &self.strings, &li, m, &look);
    }

    /// Tombstone every shown message of `sender` (a moderator's purge).
    pub fn purge(&self, sender: &str) {
        let Ok(items) = self.list.query_selector_all(".hc-msg:not([data-deleted])") else {
            return;
        };
        for i in 0..items.length() {
            let Some(li) = items.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
                continue;
            };
            if li.get_attribute("data-sender").as_deref() != Some(sender) {
                continue;
            }
            let data = |k: &str| li.get_attribute(k).unwrap_or_default();
            let tomb = ChatMessage {
                seq: data("data-seq").parse().unwrap_or(0),
                name: data("data-name"),
                sender: data("data-sender"),
                timestamp: data("data-ts").parse().unwrap_or(0),
                deleted: true,
                ..ChatMessage::default()
            };
            let own = li.has_attribute("data-own");
            let grouped = li.class_list().contains("hc-grouped");
            let look = message::Look {
                own,
                grouped,
                me: None,
                locale: self.locale.as_deref(),
            };
            message::fill(&self.doc, &self.strings, &li, &tomb, &look);
        }
    }

    /// A moderation notice as a line in the list, read out politely.
    pub fn notice(&mut self, text: &str) {
        let stick = self.at_bottom();
        let _ = self.list.append_child(&message::notice(&self.doc, text));
        self.last = None;
        self.say(text);
        if stick {
            self.scroll_to_bottom();
        }
    }

    pub fn at_bottom(&self) -> bool {
        self.log.scroll_top() + self.log.client_height() >= self.log.scroll_height() - STICK_SLOP_PX
    }

    pub fn scroll_to_bottom(&self) {
        self.log.set_scroll_top(self.log.scroll_height());
        self.pill.set_hidden(true);
    }

    /// Append confirmed messages in order. Keeps the view pinned to the bottom
    /// if it was there; otherwise shows the "new messages" pill.
    pub fn append(&mut self, messages: &[ChatMessage], is_own: impl Fn(&ChatMessage) -> bool) {
        let stick = self.at_bottom();
        for m in messages {
            let own = is_own(m);
            let grouped = same_group(&self.last, m, own);
            let _ = self.list.append_child(&self.message_item(m, own, grouped));
            self.last = Some((m.sender.clone(), m.timestamp, own));
            self.shown += 1;
        }
        self.show_empty_hint();
        if stick {
            self.scroll_to_bottom();
        } else if !messages.is_empty() {
            self.pill.set_hidden(false);
        }
    }

    /// Insert older messages above the current ones without moving what the
    /// visitor is looking at.
    pub fn prepend(
        &mut self,
        messages: &[ChatMessage],
        more: bool,
        is_own: impl Fn(&ChatMessage) -> bool,
    ) {
        let before = self.log.scroll_height();
        let fragment = self.doc.create_document_fragment();
        let mut prev: Option<(String, u64, bool)> = None;
        for m in messages {
            let own = is_own(m);
            let grouped = same_group(&prev, m, own);
            let _ = fragment.append_child(&self.message_item(m, own, grouped));
            prev = Some((m.sender.clone(), m.timestamp, own));
        }
        let _ = self
            .list
            .insert_before(&fragment, self.list.first_child().as_ref());
        self.shown += messages.len() as u32;
        self.show_empty_hint();
        self.set_more_available(more);
        self.log
            .set_scroll_top(self.log.scroll_top() + self.log.scroll_height() - before);
    }

    pub fn set_more_available(&self, more: bool) {
        self.earlier.set_hidden(!more);
    }

    /// Keep at most `max` messages in the DOM, dropping the oldest, but only
    /// while the visitor is at the bottom (not reading older ones). Returns
    /// the seq of the oldest message kept if any were dropped.
    pub fn trim(&mut self, max: u32) -> Option<u64> {
        if self.shown <= max || !self.at_bottom() {
            return None;
        }
        while self.shown > max {
            let first = self.list.first_element_child()?;
            first.remove();
            self.shown -= 1;
        }
        let oldest = self
            .list
            .first_element_child()?
            .get_attribute("data-seq")?
            .parse()
            .ok();
        // The first kept message now starts a group.
        if let Some(first) = self.list.first_element_child() {
            let _ = first.class_list().remove_1("hc-grouped");
        }
        oldest
    }

    /// "No messages yet" while nothing is shown.
    fn show_empty_hint(&self) {
        self.empty.set_hidden(self.shown > 0);
    }

    // ----- the outbox (own messages not yet confirmed) -----

    fn outbox_item(&self, id: &str) -> Option<Element> {
        let mut child = self.outbox.first_element_child();
        while let Some(el) = child {
            if el.get_attribute("data-id").as_deref() == Some(id) {
                return Some(el);
            }
            child = el.next_element_sibling();
        }
        None
    }

    pub fn pending(&self, id: &str, text: &str) {
        let li = match self.outbox_item(id) {
            Some(li) => {
                li.set_text_content(None);
                li
            }
            None => {
                let li = element(&self.doc, "li", "hc-msg hc-own");
                attr(&li, "data-id", id);
                let _ = self.outbox.append_child(&li);
                li
            }
        };
        attr(&li, "data-state", "pending");
        let p = element(&self.doc, "p", "hc-text");
        attr(&p, "dir", "auto");
        set_text(&p, text);
        let state = element(&self.doc, "span", "hc-state");
        set_text(&state, &self.strings.get("pending"));
        let _ = li.append_with_node_2(&p, &state);
        self.scroll_to_bottom();
    }

    pub fn failed(&self, id: &str, reason: &str) {
        let Some(li) = self.outbox_item(id) else {
            return;
        };
        attr(&li, "data-state", "failed");
        if let Some(state) = li.query_selector(".hc-state").ok().flatten() {
            set_text(&state, &self.strings.fill("notSent", &[("reason", reason)]));
            for (action, key) in [("retry", "retry"), ("discard", "discard")] {
                let b = element(&self.doc, "button", "hc-link");
                attr(&b, "type", "button");
                attr(&b, "data-action", action);
                set_text(&b, &self.strings.get(key));
                let _ = state.append_child(&b);
            }
        }
    }

    pub fn remove_pending(&self, id: &str) {
        if let Some(li) = self.outbox_item(id) {
            li.remove();
        }
    }

    // ----- status, presence, typing -----

    pub fn banner(&self, kind: &str, text: Option<&str>) {
        match text {
            Some(t) => {
                set_text(&self.banner, t);
                attr(&self.banner, "data-kind", kind);
                self.banner.set_hidden(false);
            }
            None => self.banner.set_hidden(true),
        }
    }

    /// The room's rules for us (muted, read-only, slow mode), or nothing.
    pub fn room_banner(&self, text: Option<&str>) {
        match text {
            Some(t) => {
                set_text(&self.room_banner, t);
                self.room_banner.set_hidden(false);
            }
            None => self.room_banner.set_hidden(true),
        }
    }

    /// "Replying to Ada: …" above the composer, with a button to cancel.
    pub fn reply_bar(&self, to: Option<(&str, &str)>) {
        self.reply_box.set_text_content(None);
        let Some((name, excerpt)) = to else {
            self.reply_box.set_hidden(true);
            return;
        };
        let label = element(&self.doc, "span", "hc-replyto");
        set_text(
            &label,
            &self
                .strings
                .fill("replyingTo", &[("name", name), ("text", excerpt)]),
        );
        let cancel = element(&self.doc, "button", "hc-link");
        attr(&cancel, "type", "button");
        attr(&cancel, "data-action", "cancel-reply");
        set_text(&cancel, &self.strings.get("cancelReply"));
        let _ = self.reply_box.append_with_node_2(&label, &cancel);
        self.reply_box.set_hidden(false);
        let _ = self.input.focus();
    }

    /// The composer can send (or not: muted, read-only room).
    pub fn set_composer_enabled(&self, enabled: bool) {
        self.input.set_disabled(!enabled);
        if !enabled {
            self.send.set_disabled(true);
        }
    }

    /// Names to complete an `@mention` with (none: hide the list). The
    /// `active` one is marked for assistive technology.
    pub fn suggestions(&self, names: &[String], active: usize) {
        self.suggest.set_text_content(None);
        self.suggest.set_hidden(names.is_empty());
        if names.is_empty() {
            let _ = self.input.remove_attribute("aria-activedescendant");
            return;
        }
        for (i, name) in names.iter().enumerate() {
            let li = element(&self.doc, "li", "hc-option");
            attr(&li, "role", "option");
            attr(&li, "id", &format!("hc-opt-{i}"));
            attr(&li, "data-name", name);
            attr(
                &li,
                "aria-selected",
                if i == active { "true" } else { "false" },
            );
            set_text(&li, &format!("@{name}"));
            let _ = self.suggest.append_child(&li);
        }
        attr(
            &self.input,
            "aria-activedescendant",
            &format!("hc-opt-{active}"),
        );
    }

    pub fn set_online(&self, n: u32) {
        set_text(
            &self.online,
            &self.strings.fill("online", &[("n", &n.to_string())]),
        );
    }

    pub fn set_typing(&self, name: Option<&str>) {
        match name {
            Some(n) => set_text(&self.typing, &self.strings.fill("typing", &[("name", n)])),
            None => set_text(&self.typing, ""),
        }
    }

    /// Read a new message out to screen-reader users (history is not).
    pub fn announce(&self, m: &ChatMessage) {
        self.say(
            &self
                .strings
                .fill("announce", &[("name", &m.name), ("text", &m.message)]),
        );
    }

    /// Say `text` through the polite live region.
    fn say(&self, text: &str) {
        let p = element(&self.doc, "p", "");
        set_text(&p, text);
        let _ = self.announcer.append_child(&p);
        while self.announcer.child_element_count() > MAX_ANNOUNCEMENTS {
            if let Some(first) = self.announcer.first_element_child() {
                first.remove();
            }
        }
    }

    // ----- the composer -----

    pub fn input_text(&self) -> String {
        self.input.value()
    }

    pub fn set_input_text(&self, text: &str) {
        self.input.set_value(text);
    }

    /// Where the caret is in the composer (in UTF-16 units, as the DOM counts).
    pub fn caret(&self) -> u32 {
        self.input.selection_start().ok().flatten().unwrap_or(0)
    }

    pub fn clear_input(&self) {
        self.input.set_value("");
    }

    /// Show the remaining characters when close to the limit; block sending over it.
    pub fn update_counter(&self, max: usize) {
        let len = self.input.value().trim().chars().count();
        let left = max as i64 - len as i64;
        let near = len * 5 >= max * 4;
        self.counter.set_hidden(!near);
        if near {
            set_text(&self.counter, &left.to_string());
            attr(
                &self.counter,
                "aria-label",
                &self.strings.fill("counter", &[("n", &left.to_string())]),
            );
            if left < 0 {
                attr(&self.counter, "data-over", "");
            } else {
                let _ = self.counter.remove_attribute("data-over");
            }
        }
        self.send.set_disabled(left < 0);
    }
}
