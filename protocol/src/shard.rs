//! Sharded rooms: a room bigger than one object.
//!
//! One object, the room's *owner*, keeps everything that makes the room one
//! room: the sequence, history, dedupe, moderation (the [`crate::room`] core
//! runs there and nowhere else). Past [`ShardPlan::at`] connections, new
//! connections are handed to *fan-out* objects, which hold the sockets and
//! nothing else:
//!
//! - a member's frames reach the owner in [`InboundBatch`]es, one request in
//!   flight per fan-out object, so the owner sees each socket's frames in the
//!   order they were sent;
//! - what the owner decides for fan-out sockets travels back in [`Push`]
//!   batches, again one request in flight per fan-out object, through an
//!   [`OutQueue`] that also carries the joins handed to that object. A join
//!   is a barrier: everything decided before it is delivered before the new
//!   socket exists, everything after it reaches the new socket. So every
//!   member sees every message once and in order, and a member who
//!   reconnects with `since` to another object resumes exactly as before:
//!   the client protocol does not change.
//!
//! A request between the objects whose answer is lost is sent again, and
//! each side numbers its batches ([`PushBatch::n`], [`InboundBatch::n`]) so
//! that the receiver applies a batch it already has only once ([`Applied`]).
//!
//! The owner keeps its view of the fan-out members in memory. When it wakes
//! (from hibernation, or after a restart) it asks each object for its
//! [`Push::Roster`]; the answer ([`Inbound::Roster`]) comes in the object's
//! stream to the owner, after the leaves that came before it. Until it is
//! in, [`RosterSync`] lets through only the leaves of connections this
//! owner handed over itself, and the roster leaves those out, so presence,
//! counts and per-address limits are whole again without a race.
//!
//! This module is the plan (which object a connection goes to), the
//! messages between the objects and the queues' state machines; the worker
//! carries them out.

use std::collections::{HashSet, VecDeque};

use serde::{Deserialize, Serialize};

use crate::room::Member;

/// When a room shards and how wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardPlan {
    /// Connections the owner keeps itself; later ones go to fan-out objects.
    pub at: u32,
    /// Connections per fan-out object before another one is opened.
    pub size: u32,
}

/// Most fan-out objects per room (100,000 viewers at the default size).
pub const MAX_FANOUT: u32 = 64;

impl Default for ShardPlan {
    /// One object sends a frame to a thousand sockets in a few milliseconds
    /// (see docs/benchmarks.md); past that a message's fan-out is better
    /// spread over objects that run in parallel.
    fn default() -> Self {
        ShardPlan {
            at: 1_000,
            size: 2_000,
        }
    }
}

/// Where a new connection goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Owner,
    /// Fan-out object `index`; the room now uses `objects` of them.
    FanOut {
        index: u32,
        objects: u32,
    },
}

impl ShardPlan {
    /// Place a connection of `sender`, with `local` sockets on the owner and
    /// `shards[i]` on fan-out object `i`. The object is chosen by a hash of
    /// the sender, so a member's reconnect usually lands where it was; a full
    /// object passes the connection to the least loaded one. Objects are
    /// added as the room grows and never removed while it lives.
    pub fn place(&self, local: u32, shards: &[u32], sender: &str) -> Placement {
        if local < self.at && shards.iter().all(|&n| n == 0) {
            return Placement::Owner;
        }
        let size = self.size.max(1);
        let remote: u32 = shards.iter().sum();
        let needed = (remote / size + 1).min(MAX_FANOUT);
        let objects = needed.max(shards.len() as u32).max(1);
        let load = |i: u32| shards.get(i as usize).copied().unwrap_or(0);
        let mut index = fnv1a(sender) % objects;
        if load(index) >= size {
            index = (0..objects).min_by_key(|&i| (load(i), i)).unwrap_or(0);
        }
        Placement::FanOut { index, objects }
    }
}

