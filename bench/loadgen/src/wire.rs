//! Speaking to both servers: Hello Chat protocol v1 (through the `protocol`
//! crate) and the workshop's legacy frames, which the JavaScript baseline
//! rooms speak.

use protocol::client_frame::ClientFrame;
use protocol::json::{self, ObjectWriter};
use protocol::ServerFrame;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dialect {
    V1,
    Legacy,
}

/// What a received frame means to the benchmark.
pub enum Received {
    /// A chat message (a history entry for legacy rooms).
    Message,
    /// The first history frame after joining (v1: the `history` frame).
    History,
    /// An acknowledgement of our own message (v1 only).
    Ack,
    Other,
}

pub fn send_frame(dialect: Dialect, id: &str, text: &str) -> String {
    match dialect {
        Dialect::V1 => ClientFrame::Send {
            id: Some(id.to_owned()),
            message: text.to_owned(),
            reply_to: None,
            attachments: Vec::new(),
        }
        .encode(),
        Dialect::Legacy => ObjectWriter::new().str("message", text).finish(),
    }
}

pub fn classify(dialect: Dialect, text: &str) -> Received {
    match dialect {
        // A batch (`batch=1`) counts as its most telling frame: joins wait for the history.
        Dialect::V1 => ServerFrame::parse_all(text)
            .iter()
            .map(|f| match f {
                ServerFrame::History { .. } => Received::History,
                ServerFrame::Message(_) => Received::Message,
                ServerFrame::Ack { .. } => Received::Ack,
                _ => Received::Other,
            })
            .min_by_key(|r| match r {
                Received::History => 0,
                Received::Message => 1,
                Received::Ack => 2,
                Received::Other => 3,
            })
            .unwrap_or(Received::Other),
        // Legacy frames are all {name, message, timestamp}; history is a series of them.
        Dialect::Legacy => match json::parse(text)
            .ok()
            .and_then(|v| v.get("message").map(|m| m.as_str().is_some()))
        {
            Some(true) => Received::Message,
            _ => Received::Other,
        },
    }
}
