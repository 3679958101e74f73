//! Who sent a message, in three forms:
//!
//! - the **author** (`u:<sub>` or `a:<id>`): the room's internal scope for
//!   idempotent retries. Never leaves the room.
//! - the **sender** key: opaque, stable per author in this room, shown on
//!   every message so clients (and moderators) can tell senders apart without
//!   learning who they are. An HMAC of the author under the room's key, so it
//!   cannot be linked across rooms or turned back into a `sub`.
//! - the anonymous **sender key credential** (`<id>.<mac>`): issued in
//!   `welcome` to an anonymous connection and presented again when it
//!   reconnects, so its retries and its earlier messages stay its own. The
//!   MAC makes it unforgeable: nobody can claim another visitor's author by
//!   guessing, and ids seen in `message` frames are of no use to them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Bytes of randomness in an anonymous author id.
const ID_BYTES: usize = 16;
/// Bytes of the MAC kept in a credential (128 bits).
const MAC_BYTES: usize = 16;
/// Bytes of the MAC kept in a public sender key (72 bits, 12 characters).
const SENDER_BYTES: usize = 9;

/// The room's secret key, created once per room and kept in its storage.
#[derive(Clone)]
pub struct RoomKey([u8; 32]);

impl std::fmt::Debug for RoomKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RoomKey(..)")
    }
}

impl RoomKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        RoomKey(bytes)
    }

    fn mac(&self, label: &str, data: &str) -> Vec<u8> {
        // HMAC accepts keys of any length: this cannot fail.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            return Vec::new();
        };
        mac.update(label.as_bytes());
        mac.update(&[0]);
        mac.update(data.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// 16 bytes no one without the room's key can predict, the same for
    /// the same `data` (an upload's object key, from who asked for what).
    pub fn derive(&self, label: &str, data: &str) -> [u8; 16] {
        let mut out = [0u8; 16];
        let mac = self.mac(label, data);
        let n = out.len().min(mac.len());
        out[..n].copy_from_slice(&mac[..n]);
        out
    }

    /// A keyed hash of a network address: what bans and messages keep, so
    /// that a ban follows an anonymous sender who left without the room
    /// keeping their address itself.
    pub fn address(&self, address: &str) -> String {
        let mac = self.mac("address", address);
        URL_SAFE_NO_PAD.encode(&mac[..SENDER_BYTES.min(mac.len())])
    }

    /// The public sender key of `author` in this room.
    pub fn sender(&self, author: &str) -> String {
        let mac = self.mac("sender", author);
        URL_SAFE_NO_PAD.encode(&mac[..SENDER_BYTES.min(mac.len())])
    }

    /// A new anonymous author and its credential, from fresh random bytes.
    pub fn issue(&self, random: [u8; ID_BYTES]) -> (String, String) {
        let id = URL_SAFE_NO_PAD.encode(random);
        let mac = self.mac("anonymous", &id);
        let credential = format!(
            "{id}.{}",
            URL_SAFE_NO_PAD.encode(&mac[..MAC_BYTES.min(mac.len())])
        );
        (format!("a:{id}"), credential)
    }

    /// The author a credential stands for, if this room issued it.
    pub fn verify(&self, credential: &str) -> Option<String> {
        let (id, mac) = credential.split_once('.')?;
        if id.len() != 22
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return None;
        }
        let given = URL_SAFE_NO_PAD.decode(mac).ok()?;
        let mut check = Hmac::<Sha256>::new_from_slice(&self.0).ok()?;
        check.update(b"anonymous");
        check.update(&[0]);
        check.update(id.as_bytes());
        // Constant-time comparison of the truncated MAC.
        check.verify_truncated_left(&given).ok()?;
        (given.len() == MAC_BYTES).then(|| format!("a:{id}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_verify_only_in_the_room_that_issued_them() {
        let room = RoomKey::new([7; 32]);
        let (author, credential) = room.issue([1; 16]);
        assert_eq!(room.verify(&credential), Some(author.clone()));
        assert_eq!(
            RoomKey::new([8; 32]).verify(&credential),
            None,
            "another room's key"
        );
        let (id, mac) = credential.split_once('.').unwrap();
        let (other_author, other) = room.issue([2; 16]);
        let (other_id, _) = other.split_once('.').unwrap();
        assert_ne!(author, other_author);
        assert_eq!(
            room.verify(&format!("{other_id}.{mac}")),
            None,
            "a MAC does not move to another id"
        );
        assert_eq!(
            room.verify(&format!("{id}.{}", &mac[..10])),
            None,
            "a shortened MAC is refused"
        );
        for bad in [
            "",
            ".",
            "x.y",
            "a:b",
            &format!("{id}."),
            &format!("{id}.{mac}.x"),
        ] {
            assert_eq!(room.verify(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn sender_keys_are_stable_opaque_and_per_room() {
        let room = RoomKey::new([7; 32]);
        let a = room.sender("u:ada@example.com");
        assert_eq!(a, room.sender("u:ada@example.com"));
        assert_eq!(a.len(), 12);
        assert!(!a.contains("ada"));
        assert_ne!(a, room.sender("u:bo@example.com"));
        assert_ne!(
            a,
            RoomKey::new([8; 32]).sender("u:ada@example.com"),
            "unlinkable across rooms"
        );
    }
}
