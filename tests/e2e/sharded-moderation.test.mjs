// The room's features when its members sit on fan-out objects. One server
// shards after 2 connections, 2 per fan-out object, so a handful of raw v1
// clients are spread over the owner and several fan-out objects (each
// client's place is read from the admin API as it joins). Replies, errors,
// edits, deletes, reactions, `read` on a verified user's other tabs, the
// site API, moderation (mute, delete, ban with its close and refusal),
// presence and counts must behave as in a room of one object; and every
// member must see each event once and in order.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../../scripts/lib/server.mjs';
import { admin, Client, join, mintToken, refused, sleep, uniqueRoom } from './helpers.mjs';

const SHARD_AT = 2;
const SHARD_SIZE = 2;
const OBJECTS_LOOKED_AT = 8;
const SECRET = 'sharded-moderation-secret-0123456789';
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const userToken = (sub, name, role) => mintToken(SECRET, { sub, name, exp: inAnHour(), ...(role ? { role } : {}) });

let server;
let state;
let site;
let siteKey;
const room = uniqueRoom('shmod');
/** Every client of `room`, by name, with `where` ('owner' or a fan-out index). */
const c = {};
let counter = 0;
const nextId = () => `s${++counter}`;
/** Ids of reports and dismissals: acked with the message's seq, storing no event. */
const notStored = new Set();

const opts = () => ({ base: server.url });
const adminCall = (method, p, body) => admin(method, p, body, opts());

