//! Which parts of a site's room list someone is looking at (the moderation
//! console lists a page again every few seconds while it is shown). Rooms in
//! such a part report their activity more often; see the RoomDirectory
//! object in the worker. Bounded: at most [`MAX_WATCHED`] parts, each for
//! [`WATCH_MS`] after it was last listed.

/// A part of the list someone listed is watched this long after (the
/// moderation console lists it again every few seconds while shown).
pub const WATCH_MS: u64 = 15_000;
/// Parts of the list watched at once, at most (the latest listed kept).
pub const MAX_WATCHED: usize = 8;

/// The parts of the room list listed lately, each from after its cursor
/// through its last room (`None`: to the end of the list, which that page
/// reached), until when they count as watched. In memory only: after the
/// object slept nobody is watching until someone lists again.
#[derive(Default)]
pub struct Watched {
    parts: Vec<(String, Option<String>, u64)>,
}

impl Watched {
    /// A page from after `cursor` through `through` was listed at `now`.
    pub fn listed(&mut self, cursor: &str, through: Option<&str>, now: u64) {
        let part = (cursor.to_owned(), through.map(str::to_owned));
        self.parts
            .retain(|(from, to, until)| *until > now && (from, to) != (&part.0, &part.1));
        if self.parts.len() >= MAX_WATCHED {
            self.parts.remove(0);
        }
        self.parts.push((part.0, part.1, now + WATCH_MS));
    }

    /// Whether `room` is in a part listed in the last [`WATCH_MS`].
    pub fn covers(&self, room: &str, now: u64) -> bool {
        self.parts.iter().any(|(from, to, until)| {
            *until > now && room > from.as_str() && to.as_deref().is_none_or(|to| room <= to)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_page_is_watched_for_a_while() {
        let mut w = Watched::default();
        assert!(!w.covers("a", 0));
        // The first page, through "m" (more after it).
        w.listed("", Some("m"), 1_000);
        assert!(w.covers("a", 1_000) && w.covers("m", 1_000));
        assert!(!w.covers("n", 1_000), "after the page: not listed");
        assert!(w.covers("a", 1_000 + WATCH_MS - 1));
        assert!(!w.covers("a", 1_000 + WATCH_MS), "not listed again");
        // Listed again: watched again, once.
        w.listed("", Some("m"), 20_000);
        w.listed("", Some("m"), 22_000);
        assert_eq!(w.parts.len(), 1);
        assert!(w.covers("b", 22_000 + WATCH_MS - 1));
    }

    #[test]
    fn the_last_page_reaches_the_end_and_the_cursor_is_exclusive() {
        let mut w = Watched::default();
        w.listed("m", None, 0);
        assert!(!w.covers("m", 1), "the cursor's room is on the page before");
        assert!(
            w.covers("n", 1) && w.covers("zzz", 1),
            "a room made since is watched too"
        );
        assert!(!w.covers("a", 1));
    }

    #[test]
    fn at_most_the_latest_pages_are_watched() {
        let mut w = Watched::default();
        let names: Vec<String> = (0..=MAX_WATCHED).map(|i| format!("r{i:02}")).collect();
        for (i, pair) in names.windows(2).enumerate() {
            w.listed(&pair[0], Some(&pair[1]), i as u64);
        }
        assert_eq!(w.parts.len(), MAX_WATCHED);
        w.listed("", Some("r00"), 100);
        assert_eq!(w.parts.len(), MAX_WATCHED);
        assert!(!w.covers("r01", 100), "the oldest page gave way");
        assert!(w.covers("r00", 100) && w.covers(&names[MAX_WATCHED], 100));
    }
}
