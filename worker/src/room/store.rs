//! Where a room keeps its history: the Durable Object's own SQLite, behind
//! the room core's [`Store`] trait.
//!
//! One table, `messages`, holds the room's whole sequence, keyed by `seq`:
//! messages (`kind = 'm'`, in their current state: an edit rewrites `body`
//! and sets `edited`, a delete empties it and sets `deleted`), changes to
//! them (`'u'`, pointing at their `target`) and moderation notices (`'x'`,
//! the notice as JSON in `data`). Reactions live beside it, one row per
//! member and emoji, and members' reports of messages (`reports`), one row
//! per member and message.
//!
//! `seq` is the previous maximum plus one, read from SQLite once per object
//! lifetime and then counted in memory (the object is single threaded, and a
//! failed INSERT does not advance it). Retention by count always keeps the
//! newest record; retention by age may delete it, after writing the latest
//! seq as a floor in `settings` (`seq_floor`), which the maximum is read
//! with: it never goes down and a `seq` is never reused.
//!
//! Retries are found by an index on `dedupe`, a 53-bit hash of
//! `(author, client_id)`: an integer index is several times smaller than one
//! on the two strings, and the benchmark showed the string index tripling
//! tail latency under load (docs/benchmarks.md). The hash only narrows the
//! search: the lookup compares the author and the id themselves, and the
//! index is not unique, so two ids whose hashes collide are simply two rows
//! (a unique index on the hash let a colliding id block a message forever).

use std::collections::HashMap;

use protocol::message::{
    ChatMessage, ModerationNotice, Reaction, ReactionChange, ReplyRef, Role, RoomEvent, Update,
};
use protocol::report::{Evidence, Report, ReportCounts, ReportReason};
use protocol::room::{
    Change, Page, PageQuery, Prior, Purged, Record, RecordKind, Store, StoreError, Upload,
    UploadState, MAX_PURGE_EVENTS,
};
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
    // 2: the message lifecycle: events of other kinds, edits, tombstones,
    //    replies, roles, request fingerprints; reactions.
    "ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'm';
     ALTER TABLE messages ADD COLUMN target INTEGER;
     ALTER TABLE messages ADD COLUMN edited INTEGER;
     ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE messages ADD COLUMN reply_to INTEGER;
     ALTER TABLE messages ADD COLUMN role TEXT;
     ALTER TABLE messages ADD COLUMN request INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE messages ADD COLUMN data TEXT;
     CREATE TABLE IF NOT EXISTS reactions (
         target     INTEGER NOT NULL,
         emoji      TEXT NOT NULL,
         author     TEXT NOT NULL,
         sender_key TEXT NOT NULL,
         PRIMARY KEY (target, emoji, author)
     );",
    // 3: events waiting to be handed to the site's webhook queue.
    "CREATE TABLE IF NOT EXISTS webhook_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);",
    // 4: verified members' read positions.
    "CREATE TABLE IF NOT EXISTS reads (author TEXT PRIMARY KEY, seq INTEGER NOT NULL);",
    // 5: files: the uploads the room issued tickets for (a message's
    //    attachments are kept as JSON in its `data`).
    "CREATE TABLE IF NOT EXISTS uploads (
         key            TEXT PRIMARY KEY,
         author         TEXT NOT NULL,
         name           TEXT NOT NULL,
         mime           TEXT NOT NULL,
         size           INTEGER NOT NULL,
         width          INTEGER,
         height         INTEGER,
         ticket_expires INTEGER NOT NULL,
         stored         INTEGER NOT NULL, -- UploadState: 0 issued, 1 claimed, 2 stored
         seq            INTEGER,
         abandon_at     INTEGER NOT NULL
     );
     CREATE INDEX IF NOT EXISTS uploads_by_seq ON uploads (seq);",
    // 6: where an anonymous author wrote each message from (a keyed hash),
    //    so that a ban follows them after they left.
    "ALTER TABLE messages ADD COLUMN origin TEXT;",
    // 7: members' reports of messages (see `protocol::room` reports): one
    //    per member and message; they go with the message.
    "CREATE TABLE IF NOT EXISTS reports (
         id         INTEGER PRIMARY KEY AUTOINCREMENT,
         target     INTEGER NOT NULL,
         author     TEXT NOT NULL,
         sender_key TEXT NOT NULL,
         name       TEXT NOT NULL,
         verified   INTEGER NOT NULL,
         reason     TEXT NOT NULL,
         note       TEXT,
         ts         INTEGER NOT NULL
     );
     CREATE UNIQUE INDEX IF NOT EXISTS reports_by_target ON reports (target, author);
     CREATE INDEX IF NOT EXISTS reports_by_author ON reports (author);",
    // 8: an anonymous reporter's address (keyed hash), so that one address
    //    reports a message once however many anonymous keys it takes.
    "ALTER TABLE reports ADD COLUMN origin TEXT;
     CREATE INDEX IF NOT EXISTS reports_by_origin ON reports (target, origin);",
    // 9: the evidence: the reported message as its reporter saw it (its
    //    text, when it had been edited, its files' names as a JSON array),
    //    which a later edit does not change. It goes with the report.
    "ALTER TABLE reports ADD COLUMN text TEXT;
     ALTER TABLE reports ADD COLUMN edited INTEGER;
     ALTER TABLE reports ADD COLUMN files TEXT;",
    // 10: the bytes of the object stored under each upload's key (what
    //     counts against the site's storage for files; `Upload::held`).
    //     The files stored before it are owed to the site's room list.
    "ALTER TABLE uploads ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
     UPDATE uploads SET held = size WHERE stored = 2;
     INSERT INTO settings (key, value) SELECT 'files_owed', 1 WHERE EXISTS (SELECT 1 FROM uploads);",
    // 11: the file of a message each upload is for (`Upload::slot`): every
    //     ticket now names an object of its own. An upload from before was
    //     its file's only object, under the file's own key.
    "ALTER TABLE uploads ADD COLUMN slot TEXT;
     UPDATE uploads SET slot = key;
     CREATE INDEX IF NOT EXISTS uploads_by_slot ON uploads (slot);",
    // 12: where an anonymous member reacted from (a keyed hash), so that
    //     one address counts as a few members in a message's reactions.
    "ALTER TABLE reactions ADD COLUMN origin TEXT;
     CREATE INDEX IF NOT EXISTS reactions_by_origin ON reactions (target, emoji, origin);",
];

