//! The bytes of files each room of the site holds, for the site's
//! `maxStorageBytes` and the room list's `fileBytes`. A room tells its
//! figure (`POST /files {room, bytes, version, max?}`, answered
//! `{ok, elsewhere}`: what the other rooms hold): with `max`, only if the
//! site's rooms then hold at most that (an upload about to be marked
//! stored); a figure older than the room's last (`version`) is dropped, as
//! a newer one counted it already. Requests are served one at a time, so
//! uploads in every room are held to one sum, kept in memory once read (a
//! room's telling is then one row written, not a scan of every room).

use std::cell::Cell;

use serde::Deserialize;
use worker::{Result, SqlStorage};

pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS room_files (
    room TEXT PRIMARY KEY,
    bytes INTEGER NOT NULL,
    version INTEGER NOT NULL
)";

#[derive(Deserialize)]
struct Bytes {
    bytes: u64,
}

#[derive(Deserialize)]
struct Row {
    bytes: u64,
    version: u64,
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

    /// The table was emptied with the rest (the site was erased).
    pub fn forget(&self) {
        self.total.set(None);
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

    /// `room` holds `bytes` as of `version`, within `max` for the site if
    /// given: whether the figure is kept (or was counted already by a newer
    /// one), and what the other rooms hold.
    pub fn tell(
        &self,
        room: &str,
        bytes: u64,
        version: u64,
        max: Option<u64>,
    ) -> Result<(bool, u64)> {
        let total = self.total()?;
        let rows: Vec<Row> = self
            .sql
            .exec(
                "SELECT bytes, version FROM room_files WHERE room = ?",
                vec![room.into()],
            )?
            .to_array()?;
        let (before, last) = rows.first().map_or((0, 0), |r| (r.bytes, r.version));
        let elsewhere = total.saturating_sub(before);
        if version <= last {
            return Ok((true, elsewhere));
        }
        if max.is_some_and(|max| bytes > before && elsewhere.saturating_add(bytes) > max) {
            return Ok((false, elsewhere));
        }
        let c = self.sql.exec(
            "INSERT INTO room_files (room, bytes, version) VALUES (?, ?, ?)
             ON CONFLICT (room) DO UPDATE SET bytes = excluded.bytes, version = excluded.version",
            vec![room.into(), (bytes as i64).into(), (version as i64).into()],
        )?;
        let _ = c.to_array::<serde_json::Value>();
        self.total.set(Some(elsewhere + bytes));
        Ok((true, elsewhere))
    }

    /// `room` was erased: it holds nothing, and its next figure starts over.
    pub fn forget_room(&self, room: &str) -> Result<()> {
        let total = self.total()?;
        let rows: Vec<Bytes> = self
            .sql
            .exec(
                "SELECT bytes FROM room_files WHERE room = ?",
                vec![room.into()],
            )?
            .to_array()?;
        let c = self
            .sql
            .exec("DELETE FROM room_files WHERE room = ?", vec![room.into()])?;
        let _ = c.to_array::<serde_json::Value>();
        let before = rows.first().map_or(0, |r| r.bytes);
        self.total.set(Some(total.saturating_sub(before)));
        Ok(())
    }
}
