//! What the room core needs from storage, and a reference implementation.
//!
//! The core decides; a [`Store`] only keeps. The Durable Object implements it
//! over its SQLite database (`worker/src/room/store.rs`); [`MemoryStore`] is
//! the same contract in memory, for the core's unit and property tests. Both
//! are synchronous: a Durable Object's SQLite calls are, and the object runs
//! one event at a time, so a `find` followed by an `append` cannot interleave
//! with another sender's.

use crate::message::ChatMessage;

/// A message as the room keeps it: what clients see, plus who really sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub message: ChatMessage,
    /// The sender's scope for idempotent retries (`u:<sub>` for a verified
    /// user, `a:<id>` for an anonymous sender key). Never sent to clients.
    pub author: String,
    /// The id the client chose, if any (dedupe is exact on `(author, client_id)`).
    pub client_id: Option<String>,
}

/// Which page of history to read. Pages are always returned oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageQuery {
    /// The newest `limit` messages.
    Latest(usize),
    /// The newest `limit` messages with `seq < before`.
    Before(u64, usize),
    /// The oldest `limit` messages with `seq > after`.
    After(u64, usize),
}

/// One page of messages in ascending order, and whether more exist beyond it
/// (older ones for `Latest` and `Before`, newer ones for `After`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    pub messages: Vec<ChatMessage>,
    pub more: bool,
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
    /// even when retention deletes old messages.
    fn latest_seq(&mut self) -> Result<u64, StoreError>;
    /// The message `author` stored with `client_id`, compared exactly.
    fn find(&mut self, author: &str, client_id: &str) -> Result<Option<StoredMessage>, StoreError>;
    /// Store a new message; its seq is `latest_seq() + 1`.
    fn append(&mut self, message: &StoredMessage) -> Result<(), StoreError>;
    fn page(&mut self, query: PageQuery) -> Result<Page, StoreError>;
    /// Delete all but the newest `keep` messages (at least one is kept, so the
    /// latest seq survives); returns how many were deleted.
    fn trim(&mut self, keep: u64) -> Result<usize, StoreError>;
}

/// The reference [`Store`]: a vector in seq order.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    messages: Vec<StoredMessage>,
    latest: u64,
}

impl MemoryStore {
    /// Every stored message, oldest first (for tests' assertions).
    pub fn all(&self) -> &[StoredMessage] {
        &self.messages
    }
}

impl Store for MemoryStore {
    fn latest_seq(&mut self) -> Result<u64, StoreError> {
        Ok(self.latest)
    }

    fn find(&mut self, author: &str, client_id: &str) -> Result<Option<StoredMessage>, StoreError> {
        Ok(self
            .messages
            .iter()
            .find(|m| m.author == author && m.client_id.as_deref() == Some(client_id))
            .cloned())
    }

    fn append(&mut self, message: &StoredMessage) -> Result<(), StoreError> {
        if message.message.seq != self.latest + 1 {
            return Err(StoreError(format!(
                "seq {} after {}",
                message.message.seq, self.latest
            )));
        }
        self.latest = message.message.seq;
        self.messages.push(message.clone());
        Ok(())
    }

    fn page(&mut self, query: PageQuery) -> Result<Page, StoreError> {
        let all = self.messages.iter().map(|m| &m.message);
        let (mut picked, limit, newest_first): (Vec<&ChatMessage>, usize, bool) = match query {
            PageQuery::Latest(limit) => (all.rev().collect(), limit, true),
            PageQuery::Before(before, limit) => {
                (all.rev().filter(|m| m.seq < before).collect(), limit, true)
            }
            PageQuery::After(after, limit) => {
                (all.filter(|m| m.seq > after).collect(), limit, false)
            }
        };
        let more = picked.len() > limit;
        picked.truncate(limit);
        if newest_first {
            picked.reverse();
        }
        Ok(Page {
            messages: picked.into_iter().cloned().collect(),
            more,
        })
    }

    fn trim(&mut self, keep: u64) -> Result<usize, StoreError> {
        let keep = keep.max(1) as usize;
        let drop = self.messages.len().saturating_sub(keep);
        self.messages.drain(..drop);
        Ok(drop)
    }
}
