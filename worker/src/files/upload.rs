//! `PUT /files/upload/<ticket>`: one file's bytes, checked before they are
//! stored. In order: the ticket (signature, expiry), the declared length,
//! the length as the body streams in (an over-size body is cut off, never
//! stored), the type from the first bytes, then the room marks the ticket
//! used (once), and only then is the object written.

use futures_util::StreamExt;
use protocol::error::{ErrorCode, ProtocolError};
use protocol::files::{sniff, Ticket};
use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::{Env, Headers, HttpMetadata, Method, Request, RequestInit, Response, Result};

use super::{bucket, file_key, CLAIM_HEADER};
use crate::clock::now_ms;
use crate::http::{json_error, json_response};

/// Bytes sniffed for the type.
const SNIFF_BYTES: usize = 512;

/// What the Worker tells the room about a checked upload.
#[derive(Serialize, Deserialize)]
pub struct Claim {
    pub ticket: Ticket,
    pub size: u64,
    pub mime: String,
}

/// Uploads come from the widget on other sites' pages: any origin may PUT
/// (the ticket is the credential; no cookies are involved).
fn cors(mut response: Response) -> Result<Response> {
    let h = response.headers_mut();
    h.set("access-control-allow-origin", "*")?;
    h.set("access-control-allow-methods", "PUT, OPTIONS")?;
    h.set("access-control-allow-headers", "content-type")?;
    h.set("access-control-max-age", "86400")?;
    Ok(response)
}

pub fn preflight() -> Result<Response> {
    cors(Response::empty()?.with_status(204))
}

fn refuse(status: u16, error: &ProtocolError) -> Result<Response> {
    cors(json_error(status, error.code.as_str(), &error.message)?)
}

fn status_of(code: ErrorCode) -> u16 {
    match code {
        ErrorCode::TicketExpired => 410,
        ErrorCode::TicketUsed => 409,
        ErrorCode::InvalidTicket => 403,
        ErrorCode::TooLarge => 413,
        ErrorCode::UnsupportedType => 415,
        ErrorCode::Internal => 500,
        _ => 400,
    }
}

pub async fn upload(mut req: Request, sealed: &str, env: &Env) -> Result<Response> {
    let Some(key) = file_key(env) else {
        return refuse(
            503,
            &ProtocolError::new(ErrorCode::Internal, "file storage is not configured"),
        );
    };
    let ticket = match key.open(sealed, now_ms()) {
        Ok(t) => t,
        Err(e) => return refuse(status_of(e.code), &e),
    };
    let too_large = || {
        ProtocolError::new(
            ErrorCode::TooLarge,
            format!("this upload may be at most {} bytes", ticket.size),
        )
    };
    let declared = req
        .headers()
        .get("content-length")?
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        None => {
            return cors(json_error(411, "length_required", "send a Content-Length")?);
        }
        Some(n) if n > ticket.size => return refuse(413, &too_large()),
        Some(0) => {
            return refuse(
                400,
                &ProtocolError::new(ErrorCode::Empty, "the file is empty"),
            );
        }
        Some(_) => {}
    }
    // Count while reading: stop at the first byte past the ticket's size.
    let mut bytes: Vec<u8> = Vec::new();
    let mut body = req.stream()?;
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        if bytes.len() as u64 + chunk.len() as u64 > ticket.size {
            return refuse(413, &too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    let mime = match sniff(&bytes[..bytes.len().min(SNIFF_BYTES)]) {
        Some(m) if ticket.types.iter().any(|t| t == m) => m,
        _ => {
            return refuse(
                415,
                &ProtocolError::new(
                    ErrorCode::UnsupportedType,
                    "the file's content is not of a type this site accepts",
                ),
            )
        }
    };
    let size = bytes.len() as u64;
    let claim = Claim {
        ticket: ticket.clone(),
        size,
        mime: mime.to_owned(),
    };
    if let Some(refusal) = claim_at_room(env, &claim).await? {
        return Ok(refusal);
    }
    let disposition = super::serve::disposition(mime, &ticket.name);
    let stored = bucket(env)?
        .put(ticket.key.clone(), bytes)
        .http_metadata(HttpMetadata {
            content_type: Some(mime.to_owned()),
            content_disposition: Some(disposition),
            ..HttpMetadata::default()
        })
        .execute()
        .await;
    if let Err(e) = stored {
        worker::console_error!("files: cannot store {}: {e}", ticket.key);
        return refuse(
            500,
            &ProtocolError::new(
                ErrorCode::Internal,
                "the file could not be stored; try again",
            ),
        );
    }
    cors(json_response(
        201,
        &json!({ "key": ticket.key, "size": size, "mime": mime }),
    )?)
}

/// Ask the room to mark the ticket used; `Some(response)` if it refuses.
async fn claim_at_room(env: &Env, claim: &Claim) -> Result<Option<Response>> {
    let stub = env
        .durable_object("ROOMS")?
        .get_by_name(&claim.ticket.room)?;
    let headers = Headers::new();
    headers.set(CLAIM_HEADER, &serde_json::to_string(claim)?)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(headers);
    let request = Request::new_with_init("https://room.internal/files/claim", &init)?;
    let mut answer = stub.fetch_with_request(request).await?;
    if answer.status_code() == 200 {
        return Ok(None);
    }
    // The room's JSON error, passed on with CORS headers.
    let status = answer.status_code();
    let body: serde_json::Value = answer.json().await.unwrap_or_default();
    let code = body["error"].as_str().unwrap_or("internal");
    let message = body["message"].as_str().unwrap_or("the upload was refused");
    Ok(Some(cors(json_error(status, code, message)?)?))
}
