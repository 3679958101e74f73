// A security review of site changes reaching live rooms, webhooks and the
// owner API, against the real worker. Each test asserts the safe behaviour
// (those that failed before their fix say so).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { admin, join, siteApi as api, siteWithKey, sleep, uniqueRoom } from './helpers.mjs';

/** Raw clients without an Origin; per-address limits lifted (every client is 127.0.0.1). */
const LIMITS = { addressBurst: 1000, addressPerSec: 100, maxConnectionsPerAddress: 100 };
const keyedSite = (extra = {}) => siteWithKey({ origins: [], allowNoOrigin: true, limits: LIMITS, ...extra }, 'atk');
let counter = 0;
const send = async (c, message) => {
  const id = `sa${++counter}`;
  c.send({ type: 'send', id, message });
  return c.next((f) => (f.type === 'ack' || f.type === 'error') && f.id === id, 10_000);
};

// Failed before its fix: a room is listed (and so told of site changes) only
// once something is written in it, so visitors connected to a room where
// nobody had written yet kept the old rules, and their first messages were
// judged by them, until someone else joined.
test('members connected to a room where nobody has written yet are held to the site\'s new rules', async () => {
  const { site, key } = await keyedSite();
  const room = uniqueRoom('quiet');
  const eve = await join(room, 'Eve', { site });
  const ann = await join(room, 'Ann', { site });
  await sleep(300);
  const patched = await api(key, 'PATCH', `/${site}`, { moderation: { words: ['spam'], filterAction: 'block' }, limits: { maxMessageChars: 40 } });
  assert.equal(patched.status, 200, patched.text);
  const rules = await ann.next('rules', 8_000).catch(() => null);
  assert.equal(rules?.maxMessageChars, 40, 'an open widget is told the new limit');
  const answer = await send(eve, 'spam spam spam');
  assert.deepEqual([answer.type, answer.code], ['error', 'blocked'], 'the new filter word applies');
  await eve.close();
  await ann.close();
});


/** A local webhook receiver that answers 204 after `delayMs`, keeping each event. */
async function receiver(delayMs = 0) {
  const events = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      events.push({ event: JSON.parse(body), signature: req.headers['hello-chat-signature'] });
      setTimeout(() => res.writeHead(204).end(), delayMs);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { events, url: `http://127.0.0.1:${server.address().port}/hook`, close: () => { server.closeAllConnections?.(); server.close(); } };
}

// Failed before its fix: a delivery run kept the webhook as it was when the
// run started, so after the owner moved it (a leaked endpoint, a new
// secret), the room's later events still went to the old URL, signed with
// the old secret, for as long as that lane kept going (up to 50 events).
test('events after a webhook is moved to a new URL and secret never go to the old one', { timeout: 60_000 }, async (t) => {
  const { site, key } = await keyedSite();
  const old = await receiver(150);
  const moved = await receiver();
  t.after(() => { old.close(); moved.close(); });
  const put = (url, secret) => api(key, 'PUT', `/${site}/webhooks/feed`, { url, events: ['message.created'], secret });
  assert.equal((await put(old.url, 'old-secret-0123456789')).status, 201);
  const room = uniqueRoom('moved');
  // Before the move: a backlog the old receiver takes a while to answer.
  for (let i = 0; i < 15; i++) {
    const res = await api(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Bot', message: `before ${i}` });
    assert.equal(res.status, 201, res.text);
  }
  const deadline = Date.now() + 10_000;
  while (old.events.length === 0 && Date.now() < deadline) await sleep(50);
  assert.ok(old.events.length > 0, 'the old receiver is being sent the backlog');
  assert.equal((await put(moved.url, 'new-secret-0123456789')).status, 200);
  const after = await api(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Bot', message: 'after the move' });
  assert.equal(after.status, 201, after.text);
  const until = Date.now() + 15_000;
  while (!moved.events.some((e) => e.event.data.message === 'after the move') && Date.now() < until) await sleep(100);
  await sleep(500);
  const oldTexts = old.events.map((e) => e.event.data.message);
  t.diagnostic(`old receiver got ${oldTexts.length} events, the new one ${moved.events.length}`);
  assert.ok(!oldTexts.includes('after the move'), `the old URL got an event sent after the move: ${JSON.stringify(oldTexts)}`);
  assert.ok(moved.events.some((e) => e.event.data.message === 'after the move'), 'the new URL gets it');
});

// Failed before its fix: after a PATCH the Worker announced the site as
// its cache held it, which a concurrent PATCH's lookup could have refilled
// with an older record; rooms then kept that older change, and no later
// word came, though every PATCH had been answered 200.
test('after concurrent PATCHes, connected members are held to the last one saved', { timeout: 60_000 }, async (t) => {
  const { site, key } = await keyedSite();
  const room = uniqueRoom('race');
  const eve = await join(room, 'Eve', { site });
  assert.equal((await send(eve, 'hello')).type, 'ack');
  await sleep(300);
  const answers = await Promise.all(Array.from({ length: 24 }, (_, i) =>
    api(key, 'PATCH', `/${site}`, { limits: { maxMessageChars: 300 + i } })));
  assert.ok(answers.every((a) => a.status === 200), JSON.stringify(answers.map((a) => a.status)));
  const saved = (await admin('GET', `/sites/${site}`)).body.limits.maxMessageChars;
  let told;
  const deadline = Date.now() + 6_000;
  while (Date.now() < deadline) {
    await sleep(250);
    told = eve.all('rules').at(-1)?.maxMessageChars;
    if (told === saved) break;
  }
  t.diagnostic(`saved ${saved}, the room's last rules ${told}`);
  assert.equal(told, saved, 'the open widget is told the rules last saved');
  const over = await send(eve, 'x'.repeat(saved + 1));
  assert.deepEqual([over.type, over.code], ['error', 'too_long'], 'the room judges by the limit last saved');
  await eve.close();
});
