//! Files attached to messages, outside the room: the upload ticket the room
//! signs and the Worker checks, the signed URL an object is served by, the
//! real type of a file from its first bytes, and where an object lives.
//!
//! The bytes never pass through the room. The room hands the uploader a
//! ticket (over its socket); the Worker checks it, streams the body into
//! object storage and asks the room to mark the ticket used. Objects are
//! named `<site>/<room hash>/<random>`, so deleting a room or a site is a
//! prefix, and a URL signed for one object names that object only.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{ErrorCode, ProtocolError};
use crate::validate::is_invisible;

/// How long an upload ticket may be used.
pub const TICKET_MS: u64 = 10 * 60 * 1000;
/// A file URL is valid for at least this long, at most twice as long: URLs
/// are signed for a window, so a message sent twice in one window carries
/// the same URL and browsers cache it.
pub const URL_WINDOW_MS: u64 = 12 * 3600 * 1000;
/// The path prefix of upload URLs; the rest is the ticket.
pub const UPLOAD_PATH: &str = "/uploads/";
/// The path prefix of file URLs; the rest is the object key.
pub const FILES_PATH: &str = "/files/";
/// Bytes of the MAC kept in tickets and URLs (128 bits).
const MAC_BYTES: usize = 16;

/// The deployment's key for tickets and file URLs, shared by the Worker and
/// every room (derived from a deployment secret).
#[derive(Clone)]
pub struct FileKey([u8; 32]);

impl std::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileKey(..)")
    }
}

/// What an upload ticket allows: one object, at most `size` bytes, of one
/// of the site's types, until `expires`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// The object key the bytes are stored under.
    pub key: String,
    /// The site and its epoch: a deleted site's tickets die with it.
    pub site: String,
    pub epoch: String,
    /// The room's object name (which Durable Object to tell).
    pub room: String,
    /// The declared size: the upload may not be larger.
    pub size: u64,
    /// The declared type; the sniffed type must be one of `types`.
    pub mime: String,
    pub types: Vec<String>,
    /// The file name, for `Content-Disposition`.
    pub name: String,
    pub expires: u64,
}

impl FileKey {
    /// The key derived from a deployment secret (any length).
    pub fn derive(secret: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(b"hello-chat files\0");
        h.update(secret);
        FileKey(h.finalize().into())
    }

    fn mac(&self, label: &str, data: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            return String::new();
        };
        mac.update(label.as_bytes());
        mac.update(&[0]);
        mac.update(data.as_bytes());
        let bytes = mac.finalize().into_bytes();
        URL_SAFE_NO_PAD.encode(&bytes[..MAC_BYTES])
    }

    /// The ticket as a URL-safe string: `<payload>.<mac>`.
    pub fn seal(&self, ticket: &Ticket) -> String {
        let json = serde_json::to_string(ticket).unwrap_or_default();
        let payload = URL_SAFE_NO_PAD.encode(json);
        let mac = self.mac("ticket", &payload);
        format!("{payload}.{mac}")
    }

    /// The ticket in `sealed`, if this key made it and it has not expired.
    pub fn open(&self, sealed: &str, now: u64) -> Result<Ticket, ProtocolError> {
        let invalid =
            || ProtocolError::new(ErrorCode::InvalidTicket, "this upload ticket is not valid");
        let (payload, mac) = sealed.split_once('.').ok_or_else(invalid)?;
        if !same(&self.mac("ticket", payload), mac) {
            return Err(invalid());
        }
        let json = URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?;
        let ticket: Ticket = serde_json::from_slice(&json).map_err(|_| invalid())?;
        if now >= ticket.expires {
            return Err(ProtocolError::new(
                ErrorCode::TicketExpired,
                "this upload ticket has expired; ask for a new one",
            ));
        }
        Ok(ticket)
    }

    /// The path `key` is served at, valid until the end of the next window.
    pub fn url(&self, key: &str, now: u64) -> String {
        let expires = (now / URL_WINDOW_MS + 2) * URL_WINDOW_MS;
        let sig = self.mac("file", &format!("{key}\0{expires}"));
        format!("{FILES_PATH}{key}?exp={expires}&sig={sig}")
    }

    /// Whether `sig` is this key's signature of `key` until `expires`, and
    /// that time has not come.
    pub fn check_url(&self, key: &str, expires: u64, sig: &str, now: u64) -> bool {
        now < expires && same(&self.mac("file", &format!("{key}\0{expires}")), sig)
    }
}

