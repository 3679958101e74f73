//! A site's moderation policy for its rooms: the edit window, the emoji
//! members may react with, the word filter and the link policy.
//!
//! The word filter matches on text normalised the way evasions are undone:
//! Unicode NFKC (so "ＢＡＤ" is "BAD"), lower case, and with everything but
//! letters and digits left out (so "b.a.d" and "b a d" are "bad"). A match
//! must start and end at a word boundary of the original text, so "bad"
//! does not catch "badge". `mask` replaces the matched characters with `*`.

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// The default reactions: a small set every widget can show.
pub const DEFAULT_EMOJI: [&str; 6] = ["👍", "❤️", "😂", "😮", "😢", "🎉"];
/// Most words or phrases in a filter, and their length.
pub const MAX_FILTER_WORDS: usize = 500;
pub const MAX_FILTER_WORD_CHARS: usize = 64;
/// Most characters in all filter words together: the policy travels to the
/// room with every join (in a header, non-ASCII escaped up to 12 bytes per
/// character), and 500 words of 64 non-ASCII characters made joins fail.
pub const MAX_FILTER_TOTAL_CHARS: usize = 4_000;
pub const MAX_EMOJI: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FilterAction {
    /// Refuse the message (`error blocked`).
    #[default]
    Block,
    /// Store it with the matches replaced by stars.
    Mask,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum LinkPolicy {
    #[default]
    Allow,
    /// Links only from verified members (anonymous ones get `blocked`).
    VerifiedOnly,
}

/// The policy as a site configures it (`moderation` in the site's config).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
/// As [`crate::Limits`]: unknown fields are refused in a site's edit
/// (`site_config`), ignored when read back.
#[serde(default, rename_all = "camelCase")]
pub struct RoomPolicy {
    /// How long after sending an author may edit a message.
    pub edit_window_secs: u64,
    /// The emoji members may react with.
    pub emoji: Vec<String>,
    /// Words or phrases the filter looks for.
    pub words: Vec<String>,
    pub filter_action: FilterAction,
    pub links: LinkPolicy,
    /// Read receipts: members see who has read their latest message ("Seen
    /// by 2"), in rooms of at most [`crate::limits::RECEIPTS_MAX`] connections.
    pub receipts: bool,
    /// `words` normalised, worked out once (not per message).
    #[serde(skip)]
    pub index: WordIndex,
}

/// The filter words in normal form, indexed by their first character, with
/// the words they were made from (made again if those change). Never part
/// of a policy's identity, nor copied with it.
#[derive(Debug, Default)]
pub struct WordIndex(RefCell<Option<(Vec<String>, Index)>>);

type Index = BTreeMap<char, Vec<Vec<char>>>;

impl Clone for WordIndex {
    fn clone(&self) -> Self {
        WordIndex::default()
    }
}

impl PartialEq for WordIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for WordIndex {}

/// Text the filter looks at may grow this many times in normal form (NFKC
/// makes 18 letters of U+FDFA): beyond, it cannot pass a word filter, and
/// scanning it would cost the room more than the frame cost to send.
const MAX_NORMAL_GROWTH: usize = 4;

impl Default for RoomPolicy {
    fn default() -> Self {
        RoomPolicy {
            edit_window_secs: 3600,
            emoji: DEFAULT_EMOJI.iter().map(|e| (*e).to_owned()).collect(),
            words: Vec::new(),
            filter_action: FilterAction::Block,
            links: LinkPolicy::Allow,
            receipts: false,
            index: WordIndex::default(),
        }
    }
}

/// Why a policy is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError(pub String);

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PolicyError {}

/// What the filter made of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filtered {
    /// Nothing matched (or the match was masked): store this text.
    Pass(String),
    Blocked,
}

