//! The client's view of a room's history: which messages have been shown,
//! in order, exactly once.
//!
//! Messages arrive from three places (the page sent on join or resume, live
//! `message` frames, acks of our own sends) and possibly out of order or
//! twice (a resume overlapping what we saw). The timeline releases them
//! strictly by `seq`: a message is shown when every message before it has
//! been, and never again. A gap (a live message ahead of what we have) is
//! held back and filled by asking the server for what is missing.

use crate::message::ChatMessage;

/// Most out-of-order messages held back while a gap is filled.
const MAX_HELD: usize = 1000;

#[derive(Debug, Default, Clone)]
pub struct Timeline {
    /// Every message up to and including this seq has been shown (0 = none yet).
    shown_through: u64,
    /// True once the first page arrived and `shown_through` means something.
    anchored: bool,
    /// Messages ahead of a gap, waiting for it to close, sorted by
    /// descending seq (the next one to release is last). A plain sorted Vec:
    /// it is almost always empty, and a map would add kilobytes to the widget.
    held: Vec<ChatMessage>,
    /// The oldest seq on screen, for paging back.
    oldest_shown: Option<u64>,
    /// Whether the server has messages older than `oldest_shown`.
    older_exist: bool,
}

impl Timeline {
    /// The seq to resume after on reconnect, if anything has been shown.
    pub fn resume_after(&self) -> Option<u64> {
        self.anchored.then_some(self.shown_through)
    }

    pub fn shown_through(&self) -> u64 {
        self.shown_through
    }

    /// Whether a gap is open (messages are held back).
    pub fn has_gap(&self) -> bool {
        !self.held.is_empty()
    }

    pub fn oldest_shown(&self) -> Option<u64> {
        self.oldest_shown
    }

    pub fn older_exist(&self) -> bool {
        self.older_exist
    }

    /// The page sent on a fresh join: the newest messages. Shown as they are.
    /// `latest` is the room's newest seq from the welcome frame.
    pub fn start(
        &mut self,
        page: Vec<ChatMessage>,
        older_exist: bool,
        latest: u64,
    ) -> Vec<ChatMessage> {
        if self.anchored {
            // A second join page (only a misbehaving server sends one): take
            // what is new from it, never re-show or reorder (found by fuzzing).
            return self.receive(page);
        }
        self.anchored = true;
        self.shown_through = page
            .last()
            .map_or(latest, |m| m.seq)
            .max(self.shown_through);
        self.oldest_shown = page.first().map(|m| m.seq);
        self.older_exist = older_exist;
        let through = self.shown_through;
        self.held.retain(|m| m.seq > through);
        let mut shown = page;
        shown.extend(self.release());
        shown
    }

    /// Messages from a resume page, a gap fill or a live frame. Returns those
    /// that can be shown now, in order.
    pub fn receive(&mut self, messages: impl IntoIterator<Item = ChatMessage>) -> Vec<ChatMessage> {
        let mut out = Vec::new();
        for m in messages {
            if self.anchored && self.held.is_empty() && m.seq == self.shown_through + 1 {
                // The usual case: the next message, in order.
                self.mark_shown(&m);
                out.push(m);
                continue;
            }
            if m.seq <= self.shown_through {
                continue;
            }
            // Descending order: find where this seq goes.
            match self.held.binary_search_by(|h| m.seq.cmp(&h.seq)) {
                Ok(_) => {}
                Err(pos) if self.held.len() < MAX_HELD => self.held.insert(pos, m),
                Err(_) => {}
            }
        }
        out.extend(self.release());
        out
    }

    fn mark_shown(&mut self, m: &ChatMessage) {
        self.shown_through = m.seq;
        if self.oldest_shown.is_none() {
            self.oldest_shown = Some(m.seq);
        }
    }

    fn release(&mut self) -> Vec<ChatMessage> {
        let mut out = Vec::new();
        if !self.anchored {
            return out;
        }
        while self
            .held
            .last()
            .is_some_and(|m| m.seq == self.shown_through + 1)
        {
            if let Some(m) = self.held.pop() {
                self.mark_shown(&m);
                out.push(m);
            }
        }
        out
    }

    /// A page of older messages (answer to `history before`). Returns the
    /// ones not already on screen, ascending.
    pub fn prepend(&mut self, page: Vec<ChatMessage>, more: bool) -> Vec<ChatMessage> {
        let oldest = self.oldest_shown.unwrap_or(u64::MAX);
        let older: Vec<ChatMessage> = page.into_iter().filter(|m| m.seq < oldest).collect();
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(seq: u64) -> ChatMessage {
        ChatMessage {
            seq,
            id: format!("c{seq}"),
            name: "n".into(),
            message: format!("m{seq}"),
            timestamp: seq,
            sender: "s".into(),
            verified: false,
        }
    }
    fn seqs(v: &[ChatMessage]) -> Vec<u64> {
        v.iter().map(|m| m.seq).collect()
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
    fn duplicates_are_shown_once() {
        let mut t = Timeline::default();
        t.start(vec![m(1), m(2)], false, 2);
        assert!(t.receive([m(2), m(1)]).is_empty());
        assert_eq!(seqs(&t.receive([m(3), m(3)])), [3]);
        assert!(t.receive([m(3)]).is_empty());
    }

    #[test]
    fn gaps_are_held_until_filled() {
        let mut t = Timeline::default();
        t.start(vec![m(1)], false, 1);
        assert!(t.receive([m(4)]).is_empty());
        assert!(t.has_gap());
        assert!(t.receive([m(3)]).is_empty());
        assert_eq!(seqs(&t.receive([m(2)])), [2, 3, 4]);
        assert!(!t.has_gap());
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
    fn live_message_before_the_join_page_is_not_lost() {
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
        assert_eq!(seqs(&t.prepend(vec![m(49), m(50), m(51)], true)), [49, 50]);
        assert_eq!(t.oldest_shown(), Some(49));
        assert!(t.prepend(vec![], false).is_empty());
        assert!(!t.older_exist());
        t.forget_older_than(50);
        assert_eq!((t.oldest_shown(), t.older_exist()), (Some(50), true));
    }
}
