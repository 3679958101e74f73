//! The join ticket: what the Worker has checked about a connection, handed to
//! the room in an internal header. The room trusts it; clients never see it,
//! because the Worker builds the request to the room from scratch.

use protocol::Limits;
use serde::{Deserialize, Serialize};

pub const TICKET_HEADER: &str = "x-hello-chat-ticket";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JoinTicket {
    /// Display name, already cleaned (or taken from a verified token).
    pub name: String,
    /// Who sends, for idempotent retries: `user:<sub>` for verified
    /// identities, `anon` for everyone else.
    pub sender: String,
    /// Rate-limit key for verified identities (all their connections share
    /// one bucket); anonymous visitors are limited per connection.
    pub user: Option<String>,
    /// Speaks protocol v1 (otherwise the workshop's legacy frames).
    pub v1: bool,
    /// Resume after this seq instead of sending the latest page.
    pub since: Option<u64>,
    /// The site's limits.
    pub limits: Limits,
}
