//! Webhooks: which URLs a site may register, and how deliveries are signed.
//!
//! A webhook URL must be `https` and name a public host: no IP literal in a
//! private, loopback, link-local, shared or reserved range, no `localhost`,
//! no single-label or `.local`/`.internal` name. Checked when the webhook is
//! saved, so the server never sends anything into the operator's network.
//! (A development server may also allow `http://127.0.0.1:<port>`.)
//!
//! Each delivery is signed like Stripe's: `t=<unix seconds>,v1=<hex
//! HMAC-SHA256 of "<t>.<body>">` with the webhook's secret, so a receiver
//! checks both who sent it and that it is fresh.
//!
//! Deliveries go out per lane, one webhook's events of one room
//! ([`Dispatcher`]): in order within the lane, a delivery being retried
//! holding back only the later ones of its lane ([`outcome`]), lanes sent
//! at once within a bound per webhook and in all.

use std::net::{Ipv4Addr, Ipv6Addr};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The events a webhook may subscribe to.
pub const EVENTS: [&str; 6] = [
    "message.created",
    "message.updated",
    "message.deleted",
    "moderation",
    "report",
    "storage.full",
];
/// Longest webhook URL.
pub const MAX_URL_BYTES: usize = 2048;

/// Why a webhook URL is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError(pub &'static str);

impl std::fmt::Display for UrlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for UrlError {}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240)
}

/// The IPv4 address an IPv6 address carries, in every form a gateway or
/// stack may translate back: mapped (`::ffff:a.b.c.d`), compatible
/// (`::a.b.c.d`), translated (`::ffff:0:a.b.c.d`), NAT64 (`64:ff9b::/96`)
/// and 6to4 (`2002:aabb:ccdd::/48`). (The rest of 64:ff9b::/32, the local-use
/// NAT64 prefix among it, is refused outright by `public_v6`.)
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => Some(low(hi, lo)),
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 => Some(low(hi, lo)),
        [0, 0, 0, 0, 0xffff, 0, hi, lo] => Some(low(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(low(hi, lo)),
        [0x2002, hi, lo, ..] => Some(low(hi, lo)),
        _ => None,
    }
}

fn public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return public_v4(v4);
    }
    let [first, second, ..] = ip.segments();
    // Only global unicast (2000::/3) is on the Internet (loopback, unique
    // and link local, multicast, NAT64's local-use prefix all lie outside);
    // of it, the IANA special-purpose block 2001::/23 (Teredo, benchmarking,
    // ORCHID) and the documentation prefixes are no place for a receiver.
    (first & 0xe000) == 0x2000
        && !(first == 0x2001 && second < 0x0200)
        && !(first == 0x2001 && second == 0x0db8)
        && !(first == 0x3fff && second < 0x1000)
}

