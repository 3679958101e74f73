//! The Worker's side of the registry: look a site up (with a short cache, so
//! the registry object is not on every connection's path) and forward admin
//! changes, dropping the cached entry at once.
//!
//! The cache lives in the Worker isolate. A change made through the admin API
//! takes effect immediately in the isolate that made it and within
//! `CACHE_MS` everywhere else.

use std::cell::RefCell;
use std::collections::HashMap;

use worker::{Env, Headers, Method, Request, RequestInit, Response, Result};

use super::config::{Site, SiteUpdate};
use crate::clock::now_ms;
use super::registry::REGISTRY_OBJECT;

const CACHE_MS: u64 = 10_000;
const MAX_CACHED: usize = 1000;

thread_local! {
    static CACHE: RefCell<HashMap<String, (u64, Option<Site>)>> = RefCell::new(HashMap::new());
}

/// Send a request to the registry object.
pub async fn registry(env: &Env, method: Method, path: &str, body: Option<String>) -> Result<Response> {
    let stub = env.durable_object("SITES")?.get_by_name(REGISTRY_OBJECT)?;
    let mut init = RequestInit::new();
    init.with_method(method);
    if let Some(body) = body {
        let headers = Headers::new();
        headers.set("content-type", "application/json")?;
        init.with_headers(headers).with_body(Some(body.into()));
    }
    stub.fetch_with_request(Request::new_with_init(&format!("https://registry{path}"), &init)?).await
}

/// The site with this id, or `None` if there is none.
pub async fn find_site(env: &Env, id: &str) -> Result<Option<Site>> {
    let now = now_ms();
    if let Some(hit) = CACHE.with(|c| c.borrow().get(id).filter(|(exp, _)| *exp > now).map(|(_, s)| s.clone())) {
        return Ok(hit);
    }
    let mut res = registry(env, Method::Get, &format!("/site/{id}"), None).await?;
    let site = match res.status_code() {
        200 => Some(res.json::<Site>().await?),
        404 => None,
        s => return Err(worker::Error::RustError(format!("registry answered {s}"))),
    };
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= MAX_CACHED {
            c.clear();
        }
        c.insert(id.to_owned(), (now + CACHE_MS, site.clone()));
    });
    Ok(site)
}

pub fn forget(id: &str) {
    CACHE.with(|c| c.borrow_mut().remove(id));
}

pub async fn save_site(env: &Env, update: &SiteUpdate) -> Result<Response> {
    forget(&update.id);
    registry(env, Method::Put, &format!("/site/{}", update.id), Some(serde_json::to_string(update)?)).await
}

pub async fn delete_site(env: &Env, id: &str) -> Result<Response> {
    forget(id);
    registry(env, Method::Delete, &format!("/site/{id}"), None).await
}
