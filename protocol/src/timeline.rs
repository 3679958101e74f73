//! The client's view of a room's sequence: which events (messages, updates,
//! moderation notices) have been applied, in order, exactly once.
//!
//! Events arrive from several places (the page sent on join or resume, live
//! frames, acks of our own sends, gap fills) and possibly out of order or
//! twice (a resume overlapping what we saw). The timeline releases them
//! strictly by `seq`: an event is released when every event before it has
//! been, and never again. A gap (a live event ahead of what we have) is held
//! back and filled by asking the server for what is missing. A page that
//! answers "everything after S" is complete by definition: seqs missing
//! from it (trimmed by retention) are not waited for.

use crate::message::{ChatMessage, RoomEvent};

/// Most out-of-order events held back while a gap is filled.
const MAX_HELD: usize = 1000;

#[derive(Debug, Default, Clone)]
pub struct Timeline {
    /// Every event up to and including this seq has been released (0 = none yet).
    shown_through: u64,
    /// True once the first page arrived and `shown_through` means something.
    anchored: bool,
    /// Events ahead of a gap, waiting for it to close, sorted by descending
    /// seq (the next one to release is last). A plain sorted Vec: it is
    /// almost always empty, and a map would add kilobytes to the widget.
    held: Vec<RoomEvent>,
    /// The oldest message seq on screen, for paging back.
    oldest_shown: Option<u64>,
    /// Whether the server has messages older than `oldest_shown`.
    older_exist: bool,
    /// While the reader is far up a long list, the view drops what arrives
    /// below them, to stay small: it shows events only up to this seq. The
    /// rest is released all the same (counted, told to the page) and paged
    /// back in as the reader comes down ([`Timeline::fill_newer`]), or
    /// replaced by the latest page ([`Timeline::restart`]). `None`: the view
    /// shows everything released.
    newest_shown: Option<u64>,
}

impl Timeline {
    /// The seq to resume after on reconnect, if anything has been shown.
    pub fn resume_after(&self) -> Option<u64> {
        self.anchored.then_some(self.shown_through)
    }

    pub fn shown_through(&self) -> u64 {
        self.shown_through
    }

    /// Whether a gap is open (events are held back).
    pub fn has_gap(&self) -> bool {
        !self.held.is_empty()
    }

    pub fn oldest_shown(&self) -> Option<u64> {
        self.oldest_shown
    }

    pub fn older_exist(&self) -> bool {
        self.older_exist
    }

    pub fn newest_shown(&self) -> Option<u64> {
        self.newest_shown
    }

    /// The page sent on a fresh join: the newest messages in their current
    /// state, which stand for everything up to `latest` (the welcome's seq).
    pub fn start(
        &mut self,
        page: Vec<RoomEvent>,
        older_exist: bool,
        latest: u64,
    ) -> Vec<RoomEvent> {
        if self.anchored {
            // A second join page (only a misbehaving server sends one): take
            // what is new from it, never re-show or reorder (found by fuzzing).
            return self.receive(page);
        }
        self.anchored = true;
        self.shown_through = page
            .last()
            .map_or(latest, RoomEvent::seq)
            .max(latest)
            .max(self.shown_through);
        self.oldest_shown = page.iter().find_map(message_seq);
        self.older_exist = older_exist;
        let through = self.shown_through;
        self.held.retain(|e| e.seq() > through);
        let mut released = page;
        released.extend(self.release());
        released
    }

    /// A page answering "everything after `after`": complete up to its last
    /// event, so it is released in order even where seqs are missing.
    pub fn receive_page(&mut self, after: u64, page: Vec<RoomEvent>) -> Vec<RoomEvent> {
        if !self.anchored || after > self.shown_through {
            return self.receive(page);
        }
        let mut out = Vec::new();
        for e in page {
            if e.seq() > self.shown_through {
                self.mark_released(&e);
                out.push(e);
            }
        }
        let through = self.shown_through;
        self.held.retain(|e| e.seq() > through);
        out.extend(self.release());
        out
    }

    /// Events from a live frame, an ack or a gap fill. Returns those that
    /// can be applied now, in order.
    pub fn receive(&mut self, events: impl IntoIterator<Item = RoomEvent>) -> Vec<RoomEvent> {
        let mut out = Vec::new();
        for e in events {
            let seq = e.seq();
            if self.anchored && self.held.is_empty() && seq == self.shown_through + 1 {
                // The usual case: the next event, in order.
                self.mark_released(&e);
                out.push(e);
                continue;
            }
            if seq <= self.shown_through {
                continue;
            }
            // Descending order: find where this seq goes.
            match self.held.binary_search_by(|h| seq.cmp(&h.seq())) {
                Ok(_) => {}
                Err(pos) if self.held.len() < MAX_HELD => self.held.insert(pos, e),
                Err(_) => {}
            }
        }
        out.extend(self.release());
        out
    }

