//! Strings built without `core::fmt`.
//!
//! `format!`, `write!` and `to_string()` on numbers bring Rust's formatting
//! machinery (`core::fmt::write`, `Formatter`, a digit routine per integer
//! type) into the wasm, and the widget is one inlined `<script>` where every
//! kilobyte counts. Code that runs in the widget builds its strings with
//! these helpers (`concat(&["#", room])`) instead; code that only runs on
//! the server may keep `format!`.

/// `parts.concat()`. Not std's: its `join` carries five copies of its
/// loop (one per separator length up to 4), 0.9 KB of the widget.
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
pub fn split_once_ascii(s: &str, c: u8) -> Option<(&str, &str)> {
    let at = s.bytes().position(|b| b == c)?;
    Some((&s[..at], &s[at + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
        fn push_appends(prefix in "[a-z]{0,4}", n: u64) {
            let mut out = prefix.clone();
            push_decimal(&mut out, n);
            prop_assert_eq!(out, format!("{prefix}{n}"));
        }
    }
}
