//! Reports (flags): a member tells the room's moderators that someone
//! else's message breaks the rules, as Stream's flag, Sendbird's report or
//! Discord's "Report message" do. The room's rules for them are in
//! `room::reports`; these are the shapes the wire, the store and the site's
//! API share.
//!
//! A report is never an event of the room's sequence: ordinary members
//! never learn that a message was reported, nor by whom. Moderators see how
//! many open reports a message has, by reason; the site's server (webhooks,
//! the API) sees each report with its reporter.

use crate::json::{self, Json, ObjectWriter};
use crate::message::ChatMessage;

/// Longest note a reporter may add, in characters.
pub const MAX_NOTE_CHARS: usize = 200;
/// Reports one member may make in a burst; then one more every
/// [`REPORT_REFILL_SECS`] (10 a minute), so that a bot cannot flood the
/// moderators.
pub const REPORT_BURST: u32 = 10;
pub const REPORT_REFILL_SECS: u32 = 6;
/// Messages with open reports a moderator's `welcome` lists (the most
/// recently reported).
pub const WELCOME_REPORTS: usize = 100;

/// Why a message is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReportReason {
    Spam,
    Harassment,
    Other,
}

impl ReportReason {
    pub const ALL: [ReportReason; 3] = [
        ReportReason::Spam,
        ReportReason::Harassment,
        ReportReason::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportReason::Spam => "spam",
            ReportReason::Harassment => "harassment",
            ReportReason::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<ReportReason> {
        ReportReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The open reports on one message, counted by reason: what moderators see
/// (never who reported).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportCounts {
    /// The reported message's seq.
    pub target: u64,
    /// By reason, in the order of [`ReportReason::ALL`].
    pub by_reason: [u32; 3],
}

impl ReportCounts {
    pub fn new(target: u64) -> Self {
        ReportCounts {
            target,
            by_reason: [0; 3],
        }
    }

    pub fn add(&mut self, reason: ReportReason, n: u32) {
        let i = reason as usize;
        self.by_reason[i] = self.by_reason[i].saturating_add(n);
    }

    /// Open reports in all (0: none, or dismissed).
    pub fn total(&self) -> u32 {
        self.by_reason
            .iter()
            .fold(0u32, |sum, n| sum.saturating_add(*n))
    }

    /// `"target":…,"reports":…,"reasons":{…}` on `w` (reasons with none left out).
    pub fn fields(&self, w: ObjectWriter) -> ObjectWriter {
        let mut reasons = ObjectWriter::new();
        for r in ReportReason::ALL {
            let n = self.by_reason[r as usize];
            if n > 0 {
                reasons = reasons.u64(r.as_str(), u64::from(n));
            }
        }
        w.u64("target", self.target)
            .u64("reports", u64::from(self.total()))
            .raw("reasons", &reasons.finish())
    }

    pub fn parse(obj: &Json) -> Option<ReportCounts> {
        let mut counts = ReportCounts::new(obj.get("target")?.as_u64()?);
        if let Some(reasons) = obj.get("reasons") {
            for r in ReportReason::ALL {
                let n = reasons.get(r.as_str()).and_then(Json::as_u64).unwrap_or(0);
                counts.add(r, n.min(u64::from(u32::MAX)) as u32);
            }
        }
        // An older or simpler server may give the total only.
        if counts.total() == 0 {
            let total = obj.get("reports").and_then(Json::as_u64).unwrap_or(0);
            counts.add(ReportReason::Other, total.min(u64::from(u32::MAX)) as u32);
        }
        Some(counts)
    }
}

/// The reported message as the reporter saw it when reporting: its author
/// may edit it afterwards, and moderators must see what was reported, not
/// a cleaned version. Kept with the report, it goes with it (a dismissal,
/// the message deleted, purged, erased or trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Evidence {
    pub text: String,
    /// When the message had last been edited, if it had.
    pub edited: Option<u64>,
    /// Its attachments' names.
    pub files: Vec<String>,
}

impl Evidence {
    pub fn of(message: &ChatMessage) -> Evidence {
        Evidence {
            text: message.message.clone(),
            edited: message.edited,
            files: message.attachments.iter().map(|a| a.name.clone()).collect(),
        }
    }

    /// `{"message":…,"edited"?:…,"files"?:[…]}` (as a message names them).
    pub fn json(&self) -> String {
        ObjectWriter::new()
            .str("message", &self.text)
            .opt_u64("edited", self.edited)
            .opt_raw("files", self.files_json())
            .finish()
    }

