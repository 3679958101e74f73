//! Which code answers which path. Static assets (demo pages, `hello-chat.js`)
//! are answered by wrangler's asset server before this runs.

use serde_json::json;
use worker::{Env, Headers, Method, Request, RequestInit, Response, Result};

use crate::http::{json_error, json_response, method_not_allowed};
use crate::{admin, api, files, upgrade};

pub async fn handle(req: Request, env: Env) -> Result<Response> {
    let url = req.url()?;
    let path = url.path();
    // HEAD is GET without the body (RFC 9110), wherever GET is answered
    // (file routes answer HEAD themselves, without reading the object);
    // the runtime drops the body of an answer to HEAD. Never an upgrade: a
    // HEAD must not open a socket in a room.
    if req.method() == Method::Head
        && !path.starts_with(protocol::files::FILES_PATH)
        && !path.starts_with(protocol::files::UPLOAD_PATH)
    {
        let headers = Headers::new();
        for (name, value) in req.headers().entries() {
            if name != "upgrade" {
                headers.set(&name, &value)?;
            }
        }
        let mut init = RequestInit::new();
        init.with_method(Method::Get).with_headers(headers);
        return route(Request::new_with_init(url.as_str(), &init)?, env).await;
    }
    route(req, env).await
}

async fn route(req: Request, env: Env) -> Result<Response> {
    let url = req.url()?;
    match (req.method(), url.path()) {
        (Method::Get, "/ws") => upgrade::connect(req, &url, &env).await,
        (Method::Get, "/health") => json_response(200, &json!({ "ok": true })),
        (_, p) if p == "/admin" || p.starts_with("/admin/") => admin::handle(req, &url, &env).await,
        (_, p) if p.starts_with("/v1/sites/") => api::handle(req, &url, &env).await,
        (_, p)
            if p.starts_with(protocol::files::FILES_PATH)
                || p.starts_with(protocol::files::UPLOAD_PATH) =>
        {
            files::handle(req, &url, &env).await
        }
        (_, "/ws") | (_, "/health") => method_not_allowed("GET"),
        _ => json_error(404, "not_found", "no such path"),
    }
}
