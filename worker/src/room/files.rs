//! The room's side of attachments: where its files go, marking upload
//! tickets used, and deleting the objects its messages no longer need.
//! The bytes themselves are handled by the Worker (`crate::files`).

use protocol::file_rules;
use protocol::files::room_prefix;
use protocol::files::Ticket;
use protocol::room::attachments::{ABANDON_MS, TICKET_MS};
use protocol::room::{FilePlace, RoomCore, Store, StoreError};
use protocol::ProtocolError;
use serde_json::json;
use worker::{console_error, Request, Response, Result};

use super::alarm::alarm_by;
use super::store::SqlStore;
use super::{Inner, Room, RoomIdentity};
use crate::clock::now_ms;
use crate::files::{self, upload::Claim, CLAIM_HEADER};
use crate::http::{json_error, json_response};

type StoreResult<T> = std::result::Result<T, StoreError>;

/// Objects that could not be deleted are tried again this much later.
pub(super) const RETRY_DELETE_MS: i64 = 60_000;

impl RoomIdentity {
    /// The name this room's Durable Object goes by.
    pub fn object_name(&self) -> String {
        crate::upgrade::object_name(&self.site, &self.epoch, &self.room)
    }

    /// Where this room's files go.
    pub fn file_place(&self, env: &worker::Env) -> Option<FilePlace> {
        let room = self.object_name();
        Some(FilePlace {
            key: files::file_key(env)?,
            site: self.site.clone(),
            epoch: self.epoch.clone(),
            prefix: room_prefix(&self.site, &room),
            room,
            ticket_ms: super::env_ms(env, "UPLOAD_TICKET_MS", TICKET_MS),
            abandon_ms: super::env_ms(env, "UPLOAD_ABANDON_MS", ABANDON_MS),
        })
    }
}

impl Room {
    /// Tell the core where files go, once the room knows who it is.
    pub(super) fn place_files(&self) {
        let place = self
            .identity
            .borrow()
            .as_ref()
            .and_then(|id| id.file_place(&self.env));
        if let (Some(place), Ok(inner)) = (place, self.inner.borrow_mut().as_mut()) {
            inner.core.set_files(place);
        }
    }

    /// `POST /files/claim` and `/files/commit` from the Worker: the start
    /// of an upload was checked, mark its ticket used (only once) before the
    /// bytes are stored; then, once they are, count them in the site's
    /// storage and mark the upload stored.
    pub(super) async fn claim(&self, req: &Request) -> Result<Response> {
        let commit = req.path().ends_with("/commit");
        let claim: Option<Claim> = req
            .headers()
            .get(CLAIM_HEADER)?
            .and_then(|h| serde_json::from_str(&h).ok());
        let Some(claim) = claim else {
            return json_error(400, "bad_request", "no claim");
        };
        let outcome = if commit {
            self.commit(&claim.ticket).await
        } else {
            self.with_core(|core, store| {
                core.claim_upload(&claim.ticket, claim.size, &claim.mime, now_ms(), store)
            })
        };
        if matches!(&outcome, Ok(Err(e)) if e.code == protocol::ErrorCode::StorageFull) {
            // The site's owner hears of it (the room's own refusals of
            // tickets tell them too).
            let event =
                self.with_core(|core, store| core.storage_full_event(claim.size, now_ms(), store));
            match event {
                Ok(event) => {
                    self.carry_out(super::Origin::Api, event.into_iter().collect());
                }
                Err(e) => console_error!("room: cannot tell that storage is full: {e}"),
            }
        }
        match outcome {
            Ok(Ok(())) => json_response(200, &json!({ "ok": true })),
            Ok(Err(e)) => {
                let status = match e.code {
                    protocol::ErrorCode::TicketExpired => 410,
                    protocol::ErrorCode::StorageFull => 507,
                    protocol::ErrorCode::Internal => 503,
                    _ => 409,
                };
                json_error(status, e.code.as_str(), &e.message)
            }
            Err(e) => {
                console_error!("room: claim failed: {e}");
                json_error(500, "internal", "the upload could not be recorded")
            }
        }
    }

