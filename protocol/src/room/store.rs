//! What the room core needs from storage, and a reference implementation.
//!
//! The core decides; a [`Store`] only keeps. The Durable Object implements it
//! over its SQLite database (`worker/src/room/store.rs`); [`MemoryStore`] is
//! the same contract in memory, for the core's unit and property tests. Both
//! are synchronous: a Durable Object's SQLite calls are, and the object runs
//! one event at a time, so a `find` followed by an `append` cannot interleave
//! with another sender's.
//!
//! The room's history is one sequence of [`Record`]s: messages, changes to
//! messages (kept as the message's current state plus an event at its own
//! seq) and moderation notices.

use std::collections::BTreeMap;

use crate::message::{
    ChatMessage, ModerationNotice, Reaction, ReactionChange, ReplyRef, RoomEvent, Update,
};
use crate::report::{Report, ReportCounts};

/// What a record is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordKind {
    Message(ChatMessage),
    /// A change to message `target` (its new state is kept on the message).
    Update {
        target: u64,
        reaction: Option<ReactionChange>,
    },
    Moderation(ModerationNotice),
}

/// One entry of the room's sequence as the room keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub seq: u64,
    pub timestamp: u64,
    /// Who did it (`u:<sub>`, `a:<id>`, `bot:<name>`). Never sent to clients.
    pub author: String,
    /// The id the client chose, if any (dedupe is exact on `(author, client_id)`).
    pub client_id: Option<String>,
    /// A fingerprint of what was asked, to tell a retry (same) from an id
    /// reused for something else (`id_conflict`).
    pub request: u64,
    pub kind: RecordKind,
    /// Where the author wrote a message from (a keyed hash of the address,
    /// [`super::sender_key::RoomKey::address`]): a moderator may ban them
    /// after they left, and the ban follows them there (anonymous, or a
    /// verified user trying to come back anonymously).
    pub origin: Option<String>,
}

/// Most tombstones a purge or an erasure hands back (for webhooks' one
/// `message.deleted` each): a spammer's tens of thousands of messages would
/// otherwise be loaded, and announced, in one go.
pub const MAX_PURGE_EVENTS: usize = 1_000;

/// What a purge or an erasure did: how many messages became tombstones, and
/// the first [`MAX_PURGE_EVENTS`] of them in their new state, oldest first.
#[derive(Debug, Default)]
pub struct Purged {
    pub count: usize,
    pub tombstones: Vec<ChatMessage>,
    /// Notices changed by an erasure (about the user, or by them as a
    /// moderator); more than 0 if any was.
    pub notices: usize,
}

/// An earlier record found by `(author, client_id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prior {
    pub seq: u64,
    pub timestamp: u64,
    pub request: u64,
}

/// A change to a message's current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Edit {
        text: String,
        at: u64,
    },
    Delete,
    /// `on`: add `author`'s reaction, else take it back. `origin`: where an
    /// anonymous author reacts from (a keyed hash of the address).
    React {
        emoji: String,
        author: String,
        sender: String,
        on: bool,
        origin: Option<String>,
    },
}

/// Which page of history to read. Pages are always returned oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageQuery {
    /// The newest `limit` messages, in their current state.
    Latest(usize),
    /// The newest `limit` messages with `seq < before`.
    Before(u64, usize),
    /// The oldest `limit` events (messages, updates, notices) with `seq > after`.
    After(u64, usize),
}

/// One page of events in ascending order, and whether more exist beyond it
/// (older ones for `Latest` and `Before`, newer ones for `After`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    pub events: Vec<RoomEvent>,
    pub more: bool,
}

/// Where an upload is: a ticket is out; the Worker is writing the bytes
/// (the ticket is used); the bytes are stored and may be attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UploadState {
    #[default]
    Issued,
    Claimed,
    Stored,
}

impl UploadState {
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> UploadState {
        match code {
            1 => UploadState::Claimed,
            2 => UploadState::Stored,
            _ => UploadState::Issued,
        }
    }
}

