//! Web links in message text, so that the widget can make them clickable.
//!
//! Only `http://` and `https://` links are found (never `javascript:` or
//! `data:`), a link's target is exactly its visible text, and its host must
//! read as what it is (see [`plain_host`]): nobody can show one address and
//! lead to another. The widget builds each link with
//! `textContent` and `href`, never from HTML. (The room's link policy,
//! `room::policy::has_link`, is broader on purpose: to refuse spam, it also
//! counts bare domains.)

use crate::validate::is_invisible;

/// `text` cut into pieces, in order: `(true, link)` or `(false, text)`.
/// Joined, the pieces are `text` again.
pub fn split(text: &str) -> Vec<(bool, &str)> {
    let bytes = text.as_bytes();
    let mut pieces = Vec::new();
    let (mut done, mut i) = (0, 0);
    while i < bytes.len() {
        let link = scheme_at(text, i).and_then(|scheme| {
            let rest = &text[i..];
            let end = rest.find(ends_link).unwrap_or(rest.len());
            let url = trim(&rest[..end]);
            let after = &url[scheme..];
            let host_end = after
                .bytes()
                .position(|b| matches!(b, b'/' | b'?' | b'#'))
                .unwrap_or(after.len());
            plain_host(&after[..host_end]).then_some(url)
        });
        match link {
            Some(url) => {
                if done < i {
                    pieces.push((false, &text[done..i]));
                }
                pieces.push((true, url));
                i += url.len();
                done = i;
            }
            // Only ASCII bytes start a link: stepping by one byte never stops
            // inside a character that could.
            None => i += 1,
        }
    }
    if done < text.len() {
        pieces.push((false, &text[done..]));
    }
    pieces
}

/// Whether `c` ends a link: space, a control or a quote mark, punctuation
/// from outside ASCII (`”`, `»`, `。`, a full-width `／`), and the invisible
/// characters (Unicode's default-ignorable ones) that reorder, hide or fake
/// text: a right-to-left override inside a link could make `…/gnp.exe` read
/// `…/exe.png`, a Hangul filler looks like a space (see
/// [`is_invisible`]).
fn ends_link(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || is_invisible(c)
        || matches!(c, '<' | '>' | '"' | '`')
        || matches!(c as u32, 0xAB | 0xBB | 0x2000..=0x206F | 0x3000..=0x303F | 0xFF00..=0xFFEF)
}

/// Whether a link's host (`authority`: after the scheme, before the path)
/// reads as what it is: ASCII labels of letters, digits and hyphens, ending
/// in a top-level domain of letters or making a dotted IPv4 address, and an
/// optional port. Anything else can take the browser elsewhere than the text
/// says, so such text stays text: a login name (`paypal.com@evil.example`),
/// `%`-escapes, a backslash, a look-alike slash (`google.com∕evil.example`),
/// letters from another script (`аpple.com`, Cyrillic а), numbers the
/// browser reads as an address (`0x7f.1`).
fn plain_host(authority: &str) -> bool {
    // Bytes, not `str::split`: the widget carries this, and a string
    // searcher costs it more than the whole check.
    let bytes = authority.as_bytes();
    let (host, port) = match bytes.iter().position(|&b| b == b':') {
        Some(at) => (&bytes[..at], &bytes[at + 1..]),
        None => (bytes, &b"0"[..]),
    };
    let mut ok = !port.is_empty() && port.iter().all(u8::is_ascii_digit);
    let (mut labels, mut ipv4, mut top) = (0, true, false);
    for label in host.split(|&b| b == b'.') {
        ok &= !label.is_empty()
            && label
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-');
        ipv4 &= label.len() <= 3 && label.iter().all(u8::is_ascii_digit);
        top = label.len() >= 2 && label.iter().all(u8::is_ascii_alphabetic);
        labels += 1;
    }
    ok && (top || ipv4 && labels == 4)
}

/// The length of the `http://` or `https://` (any case) starting a word at
/// byte `i` of `text`.
fn scheme_at(text: &str, i: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    // "xhttp://" is not a link; "(https://" and "»https://" are.
    if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'/') {
        return None;
    }
    ["https://", "http://"].into_iter().find_map(|scheme| {
        let candidate = bytes.get(i..i + scheme.len())?;
        candidate
            .eq_ignore_ascii_case(scheme.as_bytes())
            .then_some(scheme.len())
    })
}

