//! Where a room stores its messages: the Durable Object's own SQLite.
//!
//! `seq` is the primary key: the previous maximum plus one, read from SQLite
//! once per object lifetime and then counted in memory (the object is single
//! threaded, and a failed INSERT does not advance it). Retention only deletes
//! from the oldest end and always keeps the newest message, so the maximum
//! never goes down and a `seq` is never reused.
//!
//! Retries of the same client message id are idempotent through a unique
//! index on `dedupe`, a 53-bit hash of `(sender, client_id)`. An integer
//! index is several times smaller than one on the two strings, and the
//! benchmark showed the string index tripling tail latency under load
//! (docs/benchmarks.md). A hash collision would make a new message look like
//! a retry; at 2^-53 per pair of messages in one room that is accepted, and
//! the lookup compares the stored ids anyway. Server-made ids store NULL,
//! which the unique index ignores.

use protocol::ChatMessage;
use serde::Deserialize;
use worker::{Result, SqlStorage, SqlStorageValue};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
    seq       INTEGER PRIMARY KEY,
    client_id TEXT,
    sender    TEXT NOT NULL,
    name      TEXT NOT NULL,
    body      TEXT NOT NULL,
    ts        INTEGER NOT NULL,
    dedupe    INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_by_dedupe ON messages (dedupe);