/// A file the room issued an upload ticket for, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Upload {
    /// The object key (also the ticket's): one per ticket.
    pub key: String,
    /// The file of a message it is for (derived from author, message id
    /// and file index): every ticket asked for the same file shares it.
    pub slot: String,
    /// Who may attach it.
    pub author: String,
    pub name: String,
    /// Declared when the ticket is issued; the sniffed type once stored.
    pub mime: String,
    /// Declared when the ticket is issued; the real size once stored.
    pub size: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// The current ticket's expiry: a ticket naming another is stale.
    pub ticket_expires: u64,
    pub state: UploadState,
    /// The message it was attached to.
    pub seq: Option<u64>,
    /// Never attached by then: the object is deleted.
    pub abandon_at: u64,
    /// Bytes of the object stored under this key, as far as the room knows
    /// (0: none yet). Set when an upload is stored, until the object is
    /// deleted: what counts against the site's storage
    /// ([`Store::file_bytes`]).
    pub held: u64,
}

/// Storage failed; the room answers `internal` and nothing is half-done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "storage failed: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

pub trait Store {
    /// The newest seq ever stored (0 for an empty room). Never goes down,
    /// even when retention deletes old records.
    fn latest_seq(&mut self) -> Result<u64, StoreError>;
    /// The record `author` stored with `client_id`, compared exactly.
    fn find(&mut self, author: &str, client_id: &str) -> Result<Option<Prior>, StoreError>;
    /// Store a new record; its seq is `latest_seq() + 1`.
    fn append(&mut self, record: &Record) -> Result<(), StoreError>;
    /// Message `seq` in its current state (reactions without `mine`) and its
    /// author; `None` if there is no such message.
    fn message(&mut self, seq: u64) -> Result<Option<(ChatMessage, String)>, StoreError>;
    /// Change message `target`'s current state.
    fn apply(&mut self, target: u64, change: &Change) -> Result<(), StoreError>;
    /// Tombstone every message whose public sender key is `sender`.
    fn purge(&mut self, sender: &str) -> Result<Purged, StoreError>;
    /// The name `sender` (a public sender key) last wrote under, if they
    /// wrote here and were not erased: moderation notices name members who
    /// are no longer connected.
    fn latest_name(&mut self, sender: &str) -> Result<Option<String>, StoreError>;
    /// Whether `sender` wrote here with a role (a moderator, a bot): one
    /// who is not connected now is one all the same.
    fn wrote_with_a_role(&mut self, sender: &str) -> Result<bool, StoreError>;
    /// The [`Record::origin`] of `sender`'s latest message that has one,
    /// written at `since` or later (`anonymous`: and not as a verified
    /// user).
    fn latest_origin(
        &mut self,
        sender: &str,
        since: u64,
        anonymous: bool,
    ) -> Result<Option<String>, StoreError>;
    /// A page of history as `viewer` (an author) sees it: reactions say
    /// whether the viewer made them.
    fn page(&mut self, query: PageQuery, viewer: &str) -> Result<Page, StoreError>;
    /// Keep the newest `keep` messages, and of the other records (edits,
    /// reactions, notices) at most the newest `keep` since the oldest kept
    /// message: events alone (a reaction toggled over and over) never push
    /// messages out. The latest record always stays (the latest seq
    /// survives). Returns how many records were deleted.
    fn trim(&mut self, keep: u64) -> Result<usize, StoreError>;
    /// Delete the records older than `timestamp`, the newest too (the
    /// latest seq is kept all the same: seqs never start again); returns
    /// how many were deleted.
    fn trim_before(&mut self, timestamp: u64) -> Result<usize, StoreError>;
    /// Every message of `author`, oldest first, in their current state.
    fn messages_by(&mut self, author: &str) -> Result<Vec<ChatMessage>, StoreError>;
    /// How many anonymous authors other than `author` reacted to `target`
    /// with `emoji` from `origin`.
    fn reactions_from(
        &mut self,
        target: u64,
        emoji: &str,
        origin: &str,
        author: &str,
    ) -> Result<u32, StoreError>;
    /// The reactions of `author` as `(target, emoji)`, newest target first,
    /// at most [`MAX_PURGE_EVENTS`].
    fn reactions_by(&mut self, author: &str) -> Result<Vec<(u64, String)>, StoreError>;
    /// Erase `author` (whose public sender key is `sender`): tombstone every
    /// message of theirs (their name goes too), take back their reactions,
    /// and take their name out of moderation notices: those about them
    /// (`name`) and those they gave (`by` becomes empty).
    fn purge_author(&mut self, author: &str, sender: &str) -> Result<Purged, StoreError>;
    /// How far `author` has read (0: no position kept).
    fn read_position(&mut self, author: &str) -> Result<u64, StoreError>;
    /// The messages after `seq` not by `author` and not deleted, counting
    /// up to `limit` (a returning member's unread count).
    fn unread_after(&mut self, seq: u64, author: &str, limit: u64) -> Result<u64, StoreError>;
    fn set_read_position(&mut self, author: &str, seq: u64) -> Result<(), StoreError>;
    /// The upload of object `key`, if the room issued a ticket for it.
    fn upload(&mut self, key: &str) -> Result<Option<Upload>, StoreError>;
    /// Insert or replace the upload of `upload.key`.
    fn save_upload(&mut self, upload: &Upload) -> Result<(), StoreError>;
    /// Every upload of file `slot` the room still knows (one per ticket).
    fn slot_uploads(&mut self, slot: &str) -> Result<Vec<Upload>, StoreError>;
    /// Up to `limit` objects to delete: uploads never attached by their
    /// `abandon_at` (before `now`), and those of messages since deleted,
    /// erased or trimmed.
    fn orphaned_uploads(&mut self, now: u64, limit: usize) -> Result<Vec<String>, StoreError>;
    /// Forget uploads whose objects were deleted.
    fn forget_uploads(&mut self, keys: &[String]) -> Result<(), StoreError>;
    /// The earliest `abandon_at` of an upload not attached yet.
    fn next_abandon(&mut self) -> Result<Option<u64>, StoreError>;
    /// Mark every upload of `author` not attached yet as abandoned now.
    fn abandon_uploads(&mut self, author: &str) -> Result<(), StoreError>;
    /// Bytes of the files the room holds: every upload's [`Upload::held`],
    /// until its object is deleted (uploads under way count once stored).
    fn file_bytes(&mut self) -> Result<u64, StoreError>;

