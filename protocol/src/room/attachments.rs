//! Files in a room: the rules for upload tickets, for attaching uploads to
//! messages and for deleting objects no message needs.
//!
//! 1. A member asks (`upload`) for a ticket for one file of a message: the
//!    site must accept files of that size and type, the member must be
//!    allowed to post, and the request costs a message from their rate
//!    limit. Each ticket names an object of its own; asking again for the
//!    same file (after a lost answer, a failed upload) makes the older
//!    tickets stop working and deletes what they stored.
//! 2. The Worker checks the bytes and asks the room to [`RoomCore::claim_upload`]:
//!    a ticket is good for one upload, and only the newest ticket of a file.
//! 3. The member's `send` names the keys; only their own stored uploads,
//!    attached to no other message, are accepted.
//! 4. Uploads never attached, and those of deleted or trimmed messages, are
//!    orphans: the adapter deletes their objects ([`Output::DeleteObjects`]).

use crate::client_frame::{FileRef, UploadRequest};
use crate::error::{ErrorCode, ProtocolError};
use crate::file_rules;
pub use crate::files::TICKET_MS;
use crate::files::{clean_file_name, object_key, FileKey, Ticket, UPLOAD_PATH};
use crate::json::ObjectWriter;
use crate::message::{Attachment, ChatMessage, RoomEvent};
use crate::server_frame::ServerFrame;
use crate::validate::is_invisible;

use super::policy::Filtered;
use super::store::{Upload, UploadState};
use super::{reply, reply_error, Member, Outcome, Output, RoomCore, Store, StoreError};

/// A room tells the site's webhooks that its storage for files is full at
/// most this often (a full site refuses every upload until files go).
pub const STORAGE_FULL_EVERY_MS: u64 = 60 * 60 * 1000;

/// An upload not attached this long after its ticket expired is deleted.
pub const ABANDON_MS: u64 = 60 * 60 * 1000;
/// How long what the other rooms hold, as last heard, stands for the
/// early checks.
const FILES_NEWS_MS: u64 = 10_000;
/// Objects deleted per sweep (one storage call each batch).
const SWEEP_BATCH: usize = 500;

/// Where this room's files go, and the key that signs their tickets and
/// URLs. Set by the adapter once it knows which room it is.
#[derive(Debug, Clone)]
pub struct FilePlace {
    pub key: FileKey,
    /// The site and its epoch (see the Worker's `room_object_name`).
    pub site: String,
    pub epoch: String,
    /// Every object key of the room starts with it (`files::room_prefix`).
    pub prefix: String,
    /// The room's object name, for the Worker to find the room.
    pub room: String,
    /// How long a ticket lasts ([`TICKET_MS`]), and how long after that an
    /// upload never sent is kept ([`ABANDON_MS`]); tests shorten both.
    pub ticket_ms: u64,
    pub abandon_ms: u64,
}

impl RoomCore {
    pub fn set_files(&mut self, place: FilePlace) {
        self.files = Some(place);
    }

    /// What the site's other rooms hold in files, as its room list says in
    /// answer to this room's report of its own, at `now`.
    pub fn set_files_elsewhere(&mut self, bytes: u64, now: u64) {
        self.files_elsewhere = (bytes, now);
    }

    /// Whether a file of `size` bytes, in place of `replaced` bytes held
    /// (objects about to be deleted), fits in the site's storage for files (`max_bytes` in
    /// all), as far as the room knows of the other rooms. What they held
    /// long ago is not held against a visitor (files may have gone since):
    /// the exact count comes when the bytes are stored.
    fn storage_fits(
        &self,
        size: u64,
        replaced: u64,
        max_bytes: u64,
        now: u64,
        store: &mut impl Store,
    ) -> Result<Result<(), ProtocolError>, StoreError> {
        let here = store.file_bytes()?.saturating_sub(replaced);
        let (elsewhere, heard) = self.files_elsewhere;
        let elsewhere = if now.saturating_sub(heard) <= FILES_NEWS_MS {
            elsewhere
        } else {
            0
        };
        Ok(file_rules::fits_storage(elsewhere, here, size, max_bytes))
    }

