//! What a site may offer as one reaction: a single emoji, as a person would
//! pick it from a keyboard, not a word or two emoji run together.
//!
//! The check follows the shapes of Unicode's emoji sequences (UTS #51):
//! a pictograph with its presentation selector, skin tone and `ZWJ` joins
//! ("👩🏽‍💻"), a flag of two regional indicators ("🇫🇷"), a keycap ("1️⃣"), or
//! a subdivision flag of tags ("🏴󠁧󠁢󠁳󠁣󠁴󠁿"). Whether the pictograph exists yet in
//! a given font is not ours to judge: any code point Unicode reserves for
//! pictographs counts, so next year's emoji are accepted today.

/// Unicode's `Extended_Pictographic` code points (emoji-data.txt, 15.1),
/// as inclusive ranges in order.
const PICTOGRAPHIC: &[(u32, u32)] = &[
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x2199),
    (0x21A9, 0x21AA),
    (0x231A, 0x231B),
    (0x2328, 0x2328),
    (0x2388, 0x2388),
    (0x23CF, 0x23CF),
    (0x23E9, 0x23F3),
    (0x23F8, 0x23FA),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25AB),
    (0x25B6, 0x25B6),
    (0x25C0, 0x25C0),
    (0x25FB, 0x25FE),
    (0x2600, 0x2605),
    (0x2607, 0x2612),
    (0x2614, 0x2685),
    (0x2690, 0x2705),
    (0x2708, 0x2712),
    (0x2714, 0x2714),
    (0x2716, 0x2716),
    (0x271D, 0x271D),
    (0x2721, 0x2721),
    (0x2728, 0x2728),
    (0x2733, 0x2734),
    (0x2744, 0x2744),
    (0x2747, 0x2747),
    (0x274C, 0x274C),
    (0x274E, 0x274E),
    (0x2753, 0x2755),
    (0x2757, 0x2757),
    (0x2763, 0x2767),
    (0x2795, 0x2797),
    (0x27A1, 0x27A1),
    (0x27B0, 0x27B0),
    (0x27BF, 0x27BF),
    (0x2934, 0x2935),
    (0x2B05, 0x2B07),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0x1F000, 0x1F0FF),
    (0x1F10D, 0x1F10F),
    (0x1F12F, 0x1F12F),
    (0x1F16C, 0x1F171),
    (0x1F17E, 0x1F17F),
    (0x1F18E, 0x1F18E),
    (0x1F191, 0x1F19A),
    (0x1F1AD, 0x1F1E5),
    (0x1F201, 0x1F20F),
    (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F),
    (0x1F232, 0x1F23A),
    (0x1F23C, 0x1F23F),
    (0x1F249, 0x1F3FA),
    (0x1F400, 0x1F53D),
    (0x1F546, 0x1F64F),
    (0x1F680, 0x1F6FF),
    (0x1F774, 0x1F77F),
    (0x1F7D5, 0x1F7FF),
    (0x1F80C, 0x1F80F),
    (0x1F848, 0x1F84F),
    (0x1F85A, 0x1F85F),
    (0x1F888, 0x1F88F),
    (0x1F8AE, 0x1F8FF),
    (0x1F90C, 0x1F93A),
    (0x1F93C, 0x1F945),
    (0x1F947, 0x1FAFF),
    (0x1FC00, 0x1FFFD),
];

const ZWJ: char = '\u{200D}';
const EMOJI_PRESENTATION: char = '\u{FE0F}';
const KEYCAP: char = '\u{20E3}';
const BLACK_FLAG: char = '\u{1F3F4}';
const CANCEL_TAG: char = '\u{E007F}';

fn pictographic(c: char) -> bool {
    let c = c as u32;
    PICTOGRAPHIC
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

fn skin_tone(c: char) -> bool {
    ('\u{1F3FB}'..='\u{1F3FF}').contains(&c)
}

fn regional_indicator(c: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&c)
}

/// A tag of a subdivision flag: a lower-case letter or a digit (the region
/// codes "gbsct", "usca"); other tags would carry hidden text.
fn tag(c: char) -> bool {
    ('\u{E0061}'..='\u{E007A}').contains(&c) || ('\u{E0030}'..='\u{E0039}').contains(&c)
}

/// Whether `s` is exactly one emoji.
pub fn is_one_emoji(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    match chars.as_slice() {
        [a, b] if regional_indicator(*a) && regional_indicator(*b) => true,
        [k, rest @ ..] if k.is_ascii_digit() || *k == '#' || *k == '*' => {
            matches!(rest, [EMOJI_PRESENTATION, KEYCAP] | [KEYCAP])
        }
        [BLACK_FLAG, tags @ .., CANCEL_TAG] if (2..=7).contains(&tags.len()) => {
            tags.iter().all(|c| tag(*c))
        }
        _ => zwj_sequence(&chars),
    }
}

/// Pictographs, each with an optional presentation selector and skin tone,
/// joined by `ZWJ`.
fn zwj_sequence(chars: &[char]) -> bool {
    let mut parts = chars.split(|c| *c == ZWJ);
    parts.all(|part| match part {
        [p] | [p, EMOJI_PRESENTATION] => pictographic(*p),
        [p, t] | [p, EMOJI_PRESENTATION, t] => pictographic(*p) && skin_tone(*t),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_emoji_of_every_shape() {
        for e in [
            "👍",
            "❤️",
            "❤",
            "😂",
            "🎉",
            "✅",
            "©️",
            "👍🏽",
            "👩‍💻",
            "👩🏽‍💻",
            "👨‍👩‍👧‍👦",
            "🏳️‍🌈",
            "❤️‍🔥",
            "🇫🇷",
            "1️⃣",
            "#⃣",
            "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
            "🫠",
            "🪿",
            "🏴",
        ] {
            assert!(is_one_emoji(e), "{e}");
        }
    }

    #[test]
    fn words_and_runs_are_not_one_emoji() {
        for e in [
            "",
            "lol",
            "a",
            "1",
            "👍👍",
            "👍 ",
            "😂🎉",
            "🇫",
            "🇫🇷🇩🇪",
            "‍",
            "👍‍",
            "‍👍",
            "🏽",
            "️",
            "x️",
            "👍🏽🏽",
            "🏴󠁿",
            ":+1:",
            // Hidden text in tags ("Hi"), not a region code.
            "\u{1F3F4}\u{E0048}\u{E0069}\u{E007F}",
            "←",
            "™x",
        ] {
            assert!(!is_one_emoji(e), "{e:?}");
        }
    }

    #[test]
    fn the_table_is_sorted_and_disjoint() {
        assert!(PICTOGRAPHIC.windows(2).all(|w| w[0].1 < w[1].0));
        assert!(PICTOGRAPHIC.iter().all(|(lo, hi)| lo <= hi));
    }
}