fn fnv1a(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5, |h: u32, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// The name of a room's fan-out object `index`, from the owner's name (room
/// ids never contain `#`).
pub fn fanout_name(owner: &str, index: u32) -> String {
    format!("{owner}#{index}")
}

/// What the owner tells a fan-out object to do, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "camelCase")]
pub enum Push {
    /// Send `frame` to the socket `to` (a reply: welcome, ack, error).
    To { to: String, frame: String },
    /// Send `frame` to every socket but `skip` (the sender's own).
    All {
        frame: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        skip: Option<String>,
    },
    /// Send `frame` to every socket of `sender` but `skip`.
    Sender {
        sender: String,
        frame: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        skip: Option<String>,
    },
    /// Send `frame` to every moderator's socket (reports).
    Moderators { frame: String },
    /// Close the socket `to`.
    Close {
        to: String,
        code: u16,
        reason: String,
    },
    /// Send `frame` to every socket of `sender`, then close them (a ban).
    CloseSender {
        sender: String,
        frame: String,
        code: u16,
        reason: String,
    },
    /// Send `frame` to every socket, then close them (the room was erased).
    CloseAll {
        frame: String,
        code: u16,
        reason: String,
    },
    /// Report every member here to the owner (an [`Inbound::Roster`], even
    /// an empty one): it woke up and knows only its own sockets. Says where
    /// to (an object with no sockets would not know) and which incarnation
    /// of the owner asks (the answer names it).
    Roster {
        owner: String,
        index: u32,
        asker: String,
    },
}

impl Push {
    /// About how many bytes this adds to a batch's body.
    fn weight(&self) -> usize {
        let frame = match self {
            Push::To { frame, .. }
            | Push::All { frame, .. }
            | Push::Sender { frame, .. }
            | Push::Moderators { frame }
            | Push::CloseSender { frame, .. }
            | Push::CloseAll { frame, .. } => frame.len(),
            Push::Close { reason, .. } => reason.len(),
            Push::Roster { owner, asker, .. } => owner.len() + asker.len(),
        };
        frame + 96
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushBatch {
    /// Which incarnation of the owner sent it, and its number there: a batch
    /// sent twice (the first answer was lost) has the same pair.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub n: u64,
    pub entries: Vec<Push>,
}

/// A fan-out object's answer to anything the owner sends: its sockets now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FanoutCount {
    pub online: u32,
}

/// A connection the owner admitted, handed to a fan-out object with the
/// socket upgrade: it accepts the socket and keeps `member` and `conn` with
/// it. The joiner's welcome and history follow as pushes to `conn`, right
/// behind the join in the same queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FanoutJoin {
    /// The owner's object name (frames go back there).
    pub owner: String,
    pub index: u32,
    /// The socket's id, unique in the room.
    pub conn: String,
    pub member: Member,
    /// The client reads several frames in one message.
    #[serde(default)]
    pub batch: bool,
}

/// What a fan-out object's sockets did, for the owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "camelCase")]
pub enum Inbound {
    /// A text frame from `conn`, already checked for size.
    Frame {
        conn: String,
        member: Member,
        text: String,
    },
    /// `conn` closed.
    Leave { conn: String, member: Member },
    /// Every connection on the object whose leave is not sent yet (its
    /// answer to [`Push::Roster`] from `asker`).
    Roster {
        asker: String,
        members: Vec<RosterEntry>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RosterEntry {
    pub conn: String,
    pub member: Member,
}

/// The owner's side of rebuilding its view of the fan-out members when it
/// wakes up (see the module's notes).
#[derive(Debug, Default)]
pub struct RosterSync {
    /// This incarnation of the owner: rosters asked by another are stale.
    asker: String,
    links: Vec<LinkSync>,
}

#[derive(Debug, Default, Clone)]
struct LinkSync {
    due: bool,
    asked_at: u64,
    /// Connections handed over to the object since its roster was asked.
    joined: HashSet<String>,
}

impl RosterSync {
    pub fn new(asker: String) -> Self {
        RosterSync {
            asker,
            links: Vec::new(),
        }
    }

    fn link(&mut self, index: u32) -> &mut LinkSync {
        let i = index as usize;
        if self.links.len() <= i {
            self.links.resize(i + 1, LinkSync::default());
        }
        &mut self.links[i]
    }

    /// Ask object `index` of `owner` for its roster (again, if its answer
    /// was lost): the push to send it.
    pub fn ask(&mut self, owner: &str, index: u32, now: u64) -> Push {
        let link = self.link(index);
        link.due = true;
        link.asked_at = now;
        Push::Roster {
            owner: owner.to_owned(),
            index,
            asker: self.asker.clone(),
        }
    }

    pub fn is_due(&self, index: u32) -> bool {
        self.links.get(index as usize).is_some_and(|l| l.due)
    }

    /// Objects whose roster has not come.
    pub fn due(&self) -> Vec<u32> {
        (0..self.links.len() as u32)
            .filter(|&i| self.is_due(i))
            .collect()
    }

    /// Objects whose roster has not come within `wait_ms` of asking (the
    /// request or its answer was lost): to ask again.
    pub fn overdue(&self, now: u64, wait_ms: u64) -> Vec<u32> {
        self.links
            .iter()
            .enumerate()
            .filter(|(_, l)| l.due && now.saturating_sub(l.asked_at) >= wait_ms)
            .map(|(i, _)| i as u32)
            .collect()
    }

    /// Connection `conn` was handed over to object `index`.
    pub fn joined(&mut self, index: u32, conn: &str) {
        if self.is_due(index) {
            self.link(index).joined.insert(conn.to_owned());
        }
    }

    /// Whether the owner knows the member whose connection `conn` left
    /// object `index`: while its roster is due, only those it handed over
    /// itself (the others are not in the roster either).
    pub fn knows_leave(&mut self, index: u32, conn: &str) -> bool {
        if !self.is_due(index) {
            return true;
        }
        self.link(index).joined.remove(conn)
    }

    /// Object `index`'s roster came: the members to list again, or None if
    /// it is not the one awaited (asked by an earlier incarnation, or a
    /// second answer).
    pub fn roster(
        &mut self,
        index: u32,
        asker: &str,
        entries: Vec<RosterEntry>,
    ) -> Option<Vec<Member>> {
        if asker != self.asker || !self.is_due(index) {
            return None;
        }
        let link = self.link(index);
        link.due = false;
        let joined = std::mem::take(&mut link.joined);
        Some(
            entries
                .into_iter()
                .filter(|e| !joined.contains(&e.conn))
                .map(|e| e.member)
                .collect(),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundBatch {
    pub index: u32,
    /// The object's sockets after these events.
    pub online: u32,
    /// Which incarnation of the object sent it, and its number there.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub n: u64,
    pub entries: Vec<Inbound>,
}

/// The receiving side's memory of the last batch it applied from one
/// sender, so that a batch sent again is applied once.
#[derive(Debug, Default)]
pub struct Applied {
    from: String,
    n: u64,
}

impl Applied {
    /// Whether the batch `(from, n)` is new; if so, it is now the last one.
    /// Batches go one at a time, so a number not above the last one from
    /// the same sender is a repeat. An empty `from` (an older sender) is
    /// always new.
    pub fn fresh(&mut self, from: &str, n: u64) -> bool {
        if from.is_empty() {
            return true;
        }
        if from == self.from && n <= self.n {
            return false;
        }
        self.from = from.to_owned();
        self.n = n;
        true
    }
}

/// One send of an [`OutQueue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing<J> {
    Batch(PushBatch),
    /// Hand over the join `J` (and wait for its answer).
    Join(J),
    /// The queue overflowed and what waited was dropped: close the object's
    /// sockets, so that its members reconnect and resume by `since`.
    Restart,
}

enum Item<J> {
    Push(Push),
    Join(J),
}

/// The owner's queue towards one fan-out object: pushes batched while a send
/// is in flight, joins as barriers between them, one send at a time.
pub struct OutQueue<J> {
    items: VecDeque<Item<J>>,
    busy: bool,
    restart: bool,
    /// The owner's incarnation and the last batch number used.
    from: String,
    sent: u64,
}

impl<J> Default for OutQueue<J> {
    fn default() -> Self {
        OutQueue::new(String::new())
    }
}

/// Most items an [`OutQueue`] holds: an object that does not keep up (or
/// hangs) must not grow its owner's memory without bound.
pub const MAX_QUEUED: usize = 20_000;

/// Most pushes in one batch, and about the most bytes (frames are at most a
/// few KiB, so a request body stays well under a megabyte).
pub const MAX_BATCH: usize = 256;
pub const MAX_BATCH_BYTES: usize = 256 * 1024;

impl<J> OutQueue<J> {
    /// A queue whose batches say they come from `from` (the owner's
    /// incarnation).
    pub fn new(from: String) -> Self {
        OutQueue {
            items: VecDeque::new(),
            busy: false,
            restart: false,
            from,
            sent: 0,
        }
    }

    pub fn push(&mut self, push: Push) {
        self.add(Item::Push(push));
    }

    pub fn join(&mut self, join: J) {
        self.add(Item::Join(join));
    }

    /// Past [`MAX_QUEUED`], everything waiting is dropped (joins too: their
    /// answers are dropped, and the owner refuses them) and a restart is due.
    fn add(&mut self, item: Item<J>) {
        if self.items.len() >= MAX_QUEUED {
            self.items.clear();
            self.restart = true;
        }
        self.items.push_back(item);
    }

    /// The next send, if none is in flight: the caller sends it and calls
    /// [`OutQueue::done`] when it was answered (or failed).
    pub fn take_next(&mut self) -> Option<Outgoing<J>> {
        if self.busy {
            return None;
        }
        if self.restart {
            self.restart = false;
            self.busy = true;
            return Some(Outgoing::Restart);
        }
        let out = match self.items.pop_front()? {
            Item::Join(j) => Outgoing::Join(j),
            Item::Push(first) => {
                let mut bytes = first.weight();
                let mut entries = vec![first];
                while entries.len() < MAX_BATCH {
                    match self.items.front() {
                        Some(Item::Push(p)) if bytes + p.weight() <= MAX_BATCH_BYTES => {
                            bytes += p.weight();
                            if let Some(Item::Push(p)) = self.items.pop_front() {
                                entries.push(p);
                            }
                        }
                        _ => break,
                    }
                }
                self.sent += 1;
                Outgoing::Batch(PushBatch {
                    from: self.from.clone(),
                    n: self.sent,
                    entries,
                })
            }
        };
        self.busy = true;
        Some(out)
    }

    pub fn done(&mut self) {
        self.busy = false;
    }

    pub fn is_idle(&self) -> bool {
        !self.busy && self.items.is_empty()
    }
}

/// The fan-out object's queue towards the owner: same discipline, frames
/// and leaves batched while one request is in flight. A batch the owner did
/// not take is sent again, as it was (same number: the owner applies it
/// once), a few times with a growing pause, before its frames are given up
/// (their senders reconnect and resend them). Its leaves and roster are
/// not: nobody would send them again, and a lost leave leaves a ghost in the
/// owner's presence list. They stay in flight, under the same number (so a
/// batch the owner did apply, but whose answer was lost, is not applied
/// twice), for [`KEPT_ATTEMPTS`] more sends [`KEPT_PAUSE_MS`] apart.
#[derive(Debug)]
pub struct InQueue {
    entries: Vec<Inbound>,
    /// The batch in flight, kept until it is answered.
    in_flight: Option<(u64, Vec<Inbound>)>,
    busy: bool,
    failures: u32,
    /// Sends of the batch in flight since its frames were given up (0:
    /// they were not).
    kept: u32,
    from: String,
    sent: u64,
}

impl Default for InQueue {
    fn default() -> Self {
        InQueue::new(String::new())
    }
}

/// Sends of one inbound batch before it is given up (with pauses of 0.5,
/// 1, 2 and 4 s between them).
pub const INBOUND_ATTEMPTS: u32 = 5;

/// Further sends of a batch's leaves and roster after its frames were given
/// up, [`KEPT_PAUSE_MS`] apart: about 50 s more of an unreachable owner, at
/// most about 110 s while each request waits for its 10 s timeout. The
/// object's later entries wait behind them meanwhile.
pub const KEPT_ATTEMPTS: u32 = 6;
pub const KEPT_PAUSE_MS: u64 = 8_000;

/// What to do after a batch to the owner failed.
#[derive(Debug, PartialEq)]
pub enum Failed {
    /// Send it again ([`InQueue::retry`] returns it) after this pause; it
    /// stays in flight meanwhile.
    RetryInMs(u64),
    /// These frames are given up: their sockets should reconnect and
    /// resend. With `retry_in_ms`, the batch's leaves and roster stay in
    /// flight, to be sent again ([`InQueue::retry`]) after that pause;
    /// without, they are given up too.
    GaveUp {
        lost: Vec<Inbound>,
        retry_in_ms: Option<u64>,
    },
}

impl InQueue {
    /// A queue whose batches say they come from `from` (the object's
    /// incarnation).
    pub fn new(from: String) -> Self {
        InQueue {
            entries: Vec::new(),
            in_flight: None,
            busy: false,
            failures: 0,
            kept: 0,
            from,
            sent: 0,
        }
    }

    pub fn push(&mut self, entry: Inbound) {
        self.entries.push(entry);
    }

    /// Entries waiting (not counting those in flight).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The next batch (its number and entries), if no request is in flight:
    /// the one that failed last, or everything waiting.
    pub fn take_next(&mut self) -> Option<(u64, Vec<Inbound>)> {
        if self.busy {
            return None;
        }
        if self.in_flight.is_none() {
            if self.entries.is_empty() {
                return None;
            }
            let take = self.entries.len().min(MAX_BATCH);
            self.sent += 1;
            self.in_flight = Some((self.sent, self.entries.drain(..take).collect()));
        }
        self.busy = true;
        self.in_flight.clone()
    }

    pub fn from(&self) -> &str {
        &self.from
    }

    /// The batch in flight was taken.
    pub fn done(&mut self) {
        self.busy = false;
        self.failures = 0;
        self.kept = 0;
        self.in_flight = None;
    }

    /// The batch in flight was not taken (no answer, or an error).
    pub fn failed(&mut self) -> Failed {
        if self.kept > 0 {
            return self.kept_failed();
        }
        self.failures += 1;
        if self.failures < INBOUND_ATTEMPTS {
            return Failed::RetryInMs(250 << self.failures);
        }
        self.failures = 0;
        let Some((n, entries)) = self.in_flight.take() else {
            self.busy = false;
            return Failed::GaveUp {
                lost: Vec::new(),
                retry_in_ms: None,
            };
        };
        let (frames, kept): (Vec<_>, Vec<_>) = entries
            .into_iter()
            .partition(|e| matches!(e, Inbound::Frame { .. }));
        if kept.is_empty() {
            self.busy = false;
            return Failed::GaveUp {
                lost: frames,
                retry_in_ms: None,
            };
        }
        self.kept = 1;
        self.in_flight = Some((n, kept));
        Failed::GaveUp {
            lost: frames,
            retry_in_ms: Some(KEPT_PAUSE_MS),
        }
    }

    /// A send of the kept leaves and roster failed: again after a pause, or
    /// given up for good.
    fn kept_failed(&mut self) -> Failed {
        if self.kept < KEPT_ATTEMPTS {
            self.kept += 1;
            return Failed::RetryInMs(KEPT_PAUSE_MS);
        }
        self.busy = false;
        self.kept = 0;
        Failed::GaveUp {
            lost: self.in_flight.take().map(|(_, e)| e).unwrap_or_default(),
            retry_in_ms: None,
        }
    }

    /// The batch in flight, to send again after [`Failed::RetryInMs`] (or a
    /// [`Failed::GaveUp`] with a pause).
    pub fn retry(&self) -> Option<(u64, Vec<Inbound>)> {
        self.in_flight.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: ShardPlan = ShardPlan { at: 10, size: 100 };

    #[test]
    fn small_rooms_stay_on_the_owner() {
        assert_eq!(PLAN.place(0, &[], "a"), Placement::Owner);
        assert_eq!(PLAN.place(9, &[], "a"), Placement::Owner);
    }

    #[test]
    fn past_the_threshold_connections_go_to_fan_out_objects_that_grow_with_the_room() {
        assert_eq!(
            PLAN.place(10, &[], "a"),
            Placement::FanOut {
                index: 0,
                objects: 1
            }
        );
        // 150 remote: a second object opens.
        let Placement::FanOut { objects, .. } = PLAN.place(10, &[100, 50], "a") else {
            panic!("placed on the owner")
        };
        assert_eq!(objects, 2);
        // Once sharded, a reconnect lands on a fan-out object even if the
        // owner's own sockets dropped below the threshold.
        assert!(matches!(PLAN.place(0, &[3], "a"), Placement::FanOut { .. }));
        // Objects are never taken away while the room lives.
        let Placement::FanOut { objects, .. } = PLAN.place(10, &[0, 0, 1], "a") else {
            panic!()
        };
        assert_eq!(objects, 3);
    }

    #[test]
    fn the_same_sender_lands_on_the_same_object_and_a_full_one_is_avoided() {
        let a = PLAN.place(10, &[50, 50, 50], "sender-x");
        assert_eq!(a, PLAN.place(10, &[50, 50, 50], "sender-x"));
        let Placement::FanOut { index, .. } = a else {
            panic!()
        };
        let mut loads = [50, 50, 50];
        loads[index as usize] = 100;
        let Placement::FanOut { index: moved, .. } = PLAN.place(10, &loads, "sender-x") else {
            panic!()
        };
        assert_ne!(moved, index);
    }

    #[test]
    fn senders_spread_over_objects() {
        let mut loads = vec![0u32; 0];
        for i in 0..3000 {
            if let Placement::FanOut { index, objects } = PLAN.place(10, &loads, &format!("s{i}")) {
                loads.resize(objects as usize, 0);
                loads[index as usize] += 1;
            }
        }
        assert_eq!(loads.len(), 30);
        assert!(loads.iter().all(|&n| n <= 100), "{loads:?}");
        assert_eq!(loads.iter().sum::<u32>(), 3000);
    }

    #[test]
    fn the_number_of_objects_is_bounded() {
        let loads = vec![PLAN.size; MAX_FANOUT as usize];
        let Placement::FanOut { objects, .. } = PLAN.place(10, &loads, "a") else {
            panic!()
        };
        assert_eq!(objects, MAX_FANOUT);
    }

    fn all(frame: &str) -> Push {
        Push::All {
            frame: frame.into(),
            skip: None,
        }
    }

    #[test]
    fn pushes_are_batched_while_one_is_in_flight_and_joins_are_barriers() {
        let mut q: OutQueue<&str> = OutQueue::new("owner".into());
        q.push(all("1"));
        assert_eq!(
            q.take_next(),
            Some(Outgoing::Batch(PushBatch {
                from: "owner".into(),
                n: 1,
                entries: vec![all("1")]
            }))
        );
        q.push(all("2"));
        q.join("j");
        q.push(all("3"));
        q.push(all("4"));
        assert_eq!(q.take_next(), None, "one send at a time");
        q.done();
        assert_eq!(
            q.take_next(),
            Some(Outgoing::Batch(PushBatch {
                from: "owner".into(),
                n: 2,
                entries: vec![all("2")]
            }))
        );
        q.done();
        assert_eq!(q.take_next(), Some(Outgoing::Join("j")));
        assert_eq!(q.take_next(), None);
        q.done();
        assert_eq!(
            q.take_next(),
            Some(Outgoing::Batch(PushBatch {
                from: "owner".into(),
                n: 3,
                entries: vec![all("3"), all("4")]
            }))
        );
        q.done();
        assert!(q.is_idle());
    }

    #[test]
    fn an_overflowing_queue_drops_what_waits_and_asks_for_a_restart() {
        let mut q: OutQueue<u32> = OutQueue::default();
        q.push(all("in flight"));
        assert!(q.take_next().is_some());
        q.join(7);
        for i in 1..MAX_QUEUED {
            q.push(all(&i.to_string()));
        }
        // Full: the next one overflows it.
        q.push(all("after"));
        q.done();
        // The object's members missed what was dropped: they must resume.
        assert_eq!(q.take_next(), Some(Outgoing::Restart));
        q.done();
        // The join queued before the overflow is gone (its owner refuses it);
        // what came after the overflow is still sent.
        let Some(Outgoing::Batch(b)) = q.take_next() else {
            panic!("no batch")
        };
        assert_eq!(b.entries, vec![all("after")]);
        q.done();
        assert!(q.is_idle());
    }

    #[test]
    fn batches_are_bounded() {
        let mut q: OutQueue<()> = OutQueue::default();
        for i in 0..(MAX_BATCH + 5) {
            q.push(all(&i.to_string()));
        }
        let Some(Outgoing::Batch(b)) = q.take_next() else {
            panic!()
        };
        assert_eq!(b.entries.len(), MAX_BATCH);
        q.done();
        let Some(Outgoing::Batch(b)) = q.take_next() else {
            panic!()
        };
        assert_eq!(b.entries.len(), 5);
    }

    #[test]
    fn pushes_keep_their_wire_names() {
        let json = serde_json::to_string(&Push::CloseSender {
            sender: "s".into(),
            frame: "{}".into(),
            code: 4003,
            reason: "banned".into(),
        })
        .unwrap_or_default();
        assert_eq!(
            json,
            r#"{"t":"closeSender","sender":"s","frame":"{}","code":4003,"reason":"banned"}"#
        );
        assert_eq!(
            serde_json::to_string(&all("x")).unwrap_or_default(),
            r#"{"t":"all","frame":"x"}"#
        );
    }

    fn leave(c: &str) -> Inbound {
        Inbound::Leave {
            conn: c.into(),
            member: member("x"),
        }
    }

    #[test]
    fn inbound_frames_go_one_request_at_a_time() {
        let mut q = InQueue::new("fan".into());
        assert_eq!(q.take_next(), None);
        q.push(leave("1"));
        assert_eq!(q.take_next().map(|(n, b)| (n, b.len())), Some((1, 1)));
        q.push(leave("2"));
        q.push(leave("3"));
        assert_eq!(q.take_next(), None);
        q.done();
        assert_eq!(q.take_next().map(|(n, b)| (n, b.len())), Some((2, 2)));
        assert_eq!(q.from(), "fan");
    }

    #[test]
    fn an_inbound_batch_that_failed_is_sent_again_as_it_was_then_given_up() {
        let mut q = InQueue::default();
        q.push(leave("1"));
        let first = q.take_next();
        q.push(leave("2"));
        let mut pauses = Vec::new();
        for _ in 1..INBOUND_ATTEMPTS {
            let Failed::RetryInMs(ms) = q.failed() else {
                panic!("given up too early")
            };
            pauses.push(ms);
            // Still in flight: nothing else goes meanwhile.
            assert_eq!(q.take_next(), None);
            // Same number, same entries: the owner applies it once even if
            // an earlier send did reach it.
            assert_eq!(q.retry(), first);
        }
        assert_eq!(pauses, vec![500, 1000, 2000, 4000]);
        // Its leave is kept: sent again, under the same number.
        assert_eq!(
            q.failed(),
            Failed::GaveUp {
                lost: vec![],
                retry_in_ms: Some(KEPT_PAUSE_MS)
            }
        );
        assert_eq!(q.retry(), first);
        assert_eq!(q.failed(), Failed::RetryInMs(KEPT_PAUSE_MS));
        assert_eq!(q.take_next(), None);
        q.done();
        // What waited behind it goes next, under a new number.
        assert_eq!(q.take_next(), Some((2, vec![leave("2")])));
        q.done();
        assert_eq!(q.take_next(), None);
    }

    fn frame(conn: &str) -> Inbound {
        Inbound::Frame {
            conn: conn.into(),
            member: member("x"),
            text: "hi".into(),
        }
    }

    #[test]
    fn a_given_up_batch_loses_its_frames_at_once_and_its_leaves_only_after_more_sends() {
        let mut q = InQueue::default();
        q.push(frame("1"));
        q.push(leave("2"));
        q.push(frame("3"));
        assert_eq!(q.take_next().map(|(n, b)| (n, b.len())), Some((1, 3)));
        let give_up = |q: &mut InQueue| loop {
            if let Failed::GaveUp { lost, retry_in_ms } = q.failed() {
                return (lost, retry_in_ms);
            }
        };
        // The frames go back to their senders (who resend); the leave stays.
        let kept = Some(KEPT_PAUSE_MS);
        assert_eq!(give_up(&mut q), (vec![frame("1"), frame("3")], kept));
        assert_eq!(q.retry(), Some((1, vec![leave("2")])));
        // Then single sends, a pause apart, under the same number.
        for _ in 1..KEPT_ATTEMPTS {
            assert_eq!(q.failed(), Failed::RetryInMs(KEPT_PAUSE_MS));
            assert_eq!(q.retry(), Some((1, vec![leave("2")])));
        }
        // Only an owner unreachable for so long loses it.
        assert_eq!(
            q.failed(),
            Failed::GaveUp {
                lost: vec![leave("2")],
                retry_in_ms: None
            }
        );
        assert_eq!(q.retry(), None);
        assert_eq!(q.take_next(), None);
        // A batch taken starts its count afresh.
        q.push(leave("4"));
        assert_eq!(q.take_next(), Some((2, vec![leave("4")])));
        assert_eq!(give_up(&mut q), (vec![], kept));
        q.done();
        q.push(leave("5"));
        assert_eq!(q.take_next(), Some((3, vec![leave("5")])));
        for _ in 0..INBOUND_ATTEMPTS - 1 {
            assert!(matches!(q.failed(), Failed::RetryInMs(ms) if ms < KEPT_PAUSE_MS));
        }
        assert_eq!(give_up(&mut q), (vec![], kept));
    }

    #[test]
    fn a_batch_sent_twice_is_applied_once() {
        let mut applied = Applied::default();
        assert!(applied.fresh("owner-a", 1));
        assert!(!applied.fresh("owner-a", 1), "a repeat");
        assert!(applied.fresh("owner-a", 2));
        // A new incarnation of the sender starts its numbers again.
        assert!(applied.fresh("owner-b", 1));
        assert!(!applied.fresh("owner-b", 1));
        // A sender from before numbering is never filtered.
        assert!(applied.fresh("", 0));
        assert!(applied.fresh("", 0));
    }

    #[test]
    fn batches_are_bounded_in_bytes_too() {
        let mut q: OutQueue<()> = OutQueue::default();
        let big = "x".repeat(60 * 1024);
        for _ in 0..10 {
            q.push(all(&big));
        }
        let mut sizes = Vec::new();
        while let Some(Outgoing::Batch(b)) = q.take_next() {
            sizes.push(b.entries.len());
            q.done();
        }
        assert_eq!(sizes.iter().sum::<usize>(), 10);
        assert!(
            sizes.iter().all(|&n| n * 60 * 1024 <= MAX_BATCH_BYTES),
            "{sizes:?}"
        );
        // A single push over the bound still goes, alone.
        q.push(all(&"y".repeat(MAX_BATCH_BYTES + 1)));
        q.push(all("z"));
        let Some(Outgoing::Batch(b)) = q.take_next() else {
            panic!()
        };
        assert_eq!(b.entries.len(), 1);
    }

    #[test]
    fn rosters_keep_their_wire_names() {
        let ask = RosterSync::new("me".into()).ask("o", 2, 0);
        assert_eq!(
            serde_json::to_string(&ask).unwrap_or_default(),
            r#"{"t":"roster","owner":"o","index":2,"asker":"me"}"#
        );
        let roster = Inbound::Roster {
            asker: "me".into(),
            members: vec![],
        };
        assert_eq!(
            serde_json::to_string(&roster).unwrap_or_default(),
            r#"{"t":"roster","asker":"me","members":[]}"#
        );
        // A batch from before numbering still parses.
        let old: PushBatch = serde_json::from_str(r#"{"entries":[]}"#).unwrap_or_default();
        assert_eq!((old.from.as_str(), old.n), ("", 0));
    }

    fn member(sender: &str) -> Member {
        Member {
            author: format!("a:{sender}"),
            sender: sender.into(),
            name: sender.to_uppercase(),
            verified: false,
            role: None,
            v1: true,
            address: None,
            limits: crate::Limits::default(),
        }
    }

    fn entry(conn: &str, sender: &str) -> RosterEntry {
        RosterEntry {
            conn: conn.into(),
            member: member(sender),
        }
    }

    #[test]
    fn a_woken_owner_ignores_leaves_of_members_it_never_knew_until_the_roster_comes() {
        let mut sync = RosterSync::new("me".into());
        sync.ask("o", 0, 0);
        sync.ask("o", 1, 0);
        assert_eq!(sync.due(), vec![0, 1]);
        // Left before the roster was taken: not in it, and not known here.
        assert!(!sync.knows_leave(0, "old"));
        // Handed over by this owner after it asked: known, and its leave counts.
        sync.joined(0, "new1");
        sync.joined(0, "new2");
        assert!(sync.knows_leave(0, "new1"));
        // The roster lists new2 too (it joined before the object answered):
        // it is listed here already.
        let got = sync.roster(0, "me", vec![entry("c1", "x"), entry("new2", "y")]);
        assert_eq!(got, Some(vec![member("x")]));
        assert_eq!(sync.due(), vec![1]);
        // From now on every leave of object 0 counts.
        assert!(sync.knows_leave(0, "c1"));
        // Object 1 never asked about joins: its leaves wait for its roster.
        assert!(!sync.knows_leave(1, "c9"));
    }

    #[test]
    fn a_roster_counts_once_and_only_for_the_incarnation_that_asked() {
        let mut sync = RosterSync::new("me".into());
        sync.ask("o", 0, 0);
        assert_eq!(sync.roster(0, "earlier-owner", vec![entry("c", "x")]), None);
        assert_eq!(
            sync.roster(0, "me", vec![entry("c", "x")]),
            Some(vec![member("x")])
        );
        assert_eq!(
            sync.roster(0, "me", vec![entry("c", "x")]),
            None,
            "a second answer"
        );
        // Never asked: nothing to take.
        assert_eq!(sync.roster(3, "me", vec![]), None);
        assert!(sync.knows_leave(3, "c"));
    }

    #[test]
    fn asking_again_keeps_the_joins_seen_since_the_first_ask() {
        let mut sync = RosterSync::new("me".into());
        sync.ask("o", 0, 1_000);
        sync.ask("o", 1, 1_000);
        sync.joined(0, "j");
        assert!(sync.overdue(3_999, 3_000).is_empty());
        assert_eq!(sync.roster(1, "me", vec![]), Some(vec![]));
        // Object 0's answer was lost; asked again.
        assert_eq!(sync.overdue(4_000, 3_000), vec![0]);
        sync.ask("o", 0, 4_000);
        assert!(sync.overdue(4_000, 3_000).is_empty());
        assert_eq!(
            sync.roster(0, "me", vec![entry("j", "y"), entry("c", "x")]),
            Some(vec![member("x")])
        );
    }
}