    /// An upload of `size` bytes was refused because the site's storage
    /// for files is full: a `storage.full` webhook event for the owner,
    /// unless this room sent one within [`STORAGE_FULL_EVERY_MS`] (in
    /// memory: this only spares traffic; the site's webhook queue holds the
    /// whole site to one per hour). The core adds it to the tickets it
    /// refuses; the adapter asks for it when a claim or the site's count
    /// refuses an upload's bytes.
    pub fn storage_full_event(
        &mut self,
        size: u64,
        now: u64,
        store: &mut impl Store,
    ) -> Result<Option<Output>, StoreError> {
        if self
            .storage_full_told
            .is_some_and(|told| now.saturating_sub(told) < STORAGE_FULL_EVERY_MS)
        {
            return Ok(None);
        }
        let data = ObjectWriter::new()
            .u64("size", size)
            .u64("maxStorageBytes", self.max_storage())
            .u64("roomFileBytes", store.file_bytes()?)
            .finish();
        self.storage_full_told = Some(now);
        Ok(Some(Output::SiteEvent {
            kind: "storage.full",
            name: format!("storage.{now}"),
            seq: store.latest_seq()?,
            timestamp: now,
            data,
        }))
    }

    /// The site's storage for files, in all.
    fn max_storage(&self) -> u64 {
        self.limits().unwrap_or_default().max_storage_bytes
    }

