//! One message in the list: its header (name, role, verified mark, time,
//! "edited"), the quote it replies to, its text or tombstone, its files, its
//! reactions and its actions button. Built once, and rebuilt in place when an
//! update arrives. Facts the controller needs later (whose it is, when it was
//! sent, whether it is deleted) are kept as data attributes on the `<li>`.

use protocol::message::{ModerationNotice, ReplyRef, Role};
use protocol::report::{ReportCounts, ReportReason};
use protocol::text::{concat, decimal, join};
use protocol::ChatMessage;
use web_sys::{Document, Element};

use super::attachments;
use super::dom::{
    append, append_all, attr, each, element, find, invoke, iso_time, local_time, number, prop,
    set_class, set_text,
};
use crate::events::mentions;
use crate::strings::Strings;

/// What a message looks like, given who is looking.
pub struct Look<'a> {
    pub own: bool,
    pub grouped: bool,
    /// The viewer's name, for highlighting mentions of them.
    pub me: Option<&'a str>,
    pub locale: Option<&'a str>,
    /// The server's origin, for attachment URLs.
    pub server: &'a str,
    /// Object URLs of our own sent files, by key (see `attachments::src`).
    pub local: &'a [(String, String)],
    /// Moderators: open reports by message seq (see `flag`).
    pub flags: &'a [ReportCounts],
    /// The viewer moderates: a tombstone of a member's keeps its ⋯, to
    /// mute or ban its sender (messages are often removed first).
    pub moderator: bool,
}

/// Moderators: "⚑ 2" on a message with open reports, read as "2 reports:
/// Spam 1, Something else 1" (none, 0, or a tombstone: no flag).
pub fn flag(doc: &Document, s: &Strings, li: &Element, counts: Option<&ReportCounts>) {
    if let Some(old) = find(li, ".hc-flag") {
        old.remove();
    }
    let count = counts.map_or(0, ReportCounts::total);
    let Some(meta) =
        find(li, ".hc-meta").filter(|_| count > 0 && !li.has_attribute("data-deleted"))
    else {
        return;
    };
    let n = decimal(count.into());
    let mark = element(doc, "span", "hc-flag");
    attr(&mark, "role", "img");
    // Why, too: a moderator weighs harassment otherwise than spam.
    let mut why = Vec::new();
    for (r, key) in [
        (ReportReason::Spam, "reportSpam"),
        (ReportReason::Harassment, "reportHarassment"),
        (ReportReason::Other, "reportOther"),
    ] {
        let k = counts.map_or(0, |c| c.by_reason[r as usize]);
        if k > 0 {
            why.push(concat(&[&s.get(key), " ", &s.digits(&decimal(k.into()))]));
        }
    }
    let label = concat(&[
        &s.fill("reportCount", &[("n", &n)]),
        ": ",
        &join(&why, ", "),
    ]);
    attr(&mark, "aria-label", &label);
    attr(&mark, "title", &label);
    set_text(&mark, &concat(&["⚑ ", &s.digits(&n)]));
    append(&meta, &mark);
}

fn button(doc: &Document, class: &str, action: &str, text: &str) -> Element {
    let b = element(doc, "button", class);
    attr(&b, "type", "button");
    attr(&b, "data-action", action);
    // Reached by Tab from the message itself (see `log_keys`).
    attr(&b, "tabindex", "-1");
    set_text(&b, text);
    b
}

/// A reaction chip's count (kept in `data-n`), and whether the viewer is
/// among them.
fn set_chip(s: &Strings, chip: &Element, count: u32, mine: bool) {
    let emoji = chip.get_attribute("data-emoji").unwrap_or_default();
    let n = decimal(count.into());
    // (`data-n` in 0-9: counted from when toggled.)
    set_text(chip, &concat(&[&emoji, " ", &s.digits(&n)]));
    attr(chip, "data-n", &n);
    attr(chip, "aria-pressed", if mine { "true" } else { "false" });
    attr(
        chip,
        "aria-label",
        &s.fill("reaction", &[("emoji", &emoji), ("n", &n)]),
    );
}

