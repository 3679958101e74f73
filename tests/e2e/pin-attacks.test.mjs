// Pinned messages under attack, over raw WebSockets against the real worker:
// who may pin, what a pin may point at (only a live message of the same
// room), what a pin shows after an edit, a delete, an erasure, retention or
// the room's erasure, and what the workshop front end gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../../scripts/lib/server.mjs';
import { act, answer, admin, Client, join, mintToken, siteApi, siteWithKey, sleep, uniqueRoom, nextId, post } from './helpers.mjs';

const SECRET = 'pin-attacks-signing-secret-0123456789';
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const site = (limits = {}) => siteWithKey({
  origins: [], allowNoOrigin: true, secret: SECRET,
  limits: { addressBurst: 1000, addressPerSec: 100, maxConnectionsPerAddress: 100, rateBurst: 100, ratePerSec: 50, ...limits },
}, 'pinx');
const moderatorToken = (sub = 'mo-1', name = 'Mo') => mintToken(SECRET, { sub, name, role: 'moderator', exp: inAnHour() });
const userToken = (sub, name) => mintToken(SECRET, { sub, name, exp: inAnHour() });

test('only moderators pin; a pin points only at a live message of this room', async () => {
  const { site: s, key } = await site();
  const [room, other] = [uniqueRoom('pin-auth'), uniqueRoom('pin-other')];
  const mo = await join(room, 'x', { site: s, token: moderatorToken() });
  const ada = await join(room, 'Ada', { site: s });
  const vera = await join(room, 'x', { site: s, token: userToken('vera', 'Vera') });
  const seq = await post(ada, 'hello');
  for (const c of [ada, vera]) {
    assert.equal((await act(c, { type: 'moderate', action: 'pin', target: seq })).code, 'not_allowed');
    assert.equal((await act(c, { type: 'moderate', action: 'unpin' })).code, 'not_allowed');
  }
  // Something to point at that is not a live message: a notice, an update, a tombstone.
  const notice = await act(mo, { type: 'moderate', action: 'slow', seconds: 0 });
  const edit = await act(ada, { type: 'edit', target: seq, message: 'hello!' });
  const gone = await post(ada, 'soon gone');
  assert.equal((await act(ada, { type: 'delete', target: gone })).type, 'ack');
  // A message of another room, at a seq this room does not have.
  const elsewhere = await join(other, 'Eve', { site: s });
  for (let i = 0; i < 12; i++) await post(elsewhere, `other ${i}`);
  for (const target of [notice.seq, edit.seq, gone, 0, 12, 2 ** 53 - 1]) {
    const r = await act(mo, { type: 'moderate', action: 'pin', target });
    assert.equal(r.type, 'error', `${target}: ${JSON.stringify(r)}`);
    if (target !== 0) assert.equal(r.code, 'not_found', String(target));
  }
  for (const target of ['1', -1, 1.5, null, 2 ** 64]) {
    const r = await siteApi(key, 'POST', `/${s}/rooms/${room}/moderation`, { action: 'pin', target });
    assert.equal(r.status, 400, `${JSON.stringify(target)}: ${r.text}`);
  }
  const late = await join(room, 'Late', { site: s });
  assert.equal(late.welcome.pinned, undefined, 'nothing was pinned');
  assert.equal(ada.all('pinned').length, 0);
  await Promise.all([mo, ada, vera, elsewhere, late].map((c) => c.close()));
});

test('a pinned message erased with its author, or trimmed by retention, is no longer shown to anyone', async () => {
  const { site: s, key } = await site({ retentionDays: 1 });
  const room = uniqueRoom('pin-erase');
  const mo = await join(room, 'x', { site: s, token: moderatorToken() });
  const sub = `pinned-${Date.now()}`;
  const ada = await join(room, 'x', { site: s, token: userToken(sub, 'Ada') });
  const seq = await post(ada, 'my phone is 555-0100');
  assert.equal((await act(mo, { type: 'moderate', action: 'pin', target: seq })).type, 'ack');
  assert.equal((await mo.next('pinned')).message.message, 'my phone is 555-0100');
  const erased = await siteApi(key, 'DELETE', `/${s}/users/${encodeURIComponent(sub)}`);
  assert.equal(erased.status, 200, erased.text);
  const unpinned = await mo.next('pinned');
  assert.equal(unpinned.message, undefined, JSON.stringify(unpinned));
  const late = await join(room, 'Late', { site: s });
  assert.equal(late.welcome.pinned, undefined);
  assert.ok(!JSON.stringify(late.frames).includes('555-0100'));

  // Retention by age (a test "day" is 2 s): the pinned message goes.
  const bo = await join(room, 'Bo', { site: s });
  const old = await post(bo, 'old news');
  assert.equal((await act(mo, { type: 'moderate', action: 'pin', target: old })).type, 'ack');
  await sleep(2500);
  await post(bo, 'fresh');
  let texts = [];
  for (let i = 0; i < 20 && !(texts.length === 1); i++) {
    await sleep(500);
    texts = (await siteApi(key, 'GET', `/${s}/rooms/${room}/messages`)).body.messages.map((m) => m.message);
  }
  assert.deepEqual(texts, ['fresh']);
  // Those connected are told too, not only those who join later.
  const told = await bo.next((f) => f.type === 'pinned' && !f.message, 10000);
  assert.equal(told.message, undefined, JSON.stringify(told));
  const later = await join(room, 'Later', { site: s });
  assert.equal(later.welcome.pinned, undefined, 'a trimmed message is not pinned');
  await Promise.all([mo, ada, late, bo, later].map((c) => c.close()));
});

