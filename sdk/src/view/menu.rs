//! What opens inside a message when the visitor acts on it: the action menu
//! (reactions first, then Reply, Edit, Delete, Report, Hide and, for
//! moderators, Remove, Mute, Ban, Dismiss reports), the choice of a report's
//! reason, the inline editor, and the moderator's duration-and-reason
//! form. Each lives inside the message's `<li>`, below its text, so it
//! flows with the list and needs no positioning; the controller handles
//! its buttons through their `data-action`.

use protocol::text::{concat, decimal, parse_decimal};
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlElement, HtmlTextAreaElement};

use super::dom::{append, append_all, attr, closest, each, element, find, set_text};
use crate::strings::Strings;

/// Durations a moderator can choose, in seconds (0 = for good).
pub const DURATIONS: [(u64, &str); 4] = [
    (600, "minutes10"),
    (3600, "hour1"),
    (86_400, "day1"),
    (0, "forGood"),
];

fn button(doc: &Document, class: &str, action: &str, label: &str) -> Element {
    let b = element(doc, "button", class);
    attr(&b, "type", "button");
    attr(&b, "data-action", action);
    set_text(&b, label);
    b
}

fn focus(el: Option<Element>) {
    if let Some(h) = el.and_then(|e| super::dom::cast::<HtmlElement>(e.into(), "HTMLElement")) {
        super::dom::focus(&h);
    }
}

/// Remove whatever is open in `li` (menu, editor or form).
pub fn close(li: &Element) {
    for selector in [".hc-menu", ".hc-dialog"] {
        if let Some(el) = find(li, selector) {
            el.remove();
        }
    }
    set_expanded(li, false);
}

/// Menus are popups: a click or tap outside a menu's message (in the
/// composer, on another message, or on the host page: `clicked` is None)
/// closes it, as native menus do. On the click, not on focus moving: the
/// menu going would move what is under the pointer between its press and
/// its release. Before the click's own action (which may open a menu, or
/// remove the control clicked).
pub fn close_if_outside(list: &Element, clicked: Option<&Element>) {
    let here = clicked.and_then(|c| closest(c, "[data-seq]"));
    each(list, ".hc-menu", &mut |m| {
        if !here.as_ref().is_some_and(|h| h.contains(Some(&m))) {
            if let Some(li) = closest(&m, "[data-seq]") {
                close(&li);
            }
        }
    });
}

/// Whether the message's ⋯ button says its menu is open.
pub fn set_expanded(li: &Element, open: bool) {
    if let Some(more) = find(li, ".hc-more") {
        attr(&more, "aria-expanded", if open { "true" } else { "false" });
    }
}

/// Open a menu named by string `label` in `li`: the action menu (a
/// reaction per emoji, then `items`, (action, label)), or the choice of a
/// report's reason. Focus goes to the first item.
pub fn open(
    doc: &Document,
    s: &Strings,
    li: &Element,
    label: &str,
    emoji: &[String],
    items: &[(&str, String)],
) {
    close(li);
    let menu = element(doc, "div", "hc-menu");
    attr(&menu, "role", "menu");
    attr(&menu, "aria-label", &s.get(label));
    // A question ("Why report this message?") is asked on screen too.
    if label != "actionsMenu" {
        attr(&menu, "data-ask", "");
    }
    for e in emoji {
        let b = button(doc, "hc-item hc-emoji", "react-add", e);
        attr(&b, "role", "menuitem");
        attr(&b, "data-emoji", e);
        attr(&b, "aria-label", &s.fill("reactWith", &[("emoji", e)]));
        append(&menu, &b);
    }
    for (action, label) in items {
        let b = button(doc, "hc-item", action, label);
        attr(&b, "role", "menuitem");
        // "Reported": said, not done again.
        if *action == "reported" {
            attr(&b, "aria-disabled", "true");
        }
        append(&menu, &b);
    }
    append(li, &menu);
    set_expanded(li, true);
    focus(menu.first_element_child());
}

