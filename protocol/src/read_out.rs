//! What a screen reader hears of a busy room. Messages from others are read
//! out one by one, up to a few per window; past that they are held and summed
//! up in one line ("12 new messages") when the window ends, and while the room
//! stays that busy, each window is one such line: at 100 messages a second,
//! reading each out would queue minutes of speech. A quiet window starts over.

/// Messages read out one by one per window.
pub const PER_WINDOW: u32 = 5;
pub const WINDOW_MS: f64 = 10_000.0;

#[derive(Debug, Default)]
pub struct ReadOut {
    /// When the current window began (ms, the page's clock).
    since: f64,
    /// Read out one by one in it.
    said: u32,
    /// Held for the line that sums them up.
    held: u32,
}

impl ReadOut {
    /// A message from someone else arrived: true to read it out now, false
    /// if it is held (then [`ReadOut::due`] says when to sum up).
    pub fn arrived(&mut self, now: f64) -> bool {
        // (A clock set back starts a new window too.)
        if self.held == 0 && (now - self.since >= WINDOW_MS || now < self.since) {
            self.since = now;
            self.said = 0;
        }
        if self.held == 0 && self.said < PER_WINDOW {
            self.said += 1;
            return true;
        }
        self.held += 1;
        false
    }

    /// When the held messages are to be summed up, if any are.
    pub fn due(&self) -> Option<f64> {
        (self.held > 0).then_some(self.since + WINDOW_MS)
    }

    /// The window is over: how many to sum up. The next window sums up too
    /// (the room is busy), unless it stays quiet for a whole window.
    pub fn sum_up(&mut self, now: f64) -> u32 {
        let held = std::mem::take(&mut self.held);
        self.since = now;
        self.said = if held > 0 { PER_WINDOW } else { 0 };
        held
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_messages_are_read_out_one_by_one() {
        let mut r = ReadOut::default();
        for i in 0..PER_WINDOW {
            assert!(r.arrived(20_000.0 + f64::from(i)));
        }
        assert_eq!(r.due(), None);
    }

    #[test]
    fn a_busy_room_is_summed_up_once_per_window_until_it_quietens() {
        let mut r = ReadOut::default();
        let start = 20_000.0;
        for i in 0..PER_WINDOW {
            assert!(r.arrived(start + f64::from(i)));
        }
        for i in 0..40 {
            assert!(!r.arrived(start + 100.0 + f64::from(i)), "held");
        }
        assert_eq!(r.due(), Some(start + WINDOW_MS));
        assert_eq!(r.sum_up(start + WINDOW_MS), 40);
        // Still busy: the next window is one line too.
        assert!(!r.arrived(start + WINDOW_MS + 10.0));
        assert_eq!(r.due(), Some(start + 2.0 * WINDOW_MS));
        assert_eq!(r.sum_up(start + 2.0 * WINDOW_MS), 1);
        // A quiet window (nothing held): one by one again.
        assert_eq!(r.sum_up(start + 3.0 * WINDOW_MS), 0);
        assert!(r.arrived(start + 4.0 * WINDOW_MS + 1.0));
    }

    #[test]
    fn a_clock_set_back_starts_a_new_window() {
        let mut r = ReadOut::default();
        for i in 0..PER_WINDOW {
            assert!(r.arrived(3_600_000.0 + f64::from(i)));
        }
        assert!(r.arrived(1_000.0), "an hour back: not held for an hour");
    }
}
