//! The site owners' API: `/v1/sites/{site}/…`, authenticated with a site
//! key (`Authorization: Bearer hck_…`, created by the operator). A key of
//! one site gets 403 on every other site; no valid key, 401. Documented in
//! docs/api.md and docs/openapi.yaml.
//!
//! The Worker checks the key, then either answers from the registry (the
//! site's configuration, its secret), the site's room list
//! ([`crate::directory`]) or webhook queue ([`crate::webhooks`]), or
//! forwards the call to the room concerned (`room::api`), which acts through
//! its room core like any member, so connected widgets see the change live.

use protocol::client_frame::MAX_SEQ;
use protocol::site_key;
use protocol::validate::{is_room_id, is_site_id};
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Env, Headers, Method, Request, RequestInit, Response, Result, Url};

use crate::http::{bearer, json_error, json_response, method_not_allowed, read_body, unauthorized};
use crate::random;
use crate::sites::config::{check_secret, Site, MAX_GRACE_MS};
use crate::sites::lookup::{edit_site, find_key, find_own_site, registry, Lookup};
use crate::ticket::{ApiTicket, API_HEADER};
use crate::upgrade::room_object_name;

mod users;
pub mod webhooks;

/// The site the caller's key belongs to, or the refusal.
async fn authorize(
    req: &Request,
    env: &Env,
    site: &str,
) -> Result<std::result::Result<Site, Response>> {
    let refuse = |r: Result<Response>| r.map(Err);
    let Some(given) = bearer(req) else {
        return refuse(unauthorized(
            "a site key is required (Authorization: Bearer <key>)",
        ));
    };
    let Some((id, secret)) = site_key::parse(&given) else {
        return refuse(unauthorized("that is not a site key"));
    };
    let address = req.headers().get("cf-connecting-ip")?;
    let key = match find_key(env, id, address.as_deref()).await? {
        Lookup::Found(key) => key,
        Lookup::Unknown => return refuse(unauthorized("unknown or revoked site key")),
        Lookup::Busy => {
            return refuse(json_error(
                503,
                "unavailable",
                "too many lookups of unknown keys; try again",
            ))
        }
    };
    if !site_key::matches(secret, &key.hash) {
        return refuse(unauthorized("unknown or revoked site key"));
    }
    // The key's own site must still be there, in the epoch the key was made
    // for, wherever the key is used: the key of a deleted site is answered
    // like a key that never existed (401), never with 404 or 403, which
    // would tell that the site existed. A key of a deleted site, still
    // cached, never opens a new site of the same id.
    let own = match find_own_site(env, &key.site).await? {
        Lookup::Found(own) if own.epoch == key.epoch => own,
        Lookup::Found(_) | Lookup::Unknown => {
            return refuse(unauthorized("unknown or revoked site key"))
        }
        Lookup::Busy => return refuse(json_error(503, "unavailable", "try again")),
    };
    // A path that cannot name a site names no one's: 400, not 403.
    if !is_site_id(site) {
        return refuse(bad_site_id());
    }
    if own.id != site {
        return refuse(json_error(
            403,
            "forbidden",
            "this key belongs to another site",
        ));
    }
    Ok(Ok(*own))
}

/// 400 for a site id that cannot be one (docs/api.md: invalid ids are 400).
fn bad_site_id() -> Result<Response> {
    json_error(
        400,
        "bad_request",
        "site ids are 1-32 characters of a-z 0-9 -",
    )
}

/// The seq in a path: 1 to 2^53-1, else `None`.
pub(crate) fn path_seq(segment: &str) -> Option<u64> {
    segment
        .parse::<u64>()
        .ok()
        .filter(|n| (1..=MAX_SEQ).contains(n))
}

/// Send a request to one of the site's own objects (room list, webhook queue).
async fn site_object(
    env: &Env,
    binding: &str,
    site: &Site,
    method: Method,
    path: &str,
    body: Option<String>,
) -> Result<Response> {
    let stub = env
        .durable_object(binding)?
        .get_by_name(&format!("{}:{}", site.id, site.epoch))?;
    let mut init = RequestInit::new();
    init.with_method(method);
    if let Some(body) = body {
        init.with_body(Some(body.into()));
    }
    stub.fetch_with_request(Request::new_with_init(
        &format!("https://site.internal{path}"),
        &init,
    )?)
    .await
}