    // Reports (see `room::reports`). A message's reports go with it: a
    // `Change::Delete`, a purge, an erasure of its author and retention
    // remove them; an erasure also removes the reports its user made.

    /// The open report `author` made on message `target`, if any; else,
    /// with `origin`, one an anonymous reporter made from that address.
    fn report_by(
        &mut self,
        target: u64,
        author: &str,
        origin: Option<&str>,
    ) -> Result<Option<Report>, StoreError>;
    /// Keep a new report; returns its number (increasing, never reused).
    fn add_report(&mut self, report: &Report) -> Result<u64, StoreError>;
    /// The open reports on `target`, counted by reason.
    fn report_counts(&mut self, target: u64) -> Result<ReportCounts, StoreError>;
    /// The messages with open reports, the most recently reported first,
    /// at most `limit`.
    fn reported(&mut self, limit: usize) -> Result<Vec<ReportCounts>, StoreError>;
    /// Open reports numbered below `before` (all: `None`), newest first, at
    /// most `limit`, and whether there are more.
    fn reports(
        &mut self,
        before: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<Report>, bool), StoreError>;
    /// Close the open reports on `target`; returns how many there were.
    fn dismiss_reports(&mut self, target: u64) -> Result<usize, StoreError>;
    /// The messages `author` has open reports on, at most [`MAX_PURGE_EVENTS`].
    fn reported_by(&mut self, author: &str) -> Result<Vec<u64>, StoreError>;
    /// Every open report `author` made, oldest first (their export).
    fn reports_made(&mut self, author: &str) -> Result<Vec<Report>, StoreError>;
}

/// A 53-bit FNV-1a fingerprint of a request's parts (53 bits: exact in a JS number).
pub fn fingerprint(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h & ((1 << 53) - 1)
}

