//! `GET /ws`: everything checked before a room is woken.
//!
//! Order: the query (room id, parameters), the site, the page's origin, the
//! identity token. Malformed requests (not an upgrade, bad parameters) get an
//! HTTP error with a JSON body: a client can avoid them before connecting.
//! Refusals a browser must be able to read (unknown site, origin, token) are
//! sent as an error frame followed by a 4xxx close code, because browsers
//! hide the HTTP status of a failed upgrade.

use protocol::client_frame::Dialect;
use protocol::connect::ConnectParams;
use protocol::jwt::{self, Identity, TokenError};
use protocol::message::Role;
use protocol::origin::is_allowed;
use protocol::room::VerifiedUser;
use protocol::{close_code, ErrorCode, ProtocolError, ServerFrame};
use worker::{
    console_error, Env, Headers, Method, Request, RequestInit, Response, Result, Url, WebSocketPair,
};

use crate::clock::now_ms;
use crate::http::json_error;
use crate::sites::config::Site;
use crate::sites::default_site;
use crate::sites::lookup::{find_site, Lookup};
use crate::ticket::{self, JoinTicket, Place, TICKET_HEADER};

pub async fn connect(req: Request, url: &Url, env: &Env) -> Result<Response> {
    let is_upgrade = req
        .headers()
        .get("upgrade")?
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if !is_upgrade {
        return json_error(426, "upgrade_required", "connect with a WebSocket");
    }
    let offered = req.headers().get("sec-websocket-protocol")?;
    let params = match ConnectParams::from_pairs(url.query_pairs())
        .and_then(|p| p.with_protocols(offered.as_deref()))
    {
        Ok(p) => p,
        Err(e) => return json_error(400, "bad_request", &e.to_string()),
    };
    let protocol = params.protocol;
    let site_id = params.site.clone().unwrap_or_else(|| default_site(env));
    let address = req.headers().get("cf-connecting-ip")?;
    let site = match find_site(env, &site_id, address.as_deref()).await {
        Ok(Lookup::Found(site)) => site,
        Ok(Lookup::Unknown) => {
            let message = format!("no site named {site_id:?}");
            return refuse_socket(
                close_code::UNKNOWN_SITE,
                ErrorCode::UnknownSite,
                &message,
                protocol,
            );
        }
        Ok(Lookup::Busy) => {
            return json_error(
                503,
                "unavailable",
                "too many lookups of unknown sites; try again",
            )
        }
        Err(e) => {
            console_error!("upgrade: site lookup failed: {e}");
            return json_error(
                503,
                "unavailable",
                "the site registry is unavailable; try again",
            );
        }
    };
    if let Err(message) = check_origin(&req, &site) {
        return refuse_socket(
            close_code::FORBIDDEN_ORIGIN,
            ErrorCode::ForbiddenOrigin,
            &message,
            protocol,
        );
    }
    let identity = match check_identity(&params, &site) {
        Ok(identity) => identity,
        Err(message) => {
            return refuse_socket(
                close_code::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                &message,
                protocol,
            )
        }
    };
    let ticket = JoinTicket {
        place: Place::of(&site, &params.room),
        name: params.name,
        user: identity.map(|id| VerifiedUser {
            sub: id.sub,
            name: id.name,
            // Only moderators come from tokens (bots are the site API's).
            role: id
                .role
                .as_deref()
                .and_then(Role::parse)
                .filter(|r| *r == Role::Moderator),
        }),
        sender_key: params.sender_key,
        // Set by Cloudflare's edge from the real client; clients cannot forge
        // it there. An IPv6 client counts by its /64.
        address: req
            .headers()
            .get("cf-connecting-ip")?
            .filter(|a| !a.is_empty() && a.len() <= 64)
            .map(|a| protocol::address::address_key(&a)),
        v1: params.dialect == Dialect::V1,
        batch: params.batch,
        since: params.since,
        read: params.read,
        limits: site.limits,
        policy: site.moderation.clone(),
        protocol: protocol.map(str::to_owned),
    };
    forward_to_room(env, &site, &params.room, &ticket).await
}

