//! The owner's side of a sharded room (see `protocol::shard`): its links to
//! the room's fan-out objects, one [`OutQueue`] each, so that everything the
//! owner decides reaches each object once, batched, in the owner's order,
//! with joins handed over in the same stream.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use futures_channel::oneshot;
use protocol::address::network_of;
use protocol::room::Member;
use protocol::shard::{
    fanout_name, Applied, FanoutCount, FanoutJoin, OutQueue, Outgoing, Placement, Push, PushBatch,
    RosterEntry, RosterSync, ShardPlan,
};
use protocol::text::concat;
use worker::{
    console_error, Env, Headers, Method, Request, RequestInit, Response, Result, State, Stub,
};

use super::store::SqlStore;
use crate::shard::{JOIN_HEADER, PUSH_HEADER, RESTART_HEADER};

/// A join waiting in a link's queue; its answer (the upgrade response) goes
/// back to the request that is waiting for it.
pub struct Handover {
    join: FanoutJoin,
    protocol: Option<String>,
    answer: oneshot::Sender<Result<Response>>,
}

struct Link {
    index: u32,
    queue: RefCell<OutQueue<Handover>>,
    /// Sockets on the object, as it last said (plus joins handed over since).
    online: Cell<u32>,
    /// The last batch of frames and leaves taken from the object.
    applied: RefCell<Applied>,
}

pub struct Shards {
    pub plan: ShardPlan,
    env: Env,
    /// The owner's object name, once known (fan-out objects are named after it).
    owner: RefCell<String>,
    links: RefCell<Vec<Rc<Link>>>,
    /// Connections on fan-out objects by client address (and by network,
    /// `net:<network>`), for the room's per-address limits (fan-out sockets
    /// are not tagged here). Kept in
    /// memory, and rebuilt from the objects' rosters when the owner wakes.
    addresses: RefCell<HashMap<String, u32>>,
    /// This incarnation of the owner, in its batches' numbers.
    incarnation: String,
    /// Rosters asked when the owner woke, and the joins waiting for them
    /// (until they are in, or the wait is over).
    rosters: RefCell<RosterSync>,
    roster_waiters: RefCell<Vec<oneshot::Sender<()>>>,
    roster_wait_over: Cell<bool>,
}

/// A join waits at most this long for the rosters of a room that woke up
/// (a fan-out object that does not answer must not keep everyone out), and
/// a roster that has not come by then is asked again.
const ROSTER_WAIT_MS: u64 = 3_000;

const OBJECTS_KEY: &str = "fanout_objects";

impl Shards {
    pub fn new(env: Env, plan: ShardPlan, store: Option<&SqlStore>) -> Shards {
        // A room that sharded before a restart keeps pushing to its objects:
        // their sockets are still there.
        let objects = store
            .and_then(|s| s.meta(OBJECTS_KEY).ok().flatten())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let incarnation = crate::random::token();
        let shards = Shards {
            plan,
            env,
            owner: RefCell::new(String::new()),
            links: RefCell::new(Vec::new()),
            addresses: RefCell::new(HashMap::new()),
            rosters: RefCell::new(RosterSync::new(incarnation.clone())),
            incarnation,
            roster_waiters: RefCell::new(Vec::new()),
            roster_wait_over: Cell::new(false),
        };
        shards.grow(objects, None);
        shards
    }

    /// Whether the owner's counts are short: it woke, and some fan-out
    /// object has not yet said who is there (nor is the wait for it over).
    pub fn counts_short(&self) -> bool {
        !self.roster_wait_over.get() && !self.rosters.borrow().due().is_empty()
    }

    pub fn set_owner(&self, name: String) {
        *self.owner.borrow_mut() = name;
    }

    /// The owner woke up knowing only its own sockets: ask every fan-out
    /// object who is there (the answers come as `Inbound::Roster`).
    pub fn ask_rosters(&self, state: &State, now: u64) {
        let owner = self.owner.borrow().clone();
        if owner.is_empty() {
            return;
        }
        let indices: Vec<u32> = self.links.borrow().iter().map(|l| l.index).collect();
        for index in indices {
            let ask = self.rosters.borrow_mut().ask(&owner, index, now);
            self.push(state, index, ask);
        }
    }

    /// Ask again the objects whose roster has not come in time.
    pub fn ask_overdue_rosters(&self, state: &State, now: u64) {
        let owner = self.owner.borrow().clone();
        let overdue = self.rosters.borrow().overdue(now, ROSTER_WAIT_MS);
        for index in overdue {
            console_error!("room: fan-out object {index}'s roster is late; asking again");
            let ask = self.rosters.borrow_mut().ask(&owner, index, now);
            self.push(state, index, ask);
        }
    }

    /// Whether the owner knows the member of `conn`, which left object
    /// `index` (see `RosterSync::knows_leave`).
    pub fn knows_leave(&self, index: u32, conn: &str) -> bool {
        self.rosters.borrow_mut().knows_leave(index, conn)
    }

