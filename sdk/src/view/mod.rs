//! The widget's DOM, inside a Shadow DOM root on a host element of its own
//! (so `destroy()` can remove everything, and the page's CSS cannot reach in).
//!
//! The view only displays: it decides nothing about the connection. The
//! controller tells it what to show.

pub mod attachments;
pub(crate) mod dom;
pub mod hidden;
mod log_keys;
pub mod menu;
pub(crate) mod message;
mod pin;

use protocol::message::{ModerationNotice, ReplyRef};
use protocol::outbox::Action;
use protocol::report::ReportCounts;
use protocol::session::OutgoingFile;
use protocol::text::{concat, decimal, join, signed, split_once_ascii};
use protocol::{ChatMessage, ProtocolError};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    Document, Element, HtmlButtonElement, HtmlElement, HtmlInputElement, HtmlTextAreaElement,
    ShadowRootInit, ShadowRootMode,
};

use self::dom::{
    append, append_all, attr, cast, closest, each, element, find, focus, html, invoke, local_day,
    number, prop, set_class, set_hidden, set_text, unset,
};
use crate::options::Options;
use crate::strings::Strings;

/// `styles.css`, minified by `build.rs`.
const STYLES: &str = include_str!(concat!(env!("OUT_DIR"), "/styles.css"));
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
    pub(crate) doc: Document,
    host: HtmlElement,
    /// The widget's box: files dropped anywhere on it are attached.
    pub container: HtmlElement,
    online: Element,
    /// The sound and notification toggles, when the page asked for them.
    pub sound: Option<HtmlButtonElement>,
    pub bell: Option<HtmlButtonElement>,
    banner: HtmlElement,
    pub log: HtmlElement,
    pub earlier: HtmlButtonElement,
    pub(crate) list: Element,
    pub outbox: Element,
    empty: HtmlElement,
    pub pill: HtmlButtonElement,
    typing: Element,
    pub input: HtmlTextAreaElement,
    /// The files staged to go with the next message.
    pub tray: HtmlElement,
    /// The "Attach files" button and the file input it opens.
    pub attach: HtmlButtonElement,
    pub picker: HtmlInputElement,
    counter: HtmlElement,
    /// The hundred of characters left last read out (see `update_counter`).
    counter_said: std::cell::Cell<i64>,
    /// The browser has no `field-sizing: content` (Firefox): the composer
    /// grows with its text by hand (see `update_counter`).
    grow_by_hand: bool,
    /// The connection banner was read out: its end will be too.
    outage_said: std::cell::Cell<bool>,
    pub form: HtmlElement,
    send: HtmlButtonElement,
    announcer: Element,
    pub strings: Strings,
    room_banner: HtmlElement,
    /// The pinned message (see `pin`).
    pub pin_box: HtmlElement,
    pub reply_box: HtmlElement,
    pub suggest: HtmlElement,
    /// The viewer's display name (mentions of it are highlighted).
    pub me: Option<String>,
    /// The sender keys of members the visitor hid (see `hidden`).
    pub hidden: Vec<String>,
    pub(crate) locale: Option<String>,
    server: String,
    /// Object URLs of our own sent files by key, shown until the room sends
    /// their URLs.
    pub local_files: Vec<(String, String)>,
    /// Moderators: open reports by message seq; everyone: the messages this
    /// visitor reported here (their menu says so).
    pub(crate) flags: Vec<ReportCounts>,
    /// The visitor moderates the room: others' tombstones keep ⋯ (Mute, Ban).
    pub(crate) moderator: bool,
    pub(crate) reported: Vec<u64>,
    /// The open image viewer and the thumbnail that opened it.
    viewer: Option<(Element, Element)>,
    /// (sender, timestamp, own) of the newest message shown, for grouping.
    last: Option<(String, u64, bool)>,
    /// The day (as shown) of the newest message shown: a message on another
    /// day is labelled with its own (`data-day`, shown by the stylesheet).
    last_day: Option<String>,
    shown: u32,
    /// The list was at the bottom when last scrolled: when it is resized (an
    /// on-screen keyboard, a taller composer, a panel opening), it stays there.
    pub(crate) stuck_to_bottom: bool,
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
            // On the host too: the stylesheet's reset of `.hc` takes the
            // rendering locale (CJK glyphs, hyphenation) from there.
            attr(&host, "lang", locale);
        }
        attr(&container, "aria-label", &strings.get("title"));
        if let Some(h) = &options.height {
            let style = prop(&container, "style");
            invoke(&style, "setProperty", &"--_height".into(), &h.into());
        }

        let header = element(&doc, "header", "hc-header");
        let title = element(&doc, "h2", "hc-title");
        set_text(&title, &concat(&["#", &options.room]));
        attr(&title, "dir", "ltr");
        let online = element(&doc, "span", "hc-online");
        append_all(&header, &[&title, &online]);
        // Off until the visitor turns them on (the page's script keeps the choice).
        let toggle =
            |on: bool, label: &str, icon: &str| -> Result<Option<HtmlButtonElement>, JsValue> {
                if !on {
                    return Ok(None);
                }
                let b: HtmlButtonElement = element(&doc, "button", "hc-toggle").unchecked_into();
                attr(&b, "type", "button");
                attr(&b, "aria-label", &strings.get(label));
                attr(&b, "title", &strings.get(label));
                attr(&b, "aria-pressed", "false");
                set_text(&b, icon);
                header.append_child(&b)?;
                Ok(Some(b))
            };
        let sound = toggle(options.notify_sound, "notifySound", "🔈")?;
        let bell = toggle(options.notify_desktop, "notifyDesktop", "🔔")?;

        // Not a live region: its countdown changes every second. What it
        // says is read out by `banner` when it changes for real.
        let banner = html(&doc, "div", "hc-banner");
        set_hidden(&banner, true);
        // What the room lets us do (muted, read-only, slow mode), apart
        // from the connection. Not a live region either: the controller
        // reads a new rule out once, with the notice that made it if any.
        let room_banner = html(&doc, "div", "hc-roombanner");
        set_hidden(&room_banner, true);
        let pin_box = html(&doc, "div", "hc-pin");
        attr(&pin_box, "role", "region");
        attr(&pin_box, "aria-label", &strings.get("pinned"));
        // Scrolled within when long: reachable by keyboard to scroll it.
        attr(&pin_box, "tabindex", "0");
        pin_box.set_hidden(true);

        let log = html(&doc, "div", "hc-log");
        attr(&log, "role", "log");
        // History pages are not read out; new messages go through `announcer`.
        attr(&log, "aria-live", "off");
        attr(&log, "aria-label", &strings.get("logLabel"));
        attr(&log, "tabindex", "0");
        let earlier: HtmlButtonElement = element(&doc, "button", "hc-earlier").unchecked_into();
        attr(&earlier, "type", "button");
        set_text(&earlier, &strings.get("loadEarlier"));
        earlier.set_hidden(true);
        let empty = html(&doc, "p", "hc-empty");
        set_text(&empty, &strings.get("empty"));
        empty.set_hidden(true);
        let list = element(&doc, "ol", "hc-list");
        let outbox = element(&doc, "ol", "hc-list hc-outbox");
        append_all(&log, &[&earlier, &empty, &list, &outbox]);

        let pill: HtmlButtonElement = element(&doc, "button", "hc-pill").unchecked_into();
        attr(&pill, "type", "button");
        set_text(&pill, &(strings.get("newMessages") + " ↓"));
        pill.set_hidden(true);

        let typing = element(&doc, "div", "hc-typing");

        let reply_bar = html(&doc, "div", "hc-replybar");
        reply_bar.set_hidden(true);
        let suggest = html(&doc, "ul", "hc-suggest");
        attr(&suggest, "role", "listbox");
        attr(&suggest, "id", "hc-suggest");
        attr(&suggest, "aria-label", &strings.get("mentionList"));
        suggest.set_hidden(true);

        let tray = html(&doc, "ul", "hc-tray");
        attr(&tray, "aria-label", &strings.get("attachments"));
        let form = html(&doc, "form", "hc-composer");
        let attach: HtmlButtonElement = element(&doc, "button", "hc-attach").unchecked_into();
        attr(&attach, "type", "button");
        attr(&attach, "aria-label", &strings.get("attach"));
        let picker: HtmlInputElement = element(&doc, "input", "").unchecked_into();
        attr(&picker, "type", "file");
        attr(&picker, "multiple", "");
        picker.set_hidden(true);
        // The types the service can check, until the room says which of
        // them the site accepts (`set_file_types`).
        attr(&picker, "accept", &join(&protocol::limits::FILE_TYPES, ","));
        let input: HtmlTextAreaElement = element(&doc, "textarea", "hc-input").unchecked_into();
        attr(&input, "rows", "1");
        // Right-to-left text typed in a left-to-right widget shows as typed.
        attr(&input, "dir", "auto");
        let placeholder = options
            .placeholder
            .clone()
            .unwrap_or_else(|| strings.get("placeholder"));
        attr(&input, "placeholder", &placeholder);
        attr(&input, "aria-label", &strings.get("messageLabel"));
        attr(&input, "enterkeyhint", "send");
        attr(&input, "aria-autocomplete", "list");
        attr(&input, "aria-controls", "hc-suggest");
        let counter = html(&doc, "span", "hc-counter");
        // "-10", not "10-", in a right-to-left widget.
        attr(&counter, "dir", "ltr");
        counter.set_hidden(true);
        let send: HtmlButtonElement = element(&doc, "button", "hc-send").unchecked_into();
        attr(&send, "type", "submit");
        set_text(&send, &strings.get("send"));
        append_all(&form, &[&attach, &picker, &input, &counter, &send]);

        let announcer = element(&doc, "div", "hc-sr");
        attr(&announcer, "aria-live", "polite");
        attr(&announcer, "aria-atomic", "false");

        // The pill floats over the list's bottom edge, whatever opens below it.
        let main = html(&doc, "div", "hc-main");
        append_all(&main, &[&log, &pill]);
        append_all(
            &container,
            &[
                &header,
                &banner,
                &room_banner,
                &pin_box,
                &main,
                &typing,
                &reply_bar,
            ],
        );
        append_all(&container, &[&suggest, &tray, &form, &announcer]);
        root.append_child(&container)?;
        parent.append_child(&host)?;

        Ok(View {
            doc,
            host,
            container,
            tray,
            attach,
            picker,
            server: options.server.clone(),
            local_files: Vec::new(),
            hidden: Vec::new(),
            flags: Vec::new(),
            moderator: false,
            reported: Vec::new(),
            viewer: None,
            online,
            sound,
            bell,
            banner,
            room_banner,
            pin_box,
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
            counter_said: std::cell::Cell::new(i64::MAX),
            grow_by_hand: !invoke(
                &prop(&crate::global::global(), "CSS"),
                "supports",
                &"field-sizing".into(),
                &"content".into(),
            )
            .is_truthy(),
            outage_said: std::cell::Cell::new(false),
            form,
            send,
            announcer,
            strings,
            locale: options.locale.clone(),
            me: None,
            last: None,
            last_day: None,
            shown: 0,
            stuck_to_bottom: true,
        })
    }

    /// Remove every node the widget added to the page.
    pub fn remove(&self) {
        self.host.remove();
    }

    // ----- the message list -----

    fn look(&self, own: bool, grouped: bool) -> message::Look<'_> {
        message::Look {
            own,
            grouped,
            me: self.me.as_deref(),
            locale: self.locale.as_deref(),
            server: &self.server,
            local: &self.local_files,
            flags: &self.flags,
            moderator: self.moderator,
        }
    }

    /// Moderators: show the open reports (`all`: these and no others).
    /// Returns a message that has more than before, if one has.
    pub fn show_reports(&mut self, counts: &[ReportCounts], all: bool) -> Option<u64> {
        let gone: Vec<ReportCounts> = if all {
            std::mem::take(&mut self.flags)
                .iter()
                .map(|c| ReportCounts::new(c.target))
                .collect()
        } else {
            Vec::new()
        };
        let mut more = None;
        for c in gone.into_iter().chain(counts.iter().copied()) {
            let had = self
                .flags
                .iter()
                .find(|f| f.target == c.target)
                .map_or(0, ReportCounts::total);
            if !all && c.total() > had {
                more = Some(c.target);
            }
            self.flags.retain(|f| f.target != c.target);
            if let Some(li) = self.item(c.target) {
                message::flag(&self.doc, &self.strings, &li, Some(&c));
            }
            if c.total() > 0 {
                self.flags.push(c);
            }
        }
        more
    }

    /// The `<li>` for `m`, after one on `prev_day` (see `last_day`); returns
    /// `m`'s day too. A new day also starts a new group.
    fn message_item(
        &self,
        m: &ChatMessage,
        own: bool,
        grouped: bool,
        prev_day: Option<&str>,
    ) -> (Element, String) {
        let day = local_day(m.timestamp as f64, self.locale.as_deref());
        let new_day = prev_day != Some(day.as_str());
        let li = message::item(
            &self.doc,
            &self.strings,
            m,
            &self.look(own, grouped && !new_day),
        );
        if new_day {
            attr(&li, "data-day", &day);
        }
        if !own && self.is_hidden(&m.sender) {
            self.fold(&li);
        }
        self.mark_quotes(&li);
        (li, day)
    }

    /// "Seen by Bo and Cy" under our message `seq`, or "Seen by 5" past
    /// three readers (names on hover and for screen readers); nothing when
    /// nobody else has read it.
    pub fn seen(&self, seq: u64, names: &[&str]) {
        if let Some(old) = find(&self.list, ".hc-seen") {
            old.remove();
        }
        let Some(li) = self.item(seq).filter(|_| !names.is_empty()) else {
            return;
        };
        let seen = element(&self.doc, "p", "hc-seen");
        let n = decimal(names.len() as u64);
        let all = self
            .strings
            .fill("seenByNames", &[("names", &self.strings.list(names))]);
        // A few names are shown (a touch screen has no hover), more are counted.
        if names.len() > 3 {
            set_text(&seen, &self.strings.fill("seenBy", &[("n", &n)]));
        } else {
            set_text(&seen, &all);
        }
        attr(&seen, "title", &all);
        // A note, so that its label (the names) is what is read.
        attr(&seen, "role", "note");
        attr(&seen, "aria-label", &all);
        attr(&seen, "tabindex", "-1");
        // Above an open menu or editor: Tab walks the message, then those.
        let open = find(&li, ".hc-menu,.hc-dialog");
        let _ = li.insert_before(&seen, open.as_deref());
    }

    /// The "New messages" line, above message `seq` now.
    /// (An item of its own, so that it is read before that message.)
    pub fn mark_new(&self, seq: u64) {
        if let Some(old) = find(&self.list, ".hc-new") {
            old.remove();
        }
        if let Some(li) = self.item(seq) {
            let line = element(&self.doc, "li", "hc-new");
            set_text(&line, &self.strings.get("newMessages"));
            let _ = self.list.insert_before(&line, Some(&li));
        }
    }

    pub fn has_new_line(&self) -> bool {
        find(&self.list, ".hc-new").is_some()
    }

    /// On joining: if the "New messages" line is above what the list shows,
    /// scroll it to the top, so that a returning visitor starts where they
    /// stopped; the pill leads on to the latest.
    pub fn reveal_new(&mut self) {
        let Some(line) = find(&self.list, ".hc-new") else {
            return;
        };
        let none = &JsValue::UNDEFINED;
        let top = |el: &JsValue| {
            prop(&invoke(el, "getBoundingClientRect", none, none), "top")
                .as_f64()
                .unwrap_or(0.0)
        };
        let above = top(&line) - top(&self.log);
        if above < 0.0 {
            self.log
                .set_scroll_top(self.log.scroll_top() + above as i32 - STICK_SLOP_PX / 4);
            self.stuck_to_bottom = false;
            self.pill.set_hidden(false);
        }
    }

    /// The `<li>` of message `seq`, if it is in the DOM.
    pub fn item(&self, seq: u64) -> Option<Element> {
        find(&self.list, &concat(&["[data-seq=\"", &decimal(seq), "\"]"]))
    }

    /// Show `m`'s new state where it is (if it is shown at all).
    pub fn update(&self, m: &ChatMessage, own: bool) {
        // Replies shown may quote it even when it is not (paged out).
        self.requote(m);
        let Some(li) = self.item(m.seq) else { return };
        let grouped = li.class_list().contains("hc-grouped");
        let focused = self.focused().filter(|a| li.contains(Some(a)));
        // An open menu, the editor (with what was typed) or a form, and
        // "Seen by", outlive the redraw; once the message is deleted, only a
        // moderator's Mute or Ban form, which is about its sender.
        let kept = li
            .query_selector_all(if m.deleted {
                ".hc-dialog:not(.hc-edit)"
            } else {
                ".hc-seen,.hc-menu,.hc-dialog"
            })
            .ok();
        if m.deleted {
            unset(&li, "data-deleting");
        }
        message::fill(&self.doc, &self.strings, &li, m, &self.look(own, grouped));
        // Hidden stays hidden (one shown with Show stays shown).
        if li.has_attribute("data-hidden") {
            self.fold(&li);
        }
        self.mark_quotes(&li);
        for i in 0..kept.as_ref().map_or(0, |k| k.length()) {
            if let Some(n) = kept.as_ref().and_then(|k| k.item(i)) {
                append(&li, &n);
                if n.unchecked_ref::<Element>().class_name() == "hc-menu" {
                    menu::set_expanded(&li, true);
                }
            }
        }
        // If focus was on a control that the redraw replaced (a reaction
        // chip just pressed, the menu button), the menu button gets it.
        match focused {
            Some(el) if li.contains(Some(&el)) => {
                focus(&el.unchecked_into::<HtmlElement>());
            }
            Some(_) => menu::refocus(&li),
            None => {}
        }
    }

    /// A reaction, a delete or an edit of the visitor's shown at once
    /// (offline it may wait for minutes), or taken back (`undone`:
    /// refused). A message being deleted is greyed out, without its
    /// buttons, until the room's echo redraws it.
    pub fn applied(&self, action: &Action, undone: bool) {
        let (Action::React { target, .. }
        | Action::Delete { target }
        | Action::Edit { target, .. }) = action
        else {
            return;
        };
        let Some(li) = self.item(*target) else { return };
        if let Action::Edit { text, .. } = action {
            self.edited(&li, (!undone).then_some(text));
            return;
        }
        let focused = self.focused().filter(|f| li.contains(Some(f)));
        if let Action::React { emoji, on, .. } = action {
            message::react(&self.doc, &self.strings, &li, emoji, *on != undone);
            // Focus on a chip that went: the menu button gets it.
            if focused.is_some_and(|f| !li.contains(Some(&f))) {
                menu::refocus(&li);
            }
        } else if undone {
            unset(&li, "data-deleting");
        } else {
            attr(&li, "data-deleting", "");
            // Its buttons hidden: focus stays with the message.
            if focused.is_some() {
                focus(li.unchecked_ref());
            }
        }
    }

    /// Show `text` as `li`'s at once, as a message sent offline is: an edit
    /// on its way (the room's echo redraws the message), keeping the room's
    /// text in `data-was` until then; `None`: back to that (it was refused).
    pub fn edited(&self, li: &Element, text: Option<&str>) {
        let Some(p) = find(li, ".hc-text") else {
            return;
        };
        let was = p.get_attribute("data-was");
        let shown = match text {
            Some(text) => {
                if was.is_none() {
                    attr(&p, "data-was", &p.text_content().unwrap_or_default());
                }
                text.to_owned()
            }
            None => {
                let Some(was) = was else { return };
                unset(&p, "data-was");
                was
            }
        };
        p.set_text_content(None);
        message::linked_text(&self.doc, &p, &shown, "-1");
    }

    /// Redraw the quotes of `m` in the replies shown, and in those waiting
    /// to go (the outbox).
    fn requote(&self, m: &ChatMessage) {
        let selector = concat(&[".hc-quote[data-target=\"", &decimal(m.seq), "\"]"]);
        let r = ReplyRef::quoting(m);
        each(&self.log, &selector, &mut |q| {
            message::fill_quote(&self.doc, &self.strings, &q, &r)
        });
    }

    /// The element that has focus inside the widget, if one has.
    pub(crate) fn focused(&self) -> Option<Element> {
        let root = prop(&self.host, "shadowRoot");
        cast(prop(&root, "activeElement"), "Element")
    }

    pub fn has_focus(&self) -> bool {
        self.focused().is_some()
    }

    /// Where focus is, for `keep_focus`: the list item it is in, if any,
    /// and that item's neighbours.
    pub fn focus_anchor(&self) -> Option<[Option<Element>; 3]> {
        let li = closest(&self.focused()?, ".hc-list>li");
        let next = li.as_ref().and_then(Element::next_element_sibling);
        let prev = li.as_ref().and_then(Element::previous_element_sibling);
        Some([li, next, prev])
    }

    /// Arrows, Home, End and Tab in the log (see `log_keys`); true if handled.
    pub fn navigate(&self, target: &Element, key: &str, back: bool, unread: bool) -> bool {
        log_keys::navigate(&self.log, target, key, back, unread)
    }

    /// The control that had focus went away: focus its message if it is
    /// still shown (a tombstone, an unsent message redrawn), else a
    /// neighbour (it was discarded), else the log (always there).
    pub fn keep_focus(&self, anchor: &[Option<Element>; 3]) {
        match anchor.iter().flatten().find(|el| el.is_connected()) {
            Some(li) => {
                attr(li, "tabindex", "-1");
                focus(li.unchecked_ref());
            }
            None => {
                focus(&self.log);
            }
        }
    }

    /// Forget the name of `sender`, erased: notice lines about them or by
    /// them say "Someone" (their tombstones, and quotes of them, lose it in
    /// `purge`).
    pub fn forget(&self, sender: &str) {
        each(&self.list, ".hc-notice", &mut |li| {
            let is = |k: &str| li.get_attribute(k).as_deref() == Some(sender);
            let (about, by) = (is("data-sender"), is("data-by-sender"));
            if about {
                unset(&li, "data-name");
                unset(&li, "data-reason");
            }
            if by {
                attr(&li, "data-by", "");
            }
            if about || by {
                set_text(&li, &message::notice_text(&self.strings, &li));
            }
        });
    }

    /// Tombstone every shown message of `sender` (a moderator's purge;
    /// nameless if they were `erased`), and blank the quotes of their
    /// messages, shown or not (paged out, or older than what was loaded).
    pub fn purge(&self, sender: &str, erased: bool) {
        // It goes into selectors: a sender key is base64url, and anything
        // else (a quote, a backslash) could close the attribute and match
        // every message.
        if !protocol::validate::is_client_id(sender) {
            return;
        }
        let of = |what: &str| concat(&[what, "[data-sender=\"", sender, "\"]"]);
        each(&self.list, &of(".hc-msg:not([data-deleted])"), &mut |li| {
            let tomb = ChatMessage {
                seq: number(&li, "data-seq").unwrap_or(0),
                name: if erased {
                    String::new()
                } else {
                    li.get_attribute("data-name").unwrap_or_default()
                },
                sender: sender.to_owned(),
                timestamp: number(&li, "data-ts").unwrap_or(0),
                deleted: true,
                role: li
                    .get_attribute("data-role")
                    .and_then(|r| protocol::message::Role::parse(&r)),
                ..ChatMessage::default()
            };
            let own = li.has_attribute("data-own");
            let grouped = li.class_list().contains("hc-grouped");
            let look = message::Look {
                me: None,
                ..self.look(own, grouped)
            };
            message::fill(&self.doc, &self.strings, &li, &tomb, &look);
        });
        each(&self.list, &of(".hc-quote"), &mut |q| {
            let name = find(&q, ".hc-quote-name").and_then(|n| n.text_content());
            let r = ReplyRef {
                seq: number(&q, "data-target").unwrap_or(0),
                name: if erased { None } else { name }.unwrap_or_default(),
                deleted: true,
                sender: sender.to_owned(),
                ..ReplyRef::default()
            };
            message::fill_quote(&self.doc, &self.strings, &q, &r);
        });
    }

    /// A moderation notice as a line in the list (the text of `key`),
    /// read out politely.
    /// `listed`: its line goes below the rest (not while the list ends far
    /// above it: the pages that fill it in list messages only).
    /// `and`: what else to read out after it (the rule it left in force).
    pub fn notice(
        &mut self,
        key: &str,
        n: &ModerationNotice,
        until: &str,
        listed: bool,
        and: &str,
    ) {
        let stick = self.at_bottom() && !self.holds_place();
        let li = message::notice(&self.doc, &self.strings, key, n, until);
        if listed {
            attr(&li, "data-event", &decimal(n.seq));
            append(&self.list, &li);
            self.last = None;
        }
        let text = li.text_content().unwrap_or_default();
        self.say(&if and.is_empty() {
            text
        } else {
            concat(&[&text, " ", and])
        });
        if stick && listed {
            self.scroll_to_bottom();
        }
    }

    /// The newest message shown on screen, for what counts as read while
    /// the visitor reads down from far up.
    pub fn last_visible(&self) -> Option<u64> {
        let none = &JsValue::UNDEFINED;
        let edge = |el: &JsValue, side: &str| {
            prop(&invoke(el, "getBoundingClientRect", none, none), side)
                .as_f64()
                .unwrap_or(0.0)
        };
        let bottom = edge(&self.log, "bottom");
        let mut el = self.list.last_element_child();
        while let Some(li) = el {
            // Shown in full (or filling the view, for a tall one).
            if li.class_list().contains("hc-msg")
                && (edge(&li, "bottom") <= bottom + 1.0
                    || edge(&li, "top") <= edge(&self.log, "top"))
            {
                return number(&li, "data-seq");
            }
            el = li.previous_element_sibling();
        }
        None
    }

    /// Within a screen of the bottom: time to page in what follows.
    pub fn near_bottom(&self) -> bool {
        self.log.scroll_top() + 2 * self.log.client_height() >= self.log.scroll_height()
    }

    /// Whether a menu, an editor or a form is open in the list: new lines
    /// then leave it where it is (the pill says they came), rather than
    /// scroll it away from the visitor's pointer and eyes.
    /// (One scrolled out of sight, left open, holds nothing.)
    pub(crate) fn holds_place(&self) -> bool {
        let none = &JsValue::UNDEFINED;
        let rect = |el: &JsValue| invoke(el, "getBoundingClientRect", none, none);
        let edge = |r: &JsValue, side: &str| prop(r, side).as_f64().unwrap_or(0.0);
        let log = rect(&self.log);
        let mut holds = false;
        each(&self.list, ".hc-menu,.hc-dialog", &mut |el| {
            let r = rect(&el);
            holds |=
                edge(&r, "bottom") > edge(&log, "top") && edge(&r, "top") < edge(&log, "bottom");
        });
        holds
    }

    pub fn at_bottom(&self) -> bool {
        self.log.scroll_top() + self.log.client_height() >= self.log.scroll_height() - STICK_SLOP_PX
    }

    /// While the widget has focus (an on-screen keyboard may be open), cap
    /// its height at what the visual viewport shows below the widget's top:
    /// `--_fit`, which the styles use on touch screens, so the composer and
    /// the latest message stay above the keyboard. Without focus (the
    /// keyboard closed), no cap. Runs when the visual viewport resizes or
    /// moves; the page itself is never scrolled.
    pub fn fit(&self) {
        let el: &JsValue = &self.container;
        let none = &JsValue::UNDEFINED;
        let num = |o: &JsValue, key: &str| prop(o, key).as_f64().unwrap_or(0.0);
        let mut fit = JsValue::from("");
        if invoke(el, "matches", &":focus-within".into(), none).is_truthy() {
            let vv = prop(&crate::global::global(), "visualViewport");
            let top = num(&invoke(el, "getBoundingClientRect", none, none), "top");
            fit = (num(&vv, "offsetTop") + num(&vv, "height") - top).into();
        }
        // A number of pixels, or empty, which removes the property.
        invoke(&prop(el, "style"), "setProperty", &"--_fit".into(), &fit);
    }

    pub fn scroll_to_bottom(&self) {
        self.log.set_scroll_top(self.log.scroll_height());
        self.pill.set_hidden(true);
    }

    /// Append confirmed messages in order. Keeps the view at the bottom
    /// if it was there; otherwise shows the "new messages" pill.
    pub fn append(&mut self, messages: &[ChatMessage], is_own: impl Fn(&ChatMessage) -> bool) {
        let stick = self.at_bottom() && !self.holds_place();
        self.add(messages, &is_own);
        if stick {
            self.scroll_to_bottom();
        } else if !messages.is_empty() {
            self.pill.set_hidden(false);
        }
    }

    /// Append messages below the rest, leaving the scroll position alone.
    pub fn add(&mut self, messages: &[ChatMessage], is_own: &dyn Fn(&ChatMessage) -> bool) {
        for m in messages {
            let own = is_own(m);
            let grouped = same_group(&self.last, m, own);
            let (li, day) = self.message_item(m, own, grouped, self.last_day.as_deref());
            append(&self.list, &li);
            self.last = Some((m.sender.clone(), m.timestamp, own));
            self.last_day = Some(day);
            self.shown += 1;
        }
        self.show_empty_hint();
    }

    /// Empty the list, for a page that replaces it.
    pub fn clear(&mut self) {
        self.list.set_text_content(None);
        self.shown = 0;
        self.last = None;
        self.last_day = None;
    }

    /// Insert older messages above the current ones without moving what the
    /// visitor is looking at.
    pub fn prepend(
        &mut self,
        messages: &[ChatMessage],
        more: bool,
        is_own: impl Fn(&ChatMessage) -> bool,
    ) {
        let (before, top) = (self.log.scroll_height(), self.log.scroll_top());
        let fragment = self.doc.create_document_fragment();
        let mut prev: Option<(String, u64, bool)> = None;
        let mut prev_day = None;
        for m in messages {
            let own = is_own(m);
            let grouped = same_group(&prev, m, own);
            let (li, day) = self.message_item(m, own, grouped, prev_day.as_deref());
            append(&fragment, &li);
            prev = Some((m.sender.clone(), m.timestamp, own));
            prev_day = Some(day);
        }
        let old_first = self.list.first_element_child();
        let newest_loaded = fragment.last_element_child();
        let _ = self
            .list
            .insert_before(&fragment, self.list.first_child().as_ref());
        // The day the old first message opened may have begun above it now.
        if let Some(first) = old_first.filter(|f| f.get_attribute("data-day") == prev_day) {
            unset(&first, "data-day");
        }
        self.shown += messages.len() as u32;
        self.show_empty_hint();
        // "Load earlier" goes away with the last page: its focus goes to the
        // newest message loaded, where reading on upwards continues.
        let button_focused = self.focused().as_ref() == Some(self.earlier.as_ref());
        self.set_more_available(more);
        // From where the view was, not where it is: the browser's own scroll
        // anchoring may have moved it already (with focus on "Load earlier"
        // off screen), and both would throw it down the list.
        self.log
            .set_scroll_top(top + self.log.scroll_height() - before);
        if button_focused && !more {
            self.keep_focus(&[newest_loaded, None, None]);
        }
    }

    pub fn set_more_available(&self, more: bool) {
        self.earlier.set_hidden(!more);
    }

    /// Keep at most `max` messages in the DOM, dropping those more than a
    /// screen away from what the visitor sees, at the end of the list they
    /// are farther from: the oldest while they read the lower half (the
    /// latest, or paging down), the newest while they read the upper half
    /// (far up, or paging back). None from the first unread on goes from the
    /// top, nor the "New messages" line just above it (a hidden tab piles
    /// them up).
    /// While the visitor is `away` (a hidden tab, a closed panel), what is
    /// kept from the top is kept whole, and the newest go instead.
    /// Returns the seq of the oldest message kept, if the top was cut, or
    /// of the newest event kept, if the bottom was: paging brings the rest
    /// back.
    pub fn trim(
        &mut self,
        max: u32,
        first_unread: Option<u64>,
        away: bool,
    ) -> (Option<u64>, Option<u64>) {
        // Only once a sixth past `max`: then a batch goes, rather than one
        // message at every arrival (each trim measures the list: a forced
        // layout per message in a busy room).
        if self.shown <= max + max / 6 {
            return (None, None);
        }
        let none = &JsValue::UNDEFINED;
        let rect = |el: &Element, side: &str| {
            prop(&invoke(el, "getBoundingClientRect", none, none), side)
                .as_f64()
                .unwrap_or(0.0)
        };
        let message = |el: &Element| el.class_list().contains("hc-msg");
        // No height (a closed panel): nothing is on screen, the top may go.
        let screen = self.log.client_height() as f64;
        let above = rect(&self.log, "top") - screen;
        let below = rect(&self.log, "bottom") + screen;
        let focused = self.focused();
        let scroll = (self.log.scroll_height() - self.log.client_height()) as f64;
        let lower_half = screen == 0.0 || self.log.scroll_top() as f64 * 2.0 >= scroll;
        let mut shown = self.shown;
        // Measured first, removed after: one layout, not one per element.
        let mut cut = Vec::new();
        let mut first = self.list.first_element_child();
        while let Some(el) = first.clone().filter(|_| lower_half) {
            // The line counts as the first unread's (it goes with it).
            let seq = if el.class_list().contains("hc-new") {
                el.next_element_sibling()
                    .and_then(|n| number(&n, "data-seq"))
            } else {
                number(&el, "data-seq")
            };
            if shown <= max
                || first_unread.is_some_and(|f| seq.is_some_and(|s| s >= f))
                || (screen > 0.0 && rect(&el, "bottom") >= above)
            {
                break;
            }
            shown -= u32::from(message(&el));
            first = el.next_element_sibling();
            cut.push(el);
        }
        let top_cut = !cut.is_empty();
        let top_len = cut.len();
        let mut last = self.list.last_element_child();
        while let Some(el) = last
            .clone()
            .filter(|_| (away || !lower_half) && shown > max && first.as_ref() != last.as_ref())
        {
            let busy = focused.as_ref().is_some_and(|f| el.contains(Some(f)))
                || find(&el, ".hc-menu,.hc-dialog").is_some();
            if busy || (!away && rect(&el, "top") <= below) {
                break;
            }
            shown -= u32::from(message(&el));
            last = el.previous_element_sibling();
            cut.push(el);
        }
        let bottom_cut = cut.len() > top_len;
        // The list ends with an event, not with the "New messages" line.
        while let Some(el) = last
            .clone()
            .filter(|el| bottom_cut && el.class_list().contains("hc-new"))
        {
            last = el.previous_element_sibling();
            cut.push(el);
        }
        // What stays in view stays where it is on screen.
        let anchor = first.clone().filter(|_| top_cut && screen > 0.0);
        let y = anchor.as_ref().map_or(0.0, |a| rect(a, "top"));
        for el in &cut {
            el.remove();
        }
        self.shown = shown;
        if let Some(a) = &anchor {
            self.log
                .set_scroll_top(self.log.scroll_top() + (rect(a, "top") - y) as i32);
        }
        let mut oldest = None;
        // The first message kept now starts a group, and shows its day.
        while let Some(el) = first.filter(|_| top_cut) {
            if message(&el) {
                set_class(&el, "hc-grouped", false);
                let ts = number(&el, "data-ts").unwrap_or(0);
                attr(
                    &el,
                    "data-day",
                    &local_day(ts as f64, self.locale.as_deref()),
                );
                oldest = number(&el, "data-seq");
                break;
            }
            first = el.next_element_sibling();
        }
        let newest = last
            .filter(|_| bottom_cut)
            .and_then(|el| number(&el, "data-seq").or_else(|| number(&el, "data-event")));
        if newest.is_some() {
            self.continue_after_last();
        }
        (oldest, newest)
    }

    /// The bottom was cut: what is appended next continues the last
    /// message kept (its group and day).
    fn continue_after_last(&mut self) {
        let mut el = self.list.last_element_child();
        self.last = None;
        self.last_day = None;
        while let Some(li) = el {
            if li.class_list().contains("hc-msg") {
                let ts = number(&li, "data-ts").unwrap_or(0);
                let sender = li.get_attribute("data-sender").unwrap_or_default();
                if self.list.last_element_child().as_ref() == Some(&li) {
                    self.last = Some((sender, ts, li.has_attribute("data-own")));
                }
                self.last_day = Some(local_day(ts as f64, self.locale.as_deref()));
                return;
            }
            el = li.previous_element_sibling();
        }
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

    /// Message `id` is waiting to go, with `files` (and their object URLs).
    pub fn pending(
        &self,
        id: &str,
        text: &str,
        files: &[(OutgoingFile, Option<String>)],
        reply_to: Option<u64>,
    ) {
        let li = match self.outbox_item(id) {
            Some(li) => {
                li.set_text_content(None);
                li
            }
            None => {
                let li = element(&self.doc, "li", "hc-msg hc-own");
                attr(&li, "data-id", id);
                append(&self.outbox, &li);
                li
            }
        };
        attr(&li, "data-state", "pending");
        // A reply quotes what it answers, as it will once sent (if that is
        // shown: one kept across a reload may answer a message far up).
        if let Some(original) = reply_to.and_then(|seq| self.item(seq)) {
            // As a sent one's: reached by Tab from its message.
            let quote = element(&self.doc, "button", "hc-quote");
            attr(&quote, "type", "button");
            attr(&quote, "tabindex", "-1");
            attr(&quote, "data-action", "quote");
            attr(
                &quote,
                "data-target",
                &original.get_attribute("data-seq").unwrap_or_default(),
            );
            let excerpt = find(&original, ".hc-text")
                .and_then(|p| p.text_content())
                .unwrap_or_default();
            let r = ReplyRef {
                name: original.get_attribute("data-name").unwrap_or_default(),
                excerpt: protocol::text::first_chars(&excerpt, protocol::message::EXCERPT_CHARS)
                    .to_owned(),
                ..ReplyRef::default()
            };
            message::fill_quote(&self.doc, &self.strings, &quote, &r);
            append(&li, &quote);
        }
        if !text.is_empty() || files.is_empty() {
            let p = element(&self.doc, "p", "hc-text");
            attr(&p, "dir", "auto");
            set_text(&p, text);
            append(&li, &p);
        }
        let state = element(&self.doc, "span", "hc-state");
        set_text(&state, &self.strings.get("pending"));
        if !files.is_empty() {
            append(&li, &attachments::previews(&self.doc, files));
            // Shown once an upload starts; Cancel stops it (and the message).
            let bar = element(&self.doc, "progress", "hc-progress");
            attr(&bar, "max", "100");
            attr(&bar, "value", "0");
            attr(&bar, "aria-label", &self.strings.get("uploading"));
            attr(&bar, "hidden", "");
            let cancel = element(&self.doc, "button", "hc-link");
            attr(&cancel, "type", "button");
            attr(&cancel, "data-action", "cancel-send");
            set_text(&cancel, &self.strings.get("cancel"));
            append_all(&state, &[&bar, &cancel]);
        }
        append(&li, &state);
        self.scroll_to_bottom();
    }

    /// How far the upload of message `id`'s files got (0 to 1).
    pub fn progress(&self, id: &str, done: f64) {
        let Some(bar) = self
            .outbox_item(id)
            .and_then(|li| find(&li, ".hc-progress"))
        else {
            return;
        };
        unset(&bar, "hidden");
        // Whole percents: float formatting would add kilobytes of wasm.
        attr(
            &bar,
            "value",
            &decimal(((done.clamp(0.0, 1.0) * 100.0) as u32).into()),
        );
    }

    pub fn failed(&self, id: &str, error: &ProtocolError) {
        let Some(li) = self.outbox_item(id) else {
            return;
        };
        // Its reason and Retry make it taller: at the bottom, stay there.
        let stick = self.at_bottom();
        attr(&li, "data-state", "failed");
        if let Some(state) = find(&li, ".hc-state") {
            let text = self.strings.not_sent(error);
            // The log is not a live region: say it, too.
            self.say(&text);
            set_text(&state, &text);
            for (action, key) in [("retry", "retry"), ("discard", "discard")] {
                let b = element(&self.doc, "button", "hc-link");
                attr(&b, "type", "button");
                attr(&b, "data-action", action);
                set_text(&b, &self.strings.get(key));
                append(&state, &b);
            }
        }
        if stick {
            self.scroll_to_bottom();
        }
    }

    pub fn remove_pending(&self, id: &str) {
        if let Some(li) = self.outbox_item(id) {
            li.remove();
        }
    }

    // ----- files: the composer's tray, dropping, the image viewer -----

    fn staged_item(&self, local: u32) -> Option<Element> {
        find(
            &self.tray,
            &concat(&["[data-local=\"", &decimal(local.into()), "\"]"]),
        )
    }

    /// Send was pressed with nothing to send but files the site refuses:
    /// say the first one's reason again and move focus to its remove
    /// button, where the visitor can act on it.
    pub fn point_at_refused(&self) {
        let Some(li) = find(&self.tray, "[data-state=refused]") else {
            return;
        };
        let text = |selector| find(&li, selector).and_then(|e| e.text_content());
        let (name, why) = (text(".hc-file-name"), text(".hc-file-meta"));
        self.say(&concat(&[
            &name.unwrap_or_default(),
            ": ",
            &why.unwrap_or_default(),
        ]));
        if let Some(button) =
            find(&li, ".hc-unstage").and_then(|b| cast::<HtmlElement>(b.into(), "HTMLElement"))
        {
            focus(&button);
        }
    }

    /// Show `f` in the tray, being prepared.
    pub fn stage(&self, f: &OutgoingFile) {
        let item = attachments::staged(&self.doc, &self.strings, f);
        append(&self.tray, &item);
    }

    pub fn staged_ready(&self, f: &OutgoingFile, url: Option<&str>) {
        if let Some(li) = self.staged_item(f.local) {
            attachments::staged_ready(&self.doc, &li, f, url);
        }
    }

    /// Staged file `local` (`name`) will not be sent: `why` in place of its size.
    pub fn staged_refused(&self, local: u32, name: &str, why: &str) {
        if let Some(li) = self.staged_item(local) {
            attachments::staged_refused(&self.doc, &li, name, why);
        }
    }

    /// The alt text the visitor gave staged file `local`, if it has a field.
    pub fn alt_of(&self, local: u32) -> Option<String> {
        let input = find(&self.staged_item(local)?, ".hc-alt")?;
        Some(cast::<HtmlInputElement>(input.into(), "HTMLInputElement")?.value())
    }

    /// Take staged file `local` out of the tray (its remove button was
    /// pressed): focus goes to a neighbour's remove button, else the composer.
    pub fn unstage(&self, local: u32) {
        let Some(li) = self.staged_item(local) else {
            return;
        };
        let next = li
            .next_element_sibling()
            .or_else(|| li.previous_element_sibling())
            .and_then(|n| find(&n, ".hc-unstage"))
            .and_then(|b| cast(b.into(), "HTMLElement"));
        li.remove();
        let target: &HtmlElement = match &next {
            Some(b) => b,
            None => &self.input,
        };
        focus(target);
    }

    pub fn clear_tray(&self) {
        self.tray.set_text_content(None);
    }

    /// Show (or not) that files dragged over the widget can be dropped.
    pub fn drop_target(&self, on: bool) {
        set_class(&self.container, "hc-drop", on);
    }

    /// Open the image of thumbnail button `opener` full size.
    pub fn open_viewer(&mut self, opener: &Element) {
        self.close_viewer();
        let Some(src) = opener.get_attribute("data-src") else {
            return;
        };
        let alt = find(opener, "img")
            .and_then(|img| img.get_attribute("alt"))
            .unwrap_or_default();
        let dialog = attachments::viewer(&self.doc, &self.strings, &src, &alt);
        // Modal for assistive technology too: the rest cannot be reached.
        self.set_inert(true);
        append(&self.container, &dialog);
        if let Some(close) = find(&dialog, ".hc-close").and_then(|b| cast(b.into(), "HTMLElement"))
        {
            focus(&close);
        }
        self.viewer = Some((dialog, opener.clone()));
    }

    /// Make everything in the widget's box inert (or not), while a dialog
    /// on top of it is open.
    fn set_inert(&self, inert: bool) {
        let children = self.container.children();
        for i in 0..children.length() {
            // The live region keeps speaking.
            if let Some(child) = children.item(i).filter(|c| c.class_name() != "hc-sr") {
                if inert {
                    attr(&child, "inert", "");
                } else {
                    unset(&child, "inert");
                }
            }
        }
    }

    pub fn viewer_open(&self) -> bool {
        self.viewer.is_some()
    }

    /// Whether the open viewer shows an image of message `seq`.
    pub fn viewing(&self, seq: u64) -> bool {
        let li = self
            .viewer
            .as_ref()
            .and_then(|(_, o)| closest(o, "[data-seq]"));
        li.and_then(|li| number(&li, "data-seq")) == Some(seq)
    }

    /// Close the viewer; focus returns to the thumbnail that opened it,
    /// or the same image's in its message redrawn meanwhile (a reaction,
    /// an edit), else the list.
    pub fn close_viewer(&mut self) {
        let Some((dialog, opener)) = self.viewer.take() else {
            return;
        };
        dialog.remove();
        self.set_inert(false);
        // (A selector the URL would break finds nothing: the list.)
        let src = opener.get_attribute("data-src").unwrap_or_default();
        let back = find(&self.list, &concat(&["[data-src=\"", &src, "\"]"]))
            .and_then(|b| cast(b.into(), "HTMLElement"));
        focus(back.as_ref().unwrap_or(&self.log));
    }

    /// Keep the keyboard in the open viewer: its close button is the one
    /// thing to focus.
    pub fn focus_viewer(&self) {
        if let Some(close) = self
            .viewer
            .as_ref()
            .and_then(|(d, _)| find(d, ".hc-close").and_then(|b| cast(b.into(), "HTMLElement")))
        {
            focus(&close);
        }
    }

    // ----- status, presence, typing -----

    pub fn banner(&self, kind: &str, text: Option<&str>) {
        match text {
            Some(t) => {
                // Read out once per outage: not at each tick of the
                // countdown, nor at each attempt in between (nor the first
                // "Connecting…" of a widget just mounted).
                let trying = |k: &str| matches!(k, "connecting" | "reconnecting");
                let was = Some(&self.banner)
                    .filter(|b| !b.hidden())
                    .and_then(|b| b.get_attribute("data-kind"));
                if kind != "connecting"
                    && was.is_none_or(|w| w != kind && !(trying(&w) && trying(kind)))
                {
                    self.say(t);
                    self.outage_said.set(true);
                }
                set_text(&self.banner, t);
                attr(&self.banner, "data-kind", kind);
                self.banner.set_hidden(false);
            }
            None => {
                // Back after an outage that was read out: said too, once.
                if self.outage_said.replace(false) && !self.banner.hidden() {
                    self.say(&self.strings.get("reconnected"));
                }
                self.banner.set_hidden(true);
            }
        }
    }

    /// The room's rules for us (muted, read-only, slow mode), or nothing.
    /// True when it shows a new text, to read out.
    pub fn room_banner(&self, text: Option<&str>) -> bool {
        match text {
            // Unchanged (a reconnect says it again): not read out again.
            Some(t)
                if !self.room_banner.hidden()
                    && self.room_banner.text_content().as_deref() == Some(t) =>
            {
                false
            }
            Some(t) => {
                set_text(&self.room_banner, t);
                self.room_banner.set_hidden(false);
                true
            }
            None => {
                self.room_banner.set_hidden(true);
                false
            }
        }
    }

    /// "Replying to Ada: …" above the composer, with a button to cancel.
    pub fn reply_bar(&self, to: Option<(&str, &str)>) {
        let had_focus = self
            .focused()
            .is_some_and(|f| self.reply_box.contains(Some(&f)));
        self.reply_box.set_text_content(None);
        let Some((name, excerpt)) = to else {
            self.reply_box.set_hidden(true);
            // Cancelled from the keyboard: back to the draft.
            if had_focus {
                focus(&self.input);
            }
            return;
        };
        let label = element(&self.doc, "span", "hc-replyto");
        // "Replying to Ada: " with the name isolated, then the excerpt in an
        // element of its own, cut with its own ellipsis on a narrow screen:
        // an English excerpt in an Arabic line would lose its beginning.
        // (Every language puts {name} before {text}, and {text} last: the
        // language files' test checks it.)
        let text = self
            .strings
            .fill("replyingTo", &[("name", "\u{1}"), ("text", "\u{2}")]);
        let (to, rest) = split_once_ascii(&text, 1).unwrap_or(("", &text));
        let (colon, _) = split_once_ascii(rest, 2).unwrap_or((rest, ""));
        let prefix = element(&self.doc, "span", "");
        let who = element(&self.doc, "bdi", "");
        set_text(&who, name);
        let _ = prefix.append_with_str_1(to);
        append(&prefix, &who);
        let _ = prefix.append_with_str_1(colon);
        let quoted = element(&self.doc, "span", "");
        attr(&quoted, "dir", "auto");
        set_text(&quoted, excerpt);
        append_all(&label, &[&prefix, &quoted]);
        // The whole on hover.
        attr(&label, "title", &concat(&[to, name, colon, excerpt]));
        let cancel = element(&self.doc, "button", "hc-link");
        attr(&cancel, "type", "button");
        attr(&cancel, "data-action", "cancel-reply");
        set_text(&cancel, &self.strings.get("cancelReply"));
        append_all(&self.reply_box, &[&label, &cancel]);
        self.reply_box.set_hidden(false);
        focus(&self.input);
    }

    /// The message replied to changed (an edit): the bar quotes what it
    /// says now, in place (focus stays wherever the visitor has it).
    pub fn requote_reply_bar(&self, excerpt: &str) {
        let (Some(label), Some(quoted)) = (
            find(&self.reply_box, ".hc-replyto"),
            find(&self.reply_box, ".hc-replyto>span:last-child"),
        ) else {
            return;
        };
        let old = quoted.text_content().unwrap_or_default();
        if old == excerpt {
            return;
        }
        let title = label.get_attribute("title").unwrap_or_default();
        let head = title.strip_suffix(old.as_str()).unwrap_or(&title);
        attr(&label, "title", &concat(&[head, excerpt]));
        set_text(&quoted, excerpt);
    }

    /// The composer can send (or not: muted, read-only room).
    pub fn set_composer_enabled(&self, enabled: bool) {
        // A control disabled under the visitor's fingers drops focus on the
        // page's body: give it to the list, which they can still read, and
        // back to the composer when it is on again (a lock lifted, a mute
        // ended) if it is still there: they type on where they were.
        let focused = self.focused();
        if !enabled
            && focused
                .as_ref()
                .and_then(|f| closest(f, ".hc-composer"))
                .is_some()
        {
            focus(&self.log);
            attr(&self.log, "data-composer", "");
        }
        let back = enabled && self.log.has_attribute("data-composer");
        if back {
            unset(&self.log, "data-composer");
        }
        self.input.set_disabled(!enabled);
        self.attach.set_disabled(!enabled);
        if !enabled {
            self.send.set_disabled(true);
        }
        if back && focused.is_some_and(|f| f == *self.log) {
            // Without scrolling the page: the visitor may have scrolled away.
            let options = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&options, &"preventScroll".into(), &true.into());
            invoke(&self.input, "focus", &options, &JsValue::UNDEFINED);
        }
    }

    /// The file types the site accepts, once the room says: the picker
    /// offers only those, and no 📎 when there are none (a file the room
    /// would refuse whatever the visitor does).
    pub fn set_file_types(&self, accept: Option<&str>) {
        if let Some(accept) = accept {
            self.attach.set_hidden(accept.is_empty());
            attr(&self.picker, "accept", accept);
        }
    }

    /// Names to complete an `@mention` with (none: hide the list). The
    /// `active` one is marked for assistive technology.
    pub fn suggestions(&self, names: &[String], active: usize) {
        self.suggest.set_text_content(None);
        self.suggest.set_hidden(names.is_empty());
        if names.is_empty() {
            unset(&self.input, "aria-activedescendant");
            return;
        }
        for (i, name) in names.iter().enumerate() {
            let li = element(&self.doc, "li", "hc-option");
            attr(&li, "role", "option");
            attr(&li, "id", &concat(&["hc-opt-", &decimal(i as u64)]));
            attr(&li, "data-name", name);
            attr(
                &li,
                "aria-selected",
                if i == active { "true" } else { "false" },
            );
            // Isolated, in the name's own direction: "@Ada" stays one unit in
            // a right-to-left widget, and the list keeps the widget's alignment.
            let text = element(&self.doc, "bdi", "");
            set_text(&text, &concat(&["@", name]));
            append(&li, &text);
            append(&self.suggest, &li);
            // A short list scrolls: keep the chosen one in it (not the page).
            if i == active {
                let px = |el: &JsValue, key: &str| prop(el, key).as_f64().unwrap_or(0.0) as i32;
                let (top, height) = (px(&li, "offsetTop"), px(&li, "offsetHeight"));
                let view = self.suggest.client_height();
                let scrolled = self.suggest.scroll_top();
                if top < scrolled {
                    self.suggest.set_scroll_top(top);
                } else if top + height > scrolled + view {
                    self.suggest.set_scroll_top(top + height - view);
                }
            }
        }
        attr(
            &self.input,
            "aria-activedescendant",
            &concat(&["hc-opt-", &decimal(active as u64)]),
        );
    }

    /// "3 online", or nothing (`None`: no longer connected for good, so
    /// no count would stay true).
    pub fn set_online(&self, n: Option<u32>) {
        let text = n.map(|n| self.strings.fill("online", &[("n", &decimal(n.into()))]));
        set_text(&self.online, text.as_deref().unwrap_or(""));
    }

    /// Show whether sound and notifications are on.
    pub fn set_toggles(&self, desktop: bool, sound: bool) {
        for (button, on) in [(&self.bell, desktop), (&self.sound, sound)] {
            if let Some(b) = button {
                attr(b, "aria-pressed", if on { "true" } else { "false" });
            }
        }
        if let Some(b) = &self.sound {
            set_text(b, if sound { "🔊" } else { "🔈" });
        }
    }

    /// "Ada is typing…", "Ada and Bo are typing…", "Several people are
    /// typing…", or nothing.
    pub fn set_typing(&self, names: &[&str]) {
        let text = match names {
            [] => String::new(),
            [one] => self.strings.fill("typing", &[("name", one)]),
            [a, b] => self.strings.fill("typingTwo", &[("a", a), ("b", b)]),
            _ => self.strings.get("typingMany"),
        };
        set_text(&self.typing, &text);
    }

    /// Read a new message out to screen-reader users (history is not).
    pub fn announce(&self, m: &ChatMessage) {
        let mut text = m.message.clone();
        if !m.attachments.is_empty() {
            let names: Vec<&str> = m
                .attachments
                .iter()
                .map(|a| if a.alt.is_empty() { &a.name } else { &a.alt }.as_str())
                .collect();
            let files = self
                .strings
                .fill("attached", &[("names", &join(&names, ", "))]);
            text = if text.is_empty() {
                files
            } else {
                text + " " + &files
            };
        }
        self.say(
            &self
                .strings
                .fill("announce", &[("name", &m.name), ("text", &text)]),
        );
    }

    /// Say `text` through the polite live region.
    pub fn say(&self, text: &str) {
        let p = element(&self.doc, "p", "");
        set_text(&p, text);
        append(&self.announcer, &p);
        while self.announcer.children().length() > MAX_ANNOUNCEMENTS {
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
        prop(&self.input, "selectionStart")
            .as_f64()
            .map_or(0, |at| at as u32)
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
        // Read out when a hundred is crossed or the limit passed, not at every key.
        let step = if left < 0 { -1 } else { (left + 99) / 100 };
        if near {
            set_text(&self.counter, &self.strings.digits(&signed(left)));
            let said = if left < 0 {
                let over = decimal(left.unsigned_abs());
                self.strings.fill("counterOver", &[("n", &over)])
            } else {
                self.strings.fill("counter", &[("n", &signed(left))])
            };
            attr(&self.counter, "title", &said);
            if step != self.counter_said.get() {
                self.say(&said);
            }
            if left < 0 {
                attr(&self.counter, "data-over", "");
            } else {
                unset(&self.counter, "data-over");
            }
        }
        self.counter_said.set(if near { step } else { i64::MAX });
        // (Never on while the composer is off: muted, locked.)
        self.send.set_disabled(left < 0 || self.input.disabled());
        if self.grow_by_hand {
            // As tall as its text (the stylesheet's max-height caps it);
            // `auto` first, or it would never shrink.
            let style = prop(&self.input, "style");
            let set = |v: &str| invoke(&style, "setProperty", &"height".into(), &v.into());
            set("auto");
            let borders = self.input.offset_height() - self.input.client_height();
            set(&concat(&[
                &decimal((self.input.scroll_height() + borders) as u64),
                "px",
            ]));
        }
    }
}
