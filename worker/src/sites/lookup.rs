//! The Worker's side of the registry: look a site up (with a short cache, so
//! the registry object is not on every connection's path) and forward admin
//! changes, dropping the cached entry at once.
//!
//! The cache lives in the Worker isolate. A change made through the admin API
//! takes effect immediately in the isolate that made it and within
//! `CACHE_MS` everywhere else.

use std::cell::RefCell;

use protocol::lru::LruMap;
use protocol::rate_limit::TokenBucket;
use worker::{Env, Headers, Method, Request, RequestInit, Response, Result};

use super::config::Site;
use super::registry::REGISTRY_OBJECT;
use crate::clock::now_ms;

const CACHE_MS: u64 = 10_000;
/// Sites kept per isolate; the least recently used goes first.
const MAX_KNOWN: usize = 1000;
/// Unknown ids remembered per isolate, apart from the known ones: a flood of
/// made-up ids fills this map, never the other.
const MAX_UNKNOWN: usize = 10_000;
/// Registry lookups of ids this isolate does not know, per second (after a
/// burst): a flood of made-up ids cannot keep the single registry busy.
const MISS_BURST: u32 = 50;
const MISS_PER_SEC: f64 = 20.0;

/// The answer to a lookup.
pub enum Lookup {
    Found(Box<Site>),
    Unknown,
    /// Too many lookups of ids this isolate does not know; try again later.
    Busy,
}

struct Cache {
    known: LruMap<String, (u64, Site)>,
    unknown: LruMap<String, u64>,
    misses: TokenBucket,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache {
        known: LruMap::new(MAX_KNOWN),
        unknown: LruMap::new(MAX_UNKNOWN),
        misses: TokenBucket::new(MISS_BURST, MISS_PER_SEC, 0.0),
    });
}

/// Send a request to the registry object.
pub async fn registry(
    env: &Env,
    method: Method,
    path: &str,
    body: Option<String>,
) -> Result<Response> {
    let stub = env.durable_object("SITES")?.get_by_name(REGISTRY_OBJECT)?;
    let mut init = RequestInit::new();
    init.with_method(method);
    if let Some(body) = body {
        let headers = Headers::new();
        headers.set("content-type", "application/json")?;
        init.with_headers(headers).with_body(Some(body.into()));
    }
    stub.fetch_with_request(Request::new_with_init(
        &format!("https://registry{path}"),
        &init,
    )?)
    .await
}

/// The site with this id, from the cache or the registry. A lookup of an id
/// this isolate does not know spends the miss budget.
pub async fn find_site(env: &Env, id: &str) -> Result<Lookup> {
    lookup(env, id, true).await
}

/// Like [`find_site`] for a caller who has already proved a key of this
/// site: it is not a flood of made-up ids, so it never waits on the budget.
pub async fn find_own_site(env: &Env, id: &str) -> Result<Lookup> {
    lookup(env, id, false).await
}

async fn lookup(env: &Env, id: &str, spend_budget: bool) -> Result<Lookup> {
    let now = now_ms();
    let cached = CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let known = c
            .known
            .get_mut(id)
            .map(|(exp, site)| (*exp > now, site.clone()));
        match known {
            Some((true, site)) => Some(Lookup::Found(Box::new(site))),
            // Expired: ask again, without spending the miss budget.
            Some((false, _)) => None,
            None if c.unknown.get_mut(id).is_some_and(|exp| *exp > now) => Some(Lookup::Unknown),
            None if spend_budget && !c.misses.try_take(now as f64) => Some(Lookup::Busy),
            None => None,
        }
    });
    if let Some(answer) = cached {
        return Ok(answer);
    }
    let mut res = registry(env, Method::Get, &format!("/site/{id}"), None).await?;
    let site = match res.status_code() {
        200 => Some(res.json::<Site>().await?),
        404 => None,
        s => return Err(worker::Error::RustError(format!("registry answered {s}"))),
    };
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        match &site {
            Some(site) => {
                c.unknown.remove(id);
                c.known
                    .insert(id.to_owned(), (now + CACHE_MS, site.clone()));
            }
            None => {
                c.known.remove(id);
                c.unknown.insert(id.to_owned(), now + CACHE_MS);
            }
        }
    });
    Ok(site.map_or(Lookup::Unknown, |s| Lookup::Found(Box::new(s))))
}

