//! A message's life after it is sent: edits, deletes and reactions. Each is
//! an event with its own seq; the message itself keeps its current state,
//! which every `update` frame carries in full.

use crate::error::{ErrorCode, ProtocolError};
use crate::message::{ChatMessage, ModerationNotice, ReactionChange, RoomEvent, Update};
use crate::server_frame::ServerFrame;
use crate::validate::message_text;

use super::store::fingerprint;
use super::{
    event, recorded, reply_error, to_everyone, Change, Member, Outcome, Output, Record, RecordKind,
    RoomCore, Store, StoreError, REACTIONS_PER_ADDRESS,
};

impl RoomCore {
    /// Apply `change` to message `target` and record it as an event; returns
    /// the event's seq and its `update` frame. The client id goes on the
    /// last record of an action (`None` here when a notice follows).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn record_change(
        &mut self,
        member: &Member,
        client_id: Option<&str>,
        request: u64,
        target: u64,
        change: Change,
        now: u64,
        store: &mut impl Store,
    ) -> Result<(u64, String, Output), StoreError> {
        let reaction = match &change {
            Change::React {
                emoji, sender, on, ..
            } => Some(ReactionChange {
                emoji: emoji.clone(),
                on: *on,
                sender: sender.clone(),
            }),
            _ => None,
        };
        store.apply(target, &change)?;
        let seq = store.latest_seq()? + 1;
        let kind = RecordKind::Update {
            target,
            reaction: reaction.clone(),
        };
        let client_id = client_id.map(str::to_owned);
        store.append(&Record {
            seq,
            timestamp: now,
            author: member.author.clone(),
            client_id,
            request,
            kind,
            origin: None,
        })?;
        let mut message = store.message(target)?.map(|(m, _)| m).unwrap_or_default();
        self.sign(&mut message, now);
        let kind = if matches!(change, Change::Delete) {
            "message.deleted"
        } else {
            "message.updated"
        };
        let webhook = event(kind, seq, RoomEvent::Message(message.clone()), now);
        let frame = ServerFrame::Update(Update {
            seq,
            message,
            reaction,
        })
        .encode();
        Ok((seq, frame, webhook))
    }

    /// A change by `member` under `id`: acked, and the update sent to
    /// everyone, the actor included (its timeline needs the event's seq).
    #[allow(clippy::too_many_arguments)]
    fn change(
        &mut self,
        member: &Member,
        id: &str,
        request: u64,
        target: u64,
        change: Change,
        now: u64,
        store: &mut impl Store,
    ) -> Outcome {
        let shown = matches!(change, Change::Edit { .. } | Change::Delete);
        let (seq, frame, webhook) =
            self.record_change(member, Some(id), request, target, change, now, store)?;
        let mut outputs = recorded(member, id, seq, now, frame, webhook);
        if shown {
            outputs.extend(self.pin_follows(member, Some(target), now, store)?);
        }
        Ok(outputs)
    }

    pub(super) fn on_edit(
        &mut self,
        member: &Member,
        id: &str,
        target: u64,
        raw: &str,
        now: u64,
        store: &mut impl Store,
    ) -> Outcome {
        let fail = |e: ProtocolError| Ok(reply_error(member, e.with_id(Some(id))));
        // A blank text is judged once the message is found: a message
        // with files may lose its caption, as it may be sent without one;
        // only a message of text would be left blank.
        let (text, blank) = match message_text(raw, member.limits.max_message_chars) {
            Ok(text) => (text, None),
            Err(e) if e.code == ErrorCode::Empty => (String::new(), Some(e)),
            Err(e) => return fail(e),
        };
        let request = fingerprint(&["edit", &target.to_string(), &text]);
        if let Some(outputs) = self.prior(member, id, request, store)? {
            return Ok(outputs);
        }
        // Cheap checks first; the filter last, once a token is spent.
        let (message, author) = match store.message(target)? {
            Some((m, author)) if !m.deleted => (m, author),
            _ => return fail(not_found()),
        };
        if let Some(e) = blank.filter(|_| message.attachments.is_empty()) {
            return fail(e);
        }
        if author != member.author && !member.moderates() {
            return fail(ProtocolError::new(
                ErrorCode::NotAllowed,
                "you can only edit your own messages",
            ));
        }
        // A pinned message stands as the moderators chose it: its author
        // cannot rewrite it under the pin (into a scam, say).
        if !member.moderates() && self.state.pinned == Some(target) {
            return fail(ProtocolError::new(
                ErrorCode::NotAllowed,
                "a pinned message cannot be edited; ask a moderator to unpin it",
            ));
        }
        let window = self.state.policy.edit_window_secs.saturating_mul(1000);
        if !member.moderates() && now > message.timestamp.saturating_add(window) {
            return fail(ProtocolError::new(
                ErrorCode::TooLate,
                "this message can no longer be edited",
            ));
        }
        if let Err(e) = self.may_act(member, now) {
            return fail(e);
        }
        if !self.throttles.take_message(member, now) {
            return fail(ProtocolError::new(
                ErrorCode::RateLimited,
                "sending too fast; wait a moment",
            ));
        }
        let text = match self.filtered(member, &text) {
            Ok(text) => text,
            Err(e) => return fail(e),
        };
        // Each edit's stamp is later than the last: clients tell one version
        // of a message (the pinned one) from another by it, and the clock may
        // stand still between two frames.
        let at = now.max(message.edited.map_or(0, |e| e.saturating_add(1)));
        let edit = Change::Edit { text, at };
        if author == member.author {
            return self.change(member, id, request, target, edit, now, store);
        }
        // A moderator changing someone else's words: announced, as a
        // removal is, so that nobody's message is rewritten silently.
        let moderated = Moderated {
            change: edit,
            action: "edit",
            reason: None,
        };
        self.moderated(member, id, request, target, message, moderated, now, store)
    }

    /// A moderator's `change` of someone else's message `target`: the
    /// change, then a notice, so that nothing is changed silently.
    #[allow(clippy::too_many_arguments)]
    fn moderated(
        &mut self,
        member: &Member,
        id: &str,
        request: u64,
        target: u64,
        message: ChatMessage,
        moderated: Moderated,
        now: u64,
        store: &mut impl Store,
    ) -> Outcome {
        let (_, frame, webhook) =
            self.record_change(member, None, request, target, moderated.change, now, store)?;
        let mut outputs = to_everyone(member, frame);
        outputs.push(webhook);
        let notice = ModerationNotice {
            action: moderated.action.into(),
            target: Some(target),
            sender: Some(message.sender),
            name: Some(message.name),
            by: member.name.clone(),
            reason: moderated.reason,
            timestamp: now,
            ..ModerationNotice::default()
        };
        outputs.extend(self.announce(member, id, request, notice, now, store)?);
        outputs.extend(self.pin_follows(member, Some(target), now, store)?);
        Ok(outputs)
    }

    /// Authors may delete their own messages at any time (anonymous ones for
    /// as long as they hold their sender key); moderators anyone's, which is
    /// also announced.
    pub(super) fn on_delete(
        &mut self,
        member: &Member,
        id: &str,
        target: u64,
        reason: Option<String>,
        now: u64,
        store: &mut impl Store,
    ) -> Outcome {
        let fail = |e: ProtocolError| Ok(reply_error(member, e.with_id(Some(id))));
        let request = fingerprint(&["delete", &target.to_string()]);
        if let Some(outputs) = self.prior(member, id, request, store)? {
            return Ok(outputs);
        }
        let (message, author) = match store.message(target)? {
            Some((m, author)) if !m.deleted => (m, author),
            _ => return fail(not_found()),
        };
        if author == member.author {
            return self.change(member, id, request, target, Change::Delete, now, store);
        }
        if !member.moderates() {
            return fail(ProtocolError::new(
                ErrorCode::NotAllowed,
                "you can only delete your own messages",
            ));
        }
        // A moderator removing someone else's message: the tombstone, then a notice.
        let moderated = Moderated {
            change: Change::Delete,
            action: "delete",
            reason,
        };
        self.moderated(member, id, request, target, message, moderated, now, store)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_react(
        &mut self,
        member: &Member,
        id: &str,
        target: u64,
        emoji: &str,
        on: bool,
        now: u64,
        store: &mut impl Store,
    ) -> Outcome {
        let fail = |e: ProtocolError| Ok(reply_error(member, e.with_id(Some(id))));
        let request = fingerprint(&[
            "react",
            &target.to_string(),
            emoji,
            if on { "1" } else { "0" },
        ]);
        if let Some(outputs) = self.prior(member, id, request, store)? {
            return Ok(outputs);
        }
        if let Err(e) = self.may_act(member, now) {
            return fail(e);
        }
        if !self.state.policy.allows_emoji(emoji) {
            return fail(ProtocolError::new(
                ErrorCode::NotAllowed,
                "this reaction is not available here",
            ));
        }
        if !matches!(store.message(target)?, Some((m, _)) if !m.deleted) {
            return fail(not_found());
        }
        if !self.throttles.take_message(member, now) {
            return fail(ProtocolError::new(
                ErrorCode::RateLimited,
                "reacting too fast; wait a moment",
            ));
        }
        // An anonymous visitor gets a fresh key with every private window:
        // one address counts as a few members at most (people behind one
        // NAT), not as many as the keys it takes.
        let origin = self.origin(member);
        if let Some(o) = origin.as_deref().filter(|_| on) {
            if store.reactions_from(target, emoji, o, &member.author)? >= REACTIONS_PER_ADDRESS {
                return fail(ProtocolError::new(
                    ErrorCode::NotAllowed,
                    "this reaction already counts as many from your address as it may",
                ));
            }
        }
        let change = Change::React {
            emoji: emoji.to_owned(),
            author: member.author.clone(),
            sender: member.sender.clone(),
            on,
            origin,
        };
        self.change(member, id, request, target, change, now, store)
    }
}

/// What a moderator does to someone else's message, and the notice's words.
struct Moderated {
    change: Change,
    /// The notice's `action`: "edit" or "delete".
    action: &'static str,
    reason: Option<String>,
}

fn not_found() -> ProtocolError {
    ProtocolError::new(ErrorCode::NotFound, "no such message")
}