async function siteCall(method, p, body) {
  const res = await fetch(`${server.url}/v1/sites/${site}${p}`, {
    method,
    headers: { authorization: `Bearer ${siteKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body: json, text };
}

async function fanoutCounts(r = room, s = site) {
  return Promise.all(Array.from({ length: OBJECTS_LOOKED_AT }, async (_, i) => {
    const res = await admin('GET', `/sites/${s}/rooms/${r}/fanout/${i}`, undefined, opts());
    assert.equal(res.status, 200, res.text);
    return res.body.online;
  }));
}

/** Join `room` and find out where the connection went: the owner, or the fan-out object that gained one. */
async function place(name, extra = {}, { r = room, s = site } = {}) {
  const beforeCounts = await fanoutCounts(r, s);
  const client = await join(r, name, { site: s, ...extra }, opts());
  const afterCounts = await fanoutCounts(r, s);
  const grew = afterCounts.map((n, i) => n - beforeCounts[i]);
  assert.ok(grew.every((d) => d === 0 || d === 1) && grew.filter((d) => d === 1).length <= 1, JSON.stringify({ beforeCounts, afterCounts }));
  const index = grew.indexOf(1);
  client.where = index < 0 ? 'owner' : index;
  client.label = name;
  return client;
}

/** Wait (without consuming anything) until `client` has a frame matching `pred`. */
async function got(client, pred, what = 'a frame', timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const f = client.frames.find(pred);
    if (f) return f;
    if (Date.now() > deadline) {
      throw new Error(`${client.label} (on ${client.where}) never got ${what}; last frames: ${JSON.stringify(client.frames.slice(-4))}`);
    }
    await sleep(15);
  }
}

/** Send a frame with an id and wait for its ack or error. */
async function act(client, frame) {
  const id = nextId();
  client.send({ id, ...frame });
  return got(client, (f) => (f.type === 'ack' || f.type === 'error') && f.id === id, `an answer to ${id}`);
}

async function post(client, message) {
  const a = await act(client, { type: 'send', message });
  assert.equal(a.type, 'ack', JSON.stringify(a));
  return a.seq;
}

const live = () => Object.values(c).filter((x) => !x.gone);

/** `refused`, but a connection that is let in fails the test instead of hanging it. */
async function refusedSoon(query, what) {
  const result = await Promise.race([
    refused(query, opts()),
    sleep(3000).then(() => null),
  ]);
  assert.ok(result, `${what}: the connection was let in`);
  return result;
}

/**
 * The close code the server sent. (wrangler dev completes the closing
 * handshake only some 10 s later, for sockets on the owner too: once the
 * server's close frame is in, end the connection and read its code.)
 */
async function closedByServer(client, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (client.ws.readyState < 2) { // CONNECTING or OPEN: no close frame yet
    if (Date.now() > deadline) throw new Error(`${client.label} was not closed`);
    await sleep(15);
  }
  client.ws.terminate();
  return client.closed;
}

before(async () => {
  state = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-chat-shmod-'));
  server = await startServer({ persistTo: state, vars: { SHARD_AT: String(SHARD_AT), SHARD_SIZE: String(SHARD_SIZE) } });
  site = `shmod-${Math.random().toString(16).slice(2, 10)}`;
  const created = await adminCall('PUT', `/sites/${site}`, {
    origins: [], allowNoOrigin: true, secret: SECRET, // Every client here comes from one address.
    limits: { rateBurst: 1000, ratePerSec: 1000, maxConnections: 5000, maxConnectionsPerAddress: 5000, addressBurst: 10000, addressPerSec: 1000 },
  });
  assert.ok([200, 201].includes(created.status), created.text);
  const key = await adminCall('POST', `/sites/${site}/keys`);
  assert.equal(key.status, 201, key.text);
  siteKey = key.body.key;
});

after(async () => {
  for (const x of Object.values(c)) x.ws.terminate();
  await server?.stop();
  if (state) fs.rmSync(state, { recursive: true, force: true });
});

test('members spread over the owner and several fan-out objects; welcome and presence count them all', async () => {
  const joins = [
    ['mo', 'x', { token: userToken('mo-1', 'Mo', 'moderator') }],
    ['ada1', 'x', { token: userToken('ada', 'Ada') }],
    ['ada2', 'x', { token: userToken('ada', 'Ada') }],
    ['bo', 'Bo', {}],
    ['cy', 'Cy', {}],
    ['dan', 'Dañ 🚀', {}], // non-ASCII: crosses the internal join header escaped
    ['eve', 'x', { token: userToken('eve', 'Eve') }],
    ['mo2', 'x', { token: userToken('mo-2', 'Mo2', 'moderator') }],
    ['ada3', 'x', { token: userToken('ada', 'Ada') }],
  ];
  for (const [key, name, extra] of joins) {
    const before = live();
    const client = await place(name, extra);
    client.label = key;
    c[key] = client;
    const n = Object.keys(c).length;
    assert.equal(client.welcome.online, n, `${key}'s welcome counts every connection, here and on fan-out objects`);
    // Everyone already here hears of the newcomer, with the room's count.
    for (const other of before) {
      const p = await got(other, (f) => f.type === 'presence' && f.online === n && f.joined === client.welcome.name, `presence of ${key}`);
      assert.equal(p.member.sender, client.welcome.sender);
    }
  }
  assert.deepEqual([c.mo.where, c.ada1.where], ['owner', 'owner'], 'the first two stay on the owner');
  const remote = Object.values(c).filter((x) => x.where !== 'owner');
  assert.equal(remote.length, 7, Object.values(c).map((x) => `${x.label}@${x.where}`).join(' '));
  const objects = new Set(remote.map((x) => x.where));
  assert.ok(objects.size >= 3, `fan-out objects used: ${[...objects]}`);
  assert.notEqual(c.ada2.where, c.ada3.where, 'two of Ada\'s tabs sit on different fan-out objects');
  const counts = await fanoutCounts();
  assert.ok(counts.every((n) => n <= SHARD_SIZE), JSON.stringify(counts));
  assert.equal(counts.reduce((a, b) => a + b, 0), 7);
  // The last welcome lists every member once, Ada with three connections.
  const listed = Object.fromEntries(c.ada3.welcome.members.map((m) => [m.name, m.connections]));
  assert.deepEqual(listed, { Mo: 1, Ada: 3, Bo: 1, Cy: 1, 'Dañ 🚀': 1, Eve: 1, Mo2: 1 });
  console.log(`placement: ${Object.values(c).map((x) => `${x.label}@${x.where}`).join(' ')}`);
});

test('a fan-out author\'s message, edit, delete and reactions reach members everywhere', async () => {
  const { cy, dan } = c;
  const seq = await post(cy, 'helo from a fan-out object');
  for (const x of live().filter((x) => x !== cy)) {
    const m = await got(x, (f) => f.type === 'message' && f.seq === seq, `message ${seq}`);
    assert.equal(m.message, 'helo from a fan-out object');
    assert.equal(m.sender, cy.welcome.sender);
  }
  const edit = await act(cy, { type: 'edit', target: seq, message: 'hello from a fan-out object' });
  assert.equal(edit.type, 'ack', JSON.stringify(edit));
  for (const x of live()) {
    const u = await got(x, (f) => f.type === 'update' && f.seq === edit.seq, `the edit ${edit.seq}`);
    assert.deepEqual([u.target, u.message], [seq, 'hello from a fan-out object']);
  }
  const react = await act(dan, { type: 'react', target: seq, emoji: '👍', on: true });
  assert.equal(react.type, 'ack', JSON.stringify(react));
  for (const x of live()) {
    await got(x, (f) => f.type === 'update' && f.target === seq && f.reactions?.['👍']?.count === 1, 'the reaction');
  }
  // Another member (on the owner) may not edit it.
  assert.equal((await act(c.ada1, { type: 'edit', target: seq, message: 'hijacked' })).code, 'not_allowed');
  const del = await act(cy, { type: 'delete', target: seq });
  assert.equal(del.type, 'ack', JSON.stringify(del));
  for (const x of live()) {
    const t = await got(x, (f) => f.type === 'update' && f.seq === del.seq, `the tombstone ${del.seq}`);
    assert.deepEqual([t.target, t.deleted, t.message], [seq, true, '']);
  }
  // Typing from a fan-out object reaches the owner's members and the other objects.
  cy.send({ type: 'typing' });
  for (const x of live().filter((x) => x !== cy)) await got(x, (f) => f.type === 'typing' && f.name === 'Cy', 'Cy typing');
  assert.ok(!cy.frames.some((f) => f.type === 'typing'), 'no typing notice of one\'s own');
});

test('errors and replies go to the fan-out sender alone', async () => {
  const { bo, mo } = c;
  const errors = (x) => x.frames.filter((f) => f.type === 'error');
  const earlier = new Map(live().map((x) => [x, errors(x).length]));
  const target = await post(mo, 'a message of the moderator');
  const empty = await act(bo, { type: 'send', message: '   ' });
  assert.equal(empty.code, 'empty');
  const long = await act(bo, { type: 'send', message: 'x'.repeat(bo.welcome.maxMessageChars + 1) });
  assert.equal(long.code, 'too_long');
  assert.equal((await act(bo, { type: 'edit', target, message: 'not mine' })).code, 'not_allowed');
  assert.equal((await act(bo, { type: 'moderate', action: 'lock' })).code, 'not_allowed');
  bo.send('{not json');
  await got(bo, (f) => f.type === 'error' && f.code === 'bad_frame', 'bad_frame');
  // A history page is a reply too.
  bo.send({ type: 'history', before: target + 1, limit: 5 });
  const page = await got(bo, (f) => f.type === 'history' && f !== bo.history && f.messages.some((m) => m.seq === target), 'a history page');
  assert.ok(page.messages.length >= 1);
  // A broadcast after them all: once it arrived everywhere, nothing else is coming.
  const marker = await post(mo, 'marker');
  for (const x of live()) {
    if (x !== mo) await got(x, (f) => f.type === 'message' && f.seq === marker, 'the marker');
    if (x === bo) continue;
    assert.deepEqual(errors(x).slice(earlier.get(x)), [], `${x.label} got no one else's errors`);
    assert.equal(x.frames.filter((f) => f.type === 'history').length, 1, `${x.label} got no one else's history page`);
  }
  assert.deepEqual(errors(bo).slice(earlier.get(bo)).map((f) => f.code), ['empty', 'too_long', 'not_allowed', 'not_allowed', 'bad_frame']);
});

test('a verified user\'s read position reaches their other tabs, on the owner and on other fan-out objects', async () => {
  const { ada1, ada2, ada3, bo } = c;
  const s1 = await post(bo, 'something to read');
  await got(ada2, (f) => f.type === 'message' && f.seq === s1, 'the message');
  ada2.send({ type: 'read', seq: s1 }); // from fan-out object A to the owner and object B
  for (const x of [ada1, ada3]) assert.equal((await got(x, (f) => f.type === 'read' && f.seq === s1, `read ${s1}`)).seq, s1);
  const s2 = await post(bo, 'something more to read');
  await got(ada1, (f) => f.type === 'message' && f.seq === s2, 'the message');
  ada1.send({ type: 'read', seq: s2 }); // from the owner to both objects
  for (const x of [ada2, ada3]) await got(x, (f) => f.type === 'read' && f.seq === s2, `read ${s2}`);
  ada3.send({ type: 'read', seq: s2 }); // no news: nobody hears
  const marker = await post(bo, 'marker after reads');
  for (const x of live()) if (x !== bo) await got(x, (f) => f.type === 'message' && f.seq === marker, 'the marker');
  assert.deepEqual(ada1.all('read').map((f) => f.seq), [s1]);
  assert.deepEqual(ada2.all('read').map((f) => f.seq), [s2]);
  assert.deepEqual(ada3.all('read').map((f) => f.seq), [s1, s2]);
  for (const x of live().filter((x) => !x.label.startsWith('ada'))) assert.deepEqual(x.all('read'), [], `${x.label} got no read frames`);
  // A new tab starts at the position.
  const ada4 = await join(room, 'x', { site, token: userToken('ada', 'Ada') }, opts());
  assert.equal(ada4.welcome.readSeq, s2);
  await ada4.close();
  for (const x of live()) await got(x, (f) => f.type === 'presence' && f.left === 'Ada' && f.member.connections === 3, 'the extra tab leaving');
});

test('the site API posts and deletes for members on every object', async () => {
  const posted = await siteCall('POST', `/rooms/${room}/messages`, { name: 'Acme Bot', message: 'Maintenance at 18:00 UTC', id: 'notice-1' });
  assert.equal(posted.status, 201, posted.text);
  for (const x of live()) {
    const m = await got(x, (f) => f.type === 'message' && f.seq === posted.body.seq, 'the bot message');
    assert.deepEqual([m.name, m.role, m.message], ['Acme Bot', 'bot', 'Maintenance at 18:00 UTC']);
  }
  const removed = await siteCall('DELETE', `/rooms/${room}/messages/${posted.body.seq}`);
  assert.equal(removed.status, 200, removed.text);
  for (const x of live()) await got(x, (f) => f.type === 'update' && f.target === posted.body.seq && f.deleted, 'the tombstone');
  const muted = await siteCall('POST', `/rooms/${room}/moderation`, { action: 'mute', sender: c.dan.welcome.sender, seconds: 600 });
  assert.equal(muted.status, 200, muted.text);
  const refusedSend = await act(c.dan, { type: 'send', message: 'let me talk' });
  assert.equal(refusedSend.code, 'muted', 'a mute by the API holds for a member on a fan-out object');
  const unmuted = await siteCall('POST', `/rooms/${room}/moderation`, { action: 'unmute', sender: c.dan.welcome.sender });
  assert.equal(unmuted.status, 200, unmuted.text);
  await post(c.dan, 'thank you');
});

test('moderators on the owner and on fan-out objects act on members anywhere', async () => {
  const { mo, mo2, bo, dan, cy } = c;
  // The owner's moderator removes a fan-out member's message.
  const seq = await post(bo, 'buy cheap pills');
  const removed = await act(mo, { type: 'moderate', action: 'delete', target: seq, reason: 'spam' });
  assert.equal(removed.type, 'ack', JSON.stringify(removed));
  for (const x of live()) {
    await got(x, (f) => f.type === 'update' && f.target === seq && f.deleted, 'the tombstone');
    const n = await got(x, (f) => f.type === 'moderation' && f.seq === removed.seq, 'the notice');
    assert.deepEqual([n.action, n.by, n.name], ['delete', 'Mo', 'Bo']);
  }
  // A fan-out moderator mutes a member on another object.
  assert.equal((await act(mo2, { type: 'moderate', action: 'mute', sender: dan.welcome.sender, seconds: 600 })).type, 'ack');
  assert.equal((await act(dan, { type: 'send', message: 'hello?' })).code, 'muted');
  assert.equal((await act(mo2, { type: 'moderate', action: 'unmute', sender: dan.welcome.sender })).type, 'ack');
  // Moderators cannot ban each other, wherever they sit.
  assert.equal((await act(mo, { type: 'moderate', action: 'ban', sender: mo2.welcome.sender })).code, 'not_allowed');
  assert.equal((await act(mo2, { type: 'moderate', action: 'ban', sender: mo.welcome.sender })).code, 'not_allowed');
  // Slow mode and lock, set on a fan-out object, hold for a sender on another.
  assert.equal((await act(mo2, { type: 'moderate', action: 'lock' })).type, 'ack');
  assert.equal((await act(cy, { type: 'send', message: 'anyone?' })).code, 'locked');
  assert.equal((await act(mo2, { type: 'moderate', action: 'unlock' })).type, 'ack');
  await post(cy, 'unlocked');
});

test('a report reaches the moderators on the owner and on fan-out objects, and no one else', async () => {
  const { mo, mo2, bo, eve } = c;
  assert.equal(mo.where, 'owner');
  assert.notEqual(mo2.where, 'owner');
  const seq = await post(bo, 'rude words');
  const reported = await act(eve, { type: 'report', target: seq, reason: 'harassment' });
  notStored.add(reported.id);
  assert.deepEqual([reported.type, reported.seq], ['ack', seq], JSON.stringify(reported));
  for (const m of [mo, mo2]) {
    const f = await got(m, (x) => x.type === 'reported' && x.target === seq, 'the report');
    assert.deepEqual([f.reports, f.reasons], [1, { harassment: 1 }]);
  }
  const dismissed = await act(mo2, { type: 'moderate', action: 'dismiss', target: seq });
  assert.equal(dismissed.type, 'ack');
  notStored.add(dismissed.id);
  await got(mo, (x) => x.type === 'reported' && x.target === seq && x.reports === 0, 'the dismissal');
  await post(eve, 'after the report');
  for (const x of live().filter((x) => x !== mo && x !== mo2)) {
    await got(x, (f) => f.type === 'message' && f.message === 'after the report' || (x === eve && f.type === 'ack'), 'a later message');
    assert.ok(!x.frames.some((f) => f.type === 'reported'), `${x.label} heard of a report`);
  }
});

test('a member leaving a fan-out object leaves the presence list and the counts', async () => {
  const { dan } = c;
  const n = live().length;
  const where = dan.where;
  const before = await fanoutCounts();
  await dan.close();
  dan.gone = true;
  for (const x of live()) {
    const p = await got(x, (f) => f.type === 'presence' && f.left === 'Dañ 🚀', 'Dañ leaving');
    assert.deepEqual([p.online, p.member.connections], [n - 1, 0]);
  }
  const afterCounts = await fanoutCounts();
  assert.equal(afterCounts[where], before[where] - 1);
  const probe = await join(room, 'x', { site, token: userToken('probe', 'Probe') }, opts());
  assert.equal(probe.welcome.online, n, 'the room counts the ones still here, and the newcomer');
  assert.ok(!probe.welcome.members.some((m) => m.name === 'Dañ 🚀'));
  await probe.close();
  for (const x of live()) await got(x, (f) => f.type === 'presence' && f.left === 'Probe', 'the probe leaving');
});

test('a member banned by the owner\'s moderator is told, closed with 4008 on its fan-out object, and refused again', async () => {
  const { mo, eve } = c;
  assert.notEqual(eve.where, 'owner');
  const ban = await act(mo, { type: 'moderate', action: 'ban', sender: eve.welcome.sender, reason: 'abuse' });
  assert.equal(ban.type, 'ack', JSON.stringify(ban));
  assert.equal((await got(eve, (f) => f.type === 'error' && f.code === 'banned', 'the ban')).code, 'banned');
  assert.equal((await closedByServer(eve)).code, 4008);
  eve.gone = true;
  const errorAt = eve.frames.findIndex((f) => f.type === 'error' && f.code === 'banned');
  assert.equal(errorAt, eve.frames.length - 1, 'the error is the last frame before the close');
  for (const x of live()) {
    const n = await got(x, (f) => f.type === 'moderation' && f.seq === ban.seq, 'the ban notice');
    assert.deepEqual([n.action, n.sender, n.name, n.reason], ['ban', eve.welcome.sender, 'Eve', 'abuse']);
    await got(x, (f) => f.type === 'presence' && f.left === 'Eve', 'Eve leaving');
  }
  const again = await refusedSoon({ room, site, v: '1', token: userToken('eve', 'Eve again') }, 'Eve reconnecting');
  assert.deepEqual([again.code, again.error?.code], [4008, 'banned']);
  const counts = await fanoutCounts();
  assert.equal(counts[eve.where], 1, 'the banned socket is gone from its object');
});

test('every member saw each event once and in order', () => {
  for (const x of Object.values(c)) {
    const seqs = x.frames.filter((f) => ['message', 'update', 'moderation'].includes(f.type)).map((f) => `${f.type}:${f.seq}`);
    assert.equal(new Set(seqs).size, seqs.length, `${x.label}: no event twice: ${JSON.stringify(seqs)}`);
    const nums = x.frames.filter((f) => ['message', 'update', 'moderation'].includes(f.type)).map((f) => f.seq);
    for (let i = 1; i < nums.length; i++) assert.ok(nums[i] >= nums[i - 1], `${x.label}: in order: ${JSON.stringify(seqs)}`);
    // (A report's ack names the message reported: no event of the sender's.)
    const acked = new Set(x.frames.filter((f) => f.type === 'ack' && !notStored.has(f.id)).map((f) => f.seq));
    assert.ok(!x.frames.some((f) => f.type === 'message' && acked.has(f.seq)), `${x.label}: its own messages come back as acks only`);
  }
});

test('the per-address connection limit counts connections on fan-out objects', async () => {
  const limited = `shmod-cap-${Math.random().toString(16).slice(2, 10)}`;
  const created = await adminCall('PUT', `/sites/${limited}`, {
    origins: [], allowNoOrigin: true, limits: { maxConnectionsPerAddress: 4, addressBurst: 100, addressPerSec: 100 },
  });
  assert.ok([200, 201].includes(created.status), created.text);
  const r = uniqueRoom('shcap');
  const clients = [];
  try {
    for (let i = 0; i < 4; i++) clients.push(await place(`m${i}`, {}, { r, s: limited }));
    assert.deepEqual(clients.map((x) => x.where === 'owner'), [true, true, false, false]);
    const fifth = await refusedSoon({ room: r, site: limited, v: '1', name: 'm4' }, 'a fifth connection from one address');
    assert.deepEqual([fifth.code, fifth.error?.code], [1013, 'too_many_connections']);
  } finally {
    for (const x of clients) x.ws.terminate();
  }
});

test('an owner that wakes from hibernation still knows the members on fan-out objects', async () => {
  // An idle object is evicted (here after some 10 s; on the platform, when
  // the room goes quiet) and wakes knowing only its own sockets: it asks its
  // fan-out objects who is there before it counts, lists or limits anyone.
  const limited = `shmod-wake-${Math.random().toString(16).slice(2, 10)}`;
  const created = await adminCall('PUT', `/sites/${limited}`, {
    origins: [], allowNoOrigin: true, limits: { maxConnectionsPerAddress: 5, addressBurst: 100, addressPerSec: 100 },
  });
  assert.ok([200, 201].includes(created.status), created.text);
  const r = uniqueRoom('shwake');
  const clients = [];
  const listed = (welcome) => Object.fromEntries(welcome.members.map((m) => [m.name, m.connections]));
  try {
    for (let i = 0; i < 3; i++) clients.push(await place(`w${i}`, {}, { r, s: limited }));
    // A second tab of w0, on a fan-out object.
    clients.push(await place('w0', { senderKey: clients[0].welcome.senderKey }, { r, s: limited }));
    assert.deepEqual(clients.map((x) => x.where === 'owner'), [true, true, false, false]);
    await sleep(20_000);
    const fifth = await place('w4', {}, { r, s: limited });
    clients.push(fifth);
    assert.equal(fifth.welcome.online, 5, 'the woken room counts the fan-out members');
    assert.deepEqual(listed(fifth.welcome), { w0: 2, w1: 1, w2: 1, w4: 1 });
    const sixth = await refusedSoon({ room: r, site: limited, v: '1', name: 'w5' }, 'a sixth connection from one address');
    assert.deepEqual([sixth.code, sixth.error?.code], [1013, 'too_many_connections']);
    // A fan-out member leaving after the wake is a leave like any other.
    const leaver = clients[2];
    await leaver.close();
    leaver.gone = true;
    const p = await got(clients[0], (f) => f.type === 'presence' && f.left === 'w2', 'w2 leaving');
    assert.deepEqual([p.online, p.member.connections], [4, 0]);
    // Asleep again, the room is woken by a leave: the fan-out tab of w0
    // closing. The owner never listed that tab in this life; taking it off
    // would drop w0, still here on the owner.
    await sleep(20_000);
    const tab = clients[3];
    tab.ws.close();
    tab.gone = true;
    await sleep(1_000);
    const last = await place('w5', {}, { r, s: limited });
    clients.push(last);
    assert.equal(last.welcome.online, 4);
    assert.deepEqual(listed(last.welcome), { w0: 1, w1: 1, w4: 1, w5: 1 });
  } finally {
    for (const x of clients) x.ws.terminate();
  }
});

test('erasing a sharded room closes its members on every object with 4010', async () => {
  const r = uniqueRoom('sherase');
  const clients = [];
  try {
    for (let i = 0; i < 5; i++) clients.push(await place(`e${i}`, {}, { r }));
    assert.ok(clients.some((x) => x.where !== 'owner') && clients.some((x) => x.where === 'owner'), JSON.stringify(clients.map((x) => x.where)));
    const erased = await siteCall('DELETE', `/rooms/${r}`);
    assert.equal(erased.status, 200, erased.text);
    for (const x of clients) {
      const closed = await closedByServer(x);
      assert.equal(closed.code, 4010, `${x.label} (${x.where})`);
    }
  } finally {
    for (const x of clients) x.ws.terminate();
  }
});