pub fn forget(id: &str) {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        c.known.remove(id);
        c.unknown.remove(id);
    });
}

/// Send an edit of site `id` (its JSON body) to the registry, which merges
/// and checks it; `method` is `PUT` (may create) or `PATCH`.
pub async fn edit_site(env: &Env, method: Method, id: &str, body: String) -> Result<Response> {
    forget(id);
    registry(env, method, &format!("/site/{id}"), Some(body)).await
}

pub async fn delete_site(env: &Env, id: &str) -> Result<Response> {
    forget(id);
    registry(env, Method::Delete, &format!("/site/{id}"), None).await
}

/// What the registry keeps of a site key: whose it is (and which epoch of
/// that site) and the hash of its secret.
#[derive(Clone, serde::Deserialize)]
pub struct KeyRecord {
    pub site: String,
    pub epoch: String,
    pub hash: String,
}

/// The answer to a key lookup.
pub enum KeyLookup {
    Found(KeyRecord),
    Unknown,
    /// Too many lookups of key ids this isolate does not know.
    Busy,
}

struct KeyCache {
    known: LruMap<String, (u64, KeyRecord)>,
    unknown: LruMap<String, u64>,
    misses: TokenBucket,
}

// Site keys seen lately in this isolate, kept as sites are: real keys apart
// from made-up ids (which can never evict them), and only lookups of ids
// this isolate has never seen spend the miss budget. A revocation is
// immediate here and within `CACHE_MS` elsewhere.
thread_local! {
    static KEYS: RefCell<KeyCache> = RefCell::new(KeyCache {
        known: LruMap::new(MAX_KNOWN),
        unknown: LruMap::new(MAX_UNKNOWN),
        misses: TokenBucket::new(MISS_BURST, MISS_PER_SEC, 0.0),
    });
}

/// The site, epoch and stored hash of key `id`.
pub async fn find_key(env: &Env, id: &str) -> Result<KeyLookup> {
    let now = now_ms();
    let cached = KEYS.with(|k| {
        let mut k = k.borrow_mut();
        let known = k
            .known
            .get_mut(id)
            .map(|(exp, record)| (*exp > now, record.clone()));
        match known {
            Some((true, record)) => Some(KeyLookup::Found(record)),
            // Expired: ask again, without spending the miss budget.
            Some((false, _)) => None,
            None if k.unknown.get_mut(id).is_some_and(|exp| *exp > now) => Some(KeyLookup::Unknown),
            None if !k.misses.try_take(now as f64) => Some(KeyLookup::Busy),
            None => None,
        }
    });
    if let Some(answer) = cached {
        return Ok(answer);
    }
    let mut res = registry(env, Method::Get, &format!("/key/{id}"), None).await?;
    let found = match res.status_code() {
        200 => res.json::<KeyRecord>().await.ok(),
        404 => None,
        s => return Err(worker::Error::RustError(format!("registry answered {s}"))),
    };
    KEYS.with(|k| {
        let mut k = k.borrow_mut();
        match &found {
            Some(record) => {
                k.unknown.remove(id);
                k.known
                    .insert(id.to_owned(), (now + CACHE_MS, record.clone()));
            }
            None => {
                k.known.remove(id);
                k.unknown.insert(id.to_owned(), now + CACHE_MS);
            }
        }
    });
    Ok(found.map_or(KeyLookup::Unknown, KeyLookup::Found))
}

pub fn forget_key(id: &str) {
    KEYS.with(|k| {
        let mut k = k.borrow_mut();
        k.known.remove(id);
        k.unknown.remove(id);
    });
}