/// The reference [`Store`]: records in seq order, reactions beside them.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    records: Vec<Record>,
    latest: u64,
    /// (target, emoji) -> authors with their sender keys, in reaction order.
    reactions: BTreeMap<(u64, String), Vec<(String, String)>>,
    /// Where each anonymous reaction came from: (target, emoji, author).
    reaction_origins: BTreeMap<(u64, String, String), String>,
    /// Author -> read position.
    reads: BTreeMap<String, u64>,
    uploads: BTreeMap<String, Upload>,
    /// Open reports, oldest first, and the last number given.
    reports: Vec<Report>,
    report_numbers: u64,
}

impl MemoryStore {
    /// Every open report, oldest first (for tests' assertions).
    pub fn open_reports(&self) -> &[Report] {
        &self.reports
    }

    /// Reports go with the messages they are about.
    fn drop_reports_of_gone(&mut self) {
        let records = &self.records;
        self.reports.retain(|r| {
            records
                .binary_search_by_key(&r.target, |x| x.seq)
                .is_ok_and(|i| matches!(&records[i].kind, RecordKind::Message(m) if !m.deleted))
        });
    }

    /// Every record kept, oldest first (for tests' assertions).
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Every message kept, in its current state (for tests' assertions).
    pub fn messages(&self) -> Vec<(ChatMessage, String)> {
        self.records
            .iter()
            .filter_map(|r| match &r.kind {
                RecordKind::Message(m) => Some((self.current(m, None), r.author.clone())),
                _ => None,
            })
            .collect()
    }

    /// What purging messages `seqs` did (they are tombstones now).
    fn purged(&mut self, seqs: &[u64]) -> Result<Purged, StoreError> {
        let mut tombstones = Vec::new();
        for seq in seqs.iter().take(MAX_PURGE_EVENTS) {
            if let Some((m, _)) = self.message(*seq)? {
                tombstones.push(m);
            }
        }
        Ok(Purged {
            count: seqs.len(),
            tombstones,
            notices: 0,
        })
    }

    fn reactions_of(&self, target: u64, viewer: Option<&str>) -> Vec<Reaction> {
        self.reactions
            .range((target, String::new())..)
            .take_while(|((t, _), _)| *t == target)
            .filter(|(_, who)| !who.is_empty())
            .map(|((_, emoji), who)| Reaction {
                emoji: emoji.clone(),
                count: who.len() as u32,
                mine: viewer.map(|v| who.iter().any(|(a, _)| a == v)),
            })
            .collect()
    }

    /// `m` with its reactions and its reply quote as they are now.
    fn current(&self, m: &ChatMessage, viewer: Option<&str>) -> ChatMessage {
        let reply_to = m.reply_to.as_ref().map(|r| match self.find_message(r.seq) {
            Some(target) => ReplyRef::quoting(target),
            None => ReplyRef {
                excerpt: String::new(),
                ..r.clone()
            },
        });
        ChatMessage {
            reactions: self.reactions_of(m.seq, viewer),
            reply_to,
            ..m.clone()
        }
    }

    fn find_message(&self, seq: u64) -> Option<&ChatMessage> {
        let i = self.records.binary_search_by_key(&seq, |r| r.seq).ok()?;
        match &self.records[i].kind {
            RecordKind::Message(m) => Some(m),
            _ => None,
        }
    }

    fn event(&self, r: &Record, viewer: &str) -> Option<RoomEvent> {
        Some(match &r.kind {
            RecordKind::Message(m) => RoomEvent::Message(self.current(m, Some(viewer))),
            RecordKind::Update { target, reaction } => {
                let m = self.find_message(*target)?;
                RoomEvent::Update(Update {
                    seq: r.seq,
                    message: self.current(m, Some(viewer)),
                    reaction: reaction.clone(),
                })
            }
            RecordKind::Moderation(n) => RoomEvent::Moderation(n.clone()),
        })
    }
}

impl Store for MemoryStore {
    fn latest_seq(&mut self) -> Result<u64, StoreError> {
        Ok(self.latest)
    }

