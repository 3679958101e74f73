//! `/v1/sites/{site}/webhooks[/{name}]`: the site's webhooks, kept by its
//! `WebhookQueue` object ([`crate::webhooks`]). The Worker checks what is
//! saved (URL rules against SSRF, events, secret); the queue stores it and
//! says which events the site now subscribes to, which the registry keeps so
//! rooms learn it with their next connection (and rooms with only older
//! connections ask the queue within a minute).

use protocol::validate::is_site_id;
use protocol::webhook::{check_url, EVENTS};
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Env, Method, Response, Result};

use super::site_object;
use crate::http::{json_error, json_response, method_not_allowed};
use crate::sites::config::{check_secret, Site};
use crate::sites::lookup::{forget, registry};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HookInput {
    url: String,
    events: Vec<String>,
    secret: String,
}

/// Webhook names are like site ids.
fn is_hook_name(name: &str) -> bool {
    is_site_id(name)
}

fn allow_loopback_hooks(env: &Env) -> bool {
    env.var("WEBHOOK_ALLOW_LOOPBACK_HTTP")
        .map(|v| v.to_string() == "1")
        .unwrap_or(false)
}

pub async fn list(env: &Env, site: &Site) -> Result<Response> {
    site_object(env, "WEBHOOKS", site, Method::Get, "/hooks", None).await
}

/// A deleted site's webhooks go with their queued deliveries. A failure is
/// logged: they would then be retried until they give up (72 hours).
pub async fn forget_site(env: &Env, site: &Site) {
    match site_object(env, "WEBHOOKS", site, Method::Delete, "/hooks", None).await {
        Ok(res) if res.status_code() == 200 => {}
        other => worker::console_error!(
            "webhooks: those of deleted site {} were not forgotten: {:?}",
            site.id,
            other.map(|r| r.status_code())
        ),
    }
}

/// `body`: the request's, read already (or its refusal).
pub async fn handle(
    method: Method,
    body: std::result::Result<String, Response>,
    env: &Env,
    site: &Site,
    name: &str,
) -> Result<Response> {
    if !is_hook_name(name) {
        return json_error(
            400,
            "bad_request",
            "webhook names are 1-32 characters of a-z 0-9 -",
        );
    }
    let path = format!("/hooks/{name}");
    match method {
        Method::Get => site_object(env, "WEBHOOKS", site, Method::Get, &path, None).await,
        Method::Put => {
            let body = match body {
                Ok(body) => body,
                Err(refusal) => return Ok(refusal),
            };
            let input: HookInput = match serde_json::from_str(&body) {
                Ok(i) => i,
                Err(e) => return json_error(400, "bad_request", &format!("invalid webhook: {e}")),
            };
            if let Err(e) = check_url(&input.url, allow_loopback_hooks(env)) {
                return json_error(400, "bad_request", &format!("webhook URL refused: {e}"));
            }
            if input.events.is_empty() || input.events.iter().any(|e| !EVENTS.contains(&e.as_str()))
            {
                let events = EVENTS.join(", ");
                return json_error(
                    400,
                    "bad_request",
                    &format!("events are one or more of {events}"),
                );
            }
            if let Err(e) = check_secret(input.secret.clone()) {
                return json_error(400, "bad_request", &e.to_string());
            }
            // `events` is a set: each stored once, in the order it first
            // appears (at most EVENTS.len() after the check above).
            let mut events: Vec<String> = Vec::with_capacity(EVENTS.len());
            for event in input.events {
                if !events.contains(&event) {
                    events.push(event);
                }
            }
            let body = json!({ "url": input.url, "events": events, "secret": input.secret });
            let res = site_object(
                env,
                "WEBHOOKS",
                site,
                Method::Put,
                &path,
                Some(body.to_string()),
            )
            .await?;
            changed(env, site, res, |saved| saved["webhook"].clone()).await
        }
        Method::Delete => {
            let res = site_object(env, "WEBHOOKS", site, Method::Delete, &path, None).await?;
            changed(env, site, res, |_| json!({ "deleted": name })).await
        }
        _ => method_not_allowed("GET, PUT, DELETE"),
    }
}

/// After the queue answered a change: pass its refusal on as it is, or tell
/// the registry the events now subscribed and answer with `answer(saved)`.
async fn changed(
    env: &Env,
    site: &Site,
    mut res: Response,
    answer: impl FnOnce(&Value) -> Value,
) -> Result<Response> {
    let status = res.status_code();
    if !(200..300).contains(&status) {
        return Ok(res);
    }
    let saved: Value = res.json().await?;
    forget(&site.id);
    let path = format!("/site/{}/hooks", site.id);
    let told = registry(
        env,
        Method::Put,
        &path,
        Some(saved["subscribed"].to_string()),
    )
    .await?;
    if told.status_code() != 200 {
        return json_error(
            503,
            "unavailable",
            "the webhook is saved but rooms may not know yet; save it again",
        );
    }
    json_response(status, &answer(&saved))
}
