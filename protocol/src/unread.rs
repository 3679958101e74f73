//! Unread messages: which of the room's messages from others the member has
//! not seen yet. The widget says what arrived and what was on screen while
//! the page was visible; this decides the count (sans-IO, like the session).
//!
//! The read position is a seq: everything at or below it counts as read.
//! Sending a message reads everything before it (you answer what you saw).
//! A first visit starts with everything already there read, so nobody opens
//! a page to find fifty "unread" messages they were never meant to see.

/// At most this many unread messages are tracked; the count says "this many
/// or more" beyond it (a badge shows "99+" long before).
pub const MAX_TRACKED: usize = 1000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unread {
    read: u64,
    /// Seqs above `read`, sorted (a plain vector: the widget ships this,
    /// and a B-tree costs kilobytes of wasm).
    unseen: Vec<u64>,
    /// Messages from others a returning member missed that the join page
    /// does not hold (the room counted them, [`Unread::behind`]): counted
    /// until they arrive (paged in from the read position, in order) or
    /// are read past. They are above `hidden_through`, below `hidden_below`
    /// (the join page's first seq).
    hidden: usize,
    hidden_through: u64,
    hidden_below: u64,
}

impl Unread {
    /// Start from a read position kept from an earlier visit (0: none).
    pub fn new(read: u64) -> Self {
        Unread {
            read,
            ..Unread::default()
        }
    }

    /// The room counted `total` messages from others after the read
    /// position (`welcome.unread`); those not among the unseen ones of the
    /// join page, which starts at `page_from`, are older: counted too.
    pub fn behind(&mut self, total: u64, page_from: u64) {
        // Our own message in the join page read everything before it.
        if self.read < page_from {
            let total = (total as usize).min(MAX_TRACKED);
            self.hidden = total.saturating_sub(self.unseen.len());
            self.hidden_through = self.read;
            self.hidden_below = page_from;
        }
    }

    /// The room's latest seq when the member joined. Without an earlier
    /// position, everything up to it counts as read.
    pub fn joined(&mut self, latest: u64) {
        // Kept from a room that was erased since (its seqs start again):
        // counting from it would hide every new message.
        if self.read > latest {
            self.read = latest;
        }
        if self.read == 0 {
            self.seen(latest);
        }
    }

    /// Message `seq` arrived (live or in history). Returns whether the
    /// count changed.
    pub fn arrived(&mut self, seq: u64, own: bool, deleted: bool) -> bool {
        // One of the hidden ones (or our own among them): counted already.
        if self.hidden > 0 && seq > self.hidden_through && seq < self.hidden_below {
            self.hidden_through = seq;
            if !own && !deleted {
                self.hidden -= 1;
            }
        }
        if own {
            return self.seen(seq);
        }
        if deleted || seq <= self.read || self.unseen.len() >= MAX_TRACKED {
            return false;
        }
        match self.unseen.binary_search(&seq) {
            Ok(_) => false,
            Err(at) => {
                self.unseen.insert(at, seq);
                true
            }
        }
    }