/// Reports of messages no longer standing (deleted, trimmed) go.
const DROP_GONE_REPORTS: &str = "DELETE FROM reports WHERE NOT EXISTS
    (SELECT 1 FROM messages m WHERE m.seq = reports.target AND m.kind = 'm' AND m.deleted = 0)";

const COLUMNS: &str =
    "seq, client_id, sender, name, body, ts, sender_key, verified, kind, target, edited, deleted, reply_to, role, data";

pub struct SqlStore {
    sql: SqlStorage,
    /// The seq the next record gets, once known.
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
    kind: String,
    target: Option<u64>,
    edited: Option<u64>,
    deleted: u8,
    reply_to: Option<u64>,
    role: Option<String>,
    data: Option<String>,
}

impl Row {
    /// The message this row holds (reactions and the reply quote are filled
    /// in by [`SqlStore::decorate`]).
    fn message(&self) -> ChatMessage {
        ChatMessage {
            id: self
                .client_id
                .clone()
                .unwrap_or_else(|| format!("srv-{}", self.seq)),
            seq: self.seq,
            name: self.name.clone(),
            message: self.body.clone(),
            timestamp: self.ts,
            sender: self.sender_key.clone(),
            verified: self.verified != 0,
            role: self.role.as_deref().and_then(Role::parse),
            edited: self.edited,
            deleted: self.deleted != 0,
            reactions: Vec::new(),
            reply_to: self.reply_to.map(|seq| ReplyRef {
                seq,
                ..ReplyRef::default()
            }),
            // A message's `data` holds its attachments, if any.
            attachments: self
                .data
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or_default(),
        }
    }
}

#[derive(Deserialize)]
struct UploadRow {
    key: String,
    slot: Option<String>,
    author: String,
    name: String,
    mime: String,
    size: u64,
    width: Option<u32>,
    height: Option<u32>,
    ticket_expires: u64,
    stored: u8,
    seq: Option<u64>,
    abandon_at: u64,
    held: u64,
}

impl From<UploadRow> for Upload {
    fn from(r: UploadRow) -> Upload {
        Upload {
            slot: r.slot.unwrap_or_else(|| r.key.clone()),
            key: r.key,
            author: r.author,
            name: r.name,
            mime: r.mime,
            size: r.size,
            width: r.width,
            height: r.height,
            ticket_expires: r.ticket_expires,
            state: UploadState::from_code(r.stored),
            seq: r.seq,
            abandon_at: r.abandon_at,
            held: r.held,
        }
    }
}

#[derive(Deserialize)]
struct KeyRow {
    key: String,
}

#[derive(Deserialize)]
struct Count {
    n: u64,
}

#[derive(Deserialize)]
struct Text {
    value: String,
}

#[derive(Deserialize)]
struct PriorRow {
    seq: u64,
    ts: u64,
    request: u64,
}

#[derive(Deserialize)]
struct Reacted {
    target: u64,
    emoji: String,
}

#[derive(Deserialize)]
struct ReportRow {
    id: u64,
    target: u64,
    author: String,
    origin: Option<String>,
    sender_key: String,
    name: String,
    verified: u8,
    reason: String,
    note: Option<String>,
    ts: u64,
    text: Option<String>,
    edited: Option<u64>,
    files: Option<String>,
}

impl From<ReportRow> for Report {
    fn from(r: ReportRow) -> Report {
        Report {
            id: r.id,
            target: r.target,
            author: r.author,
            origin: r.origin,
            sender: r.sender_key,
            name: r.name,
            verified: r.verified != 0,
            reason: ReportReason::parse(&r.reason),
            note: r.note,
            timestamp: r.ts,
            // Reports from before migration 9 have none.
            evidence: r.text.map(|text| Evidence {
                text,
                edited: r.edited,
                files: Evidence::parse_files(r.files.as_deref()),
            }),
        }
    }
}

#[derive(Deserialize)]
struct ReasonCount {
    target: u64,
    reason: String,
    n: u32,
}

const REPORT_COLUMNS: &str =
    "id, target, author, origin, sender_key, name, verified, reason, note, ts, text, edited, files";

#[derive(Deserialize)]
struct ReactionRow {
    target: u64,
    emoji: String,
    n: u32,
    mine: u8,
}

fn int(v: u64) -> SqlStorageValue {
    // Sequence numbers, timestamps and fingerprints stay below 2^53.
    SqlStorageValue::Integer(v.min(i64::MAX as u64) as i64)
}

fn failed(e: worker::Error) -> StoreError {
    StoreError(e.to_string())
}

