//! What this room tells its site's room list of the bytes of files it
//! holds, for the site's cap on them (`maxStorageBytes`).
//!
//! - Before an upload is marked stored, the room sends its figure with the
//!   upload's bytes added, on the condition that the site's rooms together
//!   stay within the cap ([`FileBytes::reserve`]). The room list serves one
//!   request at a time: rooms taking uploads at the same moment cannot each
//!   fill the cap.
//! - After that, and whenever files go (objects deleted) or the core asks
//!   ([`Output::TellFileBytes`](protocol::room::Output): a ticket issued or
//!   refused), it tells its figure as it is ([`FileBytes::telling`]).
//!
//! Each figure carries a version (the time it was counted, kept rising in
//! the room's settings): the room list keeps no figure older than the last
//! it kept, so figures overtaking each other cannot undo one another; an
//! upload's, overtaken, is added to the newer figure, still within the cap
//! (figures told as they are never count uploads being reserved). A telling that fails is owed: kept
//! in the room's settings and told again from its alarm, or when the room
//! next wakes (as after the upgrade that brought the cap, for the files
//! rooms held before it). Every answer says what the other rooms hold, for
//! the core's early refusals of tickets and claims.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use protocol::room::RoomCore;
use worker::{console_error, Env, SqlStorage, Storage};

use super::alarm::alarm_by;
use super::site_link;
use super::store::SqlStore;
use super::RoomIdentity;
use crate::clock::now_ms;

/// A telling that failed is tried again this much later.
const RETRY_MS: u64 = 5_000;

#[derive(Clone, Default)]
pub(super) struct FileBytes {
    /// A change not told yet.
    owed: Rc<Cell<bool>>,
    /// A telling is under way (later changes wait for it, then go as one).
    telling: Rc<Cell<bool>>,
    /// What the other rooms hold, and when it was heard, not yet passed to
    /// the core.
    news: Rc<Cell<Option<(u64, u64)>>>,
    /// Bytes reserved for uploads being marked stored.
    pending: Rc<Cell<u64>>,
}

impl FileBytes {
    /// Send the room's figure (what it holds, with `pending` bytes of
    /// uploads being reserved, one of which is `upload`, within `max` for
    /// the site if given): `Ok`, or `Err` past the cap; None if not heard.
    async fn send(
        &self,
        env: &Env,
        sql: &SqlStorage,
        id: &RoomIdentity,
        (pending, upload): (u64, u64),
        max: Option<u64>,
    ) -> Option<Result<(), ()>> {
        let counted = SqlStore::file_bytes_in(sql)
            .and_then(|held| Ok((held, SqlStore::files_version_in(sql)?)));
        let (held, last) = match counted {
            Ok(counted) => counted,
            Err(e) => {
                console_error!("room: cannot count its files: {e}");
                return None;
            }
        };
        // Rising, whatever the clock of the machine the room wakes on.
        let version = now_ms().max(last + 1);
        if let Err(e) = SqlStore::set_files_version_in(sql, version) {
            console_error!("room: cannot record its files' version: {e}");
            return None;
        }
        let figure = site_link::FileFigure {
            bytes: held + pending,
            upload,
            version,
            max,
        };
        let (fits, elsewhere) = site_link::file_bytes(env, id, &figure).await?;
        self.news.set(Some((elsewhere, now_ms())));
        Some(if fits { Ok(()) } else { Err(()) })
    }

    /// Reserve `bytes` more for an upload about to be marked stored, within
    /// `max` for the site (together with other uploads being reserved here).
    pub(super) async fn reserve(
        &self,
        env: &Env,
        sql: &SqlStorage,
        id: &RoomIdentity,
        bytes: u64,
        max: u64,
    ) -> Option<Result<(), ()>> {
        self.pending.set(self.pending.get() + bytes);
        let pending = self.pending.get();
        let verdict = self.send(env, sql, id, (pending, bytes), Some(max)).await;
        self.pending.set(self.pending.get().saturating_sub(bytes));
        verdict
    }

    /// The task that tells the room list this room's figure, unless one is
    /// under way (which then tells again, with the figure of then). One that
    /// fails is owed, and told again from the alarm.
    pub(super) fn telling(
        &self,
        env: Env,
        storage: Storage,
        id: Option<RoomIdentity>,
    ) -> Option<impl Future<Output = ()>> {
        self.owed.set(true);
        let id = id?;
        if self.telling.replace(true) {
            return None;
        }
        let this = self.clone();
        Some(async move {
            let sql = storage.sql();
            while this.owed.replace(false) {
                if this.send(&env, &sql, &id, (0, 0), None).await.is_none() {
                    this.owed.set(true);
                    break;
                }
            }
            let owed = this.owed.get();
            if let Err(e) = SqlStore::set_files_owed_in(&sql, owed) {
                console_error!("room: cannot record its files' figure owed: {e}");
            }
            if owed {
                // (Cleared, so that the alarm or a later change starts again.)
                this.owed.set(false);
                alarm_by(&storage, now_ms() + RETRY_MS).await;
            }
            this.telling.set(false);
        })
    }

    /// Pass the latest word on the other rooms' files to the core.
    pub(super) fn pass_news(&self, core: &mut RoomCore) {
        if let Some((bytes, heard)) = self.news.take() {
            core.set_files_elsewhere(bytes, heard);
        }
    }
}