    fn find(&mut self, author: &str, client_id: &str) -> Result<Option<Prior>, StoreError> {
        Ok(self
            .records
            .iter()
            .find(|r| r.author == author && r.client_id.as_deref() == Some(client_id))
            .map(|r| Prior {
                seq: r.seq,
                timestamp: r.timestamp,
                request: r.request,
            }))
    }

    fn append(&mut self, record: &Record) -> Result<(), StoreError> {
        if record.seq != self.latest + 1 {
            return Err(StoreError(format!(
                "seq {} after {}",
                record.seq, self.latest
            )));
        }
        self.latest = record.seq;
        self.records.push(record.clone());
        Ok(())
    }

    fn message(&mut self, seq: u64) -> Result<Option<(ChatMessage, String)>, StoreError> {
        let Ok(i) = self.records.binary_search_by_key(&seq, |r| r.seq) else {
            return Ok(None);
        };
        Ok(match &self.records[i].kind {
            RecordKind::Message(m) => Some((self.current(m, None), self.records[i].author.clone())),
            _ => None,
        })
    }

    fn apply(&mut self, target: u64, change: &Change) -> Result<(), StoreError> {
        if let Change::React {
            emoji,
            author,
            sender,
            on,
            origin,
        } = change
        {
            let who = self.reactions.entry((target, emoji.clone())).or_default();
            who.retain(|(a, _)| a != author);
            let key = (target, emoji.clone(), author.clone());
            self.reaction_origins.remove(&key);
            if *on {
                who.push((author.clone(), sender.clone()));
                if let Some(origin) = origin {
                    self.reaction_origins.insert(key, origin.clone());
                }
            }
            return Ok(());
        }
        let i = self
            .records
            .binary_search_by_key(&target, |r| r.seq)
            .map_err(|_| StoreError(format!("no record {target}")))?;
        if let RecordKind::Message(m) = &mut self.records[i].kind {
            match change {
                Change::Edit { text, at } => {
                    m.message = text.clone();
                    m.edited = Some(*at);
                }
                Change::Delete => {
                    m.message.clear();
                    m.attachments.clear();
                    m.deleted = true;
                }
                Change::React { .. } => {}
            }
        }
        if matches!(change, Change::Delete) {
            self.reactions.retain(|(t, _), _| *t != target);
            self.reports.retain(|r| r.target != target);
        }
        Ok(())
    }

    fn purge(&mut self, sender: &str) -> Result<Purged, StoreError> {
        let targets: Vec<u64> = self
            .records
            .iter()
            .filter_map(|r| match &r.kind {
                RecordKind::Message(m) if m.sender == sender && !m.deleted => Some(m.seq),
                _ => None,
            })
            .collect();
        for t in &targets {
            self.apply(*t, &Change::Delete)?;
        }
        self.purged(&targets)
    }

    fn latest_name(&mut self, sender: &str) -> Result<Option<String>, StoreError> {
        Ok(self.records.iter().rev().find_map(|r| match &r.kind {
            RecordKind::Message(m) if m.sender == sender && !m.name.is_empty() => {
                Some(m.name.clone())
            }
            _ => None,
        }))
    }

    fn wrote_with_a_role(&mut self, sender: &str) -> Result<bool, StoreError> {
        Ok(self.records.iter().any(
            |r| matches!(&r.kind, RecordKind::Message(m) if m.sender == sender && m.role.is_some()),
        ))
    }

    fn latest_origin(
        &mut self,
        sender: &str,
        since: u64,
        anonymous: bool,
    ) -> Result<Option<String>, StoreError> {
        Ok(self.records.iter().rev().find_map(|r| match &r.kind {
            RecordKind::Message(m)
                if m.sender == sender && r.timestamp >= since && !(anonymous && m.verified) =>
            {
                r.origin.clone()
            }
            _ => None,
        }))
    }

