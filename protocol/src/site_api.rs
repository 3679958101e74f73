//! The site API's request bodies that become a member's frames:
//! `POST …/messages` (a `send`) and `POST …/moderation` (a `moderate`).
//!
//! The room builds the frame from the body's fields, so the frame parser
//! checks their values. The field names are checked here, and strictly: a
//! frame's unknown fields are ignored (a newer widget may send more than an
//! older room knows), but a site's server is written once against the docs,
//! and a misspelt field silently dropped changes what the call does. A mute
//! with `"second": 600` for `"seconds"` would be a mute for good; a post with
//! `"replyto"` would go out as no reply at all.

use crate::json::Json;
use crate::text::{concat, first_chars, join};

/// What `POST …/rooms/{room}/messages` takes.
pub const MESSAGE_FIELDS: &[&str] = &["name", "message", "id", "replyTo"];

/// What `POST …/rooms/{room}/moderation` takes (each action reads the ones
/// it needs; docs/api.md).
pub const MODERATION_FIELDS: &[&str] = &["action", "target", "sender", "seconds", "reason"];

/// Longest field name quoted back in an error.
const QUOTED: usize = 64;

/// Whether a body of `fields` names only fields it takes (`allowed`); if not,
/// why, naming the first one it does not take.
pub fn check_fields(fields: &[(String, Json)], allowed: &[&str]) -> Result<(), String> {
    match fields.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        None => Ok(()),
        Some((k, _)) => Err(concat(&[
            "unknown field \"",
            first_chars(k, QUOTED),
            "\": this body takes ",
            &join(allowed, ", "),
        ])),
    }
}

/// `GET …/rooms`: a page of at most `limit` rooms after `cursor`, and
/// whether a person is looking at it (`watch`).
#[derive(Debug, PartialEq, Eq)]
pub struct RoomListQuery {
    pub limit: u32,
    pub cursor: String,
    pub watch: bool,
}

/// Read `GET …/rooms`'s query (each parameter's first value), or why not.
/// A cursor is a `next`, a room id ('' as none); the room list keeps it in
/// memory while its page is watched, so nothing else is taken.
pub fn room_list_query(
    limit: Option<&str>,
    cursor: Option<&str>,
    watch: Option<&str>,
) -> Result<RoomListQuery, &'static str> {
    let limit = match limit.map(str::parse::<u32>) {
        None => 50,
        Some(Ok(l)) if (1..=100).contains(&l) => l,
        Some(_) => return Err("limit is 1-100"),
    };
    let cursor = cursor.unwrap_or_default();
    if !cursor.is_empty() && !crate::validate::is_room_id(cursor) {
        return Err("cursor is the next of a previous page (a room id)");
    }
    let watch = match watch {
        None => false,
        Some("1") => true,
        Some(_) => return Err("watch is 1 (a person looks at this page) or absent"),
    };
    Ok(RoomListQuery {
        limit,
        cursor: cursor.to_owned(),
        watch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn fields(body: &str) -> Vec<(String, Json)> {
        match json::parse(body) {
            Ok(Json::Obj(f)) => f,
            other => panic!("not an object: {other:?}"),
        }
    }

    #[test]
    fn room_list_query_takes_only_what_it_documents() {
        let q = room_list_query(None, None, None).unwrap();
        assert_eq!((q.limit, q.cursor.as_str(), q.watch), (50, "", false));
        let q = room_list_query(Some("100"), Some("lobby_2-b"), Some("1")).unwrap();
        assert_eq!(
            (q.limit, q.cursor.as_str(), q.watch),
            (100, "lobby_2-b", true)
        );
        assert_eq!(room_list_query(None, Some(""), None).unwrap().cursor, "");
        for limit in ["0", "101", "", "-1", "x", "99999999999"] {
            assert!(room_list_query(Some(limit), None, None).is_err(), "{limit}");
        }
        let long = "a".repeat(65);
        for cursor in [long.as_str(), "a/b", "a b", "\0", "\u{e9}t\u{e9}"] {
            assert!(
                room_list_query(None, Some(cursor), None).is_err(),
                "{cursor}"
            );
        }
        for watch in ["", "0", "true", "yes", "11", " 1"] {
            assert!(room_list_query(None, None, Some(watch)).is_err(), "{watch}");
        }
    }

    #[test]
    fn documented_fields_pass() {
        let body = r#"{"action":"mute","sender":"k","seconds":600,"reason":"r","target":1}"#;
        assert_eq!(check_fields(&fields(body), MODERATION_FIELDS), Ok(()));
        let body = r#"{"name":"Bot","message":"hi","id":"b1","replyTo":3}"#;
        assert_eq!(check_fields(&fields(body), MESSAGE_FIELDS), Ok(()));
        assert_eq!(check_fields(&[], MESSAGE_FIELDS), Ok(()));
    }

    #[test]
    fn a_misspelt_field_is_named() {
        let body = r#"{"action":"mute","sender":"k","second":600}"#;
        let why = check_fields(&fields(body), MODERATION_FIELDS).unwrap_err();
        assert_eq!(
            why,
            "unknown field \"second\": this body takes action, target, sender, seconds, reason"
        );
        // Names are case-sensitive, as in every frame.
        let body = r#"{"name":"Bot","message":"x","replyto":1}"#;
        assert!(check_fields(&fields(body), MESSAGE_FIELDS)
            .unwrap_err()
            .starts_with("unknown field \"replyto\""));
    }

    #[test]
    fn a_frame_only_field_is_not_a_body_field() {
        // `type` and a moderation `id` belong to the frame the room builds.
        for body in [
            r#"{"type":"moderate","action":"lock"}"#,
            r#"{"action":"lock","id":"x"}"#,
        ] {
            assert!(
                check_fields(&fields(body), MODERATION_FIELDS).is_err(),
                "{body}"
            );
        }
    }

    #[test]
    fn a_long_name_is_quoted_short() {
        let name = "é".repeat(1000);
        let body = concat(&["{\"", &name, "\":1}"]);
        let why = check_fields(&fields(&body), MESSAGE_FIELDS).unwrap_err();
        assert!(why.contains(&"é".repeat(QUOTED)));
        assert!(!why.contains(&"é".repeat(QUOTED + 1)));
    }
}