    /// Message `seq` was deleted: it no longer waits to be read.
    pub fn deleted(&mut self, seq: u64) -> bool {
        // One of the hidden ones (it comes as a tombstone, not counted).
        if self.hidden > 0 && seq > self.hidden_through && seq < self.hidden_below {
            self.hidden -= 1;
            return true;
        }
        match self.unseen.binary_search(&seq) {
            Ok(at) => {
                self.unseen.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    /// The member saw message `seq`: it and everything before it are read.
    pub fn seen(&mut self, seq: u64) -> bool {
        if seq <= self.read {
            return false;
        }
        self.read = seq;
        let read = self.unseen.partition_point(|s| *s <= seq);
        self.unseen.drain(..read);
        // Up to the join page (or the latest, jumped to): the single read
        // position reads them all. Short of it, they go as they are paged
        // in (the last event of a page read is often not a message).
        let hidden = if seq >= self.hidden_below {
            std::mem::take(&mut self.hidden)
        } else {
            0
        };
        read > 0 || hidden > 0
    }

    pub fn count(&self) -> usize {
        self.unseen.len() + self.hidden
    }

    /// The oldest unread message: where a "New messages" line goes.
    pub fn first_unseen(&self) -> Option<u64> {
        self.unseen.first().copied()
    }

    /// Everything at or below this seq is read (what to keep for next time).
    pub fn read(&self) -> u64 {
        self.read
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn a_first_visit_starts_with_nothing_unread() {
        let mut u = Unread::new(0);
        u.joined(40);
        for seq in 1..=40 {
            u.arrived(seq, false, false);
        }
        assert_eq!((u.count(), u.read()), (0, 40));
        assert!(u.arrived(41, false, false));
        assert_eq!(u.count(), 1);
    }

    #[test]
    fn a_returning_visitor_sees_what_came_since() {
        let mut u = Unread::new(10);
        u.joined(14);
        for seq in 8..=14 {
            u.arrived(seq, false, false);
        }
        assert_eq!((u.count(), u.first_unseen()), (4, Some(11)));
        assert!(u.seen(12));
        assert_eq!((u.count(), u.read(), u.first_unseen()), (2, 12, Some(13)));
    }

    #[test]
    fn own_messages_read_everything_before_them_deleted_ones_stop_counting() {
        let mut u = Unread::new(1);
        u.arrived(2, false, false);
        u.arrived(3, false, false);
        u.arrived(4, false, true);
        assert_eq!(u.count(), 2);
        assert!(u.deleted(3));
        assert_eq!(u.count(), 1);
        u.arrived(5, false, false);
        assert!(u.arrived(6, true, false));
        assert_eq!((u.count(), u.read()), (0, 6));
        assert!(!u.seen(3), "seeing something older changes nothing");
    }

    #[test]
    fn a_returning_member_counts_what_the_join_page_does_not_hold_until_paged_in_or_read_past() {
        // Read up to 10; the room counted 120 from others after it; the join page is 151..=200.
        let mut u = Unread::new(10);
        for seq in 151..=200 {
            u.arrived(seq, false, false);
        }
        u.behind(120, 151);
        assert_eq!(u.count(), 120);
        // Pages come in from 11 up: counted once, our own and deleted ones not at all.
        for seq in 11..=60 {
            u.arrived(seq, seq == 20, seq == 30);
        }
        assert_eq!(u.count(), 120 - 9, "20 (ours) read the nine before it");
        assert!(u.seen(40), "reading down the first page");
        assert_eq!(u.count(), 120 - 9 - 19);
        // Live messages are new, not hidden ones.
        u.arrived(201, false, false);
        assert_eq!(u.count(), 120 - 9 - 19 + 1);
        // Jumping to the latest reads everything before it.
        assert!(u.seen(201));
        assert_eq!(u.count(), 0);
    }

    #[test]
    fn hidden_ones_go_as_they_are_paged_in_or_deleted_not_when_a_page_ends_with_an_event() {
        let mut u = Unread::new(40);
        for seq in 151..=200 {
            u.arrived(seq, false, false);
        }
        u.behind(160, 151);
        for seq in 41..=89 {
            u.arrived(seq, false, false);
        }
        // The page ended with a reaction at 90; reading to it reads 41..=89 only.
        assert!(u.seen(90));
        assert_eq!(u.count(), 160 - 49);
        // One still hidden is deleted: it stops counting (and not again as a tombstone).
        assert!(u.deleted(120));
        u.arrived(120, false, true);
        assert_eq!(u.count(), 160 - 50);
    }

    #[test]
    fn a_position_kept_from_an_erased_room_does_not_hide_its_new_messages() {
        let mut u = Unread::new(500);
        u.joined(20);
        assert_eq!(u.read(), 20);
        assert!(u.arrived(21, false, false));
    }

    #[test]
    fn our_own_message_in_the_join_page_reads_what_is_before_it() {
        let mut u = Unread::new(10);
        for seq in 151..=160 {
            u.arrived(seq, seq == 152, false);
        }
        u.behind(130, 151);
        assert_eq!(u.count(), 8);
    }

    proptest! {
        /// Whatever arrives and is seen, in any order: the count is the
        /// messages from others, not deleted, above the read position.
        #[test]
        fn the_count_is_what_others_sent_after_the_read_position(
            events in proptest::collection::vec((0u8..3, 1u64..60, any::<bool>()), 0..200)
        ) {
            let mut u = Unread::new(0);
            let mut others = BTreeSet::new();
            for (kind, seq, flag) in events {
                match kind {
                    0 => { u.arrived(seq, flag, false); if !flag { others.insert(seq); } }
                    1 => { u.seen(seq); }
                    _ => { u.deleted(seq); others.remove(&seq); }
                }
                let expected = others.iter().filter(|s| **s > u.read()).count();
                prop_assert_eq!(u.count(), expected);
            }
        }
    }
}
