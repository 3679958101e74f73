//! Which files a site takes: the room's verdict on an upload request, and
//! the same verdict in the widget before it stages a file, so a file the
//! room would refuse is refused at once, in the tray, with the room's words.

//!
//! No `format!` here: this is in the widget, where the formatting machinery
//! would cost kilobytes.

use crate::error::{ErrorCode, ProtocolError};
use crate::text::{concat, decimal};

/// The site takes no files at all.
pub fn files_off() -> ProtocolError {
    ProtocolError::new(ErrorCode::NotAllowed, "this site does not accept files")
}

/// A file larger than the site's limit.
pub fn too_large(max_bytes: u64) -> ProtocolError {
    ProtocolError::new(
        ErrorCode::TooLarge,
        concat(&["files may be at most ", &size_at_most(max_bytes)]),
    )
}

/// A file of a type the site does not take; `allowed` lists the ones it does.
pub fn unsupported_type(allowed: &str) -> ProtocolError {
    ProtocolError::new(
        ErrorCode::UnsupportedType,
        concat(&[
            "files of this type are not accepted (allowed: ",
            allowed,
            ")",
        ]),
    )
}

/// An upload would take the site's files past `max_bytes` in all: what its
/// other rooms hold (`elsewhere`, as the room last heard), what this room
/// holds (`here`, its stored uploads) and the file (`size`).
pub fn fits_storage(
    elsewhere: u64,
    here: u64,
    size: u64,
    max_bytes: u64,
) -> Result<(), ProtocolError> {
    let total = elsewhere
        .checked_add(here)
        .and_then(|b| b.checked_add(size));
    if total.is_some_and(|total| total <= max_bytes) {
        return Ok(());
    }
    Err(storage_full())
}

/// The site's storage for files is full.
pub fn storage_full() -> ProtocolError {
    ProtocolError::new(
        ErrorCode::StorageFull,
        "the site's storage for files is full; files can be sent again once older ones are deleted",
    )
}

/// The client's check, from what `welcome` and `rules` said: `accept` is
/// the site's comma-separated list of types ("": no files; `None`: a server
/// that does not say, so the room decides), `max_bytes` its size limit.
pub fn check(
    accept: Option<&str>,
    max_bytes: Option<u64>,
    mime: &str,
    size: u64,
) -> Result<(), ProtocolError> {
    // In the room's order: files at all, size, type.
    if accept == Some("") {
        return Err(files_off());
    }
    if let Some(max) = max_bytes.filter(|max| size > *max) {
        return Err(too_large(max));
    }
    match accept {
        Some(list) if !list.split(',').any(|t| t == mime) => {
            // "a,b" as "a, b", as the room says it (by hand: `replace`
            // would bring the substring searcher into the widget).
            let mut allowed = String::with_capacity(list.len() + 8);
            for (i, t) in list.split(',').enumerate() {
                if i > 0 {
                    allowed.push_str(", ");
                }
                allowed.push_str(t);
            }
            Err(unsupported_type(&allowed))
        }
        _ => Ok(()),
    }
}

/// A size limit for people: "1.5 MB", "1.9 KB", "10 MB", rounded down, so
/// that a file of the size it names is never refused.
pub fn size_at_most(bytes: u64) -> String {
    let (unit, div) = match bytes {
        0..1024 => return concat(&[&decimal(bytes), " bytes"]),
        1024..1_048_576 => ("KB", 1024),
        _ => ("MB", 1_048_576),
    };
    let tenths = bytes * 10 / div;
    let whole = decimal(tenths / 10);
    match tenths % 10 {
        0 => concat(&[&whole, " ", unit]),
        t => concat(&[&whole, ".", &decimal(t), " ", unit]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_size_limit_is_never_overstated() {
        for (bytes, said) in [
            (10 * 1024 * 1024, "10 MB"),
            (1_572_864, "1.5 MB"),
            (5_500_000, "5.2 MB"),
            (2_000, "1.9 KB"),
            (1_048_575, "1023.9 KB"),
            (1024, "1 KB"),
            (1023, "1023 bytes"),
        ] {
            assert_eq!(size_at_most(bytes), said, "{bytes}");
        }
    }

    #[test]
    fn storage_counts_every_room_and_the_file_itself() {
        assert_eq!(fits_storage(400, 400, 200, 1000), Ok(()));
        let full = fits_storage(400, 400, 201, 1000).unwrap_err();
        assert_eq!(full.code, ErrorCode::StorageFull);
        assert!(full.message.contains("storage"));
        assert!(fits_storage(0, 0, 1, 0).is_err(), "0: no files at all");
        // Figures past u64 (a site's sum gone wrong) refuse, never wrap.
        assert!(fits_storage(u64::MAX, 1, 1, u64::MAX).is_err());
    }

    #[test]
    fn the_client_refuses_what_the_room_would() {
        let accept = Some("image/png,application/pdf");
        assert_eq!(check(accept, Some(1000), "image/png", 1000), Ok(()));
        let big = check(accept, Some(1000), "image/png", 1001).unwrap_err();
        assert_eq!(big.code, ErrorCode::TooLarge);
        assert_eq!(big.message, "files may be at most 1000 bytes");
        let gif = check(accept, Some(1000), "image/gif", 10).unwrap_err();
        assert_eq!(gif.code, ErrorCode::UnsupportedType);
        assert_eq!(
            gif.message,
            "files of this type are not accepted (allowed: image/png, application/pdf)"
        );
        // A type the list only contains part of is not in it.
        assert!(check(Some("image/png"), None, "image/pn", 1).is_err());
        assert_eq!(
            check(Some(""), Some(1000), "image/png", 1)
                .unwrap_err()
                .code,
            ErrorCode::NotAllowed
        );
        // A server that says nothing: the room decides.
        assert_eq!(check(None, None, "video/mp4", u64::MAX), Ok(()));
    }
}