    /// Object `index` sent its roster: the members to list again (none if
    /// it is stale or a repeat), counted by address here.
    pub fn roster(&self, index: u32, asker: &str, entries: Vec<RosterEntry>) -> Vec<Member> {
        let members = self
            .rosters
            .borrow_mut()
            .roster(index, asker, entries)
            .unwrap_or_default();
        for address in members.iter().filter_map(|m| m.address.as_deref()) {
            self.count_address(address, true);
        }
        if self.rosters.borrow().due().is_empty() {
            self.release_roster_waiters();
        }
        members
    }

    fn release_roster_waiters(&self) {
        for waiter in self.roster_waiters.borrow_mut().drain(..) {
            let _ = waiter.send(());
        }
    }

    /// Until every fan-out object of a room that woke up has said who is
    /// there (or a few seconds have passed), the owner's counts, member
    /// list and per-address limits are short: a join waits for them.
    pub async fn rosters_known(&self, state: &State) {
        if self.roster_wait_over.get() || self.rosters.borrow().due().is_empty() {
            return;
        }
        let (waiter, known) = oneshot::channel();
        self.roster_waiters.borrow_mut().push(waiter);
        let timeout = worker::Delay::from(std::time::Duration::from_millis(ROSTER_WAIT_MS));
        if let futures_util::future::Either::Right(_) =
            futures_util::future::select(known, timeout).await
        {
            // Joins stop waiting for the silent ones, which are asked again.
            self.roster_wait_over.set(true);
            self.release_roster_waiters();
            self.ask_overdue_rosters(state, worker::Date::now().as_millis());
        }
    }

    /// Whether batch `n` from fan-out object `index`'s incarnation `from`
    /// is new (a batch whose answer was lost comes again).
    pub fn fresh_inbound(&self, index: u32, from: &str, n: u64) -> bool {
        self.links
            .borrow()
            .get(index as usize)
            .is_none_or(|l| l.applied.borrow_mut().fresh(from, n))
    }

    /// Sockets on fan-out objects.
    pub fn online(&self) -> u32 {
        self.links.borrow().iter().map(|l| l.online.get()).sum()
    }

    /// Connections from `address` on fan-out objects.
    pub fn connections_from(&self, address: &str) -> u32 {
        self.addresses.borrow().get(address).copied().unwrap_or(0)
    }

    /// Connections from `network` (see `protocol::address::network_of`) on
    /// fan-out objects (counted under `net:<network>` beside the addresses).
    pub fn connections_from_network(&self, network: &str) -> u32 {
        self.connections_from(&concat(&["net:", network]))
    }

    /// A connection from `address` was placed on a fan-out object (`true`)
    /// or left one (`false`).
    pub fn count_address(&self, address: &str, joined: bool) {
        let network = network_of(address).map(|n| concat(&["net:", &n]));
        let mut counts = self.addresses.borrow_mut();
        for key in std::iter::once(address).chain(network.as_deref()) {
            if joined {
                *counts.entry(key.to_owned()).or_default() += 1;
            } else if let Some(n) = counts.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    counts.remove(key);
                }
            }
        }
    }

    pub fn is_sharded(&self) -> bool {
        !self.links.borrow().is_empty()
    }

    /// Where a new connection of `sender` goes, with `local` sockets here.
    pub fn place(&self, local: u32, sender: &str) -> Placement {
        if self.owner.borrow().is_empty() {
            return Placement::Owner;
        }
        let counts: Vec<u32> = self.links.borrow().iter().map(|l| l.online.get()).collect();
        self.plan.place(local, &counts, sender)
    }

    /// Use at least `objects` fan-out objects (recorded in `store`).
    pub fn grow(&self, objects: u32, store: Option<&SqlStore>) {
        let mut links = self.links.borrow_mut();
        if links.len() as u32 >= objects {
            return;
        }
        while (links.len() as u32) < objects {
            let index = links.len() as u32;
            links.push(Rc::new(Link {
                index,
                queue: RefCell::new(OutQueue::new(self.incarnation.clone())),
                online: Cell::new(0),
                applied: RefCell::new(Applied::default()),
            }));
        }
        if let Some(store) = store {
            if let Err(e) = store.set_meta(OBJECTS_KEY, &objects.to_string()) {
                console_error!("room: cannot record its fan-out objects: {e}");
            }
        }
    }

    /// Fan-out object `index` said how many sockets it holds.
    pub fn heard(&self, index: u32, online: u32) {
        if let Some(link) = self.links.borrow().get(index as usize) {
            link.online.set(online);
        }
    }

    /// Send to every fan-out object what `make` builds for it.
    pub fn push_all(&self, state: &State, make: impl Fn(u32) -> Push) {
        for link in self.links.borrow().iter() {
            link.queue.borrow_mut().push(make(link.index));
            self.kick(link, state);
        }
    }

    pub fn push(&self, state: &State, index: u32, push: Push) {
        if let Some(link) = self.links.borrow().get(index as usize) {
            link.queue.borrow_mut().push(push);
            self.kick(link, state);
        }
    }

    /// Hand an admitted connection to fan-out object `join.index`, after
    /// everything already queued for it; the answer is its upgrade response.
    pub fn hand_over(
        &self,
        state: &State,
        join: FanoutJoin,
        protocol: Option<String>,
    ) -> oneshot::Receiver<Result<Response>> {
        let (answer, receiver) = oneshot::channel();
        self.rosters.borrow_mut().joined(join.index, &join.conn);
        if let Some(link) = self.links.borrow().get(join.index as usize) {
            link.online.set(link.online.get() + 1);
            link.queue.borrow_mut().join(Handover {
                join,
                protocol,
                answer,
            });
            self.kick(link, state);
        }
        receiver
    }

    /// Start sending `link`'s queue unless a send is in flight; the loop
    /// runs until the queue is empty.
    fn kick(&self, link: &Rc<Link>, state: &State) {
        let Some(first) = link.queue.borrow_mut().take_next() else {
            return;
        };
        let (env, owner, link) = (self.env.clone(), self.owner.borrow().clone(), link.clone());
        state.wait_until(async move {
            let mut next = Some(first);
            while let Some(out) = next.take() {
                let stub = env
                    .durable_object("FANOUTS")
                    .and_then(|ns| ns.get_by_name(&fanout_name(&owner, link.index)));
                match out {
                    Outgoing::Batch(batch) => match deliver(stub, &batch).await {
                        Ok(count) => link.online.set(count.online),
                        Err(e) => {
                            console_error!(
                                "room: fan-out object {} lost {} pushes: {e}",
                                link.index,
                                batch.entries.len()
                            );
                            // Its members missed these: have them reconnect
                            // and resume by `since` (if it answers at all).
                            let stub = env
                                .durable_object("FANOUTS")
                                .and_then(|ns| ns.get_by_name(&fanout_name(&owner, link.index)));
                            if let Ok(stub) = stub {
                                let _ = restart(&stub).await;
                            }
                        }
                    },
                    Outgoing::Restart => {
                        console_error!(
                            "room: fan-out object {} fell behind; restarting it",
                            link.index
                        );
                        if let Ok(stub) = stub {
                            let _ = restart(&stub).await;
                        }
                    }
                    Outgoing::Join(handover) => {
                        let answer = match stub {
                            Ok(stub) => upgrade(&stub, &handover.join, handover.protocol).await,
                            Err(e) => Err(e),
                        };
                        let _ = handover.answer.send(answer);
                    }
                }
                let mut queue = link.queue.borrow_mut();
                queue.done();
                next = queue.take_next();
            }
        });
    }
}

