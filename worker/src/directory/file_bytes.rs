//! The bytes of files each room of the site holds, for the site's
//! `maxStorageBytes` and the room list's `fileBytes`: each upload reserves
//! its bytes before it is stored (`POST /files/reserve {room, bytes, max}`,
//! answered `{ok}`, or `{ok: false, elsewhere}` past the cap), and a room
//! tells its whole figure when files go (`POST /files {room, bytes}`,
//! answered with what the other rooms hold).
//! The site's sum is kept in memory once read: a room's telling is then
//! one row written, not a scan of every room.

use std::cell::Cell;

use serde::Deserialize;
use worker::{Result, SqlStorage};

pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS room_files (
    room TEXT PRIMARY KEY,
    bytes INTEGER NOT NULL
)";

#[derive(Deserialize)]
struct Bytes {
    bytes: u64,
}

pub struct FileBytes {
    sql: SqlStorage,
    /// The sum over every room, once read.
    total: Cell<Option<u64>>,
}

impl FileBytes {
    pub fn new(sql: SqlStorage) -> Self {
        FileBytes {
            sql,
            total: Cell::new(None),
        }
    }

    /// What every room holds.
    pub fn total(&self) -> Result<u64> {
        if let Some(total) = self.total.get() {
            return Ok(total);
        }
        let rows: Vec<Bytes> = self
            .sql
            .exec(
                "SELECT COALESCE(SUM(bytes), 0) AS bytes FROM room_files",
                None,
            )?
            .to_array()?;
        let total = rows.first().map_or(0, |r| r.bytes);
        self.total.set(Some(total));
        Ok(total)
    }

    /// What `room` holds (0: it never said).
    fn of(&self, room: &str) -> Result<u64> {
        let rows: Vec<Bytes> = self
            .sql
            .exec(
                "SELECT bytes FROM room_files WHERE room = ?",
                vec![room.into()],
            )?
            .to_array()?;
        Ok(rows.first().map_or(0, |r| r.bytes))
    }

    /// `bytes` more for `room` (negative: fewer), unless the site would then
    /// hold more than `max`: `Err(what the other rooms hold)`. Requests are
    /// served one at a time: concurrent uploads of every room are counted
    /// against one figure.
    pub fn reserve(
        &self,
        room: &str,
        bytes: i64,
        max: u64,
    ) -> Result<std::result::Result<(), u64>> {
        let total = self.total()?;
        let before = self.of(room)?;
        let after = before.saturating_add_signed(bytes);
        let elsewhere = total.saturating_sub(before);
        if bytes > 0 && elsewhere.saturating_add(after) > max {
            return Ok(Err(elsewhere));
        }
        self.set(room, after)?;
        Ok(Ok(()))
    }

    /// `room` holds `bytes` now (0 or erased: it leaves the table); returns
    /// what the other rooms hold.
    pub fn set(&self, room: &str, bytes: u64) -> Result<u64> {
        let total = self.total()?;
        let before = self.of(room)?;
        let cursor = if bytes == 0 {
            self.sql
                .exec("DELETE FROM room_files WHERE room = ?", vec![room.into()])?
        } else {
            self.sql.exec(
                "INSERT INTO room_files (room, bytes) VALUES (?, ?)
                 ON CONFLICT (room) DO UPDATE SET bytes = excluded.bytes",
                vec![room.into(), (bytes as i64).into()],
            )?
        };
        let _ = cursor.to_array::<serde_json::Value>();
        let elsewhere = total.saturating_sub(before);
        self.total.set(Some(elsewhere + bytes));
        Ok(elsewhere)
    }
}
