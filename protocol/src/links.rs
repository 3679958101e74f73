//! Web links in message text, so that the widget can make them clickable.
//!
//! Only `http://` and `https://` links are found (never `javascript:` or
//! `data:`), a link's target is exactly its visible text, and its host must
//! read as what it is (see [`plain_host`]): nobody can show one address and
//! lead to another. The widget builds each link with
//! `textContent` and `href`, never from HTML. (The room's link policy,
//! `room::policy::has_link`, is broader on purpose: to refuse spam, it also
//! counts bare domains.)

/// Characters a link does not end with: sentence punctuation after it.
const TRAILING: &[char] = &[
    '.', ',', ':', ';', '!', '?', '\'', '"', '*', '_', '~', '”', '’', '»', '›', '」', '』', '〉',
];

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
            let authority = url[scheme..].split(['/', '?', '#']).next().unwrap_or("");
            plain_host(authority).then_some(url)
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

/// Whether `c` ends a link: space, a control or a quote mark, and the
/// invisible characters (Unicode's default-ignorable ones) that reorder,
/// hide or fake text: a right-to-left override inside a link could make
/// `…/gnp.exe` read `…/exe.png`, a Hangul filler looks like a space.
fn ends_link(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '<' | '>'
                | '"'
                | '`'
                | '\u{AD}'
                | '\u{34F}'
                | '\u{61C}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
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
    let host = match authority.split_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        Some(_) => return false,
        None => authority,
    };
    let labels: Vec<&str> = host.split('.').collect();
    let label_ok =
        |l: &&str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let top = labels.last().copied().unwrap_or("");
    let ipv4 = labels.len() == 4
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit()));
    labels.iter().all(label_ok)
        && (ipv4 || top.len() >= 2 && top.bytes().all(|b| b.is_ascii_alphabetic()))
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
        if TRAILING.contains(&last) || unopened(b'(', b')') || unopened(b'[', b']') {
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
            "https://google.com\u{FF0F}evil.example/",
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
