//! The widget's browser adapters, in headless Chromium (wasm-bindgen-test).
//! No server runs here: these tests cover mounting, options, rendering and
//! clean-up; the end-to-end suites cover the network.

use hello_chat::Widget;
use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::{Document, Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> Document {
    web_sys::window().unwrap().document().unwrap()
}

fn container() -> Element {
    let el = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&el).unwrap();
    el
}

fn options(pairs: &[(&str, &str)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), &(*v).into()).unwrap();
    }
    o.into()
}

/// An `emit` callback that records `[name, detail]` pairs into `log`.
fn recorder(log: &Array) -> Function {
    Function::new_with_args("log", "return (name, detail) => log.push([name, detail])")
        .call1(&JsValue::NULL, log)
        .unwrap()
        .unchecked_into()
}

fn shadow(el: &Element) -> web_sys::ShadowRoot {
    el.query_selector("[data-hello-chat-host]")
        .unwrap()
        .expect("host element")
        .shadow_root()
        .expect("open shadow root")
}

// An unreachable server: the widget must still render and behave offline.
const NOWHERE: &str = "http://127.0.0.1:9";

#[wasm_bindgen_test]
fn mounts_an_accessible_widget_in_a_shadow_root() {
    let el = container();
    let log = Array::new();
    let mut w = Widget::new(
        el.clone(),
        options(&[("room", "lobby"), ("name", "Ada"), ("theme", "dark")]),
        recorder(&log),
        NOWHERE.into(),
    )
    .unwrap();
    let root = shadow(&el);
    let q = |s: &str| root.query_selector(s).unwrap();
    assert!(
        document().query_selector(".hc").unwrap().is_none(),
        "nothing leaks into the page's DOM"
    );
    assert_eq!(
        q(".hc").unwrap().get_attribute("data-theme").as_deref(),
        Some("dark")
    );
    assert_eq!(
        q(".hc-log").unwrap().get_attribute("role").as_deref(),
        Some("log")
    );
    assert_eq!(
        q(".hc-input")
            .unwrap()
            .get_attribute("aria-label")
            .as_deref(),
        Some("Message")
    );
    assert_eq!(
        q(".hc-title").unwrap().text_content().as_deref(),
        Some("#lobby")
    );
    let banner: HtmlElement = q(".hc-banner").unwrap().unchecked_into();
    assert!(!banner.hidden(), "a connecting banner is shown");
    w.destroy();
}

#[wasm_bindgen_test]
fn destroy_removes_every_node() {
    let el = container();
    let mut w = Widget::new(
        el.clone(),
        options(&[("room", "lobby")]),
        recorder(&Array::new()),
        NOWHERE.into(),
    )
    .unwrap();
    assert_eq!(el.child_element_count(), 1);
    w.destroy();
    assert_eq!(el.child_element_count(), 0);
    assert_eq!(w.send("after destroy".into()), None);
    w.destroy();
}

#[wasm_bindgen_test]
fn messages_sent_before_connecting_are_shown_pending_as_text() {
    let el = container();
    let log = Array::new();
    let mut w = Widget::new(
        el.clone(),
        options(&[("room", "r1")]),
        recorder(&log),
        NOWHERE.into(),
    )
    .unwrap();
    let id = w
        .send("<img src=x onerror=alert(1)> hi".into())
        .expect("queued with an id");
    let root = shadow(&el);
    let item = root
        .query_selector(".hc-outbox .hc-msg")
        .unwrap()
        .expect("pending item");
    assert_eq!(item.get_attribute("data-id").as_deref(), Some(id.as_str()));
    assert_eq!(item.get_attribute("data-state").as_deref(), Some("pending"));
    assert_eq!(
        item.query_selector(".hc-text")
            .unwrap()
            .unwrap()
            .text_content()
            .as_deref(),
        Some("<img src=x onerror=alert(1)> hi")
    );
    assert!(
        root.query_selector("img").unwrap().is_none(),
        "hostile text is never parsed as HTML"
    );
    w.destroy();
}

#[wasm_bindgen_test]
fn invalid_messages_are_refused_locally_with_an_error_event() {
    let el = container();
    let log = Array::new();
    let mut w = Widget::new(
        el,
        options(&[("room", "r1")]),
        recorder(&log),
        NOWHERE.into(),
    )
    .unwrap();
    assert_eq!(w.send("   ".into()), None);
    assert_eq!(w.send("x".repeat(2001)), None);
    let codes: Vec<String> = log
        .iter()
        .map(|e| e.unchecked_into::<Array>())
        .filter(|e| e.get(0).as_string().as_deref() == Some("error"))
        .map(|e| {
            Reflect::get(&e.get(1), &"code".into())
                .unwrap()
                .as_string()
                .unwrap()
        })
        .collect();
    assert_eq!(codes, ["empty", "too_long"]);
    w.destroy();
}

#[wasm_bindgen_test]
fn bad_options_throw_a_clear_error() {
    let bad = [
        options(&[]),
        options(&[("room", "a/b")]),
        options(&[("room", "ok"), ("site", "Bad Site")]),
        JsValue::from(3),
    ];
    for o in bad {
        let err = Widget::new(container(), o, recorder(&Array::new()), NOWHERE.into())
            .err()
            .expect("refused");
        let message = Reflect::get(&err, &"message".into())
            .unwrap()
            .as_string()
            .unwrap();
        assert!(message.starts_with("HelloChat.mount:"), "{message}");
    }
}

#[wasm_bindgen_test]
fn strings_and_height_can_be_customised() {
    let el = container();
    let strings = Object::new();
    Reflect::set(&strings, &"send".into(), &"Senden".into()).unwrap();
    let o = options(&[
        ("room", "r"),
        ("height", "300"),
        ("placeholder", "Schreib was"),
    ]);
    Reflect::set(&o, &"strings".into(), &strings).unwrap();
    let mut w = Widget::new(el.clone(), o, recorder(&Array::new()), NOWHERE.into()).unwrap();
    let root = shadow(&el);
    assert_eq!(
        root.query_selector(".hc-send")
            .unwrap()
            .unwrap()
            .text_content()
            .as_deref(),
        Some("Senden")
    );
    assert_eq!(
        root.query_selector(".hc-input")
            .unwrap()
            .unwrap()
            .get_attribute("placeholder")
            .as_deref(),
        Some("Schreib was")
    );
    let c: HtmlElement = root
        .query_selector(".hc")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert_eq!(c.style().get_property_value("--_height").unwrap(), "300px");
    w.destroy();
}

#[wasm_bindgen_test]
fn several_widgets_are_independent() {
    let (a, b) = (container(), container());
    let mut wa = Widget::new(
        a.clone(),
        options(&[("room", "one")]),
        recorder(&Array::new()),
        NOWHERE.into(),
    )
    .unwrap();
    let mut wb = Widget::new(
        b.clone(),
        options(&[("room", "two")]),
        recorder(&Array::new()),
        NOWHERE.into(),
    )
    .unwrap();
    wa.send("only in a".into());
    assert_eq!(
        shadow(&a)
            .query_selector(".hc-outbox")
            .unwrap()
            .unwrap()
            .child_element_count(),
        1
    );
    assert_eq!(
        shadow(&b)
            .query_selector(".hc-outbox")
            .unwrap()
            .unwrap()
            .child_element_count(),
        0
    );
    wa.destroy();
    assert_eq!(
        shadow(&b)
            .query_selector(".hc-title")
            .unwrap()
            .unwrap()
            .text_content()
            .as_deref(),
        Some("#two")
    );
    wb.destroy();
}
