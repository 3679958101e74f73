//! Reports (flags): any member may tell the moderators that someone else's
//! message breaks the rules ([`crate::report`]). The room decides here:
//!
//! - only a message standing can be reported: not one's own, not a
//!   notice or a change (those are not messages), not a tombstone, not a
//!   seq the room never had (`not_found`, `not_allowed`);
//! - one report per member and message: a repeat (under any id) is acked
//!   with the first one's time and changes nothing, free of charge; an
//!   anonymous member's address counts as one member (a fresh anonymous
//!   key is one private window away), its other members acked as if first;
//! - at most [`crate::report::REPORT_BURST`] new reports in a burst, then 10 a minute, per
//!   member (and, for anonymous members, five times that per address);
//! - muted members and members of a locked room may still report (being
//!   harassed is no less likely while muted), banned ones are gone;
//! - a report is no event of the room's sequence: ordinary members never
//!   hear of it. Moderators connected get a `reported` frame with the
//!   message's open counts by reason (never who reported); the site's
//!   server gets a `report` webhook event with the reporter;
//! - a moderator's `dismiss` closes a message's reports (told to the
//!   moderators, announced to no one else); deleting the message (by
//!   anyone, a purge, an erasure) or its trimming by retention removes
//!   them with it, and an erased user's reports go with them.

use crate::error::{ErrorCode, ProtocolError};
use crate::message::RoomEvent;
use crate::report::{
    Evidence, Report, ReportCounts, ReportReason, REPORT_REFILL_SECS, WELCOME_REPORTS,
};
use crate::server_frame::{encode_event, ServerFrame};

use super::{reply, reply_error, Member, Outcome, Output, RoomCore, Store, StoreError};

impl RoomCore {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_report(
        &mut self,
        member: &Member,
        id: &str,
        target: u64,
        reason: ReportReason,
        note: Option<String>,
        now: u64,
        store: &mut impl Store,
    ) -> Outcome {
        let fail = |e: ProtocolError| Ok(reply_error(member, e.with_id(Some(id))));
        let (message, author) = match store.message(target)? {
            Some((m, author)) if !m.deleted => (m, author),
            _ => return fail(ProtocolError::new(ErrorCode::NotFound, "no such message")),
        };
        if author == member.author {
            return fail(ProtocolError::new(
                ErrorCode::NotAllowed,
                "you cannot report your own message",
            ));
        }
        let ack = |timestamp| {
            Ok(reply(
                member,
                ServerFrame::Ack {
                    id: id.to_owned(),
                    seq: target,
                    timestamp,
                },
            ))
        };
        // An anonymous visitor gets a fresh key with every private window:
        // their address reports a message once, however many keys it holds.
        let origin = self.origin(member);
        if let Some(first) = store.report_by(target, &member.author, origin.as_deref())? {
            // Not the first's time to another member at that address (a
            // neighbour behind the same NAT must not learn someone there
            // reported it, nor when).
            return ack(if first.author == member.author {
                first.timestamp
            } else {
                now
            });
        }
        if !self.throttles.take_report(member, now) {
            return fail(ProtocolError::new(
                ErrorCode::RateLimited,
                // The sustained rate (the burst is another constant that happens
                // to be 10 as well).
                format!(
                    "reporting too fast: {} reports a minute at most",
                    60 / REPORT_REFILL_SECS
                ),
            ));
        }
        let mut report = Report {
            id: 0,
            target,
            author: member.author.clone(),
            origin,
            sender: member.sender.clone(),
            name: member.name.clone(),
            verified: member.verified,
            reason: Some(reason),
            note,
            timestamp: now,
            // As the reporter saw it: a later edit must not clean it.
            evidence: Some(Evidence::of(&message)),
        };
        report.id = store.add_report(&report)?;
        let counts = store.report_counts(target)?;
        let mut outputs = ack(now)?;
        outputs.push(Output::ToModerators(ServerFrame::Reported(counts).encode()));
        let mut message = message;
        self.sign(&mut message, now);
        outputs.push(Output::SiteEvent {
            kind: "report",
            name: format!("report.{}", report.id),
            seq: store.latest_seq()?,
            timestamp: now,
            data: report.site_json(&encode_event(&RoomEvent::Message(message)), &counts),
        });
        Ok(outputs)
    }

    /// A moderator closes message `target`'s open reports (acked even when
    /// there were none: two moderators may dismiss at once).
    pub(super) fn on_dismiss(
        &mut self,
        member: &Member,
        id: &str,
        target: u64,
        now: u64,
        store: &mut impl Store,
    ) -> Outcome {
        let dismissed = store.dismiss_reports(target)?;
        let mut outputs = reply(
            member,
            ServerFrame::Ack {
                id: id.to_owned(),
                seq: target,
                timestamp: now,
            },
        );
        if dismissed > 0 {
            outputs.push(Output::ToModerators(
                ServerFrame::Reported(ReportCounts::new(target)).encode(),
            ));
        }
        Ok(outputs)
    }

    /// What a moderator's `welcome` lists (nothing for anyone else).
    pub(super) fn open_reports(
        &self,
        member: &Member,
        store: &mut impl Store,
    ) -> Result<Vec<ReportCounts>, StoreError> {
        if !member.moderates() {
            return Ok(Vec::new());
        }
        store.reported(WELCOME_REPORTS)
    }

    /// After `targets` lost reports (their reporter was erased): their
    /// counts now, for the moderators connected. When `targets` is not the
    /// whole of it (`all`: an erasure past its bounds, a purge), one
    /// `reported` with every open count instead, as `welcome` has them:
    /// cheaper than a frame per message, and it leaves nothing stale.
    pub(super) fn recount(
        &self,
        targets: &[u64],
        all: bool,
        store: &mut impl Store,
    ) -> Result<Vec<Output>, StoreError> {
        if all {
            let open = store.reported(WELCOME_REPORTS)?;
            return Ok(vec![Output::ToModerators(
                ServerFrame::ReportedAll(open).encode(),
            )]);
        }
        let mut outputs = Vec::with_capacity(targets.len());
        for &target in targets {
            let counts = store.report_counts(target)?;
            outputs.push(Output::ToModerators(ServerFrame::Reported(counts).encode()));
        }
        Ok(outputs)
    }
}
