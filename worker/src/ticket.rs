//! The join ticket: what the Worker has checked about a connection, handed to
//! the room in an internal header. The room trusts it; clients never see it,
//! because the Worker builds the request to the room from scratch.

use protocol::room::{RoomPolicy, VerifiedUser};

use crate::room::RoomIdentity;
use crate::sites::config::Site;
use protocol::Limits;
use serde::{Deserialize, Serialize};

pub const TICKET_HEADER: &str = "x-hello-chat-ticket";
/// The header of a site API call the Worker forwards to a room.
pub const API_HEADER: &str = "x-hello-chat-api";
/// The header of news of the site's rules (an [`ApiTicket`]) that the site's
/// room list hands to each of its rooms when the site changes.
pub const SITE_HEADER: &str = "x-hello-chat-site";

/// Which room of which site, and what the site wants to hear (both tickets).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Place {
    pub site: String,
    pub epoch: String,
    pub room: String,
    /// The webhook events the site subscribes to.
    pub hooks: Vec<String>,
    /// The version of the site's rules the ticket carries (its `updatedAt`):
    /// a room ignores rules older than those it has.
    #[serde(default)]
    pub version: u64,
}

/// A site API call for a room: the Worker has checked the site key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiTicket {
    pub place: Place,
    pub limits: Limits,
    pub policy: RoomPolicy,
}

impl Place {
    /// Room `room` of `site`, as the site is now.
    pub fn of(site: &Site, room: &str) -> Place {
        Place {
            site: site.id.clone(),
            epoch: site.epoch.clone(),
            room: room.to_owned(),
            hooks: site.hooks.clone(),
            version: site.updated_at,
        }
    }

    pub fn identity(&self) -> RoomIdentity {
        RoomIdentity {
            site: self.site.clone(),
            epoch: self.epoch.clone(),
            room: self.room.clone(),
            hooks: self.hooks.clone(),
        }
    }
}

impl ApiTicket {
    /// A call for room `room` of `site`, with the site's rules.
    pub fn of(site: &Site, room: &str) -> ApiTicket {
        ApiTicket {
            place: Place::of(site, room),
            limits: site.limits,
            policy: site.moderation.clone(),
        }
    }

    pub fn identity(&self) -> RoomIdentity {
        self.place.identity()
    }
}

impl JoinTicket {
    pub fn identity(&self) -> RoomIdentity {
        self.place.identity()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JoinTicket {
    pub place: Place,
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
    #[serde(default)]
    pub read: Option<u64>,
    /// The site's limits.
    pub limits: Limits,
    /// The site's moderation policy.
    pub policy: RoomPolicy,
    /// The subprotocol to answer with, if the client offered one.
    pub protocol: Option<String>,
    /// The client reads several frames in one message (`batch=1`).
    #[serde(default)]
    pub batch: bool,
}

pub use protocol::header_json::header_value;
