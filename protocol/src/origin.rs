//! Site origin allow-lists.
//!
//! A pattern is `scheme://host[:port]` where scheme is `http` or `https`, and
//! - the port may be `*` (any port): `http://localhost:*`;
//! - the host may start with `*.` (any subdomain, not the bare domain):
//!   `https://*.example.com`;
//! - the single pattern `*` allows every origin (only for public demos).
//!
//! Default ports (80, 443) are implied: `https://example.com` equals
//! `https://example.com:443`. Comparison is case-insensitive.
//!
//! Origin checks stop other web pages from embedding a site's rooms; they do
//! not stop non-browser clients, which can send any `Origin` (see
//! docs/security.md).

#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    /// `None` means any port.
    port: Option<u16>,
}

fn default_port(scheme: &str) -> u16 {
    if scheme == "https" {
        443
    } else {
        80
    }
}

fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !host.starts_with('.')
        && !host.ends_with('.')
        && !host.contains("..")
}

/// Parse `scheme://host[:port]`; `allow_wildcards` admits `*.` and `:*`.
fn parse(text: &str, allow_wildcards: bool) -> Option<Origin> {
    let lower = text.trim().to_ascii_lowercase();
    let (scheme, rest) = lower.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, "*")) if allow_wildcards => (h, None),
        Some((h, p)) => (h, Some(p.parse::<u16>().ok().filter(|&p| p > 0)?)),
        None => (rest, Some(default_port(scheme))),
    };
    let bare = if allow_wildcards {
        host.strip_prefix("*.").unwrap_or(host)
    } else {
        host
    };
    if !valid_host(bare) {
        return None;
    }
    Some(Origin {
        scheme: scheme.to_owned(),
        host: host.to_owned(),
        port,
    })
}

/// Whether `pattern` is a well-formed allow-list entry.
pub fn is_valid_pattern(pattern: &str) -> bool {
    pattern == "*" || parse(pattern, true).is_some()
}

/// Whether the browser-sent `origin` is allowed by any of `patterns`.
pub fn is_allowed(origin: &str, patterns: &[String]) -> bool {
    let Some(o) = parse(origin, false) else {
        return false;
    };
    patterns.iter().any(|p| {
        if p == "*" {
            return true;
        }
        let Some(pat) = parse(p, true) else {
            return false;
        };
        let host_ok = match pat.host.strip_prefix("*.") {
            Some(domain) => {
                o.host.len() > domain.len() + 1
                    && o.host.ends_with(domain)
                    && o.host[..o.host.len() - domain.len()].ends_with('.')
            }
            None => o.host == pat.host,
        };
        pat.scheme == o.scheme && host_ok && pat.port.is_none_or(|p| Some(p) == o.port)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(origin: &str, patterns: &[&str]) -> bool {
        is_allowed(
            origin,
            &patterns.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    }

    #[test]
    fn exact_origins() {
        assert!(allowed("https://example.com", &["https://example.com"]));
        assert!(allowed("https://EXAMPLE.com", &["https://example.com:443"]));
        assert!(!allowed("http://example.com", &["https://example.com"]));
        assert!(!allowed(
            "https://example.com:8443",
            &["https://example.com"]
        ));
        assert!(!allowed(
            "https://evil-example.com",
            &["https://example.com"]
        ));
        assert!(!allowed(
            "https://example.com.evil.net",
            &["https://example.com"]
        ));
    }

    #[test]
    fn port_wildcard() {
        assert!(allowed("http://localhost:8787", &["http://localhost:*"]));
        assert!(allowed("http://localhost", &["http://localhost:*"]));
        assert!(!allowed(
            "http://localhost.evil.com:80",
            &["http://localhost:*"]
        ));
        assert!(!allowed("https://localhost:8787", &["http://localhost:*"]));
    }

    #[test]
    fn subdomain_wildcard() {
        let p = ["https://*.example.com"];
        assert!(allowed("https://a.example.com", &p));
        assert!(allowed("https://a.b.example.com", &p));
        assert!(!allowed("https://example.com", &p));
        assert!(!allowed("https://badexample.com", &p));
        assert!(!allowed("https://a.example.com.evil.net", &p));
    }

    #[test]
    fn odd_origins_are_refused() {
        for o in [
            "null",
            "",
            "file://",
            "https://",
            "https://a b.com",
            "javascript:alert(1)",
            "https://x.com/path",
        ] {
            assert!(!allowed(o, &["https://x.com", "http://localhost:*"]), "{o}");
        }
        assert!(allowed("https://anything.test", &["*"]));
    }

    #[test]
    fn pattern_validation() {
        for ok in [
            "*",
            "https://a.com",
            "http://localhost:*",
            "https://*.a.com",
            "http://127.0.0.1:8787",
        ] {
            assert!(is_valid_pattern(ok), "{ok}");
        }
        for bad in [
            "",
            "a.com",
            "ftp://a.com",
            "https://a.com/",
            "https://*",
            "https://a.com:99999",
            "https://*.*.a.com",
            "https://a..com",
        ] {
            assert!(!is_valid_pattern(bad), "{bad}");
        }
    }
}