/// The 53-bit FNV-1a hash of `(author, client_id)` (53 bits: exact in a JS number).
fn dedupe_key(author: &str, client_id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in author.bytes().chain([0u8]).chain(client_id.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h & ((1 << 53) - 1)
}

/// `?, ?, ?` for `n` bindings.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// A Durable Object's SQLite accepts at most 100 bound parameters per
/// statement: `IN (...)` lists go in chunks of this many.
const IN_CHUNK: usize = 90;

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

    fn exec<T: for<'de> Deserialize<'de>>(
        &self,
        query: &str,
        bindings: Vec<SqlStorageValue>,
    ) -> Result<Vec<T>, StoreError> {
        self.sql
            .exec(query, bindings)
            .and_then(|c| c.to_array())
            .map_err(failed)
    }

    fn run(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Result<usize, StoreError> {
        let cursor = self.sql.exec(query, bindings).map_err(failed)?;
        // Step the cursor to the end so that the statement has run.
        let _ = cursor.to_array::<serde_json::Value>();
        Ok(cursor.rows_written())
    }

    fn setting(&self, key: &str) -> Result<Option<u64>, StoreError> {
        let rows: Vec<Count> = self.exec(
            "SELECT value AS n FROM settings WHERE key = ?",
            vec![key.into()],
        )?;
        Ok(rows.first().map(|r| r.n))
    }

    fn set_setting(&self, key: &str, value: u64) -> Result<(), StoreError> {
        self.run(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            vec![key.into(), int(value)],
        )?;
        Ok(())
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let rows: Vec<Text> = self.exec(
            "SELECT value FROM room_meta WHERE key = ?",
            vec![key.into()],
        )?;
        Ok(rows.into_iter().next().map(|r| r.value))
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.run(
            "INSERT OR REPLACE INTO room_meta (key, value) VALUES (?, ?)",
            vec![key.into(), value.into()],
        )?;
        Ok(())
    }

    /// Forget uploads whose objects were deleted (also from a task that
    /// outlives the borrow of the store).
    pub fn forget_uploads_in(sql: &SqlStorage, keys: &[String]) -> Result<(), StoreError> {
        for chunk in keys.chunks(IN_CHUNK) {
            let q = format!(
                "DELETE FROM uploads WHERE key IN ({})",
                placeholders(chunk.len())
            );
            let bindings: Vec<SqlStorageValue> = chunk.iter().map(|k| k.as_str().into()).collect();
            let cursor = sql.exec(&q, bindings).map_err(failed)?;
            let _ = cursor.to_array::<serde_json::Value>();
        }
        Ok(())
    }

    /// [`Store::file_bytes`] (also from a task that outlives the borrow of
    /// the store).
    pub fn file_bytes_in(sql: &SqlStorage) -> Result<u64, StoreError> {
        let cursor = sql
            .exec("SELECT COALESCE(SUM(held), 0) AS n FROM uploads", None)
            .map_err(failed)?;
        let rows: Vec<Count> = cursor.to_array().map_err(failed)?;
        Ok(rows.first().map_or(0, |r| r.n))
    }

    /// Whether the site's room list is owed this room's figure of its files
    /// (a telling failed; see `room::file_bytes`).
    pub fn files_owed(&self) -> Result<bool, StoreError> {
        Ok(self.setting("files_owed")?.unwrap_or(0) != 0)
    }

    /// The version of the last figure of its files the room told (0: none).
    pub fn files_version_in(sql: &SqlStorage) -> Result<u64, StoreError> {
        let rows: Vec<Count> = sql
            .exec(
                "SELECT value AS n FROM settings WHERE key = 'files_version'",
                None,
            )
            .map_err(failed)?
            .to_array()
            .map_err(failed)?;
        Ok(rows.first().map_or(0, |r| r.n))
    }

    pub fn set_files_version_in(sql: &SqlStorage, version: u64) -> Result<(), StoreError> {
        let cursor = sql
            .exec(
                "INSERT INTO settings (key, value) VALUES ('files_version', ?)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                vec![int(version)],
            )
            .map_err(failed)?;
        let _ = cursor.to_array::<serde_json::Value>();
        Ok(())
    }

    pub fn set_files_owed_in(sql: &SqlStorage, owed: bool) -> Result<(), StoreError> {
        let cursor = sql
            .exec(
                "INSERT INTO settings (key, value) VALUES ('files_owed', ?)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                vec![i64::from(owed).into()],
            )
            .map_err(failed)?;
        let _ = cursor.to_array::<serde_json::Value>();
        Ok(())
    }

    /// The room's secret key (64 hex digits), made from `fresh` the first time.
    pub fn room_key(&self, fresh: [u8; 32]) -> Result<[u8; 32], StoreError> {
        if let Some(key) = self.meta("key")?.as_deref().and_then(from_hex) {
            return Ok(key);
        }
        self.set_meta("key", &to_hex(&fresh))?;
        Ok(fresh)
    }

    /// A random name for this life of the room, new after the room is erased
    /// (its seqs start again): webhook event ids stay unique.
    pub fn incarnation(&self, fresh: [u8; 8]) -> Result<String, StoreError> {
        if let Some(name) = self.meta("incarnation")? {
            return Ok(name);
        }
        let name = to_hex(&fresh);
        self.set_meta("incarnation", &name)?;
        Ok(name)
    }

    /// The room core's saved state (moderation, policy), if any.
    pub fn core_state(&self) -> Result<Option<String>, StoreError> {
        self.meta("core")
    }

    pub fn save_core_state(&self, json: &str) -> Result<(), StoreError> {
        self.set_meta("core", json)
    }

    /// How many messages the room holds (for the site's room list).
    pub fn message_count(&self) -> Result<u64, StoreError> {
        let rows: Vec<Count> = self.exec(
            "SELECT COUNT(*) AS n FROM messages WHERE kind = 'm'",
            Vec::new(),
        )?;
        Ok(rows.first().map_or(0, |r| r.n))
    }

    /// Reports not yet dismissed (nor gone with their message).
    pub fn open_report_count(&self) -> Result<u64, StoreError> {
        let rows: Vec<Count> = self.exec("SELECT COUNT(*) AS n FROM reports", Vec::new())?;
        Ok(rows.first().map_or(0, |r| r.n))
    }

    /// The figures the site's room list shows of this room: messages and
    /// open reports.
    pub fn listed_figures(&self) -> (u64, u64) {
        (
            self.message_count().unwrap_or(0),
            self.open_report_count().unwrap_or(0),
        )
    }

    /// When the room last had an event its site's room list has not heard of
    /// (0: none), so that the alarm can send it after the object slept.
    pub fn report_owed(&self) -> Result<u64, StoreError> {
        Ok(self.setting("report_owed")?.unwrap_or(0))
    }

    pub fn set_report_owed(&self, at: u64) -> Result<(), StoreError> {
        self.set_setting("report_owed", at)
    }

    /// Whether the site's room list is known to list the room (it reported
    /// since it was created or erased).
    pub fn listed(&self) -> Result<bool, StoreError> {
        Ok(self.setting("listed")?.unwrap_or(0) != 0)
    }

    /// Record whether the site's room list lists the room, from a task that
    /// holds the room's storage (`sql`) rather than its store.
    pub fn set_listed(sql: &SqlStorage, listed: bool) -> Result<(), StoreError> {
        SqlStore {
            sql: sql.clone(),
            next_seq: None,
        }
        .set_setting("listed", u64::from(listed))
    }

    /// Nothing was ever written in the room: no event (message, notice,
    /// moderation; none trimmed away since either: no seq floor), no upload
    /// asked for, no read position kept.
    pub fn never_written(&self) -> bool {
        let rows: Result<Vec<Count>, _> = self.exec(
            "SELECT (SELECT COUNT(*) FROM messages) + (SELECT COUNT(*) FROM uploads)
                  + (SELECT COUNT(*) FROM reads)
                  + COALESCE((SELECT value FROM settings WHERE key = 'seq_floor'), 0) AS n",
            Vec::new(),
        );
        rows.is_ok_and(|rows| rows.first().is_some_and(|r| r.n == 0))
    }

    /// The time of the room's latest stored event (0: none).
    pub fn latest_event_ts(&self) -> Result<u64, StoreError> {
        let rows: Vec<Count> = self.exec(
            "SELECT ts AS n FROM messages ORDER BY seq DESC LIMIT 1",
            Vec::new(),
        )?;
        Ok(rows.first().map_or(0, |r| r.n))
    }

    /// Remember how many records to keep, for the retention alarm (which
    /// runs with no connection, hence no site limits, at hand).
    pub fn set_retention(&self, keep: u64) -> Result<(), StoreError> {
        self.set_setting("retention", keep)
    }

    pub fn retention(&self) -> Result<Option<u64>, StoreError> {
        self.setting("retention")
    }

    /// Remember the site's retention by age, in days (0 = none).
    pub fn set_retention_days(&self, days: u64) -> Result<(), StoreError> {
        self.set_setting("retention_days", days)
    }

    pub fn retention_days(&self) -> Result<u64, StoreError> {
        Ok(self.setting("retention_days")?.unwrap_or(0))
    }

    fn rows_by_seq(&self, seqs: &[u64]) -> Result<Vec<Row>, StoreError> {
        let mut rows = Vec::new();
        for chunk in seqs.chunks(IN_CHUNK) {
            let q = format!(
                "SELECT {COLUMNS} FROM messages WHERE seq IN ({})",
                placeholders(chunk.len())
            );
            rows.extend(self.exec::<Row>(&q, chunk.iter().map(|s| int(*s)).collect())?);
        }
        Ok(rows)
    }

    /// Fill in the reactions (with `mine` for `viewer`, if given) and reply
    /// quotes of `messages`, with one query each for the whole batch.
    /// Tombstone the live messages whose `column` (`sender` or
    /// `sender_key`) is `value`. The first [`MAX_PURGE_EVENTS`] are read
    /// first, to hand back as they will be (reply quotes filled in).
    fn tombstone_where(&self, column: &str, value: &str) -> Result<Purged, StoreError> {
        let live = format!("kind = 'm' AND {column} = ? AND deleted = 0");
        let q = format!("SELECT {COLUMNS} FROM messages WHERE {live} ORDER BY seq LIMIT ?");
        let rows: Vec<Row> = self.exec(&q, vec![value.into(), int(MAX_PURGE_EVENTS as u64)])?;
        let count = self.run(
            &format!("UPDATE messages SET body = '', data = NULL, deleted = 1 WHERE {live}"),
            vec![value.into()],
        )?;
        let mut tombstones: Vec<ChatMessage> = rows
            .iter()
            .map(|row| ChatMessage {
                message: String::new(),
                attachments: Vec::new(),
                deleted: true,
                ..row.message()
            })
            .collect();
        {
            let mut all: Vec<&mut ChatMessage> = tombstones.iter_mut().collect();
            self.decorate(&mut all, None)?;
        }
        Ok(Purged {
            count,
            tombstones,
            notices: 0,
        })
    }

    fn decorate(
        &self,
        messages: &mut [&mut ChatMessage],
        viewer: Option<&str>,
    ) -> Result<(), StoreError> {
        if messages.is_empty() {
            return Ok(());
        }
        let seqs: Vec<u64> = messages.iter().map(|m| m.seq).collect();
        let mut reactions: HashMap<u64, Vec<Reaction>> = HashMap::new();
        for chunk in seqs.chunks(IN_CHUNK) {
            let q = format!(
                "SELECT target, emoji, COUNT(*) AS n, MAX(author = ?) AS mine FROM reactions
                 WHERE target IN ({}) GROUP BY target, emoji ORDER BY target, MIN(rowid)",
                placeholders(chunk.len())
            );
            let mut bindings = vec![viewer.unwrap_or("").into()];
            bindings.extend(chunk.iter().map(|s| int(*s)));
            for r in self.exec::<ReactionRow>(&q, bindings)? {
                let mine = viewer.map(|_| r.mine != 0);
                reactions.entry(r.target).or_default().push(Reaction {
                    emoji: r.emoji,
                    count: r.n,
                    mine,
                });
            }
        }
        let quoted: Vec<u64> = messages
            .iter()
            .filter_map(|m| m.reply_to.as_ref().map(|r| r.seq))
            .collect();
        let originals: HashMap<u64, ChatMessage> = self
            .rows_by_seq(&quoted)?
            .iter()
            .map(|r| (r.seq, r.message()))
            .collect();
        for m in messages.iter_mut() {
            // Not `remove`: a page may hold a message and, for its updates,
            // its current state too; both carry its reactions.
            m.reactions = reactions.get(&m.seq).cloned().unwrap_or_default();
            if let Some(r) = &mut m.reply_to {
                *r = match originals.get(&r.seq) {
                    Some(original) => ReplyRef::quoting(original),
                    // Trimmed by retention: the quote keeps its number only.
                    None => ReplyRef {
                        seq: r.seq,
                        ..ReplyRef::default()
                    },
                };
            }
        }
        Ok(())
    }

    /// The events of `rows` as `viewer` sees them: messages and the current
    /// state of updated ones decorated, notices decoded.
    fn events(&self, rows: Vec<Row>, viewer: &str) -> Result<Vec<RoomEvent>, StoreError> {
        let targets: Vec<u64> = rows
            .iter()
            .filter(|r| r.kind == "u")
            .filter_map(|r| r.target)
            .collect();
        let mut current: HashMap<u64, ChatMessage> = self
            .rows_by_seq(&targets)?
            .iter()
            .filter(|r| r.kind == "m")
            .map(|r| (r.seq, r.message()))
            .collect();
        let mut messages: Vec<ChatMessage> = rows
            .iter()
            .filter(|r| r.kind == "m")
            .map(Row::message)
            .collect();
        {
            let mut all: Vec<&mut ChatMessage> =
                messages.iter_mut().chain(current.values_mut()).collect();
            self.decorate(&mut all, Some(viewer))?;
        }
        let mut messages = messages.into_iter();
        let mut events = Vec::with_capacity(rows.len());
        for row in rows {
            match row.kind.as_str() {
                "m" => events.extend(messages.next().map(RoomEvent::Message)),
                "u" => {
                    // A change to a message since trimmed away is of no use.
                    let Some(message) = row.target.and_then(|t| current.get(&t).cloned()) else {
                        continue;
                    };
                    let reaction = row
                        .data
                        .as_deref()
                        .and_then(|d| serde_json::from_str::<ReactionChange>(d).ok());
                    events.push(RoomEvent::Update(Update {
                        seq: row.seq,
                        message,
                        reaction,
                    }));
                }
                _ => {
                    if let Some(notice) = row
                        .data
                        .as_deref()
                        .and_then(|d| serde_json::from_str::<ModerationNotice>(d).ok())
                    {
                        events.push(RoomEvent::Moderation(ModerationNotice {
                            seq: row.seq,
                            ..notice
                        }));
                    }
                }
            }
        }
        Ok(events)
    }
}

impl Store for SqlStore {
    fn latest_seq(&mut self) -> Result<u64, StoreError> {
        if let Some(next) = self.next_seq {
            return Ok(next - 1);
        }
        // The floor: the latest seq of a room whose every record retention
        // by age deleted (seqs never start again, or a resume by `since`
        // would take new messages for old).
        let rows: Vec<Count> = self.exec(
            "SELECT MAX(COALESCE((SELECT MAX(seq) FROM messages), 0),
                        COALESCE((SELECT value FROM settings WHERE key = 'seq_floor'), 0)) AS n",
            Vec::new(),
        )?;
        let latest = rows.first().map_or(0, |r| r.n);
        self.next_seq = Some(latest + 1);
        Ok(latest)
    }

    fn find(&mut self, author: &str, client_id: &str) -> Result<Option<Prior>, StoreError> {
        let rows: Vec<PriorRow> = self.exec(
            "SELECT seq, ts, request FROM messages WHERE dedupe = ? AND sender = ? AND client_id = ?",
            vec![int(dedupe_key(author, client_id)), author.into(), client_id.into()],
        )?;
        Ok(rows.first().map(|r| Prior {
            seq: r.seq,
            timestamp: r.ts,
            request: r.request,
        }))
    }

    fn append(&mut self, record: &Record) -> Result<(), StoreError> {
        let empty = ChatMessage::default();
        let (kind, message, target, data) = match &record.kind {
            RecordKind::Message(m) => (
                "m",
                m,
                None,
                (!m.attachments.is_empty())
                    .then(|| serde_json::to_string(&m.attachments).ok())
                    .flatten(),
            ),
            RecordKind::Update { target, reaction } => (
                "u",
                &empty,
                Some(*target),
                reaction
                    .as_ref()
                    .and_then(|r| serde_json::to_string(r).ok()),
            ),
            RecordKind::Moderation(n) => ("x", &empty, None, serde_json::to_string(n).ok()),
        };
        let written = self.run(
            "INSERT INTO messages (seq, client_id, sender, name, body, ts, dedupe, sender_key, verified,
                                   kind, target, reply_to, role, request, data, origin)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                int(record.seq),
                record.client_id.clone().into(),
                record.author.as_str().into(),
                message.name.as_str().into(),
                message.message.as_str().into(),
                int(record.timestamp),
                record.client_id.as_deref().map(|id| int(dedupe_key(&record.author, id))).unwrap_or(SqlStorageValue::Null),
                message.sender.as_str().into(),
                int(u64::from(message.verified)),
                kind.into(),
                target.map(int).unwrap_or(SqlStorageValue::Null),
                message.reply_to.as_ref().map(|r| int(r.seq)).unwrap_or(SqlStorageValue::Null),
                message.role.map(Role::as_str).into(),
                int(record.request),
                data.into(),
                record.origin.clone().into(),
            ],
        )?;
        if written == 0 {
            return Err(StoreError(format!("record {} was not stored", record.seq)));
        }
        self.next_seq = Some(record.seq + 1);
        Ok(())
    }

    fn message(&mut self, seq: u64) -> Result<Option<(ChatMessage, String)>, StoreError> {
        let Some(row) = self
            .rows_by_seq(&[seq])?
            .into_iter()
            .find(|r| r.kind == "m")
        else {
            return Ok(None);
        };
        let mut message = row.message();
        self.decorate(&mut [&mut message], None)?;
        Ok(Some((message, row.sender)))
    }

    fn apply(&mut self, target: u64, change: &Change) -> Result<(), StoreError> {
        match change {
            Change::Edit { text, at } => {
                self.run(
                    "UPDATE messages SET body = ?, edited = ? WHERE seq = ? AND kind = 'm'",
                    vec![text.as_str().into(), int(*at), int(target)],
                )?;
            }
            Change::Delete => {
                self.run(
                    "UPDATE messages SET body = '', data = NULL, deleted = 1 WHERE seq = ? AND kind = 'm'",
                    vec![int(target)],
                )?;
                self.run("DELETE FROM reactions WHERE target = ?", vec![int(target)])?;
                self.run("DELETE FROM reports WHERE target = ?", vec![int(target)])?;
            }
            Change::React {
                emoji,
                author,
                sender,
                on: true,
                origin,
            } => {
                self.run(
                    "INSERT OR IGNORE INTO reactions (target, emoji, author, sender_key, origin) VALUES (?, ?, ?, ?, ?)",
                    vec![
                        int(target),
                        emoji.as_str().into(),
                        author.as_str().into(),
                        sender.as_str().into(),
                        origin.as_deref().map_or(SqlStorageValue::Null, Into::into),
                    ],
                )?;
            }
            Change::React {
                emoji,
                author,
                on: false,
                ..
            } => {
                self.run(
                    "DELETE FROM reactions WHERE target = ? AND emoji = ? AND author = ?",
                    vec![int(target), emoji.as_str().into(), author.as_str().into()],
                )?;
            }
        }
        Ok(())
    }

    fn purge(&mut self, sender: &str) -> Result<Purged, StoreError> {
        self.run(
            "DELETE FROM reactions WHERE target IN (SELECT seq FROM messages WHERE kind = 'm' AND sender_key = ?)",
            vec![sender.into()],
        )?;
        self.run(
            "DELETE FROM reports WHERE target IN (SELECT seq FROM messages WHERE kind = 'm' AND sender_key = ?)",
            vec![sender.into()],
        )?;
        self.tombstone_where("sender_key", sender)
    }

    fn latest_name(&mut self, sender: &str) -> Result<Option<String>, StoreError> {
        #[derive(Deserialize)]
        struct NameRow {
            name: String,
        }
        let rows = self.exec::<NameRow>(
            "SELECT name FROM messages WHERE kind = 'm' AND sender_key = ? AND name != '' ORDER BY seq DESC LIMIT 1",
            vec![sender.into()],
        )?;
        Ok(rows.into_iter().next().map(|r| r.name))
    }

    fn wrote_with_a_role(&mut self, sender: &str) -> Result<bool, StoreError> {
        #[derive(Deserialize)]
        struct One {
            #[allow(dead_code)]
            one: i64,
        }
        let rows = self.exec::<One>(
            "SELECT 1 AS one FROM messages WHERE kind = 'm' AND sender_key = ? AND role IS NOT NULL LIMIT 1",
            vec![sender.into()],
        )?;
        Ok(!rows.is_empty())
    }

    fn latest_origin(
        &mut self,
        sender: &str,
        since: u64,
        anonymous: bool,
    ) -> Result<Option<String>, StoreError> {
        #[derive(Deserialize)]
        struct OriginRow {
            origin: String,
        }
        let rows = self.exec::<OriginRow>(
            "SELECT origin FROM messages WHERE kind = 'm' AND sender_key = ? AND origin IS NOT NULL AND ts >= ?
               AND (verified = 0 OR ? = 0) ORDER BY seq DESC LIMIT 1",
            vec![sender.into(), int(since), int(u64::from(anonymous))],
        )?;
        Ok(rows.into_iter().next().map(|r| r.origin))
    }

    fn page(&mut self, query: PageQuery, viewer: &str) -> Result<Page, StoreError> {
        let (rows, limit, newest_first) = match query {
            PageQuery::Latest(limit) => {
                let q = format!(
                    "SELECT {COLUMNS} FROM messages WHERE kind = 'm' ORDER BY seq DESC LIMIT ?"
                );
                (
                    self.exec::<Row>(&q, vec![int(limit as u64 + 1)])?,
                    limit,
                    true,
                )
            }
            PageQuery::Before(before, limit) => {
                let q = format!("SELECT {COLUMNS} FROM messages WHERE seq < ? AND kind = 'm' ORDER BY seq DESC LIMIT ?");
                (
                    self.exec::<Row>(&q, vec![int(before), int(limit as u64 + 1)])?,
                    limit,
                    true,
                )
            }
            PageQuery::After(after, limit) => {
                let q = format!(
                    "SELECT {COLUMNS} FROM messages WHERE seq > ? ORDER BY seq ASC LIMIT ?"
                );
                (
                    self.exec::<Row>(&q, vec![int(after), int(limit as u64 + 1)])?,
                    limit,
                    false,
                )
            }
        };
        let more = rows.len() > limit;
        let mut rows: Vec<Row> = rows.into_iter().take(limit).collect();
        if newest_first {
            rows.reverse();
        }
        Ok(Page {
            events: self.events(rows, viewer)?,
            more,
        })
    }

    fn trim(&mut self, keep: u64) -> Result<usize, StoreError> {
        let keep = int(keep.max(1) - 1);
        // Records older than the newest `keep` messages; then events beyond
        // the newest `keep` events (never the latest record).
        let mut deleted = self.run(
            "DELETE FROM messages WHERE seq < (SELECT seq FROM messages WHERE kind = 'm' ORDER BY seq DESC LIMIT 1 OFFSET ?)",
            vec![keep.clone()],
        )?;
        deleted += self.run(
            "DELETE FROM messages WHERE kind != 'm' AND seq < (SELECT MAX(seq) FROM messages)
               AND seq < (SELECT seq FROM messages WHERE kind != 'm' ORDER BY seq DESC LIMIT 1 OFFSET ?)",
            vec![keep],
        )?;
        self.run(
            "DELETE FROM reactions WHERE target < (SELECT MIN(seq) FROM messages)",
            Vec::new(),
        )?;
        if deleted > 0 {
            self.run(DROP_GONE_REPORTS, Vec::new())?;
        }
        Ok(deleted)
    }

    fn trim_before(&mut self, timestamp: u64) -> Result<usize, StoreError> {
        // The newest record may go too: its seq is kept as the floor.
        let latest = self.latest_seq()?;
        self.set_setting("seq_floor", latest)?;
        let deleted = self.run("DELETE FROM messages WHERE ts < ?", vec![int(timestamp)])?;
        self.run(
            "DELETE FROM reactions WHERE target < COALESCE((SELECT MIN(seq) FROM messages), ?)",
            vec![int(latest.saturating_add(1))],
        )?;
        if deleted > 0 {
            self.run(DROP_GONE_REPORTS, Vec::new())?;
        }
        Ok(deleted)
    }

    fn messages_by(&mut self, author: &str) -> Result<Vec<ChatMessage>, StoreError> {
        let q =
            format!("SELECT {COLUMNS} FROM messages WHERE kind = 'm' AND sender = ? ORDER BY seq");
        let rows: Vec<Row> = self.exec(&q, vec![author.into()])?;
        let mut messages: Vec<ChatMessage> = rows.iter().map(Row::message).collect();
        {
            let mut all: Vec<&mut ChatMessage> = messages.iter_mut().collect();
            self.decorate(&mut all, None)?;
        }
        Ok(messages)
    }

    fn reactions_from(
        &mut self,
        target: u64,
        emoji: &str,
        origin: &str,
        author: &str,
    ) -> Result<u32, StoreError> {
        let rows: Vec<Count> = self.exec(
            "SELECT COUNT(*) AS n FROM reactions WHERE target = ? AND emoji = ? AND origin = ? AND author <> ?",
            vec![int(target), emoji.into(), origin.into(), author.into()],
        )?;
        Ok(rows.first().map_or(0, |r| r.n.min(u32::MAX.into()) as u32))
    }

    fn reactions_by(&mut self, author: &str) -> Result<Vec<(u64, String)>, StoreError> {
        let rows: Vec<Reacted> = self.exec(
            "SELECT target, emoji FROM reactions WHERE author = ? ORDER BY target DESC, emoji LIMIT ?",
            vec![author.into(), int(MAX_PURGE_EVENTS as u64)],
        )?;
        Ok(rows.into_iter().map(|r| (r.target, r.emoji)).collect())
    }

    fn purge_author(&mut self, author: &str, sender: &str) -> Result<Purged, StoreError> {
        // Several statements, one transaction all the same: a Durable
        // Object commits the writes made between two awaits together.
        self.run(
            "DELETE FROM reactions WHERE author = ? OR target IN (SELECT seq FROM messages WHERE kind = 'm' AND sender = ?)",
            vec![author.into(), author.into()],
        )?;
        self.run(
            "UPDATE messages SET name = '', origin = NULL WHERE kind = 'm' AND sender = ?",
            vec![author.into()],
        )?;
        let erased = self.tombstone_where("sender", author)?;
        // Moderation notices keep the notice as JSON in `data`. A reason
        // given about them may name or describe them: it goes too.
        let about = self.run(
            "UPDATE messages SET data = json_remove(data, '$.name', '$.reason') WHERE kind = 'x' AND json_extract(data, '$.sender') = ?
             AND json_extract(data, '$.erased') IS NOT 1 AND (json_extract(data, '$.name') IS NOT NULL OR json_extract(data, '$.reason') IS NOT NULL)",
            vec![sender.into()],
        )?;
        let by = self.run(
            "UPDATE messages SET data = json_set(data, '$.by', '') WHERE kind = 'x' AND sender = ? AND json_extract(data, '$.by') != ''",
            vec![author.into()],
        )?;
        self.run("DELETE FROM reads WHERE author = ?", vec![author.into()])?;
        self.run(
            "DELETE FROM reports WHERE author = ? OR target IN (SELECT seq FROM messages WHERE kind = 'm' AND sender = ?)",
            vec![author.into(), author.into()],
        )?;
        Ok(Purged {
            notices: about + by,
            ..erased
        })
    }

    fn read_position(&mut self, author: &str) -> Result<u64, StoreError> {
        let rows: Vec<Count> = self.exec(
            "SELECT seq AS n FROM reads WHERE author = ?",
            vec![author.into()],
        )?;
        Ok(rows.first().map_or(0, |r| r.n))
    }

    fn unread_after(&mut self, seq: u64, author: &str, limit: u64) -> Result<u64, StoreError> {
        // Bounded: the scan stops at `limit` matches (seq is the key).
        let rows: Vec<Count> = self.exec(
            "SELECT COUNT(*) AS n FROM (SELECT 1 FROM messages
               WHERE seq > ? AND kind = 'm' AND deleted = 0 AND sender != ? LIMIT ?)",
            vec![(seq as i64).into(), author.into(), (limit as i64).into()],
        )?;
        Ok(rows.first().map_or(0, |r| r.n))
    }

    fn set_read_position(&mut self, author: &str, seq: u64) -> Result<(), StoreError> {
        self.run(
            "INSERT INTO reads (author, seq) VALUES (?, ?) ON CONFLICT (author) DO UPDATE SET seq = excluded.seq",
            vec![author.into(), (seq as i64).into()],
        )?;
        Ok(())
    }

    fn upload(&mut self, key: &str) -> Result<Option<Upload>, StoreError> {
        let rows: Vec<UploadRow> =
            self.exec("SELECT * FROM uploads WHERE key = ?", vec![key.into()])?;
        Ok(rows.into_iter().next().map(Upload::from))
    }

    fn save_upload(&mut self, u: &Upload) -> Result<(), StoreError> {
        let opt = |v: Option<u64>| v.map(int).unwrap_or(SqlStorageValue::Null);
        self.run(
            "INSERT OR REPLACE INTO uploads (key, slot, author, name, mime, size, width, height, ticket_expires, stored, seq, abandon_at, held)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                u.key.as_str().into(),
                u.slot.as_str().into(),
                u.author.as_str().into(),
                u.name.as_str().into(),
                u.mime.as_str().into(),
                int(u.size),
                opt(u.width.map(u64::from)),
                opt(u.height.map(u64::from)),
                int(u.ticket_expires),
                int(u64::from(u.state.code())),
                opt(u.seq),
                int(u.abandon_at),
                int(u.held),
            ],
        )?;
        Ok(())
    }

    fn slot_uploads(&mut self, slot: &str) -> Result<Vec<Upload>, StoreError> {
        let rows: Vec<UploadRow> =
            self.exec("SELECT * FROM uploads WHERE slot = ?", vec![slot.into()])?;
        Ok(rows.into_iter().map(Upload::from).collect())
    }

    fn orphaned_uploads(&mut self, now: u64, limit: usize) -> Result<Vec<String>, StoreError> {
        let rows: Vec<KeyRow> = self.exec(
            "SELECT key FROM uploads u
             WHERE (u.seq IS NULL AND u.abandon_at < ?)
                OR (u.seq IS NOT NULL AND NOT EXISTS (
                    SELECT 1 FROM messages m WHERE m.seq = u.seq AND m.kind = 'm' AND m.deleted = 0))
             LIMIT ?",
            vec![int(now), int(limit as u64)],
        )?;
        Ok(rows.into_iter().map(|r| r.key).collect())
    }

    fn forget_uploads(&mut self, keys: &[String]) -> Result<(), StoreError> {
        SqlStore::forget_uploads_in(&self.sql, keys)
    }

    fn file_bytes(&mut self) -> Result<u64, StoreError> {
        SqlStore::file_bytes_in(&self.sql)
    }

    fn abandon_uploads(&mut self, author: &str) -> Result<(), StoreError> {
        self.run(
            "UPDATE uploads SET abandon_at = 0 WHERE author = ? AND seq IS NULL",
            vec![author.into()],
        )?;
        Ok(())
    }

    fn next_abandon(&mut self) -> Result<Option<u64>, StoreError> {
        let rows: Vec<Count> = self.exec(
            "SELECT MIN(abandon_at) AS n FROM uploads WHERE seq IS NULL HAVING n IS NOT NULL",
            Vec::new(),
        )?;
        Ok(rows.first().map(|r| r.n))
    }

    fn report_by(
        &mut self,
        target: u64,
        author: &str,
        origin: Option<&str>,
    ) -> Result<Option<Report>, StoreError> {
        // The author's own first, then one from the same address.
        let rows: Vec<ReportRow> = self.exec(
            &format!(
                "SELECT {REPORT_COLUMNS} FROM reports WHERE target = ? AND (author = ? OR origin = ?)
                 ORDER BY author = ? DESC LIMIT 1"
            ),
            vec![
                int(target),
                author.into(),
                origin.map(str::to_owned).into(),
                author.into(),
            ],
        )?;
        Ok(rows.into_iter().next().map(Report::from))
    }

    fn add_report(&mut self, r: &Report) -> Result<u64, StoreError> {
        let rows: Vec<Count> = self.exec(
            "INSERT INTO reports (target, author, origin, sender_key, name, verified, reason, note, ts, text, edited, files)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id AS n",
            vec![
                int(r.target),
                r.author.as_str().into(),
                r.origin.clone().into(),
                r.sender.as_str().into(),
                r.name.as_str().into(),
                int(u64::from(r.verified)),
                r.reason().as_str().into(),
                r.note.clone().into(),
                int(r.timestamp),
                r.evidence.as_ref().map(|e| e.text.clone()).into(),
                r.evidence.as_ref().and_then(|e| e.edited).map(int).into(),
                r.evidence.as_ref().and_then(Evidence::files_json).into(),
            ],
        )?;
        rows.first()
            .map(|r| r.n)
            .ok_or_else(|| StoreError("the report was not stored".into()))
    }

    fn report_counts(&mut self, target: u64) -> Result<ReportCounts, StoreError> {
        let rows: Vec<ReasonCount> = self.exec(
            "SELECT target, reason, COUNT(*) AS n FROM reports WHERE target = ? GROUP BY reason",
            vec![int(target)],
        )?;
        let mut counts = ReportCounts::new(target);
        for r in rows {
            counts.add(
                ReportReason::parse(&r.reason).unwrap_or(ReportReason::Other),
                r.n,
            );
        }
        Ok(counts)
    }

    fn reported(&mut self, limit: usize) -> Result<Vec<ReportCounts>, StoreError> {
        let rows: Vec<ReasonCount> = self.exec(
            "SELECT r.target, r.reason, COUNT(*) AS n FROM reports r
               JOIN (SELECT target, MAX(id) AS latest FROM reports GROUP BY target ORDER BY latest DESC LIMIT ?) t
               ON t.target = r.target
             GROUP BY r.target, r.reason ORDER BY MAX(t.latest) DESC",
            vec![int(limit as u64)],
        )?;
        let mut out: Vec<ReportCounts> = Vec::new();
        for r in rows {
            if out.last().is_none_or(|c| c.target != r.target) {
                out.push(ReportCounts::new(r.target));
            }
            if let Some(c) = out.last_mut() {
                c.add(
                    ReportReason::parse(&r.reason).unwrap_or(ReportReason::Other),
                    r.n,
                );
            }
        }
        Ok(out)
    }

    fn reports(
        &mut self,
        before: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<Report>, bool), StoreError> {
        let rows: Vec<ReportRow> = self.exec(
            &format!("SELECT {REPORT_COLUMNS} FROM reports WHERE id < ? ORDER BY id DESC LIMIT ?"),
            vec![
                int(before.unwrap_or(i64::MAX as u64)),
                int(limit as u64 + 1),
            ],
        )?;
        let more = rows.len() > limit;
        Ok((
            rows.into_iter().take(limit).map(Report::from).collect(),
            more,
        ))
    }

    fn dismiss_reports(&mut self, target: u64) -> Result<usize, StoreError> {
        self.run("DELETE FROM reports WHERE target = ?", vec![int(target)])
    }

    fn reported_by(&mut self, author: &str) -> Result<Vec<u64>, StoreError> {
        let rows: Vec<Count> = self.exec(
            "SELECT target AS n FROM reports WHERE author = ? ORDER BY id DESC LIMIT ?",
            vec![author.into(), int(MAX_PURGE_EVENTS as u64)],
        )?;
        Ok(rows.into_iter().map(|r| r.n).collect())
    }

    fn reports_made(&mut self, author: &str) -> Result<Vec<Report>, StoreError> {
        let rows: Vec<ReportRow> = self.exec(
            &format!("SELECT {REPORT_COLUMNS} FROM reports WHERE author = ? ORDER BY id"),
            vec![author.into()],
        )?;
        Ok(rows.into_iter().map(Report::from).collect())
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
