//! What a connection opens with: the query string
//! `/ws?room=R&name=N[&site=S][&v=1][&since=SEQ][&token=T][&senderKey=K]`
//! and the WebSocket subprotocols it offers.
//!
//! Credentials (the identity token, the anonymous sender key) are better sent
//! as subprotocols than in the URL, which ends up in request logs: the widget
//! offers `hello-chat.v1, hc-token.<JWT>, hc-key.<sender key>` in
//! `Sec-WebSocket-Protocol`, and the server answers with `hello-chat.v1`.
//! The URL forms stay accepted for other clients.

use crate::client_frame::{Dialect, MAX_SEQ};
use crate::text::concat;
use crate::validate::{clean_name, is_room_id, is_site_id};

#[derive(Debug, Clone, PartialEq)]
pub struct ConnectParams {
    pub room: String,
    /// Cleaned display name ("Anonymous" when none was given).
    pub name: String,
    /// `None` means the deployment's default site.
    pub site: Option<String>,
    pub dialect: Dialect,
    /// Resume after this sequence number instead of receiving the latest page.
    pub since: Option<u64>,
    /// A returning client's read position: the welcome counts the messages
    /// from others after it (`unread`).
    pub read: Option<u64>,
    /// A signed identity (JWT), checked by the worker against the site's secret.
    pub token: Option<String>,
    /// The anonymous sender key the room issued on an earlier connection.
    pub sender_key: Option<String>,
    /// The subprotocol to answer with (`hello-chat.v1`), if the client offered any.
    pub protocol: Option<&'static str>,
    /// `batch=1`: the client reads a JSON array of frames as those frames in
    /// order, so a busy room may send several frames in one message.
    pub batch: bool,
}

/// The subprotocol that says "protocol v1"; the one the server answers with.
pub const PROTOCOL_V1: &str = "hello-chat.v1";
const TOKEN_PREFIX: &str = "hc-token.";
const KEY_PREFIX: &str = "hc-key.";

/// The subprotocols a client offers for `token` and `sender_key`.
pub fn offered_protocols(token: Option<&str>, sender_key: Option<&str>) -> Vec<String> {
    let mut out = vec![PROTOCOL_V1.to_owned()];
    if let Some(t) = token {
        out.push(concat(&[TOKEN_PREFIX, t]));
    }
    if let Some(k) = sender_key {
        out.push(concat(&[KEY_PREFIX, k]));
    }
    out
}

/// Why a connection request was refused before reaching a room (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRequest(pub String);

impl std::fmt::Display for BadRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadRequest {}