/// Forward a call to room `room` of `site`.
async fn room_call(
    env: &Env,
    site: &Site,
    room: &str,
    method: Method,
    path: &str,
    body: Option<String>,
) -> Result<Response> {
    let ticket = ApiTicket::of(site, room);
    let headers = Headers::new();
    headers.set(API_HEADER, &crate::ticket::header_value(&ticket)?)?;
    let mut init = RequestInit::new();
    init.with_method(method).with_headers(headers);
    if let Some(body) = body {
        init.with_body(Some(body.into()));
    }
    let stub = env
        .durable_object("ROOMS")?
        .get_by_name(&room_object_name(site, room))?;
    stub.fetch_with_request(Request::new_with_init(
        &format!("https://room.internal{path}"),
        &init,
    )?)
    .await
}

/// The request's body, read before the key was checked the second time
/// (`None` for a method without one), or its refusal (413).
struct Body(Option<std::result::Result<String, Response>>);

impl Body {
    /// The body (empty for a method without one), or the response refusing it.
    fn take(&mut self) -> std::result::Result<String, Response> {
        self.0.take().unwrap_or_else(|| Ok(String::new()))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Rotation {
    secret: Option<String>,
    grace_seconds: Option<u64>,
}

pub async fn handle(mut req: Request, url: &Url, env: &Env) -> Result<Response> {
    let path = url.path();
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').skip(3).collect();
    let Some((&site_id, rest)) = parts.split_first() else {
        return json_error(404, "not_found", "no such API path");
    };
    // The key is checked first (401), then the ids in the path (400): an
    // invalid site id is refused in `authorize`.
    let mut site = match authorize(&req, env, site_id).await? {
        Ok(site) => site,
        Err(refusal) => return Ok(refusal),
    };
    // A body is read here, then the key checked again: a caller holding a
    // body back past its site's deletion would otherwise write into rooms
    // and webhooks the deletion had already erased, where they would stay.
    let body = match req.method() {
        Method::Post | Method::Put | Method::Patch => {
            let body = read_body(&mut req).await?;
            site = match authorize(&req, env, site_id).await? {
                Ok(site) => site,
                Err(refusal) => return Ok(refusal),
            };
            Some(body)
        }
        _ => None,
    };
    let mut body = Body(body);
    let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
    let method = req.method();
    match (method.clone(), rest) {
        (Method::Get, []) => json_response(200, &site.public()),
        (Method::Patch, []) => {
            let body = match body.take() {
                Ok(body) => body,
                Err(refusal) => return Ok(refusal),
            };
            // The identity secret changes only through /secret.
            if serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v.get("secret").cloned())
                .is_some()
            {
                return json_error(
                    400,
                    "bad_request",
                    "change the secret with POST /v1/sites/{site}/secret",
                );
            }
            edit_site(env, Method::Patch, &site.id, body).await
        }
        (Method::Post, ["secret"]) => {
            let body = match body.take() {
                Ok(body) if body.trim().is_empty() => "{}".to_owned(),
                Ok(body) => body,
                Err(refusal) => return Ok(refusal),
            };
            let rotation: Rotation = match serde_json::from_str(&body) {
                Ok(r) => r,
                Err(e) => return json_error(400, "bad_request", &format!("invalid body: {e}")),
            };
            let grace_ms = rotation.grace_seconds.unwrap_or(3600).saturating_mul(1000);
            if grace_ms > MAX_GRACE_MS {
                return json_error(400, "bad_request", "graceSeconds is at most 30 days");
            }
            let (secret, generated) = match rotation.secret {
                Some(s) => match check_secret(s) {
                    Ok(s) => (s, false),
                    Err(e) => return json_error(400, "bad_request", &e.to_string()),
                },
                None => {
                    let bytes: [u8; 32] = random::bytes();
                    (bytes.iter().map(|b| format!("{b:02x}")).collect(), true)
                }
            };
            let body = json!({ "secret": secret, "graceMs": grace_ms }).to_string();
            crate::sites::lookup::forget(&site.id);
            let mut res = registry(
                env,
                Method::Post,
                &format!("/site/{}/rotate", site.id),
                Some(body),
            )
            .await?;
            if res.status_code() != 200 {
                return Ok(res);
            }
            let rotated: Value = res.json().await?;
            let mut answer = json!({ "previousValidUntil": rotated["previousValidUntil"] });
            if generated {
                answer["secret"] = json!(secret);
            }
            json_response(200, &answer)
        }
        (Method::Get, ["rooms"]) => {
            let mut res = site_object(
                env,
                "DIRECTORIES",
                &site,
                Method::Get,
                &format!("/rooms{query}"),
                None,
            )
            .await?;
            if res.status_code() != 200 {
                return Ok(res);
            }
            // With the cap the site's `fileBytes` count against.
            let mut list: Value = res.json().await?;
            list["maxStorageBytes"] = json!(site.limits.max_storage_bytes);
            json_response(200, &list)
        }
        (_, ["rooms", room, rest @ ..]) => {
            if !is_room_id(room) {
                return json_error(
                    400,
                    "bad_request",
                    "room ids are 1-64 characters of A-Z a-z 0-9 _ -",
                );
            }
            match (method, rest) {
                (Method::Get, ["messages" | "reports"]) => {
                    room_call(
                        env,
                        &site,
                        room,
                        Method::Get,
                        &format!("/{}{query}", rest[0]),
                        None,
                    )
                    .await
                }
                (Method::Post, ["messages"]) | (Method::Post, ["moderation"]) => {
                    let body = match body.take() {
                        Ok(body) => body,
                        Err(refusal) => return Ok(refusal),
                    };
                    room_call(
                        env,
                        &site,
                        room,
                        Method::Post,
                        &format!("/{}", rest[0]),
                        Some(body),
                    )
                    .await
                }
                (Method::Delete, ["messages", seq]) => {
                    if path_seq(seq).is_none() {
                        return json_error(400, "bad_request", "a seq is 1 to 2^53-1");
                    }
                    room_call(
                        env,
                        &site,
                        room,
                        Method::Delete,
                        &format!("/messages/{seq}"),
                        None,
                    )
                    .await
                }
                (Method::Get, []) => room_call(env, &site, room, Method::Get, "/", None).await,
                (Method::Delete, []) => {
                    room_call(env, &site, room, Method::Delete, "/", None).await
                }
                (_, []) => method_not_allowed("GET, DELETE"),
                (_, ["messages"]) => method_not_allowed("GET, POST"),
                (_, ["moderation"]) => method_not_allowed("POST"),
                (_, ["reports"]) => method_not_allowed("GET"),
                (_, ["messages", _]) => method_not_allowed("DELETE"),
                _ => json_error(404, "not_found", "no such API path"),
            }
        }
        (_, ["users", sub, rest @ ..]) => {
            let query = |name: &str| {
                url.query_pairs()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.into_owned())
            };
            // A sub can also come as `?sub=`, with `_` in the path: "." and
            // ".." cannot be path segments, URLs drop them. Only with `_`:
            // a path naming one user must not act on another (logs and
            // proxies read the path).
            let sub = match (query("sub"), *sub) {
                (Some(sub), "_") => crate::http::percent_encode(&sub),
                (Some(_), _) => {
                    return json_error(
                        400,
                        "bad_request",
                        "give the sub in the path, or as ?sub= with _ in the path",
                    )
                }
                (None, sub) => sub.to_owned(),
            };
            users::handle(env, &site, method, &sub, rest, query("after")).await
        }
        (Method::Get, ["webhooks"]) => webhooks::list(env, &site).await,
        (_, ["webhooks", name]) => webhooks::handle(method, body.take(), env, &site, name).await,
        (_, []) => method_not_allowed("GET, PATCH"),
        (_, ["secret"]) => method_not_allowed("POST"),
        (_, ["rooms"] | ["webhooks"]) => method_not_allowed("GET"),
        _ => json_error(404, "not_found", "no such API path"),
    }
}
