//! A client's network address as the per-address defences see it (rate
//! limits, connection caps, bans and mutes of anonymous senders). An IPv4
//! address is one subscriber; an IPv6 subscriber holds a whole /64 (2^64
//! addresses), so IPv6 addresses count by their /64, and within their /48
//! (a subscriber's whole allocation, often) by [`network_of`].

use std::net::{IpAddr, Ipv6Addr};

/// The key of `raw` (`CF-Connecting-IP`): an IPv4 address as it is (also
/// when written IPv4-mapped, `::ffff:192.0.2.1`), an IPv6 address as its
/// /64 (`2001:db8:5:7::/64`). Anything else, which Cloudflare does not send,
/// stays as it came.
pub fn address_key(raw: &str) -> String {
    match raw.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let prefix = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{prefix}/64")
            }
        },
        Err(_) => raw.to_owned(),
    }
}

/// The network an address key (from [`address_key`]) belongs to, when it is
/// wider than the address: an IPv6 /64's /48 (`2001:db8:5::/48`). A
/// subscriber is often given a /56 or a /48, so one of them can come from
/// hundreds of /64s; the network keeps them within a few addresses' worth.
/// None for IPv4 (the address is the network).
pub fn network_of(key: &str) -> Option<String> {
    let prefix = key.strip_suffix("/64")?.parse::<Ipv6Addr>().ok()?;
    let s = prefix.segments();
    Some(format!(
        "{}/48",
        Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0)
    ))
}

/// How many addresses' worth a network (see [`network_of`]) may take of
/// the per-address limits (messages, history, typing, receipts, reports,
/// joins): enough for strangers who share a carrier's /48 to chat as
/// usual, far below the hundreds of /64s one subscriber can have.
pub const NETWORK_FACTOR: u32 = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_slash_64_belongs_to_its_slash_48_an_ipv4_address_to_no_wider_network() {
        let net = |raw| network_of(&address_key(raw));
        assert_eq!(net("2001:db8:5:7::1").as_deref(), Some("2001:db8:5::/48"));
        assert_eq!(net("2001:db8:5:ff07::1"), net("2001:db8:5:7::1"));
        assert_ne!(net("2001:db8:6:7::1"), net("2001:db8:5:7::1"));
        assert_eq!(net("198.51.100.7"), None);
        assert_eq!(net("::ffff:198.51.100.7"), None);
        assert_eq!(network_of("not an address"), None);
    }

    #[test]
    fn an_ipv6_subscriber_is_one_key_an_ipv4_address_is_itself() {
        assert_eq!(address_key("2001:db8:5:7::1"), "2001:db8:5:7::/64");
        assert_eq!(address_key("2001:db8:5:7:ffff:1:2:3"), "2001:db8:5:7::/64");
        assert_eq!(address_key("2001:db8:5:8::1"), "2001:db8:5:8::/64");
        assert_eq!(address_key("198.51.100.7"), "198.51.100.7");
        assert_eq!(address_key("::ffff:198.51.100.7"), "198.51.100.7");
        assert_eq!(address_key("not an address"), "not an address");
    }
}
