//! `GET /files/<key>?exp=&sig=`: an attachment, served inert. An `<img>`
//! cannot send headers, so the credential is the URL: signed for this key
//! (which starts with the site's id: a URL never reaches another site's
//! object) and expiring. What is served cannot run: `nosniff`, a sandbox
//! CSP, and `attachment` for everything but images.

use protocol::file_serving::{byte_range, disposition};
use protocol::files::{is_object_key, FILES_PATH};
use worker::{Env, Headers, Method, Range, Request, Response, ResponseBody, Result, Url};

use super::{bucket, file_key};
use crate::clock::now_ms;
use crate::http::json_error;

/// Objects never change: a browser may keep one as long as its URL lives.
const CACHE: &str = "private, max-age=86400, immutable";

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
        Some(h) => match byte_range(&h, size) {
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
    if let Some((first, last)) = range {
        // The clamped range, exactly as the headers describe it.
        get = get.range(Range::OffsetWithLength {
            offset: first,
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
        Some((first, last)) => {
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
