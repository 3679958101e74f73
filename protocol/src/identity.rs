//! Who the widget speaks for, as part of the keys of what it keeps in the
//! browser (the read position, the draft, unsent messages): another person
//! signing in on the same browser must not get them. A signed-in user is their token's `sub`
//! (read, not verified: the room verifies; this only names a storage
//! entry), an anonymous visitor their name.
use crate::text::concat;

/// `u:<sub>` (its bytes as Latin-1), or `a:<name>` without a token; `None`
/// for a token whose subject cannot be found (then nothing is kept).
///
/// The payload is decoded (unpadded base64url, as in a JWT) and searched
/// for `"sub":"` in one pass, with no buffer and no JSON parser: slices,
/// searches and iterator adapters cost the widget half a kilobyte here. Only
/// a key of the top-level object counts (a nested `sub`, such as RFC 8693's
/// `act.sub`, names someone else), and the value is taken up to its closing
/// quote, escapes kept as written.
pub fn identity(token: Option<&str>, name: &str) -> Option<String> {
    const SUB: &[u8] = b"\"sub\":\"";
    let Some(token) = token else {
        return Some(concat(&["a:", name]));
    };
    let mut out = String::from("u:");
    let (mut acc, mut bits, mut matched) = (0u32, 0, 0);
    // Where the JSON reader is: nesting, inside a string, after a `\`.
    let (mut depth, mut quoted, mut escaped) = (0u32, false, false);
    // The payload is the part after the first `.`.
    let mut bytes = token.bytes();
    while bytes.next()? != b'.' {}
    for b in bytes {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => break,
        };
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits < 8 {
            continue;
        }
        bits -= 8;
        let byte = (acc >> bits) as u8;
        if matched == SUB.len() {
            if byte == b'"' && !escaped {
                return Some(out);
            }
            escaped = !escaped && byte == b'\\';
            // Each byte as one char: unique, and no UTF-8 check.
            out.push(char::from(byte));
            continue;
        }
        // A match begins at a quote opening a key of the top-level object;
        // no part of `"sub":"` can begin inside a partial match.
        matched = if matched > 0 && byte == SUB[matched] {
            matched + 1
        } else {
            usize::from(depth == 1 && !quoted && byte == b'"')
        };
        if escaped {
            escaped = false;
        } else if quoted {
            escaped = byte == b'\\';
            quoted = byte != b'"';
        } else {
            match byte {
                b'"' => quoted = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use proptest::prelude::*;

    fn token(claims: &str) -> String {
        [
            "eyJhbGciOiJIUzI1NiJ9.",
            &URL_SAFE_NO_PAD.encode(claims),
            ".c2ln",
        ]
        .concat()
    }

    #[test]
    fn a_token_is_its_subject_else_the_name() {
        let t = token(r#"{"sub":"user-42","name":"Ada","exp":1}"#);
        assert_eq!(identity(Some(&t), "Bo").as_deref(), Some("u:user-42"));
        assert_eq!(identity(None, "Bo").as_deref(), Some("a:Bo"));
        for bad in [
            "",
            "x",
            "a.b!.c",
            &token(r#"{"name":"no sub"}"#),
            &token("[1]"),
        ] {
            assert_eq!(identity(Some(bad), "Bo"), None, "{bad}");
        }
    }

    #[test]
    fn only_the_top_level_subject_names_the_user() {
        // RFC 8693's actor claim: another `sub`, nested, maybe first. Two
        // users acted for by one agent must not share what is kept.
        for (claims, want) in [
            (r#"{"act":{"sub":"agent-7"},"sub":"user-1"}"#, "u:user-1"),
            (r#"{"x":[{"sub":"n"}],"sub":"user-2"}"#, "u:user-2"),
            (r#"{"x":"{\"sub\":\"n\"}","sub":"user-3"}"#, "u:user-3"),
            (r#"{"sub":"a\"b"}"#, r#"u:a\"b"#),
            (r#"{"sub":"a\"c"}"#, r#"u:a\"c"#),
            (r#"{"sub":"a\\"}"#, r#"u:a\\"#),
        ] {
            assert_eq!(
                identity(Some(&token(claims)), "Bo").as_deref(),
                Some(want),
                "{claims}"
            );
        }
        assert_eq!(
            identity(Some(&token(r#"{"act":{"sub":"agent-7"}}"#)), "Bo"),
            None
        );
    }

    proptest! {
        #[test]
        fn the_subject_is_found_among_any_claims(
            sub in ".{1,40}",
            name in ".{0,20}",
            first in any::<bool>(),
        ) {
            let sub_claim = ["\"sub\":", &serde_json::to_string(&sub).unwrap()].concat();
            let name_claim = ["\"name\":", &serde_json::to_string(&name).unwrap()].concat();
            let claims = if first {
                ["{", &sub_claim, ",", &name_claim, ",\"exp\":1}"].concat()
            } else {
                ["{", &name_claim, ",\"act\":{\"sub\":\"x\"},", &sub_claim, "}"].concat()
            };
            // As written in the token, escapes and all: one user, one name.
            let quoted = serde_json::to_string(&sub).unwrap();
            let written = &quoted[1..quoted.len() - 1];
            let want: String = "u:".chars().chain(written.bytes().map(char::from)).collect();
            prop_assert_eq!(identity(Some(&token(&claims)), "Bo"), Some(want));
        }

        #[test]
        fn any_token_is_read_without_panicking(t in ".{0,200}") {
            let who = identity(Some(&t), "Bo");
            prop_assert!(who.is_none_or(|w| w.starts_with("u:")));
        }
    }
}
