//! Files on screen: a message's images as thumbnails that open a full-size
//! viewer and its other files as cards (name, type, size); the previews of
//! a message still being sent; the composer's tray of staged files.
//!
//! A thumbnail's width and height are set from the size the sender
//! measured, so the list does not jump when it loads. Only URLs under the
//! server's `/files/` are used (a hostile frame could name any other), and
//! names and alt texts go through attributes and textContent, never HTML.

use protocol::message::Attachment;
use protocol::session::OutgoingFile;
use protocol::text::{concat, decimal, join};
use web_sys::{Document, Element};

use super::dom::{append, append_all, attr, each, element, find, set_text};
use crate::downscale::fit;
use crate::strings::Strings;

/// Largest side of a thumbnail in the list, in CSS pixels.
const THUMB_PX: u32 = 240;
/// Largest side of a thumbnail in the composer's tray.
const TRAY_PX: u32 = 48;

/// Where to fetch an attachment: a `/files/` path on `server`, or (our own
/// message before the room sent its URL) the bytes this page still has.
pub fn src(server: &str, local: &[(String, String)], a: &Attachment) -> Option<String> {
    match a.url.as_deref() {
        Some(url) => url.starts_with("/files/").then(|| concat(&[server, url])),
        None => local
            .iter()
            .find(|(key, _)| *key == a.key)
            .map(|(_, url)| url.clone()),
    }
}

/// "12.5 KB" (integers only: float formatting would add kilobytes of wasm).
pub fn human_size(bytes: u64) -> String {
    let (unit, div) = match bytes {
        0..1024 => return decimal(bytes) + " B",
        1024..1_048_576 => ("KB", 1024),
        _ => ("MB", 1_048_576),
    };
    let tenths = (bytes * 10 + div / 2) / div;
    concat(&[&decimal(tenths / 10), ".", &decimal(tenths % 10), " ", unit])
}

/// Where the last `byte` (ASCII) is in `text` (bytes, not chars: Rust's
/// reverse char search would add a kilobyte of wasm).
pub fn last(text: &str, byte: u8) -> Option<usize> {
    text.bytes().rposition(|b| b == byte)
}

/// "PDF", "TXT": the name's extension, else the type's.
fn kind(name: &str, mime: &str) -> String {
    let ext = last(name, b'.').map_or("", |dot| &name[dot + 1..]);
    let ext = if (1..=5).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_alphanumeric()) {
        ext
    } else {
        last(mime, b'/').map_or(mime, |slash| &mime[slash + 1..])
    };
    ext.to_ascii_uppercase()
}

fn image(doc: &Document, src: &str, alt: &str, size: Option<(u32, u32)>, max: u32) -> Element {
    let img = element(doc, "img", "");
    attr(&img, "alt", alt);
    if let Some((w, h)) = size.filter(|(w, h)| *w > 0 && *h > 0) {
        let (w, h) = fit(w, h, max);
        attr(&img, "width", &decimal(w.into()));
        attr(&img, "height", &decimal(h.into()));
    }
    attr(&img, "src", src);
    img
}

fn size_of(width: Option<u32>, height: Option<u32>) -> Option<(u32, u32)> {
    width.zip(height)
}

/// A file as a card: its name, type and size; a link when it can be fetched.
fn card(doc: &Document, name: &str, mime: &str, size: u64, href: Option<&str>) -> Element {
    let c = element(doc, if href.is_some() { "a" } else { "div" }, "hc-file");
    if let Some(href) = href {
        attr(&c, "href", href);
        attr(&c, "download", name);
        attr(&c, "target", "_blank");
        attr(&c, "rel", "noopener");
    }
    let n = element(doc, "span", "hc-file-name");
    attr(&n, "dir", "auto");
    set_text(&n, name);
    let meta = element(doc, "span", "hc-file-meta");
    set_text(
        &meta,
        &concat(&[kind(name, mime).as_str(), " · ", &human_size(size)]),
    );
    append_all(&c, &[&n, &meta]);
    c
}

