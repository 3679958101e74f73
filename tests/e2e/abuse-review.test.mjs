// A review of what a malicious client (anonymous, raw WebSocket, no admin
// rights) can do to a room within the protocol. Each test asserts the safe
// behaviour: the first four failed before their fixes (a free and costly
// word filter, unthrottled read receipts, retention counting reaction
// toggles, per-address limits per IPv6 address), and so did a flood of
// frames refused one by one, a suspicion it could not confirm by timing; the
// last pins a defence the review checked. Sites are set up as an owner legitimately
// could (a word filter, read receipts, a short retention); per-address
// limits are lifted where every test client shares 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { act, answer, Client, createSite, join, sleep, uniqueRoom, nextId, post } from './helpers.mjs';

const LIMITS = { addressBurst: 10000, addressPerSec: 1000, maxConnectionsPerAddress: 1000 };
const site = (extra = {}, limits = {}) =>
  createSite({ origins: [], allowNoOrigin: true, ...extra, limits: { ...LIMITS, ...limits } }, 'abr');

/** Connect; `{ client, welcome }` if let in, else `{ code, error }`. */
async function attempt(query, opts = {}) {
  const c = await Client.connect(query, opts);
  const first = await Promise.race([
    c.next((f) => f.type === 'welcome' || f.type === 'error', 8000).catch(() => null),
    c.closed.then(() => null),
  ]);
  if (first?.type === 'welcome') return { client: c, welcome: first };
  const closed = await c.closed;
  return { code: closed.code, error: first };
}

test('word filter: text that NFKC blows up is refused unscanned, and running the filter costs the sender tokens', async (t) => {
  // An ordinary filter: 500 words, 4,000 characters in all (the maximum).
  const words = Array.from({ length: 500 }, (_, i) => `w${String(i).padStart(6, '0')}x`);
  const s = await site({ moderation: { words } }, { rateBurst: 10, ratePerSec: 0.1 });
  const room = uniqueRoom('abr-filter');
  const attacker = await join(room, 'Attacker', { site: s });
  t.after(() => attacker.close());
  // U+FDFA is one character that NFKC turns into 18: 2,000 of them (6 KB)
  // were some 30,000 letters for the filter to compare each word with, at
  // 70-90 ms of the room's time per frame, and free: the filter ran before
  // any rate limit. Edits of a message that does not exist never reach it.
  const text = '\uFDFA'.repeat(2000);
  const edits = Array.from({ length: 5 }, nextId);
  for (const id of edits) attacker.send({ type: 'edit', id, target: 9_999_999, message: text });
  for (const id of edits) assert.equal((await answer(attacker, id)).code, 'not_found');
  const sends = Array.from({ length: 15 }, nextId);
  for (const id of sends) attacker.send({ type: 'send', id, message: text });
  const codes = [];
  for (const id of sends) codes.push((await answer(attacker, id)).code);
  assert.deepEqual(codes, [...Array(10).fill('blocked'), ...Array(5).fill('rate_limited')],
    'blocked unscanned, each at the price of a message');
});

test('read receipts: one member\'s read frames are not each broadcast to everyone', async (t) => {
  const s = await site({ moderation: { receipts: true } }, { rateBurst: 200 });
  const room = uniqueRoom('abr-receipts');
  const victim = await join(room, 'Victim', { site: s });
  for (let i = 0; i < 100; i++) victim.send({ type: 'send', id: nextId(), message: `m${i}` });
  await victim.next((f) => f.type === 'ack' && f.seq === 100, 15000);
  const attacker = await join(room, 'Attacker', { site: s });
  t.after(() => Promise.all([victim.close(), attacker.close()]));
  // 100 frames of 25 bytes; each step forward is a receipt to every member
  // (up to 50), with no throttle; a reconnect is a new sender that may step
  // through the whole history again.
  for (let seq = 1; seq <= 100; seq++) attacker.send({ type: 'read', seq });
  await sleep(1500);
  const relayed = victim.all('receipt').filter((f) => f.sender === attacker.welcome.sender).length;
  assert.ok(relayed <= 10, `the victim received ${relayed} receipts from one member's 100 read frames in 1.5 s`);
});

test('retention counts messages: reaction toggles do not push real messages out of history', async (t) => {
  // "retention: the latest N messages per room" (docs/protocol.md); here N = 30.
  const s = await site({}, { retention: 30 });
  const room = uniqueRoom('abr-retention');
  const victim = await join(room, 'Victim', { site: s });
  let last = 0;
  for (let i = 0; i < 10; i++) last = await post(victim, `real message ${i}`);
  // 90 reaction toggles (invisible: a count that flickers) from a few sender keys.
  const attackers = [];
  let seq = last;
  while (seq < 100) {
    const a = await join(room, 'Attacker', { site: s });
    attackers.push(a);
    for (let k = 0; k < 18 && seq < 100; k++) {
      const id = nextId();
      a.send({ type: 'react', id, target: last, emoji: '👍', on: k % 2 === 0 });
      const r = await answer(a, id);
      assert.equal(r.type, 'ack', JSON.stringify(r));
      seq = r.seq;
    }
  }
  await sleep(2500); // the retention alarm runs 1 s after seq 100
  const late = await join(room, 'Late', { site: s });
  t.after(() => Promise.all([victim, late, ...attackers].map((c) => c.close())));
  const texts = late.history.messages.map((m) => m.message);
  assert.equal(texts.length, 10, `a newcomer sees ${texts.length} of the room's 10 messages after 90 reaction toggles`);
});

