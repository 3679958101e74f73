//! Signed identities: JSON Web Tokens (RFC 7519) signed with HS256 by a
//! site's backend using the site's secret.
//!
//! Only HS256 is accepted (never `none`, never an algorithm picked by the
//! token), the signature is compared in constant time (`Mac::verify_slice`),
//! and `exp` is required. Claims: `sub` (user id, required), `name`,
//! `exp` (required), optional `nbf`, `room` (the token is valid for that room
//! only) and `site` (that site only).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::json::{self, Json};

/// Tolerated clock difference between the site's backend and the server.
pub const LEEWAY_SECS: f64 = 30.0;
/// Longest token accepted.
pub const MAX_TOKEN_BYTES: usize = 4096;

#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub sub: String,
    pub name: Option<String>,
    /// The `role` claim (`moderator` gives moderation rights).
    pub role: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    UnsupportedAlgorithm,
    BadSignature,
    Expired,
    NotYetValid,
    WrongRoom,
    WrongSite,
    MissingClaim(&'static str),
    /// A claim is present but not of its type (e.g. `exp` is not a number).
    BadClaim(&'static str),
    /// A text claim longer than it may be (`sub`: 256 bytes).
    TooLong(&'static str),
    /// A claim that names a user holds control characters (`sub`: the site
    /// API could not name that user to export or erase them).
    ControlCharacters(&'static str),
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::Malformed => f.write_str("identity token is malformed"),
            TokenError::UnsupportedAlgorithm => {
                f.write_str("identity token must be signed with HS256")
            }
            TokenError::BadSignature => f.write_str("identity token signature is invalid"),
            TokenError::Expired => f.write_str("identity token has expired"),
            TokenError::NotYetValid => f.write_str("identity token is not valid yet"),
            TokenError::WrongRoom => f.write_str("identity token is for another room"),
            TokenError::WrongSite => f.write_str("identity token is for another site"),
            TokenError::MissingClaim(c) => write!(f, "identity token lacks the \"{c}\" claim"),
            TokenError::BadClaim(c) => write!(f, "identity token claim \"{c}\" has the wrong type"),
            TokenError::TooLong(c) => write!(f, "identity token claim \"{c}\" is too long"),
            TokenError::ControlCharacters(c) => {
                write!(f, "identity token claim \"{c}\" has control characters")
            }
        }
    }
}

impl std::error::Error for TokenError {}

fn decode_json(part: &str) -> Result<Json, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| TokenError::Malformed)?;
    json::parse(text).map_err(|_| TokenError::Malformed)
}

/// A NumericDate claim (RFC 7519: seconds, possibly fractional): `Ok(None)`
/// when absent, an error when present but not a finite number.
fn seconds(claims: &Json, key: &'static str) -> Result<Option<f64>, TokenError> {
    match claims.get(key) {
        None => Ok(None),
        Some(Json::Int(n)) => Ok(Some(*n as f64)),
        Some(Json::OtherNumber(text)) => match text.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Some(n)),
            _ => Err(TokenError::BadClaim(key)),
        },
        Some(_) => Err(TokenError::BadClaim(key)),
    }
}

