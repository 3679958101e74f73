//! Validation rules for everything a client can choose: room and site ids,
//! display names, message text and client message ids.

use crate::error::{ErrorCode, ProtocolError};
use crate::limits::{
    ANONYMOUS, MAX_CLIENT_ID_CHARS, MAX_NAME_CHARS, MAX_ROOM_CHARS, MAX_SITE_CHARS,
};
use crate::text::{concat, decimal, join};

/// Room ids are `[A-Za-z0-9_-]{1,64}`: safe in URLs, object names and logs.
pub fn is_room_id(room: &str) -> bool {
    (1..=MAX_ROOM_CHARS).contains(&room.len())
        && room
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Site ids are `[a-z0-9-]{1,32}`.
pub fn is_site_id(site: &str) -> bool {
    (1..=MAX_SITE_CHARS).contains(&site.len())
        && site
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Client message ids are 1..=64 characters of `[A-Za-z0-9_.:-]`.
pub fn is_client_id(id: &str) -> bool {
    (1..=MAX_CLIENT_ID_CHARS).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

/// The shape of an anonymous sender key credential (`<id>.<mac>`, base64url
/// on each side): what a client may put in a WebSocket subprotocol, where a
/// `:` or a blank would make the browser refuse to open the socket at all.
pub fn is_sender_credential(key: &str) -> bool {
    // Bytes, not `contains('.')`: a char pattern costs the widget 0.3 KB.
    (3..=MAX_CLIENT_ID_CHARS).contains(&key.len())
        && key.bytes().any(|b| b == b'.')
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Characters a name must not contain because they are invisible or blank
/// where they stand: every Unicode `Default_Ignorable_Code_Point` (bidi
/// controls, zero-width characters, variation selectors, tag characters,
/// the Hangul fillers, the combining grapheme joiner, ...) and the Braille
/// blank. In a name they enable impersonation ("Ada" vs "A\u{34F}da") and
/// blank names ("\u{3164}"); bidi controls would spill reversed text into the
/// next message. (Unicode 16, DerivedCoreProperties.txt.)
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}'..='\u{1160}' | '\u{17B4}'..='\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{2800}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}')
}

/// Check marks: next to a name, one reads as the verified mark the widget
/// shows for a signed-in user ("Ada ✓"), which a name must not claim.
fn is_check_mark(c: char) -> bool {
    matches!(
        c,
        '\u{221A}'
            | '\u{2611}'
            | '\u{2705}'
            | '\u{2713}'
            | '\u{2714}'
            | '\u{10102}'
            | '\u{1F5F8}'
            | '\u{1F5F9}'
            | '\u{1FBB1}'
    )
}

/// A display name as the room shows it: control and invisible characters
/// and check marks removed, runs of whitespace collapsed to one space,
/// trimmed, cut to 32 characters; a result that shows nothing (empty, or
/// marks with no letter to go on) becomes "Anonymous".
pub fn clean_name(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len().min(MAX_NAME_CHARS * 4));
    let mut chars = 0;
    let mut pending_space = false;
    for c in raw.chars() {
        if c.is_whitespace() {
            pending_space = chars > 0;
            continue;
        }
        if c.is_control() || is_invisible(c) || is_check_mark(c) {
            continue;
        }
        if pending_space {
            if chars + 1 >= MAX_NAME_CHARS {
                break;
            }
            out.push(' ');
            chars += 1;
            pending_space = false;
        }
        if chars >= MAX_NAME_CHARS {
            break;
        }
        out.push(c);
        chars += 1;
    }
    if is_blank(&out) {
        ANONYMOUS.to_owned()
    } else {
        out
    }
}

/// The name the site's server gives its bot (site API): cleaned like a
/// visitor's, but refused, not replaced or cut, when nothing visible is left
/// or more than [`MAX_NAME_CHARS`] characters are: a server can be told.
pub fn bot_name(raw: &str) -> Option<String> {
    let words: Vec<String> = raw
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|&c| !c.is_control() && !is_invisible(c) && !is_check_mark(c))
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let name = join(&words, " ");
    ((1..=MAX_NAME_CHARS).contains(&name.chars().count()) && !is_blank(&name)).then_some(name)
}

