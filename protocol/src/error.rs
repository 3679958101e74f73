//! Error codes sent in `{"type":"error"}` frames, and WebSocket close codes.

/// Why a frame was refused. The connection stays open after every one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// Not JSON, unknown `type`, wrong field types, or a binary frame.
    BadFrame,
    /// The message is empty after trimming.
    Empty,
    /// The message is longer than the site's limit.
    TooLong,
    /// The message contains control characters other than newline and tab.
    BadText,
    /// The sender exceeded its rate limit; retry later.
    RateLimited,
    /// The sender already used this message id for a different text.
    IdConflict,
    /// The member may not do this (edit or delete another's message, moderate).
    NotAllowed,
    /// No such message (never existed, deleted, or trimmed by retention).
    NotFound,
    /// The edit window of the message has passed.
    TooLate,
    /// The sender is muted (`until` says until when).
    Muted,
    /// Slow mode: wait `retry_after` milliseconds.
    SlowMode,
    /// The room is read-only.
    Locked,
    /// The site's word filter or link policy refuses the text.
    Blocked,
    /// Sent just before a close (4008): the sender is banned from the room.
    Banned,
    /// Sent just before a close (4010): the site erased the room.
    RoomErased,
    /// Sent just before a close: too many connections from one address in this room.
    TooManyConnections,
    /// The server could not complete the request; retrying may work.
    Internal,
    /// Sent just before a close: the identity token is missing, forged or expired.
    Unauthorized,
    /// Sent just before a close: the page's origin is not allowed by the site.
    ForbiddenOrigin,
    /// Sent just before a close: there is no such site.
    UnknownSite,
    /// Sent just before a close: the room is at its connection cap.
    RoomFull,
    /// Client-side only: too many unsent messages are queued.
    OutboxFull,
    /// A file is larger than the site allows.
    TooLarge,
    /// A file's type is not one the site allows (or not what it claims).
    UnsupportedType,
    /// An upload ticket has expired; ask for a new one.
    TicketExpired,
    /// An upload ticket was used already.
    TicketUsed,
    /// An upload ticket is forged, altered or unreadable.
    InvalidTicket,
    /// The site's storage for files is full (its `maxStorageBytes`).
    StorageFull,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadFrame => "bad_frame",
            ErrorCode::Empty => "empty",
            ErrorCode::TooLong => "too_long",
            ErrorCode::BadText => "bad_text",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::IdConflict => "id_conflict",
            ErrorCode::NotAllowed => "not_allowed",
            ErrorCode::NotFound => "not_found",
            ErrorCode::TooLate => "too_late",
            ErrorCode::Muted => "muted",
            ErrorCode::SlowMode => "slow_mode",
            ErrorCode::Locked => "locked",
            ErrorCode::Blocked => "blocked",
            ErrorCode::Banned => "banned",
            ErrorCode::RoomErased => "room_erased",
            ErrorCode::TooManyConnections => "too_many_connections",
            ErrorCode::Internal => "internal",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::ForbiddenOrigin => "forbidden_origin",
            ErrorCode::UnknownSite => "unknown_site",
            ErrorCode::RoomFull => "room_full",
            ErrorCode::OutboxFull => "outbox_full",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::UnsupportedType => "unsupported_type",
            ErrorCode::TicketExpired => "ticket_expired",
            ErrorCode::TicketUsed => "ticket_used",
            ErrorCode::InvalidTicket => "invalid_ticket",
            ErrorCode::StorageFull => "storage_full",
        }
    }

    pub fn parse(code: &str) -> Option<ErrorCode> {
        Some(match code {
            "bad_frame" => ErrorCode::BadFrame,
            "empty" => ErrorCode::Empty,
            "too_long" => ErrorCode::TooLong,
            "bad_text" => ErrorCode::BadText,
            "rate_limited" => ErrorCode::RateLimited,
            "id_conflict" => ErrorCode::IdConflict,
            "not_allowed" => ErrorCode::NotAllowed,
            "not_found" => ErrorCode::NotFound,
            "too_late" => ErrorCode::TooLate,
            "muted" => ErrorCode::Muted,
            "slow_mode" => ErrorCode::SlowMode,
            "locked" => ErrorCode::Locked,
            "blocked" => ErrorCode::Blocked,
            "banned" => ErrorCode::Banned,
            "room_erased" => ErrorCode::RoomErased,
            "too_many_connections" => ErrorCode::TooManyConnections,
            "internal" => ErrorCode::Internal,
            "unauthorized" => ErrorCode::Unauthorized,
            "forbidden_origin" => ErrorCode::ForbiddenOrigin,
            "unknown_site" => ErrorCode::UnknownSite,
            "room_full" => ErrorCode::RoomFull,
            "outbox_full" => ErrorCode::OutboxFull,
            "too_large" => ErrorCode::TooLarge,
            "unsupported_type" => ErrorCode::UnsupportedType,
            "ticket_expired" => ErrorCode::TicketExpired,
            "ticket_used" => ErrorCode::TicketUsed,
            "invalid_ticket" => ErrorCode::InvalidTicket,
            "storage_full" => ErrorCode::StorageFull,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        use ErrorCode::*;
        for c in [
            BadFrame,
            Empty,
            TooLong,
            BadText,
            RateLimited,
            IdConflict,
            NotAllowed,
            NotFound,
            TooLate,
            Muted,
            SlowMode,
            Locked,
            Blocked,
            Banned,
            RoomErased,
            TooManyConnections,
            Internal,
            Unauthorized,
            ForbiddenOrigin,
            UnknownSite,
            RoomFull,
            OutboxFull,
            TooLarge,
            UnsupportedType,
            TicketExpired,
            TicketUsed,
            InvalidTicket,
            StorageFull,
        ] {
            assert_eq!(ErrorCode::parse(c.as_str()), Some(c));
        }
        assert_eq!(ErrorCode::parse("nope"), None);
        assert!(close_code::is_terminal(close_code::UNAUTHORIZED));
        assert!(!close_code::is_terminal(close_code::TRY_AGAIN_LATER));
        assert!(!close_code::is_terminal(1006));
    }

    #[test]
    fn close_reasons_are_cut_to_123_bytes_on_a_character_boundary() {
        assert_eq!(close_code::reason("short"), "short");
        let long = "é".repeat(100);
        let cut = close_code::reason(&long);
        assert!(cut.len() <= 123 && cut.len() >= 121, "{}", cut.len());
        assert!(long.starts_with(cut));
        assert_eq!(close_code::reason(&"x".repeat(200)).len(), 123);
    }
}

/// A refused frame: what went wrong, in words a person can read, and the
/// client id of the message it concerns, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtocolError {
    pub code: ErrorCode,
    pub message: String,
    pub id: Option<String>,
    /// `muted`: until when (ms since the epoch; absent = for good).
    pub until: Option<u64>,
    /// `slow_mode`: milliseconds until the next message is accepted.
    pub retry_after: Option<u64>,
}

