//! Strings built without `core::fmt`.
//!
//! `format!`, `write!` and `to_string()` on numbers bring Rust's formatting
//! machinery (`core::fmt::write`, `Formatter`, a digit routine per integer
//! type) into the wasm, and the widget is one inlined `<script>` where every
//! kilobyte counts. Code that runs in the widget builds its strings with
//! these helpers (`concat(&["#", room])`) instead; code that only runs on
//! the server may keep `format!`.

/// `parts.concat()`. Not std's: its `join` carries five copies of its
/// loop (one per separator length up to 4), 0.4 KB of the embed gzipped.
pub fn concat(parts: &[&str]) -> String {
    join(parts, "")
}

/// `parts.join(sep)` (see `concat`).
pub fn join<S: AsRef<str>>(parts: &[S], sep: &str) -> String {
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(part.as_ref());
    }
    out
}

/// `s.parse::<u64>().ok()` (an optional `+`, then 0-9 only, no overflow),
/// smaller: std's `parse` brings its generic integer parser into the widget.
pub fn parse_decimal(s: &str) -> Option<u64> {
    let digits = s.strip_prefix("+").unwrap_or(s);
    if digits.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for b in digits.bytes() {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        let digit = u64::from(digit);
        // (Not `checked_mul`: its 128-bit product is more code in wasm.)
        if n > (u64::MAX - digit) / 10 {
            return None;
        }
        n = n * 10 + digit;
    }
    Some(n)
}

/// The first `n` characters of `s`: `s.chars().take(n).collect()`, cut
/// rather than collected a character at a time (smaller in the widget).
pub fn first_chars(s: &str, n: usize) -> &str {
    let mut count = 0;
    for (i, b) in s.bytes().enumerate() {
        // Each character starts at a byte that is not a continuation byte.
        if b & 0xC0 != 0x80 {
            if count == n {
                return &s[..i];
            }
            count += 1;
        }
    }
    s
}

/// Append `n` in decimal, as `write!(out, "{n}")` would.
pub fn push_decimal(out: &mut String, n: u64) {
    if n >= 10 {
        push_decimal(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// `n` in decimal, as `n.to_string()` gives it.
pub fn decimal(n: u64) -> String {
    let mut out = String::new();
    push_decimal(&mut out, n);
    out
}

/// `n` in decimal with a leading `-` when negative, as `n.to_string()`.
pub fn signed(n: i64) -> String {
    let mut out = String::new();
    if n < 0 {
        out.push('-');
    }
    push_decimal(&mut out, n.unsigned_abs());
    out
}

/// `s.split_once(c)` for an ASCII `c`, found byte by byte: a `char`
/// pattern brings `core`'s character searcher into the widget. (An ASCII
/// byte is never part of another character, so both halves are whole.)
/// `c` must be ASCII (below 0x80): any other byte is part of a longer
/// character, and a cut there would panic.
pub fn split_once_ascii(s: &str, c: u8) -> Option<(&str, &str)> {
    debug_assert!(c.is_ascii(), "split_once_ascii takes an ASCII byte");
    let at = s.bytes().position(|b| b == c)?;
    Some((&s[..at], &s[at + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_decimal_edges() {
        for s in [
            "",
            "+",
            "-0",
            "0",
            "+7",
            "007",
            "18446744073709551615",
            "18446744073709551616",
            "1 ",
        ] {
            assert_eq!(parse_decimal(s), s.parse::<u64>().ok(), "{s:?}");
        }
    }

    #[test]
    fn edges_read_as_display_does() {
        for n in [0, 1, 9, 10, 99, 100, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
        for n in [0, -1, 9, -10, i64::MIN, i64::MAX] {
            assert_eq!(signed(n), n.to_string());
        }
    }

    proptest! {
        #[test]
        fn decimal_is_display(n: u64) {
            prop_assert_eq!(decimal(n), n.to_string());
        }

        #[test]
        fn signed_is_display(n: i64) {
            prop_assert_eq!(signed(n), n.to_string());
        }

        #[test]
        fn parse_decimal_is_parse(s in "[+-]?[0-9a]{0,22}") {
            prop_assert_eq!(parse_decimal(&s), s.parse::<u64>().ok());
        }

        #[test]
        fn first_chars_is_take(s in "\\PC{0,12}", n in 0usize..14) {
            prop_assert_eq!(first_chars(&s, n), s.chars().take(n).collect::<String>());
        }

        #[test]
        fn split_once_ascii_is_split_once(s in "[a-c{} ]{0,8}", c in "[{} ]") {
            let c = c.as_bytes()[0];
            prop_assert_eq!(split_once_ascii(&s, c), s.split_once(char::from(c)));
        }

        #[test]
        fn concat_and_join_are_std(parts in proptest::collection::vec("\\PC{0,4}", 0..5), sep in "[, ]{0,2}") {
            let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
            prop_assert_eq!(concat(&parts), parts.concat());
            prop_assert_eq!(join(&parts, &sep), parts.join(&sep));
        }

        #[test]
        fn push_appends(prefix in "[a-z]{0,4}", n: u64) {
            let mut out = prefix.clone();
            push_decimal(&mut out, n);
            prop_assert_eq!(out, format!("{prefix}{n}"));
        }
    }
}