/// Verify `token` against `secret` for `site`/`room` at `now_secs` (Unix time).
pub fn verify(
    token: &str,
    secret: &[u8],
    site: &str,
    room: &str,
    now_secs: f64,
) -> Result<Identity, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let header = decode_json(header)?;
    if header.get("alg").and_then(Json::as_str) != Some("HS256") {
        return Err(TokenError::UnsupportedAlgorithm);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| TokenError::Malformed)?;
    let signed_len = token.len() - token.rsplit('.').next().map_or(0, str::len) - 1;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| TokenError::BadSignature)?;
    mac.update(&token.as_bytes()[..signed_len]);
    mac.verify_slice(&signature)
        .map_err(|_| TokenError::BadSignature)?;

    // Only a correctly signed payload is looked at.
    let claims = decode_json(payload)?;
    let exp = seconds(&claims, "exp")?.ok_or(TokenError::MissingClaim("exp"))?;
    if now_secs > exp + LEEWAY_SECS {
        return Err(TokenError::Expired);
    }
    if let Some(nbf) = seconds(&claims, "nbf")? {
        if now_secs + LEEWAY_SECS < nbf {
            return Err(TokenError::NotYetValid);
        }
    }
    match claims.get("room") {
        None | Some(Json::Null) => {}
        Some(Json::Str(r)) if r == room => {}
        Some(_) => return Err(TokenError::WrongRoom),
    }
    match claims.get("site") {
        None | Some(Json::Null) => {}
        Some(Json::Str(s)) if s == site => {}
        Some(_) => return Err(TokenError::WrongSite),
    }
    let sub = match claims.get("sub") {
        Some(Json::Str(s))
            if !s.is_empty() && s.len() <= 256 && !s.chars().any(char::is_control) =>
        {
            s.clone()
        }
        // A database's integer id (`sub: user.id`), as many backends sign
        // it: the same user as its decimal text.
        // Only up to 2^53-1: past it a JavaScript signer has already rounded
        // it, and two users could share one.
        Some(Json::Int(n)) if (0..=MAX_SAFE_INTEGER).contains(n) => crate::text::decimal(*n as u64),
        Some(Json::Str(s)) if s.len() > 256 => return Err(TokenError::TooLong("sub")),
        Some(Json::Str(s)) if s.chars().any(char::is_control) => {
            return Err(TokenError::ControlCharacters("sub"))
        }
        None | Some(Json::Null) | Some(Json::Str(_)) => {
            return Err(TokenError::MissingClaim("sub"))
        }
        Some(_) => return Err(TokenError::BadClaim("sub")),
    };
    // Optional text claims. A numeric display name is shown as its digits;
    // a role must be text (a mistake there is worth telling).
    let name = match claims.get("name") {
        None | Some(Json::Null) => None,
        Some(Json::Str(s)) => Some(s.clone()),
        Some(Json::Int(n)) if (0..=MAX_SAFE_INTEGER).contains(n) => {
            Some(crate::text::decimal(*n as u64))
        }
        Some(_) => return Err(TokenError::BadClaim("name")),
    };
    let role = match claims.get("role") {
        None | Some(Json::Null) => None,
        Some(Json::Str(s)) => Some(s.clone()),
        Some(_) => return Err(TokenError::BadClaim("role")),
    };
    Ok(Identity { sub, name, role })
}

/// 2^53-1: the largest integer every JSON reader (JavaScript's) keeps exact.
const MAX_SAFE_INTEGER: i128 = (1 << 53) - 1;