    fn page(&mut self, query: PageQuery, viewer: &str) -> Result<Page, StoreError> {
        let is_message = |r: &&Record| matches!(r.kind, RecordKind::Message(_));
        let (picked, limit, newest_first): (Vec<&Record>, usize, bool) = match query {
            PageQuery::Latest(limit) => (
                self.records.iter().rev().filter(is_message).collect(),
                limit,
                true,
            ),
            PageQuery::Before(before, limit) => (
                self.records
                    .iter()
                    .rev()
                    .filter(|r| r.seq < before)
                    .filter(is_message)
                    .collect(),
                limit,
                true,
            ),
            PageQuery::After(after, limit) => (
                self.records.iter().filter(|r| r.seq > after).collect(),
                limit,
                false,
            ),
        };
        let more = picked.len() > limit;
        let mut events: Vec<RoomEvent> = picked
            .into_iter()
            .take(limit)
            .filter_map(|r| self.event(r, viewer))
            .collect();
        if newest_first {
            events.reverse();
        }
        Ok(Page { events, more })
    }

    fn trim(&mut self, keep: u64) -> Result<usize, StoreError> {
        let keep = keep.max(1) as usize;
        let is_message = |r: &Record| matches!(r.kind, RecordKind::Message(_));
        // The newest `keep` of each sort: the seq below which the rest go.
        let cutoff = |records: &[Record], messages: bool| {
            records
                .iter()
                .rev()
                .filter(|r| is_message(r) == messages)
                .nth(keep - 1)
                .map(|r| r.seq)
        };
        let before = self.records.len();
        let latest = self.records.last().map_or(0, |r| r.seq);
        if let Some(cut) = cutoff(&self.records, true) {
            self.records.retain(|r| r.seq >= cut);
        }
        if let Some(cut) = cutoff(&self.records, false) {
            self.records
                .retain(|r| is_message(r) || r.seq >= cut || r.seq == latest);
        }
        let oldest = self.records.first().map_or(0, |r| r.seq);
        self.reactions.retain(|(t, _), _| *t >= oldest);
        self.drop_reports_of_gone();
        Ok(before - self.records.len())
    }

    fn trim_before(&mut self, timestamp: u64) -> Result<usize, StoreError> {
        let before = self.records.len();
        self.records.retain(|r| r.timestamp >= timestamp);
        let oldest = self.records.first().map_or(u64::MAX, |r| r.seq);
        self.reactions.retain(|(t, _), _| *t >= oldest);
        self.drop_reports_of_gone();
        Ok(before - self.records.len())
    }

    fn messages_by(&mut self, author: &str) -> Result<Vec<ChatMessage>, StoreError> {
        Ok(self
            .messages()
            .into_iter()
            .filter(|(_, a)| a == author)
            .map(|(m, _)| m)
            .collect())
    }

    fn reactions_from(
        &mut self,
        target: u64,
        emoji: &str,
        origin: &str,
        author: &str,
    ) -> Result<u32, StoreError> {
        let who = self.reactions.get(&(target, emoji.to_owned()));
        let n = who.into_iter().flatten().filter(|(a, _)| {
            a != author
                && self
                    .reaction_origins
                    .get(&(target, emoji.to_owned(), a.clone()))
                    == Some(&origin.to_owned())
        });
        Ok(n.count() as u32)
    }

    fn reactions_by(&mut self, author: &str) -> Result<Vec<(u64, String)>, StoreError> {
        let mut mine: Vec<(u64, String)> = self
            .reactions
            .iter()
            .filter(|(_, who)| who.iter().any(|(a, _)| a == author))
            .map(|((target, emoji), _)| (*target, emoji.clone()))
            .collect();
        mine.reverse();
        mine.truncate(MAX_PURGE_EVENTS);
        Ok(mine)
    }

    fn purge_author(&mut self, author: &str, sender: &str) -> Result<Purged, StoreError> {
        let targets: Vec<u64> = self
            .records
            .iter()
            .filter_map(|r| match &r.kind {
                RecordKind::Message(m) if r.author == author && !m.deleted => Some(m.seq),
                _ => None,
            })
            .collect();
        for t in &targets {
            self.apply(*t, &Change::Delete)?;
        }
        let mut notices = 0;
        for r in self.records.iter_mut() {
            match &mut r.kind {
                RecordKind::Message(m) if r.author == author => {
                    m.name.clear();
                    r.origin = None;
                }
                RecordKind::Moderation(n) => {
                    // A reason given about them may name or describe them
                    // (an erasure's own notice keeps its reason).
                    let about = n.sender.as_deref() == Some(sender) && !n.erased;
                    if about && (n.name.is_some() || n.reason.is_some()) {
                        n.name = None;
                        n.reason = None;
                        notices += 1;
                    }
                    if r.author == author && !n.by.is_empty() {
                        n.by.clear();
                        notices += 1;
                    }
                }
                _ => {}
            }
        }
        for who in self.reactions.values_mut() {
            who.retain(|(a, _)| a != author);
        }
        self.reactions.retain(|_, who| !who.is_empty());
        self.reads.remove(author);
        self.reports.retain(|r| r.author != author);
        self.drop_reports_of_gone();
        Ok(Purged {
            notices,
            ..self.purged(&targets)?
        })
    }

