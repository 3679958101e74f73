//! What moderators can do to a room and its members, and how the room
//! announces it: every action is a `moderation` event with its own seq, so
//! every widget (and one that reconnects later) learns of it.

use crate::client_frame::ModerationAction;
use crate::error::{close_code, ErrorCode, ProtocolError};
use crate::message::{ChatMessage, ModerationNotice, RoomEvent};
use crate::server_frame::ServerFrame;
use crate::text::concat;

use super::sanctions::FOREVER;
use super::store::fingerprint;
use super::SITE_BOT;
use super::{
    event, recorded, reply_error, to_everyone, Member, Outcome, Output, Record, RecordKind,
    RoomCore, Store, StoreError,
};

/// How recent a gone sender's message must be for a ban or a mute to
/// follow the address it came from: addresses change hands (mobile
/// networks, shared NATs), and a sanction for good should not keep out
/// whoever has that address months later.
pub const ORIGIN_FOLLOWED_MS: u64 = 24 * 60 * 60 * 1000;

impl RoomCore {
    /// Record `notice` as the last event of `member`'s action `id`, ack it
    /// and tell everyone.
    pub(super) fn announce(
        &mut self,
        member: &Member,
        id: &str,
        request: u64,
        mut notice: ModerationNotice,
        now: u64,
        store: &mut impl Store,
    ) -> Result<Vec<Output>, StoreError> {
        let seq = store.latest_seq()? + 1;
        notice.seq = seq;
        notice.by_sender = Some(member.sender.clone());
        let frame = ServerFrame::Moderation(notice.clone()).encode();
        let webhook = event(
            "moderation",
            seq,
            RoomEvent::Moderation(notice.clone()),
            now,
        );
        let record = Record {
            seq,
            timestamp: now,
            author: member.author.clone(),
            client_id: Some(id.to_owned()),
            request,
            kind: RecordKind::Moderation(notice),
            origin: None,
        };
        store.append(&record)?;
        Ok(recorded(member, id, seq, now, frame, webhook))
    }

