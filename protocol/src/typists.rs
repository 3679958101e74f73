//! Who is typing, as the widget shows it: everyone whose `typing` notice is
//! recent, until a message from them arrives or the notice runs out. Two
//! people typing at once both show ("Ada and Bo are typing…"), not only the
//! latest one. People are told apart by sender key, not by name: two
//! visitors may both be "Anonymous" (a server too old to send the key
//! leaves only the name).

/// How long a `typing` notice stays shown without another (the room relays
/// at most one per sender per 2 s while they type).
pub const SHOWN_MS: u64 = 4_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Typists {
    /// (sender key, else the name; name; shown until), oldest notice first.
    typing: Vec<(String, String, u64)>,
}

impl Typists {
    /// A `typing` notice from `sender` (if the room said), named `name`, at `now`.
    pub fn typing(&mut self, sender: Option<&str>, name: &str, now: u64) {
        let who = sender.unwrap_or(name);
        self.typing.retain(|(w, _, _)| w != who);
        self.typing
            .push((who.to_owned(), name.to_owned(), now + SHOWN_MS));
    }

    /// A message from `sender`, named `name`, arrived: they stopped typing it.
    pub fn sent(&mut self, sender: &str, name: &str) {
        // An entry keyed by a name came without a sender key: by name then.
        self.typing
            .retain(|(w, n, _)| w != sender && !(w == n && n == name));
    }

    /// Forget the notices that ran out by `now`.
    pub fn expire(&mut self, now: u64) {
        self.typing.retain(|(_, _, until)| *until > now);
    }

    /// When the next notice runs out, if any is shown.
    pub fn next_expiry(&self) -> Option<u64> {
        self.typing.iter().map(|(_, _, until)| *until).min()
    }

    /// Who is typing, in the order they started.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.typing.iter().map(|(_, n, _)| n.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn names(t: &Typists) -> Vec<&str> {
        t.names().collect()
    }

    #[test]
    fn several_people_type_at_once_until_they_send_or_stop() {
        let mut t = Typists::default();
        t.typing(Some("a"), "Ada", 0);
        t.typing(Some("b"), "Bo", 1_000);
        t.typing(Some("a"), "Ada", 2_000);
        assert_eq!(names(&t), ["Bo", "Ada"]);
        assert_eq!(t.next_expiry(), Some(5_000));
        t.sent("b", "Bo");
        assert_eq!(names(&t), ["Ada"]);
        t.expire(5_999);
        assert_eq!(names(&t), ["Ada"]);
        t.expire(6_000);
        assert!(names(&t).is_empty());
        assert_eq!(t.next_expiry(), None);
    }

    #[test]
    fn two_people_of_one_name_are_two_typists() {
        let mut t = Typists::default();
        t.typing(Some("k1"), "Anonymous", 0);
        t.typing(Some("k2"), "Anonymous", 100);
        assert_eq!(names(&t), ["Anonymous", "Anonymous"]);
        t.sent("k2", "Anonymous");
        assert_eq!(names(&t), ["Anonymous"], "the other one still types");
        // A server that sends no key: by name.
        t.typing(None, "Old", 200);
        t.sent("k9", "Old");
        assert_eq!(names(&t), ["Anonymous"]);
    }

    proptest! {
        /// Whatever arrives: each name shows once, and only while its latest
        /// notice is younger than `SHOWN_MS`.
        #[test]
        fn a_name_shows_once_while_its_notice_lasts(
            events in proptest::collection::vec((0u8..3, 0usize..4, 0u64..3_000), 0..60)
        ) {
            let people = ["Ada", "Bo", "Cy", "Di"];
            let mut t = Typists::default();
            let mut now = 0;
            let mut last = [None::<u64>; 4];
            for (kind, who, step) in events {
                now += step;
                match kind {
                    0 => { t.typing(Some(people[who]), people[who], now); last[who] = Some(now); }
                    1 => { t.sent(people[who], people[who]); last[who] = None; }
                    _ => t.expire(now),
                }
                t.expire(now);
                let shown = names(&t);
                for (i, p) in people.iter().enumerate() {
                    let expected = last[i].is_some_and(|at| now < at + SHOWN_MS);
                    prop_assert_eq!(shown.iter().filter(|n| *n == p).count(), usize::from(expected));
                }
            }
        }
    }
}
