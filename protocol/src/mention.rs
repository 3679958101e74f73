//! Whether a message mentions someone: `@name` standing as a word of its
//! own. "@Bob" does not mention Bo, nor does an address like
//! "x@bodega.com"; "@Bo," and "(@Bo)" do.
//!
//! Both texts come case-folded by the caller (the widget uses the
//! browser's lower case: Rust's would add Unicode tables to it). A word
//! character is an ASCII letter, digit or `_`: other characters (spaces,
//! punctuation, and any non-ASCII one) end a word, so that a name in a
//! script written without spaces ("@太郎さん") is still mentioned, at the
//! price of "@Boé" mentioning "Bo".

/// Whether `text` mentions `name` (both case-folded) as `@name`.
///
/// On bytes: in UTF-8, `@` and the word characters are single bytes that
/// never occur inside another character's encoding.
pub fn mentions(text: &str, name: &str) -> bool {
    let (text, name) = (text.as_bytes(), name.as_bytes());
    let word = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
    !name.is_empty()
        && (0..text.len()).any(|at| {
            text[at] == b'@'
                && text[at + 1..].starts_with(name)
                && !word(at.checked_sub(1).and_then(|i| text.get(i)))
                && !word(text.get(at + 1 + name.len()))
        })
}

#[cfg(test)]
mod tests {
    use super::mentions;
    use proptest::prelude::*;

    #[test]
    fn a_mention_is_at_name_as_a_word_of_its_own() {
        for text in [
            "@bo",
            "hi @bo",
            "@bo, look",
            "(@bo)",
            "@bo's turn",
            "ok.@bo",
            "@bob and @bo",
        ] {
            assert!(mentions(text, "bo"), "{text}");
        }
        for text in [
            "@bob",
            "mail x@bodega.com",
            "bo",
            "@ bo",
            "a@bo",
            "@b",
            "",
            "@bo_x",
            "@bo2",
        ] {
            assert!(!mentions(text, "bo"), "{text}");
        }
        assert!(
            mentions("thanks @guest 452!", "guest 452"),
            "names with spaces"
        );
        assert!(
            mentions("@太郎さん、こんにちは", "太郎"),
            "no spaces in Japanese"
        );
        assert!(mentions("salut @zoé", "zoé"));
        assert!(!mentions("@bo", ""), "no name, no mention");
    }

    proptest! {
        #[test]
        fn never_panics_and_a_standalone_mention_is_found(
            before in "[ -~]{0,20}",
            after in "[ -~é太]{0,20}",
            name in "[a-z0-9 é]{1,10}",
        ) {
            let text = [before.as_str(), " @", &name, " ", &after].concat();
            prop_assert!(mentions(&text, &name));
            let _ = mentions(&after, &name);
            let _ = mentions(&name, &after);
        }
    }
}
