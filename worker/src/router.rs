//! Which code answers which path. Static assets (demo pages, `hello-chat.js`)
//! are answered by wrangler's asset server before this runs.

use serde_json::json;
use worker::{Env, Method, Request, Response, Result};

use crate::http::{json_error, json_response, method_not_allowed};
use crate::{admin, api, files, upgrade};

pub async fn handle(req: Request, env: Env) -> Result<Response> {
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
