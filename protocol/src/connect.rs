//! The query string a connection opens with:
//! `/ws?room=R&name=N[&site=S][&v=1][&since=SEQ][&token=T]`.

use crate::client_frame::{Dialect, MAX_SEQ};
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
    /// A signed identity (JWT), checked by the worker against the site's secret.
    pub token: Option<String>,
}

/// Why a connection request was refused before reaching a room (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRequest(pub String);

impl ConnectParams {
    /// Read decoded query pairs. Unknown parameters are ignored so that
    /// clients may add their own (cache busters, analytics).
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<ConnectParams, BadRequest>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let (mut room, mut name, mut site, mut version, mut since, mut token) =
            (None, None, None, None, None, None);
        for (key, value) in pairs {
            let value = value.as_ref().to_owned();
            match key.as_ref() {
                "room" => room = Some(value),
                "name" => name = Some(value),
                "site" => site = Some(value),
                "v" => version = Some(value),
                "since" => since = Some(value),
                "token" => token = Some(value),
                _ => {}
            }
        }
        let room = room.ok_or_else(|| BadRequest("missing room".into()))?;
        if !is_room_id(&room) {
            return Err(BadRequest("room must be 1-64 characters of A-Z a-z 0-9 _ -".into()));
        }
        let site = match site {
            Some(s) if s.is_empty() => None,
            Some(s) if !is_site_id(&s) => {
                return Err(BadRequest("site must be 1-32 characters of a-z 0-9 -".into()))
            }
            other => other,
        };
        let dialect = match version.as_deref() {
            None => Dialect::Legacy,
            Some("1") => Dialect::V1,
            Some(_) => return Err(BadRequest("unsupported protocol version; use v=1".into())),
        };
        let since = match since {
            None => None,
            Some(s) => match s.parse::<u64>() {
                Ok(n) if n <= MAX_SEQ => Some(n),
                _ => return Err(BadRequest("since must be an integer from 0 to 2^53-1".into())),
            },
        };
        let token = token.filter(|t| !t.is_empty());
        Ok(ConnectParams {
            room,
            name: clean_name(name.as_deref().unwrap_or("")),
            site,
            dialect,
            since,
            token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<ConnectParams, BadRequest> {
        ConnectParams::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn full_query() {
        let p = parse(&[("room", "lobby"), ("name", " Ada "), ("site", "acme"), ("v", "1"), ("since", "41"), ("token", "t")]).unwrap();
        assert_eq!(p.room, "lobby");
        assert_eq!(p.name, "Ada");
        assert_eq!(p.site.as_deref(), Some("acme"));
        assert_eq!(p.dialect, Dialect::V1);
        assert_eq!(p.since, Some(41));
        assert_eq!(p.token.as_deref(), Some("t"));
    }

    #[test]
    fn seed_query_is_legacy_with_defaults() {
        let p = parse(&[("name", ""), ("room", "r")]).unwrap();
        assert_eq!((p.dialect, p.name.as_str(), p.site, p.since), (Dialect::Legacy, "Anonymous", None, None));
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
