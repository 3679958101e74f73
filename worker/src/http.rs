//! Small HTTP helpers: JSON bodies and JSON errors.

use serde_json::json;
use worker::{Response, Result};

/// A JSON error body: `{"error": code, "message": text}` with the given status.
pub fn json_error(status: u16, code: &str, message: &str) -> Result<Response> {
    json_response(status, &json!({ "error": code, "message": message }))
}

pub fn json_response(status: u16, body: &serde_json::Value) -> Result<Response> {
    let mut response = Response::ok(body.to_string())?.with_status(status);
    response
        .headers_mut()
        .set("content-type", "application/json; charset=utf-8")?;
    Ok(response)
}