    pub(super) fn on_moderate(
        &mut self,
        member: &Member,
        id: &str,
        action: ModerationAction,
        reason: Option<String>,
        now: u64,
        store: &mut impl Store,
    ) -> Outcome {
        let fail = |e: ProtocolError| Ok(reply_error(member, e.with_id(Some(id))));
        if !member.moderates() {
            return fail(ProtocolError::new(
                ErrorCode::NotAllowed,
                "only moderators can do that",
            ));
        }
        if let ModerationAction::Delete { target } = action {
            return self.on_delete(member, id, target, reason, now, store);
        }
        // Reports are no events: a dismissal is told to moderators only.
        if let ModerationAction::Dismiss { target } = action {
            return self.on_dismiss(member, id, target, now, store);
        }
        let request = fingerprint(&[
            "moderate",
            &format!("{action:?}"),
            reason.as_deref().unwrap_or(""),
        ]);
        if let Some(outputs) = self.prior(member, id, request, store)? {
            return Ok(outputs);
        }
        // A pin needs a message standing; an Unpin, a pin (its own, when
        // it names one: a late or queued Unpin must not take down a newer).
        let missing = match action {
            ModerationAction::Pin { target } => {
                store.message(target)?.is_none_or(|(m, _)| m.deleted)
            }
            ModerationAction::Unpin { target } => {
                self.state.pinned.is_none() || target.is_some_and(|t| Some(t) != self.state.pinned)
            }
            _ => false,
        };
        if missing {
            let what = if matches!(action, ModerationAction::Pin { .. }) {
                "no such message"
            } else {
                "that message is not pinned"
            };
            return fail(ProtocolError::new(ErrorCode::NotFound, what));
        }
        // Moderators cannot silence each other (or the site's bots), online
        // or not.
        if let Some(sender) = action.sender() {
            let lifts = matches!(
                action,
                ModerationAction::Unmute { .. } | ModerationAction::Unban { .. }
            );
            // The site's own bot is never online, but is a moderator too.
            if !lifts
                && (*sender == self.key.sender(SITE_BOT)
                    || self.presence.role(sender).is_some()
                    || store.wrote_with_a_role(sender)?)
            {
                return fail(ProtocolError::new(
                    ErrorCode::NotAllowed,
                    "moderators cannot act on each other",
                ));
            }
        }
        let until = |seconds: Option<u64>| {
            seconds.map_or(FOREVER, |s| now.saturating_add(s.saturating_mul(1000)))
        };
        // A mute or ban ending sooner than the one in force (from a
        // moderator who missed the first) would lift it early without a
        // word: refused, saying what holds (lifting it first shortens it).
        let in_force = match &action {
            ModerationAction::Mute { sender, seconds } => self
                .state
                .sanctions
                .mutes
                .get(sender)
                .map(|u| (*u, *seconds, "muted")),
            ModerationAction::Ban { sender, seconds } => self
                .state
                .sanctions
                .bans
                .get(sender)
                .map(|b| (b.until, *seconds, "banned")),
            _ => None,
        };
        if let Some((current, seconds, what)) = in_force {
            if current > now && current > until(seconds) {
                let how = if current == FOREVER {
                    " for good"
                } else {
                    " for longer"
                };
                let message = concat(&["already ", what, how, ": lift it first to shorten it"]);
                return fail(ProtocolError::new(ErrorCode::NotAllowed, &message));
            }
        }
        let mut notice = ModerationNotice {
            action: action.name().to_owned(),
            sender: action.sender().map(str::to_owned),
            name: match action.sender() {
                Some(s) => match self.presence.name(s) {
                    Some(name) => Some(name),
                    None => store.latest_name(s)?,
                },
                None => None,
            },
            by: member.name.clone(),
            reason,
            timestamp: now,
            ..ModerationNotice::default()
        };
        // Where a banned or muted sender is connected from or, gone, last
        // wrote from (hashed): an anonymous new sender key from there is
        // banned or muted too. A mute of a verified user is theirs alone; a
        // ban also keeps them from coming back anonymously, gone or not.
        let origins = match &action {
            ModerationAction::Mute { sender, .. } if self.presence.verified(sender) => Vec::new(),
            ModerationAction::Mute { sender, .. } => self.origins_of(sender, true, now, store)?,
            ModerationAction::Ban { sender, .. } => self.origins_of(sender, false, now, store)?,
            _ => Vec::new(),
        };
        // An unmute that would leave its sender muted through another
        // member's mute of their address ("can write again", and they
        // cannot): refused, saying whose to lift.
        if let ModerationAction::Unmute { sender } = &action {
            let sanctions = &self.state.sanctions;
            let held = self
                .origins_of(sender, true, now, store)?
                .iter()
                .filter_map(|o| sanctions.muted_origins.get(o))
                .any(|m| m.sender != *sender && m.until > now);
            if held && !self.presence.verified(sender) {
                return fail(ProtocolError::new(
                    ErrorCode::NotAllowed,
                    "muted through the address of another member who is muted: unmute them",
                ));
            }
        }
        // The addresses a mute set or lifted here follows: other anonymous
        // members there are muted, or free, with it.
        let followed: Vec<String> = match &action {
            ModerationAction::Mute { .. } => origins.clone(),
            ModerationAction::Unmute { sender } => (self.state.sanctions.muted_origins.iter())
                .filter(|(_, m)| m.sender == *sender)
                .map(|(o, _)| o.clone())
                .collect(),
            _ => Vec::new(),
        };
        let mut after = Vec::new();
        let mut purged = Vec::new();
        let sanctions = &mut self.state.sanctions;
        match &action {
            ModerationAction::Delete { .. } | ModerationAction::Dismiss { .. } => {}
            ModerationAction::Mute { sender, seconds } => {
                let until = until(*seconds);
                sanctions.mute(sender, until, origins, now);
                notice.until = (until != FOREVER).then_some(until);
            }
            ModerationAction::Unmute { sender } => {
                sanctions.unmute(sender);
            }
            ModerationAction::Ban { sender, seconds } => {
                let until = until(*seconds);
                sanctions.ban(sender, until, origins, now);
                notice.until = (until != FOREVER).then_some(until);
                let error = Self::banned_error(until);
                after.push(Output::CloseSender {
                    sender: sender.clone(),
                    frame: ServerFrame::Error(error).encode(),
                    code: close_code::BANNED,
                    reason: "banned".into(),
                });
            }
            ModerationAction::Unban { sender } => {
                sanctions.bans.remove(sender);
            }
            ModerationAction::Purge { sender } => {
                purged = store.purge(sender)?.tombstones;
            }
            ModerationAction::Slow { seconds } => {
                sanctions.slow_secs = *seconds;
                notice.seconds = Some(*seconds);
            }
            ModerationAction::Lock => sanctions.locked = true,
            ModerationAction::Unlock => sanctions.locked = false,
            ModerationAction::Pin { target } => notice.target = Some(*target),
            ModerationAction::Unpin { .. } => notice.target = self.state.pinned,
        }
        if !followed.is_empty() {
            after.extend(self.standings(action.sender(), &followed, now));
        }
        let mut outputs = Vec::new();
        let pinned = match action {
            ModerationAction::Pin { target } => Some(Some(target)),
            ModerationAction::Unpin { .. } => Some(None),
            _ => None,
        };
        match (pinned, &action) {
            (Some(target), _) => {
                let (frame, save) = self.pin(target, now, store)?;
                outputs.push(save);
                after.extend(to_everyone(member, frame));
            }
            (None, ModerationAction::Purge { .. }) => {}
            (None, _) => outputs.push(self.save_state()),
        }
        outputs.extend(self.announce(member, id, request, notice, now, store)?);
        let purge = !purged.is_empty();
        self.tell_deleted(&mut outputs, purged, now, store)?;
        if purge {
            outputs.extend(self.pin_follows(member, None, now, store)?);
            // Their messages' reports went with them, loaded or not: every
            // open count, for the moderators' flags.
            outputs.extend(self.recount(&[], true, store)?);
        }
        outputs.extend(after);
        Ok(outputs)
    }