    fn read_position(&mut self, author: &str) -> Result<u64, StoreError> {
        Ok(self.reads.get(author).copied().unwrap_or(0))
    }

    fn unread_after(&mut self, seq: u64, author: &str, limit: u64) -> Result<u64, StoreError> {
        let unread = self.records.iter().filter(|r| {
            r.seq > seq
                && r.author != author
                && matches!(&r.kind, RecordKind::Message(m) if !m.deleted)
        });
        Ok((unread.count() as u64).min(limit))
    }

    fn set_read_position(&mut self, author: &str, seq: u64) -> Result<(), StoreError> {
        self.reads.insert(author.to_owned(), seq);
        Ok(())
    }

    fn upload(&mut self, key: &str) -> Result<Option<Upload>, StoreError> {
        Ok(self.uploads.get(key).cloned())
    }

    fn save_upload(&mut self, upload: &Upload) -> Result<(), StoreError> {
        self.uploads.insert(upload.key.clone(), upload.clone());
        Ok(())
    }

    fn slot_uploads(&mut self, slot: &str) -> Result<Vec<Upload>, StoreError> {
        Ok(self
            .uploads
            .values()
            .filter(|u| u.slot == slot)
            .cloned()
            .collect())
    }

    fn orphaned_uploads(&mut self, now: u64, limit: usize) -> Result<Vec<String>, StoreError> {
        let live = |seq: u64| self.find_message(seq).is_some_and(|m| !m.deleted);
        Ok(self
            .uploads
            .values()
            .filter(|u| match u.seq {
                None => u.abandon_at < now,
                Some(seq) => !live(seq),
            })
            .take(limit)
            .map(|u| u.key.clone())
            .collect())
    }

    fn forget_uploads(&mut self, keys: &[String]) -> Result<(), StoreError> {
        for key in keys {
            self.uploads.remove(key);
        }
        Ok(())
    }

    fn abandon_uploads(&mut self, author: &str) -> Result<(), StoreError> {
        for u in self.uploads.values_mut() {
            if u.author == author && u.seq.is_none() {
                u.abandon_at = 0;
            }
        }
        Ok(())
    }

    fn file_bytes(&mut self) -> Result<u64, StoreError> {
        Ok(self.uploads.values().map(|u| u.held).sum())
    }

    fn next_abandon(&mut self) -> Result<Option<u64>, StoreError> {
        Ok(self
            .uploads
            .values()
            .filter(|u| u.seq.is_none())
            .map(|u| u.abandon_at)
            .min())
    }

    fn report_by(
        &mut self,
        target: u64,
        author: &str,
        origin: Option<&str>,
    ) -> Result<Option<Report>, StoreError> {
        let on_target = || self.reports.iter().filter(|r| r.target == target);
        Ok(on_target()
            .find(|r| r.author == author)
            .or_else(|| on_target().find(|r| origin.is_some() && r.origin.as_deref() == origin))
            .cloned())
    }

    fn add_report(&mut self, report: &Report) -> Result<u64, StoreError> {
        self.report_numbers += 1;
        self.reports.push(Report {
            id: self.report_numbers,
            ..report.clone()
        });
        Ok(self.report_numbers)
    }

    fn report_counts(&mut self, target: u64) -> Result<ReportCounts, StoreError> {
        let mut counts = ReportCounts::new(target);
        for r in self.reports.iter().filter(|r| r.target == target) {
            counts.add(r.reason(), 1);
        }
        Ok(counts)
    }