/// `li`'s chip for `emoji` with the viewer's reaction added (`on`) or
/// taken back, before the room's `update` redraws it: a chip added, its
/// count changed, or gone at 0.
pub fn react(doc: &Document, s: &Strings, li: &Element, emoji: &str, on: bool) {
    let Some(row) = find(li, ".hc-reactions") else {
        return;
    };
    // (Compared, not put in a selector: an emoji is data.)
    let mut chip = None;
    each(&row, ".hc-chip", &mut |c| {
        if c.get_attribute("data-emoji").as_deref() == Some(emoji) {
            chip = Some(c);
        }
    });
    let (count, mine) = chip.as_ref().map_or((0, false), |c| {
        (
            number(c, "data-n").unwrap_or(0) as u32,
            c.get_attribute("aria-pressed").as_deref() == Some("true"),
        )
    });
    if mine == on {
        return;
    }
    let count = if on {
        count + 1
    } else {
        count.saturating_sub(1)
    };
    match chip {
        Some(c) if count == 0 => c.remove(),
        Some(c) => set_chip(s, &c, count, on),
        None => {
            let c = button(doc, "hc-chip", "react", "");
            attr(&c, "data-emoji", emoji);
            set_chip(s, &c, count, on);
            // Before ⋯, the row's last.
            let _ = row.insert_before(&c, row.last_child().as_ref());
        }
    }
}

/// `text` in `p`, its web links clickable (see `protocol::links`): built
/// as nodes, never parsed as HTML. `tabindex`: the links' (`-1` in the list,
/// where Tab from the message reaches them).
pub(super) fn linked_text(doc: &Document, p: &Element, text: &str, tabindex: &str) {
    for (link, piece) in protocol::links::split(text) {
        if link {
            let a = element(doc, "a", "");
            attr(&a, "href", piece);
            attr(&a, "target", "_blank");
            attr(&a, "rel", "noopener noreferrer nofollow ugc");
            attr(&a, "tabindex", tabindex);
            set_text(&a, piece);
            append(p, &a);
        } else {
            let _ = p.append_with_str_1(piece);
        }
    }
}

/// A new `<li>` for `m`.
pub fn item(doc: &Document, s: &Strings, m: &ChatMessage, look: &Look) -> Element {
    let li = element(doc, "li", "hc-msg");
    fill(doc, s, &li, m, look);
    li
}

