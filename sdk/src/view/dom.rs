//! Tiny DOM helpers. User text only ever goes through `set_text` (textContent):
//! nothing the network sends is parsed as HTML.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, Event, HtmlElement, Node};

pub fn element(doc: &Document, tag: &str, class: &str) -> Element {
    // createElement only fails for invalid tag names, and ours are constants.
    let el = doc.create_element(tag).unwrap_throw();
    if !class.is_empty() {
        el.set_class_name(class);
    }
    el
}

pub fn html(doc: &Document, tag: &str, class: &str) -> HtmlElement {
    element(doc, tag, class).unchecked_into()
}

/// Whether `v` is an instance of a class named `class` ("Element",
/// "KeyboardEvent"): a prototype on its chain is that class's. Named, not
/// `instanceof` this window's class: a widget mounted into an iframe's or a
/// Picture-in-Picture window's document gets that window's events and
/// elements. One function for every class the widget checks: a typed
/// `dyn_into` adds an import and its glue for each.
pub fn is_a(v: &JsValue, class: &str) -> bool {
    let name = JsValue::from_str(class);
    let mut proto = v.clone();
    while proto.is_object() {
        proto = js_sys::Object::get_prototype_of(&proto).into();
        if prop(&prop(&proto, "constructor"), "name") == name {
            return true;
        }
    }
    false
}

/// `v` as a `T` if it is an instance of `class` (`T`'s name in the page).
pub fn cast<T: JsCast>(v: JsValue, class: &str) -> Option<T> {
    is_a(&v, class).then(|| v.unchecked_into())
}

/// `cast`, borrowed.
pub fn cast_ref<'a, T: JsCast>(v: &'a JsValue, class: &str) -> Option<&'a T> {
    is_a(v, class).then(|| v.unchecked_ref())
}

/// The element an event happened on, if it was one. (Once, here: each
/// inlined copy of the cast costs wasm.)
pub fn target(e: &Event) -> Option<Element> {
    cast(e.target()?.into(), "Element")
}

/// `parent.appendChild(child)`. One function for the many call sites, each of
/// which would otherwise carry its own copy of the call and its result's drop.
pub fn append(parent: &Node, child: &Node) {
    let _ = parent.append_child(child);
}

/// Focus `el`. (Once, here: each call site would carry its own drop of the
/// result.)
pub fn focus(el: &HtmlElement) {
    let _ = el.focus();
}

/// `append` for each of `children`, in order. (Not `Element.append(a, b,
/// ...)`: a binding per number of arguments would add glue for each.)
pub fn append_all(parent: &Node, children: &[&Node]) {
    for child in children {
        append(parent, child);
    }
}

/// The first element under `el` matching `selector`, if any.
pub fn find(el: &Element, selector: &str) -> Option<Element> {
    el.query_selector(selector).ok().flatten()
}

/// Call `f` on every element under `el` matching `selector` (`dyn`: one
/// copy of the loop for every caller).
pub fn each(el: &Element, selector: &str, f: &mut dyn FnMut(Element)) {
    let Ok(found) = el.query_selector_all(selector) else {
        return;
    };
    for i in 0..found.length() {
        if let Some(e) = found.item(i).and_then(|n| cast(n.into(), "Element")) {
            f(e);
        }
    }
}

/// `el` or its nearest ancestor matching `selector`, if any.
pub fn closest(el: &Element, selector: &str) -> Option<Element> {
    el.closest(selector).ok().flatten()
}

/// The whole number in attribute `name` (`data-seq`, `data-ts`), if any.
pub fn number(el: &Element, name: &str) -> Option<u64> {
    protocol::text::parse_decimal(&el.get_attribute(name)?)
}

pub fn set_text(el: &Element, text: &str) {
    el.set_text_content(Some(text));
}

pub fn attr(el: &Element, name: &str, value: &str) {
    let _ = el.set_attribute(name, value);
}

/// Add class `class` to `el`, or remove it.
pub fn set_class(el: &Element, class: &str, on: bool) {
    let _ = el.class_list().toggle_with_force(class, on);
}

/// Remove attribute `name` (the other half of `attr`).
pub fn unset(el: &Element, name: &str) {
    let _ = el.remove_attribute(name);
}

pub fn set_hidden(el: &HtmlElement, hidden: bool) {
    el.set_hidden(hidden);
}