impl ConnectParams {
    /// Read decoded query pairs. Unknown parameters are ignored so that
    /// clients may add their own (cache busters, analytics).
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<ConnectParams, BadRequest>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let (mut room, mut name, mut site, mut version, mut since, mut token, mut sender_key) =
            (None, None, None, None, None, None, None);
        let mut read = None;
        let mut batch = false;
        for (key, value) in pairs {
            let value = value.as_ref().to_owned();
            match key.as_ref() {
                "room" => room = Some(value),
                "name" => name = Some(value),
                "site" => site = Some(value),
                "v" => version = Some(value),
                "since" => since = Some(value),
                "read" => read = Some(value),
                "token" => token = Some(value),
                "senderKey" => sender_key = Some(value),
                "batch" => batch = value == "1",
                _ => {}
            }
        }
        let room = room.ok_or_else(|| BadRequest("missing room".into()))?;
        if !is_room_id(&room) {
            return Err(BadRequest(
                "room must be 1-64 characters of A-Z a-z 0-9 _ -".into(),
            ));
        }
        let site = match site {
            Some(s) if s.is_empty() => None,
            Some(s) if !is_site_id(&s) => {
                return Err(BadRequest(
                    "site must be 1-32 characters of a-z 0-9 -".into(),
                ))
            }
            other => other,
        };
        let dialect = match version.as_deref() {
            None => Dialect::Legacy,
            Some("1") => Dialect::V1,
            Some(_) => return Err(BadRequest("unsupported protocol version; use v=1".into())),
        };
        let seq = |value: Option<String>, what: &str| match value {
            None => Ok(None),
            // Digits only (`parse` would take a leading `+`).
            Some(s) => match s.parse::<u64>() {
                Ok(n) if n <= MAX_SEQ && s.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(n)),
                _ => Err(BadRequest(concat(&[
                    what,
                    " must be an integer from 0 to 2^53-1",
                ]))),
            },
        };
        let since = seq(since, "since")?;
        let read = seq(read, "read")?;
        Ok(ConnectParams {
            room,
            name: clean_name(name.as_deref().unwrap_or("")),
            site,
            dialect,
            since,
            read,
            token: token.filter(|t| !t.is_empty()),
            sender_key: sender_key.filter(|k| !k.is_empty()),
            protocol: None,
            batch: batch && dialect == Dialect::V1,
        })
    }

    /// Take what the `Sec-WebSocket-Protocol` header offers: `hello-chat.v1`
    /// selects protocol v1; credentials there win over those in the URL.
    /// Offering anything without `hello-chat.v1` is refused: the server
    /// could not answer with a protocol the client offered (and a browser
    /// fails a connection whose answer names none of its offers).
    pub fn with_protocols(mut self, header: Option<&str>) -> Result<ConnectParams, BadRequest> {
        let Some(header) = header else {
            return Ok(self);
        };
        let mut v1 = false;
        for offer in header.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            if offer == PROTOCOL_V1 {
                v1 = true;
            } else if let Some(t) = offer.strip_prefix(TOKEN_PREFIX) {
                self.token = Some(t.to_owned()).filter(|t| !t.is_empty());
            } else if let Some(k) = offer.strip_prefix(KEY_PREFIX) {
                self.sender_key = Some(k.to_owned()).filter(|k| !k.is_empty());
            }
        }
        if !v1 {
            return Err(BadRequest(format!(
                "offer the {PROTOCOL_V1} subprotocol: it is the only one this server speaks"
            )));
        }
        self.dialect = Dialect::V1;
        self.protocol = Some(PROTOCOL_V1);
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<ConnectParams, BadRequest> {
        ConnectParams::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn batch_is_asked_for_with_batch_1_and_only_in_v1() {
        let parse = |q: &[(&str, &str)]| ConnectParams::from_pairs(q.iter().copied());
        assert!(parse(&[("room", "a"), ("v", "1"), ("batch", "1")]).is_ok_and(|p| p.batch));
        assert!(parse(&[("room", "a"), ("v", "1")]).is_ok_and(|p| !p.batch));
        assert!(parse(&[("room", "a"), ("v", "1"), ("batch", "yes")]).is_ok_and(|p| !p.batch));
        // The workshop's front end reads one frame per message.
        assert!(parse(&[("room", "a"), ("batch", "1")]).is_ok_and(|p| !p.batch));
    }

    #[test]
    fn full_query() {
        let p = parse(&[
            ("room", "lobby"),
            ("name", " Ada "),
            ("site", "acme"),
            ("v", "1"),
            ("since", "41"),
            ("read", "40"),
            ("token", "t"),
        ])
        .unwrap();
        assert_eq!(p.room, "lobby");
        assert_eq!(p.name, "Ada");
        assert_eq!(p.site.as_deref(), Some("acme"));
        assert_eq!(p.dialect, Dialect::V1);
        assert_eq!(p.since, Some(41));
        assert_eq!(p.read, Some(40));
        assert_eq!(p.token.as_deref(), Some("t"));
        for sign in ["+4", " 4", "4 ", "0x4", "4.0"] {
            assert!(
                parse(&[("room", "lobby"), ("since", sign)]).is_err(),
                "{sign}"
            );
        }
        let bad = parse(&[("room", "lobby"), ("read", "-1")]).unwrap_err();
        assert_eq!(bad.0, "read must be an integer from 0 to 2^53-1");
    }

    #[test]
    fn credentials_in_subprotocols_win_over_the_url() {
        let offered = offered_protocols(Some("a.b.c"), Some("k1.m1")).join(", ");
        let p = parse(&[("room", "r"), ("token", "old"), ("senderKey", "old")])
            .unwrap()
            .with_protocols(Some(&offered))
            .unwrap();
        assert_eq!(
            (p.token.as_deref(), p.sender_key.as_deref()),
            (Some("a.b.c"), Some("k1.m1"))
        );
        assert_eq!((p.dialect, p.protocol), (Dialect::V1, Some(PROTOCOL_V1)));
        // The URL forms alone still work (other clients, older widgets).
        let p = parse(&[
            ("room", "r"),
            ("v", "1"),
            ("token", "t"),
            ("senderKey", "k"),
        ])
        .unwrap()
        .with_protocols(None)
        .unwrap();
        assert_eq!(
            (p.token.as_deref(), p.sender_key.as_deref(), p.protocol),
            (Some("t"), Some("k"), None)
        );
        assert!(parse(&[("room", "r")])
            .unwrap()
            .with_protocols(Some("hc-token.x"))
            .is_err());
    }

    #[test]
    fn seed_query_is_legacy_with_defaults() {
        let p = parse(&[("name", ""), ("room", "r")]).unwrap();
        assert_eq!(
            (p.dialect, p.name.as_str(), p.site, p.since),
            (Dialect::Legacy, "Anonymous", None, None)
        );
    }

    #[test]
    fn refusals() {
        for q in [
            vec![],
            vec![("room", "")],
            vec![("room", "../etc")],
            vec![("room", "a/b")],
            vec![("room", "ok"), ("site", "Bad/Site")],
            vec![("room", "ok"), ("v", "2")],
            vec![("room", "ok"), ("since", "-1")],
            vec![("room", "ok"), ("since", "1e9")],
            vec![("room", "ok"), ("since", "99999999999999999999")],
            vec![("room", "ok"), ("since", "9007199254740992")],
        ] {
            assert!(parse(&q).is_err(), "{q:?}");
        }
    }
}
