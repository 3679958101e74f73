//! The bytes of files each room of the site holds, for the site's
//! `maxStorageBytes` and the room list's `fileBytes`. A room tells its
//! figure (`POST /files {room, bytes, upload, version, max?}`, answered
//! `{ok, elsewhere}`: what the other rooms hold): with `max`, only if the
//! site's rooms then hold at most that (an upload about to be marked
//! stored); a figure older than the room's last (`version`) is not kept,
//! but for its `upload`, added to the newer figure within the cap. Requests are served one at a time, so
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

/// A room's figure, as it tells it (`POST /files`).
#[derive(Deserialize)]
pub struct Figure {
    pub bytes: u64,
    /// Of `bytes`, an upload to reserve (0: none).
    #[serde(default)]
    pub upload: u64,
    pub version: u64,
    pub max: Option<u64>,
}

/// Added to `room_files` after its first version (an error once it exists).
pub const COLUMNS: [&str; 1] =
    ["ALTER TABLE room_files ADD COLUMN version INTEGER NOT NULL DEFAULT 0"];

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

    /// `room` holds `bytes` as of `version` (of which `upload` is an upload
    /// to reserve, within `max` for the site): whether the figure is kept,
    /// and what the other rooms hold. A figure older than the room's last
    /// changes nothing, but for its upload, added to the newer figure (which
    /// did not count it, unless it reserved another) within the cap.
    pub fn tell(&self, room: &str, f: &Figure) -> Result<(bool, u64)> {
        let total = self.total()?;
        let (before, last) = self.row(room)?.map_or((0, 0), |r| (r.bytes, r.version));
        let elsewhere = total.saturating_sub(before);
        let (after, version) = match (f.version > last, f.upload) {
            (true, _) => (f.bytes, f.version),
            (false, 0) => return Ok((true, elsewhere)),
            (false, upload) => (before.saturating_add(upload), last),
        };
        if f.max
            .is_some_and(|max| after > before && elsewhere.saturating_add(after) > max)
        {
            return Ok((false, elsewhere));
        }
        self.keep(room, after, version)?;
        self.total.set(Some(elsewhere + after));
        Ok((true, elsewhere))
    }

    /// `room`'s row, if it ever told a figure.
    fn row(&self, room: &str) -> Result<Option<Row>> {
        let rows: Vec<Row> = self
            .sql
            .exec(
                "SELECT bytes, version FROM room_files WHERE room = ?",
                vec![room.into()],
            )?
            .to_array()?;
        Ok(rows.into_iter().next())
    }

    fn keep(&self, room: &str, bytes: u64, version: u64) -> Result<()> {
        let c = self.sql.exec(
            "INSERT INTO room_files (room, bytes, version) VALUES (?, ?, ?)
             ON CONFLICT (room) DO UPDATE SET bytes = excluded.bytes, version = excluded.version",
            vec![room.into(), (bytes as i64).into(), (version as i64).into()],
        )?;
        let _ = c.to_array::<serde_json::Value>();
        Ok(())
    }

    /// `room` was erased: it holds nothing. (Its last version stays: a
    /// figure told before the erasure and arriving after it is dropped.)
    pub fn forget_room(&self, room: &str) -> Result<()> {
        let total = self.total()?;
        let Some(row) = self.row(room)? else {
            return Ok(());
        };
        self.keep(room, 0, row.version)?;
        self.total.set(Some(total.saturating_sub(row.bytes)));
        Ok(())
    }
}