impl RoomPolicy {
    /// Check a configured policy: bounded sizes, no empty words.
    pub fn validate(self) -> Result<RoomPolicy, PolicyError> {
        if self.words.len() > MAX_FILTER_WORDS {
            return Err(PolicyError(format!(
                "at most {MAX_FILTER_WORDS} filter words"
            )));
        }
        if self.words.iter().any(|w| {
            normalise(w, usize::MAX).is_none_or(|(n, _)| n.is_empty())
                || w.chars().count() > MAX_FILTER_WORD_CHARS
        }) {
            return Err(PolicyError(format!("filter words need a letter or digit and at most {MAX_FILTER_WORD_CHARS} characters")));
        }
        if self.words.iter().map(|w| w.chars().count()).sum::<usize>() > MAX_FILTER_TOTAL_CHARS {
            return Err(PolicyError(format!(
                "at most {MAX_FILTER_TOTAL_CHARS} characters of filter words in all"
            )));
        }
        if self.emoji.is_empty() || self.emoji.len() > MAX_EMOJI {
            return Err(PolicyError(format!("1-{MAX_EMOJI} reaction emoji")));
        }
        if let Some(e) = self.emoji.iter().find(|e| {
            e.len() > crate::client_frame::MAX_EMOJI_BYTES || !super::emoji::is_one_emoji(e)
        }) {
            return Err(PolicyError(format!(
                "each reaction emoji is one emoji (not {:?})",
                e.chars().take(8).collect::<String>()
            )));
        }
        // The same emoji twice would show as two buttons for one reaction.
        let mut emoji = Vec::with_capacity(self.emoji.len());
        for e in self.emoji {
            if !emoji.contains(&e) {
                emoji.push(e);
            }
        }
        Ok(RoomPolicy {
            edit_window_secs: self.edit_window_secs.min(366 * 24 * 3600),
            emoji,
            ..self
        })
    }

    pub fn allows_emoji(&self, emoji: &str) -> bool {
        self.emoji.iter().any(|e| e == emoji)
    }

    /// Apply the word filter and the link policy to `text` from a member
    /// who is (or is not) `verified`.
    pub fn filter(&self, text: &str, verified: bool) -> Filtered {
        if self.links == LinkPolicy::VerifiedOnly && !verified && has_link(text) {
            return Filtered::Blocked;
        }
        if self.words.is_empty() {
            return Filtered::Pass(text.to_owned());
        }
        let Some(spans) = self.matches(text) else {
            return Filtered::Blocked;
        };
        if spans.is_empty() {
            return Filtered::Pass(text.to_owned());
        }
        match self.filter_action {
            FilterAction::Block => Filtered::Blocked,
            FilterAction::Mask => {
                // One pass over spans sorted by start, keeping how far the
                // ones begun so far reach: nested words (`a`, `aa`, ...) in a
                // long message made checking each character against every
                // span take a room's whole second.
                let mut spans = spans;
                spans.sort_unstable();
                let mut next = spans.iter().peekable();
                let mut reach: Option<usize> = None;
                let masked = text
                    .chars()
                    .enumerate()
                    .map(|(i, c)| {
                        while let Some(&(_, last)) = next.next_if(|(first, _)| *first <= i) {
                            reach = reach.max(Some(last));
                        }
                        if reach.is_some_and(|r| i <= r) && !c.is_whitespace() {
                            '*'
                        } else {
                            c
                        }
                    })
                    .collect();
                Filtered::Pass(masked)
            }
        }
    }

    /// The (first, last) character indexes of every match in `text`; `None`
    /// if its normal form grows past [`MAX_NORMAL_GROWTH`] times its length.
    fn matches(&self, text: &str) -> Option<Vec<(usize, usize)>> {
        let chars: Vec<char> = text.chars().collect();
        let (norm, origin) = normalise(text, chars.len() * MAX_NORMAL_GROWTH + 16)?;
        let is_word = |i: Option<usize>| {
            i.and_then(|i| chars.get(i))
                .is_some_and(|c| c.is_alphanumeric())
        };
        let mut cache = self.index.0.borrow_mut();
        let index = match &mut *cache {
            Some((words, index)) if *words == self.words => index,
            stale => {
                &mut stale
                    .insert((self.words.clone(), index_words(&self.words)))
                    .1
            }
        };
        let mut spans = Vec::new();
        for start in 0..norm.len() {
            let Some(words) = index.get(&norm[start]) else {
                continue;
            };
            for w in words {
                if !norm[start..].starts_with(w) {
                    continue;
                }
                let (first, last) = (origin[start], origin[start + w.len() - 1]);
                if !is_word(first.checked_sub(1)) && !is_word(Some(last + 1)) {
                    spans.push((first, last));
                }
            }
        }
        Some(spans)
    }
}

