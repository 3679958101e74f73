//! Small HTTP helpers: JSON bodies and JSON errors.

use serde_json::json;
use worker::{Request, Response, Result};

/// Largest request body the APIs read.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON error body: `{"error": code, "message": text}` with the given status.
pub fn json_error(status: u16, code: &str, message: &str) -> Result<Response> {
    let mut res = json_response(status, &json!({ "error": code, "message": message }))?;
    if status == 429 || (status == 503 && code == "unavailable") {
        // Rate limits and lookup budgets refill in about a second (RFC 9110
        // §10.2.3); a 503 of a setup problem (the admin API off) does not
        // pass by retrying.
        res.headers_mut().set("retry-after", "1")?;
    }
    Ok(res)
}

/// 405 `method_not_allowed` with `Allow` listing the methods the path takes
/// (RFC 9110 §15.5.6), e.g. `"GET, PATCH"`.
pub fn method_not_allowed(allow: &str) -> Result<Response> {
    // Every path that takes GET takes HEAD (see `router`).
    let takes = |method: &str| allow.split(", ").any(|m| m == method);
    let allow = if takes("GET") && !takes("HEAD") {
        format!("{allow}, HEAD")
    } else {
        allow.to_owned()
    };
    let mut res = json_error(
        405,
        "method_not_allowed",
        &format!("this path takes {allow}"),
    )?;
    res.headers_mut().set("allow", &allow)?;
    Ok(res)
}

pub fn json_response(status: u16, body: &serde_json::Value) -> Result<Response> {
    json_text(status, body.to_string())
}

/// A JSON body already written out (a page built from stored JSON).
pub fn json_text(status: u16, body: String) -> Result<Response> {
    let mut response = Response::ok(body)?.with_status(status);
    let headers = response.headers_mut();
    headers.set("content-type", "application/json; charset=utf-8")?;
    // Read as what it says it is, never sniffed into something a browser runs.
    headers.set("x-content-type-options", "nosniff")?;
    Ok(response)
}

/// The token of an `Authorization: Bearer <token>` header (the scheme's
/// case does not matter, RFC 9110 §11.1).
pub fn bearer(req: &Request) -> Option<String> {
    let header = req.headers().get("authorization").ok().flatten()?;
    let (scheme, token) = header.trim_start().split_once(' ')?;
    Some(token.trim())
        .filter(|t| scheme.eq_ignore_ascii_case("bearer") && !t.is_empty())
        .map(str::to_owned)
}

/// 401 with a JSON body and `WWW-Authenticate: Bearer`.
pub fn unauthorized(message: &str) -> Result<Response> {
    let mut res = json_error(401, "unauthorized", message)?;
    res.headers_mut().set("www-authenticate", "Bearer")?;
    Ok(res)
}

/// The request's body, or the response refusing it (over 64 KiB: 413).
pub async fn read_body(req: &mut Request) -> Result<std::result::Result<String, Response>> {
    if req
        .headers()
        .get("content-length")?
        .and_then(|l| l.parse::<usize>().ok())
        .is_some_and(|l| l > MAX_BODY_BYTES)
    {
        return Ok(Err(json_error(
            413,
            "too_large",
            "the body is over 64 KiB",
        )?));
    }
    let body = req.text().await?;
    if body.len() > MAX_BODY_BYTES {
        return Ok(Err(json_error(
            413,
            "too_large",
            "the body is over 64 KiB",
        )?));
    }
    Ok(Ok(body))
}

/// Decode a percent-encoded path segment (`None` if it is not UTF-8).
pub fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Percent-encode `text` for a path segment.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
