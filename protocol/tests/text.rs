//! The hand-written string helpers of `protocol::text` (and `message_text`'s
//! `\r\n`) against std on arbitrary input: they run in the worker as well as
//! the widget, so a difference could cut a message, a seq or a limit.

use hello_chat_protocol::text::{concat, first_chars, join, parse_decimal, split_once_ascii};
use hello_chat_protocol::validate::message_text;
use hello_chat_protocol::ErrorCode;
use proptest::prelude::*;

/// Number-like text: digits, signs, spaces, `_`, letters, non-ASCII digits
/// and multi-byte characters, glued at random (sometimes very long).
fn numberish() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        6 => "[0-9]{1,25}",
        1 => Just("+".to_owned()),
        1 => Just("-".to_owned()),
        1 => Just(" ".to_owned()),
        1 => Just("_".to_owned()),
        1 => Just("0x".to_owned()),
        1 => Just("١٢".to_owned()),
        1 => Just("１".to_owned()),
        1 => Just("é".to_owned()),
        1 => Just("\u{0}".to_owned()),
        1 => "\\PC",
    ];
    proptest::collection::vec(atom, 0..4).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn parse_decimal_is_std_on_number_like_text(s in numberish()) {
        prop_assert_eq!(parse_decimal(&s), s.parse::<u64>().ok(), "{:?}", s);
    }

    #[test]
    fn parse_decimal_is_std_on_any_text(s in any::<String>()) {
        prop_assert_eq!(parse_decimal(&s), s.parse::<u64>().ok(), "{:?}", s);
    }

    #[test]
    fn parse_decimal_reads_every_u64_back(n: u64, zeros in 0usize..30, plus: bool) {
        let s = [if plus { "+" } else { "" }, &"0".repeat(zeros), &n.to_string()].concat();
        prop_assert_eq!(parse_decimal(&s), Some(n));
    }

    #[test]
    fn parse_decimal_refuses_past_u64_max(extra in 1u64..=u64::MAX) {
        // u64::MAX + extra, written out from a u128.
        let s = (u128::from(u64::MAX) + u128::from(extra)).to_string();
        prop_assert_eq!(parse_decimal(&s), None);
        prop_assert_eq!(parse_decimal(&(s + "0")), None);
    }

    #[test]
    fn first_chars_is_take_on_any_text(s in any::<String>(), n in 0usize..40) {
        prop_assert_eq!(first_chars(&s, n), s.chars().take(n).collect::<String>());
    }

    #[test]
    fn first_chars_of_a_count_at_or_past_the_end_is_all(s in any::<String>(), more in 0usize..3) {
        let n = s.chars().count() + more;
        prop_assert_eq!(first_chars(&s, n), s.as_str());
    }

    #[test]
    fn split_once_ascii_is_split_once_on_any_text(s in any::<String>(), c in 0u8..0x80) {
        prop_assert_eq!(split_once_ascii(&s, c), s.split_once(char::from(c)));
    }

    #[test]
    fn split_once_ascii_is_split_once_around_multibyte(
        s in "[{} é€😀\u{7f}\u{80}a]{0,16}",
        c in prop::sample::select(vec![b'{', b'}', b' ', b'a', 0x7f]),
    ) {
        prop_assert_eq!(split_once_ascii(&s, c), s.split_once(char::from(c)));
    }

    #[test]
    fn concat_and_join_are_std(
        parts in proptest::collection::vec(any::<String>(), 0..6),
        sep in any::<String>(),
    ) {
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        prop_assert_eq!(concat(&parts), parts.concat());
        prop_assert_eq!(join(&parts, &sep), parts.join(&sep));
        let owned: Vec<String> = parts.iter().map(|p| (*p).to_owned()).collect();
        prop_assert_eq!(join(&owned, &sep), owned.join(&sep));
    }

    #[test]
    fn message_text_is_the_std_version(
        s in "[a\r\n\t é€😀\u{85}\u{2028}\u{feff}]{0,24}",
        max in 0usize..30,
    ) {
        let got = message_text(&s, max).map_err(|e| (e.code, e.message));
        prop_assert_eq!(got, std_message_text(&s, max));
    }
}

#[test]
fn message_text_keeps_a_crlf_at_the_limit_as_one_character() {
    // 9 characters then "\r\n" then 1: 11 characters once \r\n is one.
    let raw = ["a".repeat(9), "\r\n".to_owned(), "b".to_owned()].concat();
    assert_eq!(message_text(&raw, 11).as_deref(), Ok("aaaaaaaaa\nb"));
}

/// `message_text` as it was written with std (`replace`, `format!`).
fn std_message_text(raw: &str, max: usize) -> Result<String, (ErrorCode, String)> {
    let text = raw.trim().replace("\r\n", "\n");
    // Blank: nothing but whitespace and invisible characters (U+FEFF here).
    if text.chars().all(|c| c.is_whitespace() || c == '\u{feff}') {
        return Err((ErrorCode::Empty, "message is empty".to_owned()));
    }
    let count = text.chars().count();
    if count > max {
        let why = format!("message has {count} characters; the limit is {max}");
        return Err((ErrorCode::TooLong, why));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        let why = "message contains control characters".to_owned();
        return Err((ErrorCode::BadText, why));
    }
    Ok(text)
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "ASCII")]
fn split_once_ascii_refuses_a_byte_that_is_not_a_character() {
    // 0xA9 is the second byte of "é": a cut there is not a char boundary.
    // (Release builds cut there and panic on the slice instead.)
    let _ = split_once_ascii("é", 0xA9);
}