    fn reported(&mut self, limit: usize) -> Result<Vec<ReportCounts>, StoreError> {
        let mut targets: Vec<u64> = Vec::new();
        for r in self.reports.iter().rev() {
            if !targets.contains(&r.target) {
                targets.push(r.target);
            }
        }
        targets.truncate(limit);
        targets.into_iter().map(|t| self.report_counts(t)).collect()
    }

    fn reports(
        &mut self,
        before: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<Report>, bool), StoreError> {
        let picked: Vec<Report> = self
            .reports
            .iter()
            .rev()
            .filter(|r| before.is_none_or(|b| r.id < b))
            .take(limit + 1)
            .cloned()
            .collect();
        let more = picked.len() > limit;
        Ok((picked.into_iter().take(limit).collect(), more))
    }

    fn dismiss_reports(&mut self, target: u64) -> Result<usize, StoreError> {
        let before = self.reports.len();
        self.reports.retain(|r| r.target != target);
        Ok(before - self.reports.len())
    }

    fn reported_by(&mut self, author: &str) -> Result<Vec<u64>, StoreError> {
        Ok(self
            .reports
            .iter()
            .filter(|r| r.author == author)
            .map(|r| r.target)
            .take(MAX_PURGE_EVENTS)
            .collect())
    }

    fn reports_made(&mut self, author: &str) -> Result<Vec<Report>, StoreError> {
        Ok(self
            .reports
            .iter()
            .filter(|r| r.author == author)
            .cloned()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: u64, kind: RecordKind) -> Record {
        Record {
            seq,
            timestamp: seq,
            author: "a:x".into(),
            client_id: None,
            request: 0,
            kind,
            origin: None,
        }
    }

    #[test]
    fn retention_counts_messages_so_events_alone_never_push_them_out() {
        let mut store = MemoryStore::default();
        for seq in 1..=10 {
            let m = ChatMessage {
                seq,
                message: format!("m{seq}"),
                ..ChatMessage::default()
            };
            store.append(&record(seq, RecordKind::Message(m))).unwrap();
        }
        // 90 reaction toggles on the last message.
        for seq in 11..=100 {
            let toggle = RecordKind::Update {
                target: 10,
                reaction: None,
            };
            store.append(&record(seq, toggle)).unwrap();
        }
        store.trim(30).unwrap();
        assert_eq!(store.messages().len(), 10, "every message stays");
        assert_eq!(store.records().len(), 40, "and the newest 30 events");
        assert_eq!(store.latest_seq().unwrap(), 100);
        // Past 30 messages, the oldest go, and the events before them.
        for seq in 101..=130 {
            let m = ChatMessage {
                seq,
                ..ChatMessage::default()
            };
            store.append(&record(seq, RecordKind::Message(m))).unwrap();
        }
        store.trim(30).unwrap();
        assert_eq!(store.records().first().map(|r| r.seq), Some(101));
        assert_eq!(store.records().len(), 30);
    }

    #[test]
    fn a_purge_counts_every_message_and_hands_back_the_first_thousand() {
        let mut store = MemoryStore::default();
        for seq in 1..=(MAX_PURGE_EVENTS as u64 + 5) {
            let message = ChatMessage {
                seq,
                sender: "spammer".into(),
                message: "spam".into(),
                ..ChatMessage::default()
            };
            let record = Record {
                seq,
                timestamp: seq,
                author: "a:x".into(),
                client_id: None,
                request: 0,
                kind: RecordKind::Message(message),
                origin: None,
            };
            store.append(&record).unwrap();
        }
        let purged = store.purge("spammer").unwrap();
        assert_eq!(purged.count, MAX_PURGE_EVENTS + 5);
        assert_eq!(purged.tombstones.len(), MAX_PURGE_EVENTS);
        assert!(purged
            .tombstones
            .iter()
            .all(|m| m.deleted && m.message.is_empty()));
        assert_eq!(purged.tombstones[0].seq, 1, "oldest first");
        assert_eq!(store.purge("spammer").unwrap().count, 0, "once");
    }
}
