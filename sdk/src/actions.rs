//! What the visitor does to messages in the list: the actions menu
//! (reactions, Reply, Edit, Delete; Remove, Mute, Ban for moderators), the
//! inline editor, reaction chips, reply quotes, image thumbnails, and Retry /
//! Discard / Cancel of unsent messages. Clicks and keys are delegated from the list, read the
//! message's facts from its `<li>` and go to the session like everything else.

use protocol::client_frame::ModerationAction;
use protocol::report::ReportReason;
use protocol::text::{first_chars, parse_decimal};
use protocol::ProtocolError;
use web_sys::{Element, HtmlElement, KeyboardEvent};

use crate::controller::Controller;
use crate::events;
use crate::view::dom::{cast, closest, each, find, focus, number, prop};
use crate::view::menu;

impl Controller {
    /// Report a refusal of something the visitor tried.
    pub(crate) fn refused(&mut self, result: Result<String, ProtocolError>) {
        if let Err(e) = result {
            let detail = events::error(&e);
            self.emit("error", detail);
        }
    }

    /// Bring message `seq` into view and focus it, if the list shows it.
    pub(crate) fn show_item(&self, seq: u64) -> bool {
        let item = self
            .view
            .item(seq)
            .and_then(|e| cast::<HtmlElement>(e.into(), "HTMLElement"));
        if let Some(item) = &item {
            item.scroll_into_view();
            focus(item);
        }
        item.is_some()
    }

    /// Go to message `seq` (a quote's original, the pinned message): in
    /// the list, or, far up and not listed, by showing the page around it
    /// instead (as Slack and Discord jump to a message).
    pub(crate) fn go_to(&mut self, seq: u64) {
        if !self.show_item(seq) {
            self.session.jump_to(seq);
        }
    }

