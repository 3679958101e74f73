//! The operator's API: `/admin/sites[/{id}[/keys[/{key}]]]`, and
//! a big room's fan-out objects: `GET /admin/sites/{id}/rooms/{room}/fanout/{n}`
//! (its socket count) and `POST .../fanout/{n}/restart` (close every socket
//! of object `n` as a deploy would: its members reconnect and resume),
//! authenticated
//! with `Authorization: Bearer <ADMIN_TOKEN>` (a Worker secret; `.dev.vars`
//! in development). Site owners get keys of their own here and use the site
//! API (`crate::api`). Secrets are write-only: no answer ever contains one,
//! and a site key is shown once, when it is created.

use protocol::jwt::constant_time_eq;
use protocol::shard::fanout_name;
use protocol::site_key;
use protocol::validate::{is_room_id, is_site_id};
use serde_json::json;
use worker::{Env, Headers, Method, Request, RequestInit, Response, Result, Url};

use crate::http::{bearer, json_error, json_response, method_not_allowed, read_body, unauthorized};
use crate::random;
use crate::shard::RESTART_HEADER;
use crate::sites::config::Site;
use crate::sites::lookup::{delete_site, edit_site, find_own_site, forget_key, registry, Lookup};
use crate::upgrade::room_object_name;

fn admin_token(env: &Env) -> Option<String> {
    env.secret("ADMIN_TOKEN")
        .map(|s| s.to_string())
        .or_else(|_| env.var("ADMIN_TOKEN").map(|v| v.to_string()))
        .ok()
        .filter(|t| !t.is_empty())
}

pub async fn handle(mut req: Request, url: &Url, env: &Env) -> Result<Response> {
    let Some(expected) = admin_token(env) else {
        return json_error(
            503,
            "admin_disabled",
            "the admin API is disabled: set the ADMIN_TOKEN secret",
        );
    };
    if !bearer(&req).is_some_and(|given| constant_time_eq(given.as_bytes(), expected.as_bytes())) {
        return unauthorized("missing or wrong admin token (Authorization: Bearer <ADMIN_TOKEN>)");
    }
    let path = url.path();
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').skip(2).collect();
    let (site, rest) = match parts.as_slice() {
        ["sites"] => {
            return match req.method() {
                Method::Get => registry(env, Method::Get, "/sites", None).await,
                _ => method_not_allowed("GET"),
            }
        }
        ["sites", site, rest @ ..] => (*site, rest),
        _ => return json_error(404, "not_found", "no such admin path"),
    };
    if !is_site_id(site) {
        return json_error(
            400,
            "bad_request",
            "site ids are 1-32 characters of a-z 0-9 -",
        );
    }
    match (req.method(), rest) {
        (Method::Get, []) => {
            let mut res = registry(env, Method::Get, &format!("/site/{site}"), None).await?;
            if res.status_code() != 200 {
                return Ok(res);
            }
            // The registry's record includes the secrets: show the public view only.
            let record: Site = res.json().await?;
            json_response(200, &record.public())
        }
        (method @ (Method::Put | Method::Patch), []) => match read_body(&mut req).await? {
            Ok(body) => edit_site(env, method, site, body).await,
            Err(refusal) => Ok(refusal),
        },
        (Method::Delete, []) => delete_site(env, site).await,
        (Method::Post, ["keys"]) => {
            let (id, key, hash) = site_key::issue(random::bytes(), random::bytes());
            let body = json!({ "id": id, "hash": hash }).to_string();
            let mut res =
                registry(env, Method::Post, &format!("/site/{site}/keys"), Some(body)).await?;
            if res.status_code() != 201 {
                return Ok(res);
            }
            let created: serde_json::Value = res.json().await?;
            json_response(
                201,
                &json!({ "id": id, "key": key, "createdAt": created["createdAt"] }),
            )
        }
        (Method::Get, ["keys"]) => {
            registry(env, Method::Get, &format!("/site/{site}/keys"), None).await
        }
        (Method::Delete, ["keys", key]) => {
            if !site_key::is_key_id(key) {
                return json_error(400, "bad_request", "key ids are 16 hex digits");
            }
            forget_key(key);
            registry(
                env,
                Method::Delete,
                &format!("/site/{site}/keys/{key}"),
                None,
            )
            .await
        }
        (Method::Post, ["rooms", room, "fanout", index, "restart"]) => {
            fanout_call(env, site, room, index, Some(RESTART_HEADER)).await
        }
        (Method::Get, ["rooms", room, "fanout", index]) => {
            fanout_call(env, site, room, index, None).await
        }
        (_, []) => method_not_allowed("GET, PUT, PATCH, DELETE"),
        (_, ["keys"]) => method_not_allowed("GET, POST"),
        (_, ["keys", _]) => method_not_allowed("DELETE"),
        (_, ["rooms", _, "fanout", _]) => method_not_allowed("GET"),
        (_, ["rooms", _, "fanout", _, "restart"]) => method_not_allowed("POST"),
        _ => json_error(404, "not_found", "no such admin path"),
    }
}

/// Ask fan-out object `index` of a room how many sockets it holds, or (with
/// `header`) to restart.
async fn fanout_call(
    env: &Env,
    site: &str,
    room: &str,
    index: &str,
    header: Option<&str>,
) -> Result<Response> {
    if !is_room_id(room) {
        return json_error(
            400,
            "bad_request",
            "room ids are 1-64 characters of A-Z a-z 0-9 _ -",
        );
    }
    let Ok(index) = index.parse::<u32>() else {
        return json_error(400, "bad_request", "fan-out objects are numbered from 0");
    };
    // The admin token is proof enough: never held to the lookup budget.
    let site = match find_own_site(env, site).await {
        Ok(Lookup::Found(site)) => site,
        Ok(_) => return json_error(404, "not_found", "no such site"),
        Err(_) => return json_error(503, "unavailable", "the site registry is unavailable"),
    };
    let name = fanout_name(&room_object_name(&site, room), index);
    let stub = env.durable_object("FANOUTS")?.get_by_name(&name)?;
    let headers = Headers::new();
    let mut init = RequestInit::new();
    if let Some(header) = header {
        headers.set(header, "1")?;
        init.with_method(Method::Post);
    }
    init.with_headers(headers);
    let request = Request::new_with_init("https://fanout.internal/", &init)?;
    stub.fetch_with_request(request).await
}
