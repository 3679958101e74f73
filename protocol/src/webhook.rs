//! Webhooks: which URLs a site may register, and how deliveries are signed.
//!
//! A webhook URL must be `https` and name a public host: no IP literal in a
//! private, loopback, link-local, shared or reserved range, no `localhost`,
//! no single-label or `.local`/`.internal` name. Checked when the webhook is
//! saved, so the server never sends anything into the operator's network.
//! (A development server may also allow `http://127.0.0.1:<port>`.)
//!
//! Each delivery is signed like Stripe's: `t=<unix seconds>,v1=<hex
//! HMAC-SHA256 of "<t>.<body>">` with the webhook's secret, so a receiver
//! checks both who sent it and that it is fresh.

use std::net::{Ipv4Addr, Ipv6Addr};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The events a webhook may subscribe to.
pub const EVENTS: [&str; 4] = [
    "message.created",
    "message.updated",
    "message.deleted",
    "moderation",
];
/// Longest webhook URL.
pub const MAX_URL_BYTES: usize = 2048;

/// Why a webhook URL is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError(pub &'static str);

impl std::fmt::Display for UrlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for UrlError {}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240)
}

/// The IPv4 address an IPv6 address carries, in every form a gateway or
/// stack may translate back: mapped (`::ffff:a.b.c.d`), compatible
/// (`::a.b.c.d`), translated (`::ffff:0:a.b.c.d`), NAT64 (`64:ff9b::/96`)
/// and 6to4 (`2002:aabb:ccdd::/48`). (The rest of 64:ff9b::/32, the local-use
/// NAT64 prefix among it, is refused outright by `public_v6`.)
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => Some(low(hi, lo)),
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 => Some(low(hi, lo)),
        [0, 0, 0, 0, 0xffff, 0, hi, lo] => Some(low(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(low(hi, lo)),
        [0x2002, hi, lo, ..] => Some(low(hi, lo)),
        _ => None,
    }
}

fn public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return public_v4(v4);
    }
    let first = ip.segments()[0];
    !(ip.is_loopback()
        // NAT64 outside the well-known /96 (above): the local-use prefix
        // 64:ff9b:1::/48 carries IPv4 at positions of the network's
        // choosing, private ones included; nothing public lives there.
        || (first == 0x64 && ip.segments()[1] == 0xff9b)
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link local
        || (first & 0xffc0) == 0xfec0 // site local (deprecated, still routed by some)
        || first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
}

/// Check a webhook URL; `allow_loopback_http` admits `http://127.0.0.1:<port>`
/// (development only).
pub fn check_url(url: &str, allow_loopback_http: bool) -> Result<(), UrlError> {
    if url.len() > MAX_URL_BYTES || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UrlError("the URL is too long or has spaces"));
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or(UrlError("the URL needs a scheme"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(UrlError("the URL may not carry credentials"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or(UrlError("bad IPv6 address"))?;
        (h, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if port.is_some_and(|p| p.parse::<u16>().map_or(true, |n| n == 0)) {
        return Err(UrlError("bad port"));
    }
    let host = host.to_ascii_lowercase();
    if allow_loopback_http && scheme == "http" && host == "127.0.0.1" && port.is_some() {
        return Ok(());
    }
    if scheme != "https" {
        return Err(UrlError("webhooks must use https"));
    }
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return if public_v4(v4) {
            Ok(())
        } else {
            Err(UrlError("the address is not public"))
        };
    }
    if let Ok(v6) = host.parse::<Ipv6Addr>() {
        return if public_v6(v6) {
            Ok(())
        } else {
            Err(UrlError("the address is not public"))
        };
    }
    let valid = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !host.starts_with('.')
        && !host.ends_with('.');
    if !valid {
        return Err(UrlError("bad host name"));
    }
    let internal = host == "localhost"
        || !host.contains('.')
        || [".localhost", ".local", ".internal", ".lan", ".home", ".corp", ".intranet"].iter().any(|s| host.ends_with(s))
        // Numeric-looking names some resolvers read as addresses (0x7f.1, 127.1):
        // no real top-level domain is a number.
        || host.rsplit('.').next().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        || host.split('.').any(|label| label.starts_with("0x"));
    if internal {
        return Err(UrlError("the host is not public"));
    }
    Ok(())
}

/// The `Hello-Chat-Signature` header for `body` sent at `unix_secs`.
pub fn signature(secret: &[u8], unix_secs: u64, body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(unix_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={unix_secs},v1={hex}")
}

/// The wait before delivery attempt `attempt + 1`: one second, doubling,
/// at most 30 minutes.
pub fn backoff_ms(attempt: u32) -> u64 {
    (1000u64 << attempt.min(20)).min(30 * 60 * 1000)
}

/// How long a delivery is retried before it is given up.
pub const GIVE_UP_AFTER_MS: u64 = 72 * 3600 * 1000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_https_urls_are_accepted() {
        for ok in [
            "https://hooks.example.com/in",
            "https://8.8.8.8/x",
            "https://[2606:4700::1111]/",
            "https://[64:ff9b::808:808]/",
            "https://[2002:808:808::1]/",
            "https://a.b.c:8443/p?q=1",
        ] {
            assert_eq!(check_url(ok, false), Ok(()), "{ok}");
        }
        for bad in [
            "http://hooks.example.com/in",
            "ftp://x.com",
            "https://localhost/x",
            "https://127.0.0.1/x",
            "https://10.1.2.3/",
            "https://192.168.0.1/",
            "https://172.16.5.4/",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::127.0.0.1]/",
            "https://[::a9fe:a9fe]/",
            "https://[64:ff9b::7f00:1]/",
            "https://[64:ff9b::a9fe:a9fe]/",
            "https://[64:ff9b:1::a00:1]/",
            "https://[64:ff9b:1:a00:1::]/",
            "https://[2002:7f00:1::]/",
            "https://[2002:a00:1::1]/",
            "https://[::ffff:0:7f00:1]/",
            "https://[fec0::1]/",
            "https://intranet/",
            "https://db.internal/",
            "https://printer.local/",
            "https://user:pw@example.com/",
            "https://2130706433/",
            "https://0x7f.1/",
            "https://example.com:0/",
            "https://exa mple.com/",
            "not a url",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad}");
        }
        assert_eq!(check_url("http://127.0.0.1:9000/hook", true), Ok(()));
        assert!(check_url("http://127.0.0.1:9000/hook", false).is_err());
        assert!(check_url("http://10.0.0.1:9000/hook", true).is_err());
    }

    #[test]
    fn signatures_follow_the_documented_scheme() {
        // The same HMAC Node computes: createHmac('sha256', 'whsec').update('1700000000.{"a":1}').digest('hex').
        let sig = signature(b"whsec", 1_700_000_000, r#"{"a":1}"#);
        assert!(sig.starts_with("t=1700000000,v1="));
        assert_eq!(sig.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(sig, signature(b"other", 1_700_000_000, r#"{"a":1}"#));
        assert_eq!(backoff_ms(0), 1000);
        assert_eq!(backoff_ms(3), 8000);
        assert_eq!(backoff_ms(40), 30 * 60 * 1000);
    }
}