/// `url` without what follows it in a sentence: trailing punctuation, and a
/// closing bracket that it did not open ("(see https://a.example/x)").
fn trim(mut url: &str) -> &str {
    loop {
        let Some(last) = url.chars().next_back() else {
            return url;
        };
        let count = |b: u8| url.bytes().filter(|&c| c == b).count();
        let unopened = |open: u8, close: u8| last == close as char && count(close) > count(open);
        // Sentence punctuation after the link, not part of it.
        let trailing = matches!(
            last,
            '.' | ',' | ':' | ';' | '!' | '?' | '\'' | '"' | '*' | '_' | '~'
        );
        if trailing || unopened(b'(', b')') || unopened(b'[', b']') {
            url = &url[..url.len() - last.len_utf8()];
        } else {
            return url;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn links(text: &str) -> Vec<&str> {
        split(text)
            .into_iter()
            .filter(|(link, _)| *link)
            .map(|(_, s)| s)
            .collect()
    }

    #[test]
    fn finds_links_in_text() {
        assert_eq!(
            split("see https://example.com/a?b=1#c now"),
            vec![
                (false, "see "),
                (true, "https://example.com/a?b=1#c"),
                (false, " now")
            ]
        );
        assert_eq!(links("HTTP://Example.com"), vec!["HTTP://Example.com"]);
        assert_eq!(
            links("two: http://a.example\nhttps://b.example"),
            vec!["http://a.example", "https://b.example"]
        );
        assert_eq!(
            links("https://example.jp/パス"),
            vec!["https://example.jp/パス"]
        );
        assert_eq!(
            links("http://localhost:8787/x http://127.0.0.1/y"),
            vec!["http://localhost:8787/x", "http://127.0.0.1/y"]
        );
    }

    #[test]
    fn sentence_punctuation_and_brackets_stay_outside() {
        assert_eq!(links("Go to https://a.example."), vec!["https://a.example"]);
        assert_eq!(
            links("(see https://a.example/x)"),
            vec!["https://a.example/x"]
        );
        assert_eq!(
            links("https://en.wikipedia.org/wiki/Rust_(programming_language)"),
            vec!["https://en.wikipedia.org/wiki/Rust_(programming_language)"]
        );
        assert_eq!(links("\"https://a.example\"!"), vec!["https://a.example"]);
        assert_eq!(links("<https://a.example>"), vec!["https://a.example"]);
        assert_eq!(links("“https://a.example/q”"), vec!["https://a.example/q"]);
        assert_eq!(links("`https://b.example/`"), vec!["https://b.example/"]);
    }

    #[test]
    fn hosts_that_do_not_read_as_what_they_are_are_not_linked() {
        for text in [
            "https://paypal.com@evil.example/login",
            "https://www.paypal.com%2F@evil.example/",
            "https://google.com\u{2215}evil.example/",
            "https://\u{430}pple.com/",
            "https://%65vil.example/",
            "https://\\evil.example/",
            "https://0x7f.1:8787/admin",
            "https://例え.jp/",
            "https://a.example:80x/",
            "https://[::1]/",
        ] {
            assert_eq!(links(text), Vec::<&str>::new(), "{text}");
        }
    }

    #[test]
    fn punctuation_from_outside_ascii_ends_a_link() {
        assert_eq!(
            links("https://google.com\u{FF0F}evil.example/"),
            vec!["https://google.com"]
        );
        assert_eq!(links("「https://a.jp/x」。"), vec!["https://a.jp/x"]);
        assert_eq!(links("«https://a.fr/»"), vec!["https://a.fr/"]);
    }

    #[test]
    fn invisible_reordering_characters_end_a_link() {
        assert_eq!(
            split("https://a.example/\u{202E}gnp.exe"),
            vec![(true, "https://a.example/"), (false, "\u{202E}gnp.exe")]
        );
        assert_eq!(
            links("https://a.example\u{200B}b"),
            vec!["https://a.example"]
        );
        assert_eq!(
            links("https://a.example/x\u{3164}\u{3164}next"),
            vec!["https://a.example/x"]
        );
    }

    #[test]
    fn only_web_links() {
        for text in [
            "javascript:alert(1)",
            "data:text/html,hi",
            "https://",
            "https://.",
            "xhttps://a.example",
            "ftp://a.example",
            "mailto:a@example.com",
            "",
        ] {
            assert_eq!(links(text), Vec::<&str>::new(), "{text}");
        }
    }

    proptest! {
        #[test]
        fn pieces_join_back_and_links_are_web_links(text in "(\\PC|https?://|[a-z]{1,4}\\.[a-z]{2,3}|[ ().@%/\\n])*") {
            let pieces = split(&text);
            let joined: String = pieces.iter().map(|(_, s)| *s).collect();
            prop_assert_eq!(joined, text.clone());
            for (link, s) in pieces {
                prop_assert!(!s.is_empty());
                if link {
                    let lower = s.to_ascii_lowercase();
                    prop_assert!(lower.starts_with("https://") || lower.starts_with("http://"));
                    prop_assert!(!s.chars().any(ends_link));
                    let authority = s.split("://").nth(1).and_then(|r| r.split(['/', '?', '#']).next());
                    prop_assert!(authority.is_some_and(|a| a.is_ascii() && !a.contains(['@', '%', '\\'])));
                }
            }
        }
    }
}
