//! Who is typing, as the widget shows it: everyone whose `typing` notice is
//! recent, until a message from them arrives or the notice runs out. Two
//! people typing at once both show ("Ada and Bo are typing…"), not only the
//! latest one.

/// How long a `typing` notice stays shown without another (the room relays
/// at most one per sender per 2 s while they type).
pub const SHOWN_MS: u64 = 4_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Typists {
    /// (name, shown until), oldest notice first.
    typing: Vec<(String, u64)>,
}

impl Typists {
    /// A `typing` notice from `name` at `now`.
    pub fn typing(&mut self, name: &str, now: u64) {
        self.typing.retain(|(n, _)| n != name);
        self.typing.push((name.to_owned(), now + SHOWN_MS));
    }

    /// A message from `name` arrived: they stopped typing it.
    pub fn sent(&mut self, name: &str) {
        self.typing.retain(|(n, _)| n != name);
    }

    /// Forget the notices that ran out by `now`.
    pub fn expire(&mut self, now: u64) {
        self.typing.retain(|(_, until)| *until > now);
    }

    /// When the next notice runs out, if any is shown.
    pub fn next_expiry(&self) -> Option<u64> {
        self.typing.iter().map(|(_, until)| *until).min()
    }

    /// Who is typing, in the order they started.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.typing.iter().map(|(n, _)| n.as_str())
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
        t.typing("Ada", 0);
        t.typing("Bo", 1_000);
        t.typing("Ada", 2_000);
        assert_eq!(names(&t), ["Bo", "Ada"]);
        assert_eq!(t.next_expiry(), Some(5_000));
        t.sent("Bo");
        assert_eq!(names(&t), ["Ada"]);
        t.expire(5_999);
        assert_eq!(names(&t), ["Ada"]);
        t.expire(6_000);
        assert!(names(&t).is_empty());
        assert_eq!(t.next_expiry(), None);
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
                    0 => { t.typing(people[who], now); last[who] = Some(now); }
                    1 => { t.sent(people[who]); last[who] = None; }
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
