//! `PUT /uploads/<ticket>`: one file's bytes, checked before and while they
//! are stored, never held whole in memory. In order:
//!
//! 1. the ticket (signature, expiry, its site still the same site), the
//!    declared length (required, within the ticket);
//! 2. the first bytes, read until the type can be told (magic numbers);
//! 3. the room marks the ticket used (once: a replay, or a second upload
//!    racing the first, is refused here, before its body is read);
//! 4. the rest streams into R2 through a check that stops at the first byte
//!    past the declared length and, for text, at the first byte that is not
//!    text: R2 then stores nothing;
//! 5. the room marks the upload stored; only then may a message attach it.

use std::cell::Cell;
use std::rc::Rc;

use futures_util::{stream, StreamExt};
use protocol::error::{ErrorCode, ProtocolError};
use protocol::files::{room_prefix, sniff, TextCheck, Ticket};
use protocol::limits::LIMITS_CEILING;
use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::{
    Env, FixedLengthStream, Headers, HttpMetadata, Method, Request, RequestInit, Response, Result,
};

use super::{bucket, file_key, CLAIM_HEADER};
use crate::clock::now_ms;
use crate::http::{json_error, json_response};
use crate::sites::lookup::{find_own_site, Lookup};

/// Bytes read before the type is told.
const SNIFF_BYTES: usize = 512;

/// What the Worker tells the room about an upload (`/files/claim`, then
/// `/files/commit`).
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
        ErrorCode::StorageFull => 507,
        ErrorCode::Internal => 500,
        _ => 400,
    }
}

fn error(code: ErrorCode, message: &str) -> ProtocolError {
    ProtocolError::new(code, message)
}

pub async fn upload(req: Request, sealed: &str, env: &Env) -> Result<Response> {
    match checked_upload(req, sealed, env).await {
        Ok(response) => Ok(response),
        // Whatever failed, the widget gets a JSON answer it may read (CORS).
        Err(e) => {
            worker::console_error!("files: upload failed: {e}");
            refuse(
                500,
                &error(ErrorCode::Internal, "the upload failed; try again"),
            )
        }
    }
}