test('the room erased: its pin does not come back on the new message of the same seq', async () => {
  const { site: s, key } = await site();
  const room = uniqueRoom('pin-room-erase');
  const mo = await join(room, 'x', { site: s, token: moderatorToken() });
  const seq = await post(mo, 'secret plans');
  assert.equal((await act(mo, { type: 'moderate', action: 'pin', target: seq })).type, 'ack');
  const del = await siteApi(key, 'DELETE', `/${s}/rooms/${room}`);
  assert.equal(del.status, 200, del.text);
  await mo.closed;
  const ada = await join(room, 'Ada', { site: s });
  assert.equal(ada.welcome.pinned, undefined);
  for (let i = 0; i < seq + 2; i++) await post(ada, `new ${i}`);
  const bo = await join(room, 'Bo', { site: s });
  assert.equal(bo.welcome.pinned, undefined, JSON.stringify(bo.welcome.pinned));
  await Promise.all([ada, bo].map((c) => c.close()));
});

test('the workshop front end gets no pinned or count frames', async () => {
  const { site: s } = await site();
  const room = uniqueRoom('pin-legacy');
  const mo = await join(room, 'x', { site: s, token: moderatorToken() });
  const legacy = await Client.connect({ room, site: s, name: 'Old' });
  const seq = await post(mo, 'look here');
  assert.equal((await act(mo, { type: 'moderate', action: 'pin', target: seq })).type, 'ack');
  assert.equal((await act(mo, { type: 'moderate', action: 'unpin' })).type, 'ack');
  await sleep(300);
  assert.ok(legacy.frames.every((f) => f.type === undefined && 'name' in f), JSON.stringify(legacy.frames));
  await Promise.all([mo, legacy].map((c) => c.close()));
});

// Clients tell one pinned message from another by (seq, edited): the
// session's RoomStatus and the widget's bar compare only those. Two edits
// the room stamps with the same millisecond (the Workers clock does not move
// between two frames with no I/O in between) look like one: the bar keeps
// the first edit's text while the list and later joiners show the second.
test('attack: a pinned message is not rewritten by its author; two quick edits by a moderator: the second is told as a change', async () => {
  const { site: s } = await site();
  const room = uniqueRoom('pin-edits');
  const mo = await join(room, 'x', { site: s, token: moderatorToken() });
  const ada = await join(room, 'Ada', { site: s });
  const seq = await post(ada, 'Doors open at 6');
  assert.equal((await act(mo, { type: 'moderate', action: 'pin', target: seq })).type, 'ack');
  await Promise.all([mo.next('pinned'), ada.next('pinned')]);
  // Its author cannot rewrite it under the pin (into a scam for everyone, newcomers too).
  const scam = await act(ada, { type: 'edit', target: seq, message: 'FREE prizes: https://evil.example/login' });
  assert.deepEqual([scam.type, scam.code], ['error', 'not_allowed']);
  let collided = false;
  for (let round = 0; round < 10 && !collided; round++) {
    const [a, b] = [nextId(), nextId()];
    mo.send({ type: 'edit', id: a, target: seq, message: `Doors open at 6 [${round}]` });
    mo.send({ type: 'edit', id: b, target: seq, message: `Doors open at 6 (${round})` });
    assert.equal((await answer(mo, a)).type, 'ack');
    assert.equal((await answer(mo, b)).type, 'ack');
    // (Read where the editing moderator's answers are not awaited.)
    const first = await ada.next('pinned');
    const second = await ada.next('pinned');
    assert.equal(second.message.message, `Doors open at 6 (${round})`);
    if (first.message.edited === second.message.edited) collided = true;
  }
  assert.ok(!collided, 'two different texts of the pinned message carried the same edited stamp');
  await Promise.all([mo, ada].map((c) => c.close()));
});

