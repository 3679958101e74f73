//! What the visitor did that the room has not acknowledged yet: messages,
//! and edits, deletes, reactions and moderation actions.
//!
//! Each keeps the client id it was created with, so sending it again after a
//! reconnect is recognised by the room as a retry and stored once. One item
//! is in flight at a time: the next goes out when the previous one is acked,
//! which keeps the room's order equal to the order they were made in (an
//! edit never overtakes the message it edits).
//!
//! A message the room refuses for a while (`rate_limited`, `internal`) is
//! tried again later, but at most [`MAX_REFUSALS`] times: one the room will
//! never take must not hold the queue behind it forever. It is then marked
//! failed, for the visitor to retry or discard, and the rest go on.

use crate::client_frame::{ClientFrame, FileRef, ModerationAction, UploadRequest};
use crate::error::{ErrorCode, ProtocolError};
use crate::report::ReportReason;

/// A file going out with a message. The adapter keeps its bytes under
/// `local` until the message is sent or dropped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutgoingFile {
    pub local: u32,
    pub name: String,
    pub size: u64,
    pub mime: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub alt: String,
    /// Its object key, once uploaded.
    pub key: Option<String>,
    /// Its bytes are being uploaded now.
    pub uploading: bool,
}

impl OutgoingFile {
    pub fn new(
        local: u32,
        name: &str,
        size: u64,
        mime: &str,
        width: Option<u32>,
        height: Option<u32>,
        alt: &str,
    ) -> Self {
        OutgoingFile {
            local,
            name: name.to_owned(),
            size,
            mime: mime.to_owned(),
            width,
            height,
            alt: alt.to_owned(),
            key: None,
            uploading: false,
        }
    }
}

/// What an outbox item asks the room to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Send {
        text: String,
        reply_to: Option<u64>,
        /// Uploaded one by one before the message goes out.
        files: Vec<OutgoingFile>,
    },
    Edit {
        target: u64,
        text: String,
    },
    Delete {
        target: u64,
    },
    React {
        target: u64,
        emoji: String,
        on: bool,
    },
    Moderate {
        action: ModerationAction,
        reason: Option<String>,
    },
    Report {
        target: u64,
        reason: ReportReason,
        note: Option<String>,
    },
}

impl Action {
    /// What goes out next for it, under client id `id`: a request for the
    /// next file's upload ticket, the frame itself once every file is
    /// uploaded, or nothing while a file's upload is running.
    pub fn next_frame(&self, id: &str) -> Option<ClientFrame> {
        if let Action::Send { files, .. } = self {
            if let Some((file, f)) = files.iter().enumerate().find(|(_, f)| f.key.is_none()) {
                return (!f.uploading).then(|| ClientFrame::Upload {
                    id: id.to_owned(),
                    file: file as u32,
                    request: UploadRequest {
                        name: f.name.clone(),
                        size: f.size,
                        mime: f.mime.clone(),
                        width: f.width,
                        height: f.height,
                    },
                });
            }
        }
        Some(self.frame(id))
    }

    /// The frame that carries it, under client id `id`.
    pub fn frame(&self, id: &str) -> ClientFrame {
        let id = id.to_owned();
        // Each field cloned as needed, not the whole action first (its
        // files' names, types and sizes, which the frame does not carry).
        match self {
            Action::Send {
                text,
                reply_to,
                files,
            } => ClientFrame::Send {
                id: Some(id),
                message: text.clone(),
                reply_to: *reply_to,
                attachments: files
                    .iter()
                    .map(|f| FileRef {
                        key: f.key.clone().unwrap_or_default(),
                        alt: f.alt.clone(),
                    })
                    .collect(),
            },
            Action::Edit { target, text } => ClientFrame::Edit {
                id,
                target: *target,
                message: text.clone(),
            },
            Action::Delete { target } => ClientFrame::Delete {
                id,
                target: *target,
            },
            Action::React { target, emoji, on } => ClientFrame::React {
                id,
                target: *target,
                emoji: emoji.clone(),
                on: *on,
            },
            Action::Moderate { action, reason } => ClientFrame::Moderate {
                id,
                action: action.clone(),
                reason: reason.clone(),
            },
            Action::Report {
                target,
                reason,
                note,
            } => ClientFrame::Report {
                id,
                target: *target,
                reason: *reason,
                note: note.clone(),
            },
        }
    }