    /// What `li`'s menu offers, given who we are and what the room allows.
    fn menu_items(&self, li: &Element, t: f64) -> (Vec<String>, Vec<(&'static str, String)>) {
        let s = &self.view.strings;
        let room = self.session.room();
        let moderator = room.role.is_some();
        let may_act = room.may_act();
        let mut items = Vec::new();
        // A member's removed message: its sender may still be muted or banned.
        if li.has_attribute("data-deleted") {
            if moderator && !li.has_attribute("data-role") {
                self.sanction_items(li, t, &mut items);
            }
            return (Vec::new(), items);
        }
        if may_act {
            items.push(("reply", s.get("reply")));
        }
        let seq = number(li, "data-seq");
        let pinned = seq.is_some() && seq == room.pinned.as_ref().map(|m| m.seq);
        if li.has_attribute("data-own") {
            let sent = number(li, "data-ts").unwrap_or(0) as f64;
            // On the room's clock: the device's may be hours off. A pinned
            // message is the moderators' to change (the room says so).
            let age = self.session.server_time(t) - sent;
            if may_act && (moderator || !pinned && age < room.edit_window as f64 * 1000.0) {
                items.push(("edit", s.get("edit")));
            }
            items.push(("delete", s.get("delete")));
        }
        if moderator {
            items.push(if pinned {
                ("unpin", s.get("unpin"))
            } else {
                ("pin", s.get("pin"))
            });
        }
        // Others' messages may be reported, once, by members (moderators
        // remove them instead), muted ones and in a locked room too: a raid
        // is when a room is locked.
        if !li.has_attribute("data-own") && !moderator {
            items.push(if seq.is_some_and(|s| self.view.reported.contains(&s)) {
                ("reported", s.get("reportedMark"))
            } else {
                ("report", s.get("report"))
            });
        }
        if moderator && self.view.flags.iter().any(|f| Some(f.target) == seq) {
            items.push(("dismiss", s.get("dismissReports")));
        }
        let sender = li.get_attribute("data-sender").unwrap_or_default();
        if !li.has_attribute("data-own") && !sender.is_empty() {
            let name = li.get_attribute("data-name").unwrap_or_default();
            let name = [("name", name.as_str())];
            items.push(if self.view.is_hidden(&sender) {
                ("unhide", s.fill("unhideWho", &name))
            } else {
                ("hide", s.fill("hideWho", &name))
            });
        }
        if !li.has_attribute("data-own") && moderator {
            // Any message may be removed; moderators and the site's bots
            // cannot be muted or banned (the room refuses it).
            items.push(("remove", s.get("remove")));
            if !li.has_attribute("data-role") {
                self.sanction_items(li, t, &mut items);
            }
        }
        let emoji = if may_act {
            room.emoji.clone()
        } else {
            Vec::new()
        };
        (emoji, items)
    }

    /// Mute or Unmute, Ban or Unban `li`'s sender, as the room has them.
    fn sanction_items(&self, li: &Element, t: f64, items: &mut Vec<(&'static str, String)>) {
        let s = &self.view.strings;
        let sender = li.get_attribute("data-sender").unwrap_or_default();
        let (muted, banned) = self.session.sanctioned(&sender, t);
        let pairs = [(muted, ("unmute", "mute")), (banned, ("unban", "ban"))];
        for (on, (lift, give)) in pairs {
            let action = if on { lift } else { give };
            items.push((action, s.get(action)));
        }
    }

    /// A click somewhere in the list.
    pub fn on_list_click(&mut self, target: &Element, t: f64) {
        let Some(button) = closest(target, "[data-action]") else {
            return;
        };
        let action = button.get_attribute("data-action").unwrap_or_default();
        if action == "view" {
            self.view.open_viewer(&button);
            return;
        }
        // (Unsent replies quote too.)
        if action == "quote" {
            if let Some(target) = parse_decimal(&data_of(&button, "data-target")) {
                self.go_to(target);
            }
            return;
        }
        // Unsent messages: Retry / Discard, or Cancel while sending files.
        if let Some(id) = closest(&button, "[data-id]").and_then(|li| li.get_attribute("data-id")) {
            match action.as_str() {
                "retry" => {
                    self.session.retry(&id, t);
                }
                "discard" if self.session.discard(&id) => {
                    self.files.dropped(&id);
                    self.view.remove_pending(&id);
                }
                "cancel-send" => self.cancel_send(&id, t),
                _ => {}
            }
            return;
        }
        let Some(li) = closest(&button, "[data-seq]") else {
            return;
        };
        let Some(seq) = number(&li, "data-seq") else {
            return;
        };
        let data = |k: &str| li.get_attribute(k).unwrap_or_default();
        let s = &self.view.strings;
        match action.as_str() {
            "menu" => {
                // One menu at a time: another's closed on this click
                // (`close_if_outside`); ⋯ again closes its own (focus back on ⋯).
                let open = button.get_attribute("aria-expanded").as_deref() == Some("true");
                if open {
                    menu::close(&li);
                    menu::refocus(&li);
                } else {
                    let (emoji, items) = self.menu_items(&li, t);
                    menu::open(&self.view.doc, s, &li, "actionsMenu", &emoji, &items);
                }
            }
            "report" => {
                let reasons = ReportReason::ALL.map(|r| {
                    let (action, key) = match r {
                        ReportReason::Spam => ("report-spam", "reportSpam"),
                        ReportReason::Harassment => ("report-harassment", "reportHarassment"),
                        ReportReason::Other => ("report-other", "reportOther"),
                    };
                    (action, s.get(key))
                });
                menu::open(&self.view.doc, s, &li, "reportWhy", &[], &reasons);
            }
            "report-spam" | "report-harassment" | "report-other" => {
                menu::close(&li);
                menu::refocus(&li);
                let reason = action
                    .strip_prefix("report-")
                    .and_then(ReportReason::parse)
                    .unwrap_or(ReportReason::Other);
                let result = self.session.report(seq, reason, None, t);
                if result.is_ok() {
                    self.view.reported.push(seq);
                    self.view.say(&self.view.strings.get("reportedSay"));
                }
                self.refused(result);
            }
            "dismiss" => {
                menu::close(&li);
                menu::refocus(&li);
                let result =
                    self.session
                        .moderate(ModerationAction::Dismiss { target: seq }, None, t);
                self.refused(result);
            }
            "react" => {
                let on = button.get_attribute("aria-pressed").as_deref() != Some("true");
                let result = self
                    .session
                    .react(seq, &data_of(&button, "data-emoji"), on, t);
                self.refused(result);
            }
            "react-add" => {
                menu::close(&li);
                menu::refocus(&li);
                let result = self
                    .session
                    .react(seq, &data_of(&button, "data-emoji"), true, t);
                self.refused(result);
            }
            "reply" => {
                menu::close(&li);
                self.start_reply(&li, seq);
            }
            "edit" => {
                let text = find(&li, ".hc-text")
                    .and_then(|p| p.text_content())
                    .unwrap_or_default();
                menu::edit(&self.view.doc, s, &li, &text);
            }
            "save-edit" => self.save_edit(&li, seq, t),
            "cancel" => {
                menu::close(&li);
                self.back_from(&li);
            }
            "hide" | "unhide" => {
                menu::close(&li);
                let sender = data("data-sender");
                let kept = if action == "hide" {
                    self.view.hide(&sender)
                } else {
                    self.view.unhide(&sender)
                };
                crate::stored::set("hidden", &self.options, &kept);
                // (Hidden, the message's buttons are gone: the line keeps focus.)
                menu::refocus(&li);
                if action == "hide" {
                    focus_item(li);
                }
            }
            "reveal" => {
                crate::view::hidden::unfold(&li);
                focus_item(li);
            }
            "delete" => {
                menu::close(&li);
                // Its buttons go while it is deleted: the message keeps focus.
                focus_item(li.clone());
                let result = self.session.remove(seq, t);
                self.refused(result);
            }
            "remove" => {
                menu::close(&li);
                let result =
                    self.session
                        .moderate(ModerationAction::Delete { target: seq }, None, t);
                self.refused(result);
            }
            "pin" | "unpin" => {
                menu::close(&li);
                menu::refocus(&li);
                let action = if action == "pin" {
                    ModerationAction::Pin { target: seq }
                } else {
                    ModerationAction::Unpin { target: Some(seq) }
                };
                let result = self.session.moderate(action, None, t);
                self.refused(result);
            }
            "mute" | "ban" => menu::sanction(&self.view.doc, s, &li, &action, &data("data-name")),
            "unmute" | "unban" => {
                let sender = data("data-sender");
                let lift = if action == "unmute" {
                    ModerationAction::Unmute { sender }
                } else {
                    ModerationAction::Unban { sender }
                };
                menu::close(&li);
                menu::refocus(&li);
                let result = self.session.moderate(lift, None, t);
                self.refused(result);
            }
            "confirm-mute" | "confirm-ban" => {
                let (seconds, reason) = menu::sanction_choice(&li);
                let sender = data("data-sender");
                let sanction = if action == "confirm-mute" {
                    ModerationAction::Mute { sender, seconds }
                } else {
                    ModerationAction::Ban { sender, seconds }
                };
                menu::close(&li);
                menu::refocus(&li);
                let result = self.session.moderate(sanction, reason, t);
                self.refused(result);
            }
            _ => {}
        }
    }

    fn save_edit(&mut self, li: &Element, seq: u64, t: f64) {
        let Some(text) = menu::edited_text(li) else {
            return;
        };
        // (A message of files only has no text.)
        let was = find(li, ".hc-text")
            .and_then(|p| p.text_content())
            .unwrap_or_default();
        // Unchanged, it is no edit (it would only add "(edited)").
        if was.trim() != text.trim() {
            if let Err(e) = self.edit(seq, &text, t) {
                // Empty or too long: the editor stays, with what was typed.
                let why = self.view.strings.not_sent(&e);
                menu::edit_refused(&self.view.doc, li, &why);
                self.view.say(&why);
                self.refused(Err(e));
                return;
            }
            // (Shown at once: `Effect::Applied`.)
        }
        menu::close(li);
        self.back_from(li);
    }

    /// Reply to message `seq` (its `<li>`): the reply bar names whom, and
    /// quotes what.
    pub(crate) fn start_reply(&mut self, li: &Element, seq: u64) {
        let name = li.get_attribute("data-name").unwrap_or_default();
        self.reply_to = Some(seq);
        self.view.reply_bar(Some((&name, &reply_excerpt(li))));
    }

    /// Edit message `seq` (from its editor or the page's `edit()`). A
    /// message with files may be left without text, as it could have been
    /// sent; one of text only in the list may not be emptied: refused here,
    /// rather than shown blank until the room refuses it. (One not in the
    /// list is the room's to judge.)
    pub(crate) fn edit(&mut self, seq: u64, text: &str, t: f64) -> Result<String, ProtocolError> {
        let text_only = self
            .view
            .item(seq)
            .is_some_and(|li| find(&li, ".hc-files").is_none());
        if text_only && protocol::validate::is_blank(text) {
            return protocol::validate::message_text(text, 0);
        }
        self.session.edit(seq, text, t)
    }

    /// Open the editor on the visitor's last message in the list, if the
    /// menu would offer Edit there (its edit window open, the room not
    /// locked, ...); focus returns to the composer when it closes. Not
    /// while one is still in the outbox: the last in the list is not the
    /// last the visitor wrote.
    pub(crate) fn edit_last(&mut self, t: f64) -> bool {
        if self.view.outbox.first_element_child().is_some() {
            return false;
        }
        let mut last = None;
        each(
            &self.view.list,
            ".hc-own[data-seq]:not([data-deleted])",
            &mut |li| last = Some(li),
        );
        let Some(li) = last else {
            return false;
        };
        if !self.menu_items(&li, t).1.iter().any(|(a, _)| *a == "edit") {
            return false;
        }
        let text = find(&li, ".hc-text")
            .and_then(|p| p.text_content())
            .unwrap_or_default();
        menu::edit(&self.view.doc, &self.view.strings, &li, &text);
        self.edit_from_composer = number(&li, "data-seq");
        true
    }

    /// Focus after `li`'s menu, editor or form closes: its ⋯, or the
    /// composer for an editor opened from there.
    fn back_from(&mut self, li: &Element) {
        let seq = number(li, "data-seq");
        if self
            .edit_from_composer
            .take()
            .is_some_and(|s| Some(s) == seq)
        {
            focus(&self.view.input);
        } else {
            menu::refocus(li);
        }
    }

    /// The room refused an edit already sent: its editor opens again with
    /// the text, and says why (as when it cannot even be sent). Not over an
    /// editor the visitor opened since (it only gets the reason), and not
    /// when they are elsewhere on the page (an edit made offline, refused
    /// on reconnecting, or one the page made through `edit`): then it is
    /// only read out.
    pub fn edit_failed(&mut self, seq: u64, text: &str, error: &ProtocolError) {
        let why = self.view.strings.not_sent(error);
        self.view.say(&why);
        let Some(li) = self.view.item(seq) else {
            return;
        };
        self.view.edited(&li, None);
        let open = menu::edited_text(&li).is_some();
        let in_composer = self.view.focused().is_some_and(|f| f == **self.view.input);
        if !open && self.view.has_focus() {
            // From the composer (saved after ↑, say): closing it goes back there.
            if in_composer {
                self.edit_from_composer = Some(seq);
            }
            menu::edit(&self.view.doc, &self.view.strings, &li, text);
        }
        if open || self.view.has_focus() {
            menu::edit_refused(&self.view.doc, &li, &why);
        }
        // Typing the next message meanwhile: the editor waits, open with
        // its reason, and the composer keeps the keys.
        if in_composer && !self.view.input.value().is_empty() {
            focus(&self.view.input);
        }
    }

    /// Keys inside the list: arrows move through an open menu, Escape
    /// closes it (or the editor, or a form), Enter saves an edit.
    pub fn on_list_key(&mut self, e: &KeyboardEvent, target: &Element, t: f64) {
        // (Alt, Ctrl or Meta with a key: the browser's or the reader's.)
        let held = |key| prop(e, key).is_truthy();
        let plain = !(held("altKey") || held("ctrlKey") || held("metaKey"));
        if plain
            && self.view.navigate(
                target,
                &e.key(),
                e.shift_key(),
                self.unread.first_unseen().is_some(),
            )
        {
            e.prevent_default();
            return;
        }
        // Typing in the list goes to the composer, as in Slack: focus moves
        // before the browser inserts the character, so it lands there.
        let typed = e.key().chars().count() == 1 && e.key() != " ";
        if plain
            && typed
            && !self.view.input.disabled()
            && closest(target, ".hc-menu,.hc-dialog").is_none()
        {
            focus(&self.view.input);
            return;
        }
        let Some(li) = closest(target, "[data-seq]") else {
            return;
        };
        let key = e.key();
        if key == "Escape" && find(&li, ".hc-menu, .hc-dialog").is_some() {
            e.prevent_default();
            menu::close(&li);
            self.back_from(&li);
            return;
        }
        if let Some(menu_el) = closest(target, ".hc-menu") {
            if key == "Tab" {
                // Back on ⋯: Shift+Tab stops there, Tab goes on from it.
                menu::close(&li);
                menu::refocus(&li);
                if e.shift_key() {
                    e.prevent_default();
                }
            } else if matches!(
                key.as_str(),
                "ArrowRight" | "ArrowLeft" | "ArrowDown" | "ArrowUp" | "Home" | "End"
            ) {
                e.prevent_default();
                menu::move_focus(&menu_el, target, &key);
            }
            return;
        }
        let role = target.get_attribute("data-role");
        if key != "Enter" || e.shift_key() || e.is_composing() {
            return;
        }
        if role.as_deref() == Some("edit") {
            e.prevent_default();
            if let Some(seq) = number(&li, "data-seq") {
                self.save_edit(&li, seq, t);
            }
        } else if role.as_deref() == Some("reason") {
            // Enter in the Mute / Ban form's reason confirms, as in a form.
            e.prevent_default();
            // (Handled here: a click() would re-enter the controller.)
            if let Some(confirm) = find(&li, ".hc-dialog [data-action^=confirm]") {
                self.on_list_click(&confirm, t);
            }
        }
    }
}

/// What the reply bar quotes of the message `li`: its first words, or the
/// names of its files (as the reply's quote will name them).
pub(crate) fn reply_excerpt(li: &Element) -> String {
    let text = find(li, ".hc-text")
        .and_then(|p| p.text_content())
        .unwrap_or_default();
    if text.is_empty() {
        return crate::view::attachments::names(li);
    }
    first_chars(&text, 60).to_owned()
}

fn data_of(el: &Element, key: &str) -> String {
    el.get_attribute(key).unwrap_or_default()
}

fn focus_item(li: Element) {
    if let Some(li) = cast::<HtmlElement>(li.into(), "HTMLElement") {
        focus(&li);
    }
}