    /// Where `sender` is connected from or, gone, last wrote from in the
    /// past day (`anonymous`: as an anonymous member), as address hashes.
    fn origins_of(
        &self,
        sender: &str,
        anonymous: bool,
        now: u64,
        store: &mut impl Store,
    ) -> Result<Vec<String>, StoreError> {
        let here: Vec<String> = self
            .presence
            .addresses(sender)
            .iter()
            .map(|a| self.key.address(a))
            .collect();
        if !here.is_empty() {
            return Ok(here);
        }
        let since = now.saturating_sub(ORIGIN_FOLLOWED_MS);
        Ok(store
            .latest_origin(sender, since, anonymous)?
            .into_iter()
            .collect())
    }

    /// Whether `member` is banned: by sender key, or (anonymous) by address.
    /// When the ban keeping `member` out ends ([`FOREVER`]: never), if any.
    pub(super) fn banned_until(&self, member: &Member, now: u64) -> Option<u64> {
        // Checked on every frame: no hashing in the usual room without bans.
        // A moderator (by their token) is never banned: not by a ban given
        // while they were away and unknown here.
        if self.state.sanctions.bans.is_empty() || member.moderates() {
            return None;
        }
        let origin = self.origin(member);
        self.state
            .sanctions
            .banned_until(&member.sender, origin.as_deref(), !member.verified, now)
    }

    /// The `banned` error for a ban ending at `until` (said when it ends,
    /// unless it is for good).
    pub(super) fn banned_error(until: u64) -> ProtocolError {
        let mut error = ProtocolError::new(ErrorCode::Banned, "you are banned from this room");
        error.until = (until != FOREVER).then_some(until);
        error
    }

    /// A `standing` for each anonymous member here, other than `target`
    /// (who hears the notice naming them), connected from one of `origins`:
    /// a mute just set or lifted there mutes or frees them too, and they
    /// learn it now rather than from their next message's refusal.
    fn standings(&self, target: Option<&str>, origins: &[String], now: u64) -> Vec<Output> {
        let sanctions = &self.state.sanctions;
        self.presence
            .anonymous_from(origins, |a| self.key.address(a))
            .into_iter()
            .filter(|(sender, _)| Some(sender.as_str()) != target)
            .map(|(sender, origin)| {
                let muted_until = sanctions.muted_until(&sender, Some(&origin), now);
                Output::ToSender {
                    sender,
                    frame: ServerFrame::Standing { muted_until }.encode(),
                }
            })
            .collect()
    }

    /// Where a member writes from, hashed ([`Record::origin`]).
    pub(super) fn written_from(&self, member: &Member) -> Option<String> {
        member.address.as_deref().map(|a| self.key.address(a))
    }

    /// Where an anonymous member writes from, hashed: what sanctions of
    /// addresses apply to (a verified user is held by their identity).
    pub(super) fn origin(&self, member: &Member) -> Option<String> {
        (!member.verified)
            .then(|| member.address.as_deref().map(|a| self.key.address(a)))
            .flatten()
    }

    /// The webhooks' `message.deleted` for each message a purge or an
    /// erasure just tombstoned (a receiver that mirrors messages must hear
    /// of each; at most [`super::MAX_PURGE_EVENTS`], the notice stands for
    /// the rest), under the seq of its notice (just announced in `outputs`)
    /// and before it, as a single delete's are.
    pub(super) fn tell_deleted(
        &self,
        outputs: &mut Vec<Output>,
        tombstones: Vec<ChatMessage>,
        now: u64,
        store: &mut impl Store,
    ) -> Result<(), StoreError> {
        let seq = store.latest_seq()?;
        let at = outputs
            .iter()
            .position(|o| matches!(o, Output::Event { .. }))
            .unwrap_or(outputs.len());
        let events = tombstones.into_iter().map(|m| Output::Event {
            kind: "message.deleted",
            seq,
            timestamp: now,
            part: Some(m.seq),
            event: Box::new(RoomEvent::Message(m)),
        });
        outputs.splice(at..at, events);
        Ok(())
    }
}
