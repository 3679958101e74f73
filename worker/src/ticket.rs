//! The join ticket: what the Worker has checked about a connection, handed to
//! the room in an internal header. The room trusts it; clients never see it,
//! because the Worker builds the request to the room from scratch.

use protocol::room::{RoomPolicy, VerifiedUser};
use protocol::Limits;
use serde::{Deserialize, Serialize};

pub const TICKET_HEADER: &str = "x-hello-chat-ticket";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JoinTicket {
    /// The display name the client asked for, cleaned (ignored for a verified user).
    pub name: String,
    /// The verified identity, if the client presented a valid token.
    pub user: Option<VerifiedUser>,
    /// An anonymous sender key credential from an earlier connection (the
    /// room checks it; the Worker cannot).
    pub sender_key: Option<String>,
    /// The client's address (`CF-Connecting-IP`), for per-address limits.
    pub address: Option<String>,
    /// Speaks protocol v1 (otherwise the workshop's legacy frames).
    pub v1: bool,
    /// Resume after this seq instead of sending the latest page.
    pub since: Option<u64>,
    /// The site's limits.
    pub limits: Limits,
    /// The site's moderation policy.
    pub policy: RoomPolicy,
    /// The subprotocol to answer with, if the client offered one.
    pub protocol: Option<String>,
}
