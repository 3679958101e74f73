//! `GET /files/<key>?exp=&sig=`: an attachment, served inert. An `<img>`
//! cannot send headers, so the credential is the URL: signed for this key
//! (which starts with the site's id: a URL never reaches another site's
//! object) and expiring. What is served cannot run: `nosniff`, a sandbox
//! CSP, and `attachment` for everything but images.

use protocol::files::{download_name, is_object_key, FILES_PATH};
use worker::{Env, Headers, Method, Range, Request, Response, ResponseBody, Result, Url};

use super::{bucket, file_key};
use crate::clock::now_ms;
use crate::http::json_error;

/// Objects never change: a browser may keep one as long as its URL lives.
const CACHE: &str = "private, max-age=86400, immutable";
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

/// A `Range: bytes=...` header as R2 takes it; `Err` if it cannot be served.
fn parse_range(header: &str) -> std::result::Result<Range, ()> {
    let spec = header.strip_prefix("bytes=").ok_or(())?;
    if spec.contains(',') {
        return Err(()); // one range only
    }
    let (start, end) = spec.split_once('-').ok_or(())?;
    let num = |s: &str| s.trim().parse::<u64>().ok().filter(|n| *n <= MAX_OFFSET);
    match (start.trim().is_empty(), end.trim().is_empty()) {
        (true, false) => Ok(Range::Suffix {
            suffix: num(end).ok_or(())?,
        }),
        (false, true) => Ok(Range::OffsetToEnd {
            offset: num(start).ok_or(())?,
        }),
        (false, false) => {
            let (a, b) = (num(start).ok_or(())?, num(end).ok_or(())?);
            if b < a {
                return Err(());
            }
            Ok(Range::OffsetWithLength {
                offset: a,
                length: b - a + 1,
            })
        }
        (true, true) => Err(()),
    }
}

/// The first and last byte a range covers in an object of `size` bytes.
fn bounds(range: &Range, size: u64) -> Option<(u64, u64)> {
    let (first, last) = match *range {
        Range::OffsetWithLength { offset, length } => (offset, offset + length - 1),
        Range::OffsetToEnd { offset } => (offset, size.checked_sub(1)?),
        Range::Suffix { suffix } => (size.checked_sub(suffix.min(size))?, size.checked_sub(1)?),
        Range::Prefix { length } => (0, length.checked_sub(1)?),
    };
    (first < size).then_some((first, last.min(size - 1)))
}

pub async fn serve(req: Request, url: &Url, env: &Env) -> Result<Response> {
    let key = url
        .path()
        .strip_prefix(FILES_PATH)
        .unwrap_or_default()
        .to_owned();
    if !is_object_key(&key) {
        return json_error(404, "not_found", "no such file");
    }
    let (mut exp, mut sig) = (None, None);
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "exp" => exp = v.parse::<u64>().ok(),
            "sig" => sig = Some(v.into_owned()),
            _ => {}
        }
    }
    let allowed = match (file_key(env), exp, sig) {
        (Some(fk), Some(exp), Some(sig)) => fk.check_url(&key, exp, &sig, now_ms()),
        _ => false,
    };
    if !allowed {
        return json_error(
            403,
            "forbidden",
            "this file link is not valid or has expired",
        );
    }
    let bucket = bucket(env)?;
    let Some(head) = bucket.head(key.clone()).await? else {
        return json_error(404, "not_found", "no such file");
    };
    let size = head.size();
    let range = match req.headers().get("range")? {
        None => None,
        Some(h) => match parse_range(&h)
            .ok()
            .and_then(|r| Some((bounds(&r, size)?, r)))
        {
            Some(found) => Some(found),
            None => {
                let mut refused = json_error(416, "bad_range", "the range cannot be served")?;
                refused
                    .headers_mut()
                    .set("content-range", &format!("bytes */{size}"))?;
                return Ok(refused);
            }
        },
    };
    let headers = Headers::new();
    let meta = head.http_metadata();
    let mime = meta
        .content_type
        .unwrap_or_else(|| "application/octet-stream".into());
    let name = key.rsplit('/').next().unwrap_or("file").to_owned();
    let shown = meta
        .content_disposition
        .unwrap_or_else(|| disposition(&mime, &name));
    headers.set("content-type", &mime)?;
    headers.set("content-disposition", &shown)?;
    headers.set("x-content-type-options", "nosniff")?;
    headers.set(
        "content-security-policy",
        "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
    )?;
    headers.set("cache-control", CACHE)?;
    headers.set("accept-ranges", "bytes")?;
    headers.set("etag", &head.http_etag())?;
    headers.set("cross-origin-resource-policy", "cross-origin")?;
    headers.set("referrer-policy", "no-referrer")?;
    if req.method() == Method::Head {
        headers.set("content-length", &size.to_string())?;
        return Ok(Response::empty()?.with_headers(headers));
    }
    let mut get = bucket.get(key);
    if let Some(((first, last), _)) = &range {
        // The clamped range, exactly as the headers describe it.
        get = get.range(Range::OffsetWithLength {
            offset: *first,
            length: last - first + 1,
        });
    }
    let Some(object) = get.execute().await? else {
        return json_error(404, "not_found", "no such file");
    };
    let Some(body) = object.body() else {
        return json_error(404, "not_found", "no such file");
    };
    let body: ResponseBody = body.response_body()?;
    let status = match range {
        Some(((first, last), _)) => {
            headers.set("content-range", &format!("bytes {first}-{last}/{size}"))?;
            headers.set("content-length", &(last - first + 1).to_string())?;
            206
        }
        None => {
            headers.set("content-length", &size.to_string())?;
            200
        }
    };
    Ok(Response::from_body(body)?
        .with_status(status)
        .with_headers(headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let b = |h: &str| parse_range(h).ok().and_then(|r| bounds(&r, 100));
        assert_eq!(b("bytes=0-9"), Some((0, 9)));
        assert_eq!(b("bytes=90-"), Some((90, 99)));
        assert_eq!(b("bytes=-10"), Some((90, 99)));
        assert_eq!(b("bytes=95-200"), Some((95, 99)));
        assert_eq!(b("bytes=100-"), None);
        assert_eq!(b("bytes=5-1"), None);
        assert_eq!(b("bytes=0-1,5-6"), None);
        assert_eq!(b("bytes=99999999999999999999-"), None);
        assert_eq!(b("items=0-1"), None);
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
