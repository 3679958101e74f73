//! The `detail` objects of the events the page receives (`message`,
//! `update`, `moderation`, `presence`, `error`), built with `js_sys`
//! (serde would cost more wasm than the rest of the widget).

use js_sys::{Array, Object, Reflect};
use protocol::message::{ModerationNotice, Role};
use protocol::report::{ReportCounts, ReportReason};
use protocol::server_frame::PresenceMember;
use protocol::text::concat;
use protocol::{ChatMessage, ProtocolError};
use wasm_bindgen::JsValue;

pub fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

fn opt_str(v: Option<&str>) -> JsValue {
    v.map_or(JsValue::UNDEFINED, JsValue::from_str)
}

fn opt_num(v: Option<u64>) -> JsValue {
    v.map_or(JsValue::UNDEFINED, |n| JsValue::from_f64(n as f64))
}

fn role(r: Option<Role>) -> JsValue {
    opt_str(r.map(Role::as_str))
}

/// Whether `text` mentions `name` (`@name`, as a word of its own; any case).
pub fn mentions(text: &str, name: &str) -> bool {
    // The browser's lower case: Rust's would add tables to the widget.
    let lower = |s: &str| String::from(js_sys::JsString::from(s).to_lower_case());
    protocol::mention::mentions(&lower(text), &lower(name))
}

/// A message as the page sees it, for the visitor named `me`; attachment
/// URLs are made absolute on `server` (and left out unless they are the
/// server's `/files/`).
pub fn message(m: &ChatMessage, own: bool, me: Option<&str>, server: &str) -> JsValue {
    let mentions_me = !own && me.is_some_and(|me| mentions(&m.message, me));
    let attachments = Array::new();
    for a in &m.attachments {
        let url = a
            .url
            .as_deref()
            .filter(|u| u.starts_with("/files/"))
            .map(|u| concat(&[server, u]));
        attachments.push(&obj(&[
            ("name", a.name.as_str().into()),
            ("mime", a.mime.as_str().into()),
            ("size", JsValue::from_f64(a.size as f64)),
            ("width", opt_num(a.width.map(u64::from))),
            ("height", opt_num(a.height.map(u64::from))),
            ("alt", a.alt.as_str().into()),
            ("url", opt_str(url.as_deref())),
        ]));
    }
    let reactions = Array::new();
    for r in &m.reactions {
        reactions.push(&obj(&[
            ("emoji", r.emoji.as_str().into()),
            ("count", r.count.into()),
            ("mine", (r.mine == Some(true)).into()),
        ]));
    }
    let reply_to = m.reply_to.as_ref().map_or(JsValue::UNDEFINED, |r| {
        obj(&[
            ("seq", JsValue::from_f64(r.seq as f64)),
            ("name", r.name.as_str().into()),
            ("excerpt", r.excerpt.as_str().into()),
        ])
    });
    obj(&[
        ("seq", JsValue::from_f64(m.seq as f64)),
        ("id", m.id.as_str().into()),
        ("name", m.name.as_str().into()),
        ("message", m.message.as_str().into()),
        ("timestamp", JsValue::from_f64(m.timestamp as f64)),
        ("sender", m.sender.as_str().into()),
        ("verified", m.verified.into()),
        ("role", role(m.role)),
        ("edited", opt_num(m.edited)),
        ("deleted", m.deleted.into()),
        ("reactions", reactions.into()),
        ("replyTo", reply_to),
        ("attachments", attachments.into()),
        ("own", own.into()),
        ("mentionsMe", mentions_me.into()),
    ])
}

pub fn notice(n: &ModerationNotice) -> JsValue {
    obj(&[
        ("seq", JsValue::from_f64(n.seq as f64)),
        ("action", n.action.as_str().into()),
        ("target", opt_num(n.target)),
        ("sender", opt_str(n.sender.as_deref())),
        ("name", opt_str(n.name.as_deref())),
        ("until", opt_num(n.until)),
        ("seconds", opt_num(n.seconds)),
        ("by", n.by.as_str().into()),
        ("bySender", opt_str(n.by_sender.as_deref())),
        ("reason", opt_str(n.reason.as_deref())),
        ("erased", n.erased.into()),
    ])
}

/// `presence`: the count, who came or went, and who is here.
pub fn presence(
    online: u32,
    joined: Option<String>,
    left: Option<String>,
    members: &[PresenceMember],
) -> JsValue {
    obj(&[
        ("online", online.into()),
        ("joined", joined.map_or(JsValue::UNDEFINED, JsValue::from)),
        ("left", left.map_or(JsValue::UNDEFINED, JsValue::from)),
        // As `welcome` lists them: the first 100.
        ("members", self::members(&members[..members.len().min(100)])),
    ])
}

pub fn members(list: &[PresenceMember]) -> JsValue {
    let out = Array::new();
    for m in list {
        out.push(&obj(&[
            ("sender", m.sender.as_str().into()),
            ("name", m.name.as_str().into()),
            ("verified", m.verified.into()),
            ("role", role(m.role)),
        ]));
    }
    out.into()
}

pub fn error(e: &ProtocolError) -> JsValue {
    obj(&[
        ("code", e.code.as_str().into()),
        ("message", e.message.as_str().into()),
        ("id", opt_str(e.id.as_deref())),
        ("until", opt_num(e.until)),
        ("retryAfter", opt_num(e.retry_after)),
    ])
}

/// Moderators' `reports` event: the open reports of these messages, by
/// reason (`all`: of every message; none other has any).
pub fn reports(counts: &[ReportCounts], all: bool) -> JsValue {
    let list = Array::new();
    for c in counts {
        let reasons = js_sys::Object::new();
        for r in ReportReason::ALL {
            let n = c.by_reason[r as usize];
            if n > 0 {
                let _ = js_sys::Reflect::set(&reasons, &r.as_str().into(), &n.into());
            }
        }
        list.push(&obj(&[
            ("target", (c.target as f64).into()),
            ("reports", c.total().into()),
            ("reasons", reasons.into()),
        ]));
    }
    obj(&[("reports", list.into()), ("all", all.into())])
}