test('per-address limits hold for one IPv6 /64, not just one address', async (t) => {
  // Every IPv6 subscriber holds at least a /64: 2^64 addresses.
  const s = await site({}, { maxConnectionsPerAddress: 1 });
  const room = uniqueRoom('abr-v6');
  const q = { room, name: 'x', v: '1', site: s };
  const from = (ip) => attempt(q, { headers: { 'cf-connecting-ip': ip } });
  const first = await from('2001:db8:5:7::1');
  t.after(() => first.client?.close());
  assert.ok(first.welcome, 'the first connection is let in');
  const same = await from('2001:db8:5:7::1');
  assert.equal(same.error?.code, 'too_many_connections', 'the limit is applied to the same address');
  const neighbour = await from('2001:db8:5:7::2');
  t.after(() => neighbour.client?.close());
  assert.equal(neighbour.error?.code, 'too_many_connections',
    'a second connection from the same /64 got in: connection, join, message and history limits, bans and mutes all key on the full address');
});

test('a flood of frames the room refuses one by one ends the connection (1013); the others chat on', async (t) => {
  const s = await site();
  const room = uniqueRoom('abr-junk');
  const victim = await join(room, 'Victim', { site: s });
  const attacker = await join(room, 'Attacker', { site: s });
  t.after(() => Promise.all([victim.close(), attacker.close()]));
  // Each is parsed, refused and answered: 10,000 of them kept the room busy
  // for a second and a half, with no limit on how many a socket may send.
  for (let i = 0; i < 3000; i++) attacker.send({ type: 'delete', id: `j${i}`, target: 1 });
  const closed = await attacker.closed;
  assert.equal(closed.code, 1013, `the flooding socket was not closed: ${JSON.stringify(closed)}`);
  assert.ok(attacker.all('error').length < 3000, 'not every junk frame was answered');
  await post(victim, 'still here');
});

test('a flood of binary frames is held to the same budget (1013), on v1 and workshop sockets alike', async (t) => {
  const s = await site();
  const room = uniqueRoom('abr-binary');
  const victim = await join(room, 'Victim', { site: s });
  t.after(() => victim.close());
  // Binary frames were refused before the room's frame budget: 50,000 of
  // them got 50,000 error frames, and the socket stayed open.
  const v1 = await join(room, 'Attacker', { site: s });
  const legacy = await Client.connect({ room, name: 'Old', site: s });
  t.after(() => Promise.all([v1.close(), legacy.close()]));
  const junk = Buffer.from('{}');
  for (let i = 0; i < 3000; i++) {
    v1.ws.send(junk, { binary: true });
    legacy.ws.send(junk, { binary: true });
  }
  for (const [who, c] of [['v1', v1], ['workshop', legacy]]) {
    const closed = await Promise.race([c.closed, sleep(20000).then(() => 'still open')]);
    assert.equal(closed.code, 1013, `the ${who} socket sending binary frames was not closed: ${JSON.stringify(closed)}`);
  }
  assert.ok(v1.all('error').length < 3000, 'every binary frame was answered');
  await post(victim, 'still here');
});

test('defence: history pages are bounded whatever the anchor, and requests are rate limited', async (t) => {
  const s = await site();
  const room = uniqueRoom('abr-history');
  const c = await join(room, 'Reader', { site: s });
  t.after(() => c.close());
  for (let i = 0; i < 5; i++) await post(c, `m${i}`);
  c.send({ type: 'history', before: 2 ** 53 - 1, limit: 100 });
  const top = await c.next('history');
  assert.equal(top.messages.length, 5);
  c.send({ type: 'history', after: 0, limit: 100 });
  assert.equal((await c.next('history')).messages.length, 5);
  for (const bad of [{ before: 2 ** 53 }, { after: -1 }, { before: 1, limit: 101 }, { before: 1, after: 1 }]) {
    c.send({ type: 'history', ...bad });
    assert.equal((await c.next('error')).code, 'bad_frame', JSON.stringify(bad));
  }
  const mark = c.frames.length;
  for (let i = 0; i < 30; i++) c.send({ type: 'history', before: 3, limit: 100 });
  // Every request is answered (a page or a refusal): wait for the 30 answers,
  // not a fixed half second a busy machine may need more than.
  const answers = () => c.frames.slice(mark).filter((f) => f.type === 'history' || f.type === 'error').length;
  for (let i = 0; i < 100 && answers() < 30; i++) await sleep(100);
  const limited = c.all('error').filter((e) => e.code === 'rate_limited').length;
  assert.ok(limited >= 8, `only ${limited} of 30 history requests in a burst were refused`);
});

test('attack: one visitor reacting again and again under fresh anonymous keys counts as a few members at most', async () => {
  const s = await site();
  const room = uniqueRoom('abr-react');
  const ada = await join(room, 'Ada', { site: s });
  ada.send({ type: 'send', id: 'a1', message: 'vote here' });
  const { seq } = await ada.next('ack');
  // Join, react, leave: a new key each time (a private window), one address.
  const answers = [];
  for (let i = 0; i < 8; i++) {
    const eve = await join(room, `Eve${i}`, { site: s });
    eve.send({ type: 'react', id: `r${i}`, target: seq, emoji: '👍', on: true });
    const reply = await eve.next((f) => f.type === 'ack' || f.type === 'error');
    answers.push(reply.type === 'ack' ? 'ack' : reply.code);
    await eve.close();
  }
  assert.deepEqual(answers, ['ack', 'ack', 'ack', 'ack', 'ack', 'not_allowed', 'not_allowed', 'not_allowed']);
  const late = await join(room, 'Late', { site: s });
  const history = late.frames.find((f) => f.type === 'history');
  const voted = history.messages.find((m) => m.seq === seq);
  assert.equal(voted.reactions['👍'].count, 5, JSON.stringify(voted.reactions));
  await Promise.all([ada.close(), late.close()]);
});