/// (Re)build the content of `li` for `m`.
pub fn fill(doc: &Document, s: &Strings, li: &Element, m: &ChatMessage, look: &Look) {
    li.set_text_content(None);
    for (class, on) in [
        ("hc-own", look.own),
        ("hc-grouped", look.grouped),
        ("hc-deleted", m.deleted),
        (
            "hc-mention",
            !look.own && !m.deleted && look.me.is_some_and(|me| mentions(&m.message, me)),
        ),
    ] {
        set_class(li, class, on);
    }
    attr(li, "data-seq", &decimal(m.seq));
    attr(li, "data-sender", &m.sender);
    attr(li, "data-name", &m.name);
    attr(li, "data-ts", &decimal(m.timestamp));
    // Focusable from the code (a reply's quote jumps here), not by Tab.
    attr(li, "tabindex", "-1");
    if look.own {
        attr(li, "data-own", "");
    }
    if m.deleted {
        attr(li, "data-deleted", "");
    }
    if let Some(role) = m.role {
        attr(li, "data-role", role.as_str());
    }

    let meta = element(doc, "div", "hc-meta");
    // A `bdi`: cut at the end of the name's own direction (a Latin name in
    // a right-to-left widget keeps its start).
    let name = element(doc, "bdi", "hc-name");
    set_text(&name, &m.name);
    let key = if m.sender.is_empty() {
        &m.name
    } else {
        &m.sender
    };
    let hue = decimal(name_hue(key).into());
    invoke(
        &prop(&name, "style"),
        "setProperty",
        &"--_h".into(),
        &hue.into(),
    );
    append(&meta, &name);
    if let Some(role) = m.role {
        let badge = element(doc, "span", "hc-role");
        set_text(
            &badge,
            &s.get(if role == Role::Moderator {
                "roleModerator"
            } else {
                "roleBot"
            }),
        );
        append(&meta, &badge);
    }
    if m.verified {
        // Signed by the site: a mark anonymous visitors cannot get.
        let mark = element(doc, "span", "hc-verified");
        attr(&mark, "role", "img");
        attr(&mark, "aria-label", &s.get("verified"));
        attr(&mark, "title", &s.get("verified"));
        set_text(&mark, "✓");
        append(&meta, &mark);
    }
    let time = element(doc, "time", "");
    set_text(&time, &local_time(m.timestamp as f64, look.locale));
    attr(&time, "datetime", &iso_time(m.timestamp as f64));
    append(&meta, &time);
    if m.edited.is_some() && !m.deleted {
        let edited = element(doc, "span", "hc-edited");
        set_text(&edited, &s.get("edited"));
        append(&meta, &edited);
    }
    append(li, &meta);
    flag(doc, s, li, look.flags.iter().find(|f| f.target == m.seq));

    if let Some(r) = &m.reply_to {
        let quote = button(doc, "hc-quote", "quote", "");
        attr(&quote, "data-target", &decimal(r.seq));
        fill_quote(doc, s, &quote, r);
        append(li, &quote);
    }

    // A message of files only has no text bubble.
    let text_id = concat(&["hc-t-", &decimal(m.seq)]);
    let has_text = m.deleted || !m.message.is_empty() || m.attachments.is_empty();
    if has_text {
        let text = element(doc, "p", "hc-text");
        attr(&text, "dir", "auto");
        attr(&text, "id", &text_id);
        if m.deleted {
            set_text(&text, &s.get("deleted"));
        } else {
            // Links are reached by Tab from the message itself (see `log_keys`).
            linked_text(doc, &text, &m.message, "-1");
        }
        append(li, &text);
    }
    if !m.deleted && !m.attachments.is_empty() {
        let files = attachments::list(doc, s, &m.attachments, |a| {
            attachments::src(look.server, look.local, a)
        });
        append(li, &files);
    }

    // (Not an erased member's: nameless, gone for good.)
    let sanctionable = look.moderator
        && !look.own
        && !m.sender.is_empty()
        && !m.name.is_empty()
        && m.role.is_none();
    if !m.deleted || sanctionable {
        let row = element(doc, "div", "hc-reactions");
        for r in m.reactions.iter().filter(|r| r.count > 0 && !m.deleted) {
            let chip = button(doc, "hc-chip", "react", "");
            attr(&chip, "data-emoji", &r.emoji);
            set_chip(s, &chip, r.count, r.mine == Some(true));
            append(&row, &chip);
        }
        let more = button(doc, "hc-more", "menu", "⋯");
        attr(&more, "aria-haspopup", "menu");
        attr(&more, "aria-expanded", "false");
        attr(
            &more,
            "aria-label",
            &s.fill("actions", &[("name", &m.name)]),
        );
        // One sender's buttons all have that name: the text tells them apart.
        if has_text {
            attr(&more, "aria-describedby", &text_id);
        }
        append(&row, &more);
        append(li, &row);
    }
}

/// Hues (oklch) that tell names apart at a glance: red, orange, green, teal,
/// blue, violet, purple, pink. No yellow: it turns olive at the lightness
/// that keeps contrast on white.
const NAME_HUES: [u32; 8] = [25, 55, 145, 190, 235, 270, 305, 345];

/// The hue of a sender's name: each sender's name in a colour of its own, as
/// group chats do, the same for everyone in the room (the sender key is the
/// room's). The stylesheet keeps the lightness, so every hue has the same
/// contrast.
pub fn name_hue(key: &str) -> u32 {
    // FNV-1a: stable, and spreads keys that differ in one character.
    let h = key.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    NAME_HUES[h as usize % NAME_HUES.len()]
}