/// Compare two secrets without leaking where they differ through timing.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // Comparing MACs of both values hides the length and the position of differences.
    let tag = |data: &[u8]| {
        Hmac::<Sha256>::new_from_slice(b"hello-chat-compare").map(|mut m| {
            m.update(data);
            m
        })
    };
    match (tag(a), tag(b)) {
        (Ok(ma), Ok(mb)) => mb.verify_slice(&ma.finalize().into_bytes()).is_ok(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn mint(secret: &[u8], header: Value, claims: Value) -> String {
        let h = URL_SAFE_NO_PAD.encode(header.to_string());
        let p = URL_SAFE_NO_PAD.encode(claims.to_string());
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(format!("{h}.{p}").as_bytes());
        format!(
            "{h}.{p}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    const NOW: f64 = 1_764_330_000.0;

    fn good(claims: Value) -> String {
        mint(b"s3cret", json!({"alg":"HS256","typ":"JWT"}), claims)
    }

    #[test]
    fn valid_token() {
        let t = good(json!({"sub":"u1","name":"Ada","exp":NOW as u64 + 60,"room":"lobby"}));
        assert_eq!(
            verify(&t, b"s3cret", "acme", "lobby", NOW),
            Ok(Identity {
                sub: "u1".into(),
                name: Some("Ada".into()),
                role: None
            })
        );
    }

    #[test]
    fn an_integer_sub_is_the_user_of_its_decimal_text() {
        let t = good(json!({"sub":12345,"name":42,"exp":NOW as u64 + 60}));
        let id = verify(&t, b"s3cret", "acme", "lobby", NOW).map(|i| (i.sub, i.name));
        assert_eq!(id, Ok(("12345".to_owned(), Some("42".to_owned()))));
    }

    #[test]
    fn refusals() {
        let exp = NOW as u64 + 60;
        let cases = [
            (
                good(json!({"sub":"u1","exp":exp})),
                b"wrong".as_slice(),
                TokenError::BadSignature,
            ),
            (
                good(json!({"sub":"u1","exp":NOW as u64 - 31})),
                b"s3cret",
                TokenError::Expired,
            ),
            (
                good(json!({"sub":"u1"})),
                b"s3cret",
                TokenError::MissingClaim("exp"),
            ),
            (
                good(json!({"exp":exp})),
                b"s3cret",
                TokenError::MissingClaim("sub"),
            ),
            (
                good(json!({"sub":"u".repeat(257),"exp":exp})),
                b"s3cret",
                TokenError::TooLong("sub"),
            ),
            (
                good(json!({"sub":"ada\nx","exp":exp})),
                b"s3cret",
                TokenError::ControlCharacters("sub"),
            ),
            (
                good(json!({"sub":"ada\u{0}","exp":exp})),
                b"s3cret",
                TokenError::ControlCharacters("sub"),
            ),
            (
                good(json!({"sub":"u1","exp":exp,"room":"other"})),
                b"s3cret",
                TokenError::WrongRoom,
            ),
            (
                good(json!({"sub":"u1","exp":exp,"site":"evil"})),
                b"s3cret",
                TokenError::WrongSite,
            ),
            (
                good(json!({"sub":"u1","exp":exp,"nbf":NOW as u64 + 600})),
                b"s3cret",
                TokenError::NotYetValid,
            ),
            (
                mint(
                    b"s3cret",
                    json!({"alg":"none"}),
                    json!({"sub":"u1","exp":exp}),
                ),
                b"s3cret",
                TokenError::UnsupportedAlgorithm,
            ),
            (
                mint(
                    b"s3cret",
                    json!({"alg":"HS512"}),
                    json!({"sub":"u1","exp":exp}),
                ),
                b"s3cret",
                TokenError::UnsupportedAlgorithm,
            ),
            (
                good(json!({"sub":"u1","exp":"soon"})),
                b"s3cret",
                TokenError::BadClaim("exp"),
            ),
            (
                good(json!({"sub":{"id":1},"exp":exp})),
                b"s3cret",
                TokenError::BadClaim("sub"),
            ),
            (
                good(json!({"sub":-5,"exp":exp})),
                b"s3cret",
                TokenError::BadClaim("sub"),
            ),
            (
                good(json!({"sub":9_007_199_254_740_993_u64,"exp":exp})),
                b"s3cret",
                TokenError::BadClaim("sub"),
            ),
            (
                good(json!({"sub":"u1","exp":exp,"name":["Ada"]})),
                b"s3cret",
                TokenError::BadClaim("name"),
            ),
            (
                good(json!({"sub":"u1","exp":exp,"role":true})),
                b"s3cret",
                TokenError::BadClaim("role"),
            ),
            (
                good(json!({"sub":"u1","exp":exp,"nbf":"later"})),
                b"s3cret",
                TokenError::BadClaim("nbf"),
            ),
            (
                good(json!({"sub":"u1","exp":exp,"nbf":null})),
                b"s3cret",
                TokenError::BadClaim("nbf"),
            ),
            (
                good(json!({"sub":"u1","exp":exp,"nbf":NOW + 600.5})),
                b"s3cret",
                TokenError::NotYetValid,
            ),
            (
                good(json!({"sub":"u1","exp":NOW - 31.5})),
                b"s3cret",
                TokenError::Expired,
            ),
            ("a.b".into(), b"s3cret", TokenError::Malformed),
            ("a.b.c.d".into(), b"s3cret", TokenError::Malformed),
            ("!!.??.**".into(), b"s3cret", TokenError::Malformed),
            ("x".repeat(5000), b"s3cret", TokenError::Malformed),
        ];
        for (token, secret, want) in cases {
            assert_eq!(
                verify(&token, secret, "acme", "lobby", NOW),
                Err(want.clone()),
                "{want:?}"
            );
        }
    }

    #[test]
    fn fractional_numeric_dates_are_accepted() {
        let t = good(json!({"sub":"u1","exp":NOW + 60.25,"nbf":NOW - 0.5}));
        assert_eq!(
            verify(&t, b"s3cret", "acme", "lobby", NOW).map(|i| i.sub),
            Ok("u1".into())
        );
        // A number too large for f64 is not a date.
        let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#);
        let p = URL_SAFE_NO_PAD.encode(r#"{"sub":"u1","exp":1e999}"#);
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
        mac.update(format!("{h}.{p}").as_bytes());
        let t = format!(
            "{h}.{p}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        );
        assert_eq!(
            verify(&t, b"s3cret", "acme", "lobby", NOW),
            Err(TokenError::BadClaim("exp"))
        );
    }

    #[test]
    fn tampered_payload_fails() {
        let t = good(json!({"sub":"u1","name":"Ada","exp":NOW as u64 + 60}));
        let mut parts: Vec<&str> = t.split('.').collect();
        let forged = URL_SAFE_NO_PAD
            .encode(json!({"sub":"admin","name":"Admin","exp":NOW as u64 + 60}).to_string());
        parts[1] = &forged;
        assert_eq!(
            verify(&parts.join("."), b"s3cret", "acme", "lobby", NOW),
            Err(TokenError::BadSignature)
        );
        // Unsigned ("none") tokens with an empty signature are refused too.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            parts[1]
        );
        assert!(verify(&none, b"s3cret", "acme", "lobby", NOW).is_err());
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"token", b"token"));
        assert!(!constant_time_eq(b"token", b"tokem"));
        assert!(!constant_time_eq(b"token", b"token-longer"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
