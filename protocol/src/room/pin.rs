//! The pinned message: one per room, chosen by a moderator (or the site's
//! server), shown above the list to everyone, as YouTube and Twitch pin a
//! chat message during a live event. The room keeps only its seq (saved
//! with the room's state); members get the message itself in `welcome` and
//! in a `pinned` frame whenever it changes: pinned, unpinned, edited, or
//! deleted (which unpins it).

use crate::message::ChatMessage;
use crate::server_frame::ServerFrame;

use super::{to_everyone, Member, Output, RoomCore, Store, StoreError};

impl RoomCore {
    /// The pinned message as members see it now (`None`: none, or gone).
    pub(super) fn pinned(
        &self,
        now: u64,
        store: &mut impl Store,
    ) -> Result<Option<ChatMessage>, StoreError> {
        let Some(seq) = self.state.pinned else {
            return Ok(None);
        };
        Ok(match store.message(seq)? {
            Some((mut m, _)) if !m.deleted => {
                self.sign(&mut m, now);
                Some(m)
            }
            _ => None,
        })
    }

    /// Pin `target` (`None`: unpin); returns the `pinned` frame for
    /// everyone and the state to save.
    pub(super) fn pin(
        &mut self,
        target: Option<u64>,
        now: u64,
        store: &mut impl Store,
    ) -> Result<(String, Output), StoreError> {
        self.state.pinned = target;
        let message = self.pinned(now, store)?;
        Ok((ServerFrame::Pinned(message).encode(), self.save_state()))
    }

    /// After `member` changed messages (`target`, or any, as a purge
    /// does): the `pinned` frame for everyone if the pinned one is among
    /// them. Deleted, it is unpinned; edited, it goes out as it is now.
    pub(super) fn pin_follows(
        &mut self,
        member: &Member,
        target: Option<u64>,
        now: u64,
        store: &mut impl Store,
    ) -> Result<Vec<Output>, StoreError> {
        let Some(pinned) = self.state.pinned else {
            return Ok(Vec::new());
        };
        if target.is_some_and(|t| t != pinned) {
            return Ok(Vec::new());
        }
        let message = self.pinned(now, store)?;
        if target.is_none() && message.is_some() {
            return Ok(Vec::new());
        }
        let mut outputs = Vec::new();
        if message.is_none() {
            self.state.pinned = None;
            outputs.push(self.save_state());
        }
        outputs.extend(to_everyone(member, ServerFrame::Pinned(message).encode()));
        Ok(outputs)
    }
}