/// `o[key]`, or undefined. Untyped, like `invoke`: a typed binding per
/// property or method would add more glue to the embed than the feature
/// that needs it.
pub fn prop(o: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(o, &key.into()).unwrap_or_default()
}

/// `o[method](a, b)`, or undefined if it throws.
pub fn invoke(o: &JsValue, method: &str, a: &JsValue, b: &JsValue) -> JsValue {
    prop(o, method)
        .unchecked_into::<js_sys::Function>()
        .call2(o, a, b)
        .unwrap_or_default()
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = Date)]
    type LocalDate;
    #[wasm_bindgen(constructor, js_class = Date)]
    fn new(ms: f64) -> LocalDate;
    #[wasm_bindgen(method, catch, js_class = Date, js_name = toISOString)]
    fn to_iso_string(this: &LocalDate) -> Result<js_sys::JsString, JsValue>;
}

thread_local! {
    /// The `Intl.DateTimeFormat`s made so far, by locale and fields. Making
    /// one costs far more than formatting with it: made for every message
    /// (as `toLocaleTimeString` does), they were 6% of the main thread's
    /// time in a room at 100 messages a second.
    static FORMATS: RefCell<Vec<(String, JsValue)>> = const { RefCell::new(Vec::new()) };
}

/// `ms` formatted by `new Intl.DateTimeFormat(locale, {fields})`: the
/// browser formats it. A locale it does not know falls back to the
/// visitor's.
fn local(ms: f64, locale: Option<&str>, fields: &[(&str, &str)]) -> String {
    let mut key = String::from(locale.unwrap_or(""));
    for (k, v) in fields {
        key.extend([" ", k, v]);
    }
    let format = FORMATS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some((_, format)) = cache.iter().find(|(k, _)| *k == key) {
            return format.clone();
        }
        let options = js_sys::Object::new();
        for (k, v) in fields {
            let _ = js_sys::Reflect::set(&options, &(*k).into(), &(*v).into());
        }
        let make = |locale: JsValue| {
            js_sys::Reflect::construct(
                &prop(&prop(&crate::global::global(), "Intl"), "DateTimeFormat")
                    .unchecked_into::<js_sys::Function>(),
                &js_sys::Array::of2(&locale, &options),
            )
        };
        let format = make(locale.map_or(JsValue::UNDEFINED, JsValue::from_str))
            .or_else(|_| make(JsValue::UNDEFINED))
            .unwrap_or_default();
        cache.push((key, format.clone()));
        format
    });
    let date: JsValue = LocalDate::new(ms).into();
    invoke(&format, "format", &date, &JsValue::UNDEFINED)
        .as_string()
        .unwrap_or_default()
}

/// "14:05" (or "2:05 PM") in the visitor's or the configured locale.
pub fn local_time(ms: f64, locale: Option<&str>) -> String {
    local(ms, locale, &[("hour", "2-digit"), ("minute", "2-digit")])
}

/// When something ends (a mute, a ban): "14:05" within the next twelve
/// hours, else with its date ("4 December at 14:05"), which a time alone
/// would leave to guess. (No weekday: after "until" it would need another
/// case in Russian or Polish.)
pub fn local_until(ms: f64, locale: Option<&str>) -> String {
    if ms - js_sys::Date::now() < 12.0 * 3_600_000.0 {
        return local_time(ms, locale);
    }
    local(
        ms,
        locale,
        &[
            ("day", "numeric"),
            ("month", "long"),
            ("hour", "2-digit"),
            ("minute", "2-digit"),
        ],
    )
}

/// "Sunday, 29 November" (or "Sonntag, 29. November"): the day of `ms`,
/// here; with the year too for a day more than about ten months ago.
pub fn local_day(ms: f64, locale: Option<&str>) -> String {
    let old = js_sys::Date::now() - ms > 300.0 * 86_400_000.0;
    let fields = [
        ("weekday", "long"),
        ("day", "numeric"),
        ("month", "long"),
        ("year", "numeric"),
    ];
    local(ms, locale, &fields[..3 + usize::from(old)])
}

pub fn iso_time(ms: f64) -> String {
    LocalDate::new(ms)
        .to_iso_string()
        .map(String::from)
        .unwrap_or_default()
}
