//! The room's side of the site API (`crate::api`): the Worker has checked
//! the site key and forwards the call here with an [`ApiTicket`]. The site's
//! server acts as a bot member without a socket (`RoomCore::site_member`):
//! its messages and moderation go through the room core like anyone's, so
//! connected widgets see them live.
//!
//! Paths (internal): `GET /` (the room at a glance), `GET`/`POST /messages`, `GET /reports`,
//! `DELETE /messages/{seq}`, `POST /moderation`, `DELETE /` (erase the room), `GET /users/{sub}/messages`
//! (export), `DELETE /users/{sub}` (erase).

use protocol::client_frame::{ClientFrame, Dialect, MAX_SEQ};
use protocol::error::close_code;
use protocol::json::{self, Json};
use protocol::message::RoomEvent;
use protocol::room::{Member, PageQuery, Sockets, Store};
use protocol::server_frame::encode_event;
use protocol::site_api;
use protocol::{ErrorCode, ProtocolError, ServerFrame};
use serde_json::{json, Value};
use worker::{console_error, Method, Request, Response, Result};

use super::{fanout, open, Room};
use crate::clock::now_ms;
use crate::http::{json_error, json_response, percent_decode, read_body};
use crate::random;
use crate::ticket::ApiTicket;

/// Store pages read at most for one `GET messages?after=` (see there).
const MAX_PAGES_PER_CALL: usize = 20;

/// The HTTP status for a refusal the room answered with.
fn status(code: ErrorCode) -> u16 {
    match code {
        ErrorCode::NotFound => 404,
        ErrorCode::NotAllowed => 403,
        ErrorCode::IdConflict => 409,
        ErrorCode::RateLimited | ErrorCode::SlowMode => 429,
        ErrorCode::Internal => 503,
        _ => 400,
    }
}

/// The ack or error among the room's replies, as an HTTP response;
/// `created` tells a new record (201) from a retry (200).
fn answer(
    replies: &[String],
    created: impl Fn(u64) -> bool,
    status: impl Fn(ErrorCode) -> u16,
) -> Result<Response> {
    for reply in replies {
        match ServerFrame::parse(reply) {
            Ok(ServerFrame::Ack { id, seq, timestamp }) => {
                let code = if created(seq) { 201 } else { 200 };
                return json_response(
                    code,
                    &json!({ "id": id, "seq": seq, "timestamp": timestamp }),
                );
            }
            Ok(ServerFrame::Error(e)) => {
                return json_error(status(e.code), e.code.as_str(), &e.message)
            }
            _ => {}
        }
    }
    json_error(503, "unavailable", "the room did not answer; try again")
}

/// A body the protocol's parser refused: 400 with its code, except that the
/// wire's `bad_frame` (wrong types, a missing field) is this API's
/// `bad_request`, as for every other malformed body.
fn refused_body(e: &ProtocolError) -> Result<Response> {
    let code = match e.code {
        ErrorCode::BadFrame => "bad_request",
        code => code.as_str(),
    };
    json_error(400, code, &e.message)
}

/// A message (or any event) as JSON, from the protocol's own encoding.
/// The `sub` a users path segment names: the author `u:<sub>`, percent
/// encoded (a Worker from before that prefix sent the bare sub).
fn user_of(segment: &str) -> Option<String> {
    let author = percent_decode(segment)?;
    Some(match author.strip_prefix("u:") {
        Some(sub) => sub.to_owned(),
        None => author,
    })
}

fn event_json(e: &RoomEvent) -> Value {
    serde_json::from_str(&encode_event(e)).unwrap_or(Value::Null)
}