/// Browsers always send `Origin` on WebSocket upgrades; its absence means a
/// non-browser client, allowed only where the site says so.
fn check_origin(req: &Request, site: &Site) -> std::result::Result<(), String> {
    match req.headers().get("origin").ok().flatten() {
        Some(origin) if is_allowed(&origin, &site.origins) => Ok(()),
        Some(origin) => Err(format!(
            "origin {origin} is not allowed by site {:?}",
            site.id
        )),
        None if site.allow_no_origin => Ok(()),
        None => Err(format!("site {:?} requires a browser Origin", site.id)),
    }
}

fn check_identity(
    params: &ConnectParams,
    site: &Site,
) -> std::result::Result<Option<Identity>, String> {
    let now = now_ms();
    let secrets = site.secrets(now);
    match (&params.token, secrets.first()) {
        (Some(token), Some(_)) => {
            // The current secret, or during a rotation's grace period the previous one.
            let verify = |secret: &&str| {
                jwt::verify(
                    token,
                    secret.as_bytes(),
                    &site.id,
                    &params.room,
                    now as f64 / 1000.0,
                )
            };
            let mut results = secrets.iter().map(verify);
            let first = results.next().unwrap_or(Err(TokenError::BadSignature));
            let result = match first {
                Err(TokenError::BadSignature) => results.next().unwrap_or(first),
                other => other,
            };
            result.map(Some).map_err(|e| e.to_string())
        }
        (Some(_), None) => Err(format!(
            "site {:?} does not accept identity tokens",
            site.id
        )),
        (None, _) if site.allow_anonymous => Ok(None),
        (None, _) => Err(format!(
            "site {:?} requires a signed identity token",
            site.id
        )),
    }
}

/// Room objects are named by site and room together, so the same room name on
/// two sites is two rooms; and by the site's epoch, drawn when the site is
/// created, so a deleted site's rooms are never reached again, even by a new
/// site of the same id. No part may contain `:`, so the name is unambiguous.
/// (Sites created before epochs existed have none and keep their old names.)
pub fn room_object_name(site: &Site, room: &str) -> String {
    object_name(&site.id, &site.epoch, room)
}

/// [`room_object_name`] from its parts (a room that knows its identity).
pub fn object_name(site: &str, epoch: &str, room: &str) -> String {
    if epoch.is_empty() {
        format!("{site}:{room}")
    } else {
        format!("{site}:{epoch}:{room}")
    }
}

async fn forward_to_room(
    env: &Env,
    site: &Site,
    room: &str,
    ticket: &JoinTicket,
) -> Result<Response> {
    let stub = env
        .durable_object("ROOMS")?
        .get_by_name(&room_object_name(site, room))?;
    let headers = Headers::new();
    headers.set("upgrade", "websocket")?;
    headers.set(TICKET_HEADER, &ticket::header_value(ticket)?)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let request = Request::new_with_init("https://room.internal/connect", &init)?;
    stub.fetch_with_request(request).await
}

/// Accept the socket only to tell the client why it is refused, then close it
/// with a code the widget treats as final (or, for 1013, as "try later").
/// `protocol` is the subprotocol to answer with: a browser that offered one
/// drops a connection whose answer names none, before reading any frame.
pub fn refuse_socket(
    code: u16,
    error: ErrorCode,
    message: &str,
    protocol: Option<&str>,
) -> Result<Response> {
    refuse_socket_with(code, ProtocolError::new(error, message), protocol)
}

/// [`refuse_socket`] with the room's error as it is (a ban's `until`).
pub fn refuse_socket_with(
    code: u16,
    error: ProtocolError,
    protocol: Option<&str>,
) -> Result<Response> {
    let message = error.message.clone();
    let pair = WebSocketPair::new()?;
    pair.server.accept()?;
    let frame = ServerFrame::Error(error);
    // The client may already be gone; the close below is what matters.
    let _ = pair.server.send_with_str(frame.encode());
    pair.server
        .close(Some(code), Some(close_code::reason(&message)))?;
    let mut response = Response::from_websocket(pair.client)?;
    if let Some(p) = protocol {
        response.headers_mut().set("sec-websocket-protocol", p)?;
    }
    Ok(response)
}
