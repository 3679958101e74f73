//! Deleting a site erases its rooms: the site's room list erases each room
//! it lists, a batch per alarm, as a `DELETE` of the room through the site
//! API would (its members disconnected with 4010, its records and files
//! deleted), then forgets everything it kept. Without this, the sockets
//! open when the site was deleted went on chatting in rooms nobody could
//! reach or delete any more, and what they wrote stayed for good.
//!
//! `POST /erase` (an `ApiTicket` of the site as it was) starts the round;
//! rooms leave the list as they are erased (their `/unlist`), so the round
//! goes on from the first room left.

use futures_util::future::join_all;
use serde::Deserialize;
use worker::{console_error, Env, Method, Result};

use super::{call_room, post_site, RoomDirectory, NEWS_BATCH};
use crate::clock::now_ms;
use crate::sites::config::Site;
use crate::ticket::{ApiTicket, API_HEADER};

pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS erasing (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    ticket TEXT NOT NULL,
    tries INTEGER NOT NULL DEFAULT 0,
    started INTEGER NOT NULL DEFAULT 0
)";

/// Batches in a row in which a room could not be erased before those are
/// given up on, and how far apart they are tried.
const MAX_TRIES: u32 = 5;
const RETRY_MS: i64 = 5_000;
/// How long the list looks for rooms after the deletion: a Worker isolate
/// that cached the site (`sites::lookup`, 10 s) may still let a visitor
/// open one of its rooms meanwhile, which then reports here.
const WINDOW_MS: u64 = 30_000;

#[derive(Deserialize)]
struct Erasing {
    ticket: String,
    tries: u32,
    started: u64,
}

#[derive(Deserialize)]
struct Room {
    room: String,
}

/// Tell the room list of `site` (as it was before its deletion) to erase
/// its rooms. A failure is logged: the rooms then stay unreachable, as
/// before this round existed.
pub async fn erase_site(env: &Env, site: &Site) {
    match post_site(env, site, "/erase").await {
        Ok(200) => {}
        other => console_error!(
            "directory: the rooms of {} were not erased: {other:?}",
            site.id
        ),
    }
}

impl RoomDirectory {
    /// Start erasing every room (`ticket`: the site's, as it was).
    pub(super) async fn start_erasing(&self, ticket: &str) -> Result<()> {
        let c = self.sql.exec(
            "INSERT OR REPLACE INTO erasing (id, ticket, tries, started) VALUES (1, ?, 0, ?)",
            vec![ticket.into(), (now_ms() as i64).into()],
        )?;
        let _ = c.to_array::<serde_json::Value>();
        self.state.storage().set_alarm(1).await
    }

    /// Forget every row of every table (the tables stay: a late report of a
    /// room being erased finds them).
    fn forget_all(&self) -> Result<()> {
        for table in ["rooms", "room_files", "news", "told", "erasing"] {
            let c = self.sql.exec(&format!("DELETE FROM {table}"), None)?;
            let _ = c.to_array::<serde_json::Value>();
        }
        self.file_bytes.forget();
        Ok(())
    }

    /// Erase the next batch of rooms: how soon to come back (None: not
    /// erasing). Once no room is left, the list forgets everything it kept.
    pub(super) async fn erase_rooms(&self) -> Result<Option<i64>> {
        let erasing: Vec<Erasing> = self
            .sql
            .exec(
                "SELECT ticket, tries, started FROM erasing WHERE id = 1",
                None,
            )?
            .to_array()?;
        let Some(erasing) = erasing.into_iter().next() else {
            return Ok(None);
        };
        let rooms: Vec<Room> = self
            .sql
            .exec(
                "SELECT room FROM rooms ORDER BY room LIMIT ?",
                vec![(NEWS_BATCH as i64).into()],
            )?
            .to_array()?;
        let Ok(ticket) = serde_json::from_str::<ApiTicket>(&erasing.ticket) else {
            self.forget_all()?;
            return Ok(None);
        };
        if rooms.is_empty() {
            // Once no cached copy of the site can open a room any more.
            if now_ms() < erasing.started + WINDOW_MS {
                return Ok(Some(RETRY_MS));
            }
            self.forget_all()?;
            return Ok(None);
        }
        let namespace = self.env.durable_object("ROOMS")?;
        let calls = rooms.iter().map(|row| {
            let mut ticket = ticket.clone();
            ticket.place.room = row.room.clone();
            let namespace = &namespace;
            async move { call_room(namespace, &ticket, API_HEADER, Method::Delete, "/").await }
        });
        let (mut failed, mut erased_any) = (false, false);
        for (row, result) in rooms.iter().zip(join_all(calls).await) {
            let erased = matches!(&result, Ok(r) if r.status_code() < 300);
            erased_any |= erased;
            // A room that failed is tried again, a few times.
            if erased || erasing.tries >= MAX_TRIES {
                // (Erased rooms unlist themselves: this makes sure.)
                let c = self.sql.exec(
                    "DELETE FROM rooms WHERE room = ?",
                    vec![row.room.clone().into()],
                )?;
                let _ = c.to_array::<serde_json::Value>();
            }
            if !erased {
                failed = true;
                let status = result.map(|r| r.status_code());
                console_error!("directory: room {} not erased: {status:?}", row.room);
            }
        }
        if !failed {
            return Ok(Some(1));
        }
        // Counted while no room of a batch goes: one that fails among
        // others that go is tried again, as many times as that takes.
        let tries = if erased_any { "0" } else { "tries + 1" };
        let c = self.sql.exec(
            &format!("UPDATE erasing SET tries = {tries} WHERE id = 1"),
            None,
        )?;
        let _ = c.to_array::<serde_json::Value>();
        Ok(Some(RETRY_MS))
    }
}
