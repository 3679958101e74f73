//! The keyboard in the log. The log is one Tab stop, so the composer is not
//! behind every message's buttons: ↑ ↓ Home End go from message to message,
//! and Tab walks the focused message's own buttons (tabindex -1, see
//! `message::fill`) before it leaves the log. An open menu, editor or form
//! keeps the browser's own order.

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};

use wasm_bindgen::JsValue;

use super::dom::{attr, closest, focus, invoke, prop};

/// Move focus for `key` (Shift held: `back`) pressed on `target` in `log`;
/// true if it did (the caller then prevents the browser's own move).
/// `unread`: messages wait to be read (a "New messages" line is theirs).
pub fn navigate(log: &Element, target: &Element, key: &str, back: bool, unread: bool) -> bool {
    let tab = key == "Tab";
    if !tab && !matches!(key, "ArrowUp" | "ArrowDown" | "Home" | "End")
        || closest(target, ".hc-menu,.hc-dialog").is_some()
    {
        return false;
    }
    let li = closest(target, "li");
    let next = if tab {
        let Some(li) = li else { return false };
        // A hidden member's message shows one line: its button only; one
        // being deleted hides its chips and ⋯.
        let selector = if li.has_attribute("data-hidden") {
            ".hc-hidden [tabindex='-1']"
        } else {
            "[tabindex='-1']:not([data-deleting] .hc-reactions *)"
        };
        let Ok(stops) = li.query_selector_all(selector) else {
            return false;
        };
        let n = stops.length() as i32;
        let at = (0..n)
            .find(|&i| stops.item(i as u32).is_some_and(|s| &s == target.as_ref()))
            .unwrap_or(-1);
        let to = if back { at - 1 } else { at + 1 };
        // Past the last button the browser moves on, out of the log (or
        // into an open menu or form); before the message, back to what
        // precedes it ("Load earlier", the log).
        if back && at < 0 || to >= n {
            return false;
        }
        if to < 0 {
            Some(li)
        } else {
            stops.item(to as u32).map(JsCast::unchecked_into)
        }
    } else {
        let Ok(items) = log.query_selector_all(".hc-list>li") else {
            return false;
        };
        let n = items.length();
        if n == 0 {
            return false;
        }
        let at =
            li.and_then(|li| (0..n).find(|&i| items.item(i).is_some_and(|x| &x == li.as_ref())));
        // From the log itself, ↑ and ↓ start at the latest message, or at
        // the first unread one if its "New messages" line is in view (a
        // returning visitor starts there); from "Load earlier" above the
        // list, ↓ goes to the first.
        let start = if target == log {
            unread_in_view(log, &items)
                .filter(|_| unread)
                .unwrap_or(n - 1)
        } else {
            0
        };
        let to = match key {
            "ArrowUp" => at.map_or(start, |i| i.saturating_sub(1)),
            "ArrowDown" => at.map_or(start, |i| (i + 1).min(n - 1)),
            "Home" => 0,
            _ => n - 1,
        };
        items.item(to).map(JsCast::unchecked_into)
    };
    let Some(el) = next.map(JsCast::unchecked_into::<HtmlElement>) else {
        return false;
    };
    // Notices and unsent messages are focusable only from here.
    attr(&el, "tabindex", "-1");
    focus(&el);
    true
}

/// The index in `items` of the message under the "New messages" line, if
/// the line is in the log's view.
fn unread_in_view(log: &Element, items: &web_sys::NodeList) -> Option<u32> {
    // (A query for elements: every item is one.)
    let line = (0..items.length()).find(|&i| {
        items.item(i).is_some_and(|x| {
            x.unchecked_into::<Element>()
                .class_list()
                .contains("hc-new")
        })
    })?;
    let none = &JsValue::UNDEFINED;
    let edge = |el: &JsValue, side: &str| {
        prop(&invoke(el, "getBoundingClientRect", none, none), side)
            .as_f64()
            .unwrap_or(0.0)
    };
    let el: JsValue = items.item(line)?.into();
    let top = edge(&el, "top");
    let seen = top >= edge(log, "top") && top < edge(log, "bottom");
    (seen && line + 1 < items.length()).then_some(line + 1)
}
