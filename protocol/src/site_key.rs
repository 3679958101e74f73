//! Site API keys: `hck_<id>_<secret>`. The id (16 hex digits) names the key
//! so it can be found and revoked; the secret (32 random bytes, base64url)
//! is shown once and stored only as its SHA-256, compared in constant time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::jwt::constant_time_eq;

const PREFIX: &str = "hck_";

/// A new key from 8 + 32 random bytes: `(id, the key to show once, its hash to store)`.
pub fn issue(id_bytes: [u8; 8], secret_bytes: [u8; 32]) -> (String, String, String) {
    let id: String = id_bytes.iter().map(|b| format!("{b:02x}")).collect();
    let secret = URL_SAFE_NO_PAD.encode(secret_bytes);
    let key = format!("{PREFIX}{id}_{secret}");
    let hash = hash(&secret);
    (id, key, hash)
}

/// The id a presented key claims, and its secret part.
pub fn parse(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let id_ok = id.len() == 16
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    (id_ok && !secret.is_empty() && secret.len() <= 64).then_some((id, secret))
}

/// The stored form of a key's secret.
pub fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `secret` matches the stored `hash`.
pub fn matches(secret: &str, stored_hash: &str) -> bool {
    constant_time_eq(hash(secret).as_bytes(), stored_hash.as_bytes())
}

/// Whether `id` has the form of a key id.
pub fn is_key_id(id: &str) -> bool {
    id.len() == 16
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_parses_back_to_its_id_and_matches_only_its_hash() {
        let (id, key, hash) = issue([0xab; 8], [7; 32]);
        assert_eq!(id, "abababababababab");
        let (got_id, secret) = parse(&key).unwrap();
        assert_eq!(got_id, id);
        assert!(matches(secret, &hash));
        assert!(!matches("other", &hash));
        let (_, other, _) = issue([0xab; 8], [8; 32]);
        assert!(
            !matches(parse(&other).unwrap().1, &hash),
            "same id, other secret"
        );
        for bad in [
            "",
            "hck_",
            "hck_abc_x",
            "sk_abababababababab_x",
            "hck_ABABABABABABABAB_x",
            "hck_abababababababab_",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
        assert!(is_key_id(&id) && !is_key_id("xyz"));
    }
}