/// Arrow keys, Home and End move between the items of an open menu.
pub fn move_focus(menu: &Element, from: &Element, key: &str) {
    let items = menu.children();
    let count = items.length();
    let at = (0..count)
        .find(|&i| items.item(i).as_ref() == Some(from))
        .unwrap_or(0);
    // A right-to-left widget lays the menu out right to left.
    let key = match (key, super::dom::closest(menu, "[dir=rtl]").is_some()) {
        ("ArrowLeft", true) => "ArrowRight",
        ("ArrowRight", true) => "ArrowLeft",
        (key, _) => key,
    };
    let to = match key {
        "ArrowRight" | "ArrowDown" => (at + 1) % count.max(1),
        "ArrowLeft" | "ArrowUp" => (at + count.max(1) - 1) % count.max(1),
        "Home" => 0,
        "End" => count.saturating_sub(1),
        _ => return,
    };
    focus(items.item(to));
}

/// Replace the text of `li` with an editor holding `text`.
pub fn edit(doc: &Document, s: &Strings, li: &Element, text: &str) {
    close(li);
    let form = element(doc, "div", "hc-dialog hc-edit");
    let area: HtmlTextAreaElement = element(doc, "textarea", "hc-input").unchecked_into();
    area.set_value(text);
    attr(&area, "dir", "auto");
    attr(&area, "aria-label", &s.get("editLabel"));
    attr(&area, "data-role", "edit");
    let save = button(doc, "hc-send", "save-edit", &s.get("save"));
    let cancel = button(doc, "hc-link", "cancel", &s.get("cancel"));
    append_all(&form, &[&area, &save, &cancel]);
    append(li, &form);
    super::dom::focus(&area);
}

/// Keep `li`'s editor open, marked invalid, with `why` under it (the
/// visitor's text stays as typed; the caller reads `why` out).
pub fn edit_refused(doc: &Document, li: &Element, why: &str) {
    let (Some(form), Some(area)) = (find(li, ".hc-edit"), find(li, "[data-role=edit]")) else {
        return;
    };
    let line = find(&form, ".hc-err").unwrap_or_else(|| {
        let p = element(doc, "p", "hc-err");
        append(&form, &p);
        p
    });
    set_text(&line, why);
    attr(&area, "aria-invalid", "true");
    focus(Some(area));
}

/// The text typed in `li`'s editor.
pub fn edited_text(li: &Element) -> Option<String> {
    let area = find(li, "[data-role=edit]")?;
    Some(area.unchecked_into::<HtmlTextAreaElement>().value())
}

/// A moderator's form for muting or banning (`action`) the sender of `li`:
/// a duration and an optional reason.
pub fn sanction(doc: &Document, s: &Strings, li: &Element, action: &str, name: &str) {
    close(li);
    let form = element(doc, "div", "hc-dialog");
    attr(&form, "role", "group");
    attr(
        &form,
        "aria-label",
        &s.fill(
            if action == "mute" {
                "muteWho"
            } else {
                "banWho"
            },
            &[("name", name)],
        ),
    );
    let label = element(doc, "label", "hc-field");
    set_text(&label, &s.get("duration"));
    let select = element(doc, "select", "");
    attr(&select, "data-role", "duration");
    for (secs, key) in DURATIONS {
        let option = element(doc, "option", "");
        attr(&option, "value", &decimal(secs));
        set_text(&option, &s.get(key));
        append(&select, &option);
    }
    append(&label, &select);
    let reason_label = element(doc, "label", "hc-field");
    set_text(&reason_label, &s.get("reason"));
    let reason = element(doc, "input", "");
    attr(&reason, "data-role", "reason");
    attr(&reason, "maxlength", "200");
    append(&reason_label, &reason);
    let confirm = button(
        doc,
        "hc-send",
        &concat(&["confirm-", action]),
        &s.get(action),
    );
    let cancel = button(doc, "hc-link", "cancel", &s.get("cancel"));
    append_all(&form, &[&label, &reason_label, &confirm, &cancel]);
    append(li, &form);
    focus(Some(select));
}

/// The duration (seconds; `None` = for good) and reason chosen in `li`'s form.
pub fn sanction_choice(li: &Element) -> (Option<u64>, Option<String>) {
    let value = |role: &str| {
        find(li, &concat(&["[data-role=", role, "]"]))
            .and_then(|el| js_sys::Reflect::get(&el, &"value".into()).ok())
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    let seconds = parse_decimal(&value("duration")).filter(|s| *s > 0);
    let reason = Some(value("reason").trim().to_owned()).filter(|r| !r.is_empty());
    (seconds, reason)
}

/// Put focus back on `li`'s actions button (after a menu or form closes).
pub fn refocus(li: &Element) {
    focus(find(li, ".hc-more"));
}
