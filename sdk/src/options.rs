//! Reading `HelloChat.mount(el, options)` options from a plain JS object.
//! (js_sys::Reflect is far smaller than serde for a handful of fields.)

use js_sys::{Object, Reflect};
use protocol::text::{concat, decimal};
use wasm_bindgen::{JsCast, JsValue};

// The headless client reads only the connection's options.
#[cfg_attr(not(feature = "ui"), allow(dead_code))]
pub struct Options {
    pub room: String,
    pub name: String,
    pub site: Option<String>,
    /// `http(s)://host[:port]` of the Hello Chat server.
    pub server: String,
    pub token: Option<String>,
    /// `light`, `dark` or `auto`.
    pub theme: String,
    pub locale: Option<String>,
    pub strings: Option<Object>,
    pub placeholder: Option<String>,
    /// A CSS length for the widget's height.
    pub height: Option<String>,
    /// `rtl` lays the widget out right to left (the API sets it for Arabic,
    /// Hebrew and Persian unless the page says otherwise).
    pub rtl: bool,
    /// `notify: { sound, desktop }`: show the sound toggle and the
    /// notifications bell (the page's JavaScript plays and notifies).
    pub notify_sound: bool,
    pub notify_desktop: bool,
    /// `rememberVisitor: false`: an anonymous visitor is forgotten with the
    /// page (shared devices).
    pub remember_visitor: bool,
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A string option; numbers are accepted too (`height: 500`).
fn string(obj: &JsValue, key: &str) -> Option<String> {
    let v = get(obj, key);
    v.as_string()
        .or_else(|| {
            v.as_f64()
                .filter(|n| *n >= 0.0)
                .map(|n| decimal((n as u32).into()))
        })
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

impl Options {
    pub fn read(obj: &JsValue, default_server: &str) -> Result<Options, String> {
        if !obj.is_object() {
            return Err("HelloChat.mount: options must be an object with at least { room }".into());
        }
        let room = string(obj, "room").ok_or("HelloChat.mount: the `room` option is required")?;
        if !protocol::validate::is_room_id(&room) {
            return Err(concat(&[
                "HelloChat.mount: room \"",
                &room,
                "\" must be 1-64 characters of A-Z a-z 0-9 _ -",
            ]));
        }
        let site = string(obj, "site");
        if let Some(s) = &site {
            if !protocol::validate::is_site_id(s) {
                return Err(concat(&[
                    "HelloChat.mount: site \"",
                    s,
                    "\" must be 1-32 characters of a-z 0-9 -",
                ]));
            }
        }
        let mut server = string(obj, "server").unwrap_or_else(|| default_server.to_owned());
        // URLs allow any case in the scheme (HTTPS://): `socket_url` maps the lower case.
        // (Bytes, not `find("://")`: see `validate::message_text`.)
        if let Some(end) = server.as_bytes().windows(3).position(|w| w == b"://") {
            server[..end].make_ascii_lowercase();
        }
        let theme = match string(obj, "theme").as_deref() {
            Some("dark") => "dark",
            Some("light") => "light",
            _ => "auto",
        };
        let height = string(obj, "height").map(|h| {
            if h.bytes().all(|b| b.is_ascii_digit()) {
                h + "px"
            } else {
                h
            }
        });
        Ok(Options {
            room,
            name: string(obj, "name").unwrap_or_default(),
            site,
            // (`trim_end_matches('/')`, byte by byte: see `split_once_ascii`.)
            server: server[..server.bytes().rposition(|b| b != b'/').map_or(0, |i| i + 1)]
                .to_owned(),
            token: string(obj, "token"),
            theme: theme.to_owned(),
            locale: string(obj, "locale"),
            strings: get(obj, "strings").dyn_into::<Object>().ok(),
            placeholder: string(obj, "placeholder"),
            height,
            rtl: string(obj, "dir").as_deref() == Some("rtl"),
            notify_sound: get(&get(obj, "notify"), "sound").is_truthy(),
            notify_desktop: get(&get(obj, "notify"), "desktop").is_truthy(),
            remember_visitor: get(obj, "rememberVisitor").as_bool() != Some(false),
        })
    }

    /// `ws(s)://host/ws?query` for this server.
    pub fn socket_url(&self, query: &[(&str, String)]) -> String {
        let base = if let Some(rest) = self.server.strip_prefix("https://") {
            concat(&["wss://", rest])
        } else if let Some(rest) = self.server.strip_prefix("http://") {
            concat(&["ws://", rest])
        } else {
            self.server.clone()
        };
        let mut url = base + "/ws?";
        for (i, (k, v)) in query.iter().enumerate() {
            let value = String::from(js_sys::encode_uri_component(v));
            // (Strings, not `push` of a char: this crate's copy of
            // `String::push` would be a second one in the widget.)
            url += &concat(&[if i > 0 { "&" } else { "" }, k, "=", &value]);
        }
        url
    }
}
