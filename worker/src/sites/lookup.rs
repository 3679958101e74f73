//! The Worker's side of the registry: look a site up (with a short cache, so
//! the registry object is not on every connection's path) and forward admin
//! changes, dropping the cached entry at once.
//!
//! The cache lives in the Worker isolate. A change made through the admin API
//! takes effect immediately in the isolate that made it and within
//! `CACHE_MS` everywhere else.

use std::cell::RefCell;
use std::thread::LocalKey;

use protocol::lookup_cache::LookupCache;
pub use protocol::lookup_cache::{Asker, Lookup};
use worker::{Env, Headers, Method, Request, RequestInit, Response, Result};

use super::config::Site;
use super::registry::REGISTRY_OBJECT;
use crate::clock::now_ms;

const CACHE_MS: u64 = 10_000;
/// Records of each kind (sites, keys) kept per isolate; the least recently
/// used goes first.
const MAX_KNOWN: usize = 1000;
/// Unknown ids remembered per isolate, apart from the known ones: a flood of
/// made-up ids fills this map, never the other.
const MAX_UNKNOWN: usize = 10_000;

fn new_cache<V: Clone>() -> LookupCache<V> {
    LookupCache::new(CACHE_MS, MAX_KNOWN, MAX_UNKNOWN)
}

thread_local! {
    static SITES: RefCell<LookupCache<Site>> = RefCell::new(new_cache());
    // A revoked key: at once in the isolate that revoked it, within
    // `CACHE_MS` elsewhere.
    static KEYS: RefCell<LookupCache<KeyRecord>> = RefCell::new(new_cache());
}

/// `id` from `cache`, else from the registry at `path` (200: the record,
/// 404: none), remembered for `CACHE_MS`.
async fn cached<V: Clone + serde::de::DeserializeOwned + 'static>(
    cache: &'static LocalKey<RefCell<LookupCache<V>>>,
    env: &Env,
    id: &str,
    path: String,
    asker: Asker<'_>,
) -> Result<Lookup<V>> {
    let now = now_ms();
    let ticket = cache.with(|c| {
        let mut c = c.borrow_mut();
        c.check(id, now, asker).ok_or_else(|| c.ticket())
    });
    let ticket = match ticket {
        Ok(answer) => return Ok(answer),
        Err(ticket) => ticket,
    };
    let mut res = registry(env, Method::Get, &path, None).await?;
    let found = match res.status_code() {
        200 => Some(res.json::<V>().await?),
        404 => None,
        s => return Err(worker::Error::RustError(format!("registry answered {s}"))),
    };
    cache.with(|c| c.borrow_mut().remember(id, &found, now, ticket));
    Ok(found.map_or(Lookup::Unknown, Lookup::Found))
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
/// this isolate does not know spends the miss budget of `address` (the
/// caller's `CF-Connecting-IP`).
pub async fn find_site(env: &Env, id: &str, address: Option<&str>) -> Result<Lookup<Box<Site>>> {
    lookup(env, id, Asker::From(address)).await
}

/// Like [`find_site`] for a caller who has already proved a key of this
/// site: it is not a flood of made-up ids, so it never waits on the budget.
pub async fn find_own_site(env: &Env, id: &str) -> Result<Lookup<Box<Site>>> {
    lookup(env, id, Asker::Proven).await
}

async fn lookup(env: &Env, id: &str, asker: Asker<'_>) -> Result<Lookup<Box<Site>>> {
    Ok(
        match cached(&SITES, env, id, format!("/site/{id}"), asker).await? {
            Lookup::Found(site) => Lookup::Found(Box::new(site)),
            Lookup::Unknown => Lookup::Unknown,
            Lookup::Busy => Lookup::Busy,
        },
    )
}

pub fn forget(id: &str) {
    SITES.with(|c| c.borrow_mut().forget(id));
}

/// Send an edit of site `id` (its JSON body) to the registry, which merges
/// and checks it; `method` is `PUT` (may create) or `PATCH`.
/// The site's rooms hear of the change from the site's room list
/// ([`crate::directory`]), connected members or not.
pub async fn edit_site(env: &Env, method: Method, id: &str, body: String) -> Result<Response> {
    forget(id);
    let response = registry(env, method, &format!("/site/{id}"), Some(body)).await?;
    if matches!(response.status_code(), 200 | 201) {
        // The registry's answer is the public view: read the record itself,
        // from the registry, not the cache (which a lookup running alongside
        // a concurrent edit may have refilled with an older record: rooms
        // would be told that, and nothing newer).
        // (The edit is made: a failure here is logged, not answered.)
        match registry(env, Method::Get, &format!("/site/{id}"), None).await {
            Ok(mut res) if res.status_code() == 200 => match res.json::<Site>().await {
                Ok(site) => crate::directory::announce(env, &site).await,
                Err(e) => worker::console_error!("sites: cannot tell the rooms of {id}: {e}"),
            },
            Ok(res) => worker::console_error!(
                "sites: cannot tell the rooms of {id}: registry {}",
                res.status_code()
            ),
            Err(e) => worker::console_error!("sites: cannot tell the rooms of {id}: {e}"),
        }
        forget(id);
    }
    Ok(response)
}

/// Delete site `id`: its rooms become unreachable (a new epoch), its files
/// are deleted, and its room list erases each room (members disconnected,
/// records deleted).
pub async fn delete_site(env: &Env, id: &str) -> Result<Response> {
    forget(id);
    // As it was: its epoch names its rooms and their list.
    let site = match registry(env, Method::Get, &format!("/site/{id}"), None).await {
        Ok(mut res) if res.status_code() == 200 => res.json::<Site>().await.ok(),
        Ok(res) if res.status_code() == 404 => None,
        other => {
            let status = other.map(|r| r.status_code());
            worker::console_error!(
                "sites: {id} not read before its deletion ({status:?}): its rooms are not erased"
            );
            None
        }
    };
    let response = registry(env, Method::Delete, &format!("/site/{id}"), None).await?;
    // Again: a lookup that ended while the registry deleted it may have
    // cached it; one still under way now keeps nothing (its ticket predates
    // this forget).
    forget(id);
    if response.status_code() == 200 {
        if let Some(site) = site {
            crate::directory::erase_site(env, &site).await;
            crate::api::webhooks::forget_site(env, &site).await;
        }
        if let Err(e) = crate::files::delete_prefix(env, &format!("{id}/")).await {
            worker::console_error!("sites: cannot delete the files of {id}: {e}");
        }
    }
    Ok(response)
}

/// What the registry keeps of a site key: whose it is (and which epoch of
/// that site) and the hash of its secret.
#[derive(Clone, serde::Deserialize)]
pub struct KeyRecord {
    pub site: String,
    pub epoch: String,
    pub hash: String,
}

/// The site, epoch and stored hash of key `id`. Made-up key ids spend the
/// miss budget of `address` as made-up site ids do.
pub async fn find_key(env: &Env, id: &str, address: Option<&str>) -> Result<Lookup<KeyRecord>> {
    cached(&KEYS, env, id, format!("/key/{id}"), Asker::From(address)).await
}

pub fn forget_key(id: &str) {
    KEYS.with(|c| c.borrow_mut().forget(id));
}