/// Compare two MACs in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// The prefix of every object of a room: `<site>/<hash of the room's name>/`.
/// Hashed because room names may hold characters awkward in paths.
pub fn room_prefix(site: &str, room_object: &str) -> String {
    let digest = Sha256::digest(room_object.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("{site}/{hex}/")
}

/// A new object key under `prefix`, from 16 random bytes.
pub fn object_key(prefix: &str, random: [u8; 16]) -> String {
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

/// Whether `key` is shaped like an object key (`<site>/<32 hex>/<32 hex>`).
pub fn is_object_key(key: &str) -> bool {
    let mut parts = key.split('/');
    let (Some(site), Some(room), Some(id), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let hex32 = |s: &str| s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit());
    !site.is_empty()
        && site
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && hex32(room)
        && hex32(id)
}

/// The type of a file from its first bytes, whatever its name or declared
/// type say. Plain text is valid UTF-8 without NUL or other binary control
/// characters. `None`: not a type we know.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"%PDF-", "application/pdf"),
    ];
    if let Some((_, mime)) = MAGIC.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Some(mime);
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Some("image/webp");
    }
    looks_like_text(head).then_some("text/plain")
}

fn looks_like_text(head: &[u8]) -> bool {
    // The head may end inside a character: only the last 3 bytes may be cut.
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) if e.error_len().is_none() && head.len() - e.valid_up_to() < 4 => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !head.is_empty() && text.chars().all(is_text_char)
}

/// Checks that a whole upload of `text/plain` is text, chunk by chunk as it
/// streams in (the type is sniffed from the start only; a text head must
/// not carry a binary tail, such as a ZIP archive, past the check).
#[derive(Debug, Default)]
pub struct TextCheck {
    /// The bytes of a character cut by the end of the previous chunk.
    carry: Vec<u8>,
}

impl TextCheck {
    /// Feed the next chunk; false as soon as the content is not text.
    pub fn feed(&mut self, chunk: &[u8]) -> bool {
        let mut bytes = std::mem::take(&mut self.carry);
        bytes.extend_from_slice(chunk);
        let text = match std::str::from_utf8(&bytes) {
            Ok(t) => t,
            Err(e) if e.error_len().is_none() => {
                // Ends inside a character: keep its start for the next chunk.
                self.carry = bytes[e.valid_up_to()..].to_vec();
                std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default()
            }
            Err(_) => return false,
        };
        text.chars().all(is_text_char)
    }

    /// The upload ended: false if it ended inside a character.
    pub fn finish(&self) -> bool {
        self.carry.is_empty()
    }
}

fn is_text_char(c: char) -> bool {
    !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\u{c}')
}

/// The name a file is downloaded under: its extension says what it is, so
/// the operating system treats it as what it was checked to be (a text file
/// named `invoice.hta` downloads as `invoice.hta.txt`).
pub fn download_name(name: &str, mime: &str) -> String {
    let extensions: &[&str] = match mime {
        "image/png" => &["png"],
        "image/jpeg" => &["jpg", "jpeg"],
        "image/gif" => &["gif"],
        "image/webp" => &["webp"],
        "application/pdf" => &["pdf"],
        _ => &["txt"],
    };
    let has = name
        .rsplit_once('.')
        .is_some_and(|(_, ext)| extensions.iter().any(|e| ext.eq_ignore_ascii_case(e)));
    if has {
        name.to_owned()
    } else {
        format!("{name}.{}", extensions[0])
    }
}