impl ProtocolError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ProtocolError {
            code,
            message: message.into(),
            id: None,
            until: None,
            retry_after: None,
        }
    }

    pub fn with_id(mut self, id: Option<&str>) -> Self {
        self.id = id.map(str::to_owned);
        self
    }
}

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ProtocolError {}

/// WebSocket close codes the server uses. 4xxx codes are terminal: the widget
/// shows them and does not reconnect.
pub mod close_code {
    /// The server is going away (a deploy or an eviction closes every socket).
    pub const GOING_AWAY: u16 = 1001;
    /// A frame larger than [`crate::limits::MAX_FRAME_BYTES`].
    pub const TOO_BIG: u16 = 1009;
    /// The server hit an unexpected error; reconnecting may work.
    pub const INTERNAL: u16 = 1011;
    /// The server is restarting.
    pub const SERVICE_RESTART: u16 = 1012;
    /// The room is at its connection cap; reconnecting later may work.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// Missing, forged or expired identity token, or anonymous access refused.
    pub const UNAUTHORIZED: u16 = 4001;
    /// The page's origin is not allowed by the site.
    pub const FORBIDDEN_ORIGIN: u16 = 4003;
    /// No such site.
    pub const UNKNOWN_SITE: u16 = 4004;
    /// Banned from the room by a moderator.
    pub const BANNED: u16 = 4008;
    /// The site erased the room (its history is gone).
    pub const ERASED: u16 = 4010;

    /// Longest close reason the WebSocket protocol allows, in bytes.
    pub const MAX_REASON_BYTES: usize = 123;

    /// Whether every member of the room was probably closed at once (a
    /// deploy, a restart, a crowd turned away): reconnect spread out.
    pub fn is_crowd(code: u16) -> bool {
        matches!(code, GOING_AWAY | SERVICE_RESTART | TRY_AGAIN_LATER)
    }

    /// Whether a client should stop reconnecting after this close code.
    pub fn is_terminal(code: u16) -> bool {
        (4000..5000).contains(&code)
    }

    /// The error a terminal close stands for.
    pub fn error_code(code: u16) -> Option<super::ErrorCode> {
        use super::ErrorCode;
        Some(match code {
            UNAUTHORIZED => ErrorCode::Unauthorized,
            FORBIDDEN_ORIGIN => ErrorCode::ForbiddenOrigin,
            UNKNOWN_SITE => ErrorCode::UnknownSite,
            BANNED => ErrorCode::Banned,
            ERASED => ErrorCode::RoomErased,
            _ => return None,
        })
    }

    /// `text` cut to [`MAX_REASON_BYTES`] on a UTF-8 character boundary (a
    /// longer reason makes `close()` throw).
    pub fn reason(text: &str) -> &str {
        if text.len() <= MAX_REASON_BYTES {
            return text;
        }
        let mut end = MAX_REASON_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        &text[..end]
    }
}
