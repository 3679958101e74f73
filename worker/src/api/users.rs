//! `GET /v1/sites/{site}/users/{sub}/messages` (export) and
//! `DELETE /v1/sites/{site}/users/{sub}` (erase): a verified user's
//! messages (and, in the export, the reports they made) across the site's
//! rooms.
//!
//! Both walk the site's room list a page at a time: a Worker call may make
//! only so many subrequests, so a site with more rooms answers with `next`
//! and the caller goes on with `?after=<next>`. Nothing is reported done that
//! was not: a room that does not answer makes the whole page 503 (with the
//! rooms concerned), and erasing again is harmless.

use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Env, Method, Response, Result};

use super::{room_call, site_object};
use crate::http::{json_error, json_response, method_not_allowed, percent_decode, percent_encode};
use crate::sites::config::Site;

/// Rooms visited per call.
const ROOMS_PER_CALL: usize = 50;

/// One page of the site's room list.
struct RoomPage {
    rooms: Vec<String>,
    next: Option<String>,
}

async fn room_page(env: &Env, site: &Site, after: &str) -> Result<Option<RoomPage>> {
    #[derive(Deserialize)]
    struct Listed {
        room: String,
    }
    #[derive(Deserialize)]
    struct Page {
        rooms: Vec<Listed>,
        next: Option<String>,
    }
    let path = format!(
        "/rooms?limit={ROOMS_PER_CALL}&cursor={}",
        percent_encode(after)
    );
    let mut res = site_object(env, "DIRECTORIES", site, Method::Get, &path, None).await?;
    if res.status_code() != 200 {
        return Ok(None);
    }
    Ok(res.json::<Page>().await.ok().map(|p| RoomPage {
        rooms: p.rooms.into_iter().map(|r| r.room).collect(),
        next: p.next,
    }))
}

/// 503 naming the rooms that did not answer (none: the room list did not).
fn unavailable(failed: &[String]) -> Result<Response> {
    let mut res = json_response(
        503,
        &json!({ "error": "unavailable", "rooms": failed,
                 "message": "part of the site did not answer; call again (erasing twice is harmless)" }),
    )?;
    res.headers_mut().set("retry-after", "1")?;
    Ok(res)
}

pub async fn handle(
    env: &Env,
    site: &Site,
    method: Method,
    sub: &str,
    rest: &[&str],
    after: Option<String>,
) -> Result<Response> {
    let Some(sub) = percent_decode(sub)
        .filter(|s| !s.is_empty() && s.len() <= 256 && !s.chars().any(char::is_control))
    else {
        return json_error(
            400,
            "bad_request",
            "sub is 1-256 bytes (UTF-8), no control characters",
        );
    };
    // As the author the room knows (`u:<sub>`): never a dot segment, which
    // a URL would drop (a sub may be "." or "..").
    let sub_path = percent_encode(&format!("u:{sub}"));
    let (path, export) = match (&method, rest) {
        (Method::Get, ["messages"]) => (format!("/users/{sub_path}/messages"), true),
        (Method::Delete, []) => (format!("/users/{sub_path}"), false),
        (_, ["messages"]) => return method_not_allowed("GET"),
        (_, []) => return method_not_allowed("DELETE"),
        _ => return json_error(404, "not_found", "no such API path"),
    };
    // The room list takes a room id as its cursor, and nothing else.
    let after = after.unwrap_or_default();
    if !after.is_empty() && !protocol::validate::is_room_id(&after) {
        return json_error(
            400,
            "bad_request",
            "after is the next of a previous answer (a room id)",
        );
    }
    let Some(page) = room_page(env, site, &after).await? else {
        return unavailable(&[]);
    };
    let (mut messages, mut reports, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    let (mut erased, mut notices, mut reactions, mut rooms) = (0, 0, 0, 0);
    for room in &page.rooms {
        let answer = match room_call(env, site, room, method.clone(), &path, None).await {
            Ok(mut res) if res.status_code() == 200 => res.json::<Value>().await.ok(),
            _ => None,
        };
        let Some(answer) = answer else {
            failed.push(room.clone());
            continue;
        };
        if export {
            for mut m in answer["messages"].as_array().cloned().unwrap_or_default() {
                m["room"] = json!(room);
                messages.push(m);
            }
            for mut r in answer["reports"].as_array().cloned().unwrap_or_default() {
                r["room"] = json!(room);
                reports.push(r);
            }
        } else {
            let n = answer["erased"].as_u64().unwrap_or(0);
            let k = answer["notices"].as_u64().unwrap_or(0);
            let r = answer["reactions"].as_u64().unwrap_or(0);
            erased += n;
            notices += k;
            reactions += r;
            rooms += u64::from(n > 0 || k > 0 || r > 0);
        }
    }
    if !failed.is_empty() {
        return unavailable(&failed);
    }
    let mut body = if export {
        json!({ "messages": messages, "reports": reports })
    } else {
        json!({ "erased": erased, "notices": notices, "reactions": reactions, "rooms": rooms })
    };
    if let Some(next) = page.next {
        body["next"] = json!(next);
    }
    json_response(200, &body)
}