/// Send a batch (tried twice: a fan-out object may have been reset between
/// two batches, and its sockets with it; a fresh one answers at once. One
/// that took the first send but whose answer was lost ignores the second:
/// the batch is numbered).
async fn deliver(stub: Result<Stub>, batch: &PushBatch) -> Result<FanoutCount> {
    let stub = stub?;
    let body = serde_json::to_string(batch)?;
    let mut last = None;
    for _ in 0..2 {
        let headers = Headers::new();
        headers.set(PUSH_HEADER, "1")?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_body(Some(body.as_str().into()));
        let request = Request::new_with_init("https://fanout.internal/push", &init)?;
        match within(stub.fetch_with_request(request)).await {
            Ok(mut response) if response.status_code() == 200 => {
                return Ok(response.json::<FanoutCount>().await.unwrap_or_default())
            }
            Ok(response) => {
                last = Some(worker::Error::RustError(format!(
                    "answered {}",
                    response.status_code()
                )))
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or(worker::Error::RustError("no answer".into())))
}

async fn restart(stub: &Stub) -> Result<Response> {
    let headers = Headers::new();
    headers.set(RESTART_HEADER, "1")?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_headers(headers);
    let request = Request::new_with_init("https://fanout.internal/restart", &init)?;
    within(stub.fetch_with_request(request)).await
}

/// A fan-out object (or the owner, for a fan-out object) answers within
/// this, or counts as failed: one that hangs must not stall its link (and
/// the joins queued on it) for good.
const SEND_TIMEOUT_MS: u64 = 10_000;

pub(crate) async fn within(
    send: impl std::future::Future<Output = Result<Response>>,
) -> Result<Response> {
    let timeout = worker::Delay::from(std::time::Duration::from_millis(SEND_TIMEOUT_MS));
    match futures_util::future::select(Box::pin(send), timeout).await {
        futures_util::future::Either::Left((answer, _)) => answer,
        futures_util::future::Either::Right(_) => Err(worker::Error::RustError(format!(
            "no answer within {SEND_TIMEOUT_MS} ms"
        ))),
    }
}

async fn upgrade(stub: &Stub, join: &FanoutJoin, protocol: Option<String>) -> Result<Response> {
    let headers = Headers::new();
    headers.set("upgrade", "websocket")?;
    headers.set(JOIN_HEADER, &crate::ticket::header_value(join)?)?;
    if let Some(p) = protocol {
        headers.set("sec-websocket-protocol", &p)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let request = Request::new_with_init("https://fanout.internal/connect", &init)?;
    within(stub.fetch_with_request(request)).await
}
