//! JSON for a header value: the Worker passes tickets and internal requests
//! to Durable Objects in headers, which are byte strings.

use serde::Serialize;

/// A ticket (or any internal request's JSON: a sharded join, an upload's
/// claim) as a header value, with every non-ASCII character escaped.
/// Header values are byte strings, and a profile of joins (taken through the
/// inspector) showed setting one with the default reaction emoji in it at
/// 11% of workerd's CPU; escaped, it no longer showed.
pub fn header_value<T: Serialize>(ticket: &T) -> serde_json::Result<String> {
    let json = serde_json::to_string(ticket)?;
    if json.is_ascii() {
        return Ok(json);
    }
    let mut out = String::with_capacity(json.len() + 32);
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            // Non-ASCII only appears inside JSON strings, where \u escapes are valid.
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::room::RoomPolicy;

    #[test]
    fn a_ticket_header_is_ascii_and_reads_back_the_same() {
        let policy = RoomPolicy {
            words: vec!["naïve".into(), "𝔘nicode".into()],
            ..RoomPolicy::default()
        };
        let value = header_value(&policy).expect("serializes");
        assert!(value.is_ascii(), "{value}");
        let back: RoomPolicy = serde_json::from_str(&value).expect("parses");
        assert_eq!(back.emoji, RoomPolicy::default().emoji);
        assert_eq!(back.words, policy.words);
    }
}