/// Whether `text` shows nothing: whitespace and invisible characters only
/// (a message of a zero-width space would be a blank bubble), or marks
/// that draw nothing without a letter to go on.
pub fn is_blank(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_whitespace() || is_invisible(c) || is_mark_alone(c))
}

/// Characters that show nothing on their own, though they may within text
/// (so names keep them): the combining diacritical marks (an accent with no
/// letter), the interlinear annotation controls and the object replacement
/// character, Egyptian hieroglyph format controls, the musical null notehead.
fn is_mark_alone(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}' | '\u{FFF9}'..='\u{FFFC}'
        | '\u{13430}'..='\u{1345F}' | '\u{1D159}')
}

/// Message text as it will be stored: trimmed, `\r\n` turned into `\n`,
/// 1..=`max_chars` characters, not blank ([`is_blank`]), and free of
/// control characters other than newline and tab.
pub fn message_text(raw: &str, max_chars: usize) -> Result<String, ProtocolError> {
    let trimmed = raw.trim();
    if is_blank(trimmed) {
        return Err(ProtocolError::new(ErrorCode::Empty, "message is empty"));
    }
    // `replace("\r\n", "\n")`, by hand: a string pattern brings in the
    // substring searcher (with the `server` option's `find("://")`, its
    // other user, about 1 KB of the embed gzipped).
    let mut text = String::with_capacity(trimmed.len());
    for (i, c) in trimmed.char_indices() {
        if c != '\r' || trimmed.as_bytes().get(i + 1) != Some(&b'\n') {
            text.push(c);
        }
    }
    let count = text.chars().count();
    if count > max_chars {
        return Err(ProtocolError::new(
            ErrorCode::TooLong,
            concat(&[
                "message has ",
                &decimal(count as u64),
                " characters; the limit is ",
                &decimal(max_chars as u64),
            ]),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(ProtocolError::new(
            ErrorCode::BadText,
            "message contains control characters",
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_becomes_lf_as_replace_would() {
        for raw in [
            "a\r\nb",
            "a\r\r\nb",
            "a\rb\n",
            "a\r\n\r\nb",
            "é\r\n€\r\n\r",
            "\r\na\r\n",
        ] {
            let expected = raw.trim().replace("\r\n", "\n");
            // (A lone `\r` left is a control character: refused either way.)
            let expected = if expected.contains('\r') {
                None
            } else {
                Some(expected)
            };
            assert_eq!(message_text(raw, 100).ok(), expected, "{raw:?}");
        }
    }

    #[test]
    fn a_bot_name_is_cleaned_like_a_visitors_but_refused_when_empty_or_too_long() {
        assert_eq!(
            bot_name("  Acme \u{200b} Bot ").as_deref(),
            Some("Acme Bot")
        );
        assert_eq!(bot_name("Acme Bot"), Some(clean_name("Acme Bot")));
        assert_eq!(
            bot_name(&"N".repeat(MAX_NAME_CHARS)).map(|n| n.len()),
            Some(MAX_NAME_CHARS)
        );
        for bad in [
            "",
            "   ",
            "\u{200b}\u{2066}",
            &"N".repeat(MAX_NAME_CHARS + 1),
        ] {
            assert_eq!(bot_name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn room_ids() {
        assert!(is_room_id("lobby"));
        assert!(is_room_id("Room_1-a"));
        assert!(is_room_id(&"a".repeat(64)));
        for bad in [
            "",
            "a/b",
            "../x",
            "a b",
            "é",
            "a%2Fb",
            "x;DROP",
            &"a".repeat(65),
        ] {
            assert!(!is_room_id(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn site_ids() {
        assert!(is_site_id("demo"));
        assert!(is_site_id("acme-2"));
        for bad in ["", "Demo", "a_b", "a/b", &"a".repeat(33)] {
            assert!(!is_site_id(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn client_ids() {
        assert!(is_client_id("c1:abc.def-_"));
        assert!(!is_client_id(""));
        assert!(!is_client_id("has space"));
        assert!(!is_client_id(&"x".repeat(65)));
        assert!(is_client_id(&"x".repeat(64)));
    }

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("  Ada   Lovelace "), "Ada Lovelace");
        assert_eq!(clean_name(""), "Anonymous");
        assert_eq!(clean_name("\u{0}\u{7}\n\t "), "Anonymous");
        assert_eq!(clean_name("A\u{200B}da"), "Ada");
        assert_eq!(clean_name("\u{202E}evil\u{202C}"), "evil");
        assert_eq!(clean_name("\u{2066}x\u{2069}"), "x");
        // Default-ignorable and filler characters: invisible, so never part of a name.
        assert_eq!(clean_name("A\u{034F}da"), "Ada");
        for blank in [
            "\u{3164}",
            "\u{115F}\u{1160}",
            "\u{FFA0}",
            "\u{2800}",
            "\u{FE0F}",
            "\u{E0041}\u{E007F}",
            "\u{E0100}",
            "\u{180B}\u{180F}",
            "\u{206A}\u{206F}",
            "\u{17B4}",
        ] {
            assert_eq!(clean_name(blank), "Anonymous", "{blank:?}");
            assert_eq!(clean_name(&format!("A{blank}da")), "Ada", "{blank:?}");
        }
        // Nothing drawn: accents with no letter, object replacement and
        // annotation characters.
        for blank in [
            "\u{301}\u{308}",
            "\u{FFFC}",
            "\u{FFF9}\u{FFFA}\u{FFFB}",
            " \u{20DD} ",
        ] {
            assert_eq!(clean_name(blank), "Anonymous", "{blank:?}");
            assert_eq!(bot_name(blank), None, "{blank:?}");
        }
        assert_eq!(
            clean_name("Zoe\u{301}"),
            "Zoe\u{301}",
            "on a letter, an accent stays"
        );
        // No claiming the verified mark.
        assert_eq!(clean_name("Ada ✓"), "Ada");
        assert_eq!(clean_name("Mo ✔ ☑ ✅ √ 🗸"), "Mo");
        assert_eq!(clean_name("✓"), "Anonymous");
        assert_eq!(bot_name("Acme ✓").as_deref(), Some("Acme"));
        assert_eq!(clean_name(&"é".repeat(40)).chars().count(), 32);
        assert_eq!(
            clean_name("<b>bold</b>"),
            "<b>bold</b>",
            "HTML is kept; views render text inertly"
        );
        // Never ends with a dangling space when cut.
        let long = format!("{} {}", "a".repeat(31), "b");
        assert_eq!(clean_name(&long), "a".repeat(31));
    }

    #[test]
    fn message_rules() {
        assert_eq!(
            message_text("  hi \r\n there ", 2000).unwrap(),
            "hi \n there"
        );
        assert_eq!(
            message_text(" \n\t ", 2000).unwrap_err().code,
            ErrorCode::Empty
        );
        for blank in [
            "\u{200B}",
            " \u{2060}\u{2060} ",
            "\u{3164}",
            "\u{FEFF}",
            "\u{202E}",
            "\u{2800}",
            "\u{FFF9}\u{FFFA}\u{FFFB}",
            "\u{FFFC}",
            "\u{0300}\u{0301}",
            "\u{13430}",
        ] {
            assert_eq!(
                message_text(blank, 2000).unwrap_err().code,
                ErrorCode::Empty,
                "{blank:?} shows nothing"
            );
        }
        assert!(
            message_text("👨\u{200D}👩\u{200D}👧 ❤\u{FE0F}", 2000).is_ok(),
            "joiners and variation selectors within visible text stay"
        );
        assert!(
            message_text("cafe\u{0301}", 2000).is_ok(),
            "marks on a letter stay"
        );
        assert_eq!(
            message_text(&"x".repeat(2001), 2000).unwrap_err().code,
            ErrorCode::TooLong
        );
        assert!(
            message_text(&"é".repeat(2000), 2000).is_ok(),
            "limit counts characters, not bytes"
        );
        assert_eq!(
            message_text("a\u{0}b", 2000).unwrap_err().code,
            ErrorCode::BadText
        );
        assert_eq!(
            message_text("a\u{1b}[31mb", 2000).unwrap_err().code,
            ErrorCode::BadText
        );
        assert!(message_text("tab\tand\nnewline", 2000).is_ok());
        assert!(
            message_text("مرحبا \u{202E}rtl", 2000).is_ok(),
            "bidi text is allowed in messages"
        );
    }
}