// A sharded room (its own server: sharding after 2 connections, 2 per
// fan-out object): members on fan-out objects get the pin, its edits and
// its end once each, a joiner there gets it in welcome; and it survives a
// crash of the whole server (the room's saved state).
test('a pin in a sharded room, and after the server is killed', { timeout: 120_000 }, async () => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-pin-shard-'));
  let server = await startServer({ persistTo: state, vars: { SHARD_AT: '2', SHARD_SIZE: '2' } });
  const opts = () => ({ base: server.url });
  const clients = [];
  try {
    const s = uniqueRoom('pinsh');
    const made = await admin('PUT', `/sites/${s}`, {
      origins: [], allowNoOrigin: true, secret: SECRET,
      limits: { rateBurst: 1000, ratePerSec: 1000, maxConnections: 5000, maxConnectionsPerAddress: 5000, addressBurst: 10000, addressPerSec: 1000 },
    }, opts());
    assert.ok([200, 201].includes(made.status), made.text);
    const room = uniqueRoom('pin-sharded');
    const mo = await join(room, 'x', { site: s, token: moderatorToken() }, opts());
    clients.push(mo);
    for (let i = 0; i < 6; i++) clients.push(await join(room, `m${i}`, { site: s }, opts()));
    const ada = clients[6];
    const seq = await post(ada, 'Doors open at 6');
    assert.equal((await act(mo, { type: 'moderate', action: 'pin', target: seq })).type, 'ack');
    for (const c of clients) assert.equal((await c.next('pinned')).message?.message, 'Doors open at 6');
    const late = await join(room, 'late', { site: s }, opts());
    clients.push(late);
    assert.equal(late.welcome.pinned?.message, 'Doors open at 6');
    assert.equal((await act(mo, { type: 'edit', target: seq, message: 'Doors open at 7' })).type, 'ack');
    for (const c of clients) assert.equal((await c.next('pinned')).message?.message, 'Doors open at 7');
    await sleep(300);
    assert.deepEqual(clients.map((c) => c.all('pinned').length), [2, 2, 2, 2, 2, 2, 2, 1], 'each once');

    await server.kill();
    server = await startServer({ persistTo: state, port: server.port, vars: { SHARD_AT: '2', SHARD_SIZE: '2' } });
    const back = await join(room, 'back', { site: s }, opts());
    assert.equal(back.welcome.pinned?.message, 'Doors open at 7', 'the pin survives a crash');
    const mo2 = await join(room, 'x', { site: s, token: moderatorToken() }, opts());
    assert.equal((await act(mo2, { type: 'delete', target: seq })).type, 'ack');
    assert.equal((await back.next('pinned')).message, undefined);
    await Promise.all([back, mo2].map((c) => c.close()));
  } finally {
    for (const c of clients) c.ws.terminate();
    await server.stop();
    fs.rmSync(state, { recursive: true, force: true });
  }
});

// A live event's count after its owner object woke from hibernation (here
// evicted after some 10 s idle): the owner knows only its own sockets until
// its fan-out objects' rosters come in, yet the first message told
// everyone the count of the owner's sockets alone.
test('a sharded live event that wakes tells no count of its owner\'s sockets alone', { timeout: 180_000 }, async () => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'hc-live-wake-'));
  const server = await startServer({ persistTo: state, vars: { SHARD_AT: '510', SHARD_SIZE: '300' } });
  const opts = { base: server.url };
  const crowd = [];
  try {
    const s = uniqueRoom('livewake');
    const made = await admin('PUT', `/sites/${s}`, {
      origins: [], allowNoOrigin: true,
      limits: { rateBurst: 1000, ratePerSec: 1000, maxConnections: 5000, maxConnectionsPerAddress: 5000, addressBurst: 10000, addressPerSec: 1000 },
    }, opts);
    assert.ok([200, 201].includes(made.status), made.text);
    const room = uniqueRoom('live-wake');
    for (let i = 0; i < 700; i += 50) {
      crowd.push(...await Promise.all(Array.from({ length: 50 }, (_, j) => join(room, `v${i + j}`, { site: s }, opts))));
    }
    const total = crowd.length;
    const first = crowd[0];
    await sleep(20_000); // evicted
    const seen = first.frames.length;
    const say = async (id) => {
      first.send({ type: 'send', id, message: 'anyone?' });
      assert.equal((await first.next((f) => f.id === id, 10_000)).type, 'ack');
      await sleep(1000);
    };
    await say('wake-1');
    await say('wake-2');
    const counts = first.frames.slice(seen).filter((f) => f.type === 'presence' && !f.member).map((f) => f.online);
    assert.deepEqual(counts, [total], `told ${JSON.stringify(counts)} in a room of ${total}`);
  } finally {
    for (const c of crowd) c.ws.terminate();
    await server.stop();
    fs.rmSync(state, { recursive: true, force: true });
  }
});
