//! Attachments' bytes: uploads into R2 and downloads out of it. The room
//! never sees them; it issues upload tickets and keeps the metadata
//! (`protocol::room::attachments`).
//!
//! - `PUT /uploads/<ticket>`: [`upload`] checks the ticket and the type
//!   from the first bytes, has the room mark the ticket used, streams the
//!   body into R2 through a size (and, for text, content) check, then has
//!   the room mark the upload stored.
//! - `GET /files/<key>?exp=&sig=`: [`serve`] checks the signature and
//!   serves the object inert (see docs/security.md).
//! - [`delete_objects`] and [`delete_prefix`]: what the room, the room
//!   eraser and the site eraser call.

mod serve;
pub mod upload;

use std::sync::atomic::{AtomicBool, Ordering};

use protocol::files::FileKey;
use worker::{console_error, Bucket, Env, Method, Request, Response, Result, Url};

use crate::http::method_not_allowed;

/// The R2 binding in wrangler.toml.
const BUCKET: &str = "ATTACHMENTS";
/// The Worker asks a room to mark an upload ticket used with this header.
pub const CLAIM_HEADER: &str = "x-hello-chat-claim";

pub fn bucket(env: &Env) -> Result<Bucket> {
    env.bucket(BUCKET)
}

/// The shortest `ADMIN_TOKEN` the file key may be derived from.
const MIN_DERIVING_TOKEN_CHARS: usize = 32;

/// The deployment's key for upload tickets and file URLs: `FILES_SECRET`,
/// or, when that is not set, derived from a long `ADMIN_TOKEN`. Anyone can
/// collect tickets and file URLs, MACs under this key: derived from a short
/// (guessable) token, they would let a visitor test guesses of it offline,
/// without limit. So a shorter token derives nothing, and files are off.
pub fn file_key(env: &Env) -> Option<FileKey> {
    let read = |name| {
        env.secret(name)
            .map(|s| s.to_string())
            .or_else(|_| env.var(name).map(|v| v.to_string()))
            .ok()
            .filter(|v| !v.is_empty())
    };
    if let Some(secret) = read("FILES_SECRET") {
        return Some(FileKey::derive(secret.as_bytes()));
    }
    let token = read("ADMIN_TOKEN")?;
    if token.chars().count() < MIN_DERIVING_TOKEN_CHARS {
        static TOLD: AtomicBool = AtomicBool::new(false);
        if !TOLD.swap(true, Ordering::Relaxed) {
            console_error!(
                "files are off: set FILES_SECRET (ADMIN_TOKEN is too short to derive their key from)"
            );
        }
        return None;
    }
    Some(FileKey::derive(token.as_bytes()))
}

pub async fn handle(req: Request, url: &Url, env: &Env) -> Result<Response> {
    let path = url.path();
    match (
        req.method(),
        path.strip_prefix(protocol::files::UPLOAD_PATH),
    ) {
        (Method::Options, Some(_)) => upload::preflight(),
        (Method::Put, Some(ticket)) => {
            let ticket = ticket.to_owned();
            upload::upload(req, &ticket, env).await
        }
        (_, Some(_)) => method_not_allowed("PUT, OPTIONS"),
        (Method::Get | Method::Head, None) => serve::serve(req, url, env).await,
        _ => method_not_allowed("GET, HEAD"),
    }
}

/// Delete these objects (up to 1000 per call to R2).
pub async fn delete_objects(env: &Env, keys: &[String]) -> Result<()> {
    let bucket = bucket(env)?;
    for chunk in keys.chunks(1000) {
        bucket.delete_multiple(chunk.to_vec()).await?;
    }
    Ok(())
}

/// Delete every object whose key starts with `prefix` (a room's or a
/// site's); returns how many. A very large site may outgrow one request's
/// subrequest limit: what is left then stays until deleted again.
pub async fn delete_prefix(env: &Env, prefix: &str) -> Result<usize> {
    let bucket = bucket(env)?;
    let mut deleted = 0;
    loop {
        let page = bucket.list().prefix(prefix).limit(1000).execute().await?;
        let keys: Vec<String> = page.objects().iter().map(|o| o.key()).collect();
        if keys.is_empty() {
            return Ok(deleted);
        }
        deleted += keys.len();
        bucket.delete_multiple(keys).await?;
        if !page.truncated() {
            return Ok(deleted);
        }
    }
}