/// Check a webhook URL; `allow_loopback_http` admits `http://127.0.0.1:<port>`
/// (development only).
pub fn check_url(url: &str, allow_loopback_http: bool) -> Result<(), UrlError> {
    if url.len() > MAX_URL_BYTES || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UrlError("the URL is too long or has spaces"));
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or(UrlError("the URL needs a scheme"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(UrlError("the URL may not carry credentials"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or(UrlError("bad IPv6 address"))?;
        (h, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if port.is_some_and(|p| p.parse::<u16>().map_or(true, |n| n == 0)) {
        return Err(UrlError("bad port"));
    }
    let host = host.to_ascii_lowercase();
    if allow_loopback_http && scheme == "http" && host == "127.0.0.1" && port.is_some() {
        return Ok(());
    }
    if scheme != "https" {
        return Err(UrlError("webhooks must use https"));
    }
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return if public_v4(v4) {
            Ok(())
        } else {
            Err(UrlError("the address is not public"))
        };
    }
    if let Ok(v6) = host.parse::<Ipv6Addr>() {
        return if public_v6(v6) {
            Ok(())
        } else {
            Err(UrlError("the address is not public"))
        };
    }
    let valid = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !host.starts_with('.')
        && !host.ends_with('.');
    if !valid {
        return Err(UrlError("bad host name"));
    }
    let internal = host == "localhost"
        || !host.contains('.')
        || [
            ".localhost", ".local", ".localdomain", ".internal", ".lan", ".home", ".corp",
            ".intranet", ".arpa", ".svc",
        ]
        .iter()
        .any(|s| host.ends_with(s))
        // Numeric-looking names some resolvers read as addresses (0x7f.1, 127.1):
        // no real top-level domain is a number.
        || host.rsplit('.').next().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        || host.split('.').any(|label| label.starts_with("0x"));
    if internal {
        return Err(UrlError("the host is not public"));
    }
    Ok(())
}

/// The `Hello-Chat-Signature` header for `body` sent at `unix_secs`.
pub fn signature(secret: &[u8], unix_secs: u64, body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(unix_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={unix_secs},v1={hex}")
}

/// The wait before delivery attempt `attempt + 1`: one second, doubling,
/// at most 30 minutes.
pub fn backoff_ms(attempt: u32) -> u64 {
    (1000u64 << attempt.min(20)).min(30 * 60 * 1000)
}

/// How long a delivery is retried before it is given up.
pub const GIVE_UP_AFTER_MS: u64 = 72 * 3600 * 1000;

/// What became of one delivery attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver answered 2xx: done.
    Delivered,
    /// Try again at this time (ms); the lane waits until then.
    Retry { at: u64 },
    /// Retried for [`GIVE_UP_AFTER_MS`]: given up, the lane moves on.
    Failed,
}

/// The outcome of attempt number `attempts` (1 for the first) of a
/// delivery queued at `created_at`, answered with `status` (0: no answer)
/// at `now`.
pub fn outcome(status: u16, attempts: u32, created_at: u64, now: u64) -> Outcome {
    if (200..300).contains(&status) {
        Outcome::Delivered
    } else if now.saturating_sub(created_at) > GIVE_UP_AFTER_MS {
        Outcome::Failed
    } else {
        Outcome::Retry {
            at: now + backoff_ms(attempts.saturating_sub(1)),
        }
    }
}

/// A lane: the deliveries of one webhook for one room. They go out in
/// order, one at a time, and one being retried holds back the later ones of
/// its lane only: other rooms, and other webhooks, keep flowing.
pub type Lane = (String, String);

/// The oldest pending delivery of a lane (`hook`, `room`), due at `next_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneHead {
    pub hook: String,
    pub room: String,
    pub next_at: u64,
}

/// Deliveries in flight to one webhook at most (lanes sent at once): a
/// receiver that hangs holds this many of the slots, never all of them.
pub const PER_HOOK: usize = 2;
/// Deliveries in flight at most (a Worker keeps 6 connections open at once).
pub const IN_FLIGHT: usize = 6;

/// What to do now: the lanes to start, and when a lane not started is due.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub start: Vec<Lane>,
    /// The earliest time a lane in backoff is due (none started or waiting
    /// for a slot is counted: a finished delivery plans again).
    pub wake_at: Option<u64>,
}

/// Which lanes are sent to now: the sans-IO half of the webhook queue's
/// delivery run. Fed the lanes' heads, it starts those that are due and not
/// already in flight, within [`PER_HOOK`] and [`IN_FLIGHT`], taking the
/// webhooks in turn (the one whose lane waited longest first) so one with
/// many rooms does not take every slot.
#[derive(Debug, Default)]
pub struct Dispatcher {
    in_flight: Vec<Lane>,
}

impl Dispatcher {
    pub fn new() -> Self {
        Dispatcher::default()
    }

    /// Lanes in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Plan with the current `heads` at `now`; the lanes in `start` count as
    /// in flight until [`Dispatcher::finished`]. With `accept` false (the
    /// run is winding down) nothing new starts.
    pub fn plan(&mut self, mut heads: Vec<LaneHead>, now: u64, accept: bool) -> Plan {
        let mut plan = Plan::default();
        heads.retain(|h| {
            !self
                .in_flight
                .iter()
                .any(|(hook, room)| *hook == h.hook && *room == h.room)
        });
        for h in heads.iter().filter(|h| h.next_at > now) {
            plan.wake_at = Some(plan.wake_at.map_or(h.next_at, |w| w.min(h.next_at)));
        }
        if !accept {
            return plan;
        }
        heads.retain(|h| h.next_at <= now);
        // Oldest due first; the webhooks in turn, in the order of their
        // oldest due lane.
        heads.sort_by(|a, b| (a.next_at, &a.hook, &a.room).cmp(&(b.next_at, &b.hook, &b.room)));
        let mut hooks: Vec<&str> = Vec::new();
        for h in &heads {
            if !hooks.contains(&h.hook.as_str()) {
                hooks.push(&h.hook);
            }
        }
        let mut taken = vec![false; heads.len()];
        loop {
            let mut progress = false;
            for hook in &hooks {
                if self.in_flight.len() >= IN_FLIGHT {
                    return plan;
                }
                let busy = self.in_flight.iter().filter(|(h, _)| h == hook).count();
                if busy >= PER_HOOK {
                    continue;
                }
                let next = heads
                    .iter()
                    .enumerate()
                    .find(|(i, h)| !taken[*i] && h.hook == *hook);
                if let Some((i, h)) = next {
                    taken[i] = true;
                    let lane = (h.hook.clone(), h.room.clone());
                    self.in_flight.push(lane.clone());
                    plan.start.push(lane);
                    progress = true;
                }
            }
            if !progress {
                return plan;
            }
        }
    }

    /// A lane's delivery (or run of deliveries) is over.
    pub fn finished(&mut self, hook: &str, room: &str) {
        self.in_flight.retain(|(h, r)| !(h == hook && r == room));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_https_urls_are_accepted() {
        for ok in [
            "https://hooks.example.com/in",
            "https://8.8.8.8/x",
            "https://[2606:4700::1111]/",
            "https://[64:ff9b::808:808]/",
            "https://[2002:808:808::1]/",
            "https://a.b.c:8443/p?q=1",
        ] {
            assert_eq!(check_url(ok, false), Ok(()), "{ok}");
        }
        for bad in [
            "http://hooks.example.com/in",
            "ftp://x.com",
            "https://localhost/x",
            "https://127.0.0.1/x",
            "https://10.1.2.3/",
            "https://192.168.0.1/",
            "https://172.16.5.4/",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::127.0.0.1]/",
            "https://[::a9fe:a9fe]/",
            "https://[64:ff9b::7f00:1]/",
            "https://[64:ff9b::a9fe:a9fe]/",
            "https://[64:ff9b:1::a00:1]/",
            "https://[64:ff9b:1:a00:1::]/",
            "https://[2002:7f00:1::]/",
            "https://[2002:a00:1::1]/",
            "https://[::ffff:0:7f00:1]/",
            "https://[fec0::1]/",
            "https://[::2]/",
            "https://[100::1]/",
            "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
            "https://[2001:10::1]/",
            "https://[3fff::1]/",
            "https://[2001:db8::1]/",
            "https://localhost.localdomain/",
            "https://router.home.arpa/",
            "https://kubernetes.default.svc/",
            "https://intranet/",
            "https://db.internal/",
            "https://printer.local/",
            "https://user:pw@example.com/",
            "https://2130706433/",
            "https://0x7f.1/",
            "https://example.com:0/",
            "https://exa mple.com/",
            "not a url",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad}");
        }
        assert_eq!(check_url("http://127.0.0.1:9000/hook", true), Ok(()));
        assert!(check_url("http://127.0.0.1:9000/hook", false).is_err());
        assert!(check_url("http://10.0.0.1:9000/hook", true).is_err());
    }

    #[test]
    fn signatures_follow_the_documented_scheme() {
        // The same HMAC Node computes: createHmac('sha256', 'whsec').update('1700000000.{"a":1}').digest('hex').
        let sig = signature(b"whsec", 1_700_000_000, r#"{"a":1}"#);
        assert!(sig.starts_with("t=1700000000,v1="));
        assert_eq!(sig.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(sig, signature(b"other", 1_700_000_000, r#"{"a":1}"#));
        assert_eq!(backoff_ms(0), 1000);
        assert_eq!(backoff_ms(3), 8000);
        assert_eq!(backoff_ms(40), 30 * 60 * 1000);
    }

    fn head(hook: &str, room: &str, next_at: u64) -> LaneHead {
        LaneHead {
            hook: hook.into(),
            room: room.into(),
            next_at,
        }
    }

    fn lane(hook: &str, room: &str) -> Lane {
        (hook.into(), room.into())
    }

    #[test]
    fn a_room_in_backoff_holds_back_only_its_own_lane() {
        let mut d = Dispatcher::new();
        // "poison" was refused and waits until 5000; the other rooms are due.
        let heads = vec![
            head("main", "poison", 5000),
            head("main", "a", 100),
            head("main", "b", 200),
        ];
        let plan = d.plan(heads, 1000, true);
        assert_eq!(plan.start, vec![lane("main", "a"), lane("main", "b")]);
        assert_eq!(plan.wake_at, Some(5000));
        // The poison room's lane is due again once its backoff is over.
        d.finished("main", "a");
        d.finished("main", "b");
        let plan = d.plan(vec![head("main", "poison", 5000)], 5000, true);
        assert_eq!(plan.start, vec![lane("main", "poison")]);
    }

    #[test]
    fn a_lane_in_flight_is_not_started_twice() {
        let mut d = Dispatcher::new();
        assert_eq!(d.plan(vec![head("h", "r", 0)], 10, true).start.len(), 1);
        let again = d.plan(vec![head("h", "r", 0)], 20, true);
        assert!(again.start.is_empty());
        assert_eq!(again.wake_at, None, "a lane in flight is not waited for");
        d.finished("h", "r");
        assert_eq!(
            d.plan(vec![head("h", "r", 0)], 30, true).start,
            vec![lane("h", "r")]
        );
    }

    #[test]
    fn a_webhook_with_many_rooms_takes_at_most_its_share_of_the_slots() {
        let mut d = Dispatcher::new();
        let mut heads: Vec<LaneHead> = (0..20).map(|i| head("busy", &format!("r{i}"), i)).collect();
        heads.push(head("other", "x", 50));
        heads.push(head("third", "y", 60));
        let plan = d.plan(heads, 100, true);
        let per = |h: &str| plan.start.iter().filter(|(hook, _)| hook == h).count();
        assert_eq!(per("busy"), PER_HOOK);
        assert_eq!(per("other"), 1);
        assert_eq!(per("third"), 1);
        assert!(plan.start.len() <= IN_FLIGHT);
        // The busy webhook's lanes go oldest first.
        assert_eq!(plan.start[0], lane("busy", "r0"));
        // While the busy webhook's receiver hangs, another webhook's new
        // lane still gets a slot.
        let plan = d.plan(
            vec![head("busy", "r5", 0), head("fresh", "z", 99)],
            100,
            true,
        );
        assert_eq!(plan.start, vec![lane("fresh", "z")]);
    }

    #[test]
    fn never_more_than_the_bound_in_flight() {
        let mut d = Dispatcher::new();
        let heads: Vec<LaneHead> = (0..10).map(|i| head(&format!("h{i}"), "r", 0)).collect();
        let plan = d.plan(heads.clone(), 1, true);
        assert_eq!(plan.start.len(), IN_FLIGHT);
        assert_eq!(d.in_flight(), IN_FLIGHT);
        assert!(d.plan(heads.clone(), 2, true).start.is_empty());
        d.finished("h0", "r");
        let plan = d.plan(heads, 3, true);
        assert_eq!(plan.start.len(), 1, "one slot freed, one started");
    }

    #[test]
    fn winding_down_starts_nothing_but_still_says_when_to_come_back() {
        let mut d = Dispatcher::new();
        let plan = d.plan(vec![head("h", "a", 0), head("h", "b", 900)], 100, false);
        assert!(plan.start.is_empty());
        assert_eq!(plan.wake_at, Some(900));
    }

    #[test]
    fn outcomes_follow_the_documented_retry_rules() {
        assert_eq!(outcome(204, 1, 0, 10), Outcome::Delivered);
        assert_eq!(outcome(500, 1, 0, 10), Outcome::Retry { at: 1010 });
        assert_eq!(outcome(0, 4, 0, 10), Outcome::Retry { at: 8010 });
        assert_eq!(
            outcome(302, 30, 0, 10),
            Outcome::Retry {
                at: 10 + 30 * 60 * 1000
            }
        );
        assert_eq!(outcome(500, 9, 0, GIVE_UP_AFTER_MS + 1), Outcome::Failed);
        assert_eq!(outcome(200, 9, 0, GIVE_UP_AFTER_MS + 1), Outcome::Delivered);
    }
}
