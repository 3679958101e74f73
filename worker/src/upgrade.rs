//! `GET /ws`: everything checked before a room is woken.
//!
//! Malformed requests (not an upgrade, bad room id, bad parameters) get an
//! HTTP error with a JSON body. Refusals a browser must be able to read
//! (unknown site, origin, token) are sent as an error frame followed by a 4xxx
//! close code, because browsers hide the HTTP status of a failed upgrade.

use protocol::client_frame::Dialect;
use protocol::connect::ConnectParams;
use protocol::{ErrorCode, Limits, ProtocolError, ServerFrame};
use worker::{Env, Headers, Method, Request, RequestInit, Response, Result, Url, WebSocketPair};

use crate::http::json_error;
use crate::ticket::{JoinTicket, TICKET_HEADER};

pub async fn connect(req: Request, url: &Url, env: &Env) -> Result<Response> {
    let is_upgrade = req
        .headers()
        .get("upgrade")?
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if !is_upgrade {
        return json_error(426, "upgrade_required", "connect with a WebSocket");
    }
    let params = match ConnectParams::from_pairs(url.query_pairs()) {
        Ok(p) => p,
        Err(e) => return json_error(400, "bad_request", &e.0),
    };
    let site = params.site.clone().unwrap_or_else(|| default_site(env));
    let ticket = JoinTicket {
        name: params.name.clone(),
        sender: "anon".into(),
        v1: params.dialect == Dialect::V1,
        since: params.since,
        limits: Limits::default(),
    };
    forward_to_room(env, &site, &params.room, &ticket).await
}

fn default_site(env: &Env) -> String {
    env.var("DEFAULT_SITE").map(|v| v.to_string()).unwrap_or_else(|_| "demo".into())
}

/// Room objects are named by site and room together, so the same room name on
/// two sites is two rooms. Both ids exclude `:`, so the name is unambiguous.
pub fn room_object_name(site: &str, room: &str) -> String {
    format!("{site}:{room}")
}

async fn forward_to_room(env: &Env, site: &str, room: &str, ticket: &JoinTicket) -> Result<Response> {
    let stub = env.durable_object("ROOMS")?.get_by_name(&room_object_name(site, room))?;
    let headers = Headers::new();
    headers.set("upgrade", "websocket")?;
    headers.set(TICKET_HEADER, &serde_json::to_string(ticket)?)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let request = Request::new_with_init("https://room.internal/connect", &init)?;
    stub.fetch_with_request(request).await
}

/// Accept the socket only to tell the client why it is refused, then close it
/// with a code the widget treats as final (or, for 1013, as "try later").
pub fn refuse_socket(close_code: u16, code: ErrorCode, message: &str) -> Result<Response> {
    let pair = WebSocketPair::new()?;
    pair.server.accept()?;
    let frame = ServerFrame::Error(ProtocolError::new(code, message));
    // The client may already be gone; the close below is what matters.
    let _ = pair.server.send_with_str(frame.encode());
    pair.server.close(Some(close_code), Some(message))?;
    Response::from_websocket(pair.client)
}
