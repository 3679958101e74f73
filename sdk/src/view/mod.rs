//! The widget's DOM, inside a Shadow DOM root on a host element of its own
//! (so `destroy()` can remove everything, and the page's CSS cannot reach in).
//!
//! The view only displays: it decides nothing about the connection. The
//! controller tells it what to show.

mod dom;

use protocol::ChatMessage;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    Document, Element, HtmlButtonElement, HtmlElement, HtmlTextAreaElement, ShadowRootInit,
    ShadowRootMode,
};

use self::dom::{attr, element, html, iso_time, local_time, set_hidden, set_text};
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

pub struct View {
    doc: Document,
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

        container.append_with_node_7(&header, &banner, &log, &pill, &typing, &form, &announcer)?;
        root.append_child(&container)?;
        parent.append_child(&host)?;

        Ok(View {
            doc,
            host,
            online,
            banner,
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
        let li = element(&self.doc, "li", "hc-msg");
        let classes = li.class_list();
        if own {
            let _ = classes.add_1("hc-own");
        }
        if grouped {
            let _ = classes.add_1("hc-grouped");
        }
        attr(&li, "data-seq", &m.seq.to_string());
        let meta = element(&self.doc, "div", "hc-meta");
        let name = element(&self.doc, "span", "hc-name");
        set_text(&name, &m.name);
        let _ = meta.append_child(&name);
        if m.verified {
            // Signed by the site: a mark anonymous visitors cannot get.
            let mark = element(&self.doc, "span", "hc-verified");
            attr(&mark, "role", "img");
            attr(&mark, "aria-label", &self.strings.get("verified"));
            attr(&mark, "title", &self.strings.get("verified"));
            set_text(&mark, "✓");
            let _ = meta.append_child(&mark);
        }
        let time = element(&self.doc, "time", "");
        set_text(
            &time,
            &local_time(m.timestamp as f64, self.locale.as_deref()),
        );
        attr(&time, "datetime", &iso_time(m.timestamp as f64));
        let _ = meta.append_child(&time);
        let text = element(&self.doc, "p", "hc-text");
        attr(&text, "dir", "auto");
        set_text(&text, &m.message);
        let _ = li.append_with_node_2(&meta, &text);
        li
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
        let p = element(&self.doc, "p", "");
        set_text(
            &p,
            &self
                .strings
                .fill("announce", &[("name", &m.name), ("text", &m.message)]),
        );
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
