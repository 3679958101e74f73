//! How a stored file is served: the name and disposition it is downloaded
//! under, and the one byte range a `Range` header may ask for.

use crate::files::download_name;

/// Byte offsets in a range header above this are refused (files are far smaller).
const MAX_OFFSET: u64 = 1 << 40;

/// `Content-Disposition` for a file of type `mime` named `name`: images are
/// shown inline, everything else is downloaded, under a name whose
/// extension says what it was checked to be.
pub fn disposition(mime: &str, name: &str) -> String {
    let name = &download_name(name, mime);
    let kind = if mime.starts_with("image/") {
        "inline"
    } else {
        "attachment"
    };
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | ';' | '%') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// The first and last byte (inclusive, clamped to the object) that a
/// `Range: bytes=...` header asks for in an object of `size` bytes; `None`
/// if it cannot be served (416): several ranges, a range past the end, one
/// backwards, a unit other than bytes, an offset too large to be real.
pub fn byte_range(header: &str, size: u64) -> Option<(u64, u64)> {
    let spec = header.strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None; // one range only
    }
    let (start, end) = spec.split_once('-')?;
    let num = |s: &str| s.trim().parse::<u64>().ok().filter(|n| *n <= MAX_OFFSET);
    let last_byte = size.checked_sub(1)?;
    let (first, last) = match (start.trim().is_empty(), end.trim().is_empty()) {
        // The last `n` bytes.
        (true, false) => (size - num(end)?.min(size), last_byte),
        (false, true) => (num(start)?, last_byte),
        (false, false) => {
            let (a, b) = (num(start)?, num(end)?);
            if b < a {
                return None;
            }
            (a, b)
        }
        (true, true) => return None,
    };
    (first < size).then_some((first, last.min(last_byte)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let b = |h: &str| byte_range(h, 100);
        assert_eq!(b("bytes=0-9"), Some((0, 9)));
        assert_eq!(b("bytes=90-"), Some((90, 99)));
        assert_eq!(b("bytes=-10"), Some((90, 99)));
        assert_eq!(b("bytes=95-200"), Some((95, 99)));
        assert_eq!(b("bytes=100-"), None);
        assert_eq!(b("bytes=5-1"), None);
        assert_eq!(b("bytes=0-1,5-6"), None);
        assert_eq!(b("bytes=99999999999999999999-"), None);
        assert_eq!(b("items=0-1"), None);
        assert_eq!(b("bytes=-"), None);
        assert_eq!(b("bytes=-0"), None, "no bytes at all");
        assert_eq!(
            byte_range("bytes=0-", 0),
            None,
            "an empty object has no range"
        );
    }

    #[test]
    fn images_inline_everything_else_downloaded() {
        assert!(disposition("image/png", "a.png").starts_with("inline;"));
        assert!(disposition("text/plain", "a.txt").starts_with("attachment;"));
        assert!(disposition("text/plain", "a.hta").contains("filename=\"a.hta.txt\""));
        let d = disposition("application/pdf", "r\u{e9}sum\u{e9} \"x\";.pdf");
        assert!(d.contains("filename=\"r_sum_ _x__.pdf\""), "{d}");
        assert!(
            d.contains("filename*=UTF-8''r%C3%A9sum%C3%A9%20%22x%22%3B.pdf"),
            "{d}"
        );
    }
}
