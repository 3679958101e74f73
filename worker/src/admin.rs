//! The admin API: `/admin/sites[/{id}]`, authenticated with
//! `Authorization: Bearer <ADMIN_TOKEN>` (a Worker secret; `.dev.vars` in
//! development). Secrets are write-only: no answer ever contains one.

use protocol::jwt::constant_time_eq;
use protocol::validate::is_site_id;
use worker::{Env, Method, Request, Response, Result, Url};

use crate::http::{json_error, json_response};
use crate::sites::config::{Site, SiteInput};
use crate::sites::lookup::{delete_site, registry, save_site};

const MAX_BODY_BYTES: usize = 64 * 1024;

fn admin_token(env: &Env) -> Option<String> {
    env.secret("ADMIN_TOKEN")
        .map(|s| s.to_string())
        .or_else(|_| env.var("ADMIN_TOKEN").map(|v| v.to_string()))
        .ok()
        .filter(|t| !t.is_empty())
}

fn authorized(req: &Request, expected: &str) -> bool {
    let header = req
        .headers()
        .get("authorization")
        .ok()
        .flatten()
        .unwrap_or_default();
    let given = header.strip_prefix("Bearer ").unwrap_or("");
    !given.is_empty() && constant_time_eq(given.as_bytes(), expected.as_bytes())
}

pub async fn handle(mut req: Request, url: &Url, env: &Env) -> Result<Response> {
    let Some(expected) = admin_token(env) else {
        return json_error(
            503,
            "admin_disabled",
            "the admin API is disabled: set the ADMIN_TOKEN secret",
        );
    };
    if !authorized(&req, &expected) {
        let mut res = json_error(
            401,
            "unauthorized",
            "missing or wrong admin token (Authorization: Bearer <ADMIN_TOKEN>)",
        )?;
        res.headers_mut().set("www-authenticate", "Bearer")?;
        return Ok(res);
    }
    let path = url.path();
    if path == "/admin/sites" || path == "/admin/sites/" {
        return match req.method() {
            Method::Get => registry(env, Method::Get, "/sites", None).await,
            _ => json_error(405, "method_not_allowed", "use GET"),
        };
    }
    let Some(id) = path.strip_prefix("/admin/sites/") else {
        return json_error(404, "not_found", "no such admin path");
    };
    if !is_site_id(id) {
        return json_error(
            400,
            "bad_request",
            "site ids are 1-32 characters of a-z 0-9 -",
        );
    }
    match req.method() {
        Method::Get => {
            let mut res = registry(env, Method::Get, &format!("/site/{id}"), None).await?;
            if res.status_code() != 200 {
                return Ok(res);
            }
            // The registry's record includes the secret: show the public view only.
            let site: Site = res.json().await?;
            json_response(200, &site.public())
        }
        Method::Put => {
            let body = req.text().await?;
            if body.len() > MAX_BODY_BYTES {
                return json_error(413, "too_large", "site configuration over 64 KiB");
            }
            let input: SiteInput = match serde_json::from_str(&body) {
                Ok(i) => i,
                Err(e) => {
                    return json_error(
                        400,
                        "bad_request",
                        &format!("invalid site configuration: {e}"),
                    )
                }
            };
            match input.validate(id) {
                Ok(update) => save_site(env, &update).await,
                Err(e) => json_error(400, "bad_request", &e.to_string()),
            }
        }
        Method::Delete => delete_site(env, id).await,
        _ => json_error(405, "method_not_allowed", "use GET, PUT or DELETE"),
    }
}