/// A sent message's files. `src` says where each can be fetched.
pub fn list(
    doc: &Document,
    s: &Strings,
    files: &[Attachment],
    src: impl Fn(&Attachment) -> Option<String>,
) -> Element {
    let row = element(doc, "div", "hc-files");
    for a in files {
        let url = src(a);
        let el = match url {
            Some(url) if a.is_image() => {
                let b = element(doc, "button", "hc-thumb");
                attr(&b, "type", "button");
                attr(&b, "data-action", "view");
                attr(&b, "data-name", &a.name);
                attr(&b, "data-src", &url);
                let label = if a.alt.is_empty() { &a.name } else { &a.alt };
                attr(&b, "aria-label", &s.fill("openImage", &[("alt", label)]));
                let img = image(doc, &url, &a.alt, size_of(a.width, a.height), THUMB_PX);
                attr(&img, "loading", "lazy");
                append(&b, &img);
                b
            }
            url => card(doc, &a.name, &a.mime, a.size, url.as_deref()),
        };
        attr(&el, "tabindex", "-1");
        append(&row, &el);
    }
    row
}

/// The names of the files message `li` shows, as a quote of a message of
/// files only gives them ("a.png, notes.txt").
pub fn names(li: &Element) -> String {
    let mut names: Vec<String> = Vec::new();
    each(li, ".hc-files > *", &mut |el| {
        let name = el
            .get_attribute("data-name")
            .or_else(|| find(&el, ".hc-file-name").and_then(|n| n.text_content()));
        names.push(name.unwrap_or_default());
    });
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    join(&names, ", ")
}

/// The files of a message being sent, from the bytes in this page.
pub fn previews(doc: &Document, files: &[(OutgoingFile, Option<String>)]) -> Element {
    let row = element(doc, "div", "hc-files");
    for (f, url) in files {
        let el = match url {
            Some(url) if f.mime.starts_with("image/") => {
                let img = image(doc, url, &f.alt, size_of(f.width, f.height), THUMB_PX);
                img.set_class_name("hc-preview");
                img
            }
            _ => card(doc, &f.name, &f.mime, f.size, None),
        };
        append(&row, &el);
    }
    row
}

/// A file in the composer's tray: a small preview (images), an editable
/// description (images: their alt text), its size, and a remove button.
pub fn staged(doc: &Document, s: &Strings, f: &OutgoingFile) -> Element {
    let li = element(doc, "li", "hc-staged");
    attr(&li, "data-local", &decimal(f.local.into()));
    attr(&li, "data-state", "preparing");
    let name = element(doc, "span", "hc-file-name");
    attr(&name, "dir", "auto");
    set_text(&name, &f.name);
    append(&li, &name);
    if f.mime.starts_with("image/") {
        let alt = element(doc, "input", "hc-alt");
        attr(&alt, "type", "text");
        attr(&alt, "dir", "auto");
        attr(&alt, "value", &f.alt);
        attr(
            &alt,
            "maxlength",
            &decimal(crate::files::MAX_ALT_CHARS as u64),
        );
        attr(
            &alt,
            "aria-label",
            &s.fill("altLabel", &[("name", &f.name)]),
        );
        append(&li, &alt);
    }
    let meta = element(doc, "span", "hc-file-meta");
    set_text(&meta, &s.get("preparing"));
    let remove = element(doc, "button", "hc-unstage");
    attr(&remove, "type", "button");
    attr(&remove, "data-local", &decimal(f.local.into()));
    attr(
        &remove,
        "aria-label",
        &s.fill("removeFile", &[("name", &f.name)]),
    );
    set_text(&remove, "✕");
    append_all(&li, &[&meta, &remove]);
    li
}

/// The staged file in `li` is ready: its size, and its preview in place of
/// its name (updated in place, so focus in its alt text stays).
pub fn staged_ready(doc: &Document, li: &Element, f: &OutgoingFile, url: Option<&str>) {
    attr(li, "data-state", "ready");
    if let Some(meta) = find(li, ".hc-file-meta") {
        set_text(&meta, &human_size(f.size));
    }
    if let Some(url) = url.filter(|_| f.mime.starts_with("image/")) {
        let img = image(doc, url, "", size_of(f.width, f.height), TRAY_PX);
        if let Some(name) = find(li, ".hc-file-name") {
            let _ = li.replace_child(&img, &name);
        }
    }
}