    /// The text of a message being sent (shown as "Sending…").
    pub fn sent_text(&self) -> Option<&str> {
        match self {
            Action::Send { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// Refusals of one message before it is marked failed.
pub const MAX_REFUSALS: u32 = 8;

/// What became of a message the room refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// It will be sent again after a pause.
    WillRetry,
    /// It is marked failed (refused for good, or too often).
    Failed,
    /// No such message is queued.
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OutboxState {
    /// Waiting for the connection or for the room's ack.
    Pending,
    /// Refused by the room for good (too long, bad text...); the visitor may retry or discard it.
    Failed(ProtocolError),
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    pub id: String,
    pub action: Action,
    pub state: OutboxState,
    /// Do not send before this time (after a `rate_limited` answer).
    pub not_before: f64,
    /// That time is slow mode's: a change of slow mode lets it go at once.
    pub slow_mode_wait: bool,
    /// Times the room refused it since it was queued or last retried.
    pub refusals: u32,
    /// When it was queued (ms since the epoch): kept ones go stale.
    pub at: f64,
}

#[derive(Debug, Clone)]
pub struct Outbox {
    items: Vec<OutboxItem>,
    capacity: usize,
    in_flight: Option<String>,
    /// Ids that left (stored, cancelled, discarded), the latest
    /// [`GONE_MEMORY`]: a message another tab kept is told from one of ours
    /// that is done (see `unsent::encode`).
    gone: Vec<String>,
}

/// Ids remembered after they left the outbox.
pub(crate) const GONE_MEMORY: usize = 256;

/// Default bound: a visitor offline for a long time cannot queue without limit.
pub const OUTBOX_CAPACITY: usize = 50;

impl Default for Outbox {
    fn default() -> Self {
        Outbox::with_capacity(OUTBOX_CAPACITY)
    }
}

impl Outbox {
    pub fn with_capacity(capacity: usize) -> Self {
        Outbox {
            items: Vec::new(),
            capacity,
            in_flight: None,
            gone: Vec::new(),
        }
    }

    pub fn is_full(&self) -> bool {
        self.items.len() >= self.capacity
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn items(&self) -> impl Iterator<Item = &OutboxItem> {
        self.items.iter()
    }

    /// Queue an action made at `at`, `Pending`, or one an earlier page
    /// kept, in the state it had; false if the outbox is full.
    pub fn push(&mut self, id: String, action: Action, at: f64, state: OutboxState) -> bool {
        if self.is_full() {
            return false;
        }
        self.items.push(OutboxItem {
            id,
            action,
            state,
            not_before: 0.0,
            slow_mode_wait: false,
            refusals: 0,
            at,
        });
        true
    }

    /// The next message to transmit now, if none is in flight. Marks it in flight.
    pub fn next_to_send(&mut self, now: f64) -> Option<&OutboxItem> {
        if self.in_flight.is_some() {
            return None;
        }
        let item = self
            .items
            .iter()
            .find(|i| i.state == OutboxState::Pending)?;
        if item.not_before > now {
            return None;
        }
        self.in_flight = Some(item.id.clone());
        Some(item)
    }

    /// Slow mode changed (turned off, most likely): what waits for it goes
    /// now; the room says again how long to wait if it still must.
    pub fn slow_mode_changed(&mut self) {
        for i in self.items.iter_mut().filter(|i| i.slow_mode_wait) {
            // Past, but not 0: `wake_at` then asks for a call at once.
            i.not_before = i.not_before.min(1.0);
            i.slow_mode_wait = false;
        }
    }

    /// When the first pending message may be sent again, if it is waiting.
    pub fn wake_at(&self) -> Option<f64> {
        if self.in_flight.is_some() {
            return None;
        }
        self.items
            .iter()
            .find(|i| i.state == OutboxState::Pending)
            .map(|i| i.not_before)
            .filter(|&t| t > 0.0)
    }

    /// The connection dropped: whatever was in flight will be sent again.
    pub fn connection_lost(&mut self) {
        self.in_flight = None;
    }

    /// The room stored it: remove and return it.
    pub fn ack(&mut self, id: &str) -> Option<OutboxItem> {
        if self.in_flight.as_deref() == Some(id) {
            self.in_flight = None;
        }
        let pos = self.items.iter().position(|i| i.id == id)?;
        self.forget(id);
        Some(self.items.remove(pos))
    }

    fn forget(&mut self, id: &str) {
        if self.gone.len() == GONE_MEMORY {
            self.gone.remove(0);
        }
        self.gone.push(id.to_owned());
    }

    /// Whether `id` is, or was, one of this outbox's.
    pub(crate) fn knows(&self, id: &str) -> bool {
        self.items.iter().any(|i| i.id == id) || self.gone.iter().any(|g| g == id)
    }

    /// The room refused `id` at `now`: try again in `retry_in` ms if the
    /// refusal is passing and has not happened too often, else mark it failed.
    pub fn refused(&mut self, id: &str, error: ProtocolError, now: f64, retry_in: f64) -> Refusal {
        if self.in_flight.as_deref() == Some(id) {
            self.in_flight = None;
        }
        let Some(item) = self.items.iter_mut().find(|i| i.id == id) else {
            return Refusal::Unknown;
        };
        // Slow mode says exactly when the room will take it: not a refusal that counts.
        if let (ErrorCode::SlowMode, Some(wait)) = (error.code, error.retry_after) {
            item.not_before = now + wait as f64;
            item.slow_mode_wait = true;
            return Refusal::WillRetry;
        }
        item.refusals += 1;
        let passing = matches!(
            error.code,
            ErrorCode::RateLimited | ErrorCode::Internal | ErrorCode::TicketExpired
        );
        if passing && item.refusals < MAX_REFUSALS {
            item.not_before = now + retry_in;
            return Refusal::WillRetry;
        }
        item.state = OutboxState::Failed(error);
        Refusal::Failed
    }

    /// The session ended for good (a ban, an erased room): item `id`, if
    /// still waiting, can never go; it fails with `error`.
    pub fn fail(&mut self, id: &str, error: ProtocolError) {
        if self.in_flight.as_deref() == Some(id) {
            self.in_flight = None;
        }
        if let Some(item) = self.items.iter_mut().find(|i| i.id == id) {
            if item.state == OutboxState::Pending {
                item.state = OutboxState::Failed(error);
            }
        }
    }

    /// Put a failed message back in the queue. One refused for its id goes
    /// by `fresh_id` from now on (the room would refuse the old one again).
    pub fn retry(&mut self, id: &str, fresh_id: String) -> Option<&OutboxItem> {
        let pos = self
            .items
            .iter()
            .position(|i| i.id == id && i.state != OutboxState::Pending)?;
        if matches!(&self.items[pos].state, OutboxState::Failed(e) if e.code == ErrorCode::IdConflict)
        {
            // The old id is done with: a copy kept under it (another tab's
            // view of storage) is not another tab's message.
            let old = std::mem::replace(&mut self.items[pos].id, fresh_id);
            self.forget(&old);
        }
        let item = &mut self.items[pos];
        // Its uploads may be gone (swept while it waited): upload them again.
        if let Action::Send { files, .. } = &mut item.action {
            for f in files {
                f.key = None;
                f.uploading = false;
            }
        }
        item.state = OutboxState::Pending;
        item.not_before = 0.0;
        item.refusals = 0;
        Some(item)
    }

    /// The message in flight, if it is `id`.
    pub fn in_flight_mut(&mut self, id: &str) -> Option<&mut OutboxItem> {
        if self.in_flight.as_deref() != Some(id) {
            return None;
        }
        self.items.iter_mut().find(|i| i.id == id)
    }

    /// The file `local` of message `id`, in flight or not.
    pub fn file_mut(&mut self, id: &str, local: u32) -> Option<&mut OutgoingFile> {
        match &mut self.items.iter_mut().find(|i| i.id == id)?.action {
            Action::Send { files, .. } => files.iter_mut().find(|f| f.local == local),
            _ => None,
        }
    }

    /// Drop a message the visitor cancelled, even in flight (its upload);
    /// what it was, if it was here.
    pub fn cancel(&mut self, id: &str) -> Option<Action> {
        if self.in_flight.as_deref() == Some(id) {
            self.in_flight = None;
        }
        let at = self.items.iter().position(|i| i.id == id)?;
        let item = self.items.remove(at);
        self.forget(id);
        Some(item.action)
    }

    fn remove(&mut self, id: &str) -> bool {
        let before = self.items.len();
        self.items.retain(|i| i.id != id);
        let removed = self.items.len() != before;
        if removed {
            self.forget(id);
        }
        removed
    }

    /// The clock was set back by `by` ms: a pause after a refusal keeps
    /// its length instead of growing by that much.
    pub(crate) fn clock_set_back(&mut self, by: f64) {
        for i in &mut self.items {
            if i.not_before > 0.0 {
                i.not_before = (i.not_before - by).max(0.0);
            }
        }
    }

    /// Drop a message the visitor gave up on (not one in flight).
    pub fn discard(&mut self, id: &str) -> bool {
        if self.in_flight.as_deref() == Some(id) {
            return false;
        }
        self.remove(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn text(t: &str) -> Action {
        Action::Send {
            text: t.into(),
            reply_to: None,
            files: Vec::new(),
        }
    }

    #[test]
    fn one_in_flight_in_order() {
        let mut o = Outbox::default();
        assert!(
            o.push("a".into(), text("1"), 0.0, OutboxState::Pending)
                && o.push("b".into(), text("2"), 0.0, OutboxState::Pending)
        );
        assert_eq!(o.next_to_send(0.0).unwrap().id, "a");
        assert!(o.next_to_send(0.0).is_none(), "b waits for a's ack");
        assert_eq!(o.ack("a").unwrap().action, text("1"));
        assert_eq!(o.next_to_send(0.0).unwrap().id, "b");
    }

    #[test]
    fn reconnect_resends_the_same_id() {
        let mut o = Outbox::default();
        o.push("a".into(), text("1"), 0.0, OutboxState::Pending);
        assert_eq!(o.next_to_send(0.0).unwrap().id, "a");
        o.connection_lost();
        assert_eq!(o.next_to_send(1.0).unwrap().id, "a");
    }

    fn limited() -> ProtocolError {
        ProtocolError::new(ErrorCode::RateLimited, "slow down")
    }

    #[test]
    fn rate_limited_waits_failed_stays_until_retried() {
        let mut o = Outbox::default();
        o.push("a".into(), text("1"), 0.0, OutboxState::Pending);
        o.push("b".into(), text("2"), 0.0, OutboxState::Pending);
        o.next_to_send(0.0);
        assert_eq!(o.refused("a", limited(), 0.0, 1000.0), Refusal::WillRetry);
        assert!(o.next_to_send(500.0).is_none());
        assert_eq!(o.wake_at(), Some(1000.0));
        assert_eq!(o.next_to_send(1000.0).unwrap().id, "a");
        assert_eq!(
            o.refused(
                "a",
                ProtocolError::new(ErrorCode::TooLong, "long"),
                0.0,
                0.0
            ),
            Refusal::Failed
        );
        assert_eq!(
            o.next_to_send(1000.0).unwrap().id,
            "b",
            "a failed item does not block the queue"
        );
        assert!(o.retry("a", "fresh".into()).is_some());
        assert_eq!(
            o.items().next().unwrap().id,
            "a",
            "only an id conflict changes the id"
        );
        assert!(o.discard("a"));
        assert!(!o.discard("b"), "in flight");
        assert_eq!(o.len(), 1);
        assert_eq!(o.refused("zzz", limited(), 0.0, 0.0), Refusal::Unknown);
    }

    #[test]
    fn a_message_refused_again_and_again_fails_and_lets_the_rest_go() {
        let mut o = Outbox::default();
        o.push("stuck".into(), text("1"), 0.0, OutboxState::Pending);
        o.push("next".into(), text("2"), 0.0, OutboxState::Pending);
        let mut t = 0.0;
        let mut outcomes = Vec::new();
        while let Some(item) = o.next_to_send(t) {
            if item.id == "next" {
                break;
            }
            outcomes.push(o.refused("stuck", limited(), t, 1500.0));
            t += 1500.0;
        }
        assert_eq!(outcomes.len() as u32, MAX_REFUSALS);
        assert_eq!(outcomes.last(), Some(&Refusal::Failed));
        assert!(matches!(
            o.items().next().unwrap().state,
            OutboxState::Failed(_)
        ));
    }

    #[test]
    fn an_id_conflict_is_retried_under_a_fresh_id() {
        let mut o = Outbox::default();
        o.push("taken".into(), text("1"), 0.0, OutboxState::Pending);
        o.next_to_send(0.0);
        assert_eq!(
            o.refused(
                "taken",
                ProtocolError::new(ErrorCode::IdConflict, "used"),
                0.0,
                0.0
            ),
            Refusal::Failed
        );
        assert_eq!(o.retry("taken", "fresh".into()).unwrap().id, "fresh");
        assert_eq!(o.next_to_send(0.0).unwrap().id, "fresh");
    }

    #[test]
    fn bounded() {
        let mut o = Outbox::with_capacity(2);
        assert!(
            o.push("a".into(), text(""), 0.0, OutboxState::Pending)
                && o.push("b".into(), text(""), 0.0, OutboxState::Pending)
        );
        assert!(!o.push("c".into(), text(""), 0.0, OutboxState::Pending));
    }
}
