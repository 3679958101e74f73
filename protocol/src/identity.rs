//! Who the widget speaks for, as part of the keys of what it keeps in the
//! browser (drafts, unsent messages): another person signing in on the same
//! browser must not get them. A signed-in user is their token's `sub`
//! (read, not verified: the room verifies; this only names a storage
//! entry), an anonymous visitor their name.

/// `u:<sub>` (its bytes as Latin-1), or `a:<name>` without a token; `None`
/// for a token whose subject cannot be found (then nothing is kept).
pub fn identity(token: Option<&str>, name: &str) -> Option<String> {
    let Some(token) = token else {
        return Some(["a:", name].concat());
    };
    let payload = base64url(token.split('.').nth(1)?)?;
    // The bytes of `"sub":"…"` up to the closing quote: a name for the
    // entry, so no JSON parser is needed (and none is bundled for it).
    let at = payload.windows(7).position(|w| w == b"\"sub\":\"")? + 7;
    let sub = payload[at..].split(|&b| b == b'"').next()?;
    // Each byte as one char: unique, and no UTF-8 check (about 1 KB of wasm).
    Some(
        "u:".chars()
            .chain(sub.iter().map(|&b| char::from(b)))
            .collect(),
    )
}

/// Unpadded base64url, as in a JWT; `None` for any other character.
fn base64url(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
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
        fn decodes_what_base64url_encodes(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            prop_assert_eq!(base64url(&URL_SAFE_NO_PAD.encode(&bytes)), Some(bytes));
        }
    }
}