/// A file name fit to show and to put in a header: no path, no control or
/// quote characters, at most 200 characters; `file` if nothing is left.
pub fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_invisible(*c) && *c != '"')
        .take(200)
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() || trimmed == "." || trimmed == ".." {
        "file".to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(expires: u64) -> Ticket {
        Ticket {
            key: "demo/00000000000000000000000000000000/11111111111111111111111111111111".into(),
            site: "demo".into(),
            epoch: "e".into(),
            room: "demo:e:lobby".into(),
            size: 100,
            mime: "image/png".into(),
            types: vec!["image/png".into()],
            name: "a.png".into(),
            expires,
        }
    }

    #[test]
    fn tickets_open_only_unaltered_unexpired_and_under_their_key() {
        let key = FileKey::derive(b"secret");
        let sealed = key.seal(&ticket(1000));
        assert_eq!(key.open(&sealed, 999).unwrap(), ticket(1000));
        assert_eq!(
            key.open(&sealed, 1000).unwrap_err().code,
            ErrorCode::TicketExpired
        );
        let other = FileKey::derive(b"other");
        assert_eq!(
            other.open(&sealed, 0).unwrap_err().code,
            ErrorCode::InvalidTicket
        );
        // A payload changed to a larger size keeps the old MAC: refused.
        let forged = key.seal(&Ticket {
            size: 1 << 40,
            ..ticket(1000)
        });
        let (payload, _) = forged.split_once('.').unwrap();
        let (_, mac) = sealed.split_once('.').unwrap();
        assert_eq!(
            key.open(&format!("{payload}.{mac}"), 0).unwrap_err().code,
            ErrorCode::InvalidTicket
        );
        for junk in ["", ".", "a.b", "no-dot"] {
            assert_eq!(
                key.open(junk, 0).unwrap_err().code,
                ErrorCode::InvalidTicket
            );
        }
    }

    #[test]
    fn urls_are_signed_for_one_key_and_expire_after_one_to_two_windows() {
        let key = FileKey::derive(b"secret");
        let now = 5 * URL_WINDOW_MS + 7;
        let url = key.url("s/a/b", now);
        let (path, query) = url.split_once('?').unwrap();
        assert_eq!(path, "/files/s/a/b");
        let exp: u64 = query.split('&').next().unwrap()[4..].parse().unwrap();
        let sig = query.split("sig=").nth(1).unwrap();
        assert!(exp > now + URL_WINDOW_MS && exp <= now + 2 * URL_WINDOW_MS);
        assert!(key.check_url("s/a/b", exp, sig, now));
        assert!(!key.check_url("t/a/b", exp, sig, now), "another object");
        assert!(!key.check_url("s/a/b", exp + 1, sig, now), "another expiry");
        assert!(!key.check_url("s/a/b", exp, sig, exp), "expired");
        assert_eq!(url, key.url("s/a/b", now + 1000), "stable within a window");
    }

    #[test]
    fn sniffing_goes_by_content_not_by_name() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff(b"\xff\xd8\xff\xe0"), Some("image/jpeg"));
        assert_eq!(sniff(b"GIF89a.."), Some("image/gif"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"%PDF-1.7"), Some("application/pdf"));
        assert_eq!(sniff("hello\nwörld\t".as_bytes()), Some("text/plain"));
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0"), None, "a Windows executable");
        assert_eq!(sniff(b"\x7fELF\x02\x01"), None);
        assert_eq!(sniff(b""), None);
        // Text cut in the middle of a character is still text.
        assert_eq!(sniff(&"ab€".as_bytes()[..4]), Some("text/plain"));
    }

    #[test]
    fn a_text_file_must_be_text_to_its_end() {
        let mut ok = TextCheck::default();
        let euro = "€".as_bytes();
        assert!(ok.feed(b"hello ") && ok.feed(&euro[..1]) && ok.feed(&euro[1..]) && ok.feed(b"\n"));
        assert!(ok.finish());
        let mut zip_tail = TextCheck::default();
        assert!(zip_tail.feed(&[b'a'; 512]));
        assert!(
            !zip_tail.feed(b"PK\x03\x04\x00\x00"),
            "a binary tail after a text head"
        );
        let mut cut = TextCheck::default();
        assert!(cut.feed(&euro[..2]));
        assert!(!cut.finish(), "ends inside a character");
    }

    #[test]
    fn downloads_are_named_for_what_they_are() {
        assert_eq!(
            download_name("invoice.zip", "text/plain"),
            "invoice.zip.txt"
        );
        assert_eq!(download_name("run.hta", "text/plain"), "run.hta.txt");
        assert_eq!(download_name("notes.TXT", "text/plain"), "notes.TXT");
        assert_eq!(download_name("scan", "application/pdf"), "scan.pdf");
        assert_eq!(download_name("photo.jpeg", "image/jpeg"), "photo.jpeg");
        assert_eq!(download_name("photo.png", "image/jpeg"), "photo.png.jpg");
    }

    #[test]
    fn keys_and_names() {
        let prefix = room_prefix("demo", "demo:e:lobby");
        let key = object_key(&prefix, [0xab; 16]);
        assert!(is_object_key(&key), "{key}");
        assert!(key.starts_with("demo/"));
        assert_ne!(prefix, room_prefix("demo", "demo:e:lobby2"));
        for bad in [
            "",
            "demo/x/y",
            "../a/b",
            &format!("{key}/x"),
            &key.replace("demo", "De"),
        ] {
            assert!(!is_object_key(bad), "{bad}");
        }
        assert_eq!(
            clean_file_name("C:\\Users\\a\\shot \"1\".png"),
            "shot 1.png"
        );
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("\u{202e}gnp.exe"), "gnp.exe");
        assert_eq!(clean_file_name(" "), "file");
    }
}