/// A reply's quote of `r`: its author's name and the start of its text,
/// redrawn when that message changes (edited, deleted, its author erased).
pub fn fill_quote(doc: &Document, s: &Strings, quote: &Element, r: &ReplyRef) {
    let name = if r.name.is_empty() {
        s.get("someone")
    } else {
        r.name.clone()
    };
    let who = element(doc, "span", "hc-quote-name");
    set_text(&who, &name);
    let what = element(doc, "span", "");
    attr(&what, "dir", "auto");
    // A deleted original says so ("Ada Message deleted", as its tombstone
    // does), not "Ada …", which reads as a message cut short.
    let deleted = s.get("deleted");
    set_text(
        &what,
        match (r.deleted, r.excerpt.is_empty()) {
            (true, _) => &deleted,
            (false, true) => "…",
            (false, false) => &r.excerpt,
        },
    );
    quote.set_text_content(None);
    append_all(quote, &[&who, &what]);
    if !r.sender.is_empty() {
        attr(quote, "data-sender", &r.sender);
    }
    // A hidden member's (redrawn after their edit) keeps no tooltip naming them.
    if !quote.has_attribute("data-hidden") {
        hint_quote(s, quote, &name);
    }
}

/// What quote `quote` does, as its tooltip and, for a screen reader, its
/// description: its name is what it shows (who, and their words), as
/// WCAG's "label in name" asks of a control whose words are visible.
pub fn hint_quote(s: &Strings, quote: &Element, name: &str) {
    attr(quote, "title", &s.fill("replyQuote", &[("name", name)]));
}

/// A moderation notice's line. What its text says is kept on the `<li>`
/// (the string's key, names, seconds, the moderator's reason, and whose
/// they are), so that the text
/// can be said again without a name once that person is erased.
/// `until`: when a timed mute or ban ends, as the visitor reads times.
pub fn notice(
    doc: &Document,
    s: &Strings,
    key: &str,
    n: &ModerationNotice,
    until: &str,
) -> Element {
    let li = element(doc, "li", "hc-notice");
    attr(&li, "data-key", key);
    attr(&li, "data-until", until);
    attr(&li, "data-by", &n.by);
    attr(&li, "data-s", &decimal(n.seconds.unwrap_or(0)));
    for (k, v) in [
        ("data-reason", &n.reason),
        ("data-name", &n.name),
        ("data-sender", &n.sender),
        ("data-by-sender", &n.by_sender),
    ] {
        if let Some(v) = v {
            attr(&li, k, v);
        }
    }
    set_text(&li, &notice_text(s, &li));
    li
}

/// The text of notice line `li`, from what it keeps.
pub fn notice_text(s: &Strings, li: &Element) -> String {
    let data = |k| li.get_attribute(k).filter(|v| !v.is_empty());
    let someone = || s.get("someone");
    // No name: unknown, or erased (GDPR); `by` is empty once erased.
    let name = data("data-name").unwrap_or_else(someone);
    let by = data("data-by").unwrap_or_else(someone);
    let key = data("data-key").unwrap_or_default();
    let secs = data("data-s").unwrap_or_default();
    let until = data("data-until").unwrap_or_default();
    let text = s.fill(
        &key,
        &[("name", &name), ("by", &by), ("s", &secs), ("time", &until)],
    );
    match data("data-reason") {
        Some(reason) => s.fill("noticeReason", &[("notice", &text), ("reason", &reason)]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::{name_hue, NAME_HUES};
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn name_hues_are_one_of_eight_stable_and_spread() {
        let keys = [
            "s_Ada", "s_Bo", "s_Cy", "s_Di", "s_Eve", "s_Flo", "s_Gus", "s_Hal",
        ];
        let hues: Vec<u32> = keys.iter().map(|k| name_hue(k)).collect();
        assert!(hues.iter().all(|h| NAME_HUES.contains(h)));
        assert_eq!(hues, keys.iter().map(|k| name_hue(k)).collect::<Vec<_>>());
        let mut distinct = hues.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(
            distinct.len() >= 4,
            "eight senders in {} colours",
            distinct.len()
        );
    }
}