    /// Reserve a stored upload's bytes in the site's count, which every room
    /// shares, then mark it stored; a refusal has the Worker delete it (an
    /// object of this ticket's own). Then the room's figure is told again,
    /// as it now is, whatever came of it.
    async fn commit(&self, ticket: &Ticket) -> StoreResult<std::result::Result<(), ProtocolError>> {
        let ask = self.with_core(|core, store| core.commit_storage(ticket, now_ms(), store))?;
        let (bytes, max) = match ask {
            Ok(ask) => ask,
            Err(e) => return Ok(Err(e)),
        };
        let id = self.identity.borrow().clone();
        let sql = self.state.storage().sql();
        let verdict = match id.as_ref() {
            Some(id) if bytes > 0 => {
                let verdict = self
                    .file_bytes
                    .reserve(&self.env, &sql, id, bytes, max)
                    .await;
                verdict.ok_or_else(|| {
                    ProtocolError::new(
                        protocol::ErrorCode::Internal,
                        "the upload could not be counted; ask for a new ticket and try again",
                    )
                })
            }
            _ => Ok(Ok(())),
        };
        let done = match verdict {
            Ok(Ok(())) => self.with_core(|core, store| core.commit_upload(ticket, now_ms(), store)),
            refused => {
                self.with_core(|core, store| core.storage_refused(ticket, now_ms(), store))?;
                Ok(Err(match refused {
                    Err(e) => e,
                    _ => file_rules::storage_full(),
                }))
            }
        };
        // Even with nothing to reserve: a smaller file in place of a
        // bigger one frees bytes.
        self.tell_file_bytes();
        done
    }

    /// Run `f` on the core and its store (the news of the other rooms'
    /// files passed on first).
    fn with_core<T>(
        &self,
        f: impl FnOnce(&mut RoomCore, &mut SqlStore) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut inner = self.inner.borrow_mut();
        let Inner { core, store, .. } = inner.as_mut().map_err(|e| e.clone())?;
        self.file_bytes.pass_news(core);
        f(core, store)
    }

    /// Tell the site's room list what this room's files hold now (see
    /// `room::file_bytes`).
    pub(super) fn tell_file_bytes(&self) {
        let id = self.identity.borrow().clone();
        if let Some(task) = self
            .file_bytes
            .telling(self.env.clone(), self.state.storage(), id)
        {
            self.state.wait_until(task);
        }
    }

    /// Tell the site's room list this room's figure of its files if it is
    /// owed one (a telling failed, or files were stored before the cap):
    /// on waking and from the alarm.
    pub(super) fn tell_owed_file_bytes(&self) {
        let owed = self
            .inner
            .borrow()
            .as_ref()
            .is_ok_and(|i| i.store.files_owed().unwrap_or(false));
        if owed {
            self.tell_file_bytes();
        }
    }

    /// Delete objects in the background, then forget their uploads (and
    /// tell the site's room list the bytes are free).
    pub(super) fn delete_objects(&self, keys: Vec<String>) {
        let env = self.env.clone();
        let storage = self.state.storage();
        let sql = storage.sql();
        let (file_bytes, id) = (self.file_bytes.clone(), self.identity.borrow().clone());
        self.state.wait_until(async move {
            match files::delete_objects(&env, &keys).await {
                Ok(()) => {
                    if let Err(e) = SqlStore::forget_uploads_in(&sql, &keys) {
                        console_error!("room: cannot forget deleted files: {e}");
                    }
                    if let Some(task) = file_bytes.telling(env, storage, id) {
                        task.await;
                    }
                }
                // The alarm's sweep finds them again: make sure it runs.
                Err(e) => {
                    console_error!("room: cannot delete files: {e}");
                    alarm_by(&storage, now_ms() + RETRY_DELETE_MS as u64).await;
                }
            }
        });
    }

    /// Make sure the alarm runs by `at` (to sweep abandoned uploads).
    pub(super) fn sweep_by(&self, at: u64) {
        let storage = self.state.storage();
        self.state
            .wait_until(async move { alarm_by(&storage, at).await });
    }

    /// From the alarm: delete the objects no message needs; returns when
    /// the next abandoned upload is due, if any.
    pub(super) async fn sweep_files(&self, now: u64) -> Option<u64> {
        let orphans = {
            let mut inner = self.inner.borrow_mut();
            let Inner { store, .. } = inner.as_mut().ok()?;
            store.orphaned_uploads(now, 1000).unwrap_or_default()
        };
        if !orphans.is_empty() {
            match files::delete_objects(&self.env, &orphans).await {
                Ok(()) => {
                    if let Err(e) =
                        SqlStore::forget_uploads_in(&self.state.storage().sql(), &orphans)
                    {
                        console_error!("room: cannot forget deleted files: {e}");
                    }
                    self.tell_file_bytes();
                }
                // Come back for them (they may belong to deleted messages,
                // which no abandon time covers).
                Err(e) => {
                    console_error!("room: cannot delete files: {e}");
                    return Some(now + RETRY_DELETE_MS as u64);
                }
            }
        }
        // Read once those are gone: one of them, due before now, would make
        // the alarm wait as for a failed delete.
        let mut inner = self.inner.borrow_mut();
        let Inner { store, .. } = inner.as_mut().ok()?;
        store.next_abandon().ok().flatten()
    }

    /// The room was erased: delete all its files.
    pub(super) async fn delete_all_files(&self, identity: &RoomIdentity) {
        let prefix = room_prefix(&identity.site, &identity.object_name());
        if let Err(e) = files::delete_prefix(&self.env, &prefix).await {
            console_error!("room: cannot delete the erased room's files: {e}");
        }
    }
}