CREATE TABLE IF NOT EXISTS settings (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
";

const COLUMNS: &str = "seq, client_id, name, body, ts";

pub struct MessageStore {
    sql: SqlStorage,
    /// The seq the next message gets, once known.
    next_seq: std::cell::Cell<Option<u64>>,
}

#[derive(Deserialize)]
struct Row {
    seq: u64,
    client_id: Option<String>,
    name: String,
    body: String,
    ts: u64,
}

impl From<Row> for ChatMessage {
    fn from(r: Row) -> ChatMessage {
        ChatMessage {
            id: r.client_id.unwrap_or_else(|| server_id(r.seq)),
            seq: r.seq,
            name: r.name,
            message: r.body,
            timestamp: r.ts,
        }
    }
}

/// The id shown for messages whose sender gave none.
fn server_id(seq: u64) -> String {
    format!("srv-{seq}")
}

#[derive(Deserialize)]
struct SeqTs {
    seq: u64,
    ts: u64,
}

#[derive(Deserialize)]
struct Count {
    n: u64,
}

fn int(v: u64) -> SqlStorageValue {
    // Sequence numbers and timestamps stay far below 2^53.
    SqlStorageValue::Integer(v.min(i64::MAX as u64) as i64)
}

/// The 53-bit FNV-1a hash of `(sender, client_id)` (53 bits: exact in a JS number).
fn dedupe_key(sender: &str, client_id: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in sender.bytes().chain([0u8]).chain(client_id.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h & ((1 << 53) - 1)) as i64
}

/// One page of messages in ascending order, and whether more exist beyond it.
pub struct Page {
    pub messages: Vec<ChatMessage>,
    pub more: bool,
}

impl MessageStore {
    pub fn open(sql: SqlStorage) -> Result<Self> {
        sql.exec(SCHEMA, None)?;
        Ok(MessageStore { sql, next_seq: std::cell::Cell::new(None) })
    }

    /// The newest seq (0 for an empty room): asked of SQLite once, then known.
    pub fn latest_seq(&self) -> Result<u64> {
        if let Some(next) = self.next_seq.get() {
            return Ok(next - 1);
        }
        let rows: Vec<Count> = self.sql.exec("SELECT COALESCE(MAX(seq), 0) AS n FROM messages", None)?.to_array()?;
        let latest = rows.first().map_or(0, |r| r.n);
        self.next_seq.set(Some(latest + 1));
        Ok(latest)
    }

    /// The stored `(seq, timestamp)` of a message this sender already posted with this id.
    pub fn find(&self, sender: &str, client_id: &str) -> Result<Option<(u64, u64)>> {
        let rows: Vec<SeqTs> = self
            .sql
            .exec(
                "SELECT seq, ts FROM messages WHERE dedupe = ? AND sender = ? AND client_id = ?",
                vec![dedupe_key(sender, client_id).into(), sender.into(), client_id.into()],
            )?
            .to_array()?;
        Ok(rows.first().map(|r| (r.seq, r.ts)))
    }

    /// Store a message and return it with its new `seq`, or `None` if this
    /// sender already stored a message with this client id (a retry). One
    /// plain INSERT either way: the unique index does the duplicate check.
    pub fn append(&self, sender: &str, client_id: Option<&str>, name: &str, body: &str, ts: u64) -> Result<Option<ChatMessage>> {
        let seq = self.latest_seq()? + 1;
        let cursor = self.sql.exec(
            "INSERT INTO messages (seq, client_id, sender, name, body, ts, dedupe)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT DO NOTHING",
            vec![
                int(seq),
                client_id.map(str::to_owned).into(),
                sender.into(),
                name.into(),
                body.into(),
                int(ts),
                client_id.map(|id| dedupe_key(sender, id)).into(),
            ],
        )?;
        if cursor.rows_written() == 0 {
            return Ok(None);
        }
        self.next_seq.set(Some(seq + 1));
        Ok(Some(ChatMessage {
            seq,
            id: client_id.map_or_else(|| server_id(seq), str::to_owned),
            name: name.to_owned(),
            message: body.to_owned(),
            timestamp: ts,
        }))
    }

    fn page(&self, query: &str, bindings: Vec<SqlStorageValue>, limit: usize, newest_first: bool) -> Result<Page> {
        let mut rows: Vec<Row> = self.sql.exec(query, bindings)?.to_array()?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        if newest_first {
            rows.reverse();
        }
        Ok(Page { messages: rows.into_iter().map(ChatMessage::from).collect(), more })
    }

    /// The newest `limit` messages; `more` = older ones exist.
    pub fn latest(&self, limit: usize) -> Result<Page> {
        let q = format!("SELECT {COLUMNS} FROM messages ORDER BY seq DESC LIMIT ?");
        self.page(&q, vec![int(limit as u64 + 1)], limit, true)
    }

    /// The newest `limit` messages with `seq < before`; `more` = older ones exist.
    pub fn before(&self, before: u64, limit: usize) -> Result<Page> {
        let q = format!("SELECT {COLUMNS} FROM messages WHERE seq < ? ORDER BY seq DESC LIMIT ?");
        self.page(&q, vec![int(before), int(limit as u64 + 1)], limit, true)
    }

    /// The oldest `limit` messages with `seq > after`; `more` = newer ones exist.
    pub fn after(&self, after: u64, limit: usize) -> Result<Page> {
        let q = format!("SELECT {COLUMNS} FROM messages WHERE seq > ? ORDER BY seq ASC LIMIT ?");
        self.page(&q, vec![int(after), int(limit as u64 + 1)], limit, false)
    }

    /// Delete all but the newest `keep` messages (at least one is always kept).
    pub fn trim(&self, keep: u64) -> Result<usize> {
        let cursor = self.sql.exec(
            "DELETE FROM messages WHERE seq <= (SELECT MAX(seq) FROM messages) - ?",
            vec![int(keep.max(1))],
        )?;
        let _ = cursor.to_array::<serde_json::Value>();
        Ok(cursor.rows_written())
    }

    /// Remember how many messages to keep, for the retention alarm (which
    /// runs with no connection, hence no site limits, at hand).
    pub fn set_retention(&self, keep: u64) -> Result<()> {
        self.sql.exec(
            "INSERT INTO settings (key, value) VALUES ('retention', ?)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            vec![int(keep)],
        )?;
        Ok(())
    }

    pub fn retention(&self) -> Result<Option<u64>> {
        let rows: Vec<Count> = self.sql.exec("SELECT value AS n FROM settings WHERE key = 'retention'", None)?.to_array()?;
        Ok(rows.first().map(|r| r.n))
    }
}
