//! Where a room stores its messages: the Durable Object's own SQLite,
//! behind the room core's [`Store`] trait.
//!
//! `seq` is the primary key: the previous maximum plus one, read from SQLite
//! once per object lifetime and then counted in memory (the object is single
//! threaded, and a failed INSERT does not advance it). Retention only deletes
//! from the oldest end and always keeps the newest message, so the maximum
//! never goes down and a `seq` is never reused.
//!
//! Retries are found by an index on `dedupe`, a 53-bit hash of
//! `(author, client_id)`: an integer index is several times smaller than one
//! on the two strings, and the benchmark showed the string index tripling
//! tail latency under load (docs/benchmarks.md). The hash only narrows the
//! search: the lookup compares the author and the id themselves, and the
//! index is not unique, so two ids whose hashes collide are simply two rows
//! (a unique index on the hash let a colliding id block a message forever).

use protocol::room::{Page, PageQuery, Store, StoreError, StoredMessage};
use protocol::ChatMessage;
use serde::Deserialize;
use worker::{SqlStorage, SqlStorageValue};

/// The schema as it was first deployed; [`MIGRATIONS`] bring it up to date.
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
CREATE TABLE IF NOT EXISTS settings (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS room_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// Schema changes, in order; `settings.schema` counts those applied.
/// `sender` holds the author (`u:<sub>` / `a:<id>`), `sender_key` the public
/// sender key shown to clients.
const MIGRATIONS: &[&str] = &[
    // 1: the public sender key and the verified mark; the dedupe index is no
    //    longer unique (see the module doc).
    "ALTER TABLE messages ADD COLUMN sender_key TEXT NOT NULL DEFAULT '';
     ALTER TABLE messages ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;
     DROP INDEX IF EXISTS messages_by_dedupe;
     CREATE INDEX IF NOT EXISTS messages_by_author_id ON messages (dedupe);",
];

const COLUMNS: &str = "seq, client_id, sender, name, body, ts, sender_key, verified";

pub struct SqlStore {
    sql: SqlStorage,
    /// The seq the next message gets, once known.
    next_seq: Option<u64>,
}

#[derive(Deserialize)]
struct Row {
    seq: u64,
    client_id: Option<String>,
    sender: String,
    name: String,
    body: String,
    ts: u64,
    sender_key: String,
    verified: u8,
}

impl From<Row> for StoredMessage {
    fn from(r: Row) -> StoredMessage {
        StoredMessage {
            message: ChatMessage {
                id: r
                    .client_id
                    .clone()
                    .unwrap_or_else(|| format!("srv-{}", r.seq)),
                seq: r.seq,
                name: r.name,
                message: r.body,
                timestamp: r.ts,
                sender: r.sender_key,
                verified: r.verified != 0,
            },
            author: r.sender,
            client_id: r.client_id,
        }
    }
}

#[derive(Deserialize)]
struct Count {
    n: u64,
}

#[derive(Deserialize)]
struct Text {
    value: String,
}

fn int(v: u64) -> SqlStorageValue {
    // Sequence numbers and timestamps stay far below 2^53.
    SqlStorageValue::Integer(v.min(i64::MAX as u64) as i64)
}

fn failed(e: worker::Error) -> StoreError {
    StoreError(e.to_string())
}

/// The 53-bit FNV-1a hash of `(author, client_id)` (53 bits: exact in a JS number).
fn dedupe_key(author: &str, client_id: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in author.bytes().chain([0u8]).chain(client_id.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h & ((1 << 53) - 1)) as i64
}

impl SqlStore {
    pub fn open(sql: SqlStorage) -> Result<Self, StoreError> {
        sql.exec(SCHEMA, None).map_err(failed)?;
        let store = SqlStore {
            sql,
            next_seq: None,
        };
        let applied = store.setting("schema")?.unwrap_or(0) as usize;
        for (i, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
            store.sql.exec(migration, None).map_err(failed)?;
            store.set_setting("schema", i as u64 + 1)?;
        }
        Ok(store)
    }

    fn setting(&self, key: &str) -> Result<Option<u64>, StoreError> {
        let rows: Vec<Count> = self
            .sql
            .exec(
                "SELECT value AS n FROM settings WHERE key = ?",
                vec![key.into()],
            )
            .and_then(|c| c.to_array())
            .map_err(failed)?;
        Ok(rows.first().map(|r| r.n))
    }

    fn set_setting(&self, key: &str, value: u64) -> Result<(), StoreError> {
        self.sql
            .exec(
                "INSERT INTO settings (key, value) VALUES (?, ?)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                vec![key.into(), int(value)],
            )
            .map_err(failed)?;
        Ok(())
    }

    /// The room's secret key (64 hex digits), made from `fresh` the first time.
    pub fn room_key(&self, fresh: [u8; 32]) -> Result<[u8; 32], StoreError> {
        let rows: Vec<Text> = self
            .sql
            .exec("SELECT value FROM room_meta WHERE key = 'key'", None)
            .and_then(|c| c.to_array())
            .map_err(failed)?;
        if let Some(key) = rows.first().and_then(|r| from_hex(&r.value)) {
            return Ok(key);
        }
        self.sql
            .exec(
                "INSERT OR REPLACE INTO room_meta (key, value) VALUES ('key', ?)",
                vec![to_hex(&fresh).into()],
            )
            .map_err(failed)?;
        Ok(fresh)
    }

    /// Remember how many messages to keep, for the retention alarm (which
    /// runs with no connection, hence no site limits, at hand).
    pub fn set_retention(&self, keep: u64) -> Result<(), StoreError> {
        self.set_setting("retention", keep)
    }

    pub fn retention(&self) -> Result<Option<u64>, StoreError> {
        self.setting("retention")
    }

    fn rows(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Result<Vec<Row>, StoreError> {
        self.sql
            .exec(query, bindings)
            .and_then(|c| c.to_array())
            .map_err(failed)
    }
}

impl Store for SqlStore {
    fn latest_seq(&mut self) -> Result<u64, StoreError> {
        if let Some(next) = self.next_seq {
            return Ok(next - 1);
        }
        let rows: Vec<Count> = self
            .sql
            .exec("SELECT COALESCE(MAX(seq), 0) AS n FROM messages", None)
            .and_then(|c| c.to_array())
            .map_err(failed)?;
        let latest = rows.first().map_or(0, |r| r.n);
        self.next_seq = Some(latest + 1);
        Ok(latest)
    }

    fn find(&mut self, author: &str, client_id: &str) -> Result<Option<StoredMessage>, StoreError> {
        let rows = self.rows(
            &format!(
                "SELECT {COLUMNS} FROM messages WHERE dedupe = ? AND sender = ? AND client_id = ?"
            ),
            vec![
                dedupe_key(author, client_id).into(),
                author.into(),
                client_id.into(),
            ],
        )?;
        Ok(rows.into_iter().next().map(StoredMessage::from))
    }

    fn append(&mut self, stored: &StoredMessage) -> Result<(), StoreError> {
        let m = &stored.message;
        let cursor = self
            .sql
            .exec(
                "INSERT INTO messages (seq, client_id, sender, name, body, ts, dedupe, sender_key, verified)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                vec![
                    int(m.seq),
                    stored.client_id.clone().into(),
                    stored.author.as_str().into(),
                    m.name.as_str().into(),
                    m.message.as_str().into(),
                    int(m.timestamp),
                    stored.client_id.as_deref().map(|id| dedupe_key(&stored.author, id)).into(),
                    m.sender.as_str().into(),
                    int(u64::from(m.verified)),
                ],
            )
            .map_err(failed)?;
        if cursor.rows_written() == 0 {
            return Err(StoreError(format!("message {} was not stored", m.seq)));
        }
        self.next_seq = Some(m.seq + 1);
        Ok(())
    }

    fn page(&mut self, query: PageQuery) -> Result<Page, StoreError> {
        let (rows, limit, newest_first) = match query {
            PageQuery::Latest(limit) => {
                let q = format!("SELECT {COLUMNS} FROM messages ORDER BY seq DESC LIMIT ?");
                (self.rows(&q, vec![int(limit as u64 + 1)])?, limit, true)
            }
            PageQuery::Before(before, limit) => {
                let q = format!(
                    "SELECT {COLUMNS} FROM messages WHERE seq < ? ORDER BY seq DESC LIMIT ?"
                );
                (
                    self.rows(&q, vec![int(before), int(limit as u64 + 1)])?,
                    limit,
                    true,
                )
            }
            PageQuery::After(after, limit) => {
                let q = format!(
                    "SELECT {COLUMNS} FROM messages WHERE seq > ? ORDER BY seq ASC LIMIT ?"
                );
                (
                    self.rows(&q, vec![int(after), int(limit as u64 + 1)])?,
                    limit,
                    false,
                )
            }
        };
        let more = rows.len() > limit;
        let mut messages: Vec<ChatMessage> = rows
            .into_iter()
            .take(limit)
            .map(|r| StoredMessage::from(r).message)
            .collect();
        if newest_first {
            messages.reverse();
        }
        Ok(Page { messages, more })
    }

    fn trim(&mut self, keep: u64) -> Result<usize, StoreError> {
        let cursor = self
            .sql
            .exec(
                "DELETE FROM messages WHERE seq <= (SELECT MAX(seq) FROM messages) - ?",
                vec![int(keep.max(1))],
            )
            .map_err(failed)?;
        let _ = cursor.to_array::<serde_json::Value>();
        Ok(cursor.rows_written())
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}