async fn checked_upload(mut req: Request, sealed: &str, env: &Env) -> Result<Response> {
    let Some(key) = file_key(env) else {
        return refuse(
            503,
            &error(ErrorCode::Internal, "file storage is not configured"),
        );
    };
    // 1. The ticket, and what it claims about itself.
    let ticket = match key.open(sealed, now_ms()) {
        Ok(t) => t,
        Err(e) => return refuse(status_of(e.code), &e),
    };
    let invalid = || {
        refuse(
            403,
            &error(ErrorCode::InvalidTicket, "this upload ticket is not valid"),
        )
    };
    if ticket.size > LIMITS_CEILING.max_file_bytes
        || !ticket
            .key
            .starts_with(&room_prefix(&ticket.site, &ticket.room))
    {
        return invalid();
    }
    match find_own_site(env, &ticket.site).await? {
        Lookup::Found(site) if site.epoch == ticket.epoch => {}
        Lookup::Busy => return refuse(503, &error(ErrorCode::Internal, "try again shortly")),
        _ => {
            return refuse(
                410,
                &error(ErrorCode::TicketExpired, "this site no longer exists"),
            )
        }
    }
    let too_large = error(
        ErrorCode::TooLarge,
        &format!("this upload may be at most {} bytes", ticket.size),
    );
    let declared = req
        .headers()
        .get("content-length")?
        .and_then(|v| v.parse::<u64>().ok());
    let size = match declared {
        None => return cors(json_error(411, "length_required", "send a Content-Length")?),
        Some(n) if n > ticket.size => return refuse(413, &too_large),
        Some(0) => return refuse(400, &error(ErrorCode::Empty, "the file is empty")),
        Some(n) => n,
    };

    // 2. The first bytes: enough to tell the type.
    let mut body = req.stream()?;
    let mut head: Vec<Vec<u8>> = Vec::new();
    let mut read = 0u64;
    while read < SNIFF_BYTES as u64 {
        match body.next().await {
            Some(chunk) => {
                let chunk = chunk?;
                read += chunk.len() as u64;
                head.push(chunk);
                if read > size {
                    return refuse(413, &too_large);
                }
            }
            None => break,
        }
    }
    let first: Vec<u8> = head.concat().into_iter().take(SNIFF_BYTES).collect();
    let mime = match sniff(&first) {
        Some(m) if ticket.types.iter().any(|t| t == m) => m,
        _ => {
            return refuse(
                415,
                &error(
                    ErrorCode::UnsupportedType,
                    "the file's content is not of a type this site accepts",
                ),
            )
        }
    };

    // 3. The ticket is used from here on, whatever follows.
    let claim = Claim {
        ticket: ticket.clone(),
        size,
        mime: mime.to_owned(),
    };
    if let Some(refusal) = tell_room(env, "claim", &claim).await? {
        return Ok(refusal);
    }

    // 4. The rest streams through the check into R2.
    let refused: Rc<Cell<Option<ErrorCode>>> = Rc::new(Cell::new(None));
    let checked = {
        let refused = refused.clone();
        let mut text = (mime == "text/plain").then(TextCheck::default);
        let mut seen = 0u64;
        stream::iter(head.into_iter().map(Ok))
            .chain(body)
            .map(move |chunk| {
                let chunk = chunk?;
                seen += chunk.len() as u64;
                let problem = if seen > size {
                    Some(ErrorCode::TooLarge)
                } else if text
                    .as_mut()
                    .is_some_and(|t| !t.feed(&chunk) || (seen == size && !t.finish()))
                {
                    Some(ErrorCode::UnsupportedType)
                } else {
                    None
                };
                match problem {
                    Some(code) => {
                        refused.set(Some(code));
                        Err(worker::Error::RustError(code.as_str().into()))
                    }
                    None => Ok(chunk),
                }
            })
    };
    let stored = bucket(env)?
        .put(ticket.key.clone(), FixedLengthStream::wrap(checked, size))
        .http_metadata(HttpMetadata {
            content_type: Some(mime.to_owned()),
            content_disposition: Some(protocol::file_serving::disposition(mime, &ticket.name)),
            ..HttpMetadata::default()
        })
        .execute()
        .await;
    if let Err(e) = stored {
        return match refused.get() {
            Some(ErrorCode::TooLarge) => refuse(413, &too_large),
            Some(code) => refuse(
                415,
                &error(
                    code,
                    "the file's content is not of a type this site accepts",
                ),
            ),
            None => {
                worker::console_error!("files: cannot store {}: {e}", ticket.key);
                refuse(
                    500,
                    &error(
                        ErrorCode::Internal,
                        "the file could not be stored; try again",
                    ),
                )
            }
        };
    }

    // 5. Stored: it may be attached now. A room that refuses (erased, or
    //    the upload was abandoned meanwhile) will never delete the object:
    //    delete it here.
    if let Some(refusal) = tell_room(env, "commit", &claim).await? {
        if let Err(e) = bucket(env)?.delete(ticket.key.clone()).await {
            worker::console_error!("files: cannot delete refused {}: {e}", ticket.key);
        }
        return Ok(refusal);
    }
    cors(json_response(
        201,
        &json!({ "key": ticket.key, "size": size, "mime": mime }),
    )?)
}

/// Tell the room (`claim` or `commit`); `Some(response)` if it refuses.
async fn tell_room(env: &Env, step: &str, claim: &Claim) -> Result<Option<Response>> {
    let stub = env
        .durable_object("ROOMS")?
        .get_by_name(&claim.ticket.room)?;
    let headers = Headers::new();
    headers.set(CLAIM_HEADER, &crate::ticket::header_value(claim)?)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(headers);
    let url = format!("https://room.internal/files/{step}");
    let mut answer = stub
        .fetch_with_request(Request::new_with_init(&url, &init)?)
        .await?;
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