    fn mark_released(&mut self, e: &RoomEvent) {
        self.shown_through = e.seq();
        if self.oldest_shown.is_none() {
            self.oldest_shown = message_seq(e);
        }
    }

    fn release(&mut self) -> Vec<RoomEvent> {
        let mut out = Vec::new();
        if !self.anchored {
            return out;
        }
        while self
            .held
            .last()
            .is_some_and(|e| e.seq() == self.shown_through + 1)
        {
            if let Some(e) = self.held.pop() {
                self.mark_released(&e);
                out.push(e);
            }
        }
        out
    }

    /// A page of older messages (answer to `history before`). Returns the
    /// ones not already on screen, ascending.
    pub fn prepend(&mut self, page: Vec<RoomEvent>, more: bool) -> Vec<ChatMessage> {
        let oldest = self.oldest_shown.unwrap_or(u64::MAX);
        let older: Vec<ChatMessage> = page
            .into_iter()
            .filter_map(|e| match e {
                RoomEvent::Message(m) if m.seq < oldest => Some(m),
                _ => None,
            })
            .collect();
        if let Some(first) = older.first() {
            self.oldest_shown = Some(first.seq);
        }
        self.older_exist = more;
        older
    }

    /// The view dropped messages from the top to stay small; they can be
    /// paged back in.
    pub fn forget_older_than(&mut self, seq: u64) {
        if self.oldest_shown.is_some_and(|o| o < seq) {
            self.oldest_shown = Some(seq);
            self.older_exist = true;
        }
    }

    /// The view dropped what came after `seq` (the reader is far above it).
    pub fn forget_newer_than(&mut self, seq: u64) {
        if seq < self.shown_through {
            self.newest_shown = Some(self.newest_shown.map_or(seq, |n| n.min(seq)));
        }
    }

    /// A returning visitor missed more than the join page holds: the view
    /// lists none of it and starts after their read position `read`, paged
    /// in from there ([`Timeline::fill_newer`]) and back before it
    /// ([`Timeline::prepend`]).
    pub fn start_after(&mut self, read: u64) {
        if read < self.shown_through {
            self.newest_shown = Some(read);
            self.oldest_shown = Some(read + 1);
            self.older_exist = true;
        }
    }

    /// An `after` page asked for to continue the view below its
    /// `newest_shown`. Takes from `page` and returns the messages to add
    /// below what is shown, in their current state. As in any history
    /// page, notices are not listed (nor updates: they are in the state).
    /// What it leaves in `page` (events not released yet) is for
    /// [`Timeline::receive_page`].
    pub fn fill_newer(
        &mut self,
        after: u64,
        page: &mut Vec<RoomEvent>,
        more: bool,
    ) -> Vec<ChatMessage> {
        let through = self.shown_through;
        let current = self.newest_shown == Some(after);
        let end = page.last().map_or(after, RoomEvent::seq);
        // Pages are in ascending order.
        let released = page.partition_point(|e| e.seq() <= through);
        let rest = page.split_off(released);
        let below = messages_in(std::mem::replace(page, rest), after, through + 1);
        if !current {
            return Vec::new();
        }
        // The page is complete up to its last event, and up to the room's
        // latest without `more`.
        self.newest_shown = Some(end).filter(|&end| more && end < through);
        below
    }

    /// The answer to a jump to the latest (`before` = what was released,
    /// plus one): the view now shows this page instead of what it showed.
    /// What was released since the jump is still below it.
    pub fn restart(&mut self, before: u64, page: Vec<RoomEvent>, more: bool) -> Vec<ChatMessage> {
        let latest = messages_in(page, 0, before);
        self.oldest_shown = latest.first().map(|m| m.seq);
        self.older_exist = more;
        let end = before.saturating_sub(1);
        self.newest_shown = Some(end).filter(|&end| end < self.shown_through);
        latest
    }
}

/// The messages among `events` with `after < seq < before`.
fn messages_in(events: Vec<RoomEvent>, after: u64, before: u64) -> Vec<ChatMessage> {
    events
        .into_iter()
        .filter_map(|e| match e {
            RoomEvent::Message(m) if m.seq > after && m.seq < before => Some(m),
            _ => None,
        })
        .collect()
}