/// The staged file in `li` is one the site would refuse: it says why,
/// by its name (its preview's bytes are let go), and keeps only its remove
/// button (no alt text for a file that will not go; focus in it moves to
/// the button).
pub fn staged_refused(doc: &Document, li: &Element, name: &str, why: &str) {
    attr(li, "data-state", "refused");
    if let Some(img) = find(li, "img") {
        let label = element(doc, "span", "hc-file-name");
        attr(&label, "dir", "auto");
        set_text(&label, name);
        let _ = li.replace_child(&label, &img);
    }
    if let Some(alt) = find(li, ".hc-alt") {
        if alt.matches(":focus").unwrap_or(false) {
            let button = find(li, ".hc-unstage")
                .and_then(|b| super::dom::cast::<web_sys::HtmlElement>(b.into(), "HTMLElement"));
            if let Some(button) = button {
                super::dom::focus(&button);
            }
        }
        alt.remove();
    }
    if let Some(meta) = find(li, ".hc-file-meta") {
        set_text(&meta, why);
    }
}

/// The full-size viewer: a modal dialog over the page with the image and a
/// close button (focus goes there; Escape and a click outside close it).
pub fn viewer(doc: &Document, s: &Strings, src: &str, alt: &str) -> Element {
    let dialog = element(doc, "div", "hc-viewer");
    attr(&dialog, "role", "dialog");
    attr(&dialog, "aria-modal", "true");
    attr(&dialog, "aria-label", &s.fill("viewer", &[("alt", alt)]));
    let close = element(doc, "button", "hc-close");
    attr(&close, "type", "button");
    attr(&close, "data-action", "close-viewer");
    attr(&close, "aria-label", &s.get("close"));
    set_text(&close, "✕");
    let img = image(doc, src, alt, None, 0);
    append_all(&dialog, &[&close, &img]);
    dialog
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    fn at(url: Option<&str>) -> Attachment {
        Attachment {
            key: "k1".into(),
            url: url.map(str::to_owned),
            ..Attachment::default()
        }
    }

    #[wasm_bindgen_test]
    fn only_the_servers_file_paths_are_followed() {
        let server = "https://chat.example.com";
        let local = [("k1".to_owned(), "blob:https://page/1".to_owned())];
        assert_eq!(
            src(server, &[], &at(Some("/files/s/r/x?exp=1&sig=y"))).as_deref(),
            Some("https://chat.example.com/files/s/r/x?exp=1&sig=y")
        );
        for hostile in [
            "https://evil.example/x.png",
            "//evil.example/files/x",
            "javascript:alert(1)",
        ] {
            assert_eq!(src(server, &local, &at(Some(hostile))), None, "{hostile}");
        }
        // Our own file before the room sent its URL: the bytes in this page.
        assert_eq!(
            src(server, &local, &at(None)).as_deref(),
            Some("blob:https://page/1")
        );
        assert_eq!(src(server, &[], &at(None)), None);
    }

    #[wasm_bindgen_test]
    fn sizes_and_kinds_read_like_a_file_manager() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(10 * 1024 * 1024), "10.0 MB");
        assert_eq!(kind("notes.txt", "text/plain"), "TXT");
        assert_eq!(kind("report", "application/pdf"), "PDF");
        assert_eq!(kind("odd.extension", "image/png"), "PNG");
    }

    #[wasm_bindgen_test]
    fn images_fit_their_longest_side() {
        assert_eq!(fit(4000, 3000, 2048), (2048, 1536));
        assert_eq!(fit(3000, 4000, 2048), (1536, 2048));
        assert_eq!(fit(100, 50, 2048), (100, 50));
        assert_eq!(fit(5000, 1, 2048), (2048, 1));
        assert_eq!(fit(2048, 1536, 240), (240, 180));
    }
}