    /// The names as the store keeps them (a JSON array; none: `None`).
    pub fn files_json(&self) -> Option<String> {
        (!self.files.is_empty()).then(|| json::array(self.files.iter().map(|f| json_string(f))))
    }

    /// Back from [`Evidence::files_json`]; anything else is no names.
    pub fn parse_files(text: Option<&str>) -> Vec<String> {
        match text.map(json::parse) {
            Some(Ok(Json::Arr(items))) => items
                .iter()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::new();
    json::write_str(&mut out, s);
    out
}

/// One report as the room keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// The store's number for it (0 until stored): the site API pages on it.
    pub id: u64,
    pub target: u64,
    /// The reporter's author scope (`u:<sub>`, `a:<id>`): never sent anywhere.
    pub author: String,
    /// For an anonymous reporter, the keyed hash of their address (as
    /// messages keep it): one address is one reporter of a message, however
    /// many anonymous keys it takes. Never sent anywhere.
    pub origin: Option<String>,
    /// The reporter's public sender key and name, for moderators and the site.
    pub sender: String,
    pub name: String,
    pub verified: bool,
    /// `None`: a reason this version does not know (a row stored by a
    /// newer one); counted and shown as `other` ([`Report::reason`]).
    pub reason: Option<ReportReason>,
    pub note: Option<String>,
    pub timestamp: u64,
    /// The message as reported (none for reports from before 2026-12).
    pub evidence: Option<Evidence>,
}

impl Report {
    pub fn reason(&self) -> ReportReason {
        self.reason.unwrap_or(ReportReason::Other)
    }

    /// The report for the site's server (webhook `report` event, `GET
    /// reports`): `message` is the reported message as history carries it
    /// now, `reported` as it was when reported, `open` the open reports on
    /// it now.
    pub fn site_json(&self, message: &str, open: &ReportCounts) -> String {
        let reporter = ObjectWriter::new()
            .str("sender", &self.sender)
            .str("name", &self.name)
            .bool("verified", self.verified)
            .finish();
        open.fields(
            ObjectWriter::new()
                .u64("id", self.id)
                .str("reason", self.reason().as_str())
                .opt_str("note", self.note.as_deref())
                .u64("timestamp", self.timestamp)
                .raw("reporter", &reporter),
        )
        .raw("message", message)
        .opt_raw("reported", self.evidence.as_ref().map(Evidence::json))
        .finish()
    }

    /// The report in its reporter's own export (GDPR): what they reported,
    /// why and under which name, never the counts nor anyone else's
    /// reports.
    pub fn export_json(&self) -> String {
        ObjectWriter::new()
            .u64("id", self.id)
            .u64("target", self.target)
            .str("reason", self.reason().as_str())
            .opt_str("note", self.note.as_deref())
            .u64("timestamp", self.timestamp)
            .str("name", &self.name)
            .str("sender", &self.sender)
            .opt_raw("reported", self.evidence.as_ref().map(Evidence::json))
            .finish()
    }
}

/// A reporter's note: trimmed, at most [`MAX_NOTE_CHARS`], no control
/// characters but newlines and tabs; empty is none.
pub fn clean_note(raw: &str) -> Result<Option<String>, &'static str> {
    let note = raw.trim();
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err("\"note\" is at most 200 characters");
    }
    if note
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err("\"note\" may not contain control characters");
    }
    Ok(Some(note.to_owned()).filter(|n| !n.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_round_trip_and_leave_out_reasons_with_none() {
        let mut c = ReportCounts::new(42);
        c.add(ReportReason::Spam, 2);
        c.add(ReportReason::Other, 1);
        let json = c.fields(ObjectWriter::new()).finish();
        assert_eq!(
            json,
            r#"{"target":42,"reports":3,"reasons":{"spam":2,"other":1}}"#
        );
        let back = ReportCounts::parse(&crate::json::parse(&json).unwrap()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn notes_are_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(clean_note("  "), Ok(None));
        assert_eq!(clean_note(" rude\n"), Ok(Some("rude".into())));
        assert!(clean_note(&"x".repeat(201)).is_err());
        assert_eq!(clean_note(&"é".repeat(200)).map(|n| n.is_some()), Ok(true));
        assert!(clean_note("a\u{7}b").is_err());
    }

    #[test]
    fn reasons_parse_exactly() {
        for r in ReportReason::ALL {
            assert_eq!(ReportReason::parse(r.as_str()), Some(r));
        }
        assert_eq!(ReportReason::parse("Spam"), None);
        assert_eq!(ReportReason::parse(""), None);
    }
}
