//! Who the widget speaks for, as part of the keys of what it keeps in the
//! browser (the read position, the draft, unsent messages): another person
//! signing in on the same browser must not get them. A signed-in user is their token's `sub`
//! (read, not verified: the room verifies; this only names a storage
//! entry), an anonymous visitor their name.

/// `u:<sub>` (its bytes as Latin-1), or `a:<name>` without a token; `None`
/// for a token whose subject cannot be found (then nothing is kept).
///
/// The payload is decoded (unpadded base64url, as in a JWT) and searched
/// for `"sub":"` in one pass, with no buffer and no JSON parser: slices,
/// searches and iterator adapters cost the widget half a kilobyte here.
pub fn identity(token: Option<&str>, name: &str) -> Option<String> {
    const SUB: &[u8] = b"\"sub\":\"";
    let Some(token) = token else {
        return Some(["a:", name].concat());
    };
    let mut out = String::from("u:");
    let (mut acc, mut bits, mut matched) = (0u32, 0, 0);
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
        if matched < SUB.len() {
            // In valid JSON no part of `"sub":"` can begin inside a
            // partial match but its first quote.
            matched = if byte == SUB[matched] {
                matched + 1
            } else {
                usize::from(byte == b'"')
            };
        } else if byte == b'"' {
            return Some(out);
        } else {
            // Each byte as one char: unique, and no UTF-8 check.
            out.push(char::from(byte));
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

    proptest! {
        #[test]
        fn the_subject_is_found_among_any_claims(
            sub in "[^\"\\\\\\x00-\\x1f]{1,40}",
            name in ".{0,20}",
            first in any::<bool>(),
        ) {
            let sub_claim = ["\"sub\":", &serde_json::to_string(&sub).unwrap()].concat();
            let name_claim = ["\"name\":", &serde_json::to_string(&name).unwrap()].concat();
            let claims = if first {
                ["{", &sub_claim, ",", &name_claim, ",\"exp\":1}"].concat()
            } else {
                ["{", &name_claim, ",\"exp\":1,", &sub_claim, "}"].concat()
            };
            let want: String = "u:".chars().chain(sub.bytes().map(char::from)).collect();
            prop_assert_eq!(identity(Some(&token(&claims)), "Bo"), Some(want));
        }

        #[test]
        fn any_token_is_read_without_panicking(t in ".{0,200}") {
            let who = identity(Some(&t), "Bo");
            prop_assert!(who.is_none_or(|w| w.starts_with("u:")));
        }
    }
}