fn random_id() -> String {
    random::bytes::<16>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Room {
    /// Run `frame` as `member` (the site) and answer with its ack or error.
    fn act(
        &self,
        member: &Member,
        frame: ClientFrame,
    ) -> Result<std::result::Result<Vec<String>, Response>> {
        let legacy = self.legacy_present();
        let outputs = {
            let mut inner = self.inner.borrow_mut();
            let Ok(inner) = inner.as_mut() else {
                return Ok(Err(json_error(
                    503,
                    "unavailable",
                    "the room's storage is unavailable",
                )?));
            };
            let sockets = Sockets {
                legacy,
                ..Sockets::default()
            };
            inner
                .core
                .act(member, frame, sockets, now_ms(), &mut inner.store)
        };
        match outputs {
            Ok(outputs) => Ok(Ok(self.carry_out(super::Origin::Api, outputs))),
            Err(e) => {
                console_error!("room: API call failed: {e}");
                Ok(Err(json_error(
                    503,
                    "unavailable",
                    "the room could not do that; try again",
                )?))
            }
        }
    }

    fn site_member(&self, name: &str, ticket: &ApiTicket) -> Option<Member> {
        self.inner
            .borrow()
            .as_ref()
            .ok()
            .map(|i| i.core.site_member(name, ticket.limits))
    }

    fn latest(&self) -> u64 {
        self.inner
            .borrow_mut()
            .as_mut()
            .ok()
            .and_then(|i| i.store.latest_seq().ok())
            .unwrap_or(0)
    }

    pub(super) async fn api(&self, mut req: Request, ticket: ApiTicket) -> Result<Response> {
        let url = req.url()?;
        let path = url.path().to_owned();
        let parts: Vec<&str> = path
            .trim_matches('/')
            .split('/')
            .filter(|p| !p.is_empty())
            .collect();
        let query = |key: &str| {
            url.query_pairs()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.to_string())
        };
        match (req.method(), parts.as_slice()) {
            (Method::Get, ["messages"]) => {
                let seq = |key| query(key).map(|v| v.parse::<u64>().ok().filter(|n| *n <= MAX_SEQ));
                let limit = query("limit")
                    .map(|v| v.parse::<usize>().ok().filter(|n| (1..=100).contains(n)));
                let (before, after, limit) = match (seq("before"), seq("after"), limit) {
                    (Some(None), _, _) | (_, Some(None), _) | (_, _, Some(None)) => {
                        return json_error(
                            400,
                            "bad_request",
                            "before and after are seqs; limit is 1-100",
                        )
                    }
                    (Some(Some(_)), Some(Some(_)), _) => {
                        return json_error(400, "bad_request", "give before or after, not both")
                    }
                    (b, a, l) => (b.flatten(), a.flatten(), l.flatten().unwrap_or(50)),
                };
                let query = match (before, after) {
                    (Some(b), _) => PageQuery::Before(b, limit),
                    (_, Some(a)) => PageQuery::After(a, limit),
                    _ => PageQuery::Latest(limit),
                };
                let page = self.inner.borrow_mut().as_mut().ok().map(|i| {
                    // `after` pages are of events: a page of reactions holds
                    // no message. Read on (a bounded number of pages) until
                    // `limit` messages, so that a page is not empty while
                    // more come; `next` is where to go on from.
                    let (mut query, mut messages, mut rounds) = (query, Vec::new(), 0);
                    let (more, next) = loop {
                        let mut page = i.store.page(query, "")?;
                        i.core.sign_events(&mut page.events, now_ms());
                        let last = page.events.last().map(RoomEvent::seq);
                        messages.extend(
                            page.events
                                .into_iter()
                                .filter(|e| matches!(e, RoomEvent::Message(_))),
                        );
                        rounds += 1;
                        let PageQuery::After(after, n) = query else {
                            // Latest and before: messages only, newest last.
                            break (page.more, messages.first().map_or(0, RoomEvent::seq));
                        };
                        if messages.len() > limit {
                            messages.truncate(limit);
                            break (true, messages.last().map_or(after, RoomEvent::seq));
                        }
                        let next = last.unwrap_or(after);
                        if !page.more || messages.len() == limit || rounds == MAX_PAGES_PER_CALL {
                            break (page.more, next);
                        }
                        query = PageQuery::After(next, n);
                    };
                    Ok::<_, protocol::room::StoreError>((messages, more, next))
                });
                match page {
                    Some(Ok((messages, more, next))) => {
                        let messages: Vec<Value> = messages.iter().map(event_json).collect();
                        let mut body = json!({ "messages": messages, "more": more });
                        if more {
                            body["next"] = json!(next);
                        }
                        json_response(200, &body)
                    }
                    _ => json_error(503, "unavailable", "the room's storage is unavailable"),
                }
            }
            (Method::Get, ["reports"]) => {
                self.reports(query("before").as_deref(), query("limit").as_deref())
            }
            (Method::Post, ["messages"]) => {
                let body = match read_body(&mut req).await? {
                    Ok(body) => body,
                    Err(refusal) => return Ok(refusal),
                };
                let Ok(obj) = json::parse(&body) else {
                    return json_error(400, "bad_request", "the body is not JSON");
                };
                if let Json::Obj(fields) = &obj {
                    if let Err(why) = site_api::check_fields(fields, site_api::MESSAGE_FIELDS) {
                        return json_error(400, "bad_request", &why);
                    }
                }
                let Some(name) = obj.get("name").and_then(Json::as_str) else {
                    return json_error(400, "bad_request", "\"name\" is required");
                };
                let Some(name) = protocol::validate::bot_name(name) else {
                    return json_error(
                        400,
                        "bad_request",
                        "\"name\" must be 1-32 characters after cleaning",
                    );
                };
                // The protocol's own parser checks the message, the id and the reply target.
                let mut frame = json::ObjectWriter::new().str("type", "send");
                if let Some(id) = obj.get("id") {
                    frame = frame.raw("id", &to_json(id));
                }
                if let Some(m) = obj.get("message") {
                    frame = frame.raw("message", &to_json(m));
                }
                if let Some(r) = obj.get("replyTo") {
                    frame = frame.raw("replyTo", &to_json(r));
                }
                let frame = match ClientFrame::parse(&frame.finish(), Dialect::V1) {
                    Ok(f) => f,
                    Err(e) => return refused_body(&e),
                };
                let Some(member) = self.site_member(&name, &ticket) else {
                    return json_error(503, "unavailable", "the room's storage is unavailable");
                };
                let before = self.latest();
                match self.act(&member, frame)? {
                    // A reply to a message that does not exist is a bad request, not a missing resource.
                    Ok(replies) => answer(
                        &replies,
                        |seq| seq > before,
                        |code| {
                            if code == ErrorCode::NotFound {
                                400
                            } else {
                                status(code)
                            }
                        },
                    ),
                    Err(refusal) => Ok(refusal),
                }
            }
            (Method::Delete, ["messages", seq]) => {
                // (The Worker refuses these first; 400 as it does.)
                let Some(target) = crate::api::path_seq(seq) else {
                    return json_error(400, "bad_request", "a seq is 1 to 2^53-1");
                };
                let Some(member) = self.site_member("Site", &ticket) else {
                    return json_error(503, "unavailable", "the room's storage is unavailable");
                };
                match self.act(
                    &member,
                    ClientFrame::Delete {
                        id: random_id(),
                        target,
                    },
                )? {
                    Ok(replies) => answer(&replies, |_| false, status),
                    Err(refusal) => Ok(refusal),
                }
            }
            (Method::Post, ["moderation"]) => {
                let body = match read_body(&mut req).await? {
                    Ok(body) => body,
                    Err(refusal) => return Ok(refusal),
                };
                let Ok(Json::Obj(fields)) = json::parse(&body) else {
                    return json_error(400, "bad_request", "the body must be a JSON object");
                };
                if let Err(why) = site_api::check_fields(&fields, site_api::MODERATION_FIELDS) {
                    return json_error(400, "bad_request", &why);
                }
                let mut frame = json::ObjectWriter::new()
                    .str("type", "moderate")
                    .str("id", &random_id());
                for (k, v) in &fields {
                    frame = frame.raw(k, &to_json(v));
                }
                let frame = match ClientFrame::parse(&frame.finish(), Dialect::V1) {
                    Ok(f) => f,
                    Err(e) => return refused_body(&e),
                };
                let Some(member) = self.site_member("Site", &ticket) else {
                    return json_error(503, "unavailable", "the room's storage is unavailable");
                };
                match self.act(&member, frame)? {
                    Ok(replies) => answer(&replies, |_| false, status),
                    Err(refusal) => Ok(refusal),
                }
            }
            (Method::Get, []) => self.overview(),
            (Method::Delete, []) => self.erase(&ticket).await,
            (Method::Get, ["users", sub, "messages"]) => {
                let Some(sub) = user_of(sub) else {
                    return json_error(400, "bad_request", "bad user id");
                };
                let exported = self.inner.borrow_mut().as_mut().ok().map(|i| {
                    let author = format!("u:{sub}");
                    let mut messages = i.store.messages_by(&author)?;
                    for m in &mut messages {
                        i.core.sign(m, now_ms());
                    }
                    // The reports they made are theirs too (never those
                    // made about them: that would name the reporters).
                    let reports = i.store.reports_made(&author)?;
                    Ok::<_, protocol::room::StoreError>((messages, reports))
                });
                match exported {
                    Some(Ok((messages, reports))) => {
                        let list: Vec<Value> = messages
                            .into_iter()
                            .map(|m| event_json(&RoomEvent::Message(m)))
                            .collect();
                        let reports: Vec<Value> = reports
                            .iter()
                            .filter_map(|r| serde_json::from_str(&r.export_json()).ok())
                            .collect();
                        json_response(200, &json!({ "messages": list, "reports": reports }))
                    }
                    _ => json_error(503, "unavailable", "the room's storage is unavailable"),
                }
            }
            (Method::Delete, ["users", sub]) => {
                let Some(sub) = user_of(sub) else {
                    return json_error(400, "bad_request", "bad user id");
                };
                let result = {
                    let mut inner = self.inner.borrow_mut();
                    let Ok(inner) = inner.as_mut() else {
                        return json_error(503, "unavailable", "the room's storage is unavailable");
                    };
                    inner
                        .core
                        .erase_user(&sub, ticket.limits, now_ms(), &mut inner.store)
                };
                match result {
                    Ok((erased, outputs)) => {
                        self.carry_out(super::Origin::Api, outputs);
                        json_response(
                            200,
                            &json!({
                                "erased": erased.messages,
                                "notices": erased.notices,
                                "reactions": erased.reactions,
                            }),
                        )
                    }
                    Err(e) => {
                        console_error!("room: erase failed: {e}");
                        json_error(503, "unavailable", "the room could not do that; try again")
                    }
                }
            }
            _ => json_error(404, "not_found", "no such room API path"),
        }
    }

    /// `GET reports`: the open reports, newest first, each with the
    /// message as it is now and its open count; `before` (a report's id)
    /// pages back, as `before` does for messages.
    fn reports(&self, before: Option<&str>, limit: Option<&str>) -> Result<Response> {
        let before = match before.map(|b| b.parse::<u64>().ok().filter(|n| *n <= MAX_SEQ)) {
            Some(None) => return json_error(400, "bad_request", "before is a report's id"),
            b => b.flatten(),
        };
        let limit = match limit.map(|l| l.parse::<usize>().ok().filter(|n| (1..=100).contains(n))) {
            Some(None) => return json_error(400, "bad_request", "limit is 1-100"),
            l => l.flatten().unwrap_or(50),
        };
        let page = self.inner.borrow_mut().as_mut().ok().map(|i| {
            let (reports, more) = i.store.reports(before, limit)?;
            let mut items = Vec::with_capacity(reports.len());
            for r in &reports {
                let Some((mut message, _)) = i.store.message(r.target)? else {
                    continue;
                };
                i.core.sign(&mut message, now_ms());
                let open = i.store.report_counts(r.target)?;
                items.push(r.site_json(&encode_event(&RoomEvent::Message(message)), &open));
            }
            Ok::<_, protocol::room::StoreError>((items, more, reports.last().map(|r| r.id)))
        });
        match page {
            Some(Ok((items, more, last))) => {
                let mut body = format!(r#"{{"reports":[{}],"more":{more}"#, items.join(","));
                if let (true, Some(next)) = (more, last) {
                    body.push_str(&format!(r#","next":{next}"#));
                }
                body.push('}');
                crate::http::json_text(200, body)
            }
            _ => json_error(503, "unavailable", "the room's storage is unavailable"),
        }
    }

    /// The room at a glance: who is online, and its moderation (lock, slow
    /// mode, pin, mutes and bans in force; `RoomCore::overview`).
    fn overview(&self) -> Result<Response> {
        let online = fanout::online(self.state.as_raw(), None) + self.shards.online();
        let overview = self
            .inner
            .borrow_mut()
            .as_mut()
            .ok()
            .map(|i| i.core.overview(now_ms(), &mut i.store));
        let Some(Ok(o)) = overview else {
            return json_error(503, "unavailable", "the room's storage is unavailable");
        };
        let sanctions = |list: &[protocol::room::overview::Sanction]| -> Vec<Value> {
            list.iter()
                .map(|s| json!({ "sender": s.sender, "until": s.until }))
                .collect()
        };
        let pinned = o.pinned.map(|m| {
            serde_json::from_str::<Value>(&encode_event(&RoomEvent::Message(m)))
                .unwrap_or(Value::Null)
        });
        json_response(
            200,
            &json!({
                "online": online,
                "locked": o.locked,
                "slowMode": o.slow_mode,
                "pinned": pinned,
                "muted": sanctions(&o.muted),
                "banned": sanctions(&o.banned),
            }),
        )
    }

    /// Erase the room: disconnect everyone (close 4010, final), delete every
    /// record, and leave the site's room list. The object starts over empty.
    async fn erase(&self, ticket: &ApiTicket) -> Result<Response> {
        let error = ProtocolError::new(ErrorCode::RoomErased, "this room was erased");
        let frame = ServerFrame::Error(error).encode();
        fanout::close_all(
            self.state.as_raw(),
            &frame,
            close_code::ERASED,
            "room erased",
        );
        // Members on fan-out objects too (a big room).
        self.shards
            .push_all(&self.state, |_| protocol::shard::Push::CloseAll {
                frame: frame.clone(),
                code: close_code::ERASED,
                reason: "room erased".into(),
            });
        // Forget the uploads first: a claim arriving meanwhile finds none.
        let identity = self.identity.borrow().clone();
        self.state.storage().delete_all().await?;
        *self.inner.borrow_mut() = open(&self.state);
        *self.identity.borrow_mut() = None;
        // Nothing is owed to the room list of a room it no longer lists.
        self.report_owed.set(0);
        if let Some(identity) = identity {
            self.delete_all_files(&identity).await;
        }
        super::site_link::unlist(&self.env, &ticket.identity(), false).await;
        json_response(200, &json!({ "deleted": ticket.place.room }))
    }
}

/// A parsed JSON value written back as JSON text.
fn to_json(v: &Json) -> String {
    match v {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Int(n) => n.to_string(),
        Json::OtherNumber(text) => text.clone(),
        Json::Str(s) => {
            let mut out = String::new();
            json::write_str(&mut out, s);
            out
        }
        Json::Arr(items) => format!(
            "[{}]",
            items.iter().map(to_json).collect::<Vec<_>>().join(",")
        ),
        Json::Obj(fields) => fields
            .iter()
            .fold(json::ObjectWriter::new(), |w, (k, v)| w.raw(k, &to_json(v)))
            .finish(),
    }
}