fn message_seq(e: &RoomEvent) -> Option<u64> {
    match e {
        RoomEvent::Message(m) => Some(m.seq),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{ModerationNotice, Update};

    fn m(seq: u64) -> RoomEvent {
        RoomEvent::Message(ChatMessage {
            seq,
            id: format!("c{seq}"),
            message: format!("m{seq}"),
            timestamp: seq,
            ..ChatMessage::default()
        })
    }
    fn u(seq: u64, target: u64) -> RoomEvent {
        RoomEvent::Update(Update {
            seq,
            message: ChatMessage {
                seq: target,
                ..ChatMessage::default()
            },
            reaction: None,
        })
    }
    fn n(seq: u64) -> RoomEvent {
        RoomEvent::Moderation(ModerationNotice {
            seq,
            action: "lock".into(),
            ..ModerationNotice::default()
        })
    }
    fn seqs(v: &[RoomEvent]) -> Vec<u64> {
        v.iter().map(RoomEvent::seq).collect()
    }

    #[test]
    fn join_then_live_in_order() {
        let mut t = Timeline::default();
        assert_eq!(t.resume_after(), None);
        assert_eq!(
            seqs(&t.start(vec![m(8), m(9), m(10)], true, 10)),
            [8, 9, 10]
        );
        assert_eq!(seqs(&t.receive([m(11)])), [11]);
        assert_eq!(t.resume_after(), Some(11));
        assert_eq!(t.oldest_shown(), Some(8));
        assert!(t.older_exist());
    }

    #[test]
    fn the_join_page_stands_for_everything_up_to_the_latest_seq() {
        // The newest events were updates: the page holds messages up to 10, the room is at 12.
        let mut t = Timeline::default();
        assert_eq!(seqs(&t.start(vec![m(9), m(10)], true, 12)), [9, 10]);
        assert_eq!(
            seqs(&t.receive([u(13, 9)])),
            [13],
            "no gap to fill for 11 and 12"
        );
    }

    #[test]
    fn duplicates_are_released_once() {
        let mut t = Timeline::default();
        t.start(vec![m(1), m(2)], false, 2);
        assert!(t.receive([m(2), m(1)]).is_empty());
        assert_eq!(seqs(&t.receive([u(3, 1), u(3, 1)])), [3]);
        assert!(t.receive([u(3, 1)]).is_empty());
    }

    #[test]
    fn gaps_are_held_until_filled() {
        let mut t = Timeline::default();
        t.start(vec![m(1)], false, 1);
        assert!(t.receive([n(4)]).is_empty());
        assert!(t.has_gap());
        assert!(t.receive([u(3, 1)]).is_empty());
        assert_eq!(seqs(&t.receive([m(2)])), [2, 3, 4]);
        assert!(!t.has_gap());
    }

    #[test]
    fn an_after_page_is_complete_even_where_retention_removed_seqs() {
        let mut t = Timeline::default();
        t.start(vec![m(1)], false, 1);
        assert!(t.receive([m(9)]).is_empty(), "held behind a gap");
        assert_eq!(
            seqs(&t.receive_page(1, vec![m(5), u(7, 5), m(8)])),
            [5, 7, 8, 9]
        );
        assert!(!t.has_gap());
        assert_eq!(seqs(&t.receive([m(10)])), [10]);
    }

    #[test]
    fn empty_room_starts_at_latest() {
        let mut t = Timeline::default();
        assert!(t.start(vec![], false, 0).is_empty());
        assert_eq!(t.resume_after(), Some(0));
        assert_eq!(seqs(&t.receive([m(1)])), [1]);
        assert_eq!(t.oldest_shown(), Some(1));
    }

    #[test]
    fn live_event_before_the_join_page_is_not_lost() {
        let mut t = Timeline::default();
        assert!(t.receive([m(6)]).is_empty());
        assert_eq!(seqs(&t.start(vec![m(4), m(5)], false, 5)), [4, 5, 6]);
    }

    #[test]
    fn a_second_join_page_never_shows_older_messages_again() {
        let mut t = Timeline::default();
        assert_eq!(
            seqs(&t.start(vec![m(37), m(38), m(39)], true, 39)),
            [37, 38, 39]
        );
        assert!(t.start(vec![m(1), m(2), m(3)], false, 3).is_empty());
        assert_eq!(seqs(&t.start(vec![m(39), m(40)], false, 40)), [40]);
    }

    #[test]
    fn paging_back() {
        let mut t = Timeline::default();
        t.start(vec![m(51), m(52)], true, 52);
        let older = t.prepend(vec![m(49), m(50), m(51)], true);
        assert_eq!(older.iter().map(|m| m.seq).collect::<Vec<_>>(), [49, 50]);
        assert_eq!(t.oldest_shown(), Some(49));
        assert!(t.prepend(vec![], false).is_empty());
        assert!(!t.older_exist());
        t.forget_older_than(50);
        assert_eq!((t.oldest_shown(), t.older_exist()), (Some(50), true));
    }
}