/// `words` in normal form, by their first character.
fn index_words(words: &[String]) -> Index {
    let mut index = Index::new();
    for word in words {
        if let Some((w, _)) = normalise(word, usize::MAX) {
            if let Some(&first) = w.first() {
                index.entry(first).or_default().push(w);
            }
        }
    }
    index
}

/// `text` in NFKC, lower case, letters and digits only, with the index of
/// the original character each one came from; `None` past `max` of them.
fn normalise(text: &str, max: usize) -> Option<(Vec<char>, Vec<usize>)> {
    let (mut out, mut origin) = (Vec::new(), Vec::new());
    for (i, c) in text.chars().enumerate() {
        for n in std::iter::once(c).nfkc().flat_map(char::to_lowercase) {
            if n.is_alphanumeric() {
                if out.len() == max {
                    return None;
                }
                out.push(n);
                origin.push(i);
            }
        }
    }
    Some((out, origin))
}

const LINK_TLDS: [&str; 24] = [
    "com", "net", "org", "io", "co", "ru", "de", "uk", "info", "biz", "xyz", "app", "dev", "me",
    "ly", "gg", "tk", "cn", "top", "site", "online", "link", "click", "shop",
];

/// A URL (`scheme://`, `www.`) or a bare domain with a common top-level domain.
pub fn has_link(text: &str) -> bool {
    let lower = text.nfkc().collect::<String>().to_lowercase();
    if lower.contains("://") || lower.contains("www.") {
        return true;
    }
    lower
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '<' | '>' | '"' | '\''))
        .any(|token| {
            let host = token
                .split('/')
                .next()
                .unwrap_or("")
                .trim_end_matches(['.', ',', '!', '?', ':', ';']);
            match host.rsplit_once('.') {
                Some((name, tld)) => {
                    !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_alphanumeric() || c == '-' || c == '.')
                        && LINK_TLDS.contains(&tld)
                }
                None => false,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(words: &[&str], action: FilterAction) -> RoomPolicy {
        RoomPolicy {
            words: words.iter().map(|w| (*w).to_owned()).collect(),
            filter_action: action,
            ..RoomPolicy::default()
        }
    }

    #[test]
    fn evasions_are_undone_and_word_boundaries_respected() {
        let p = policy(&["bad", "very evil"], FilterAction::Block);
        for blocked in [
            "bad",
            "BAD",
            "ＢＡＤ",
            "b.a.d",
            "b a d",
            "so Bad!",
            "ｂ-ａ-ｄ",
            "very evil",
            "VERY.EVIL",
            "veryevil",
        ] {
            assert_eq!(p.filter(blocked, false), Filtered::Blocked, "{blocked:?}");
        }
        for clean in ["badge", "a good day", "abad", "very nice", "evil"] {
            assert_eq!(
                p.filter(clean, false),
                Filtered::Pass(clean.into()),
                "{clean:?}"
            );
        }
    }

    #[test]
    fn masking_stars_out_the_match_only() {
        let p = policy(&["bad"], FilterAction::Mask);
        assert_eq!(
            p.filter("this is b.a.d, ok", false),
            Filtered::Pass("this is *****, ok".into())
        );
        assert_eq!(
            p.filter("ＢＡＤ idea", false),
            Filtered::Pass("*** idea".into())
        );
        assert_eq!(p.filter("badge", false), Filtered::Pass("badge".into()));
    }

    #[test]
    fn links_from_anonymous_senders_can_be_refused() {
        let p = RoomPolicy {
            links: LinkPolicy::VerifiedOnly,
            ..RoomPolicy::default()
        };
        for link in [
            "see https://x.example",
            "www.spam",
            "buy at cheap-pills.com now",
            "(spam.io/offer)",
        ] {
            assert_eq!(p.filter(link, false), Filtered::Blocked, "{link}");
            assert_eq!(
                p.filter(link, true),
                Filtered::Pass(link.into()),
                "verified members may link"
            );
        }
        for text in ["e.g. this", "3.14", "fine.thanks", "end of sentence."] {
            assert_eq!(p.filter(text, false), Filtered::Pass(text.into()), "{text}");
        }
    }

    #[test]
    fn text_that_grows_many_times_in_normal_form_cannot_pass_a_word_filter() {
        let p = RoomPolicy {
            words: vec!["spam".into()],
            ..RoomPolicy::default()
        };
        // U+FDFA: one character, 18 letters in NFKC.
        let ligatures = "\u{FDFA}".repeat(100);
        assert_eq!(p.filter(&ligatures, true), Filtered::Blocked);
        assert_eq!(
            RoomPolicy::default().filter(&ligatures, true),
            Filtered::Pass(ligatures.clone()),
            "no filter, nothing to scan"
        );
        // Ordinary compatibility forms still pass, and match.
        assert_eq!(
            p.filter("ﬁne ｗｏｒｄｓ", true),
            Filtered::Pass("ﬁne ｗｏｒｄｓ".into())
        );
        assert_eq!(p.filter("ＳＰＡＭ", true), Filtered::Blocked);
    }

    #[test]
    fn the_word_index_follows_the_words() {
        let mut p = RoomPolicy {
            words: vec!["spam".into()],
            ..RoomPolicy::default()
        };
        assert_eq!(p.filter("spam", true), Filtered::Blocked);
        p.words = vec!["eggs".into()];
        assert_eq!(p.filter("spam", true), Filtered::Pass("spam".into()));
        assert_eq!(p.filter("eggs", true), Filtered::Blocked);
    }

    #[test]
    fn policies_are_bounded() {
        assert!(RoomPolicy {
            words: vec!["...".into()],
            ..RoomPolicy::default()
        }
        .validate()
        .is_err());
        let words = |n: usize| RoomPolicy {
            words: (0..n).map(|i| format!("слово{i:04}")).collect(),
            ..RoomPolicy::default()
        };
        assert!(words(400).validate().is_ok(), "3,600 characters");
        assert!(words(500).validate().is_err(), "4,500");
        assert!(RoomPolicy {
            emoji: vec![],
            ..RoomPolicy::default()
        }
        .validate()
        .is_err());
        assert!(RoomPolicy {
            emoji: vec!["a b".into()],
            ..RoomPolicy::default()
        }
        .validate()
        .is_err());
        assert!(RoomPolicy::default().validate().is_ok());
        for not_one in ["lol", "👍👍", "🍕 ", "+1"] {
            let policy = RoomPolicy {
                emoji: vec!["👍".into(), not_one.into()],
                ..RoomPolicy::default()
            };
            assert!(policy.validate().is_err(), "{not_one:?}");
        }
        let twice = RoomPolicy {
            emoji: ["👍", "🍕", "👍", "🇫🇷", "🍕"].map(String::from).to_vec(),
            ..RoomPolicy::default()
        };
        assert_eq!(
            twice.validate().map(|p| p.emoji),
            Ok(["👍", "🍕", "🇫🇷"].map(String::from).to_vec())
        );
        assert!(
            RoomPolicy::default().allows_emoji("👍") && !RoomPolicy::default().allows_emoji("🍕")
        );
    }

    proptest::proptest! {
        /// Masking in one pass stars exactly the characters some match
        /// covers, as checking each against every match did.
        #[test]
        fn masking_in_one_pass_stars_what_any_match_covers(
            words in proptest::collection::vec("[ab]{1,4}", 1..6),
            text in "[ab .]{0,40}",
        ) {
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            let p = policy(&words, FilterAction::Mask);
            let spans = p.matches(&text).unwrap_or_default();
            let expected: String = text
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if spans.iter().any(|&(a, b)| (a..=b).contains(&i)) && !c.is_whitespace() {
                        '*'
                    } else {
                        c
                    }
                })
                .collect();
            proptest::prop_assert_eq!(p.filter(&text, true), Filtered::Pass(expected));
        }
    }
}
