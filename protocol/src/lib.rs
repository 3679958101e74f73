//! The Hello Chat wire contract and the logic both sides share.
//!
//! Nothing in this crate performs I/O: the widget (`sdk/`) and the worker
//! (`worker/`) feed it bytes, clocks and random numbers and carry out what it
//! decides. That keeps every rule testable with plain `cargo test`.
//!
//! Where to look:
//! - [`client_frame`]: frames a client sends, and how they are parsed.
//! - [`server_frame`]: frames the server sends, how they are encoded and parsed.
//! - [`json`]: the small JSON reader/writer both use.
//! - [`connect`]: the `/ws?room=..&name=..` query a connection starts with.
//! - [`validate`]: room ids, names, message text and client ids.
//! - [`links`]: web links in message text, for the widget to make clickable.
//! - [`limits`]: the documented defaults for sizes, rates and retention.
//! - [`rate_limit`]: the token bucket that throttles senders.
//! - [`backoff`]: the reconnect schedule (exponential, full jitter).
//! - [`error`]: error codes and WebSocket close codes.
//! - [`origin`]: site origin allow-lists; `jwt` (feature `server`): signed identities.
//! - `address` (feature `server`): a client's address as per-address limits
//!   count it (IPv6 by its /64).
//! - [`identity`]: who the widget speaks for, naming what it keeps in the browser.
//! - [`lru`]: a bounded map that forgets its least recently used entry.
//! - [`text`]: numbers into strings without `core::fmt` (the widget's size).
//! - `room` (feature `server`): the room's rules as a state machine (who may
//!   join and post, dedupe, limits, what to store and send to whom), driven
//!   by the Room Durable Object.
//! - `shard` (feature `server`): rooms bigger than one object (an owner
//!   and fan-out objects), the plan and the messages between them.
//! - `site_api` (feature `server`): the fields the site API's message and
//!   moderation bodies take; `site_config`: a site's configuration, how an
//!   edit merges and is checked, secret rotation; `room_watch`: which pages
//!   of the room list someone is looking at.
//! - `files` (feature `server`): upload tickets, signed file URLs, real file
//!   types; `file_serving`: the disposition and byte range a file is served
//!   with; `header_json`: JSON that fits in a header value.
//! - [`report`]: reports (flags) of messages, as the wire and the site API
//!   carry them.
//! - [`typists`]: who is typing, as the widget shows it.
//! - [`read_out`]: what a screen reader hears of a busy room.
//! - [`session`]: the widget's connection state machine (reconnect, resume,
//!   heartbeat), built on [`timeline`] (show each message once, in order) and
//!   [`outbox`] (unsent messages, retried with the same id); [`unsent`]:
//!   the outbox's messages kept across a page reload.

#[cfg(feature = "server")]
pub mod address;
pub mod backoff;
pub mod client_frame;
pub mod connect;
pub mod error;
pub mod file_rules;
#[cfg(feature = "server")]
pub mod file_serving;
#[cfg(feature = "server")]
pub mod files;
#[cfg(feature = "server")]
pub mod header_json;
pub mod identity;
pub mod json;
#[cfg(feature = "server")]
pub mod jwt;
pub mod limits;
pub mod links;
#[cfg(feature = "server")]
pub mod lookup_budget;
#[cfg(feature = "server")]
pub mod lookup_cache;
pub mod lru;
pub mod mention;
pub mod message;
pub mod origin;
pub mod outbox;
pub mod rate_limit;
pub mod read_out;
pub mod report;
#[cfg(feature = "server")]
pub mod room;
#[cfg(feature = "server")]
pub mod room_watch;
pub mod server_frame;
pub mod session;
#[cfg(feature = "server")]
pub mod shard;
#[cfg(feature = "server")]
pub mod site_api;
#[cfg(feature = "server")]
pub mod site_config;
#[cfg(feature = "server")]
pub mod site_key;
pub mod text;
pub mod timeline;
pub mod typists;
pub mod unread;
pub mod unsent;
pub mod validate;
#[cfg(feature = "server")]
pub mod webhook;

pub use client_frame::ClientFrame;
pub use error::{close_code, ErrorCode, ProtocolError};
pub use limits::Limits;
pub use message::{ChatMessage, RoomEvent};
pub use server_frame::ServerFrame;