    /// An `upload` request: a ticket, or why not.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_upload(
        &mut self,
        member: &Member,
        id: &str,
        file: u32,
        request: UploadRequest,
        now: u64,
        store: &mut impl Store,
    ) -> Outcome {
        let fail = |e: ProtocolError| Ok(reply_error(member, e.with_id(Some(id))));
        let limits = member.limits;
        let Some(place) = self.files.clone() else {
            return fail(ProtocolError::new(
                ErrorCode::Internal,
                "file storage is not available",
            ));
        };
        if !limits.takes_files() {
            return fail(file_rules::files_off());
        }
        if let Err(e) = self.may_act(member, now) {
            return fail(e);
        }
        if request.size > limits.max_file_bytes {
            return fail(file_rules::too_large(limits.max_file_bytes));
        }
        if !limits.file_types.allows(&request.mime) {
            return fail(file_rules::unsupported_type(
                &limits.file_types.names().join(", "),
            ));
        }
        // A file's name is shown to everyone: the site's filter applies.
        let name = match self
            .state
            .policy
            .filter(&clean_file_name(&request.name), member.verified)
        {
            Filtered::Pass(name) => name,
            Filtered::Blocked => {
                return fail(ProtocolError::new(
                    ErrorCode::Blocked,
                    "the site does not allow this file name",
                ))
            }
        };
        if !self.throttles.take_message(member, now) {
            return fail(ProtocolError::new(
                ErrorCode::RateLimited,
                "sending too fast; wait a moment",
            ));
        }
        // One object per ticket: an upload under an older ticket, stalled
        // and finishing late, can never land on (or, refused, delete) the
        // object of a newer one, which may have been sent meanwhile.
        let of = format!("{}\0{id}\0{file}", member.author);
        let slot = object_key(&place.prefix, self.key.derive("file", &of));
        let earlier = store.slot_uploads(&slot)?;
        if earlier.iter().any(|u| u.seq.is_some()) {
            return fail(ProtocolError::new(
                ErrorCode::TicketUsed,
                "this file was sent already",
            ));
        }
        // Judged by what the room last heard of the other rooms; exactly
        // once the bytes are stored (see `commit_storage`). This spares a
        // visitor an upload bound to be refused. The older tickets' objects
        // are deleted below: their bytes do not stand in the way.
        let replaced = earlier.iter().map(|u| u.held).sum();
        if let Err(e) =
            self.storage_fits(request.size, replaced, limits.max_storage_bytes, now, store)?
        {
            let mut outputs = fail(e)?;
            outputs.push(Output::TellFileBytes);
            // (A store failing here costs the owner's event, not the refusal.)
            outputs.extend(
                self.storage_full_event(request.size, now, store)
                    .ok()
                    .flatten(),
            );
            return Ok(outputs);
        }
        // Never an earlier ticket's key: that ticket would work again.
        let key = loop {
            self.tickets_issued += 1;
            let n = self.tickets_issued;
            let key = object_key(
                &place.prefix,
                self.key.derive("file", &format!("{of}\0{now}\0{n}")),
            );
            if !earlier.iter().any(|u| u.key == key) {
                break key;
            }
        };
        // The older tickets stop working: unused ones are forgotten; the
        // objects of used ones (stored, or being written) are deleted, and
        // abandoned now so that none is committed or attached meanwhile.
        let mut written = Vec::new();
        let mut unused = Vec::new();
        for mut u in earlier {
            // (An upload from before held its file's earlier object.)
            if u.state == UploadState::Issued && u.held == 0 {
                unused.push(u.key);
            } else {
                u.abandon_at = 0;
                store.save_upload(&u)?;
                written.push(u.key);
            }
        }
        store.forget_uploads(&unused)?;
        let expires = now + place.ticket_ms;
        store.save_upload(&Upload {
            key: key.clone(),
            slot,
            author: member.author.clone(),
            name: name.clone(),
            mime: request.mime.clone(),
            size: request.size,
            width: request.width,
            height: request.height,
            ticket_expires: expires,
            state: UploadState::Issued,
            seq: None,
            abandon_at: expires + place.abandon_ms,
            held: 0,
        })?;
        let ticket = Ticket {
            key: key.clone(),
            site: place.site.clone(),
            epoch: place.epoch.clone(),
            room: place.room.clone(),
            size: request.size,
            mime: request.mime,
            types: limits.file_types.names(),
            name,
            expires,
        };
        let mut outputs = reply(
            member,
            ServerFrame::Upload {
                id: id.to_owned(),
                file,
                key,
                url: format!("{UPLOAD_PATH}{}", place.key.seal(&ticket)),
                expires,
            },
        );
        outputs.push(Output::SweepAt(expires + place.abandon_ms));
        if !written.is_empty() {
            outputs.push(Output::DeleteObjects(written));
        }
        // News of the other rooms for the next check (this one's bytes are
        // counted exactly when stored).
        outputs.push(Output::TellFileBytes);
        Ok(outputs)
    }

    /// The Worker has checked the start of an upload (`size` bytes of type
    /// `mime`) and is about to store it: the ticket is used from now on.
    /// `Err` (inner): the ticket is stale, used, expired or abandoned.
    pub fn claim_upload(
        &mut self,
        ticket: &Ticket,
        size: u64,
        mime: &str,
        now: u64,
        store: &mut impl Store,
    ) -> Result<Result<(), ProtocolError>, StoreError> {
        let Some(mut upload) = self.current_upload(ticket, UploadState::Issued, now, store)? else {
            return Ok(Err(ticket_used()));
        };
        if now >= ticket.expires {
            return Ok(Err(ProtocolError::new(
                ErrorCode::TicketExpired,
                "this upload ticket has expired; ask for a new one",
            )));
        }
        // The ticket stays unused: once older files go, it may be tried again.
        if let Err(e) = self.storage_fits(size, upload.held, self.max_storage(), now, store)? {
            return Ok(Err(e));
        }
        upload.state = UploadState::Claimed;
        upload.size = size;
        upload.mime = mime.to_owned();
        store.save_upload(&upload)?;
        Ok(Ok(()))
    }

    /// The Worker wrote the object of a claimed upload, and asks to commit
    /// it: the bytes it adds to the site's storage (its size, less what the
    /// key held before: only an upload from before migration 11, which
    /// reused its file's key, held anything) and the site's cap, for the adapter to reserve in
    /// the site's count, which every room shares (rooms taking uploads at
    /// the same moment cannot each fill the cap), before
    /// [`RoomCore::commit_upload`]. `Err` (inner): not a current claim.
    pub fn commit_storage(
        &self,
        ticket: &Ticket,
        now: u64,
        store: &mut impl Store,
    ) -> Result<Result<(u64, u64), ProtocolError>, StoreError> {
        let Some(upload) = self.current_upload(ticket, UploadState::Claimed, now, store)? else {
            return Ok(Err(ticket_used()));
        };
        Ok(Ok((
            upload.size.saturating_sub(upload.held),
            self.max_storage(),
        )))
    }

    /// The site's count refused the bytes of a claimed upload: the Worker
    /// deletes its object (this ticket's own: nothing else is lost).
    pub fn storage_refused(
        &mut self,
        ticket: &Ticket,
        now: u64,
        store: &mut impl Store,
    ) -> Result<(), StoreError> {
        if let Some(mut upload) = self.current_upload(ticket, UploadState::Claimed, now, store)? {
            upload.held = 0;
            store.save_upload(&upload)?;
        }
        Ok(())
    }

    /// The Worker wrote the object of a claimed upload: it may be attached.
    pub fn commit_upload(
        &mut self,
        ticket: &Ticket,
        now: u64,
        store: &mut impl Store,
    ) -> Result<Result<(), ProtocolError>, StoreError> {
        let Some(mut upload) = self.current_upload(ticket, UploadState::Claimed, now, store)?
        else {
            return Ok(Err(ticket_used()));
        };
        upload.state = UploadState::Stored;
        upload.held = upload.size;
        store.save_upload(&upload)?;
        Ok(Ok(()))
    }

    /// The upload of `ticket` if it is in `state`, under this very ticket,
    /// not attached and not abandoned.
    fn current_upload(
        &self,
        ticket: &Ticket,
        state: UploadState,
        now: u64,
        store: &mut impl Store,
    ) -> Result<Option<Upload>, StoreError> {
        Ok(store.upload(&ticket.key)?.filter(|u| {
            u.state == state
                && u.ticket_expires == ticket.expires
                && u.seq.is_none()
                && u.abandon_at > now
        }))
    }

    /// The attachments a `send` names, if each is `member`'s own stored
    /// upload, not attached yet, not abandoned and named once.
    pub(super) fn attachments_for(
        &self,
        member: &Member,
        refs: &[FileRef],
        now: u64,
        store: &mut impl Store,
    ) -> Result<Result<Vec<Attachment>, ProtocolError>, StoreError> {
        let mut out: Vec<Attachment> = Vec::with_capacity(refs.len());
        for r in refs {
            let usable = store.upload(&r.key)?.filter(|u| {
                u.author == member.author
                    && u.state == UploadState::Stored
                    && u.seq.is_none()
                    // Past it, the sweep may be deleting the object.
                    && u.abandon_at >= now
                    && !out.iter().any(|a| a.key == u.key)
            });
            let Some(u) = usable else {
                return Ok(Err(ProtocolError::new(
                    ErrorCode::NotFound,
                    "an attachment is not an upload of yours waiting to be sent",
                )));
            };
            // Alternative text is shown (and read aloud) like a message.
            let cleaned: String = r
                .alt
                .chars()
                .filter(|c| !c.is_control() && !is_invisible(*c))
                .collect();
            let alt = match self.state.policy.filter(cleaned.trim(), member.verified) {
                Filtered::Pass(alt) => alt,
                Filtered::Blocked => {
                    return Ok(Err(ProtocolError::new(
                        ErrorCode::Blocked,
                        "the site does not allow this alternative text",
                    )))
                }
            };
            out.push(Attachment {
                key: u.key,
                alt: if alt.trim().is_empty() {
                    u.name.clone()
                } else {
                    alt.to_owned()
                },
                name: u.name,
                mime: u.mime,
                size: u.size,
                width: u.width,
                height: u.height,
                url: None,
            });
        }
        Ok(Ok(out))
    }

    /// Record that message `seq` holds these uploads.
    pub(super) fn attach(
        &self,
        attachments: &[Attachment],
        seq: u64,
        store: &mut impl Store,
    ) -> Result<(), StoreError> {
        for a in attachments {
            if let Some(mut u) = store.upload(&a.key)? {
                u.seq = Some(seq);
                store.save_upload(&u)?;
            }
        }
        Ok(())
    }

    /// Fill in the signed URL of every attachment of `m`.
    pub fn sign(&self, m: &mut ChatMessage, now: u64) {
        let Some(place) = &self.files else { return };
        for a in &mut m.attachments {
            a.url = Some(place.key.url(&a.key, now));
        }
    }

    /// [`RoomCore::sign`] for every message in `events`.
    pub fn sign_events(&self, events: &mut [RoomEvent], now: u64) {
        if self.files.is_none() {
            return;
        }
        for e in events {
            match e {
                RoomEvent::Message(m) => self.sign(m, now),
                RoomEvent::Update(u) => self.sign(&mut u.message, now),
                RoomEvent::Moderation(_) => {}
            }
        }
    }

    /// Objects no message needs any more, to delete now (if any).
    pub fn orphans(&self, now: u64, store: &mut impl Store) -> Result<Option<Output>, StoreError> {
        let keys = store.orphaned_uploads(now, SWEEP_BATCH)?;
        Ok((!keys.is_empty()).then_some(Output::DeleteObjects(keys)))
    }
}

fn ticket_used() -> ProtocolError {
    ProtocolError::new(
        ErrorCode::TicketUsed,
        "this upload ticket was used already, or a newer one was issued for the file",
    )
}
