// Webhooks against a real local HTTP receiver (on 127.0.0.1, which the
// development server allows): signed deliveries of every event, in order per
// room, at least once, through refusals and an outage of the receiver; and
// the URLs refused when a webhook is saved (nothing is ever sent to them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { BASE, admin, join, mintToken, siteApi as api, siteWithKey as newSiteWithKey, sleep, uniqueRoom } from './helpers.mjs';

const SECRET = 'webhook-site-secret-0123456789';
const HOOK_SECRET = 'whsec-0123456789abcdef';

const siteWithKey = () => newSiteWithKey({ origins: [], allowNoOrigin: true, secret: SECRET }, 'hook');

/** Verify a `Hello-Chat-Signature` header as a receiver would, with node:crypto. */
function verify(header, body, secret) {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=')));
  const expected = createHmac('sha256', secret).update(`${parts.t}.${body}`).digest('hex');
  const fresh = Math.abs(Date.now() / 1000 - Number(parts.t)) < 300;
  return fresh && expected.length === parts.v1.length && timingSafeEqual(Buffer.from(expected), Buffer.from(parts.v1));
}

/** A receiver that refuses its first `refuse` deliveries and can go down. */
function receiver({ refuse }) {
  const accepted = [];
  const seen = [];
  let server;
  const handler = (req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push(body);
      if (seen.length <= refuse) {
        res.writeHead(500).end('not now');
        return;
      }
      accepted.push({ headers: req.headers, body, event: JSON.parse(body) });
      res.writeHead(204).end();
    });
  };
  const listen = (port = 0) => new Promise((resolve) => {
    server = http.createServer(handler);
    server.listen(port, '127.0.0.1', () => resolve(server.address().port));
  });
  const down = () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); });
  return { accepted, seen, listen, down };
}

test('every event reaches the receiver once, in order, signed, through refusals and an outage', { timeout: 170_000 }, async () => {
  const { site, key } = await siteWithKey();
  const rx = receiver({ refuse: 2 });
  const port = await rx.listen();
  const put = await api(key, 'PUT', `/${site}/webhooks/audit`, {
    url: `http://127.0.0.1:${port}/hook`, events: ['message.created', 'message.updated', 'message.deleted', 'moderation'], secret: HOOK_SECRET,
  });
  assert.equal(put.status, 201, put.text);
  assert.ok(!put.text.includes(HOOK_SECRET), 'the secret is never shown');

  const room = uniqueRoom('hooks');
  const ada = await join(room, 'x', { site, token: mintToken(SECRET, { sub: 'ada', name: 'Ada', exp: Math.floor(Date.now() / 1000) + 3600 }) });
  const send = async (id, message) => { ada.send({ type: 'send', id, message }); return (await ada.next((f) => f.type === 'ack' && f.id === id)).seq; };
  const s1 = await send('m1', 'one');
  await send('m2', 'two');
  ada.send({ type: 'edit', id: 'e1', target: s1, message: 'one (edited)' });
  await ada.next((f) => f.type === 'ack' && f.id === 'e1');
  // The receiver goes down for a while; the room keeps going.
  await sleep(1500);
  await rx.down();
  await send('m3', 'three');
  ada.send({ type: 'delete', id: 'd1', target: s1 });
  await ada.next((f) => f.type === 'ack' && f.id === 'd1');
  await api(key, 'POST', `/${site}/rooms/${room}/moderation`, { action: 'slow', seconds: 5 });
  await api(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Bot', message: 'from the server' });
  await sleep(4000);
  await rx.listen(port);

  const expected = ['message.created', 'message.created', 'message.updated', 'message.created', 'message.deleted', 'moderation',
    'message.created'];
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && rx.accepted.length < expected.length) await sleep(500);
  await sleep(500);
  const events = rx.accepted.map((d) => d.event);
  assert.deepEqual(events.map((e) => e.type), expected);
  const ids = events.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length, 'each event once (by id)');
  const seqs = events.map((e) => e.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in the room\'s order');
  for (const d of rx.accepted) {
    assert.ok(verify(d.headers['hello-chat-signature'], d.body, HOOK_SECRET), 'signature verifies');
    assert.equal(d.headers['hello-chat-event'], d.event.type);
    assert.equal(d.headers['hello-chat-delivery'], d.event.id);
    assert.deepEqual([d.event.site, d.event.room], [site, room]);
  }
  assert.equal(events[2].data.message, 'one (edited)');
  assert.equal(events[4].data.deleted, true);
  assert.deepEqual([events[5].data.action, events[5].data.seconds], ['slow', 5]);
  assert.ok(rx.seen.length > rx.accepted.length, 'refused deliveries were retried');

  const listed = await api(key, 'GET', `/${site}/webhooks`);
  const hook = listed.body.webhooks[0];
  assert.deepEqual([hook.name, hook.url], ['audit', `http://127.0.0.1:${port}/hook`]);
  assert.ok(hook.deliveries.some((d) => d.status === 'delivered'));
  assert.equal((await api(key, 'DELETE', `/${site}/webhooks/audit`)).status, 200);
  assert.equal((await api(key, 'GET', `/${site}/webhooks/audit`)).status, 404);
  await ada.close();
  await rx.down();
});

test('webhook URLs into private networks are refused when saved; only public https is accepted', async () => {
  const { site, key } = await siteWithKey();
  for (const url of [
    'http://hooks.example.com/in', 'https://127.0.0.1/hook', 'https://localhost/hook', 'https://10.0.0.8/hook',
    'https://192.168.1.1/hook', 'https://169.254.169.254/latest/meta-data', 'https://[::1]/hook', 'https://[fd00::1]/hook',
    'https://metadata.internal/hook', 'https://user:pass@example.com/hook', 'http://127.0.0.1/no-port', 'ftp://example.com/x',
    // IPv6 forms that carry a private IPv4 address: mapped, compatible, NAT64, 6to4; site-local.
    'https://[::ffff:127.0.0.1]/hook', 'https://[::127.0.0.1]/hook', 'https://[64:ff9b::a9fe:a9fe]/hook',
    'https://[2002:7f00:1::]/hook', 'https://[fec0::1]/hook',
  ]) {
    const res = await api(key, 'PUT', `/${site}/webhooks/bad`, { url, events: ['moderation'], secret: HOOK_SECRET });
    assert.equal(res.status, 400, url);
    assert.equal(res.body.error, 'bad_request');
  }
  const ok = await api(key, 'PUT', `/${site}/webhooks/good`, { url: 'https://hooks.example.com/in', events: ['moderation'], secret: HOOK_SECRET });
  assert.equal(ok.status, 201, ok.text);
  for (const body of [{ url: 'https://hooks.example.com/in', events: ['nope'], secret: HOOK_SECRET },
    { url: 'https://hooks.example.com/in', events: [], secret: HOOK_SECRET },
    { url: 'https://hooks.example.com/in', events: ['moderation'], secret: 'short' }]) {
    assert.equal((await api(key, 'PUT', `/${site}/webhooks/good`, body)).status, 400, JSON.stringify(body));
  }
  assert.equal((await api(key, 'DELETE', `/${site}/webhooks/good`)).status, 200);

  // At most 10 webhooks per site (each event goes to every one of them).
  for (let i = 0; i < 10; i++) {
    const res = await api(key, 'PUT', `/${site}/webhooks/w${i}`, { url: `https://hooks.example.com/${i}`, events: ['moderation'], secret: HOOK_SECRET });
    assert.equal(res.status, 201, res.text);
  }
  const eleventh = await api(key, 'PUT', `/${site}/webhooks/w10`, { url: 'https://hooks.example.com/10', events: ['moderation'], secret: HOOK_SECRET });
  assert.deepEqual([eleventh.status, eleventh.body.error], [400, 'bad_request']);
});

test('a webhook saved while members are connected gets their events; ids stay unique after the room is erased', async () => {
  const { site, key } = await siteWithKey();
  const room = uniqueRoom('late');
  const ada = await join(room, 'Ada', { site });
  const send = async (id, message) => { ada.send({ type: 'send', id, message }); return (await ada.next((f) => f.type === 'ack' && f.id === id)).seq; };
  await send('before', 'before any webhook');
  const rx = receiver({ refuse: 0 });
  const port = await rx.listen();
  const put = await api(key, 'PUT', `/${site}/webhooks/late`, { url: `http://127.0.0.1:${port}/hook`, events: ['message.created'], secret: HOOK_SECRET });
  assert.equal(put.status, 201, put.text);
  // Ada's connection is older than the webhook: the room learns of it from
  // the queue (every second on the test server, every minute in production).
  const deadline = Date.now() + 30_000;
  let n = 0;
  while (Date.now() < deadline && rx.accepted.length === 0) {
    await send(`m${n++}`, `after ${n}`);
    await sleep(500);
  }
  assert.ok(rx.accepted.length > 0, 'events of an already connected member reach a new webhook');
  assert.ok(rx.accepted.every((d) => d.event.data.message !== 'before any webhook'), 'nothing from before the webhook');
  const firstLife = new Set(rx.accepted.map((d) => d.event.id));

  assert.equal((await api(key, 'DELETE', `/${site}/rooms/${room}`)).status, 200);
  const posted = await api(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Bot', message: 'a new life' });
  assert.equal(posted.body.seq, 1, 'the erased room starts again at seq 1');
  const until = Date.now() + 30_000;
  while (Date.now() < until && !rx.accepted.some((d) => d.event.data.message === 'a new life')) await sleep(300);
  const reborn = rx.accepted.find((d) => d.event.data.message === 'a new life');
  assert.ok(reborn, 'the new message was delivered');
  assert.ok(!firstLife.has(reborn.event.id), `a new id (${reborn.event.id}), though its seq repeats`);
  await rx.down();
});

test('deleting a site stops its webhook deliveries at once: queued events are not retried at the deleted site\'s receiver', async () => {
  const { site, key } = await siteWithKey();
  // Refuses everything: the event stays queued, retried 1 s, 2 s, 4 s... later.
  const rx = receiver({ refuse: Infinity });
  const port = await rx.listen();
  try {
    const put = await api(key, 'PUT', `/${site}/webhooks/gone`, { url: `http://127.0.0.1:${port}/hook`, events: ['message.created'], secret: HOOK_SECRET });
    assert.equal(put.status, 201, put.text);
    const ada = await join(uniqueRoom('gone'), 'Ada', { site });
    ada.send({ type: 'send', id: 'private', message: 'text the owner wants gone with the site' });
    await ada.next((f) => f.type === 'ack' && f.id === 'private');
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && rx.seen.length === 0) await sleep(100);
    assert.ok(rx.seen.length > 0, 'the event was tried once');

    assert.equal((await admin('DELETE', `/sites/${site}`)).status, 200);
    await ada.close();
    // A delivery already on its way when the site went may still land.
    await sleep(1500);
    const atDeletion = rx.seen.length;
    await sleep(6000);
    assert.equal(rx.seen.length, atDeletion, 'retried after the site was deleted');
  } finally {
    await rx.down();
  }
});

test('a site whose storage for files is full tells its webhook: a storage.full event, once an hour for the site, not one per refused upload or per room', async () => {
  const { site, key } = await newSiteWithKey({ origins: [], allowNoOrigin: true, secret: SECRET,
    limits: { maxFileBytes: 1000, maxStorageBytes: 300 } }, 'hook');
  const rx = receiver({ refuse: 0 });
  const port = await rx.listen();
  try {
    const put = await api(key, 'PUT', `/${site}/webhooks/full`, { url: `http://127.0.0.1:${port}/hook`, events: ['storage.full'], secret: HOOK_SECRET });
    assert.equal(put.status, 201, put.text);
    const room = uniqueRoom('full');
    const ada = await join(room, 'Ada', { site });
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(192, 7)]);
    const ask = async (id) => {
      ada.send({ type: 'upload', id, file: 0, name: 'shot.png', size: png.length, mime: 'image/png' });
      return ada.next((f) => (f.type === 'upload' || f.type === 'error') && f.id === id);
    };
    const first = await ask('u1');
    assert.equal(first.type, 'upload', JSON.stringify(first));
    const stored = await fetch(`${BASE}${first.url}`, { method: 'PUT', body: png, headers: { 'content-type': 'image/png' } });
    assert.equal(stored.status, 201);
    // The site holds 200 of 300 bytes: the next file is refused, again and again.
    for (const id of ['u2', 'u3', 'u4']) assert.equal((await ask(id)).code, 'storage_full');
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && rx.accepted.length === 0) await sleep(100);
    assert.equal(rx.accepted.length, 1, 'the owner hears of it');
    const [told] = rx.accepted;
    assert.ok(verify(told.headers['hello-chat-signature'], told.body, HOOK_SECRET), 'signed');
    assert.equal(told.headers['hello-chat-event'], 'storage.full');
    assert.deepEqual({ type: told.event.type, site: told.event.site, room: told.event.room, data: told.event.data },
      { type: 'storage.full', site, room, data: { size: png.length, maxStorageBytes: 300, roomFileBytes: png.length } });
    assert.match(told.event.id, new RegExp(`^${room}:[0-9a-f]+:storage\\.\\d+$`));
    // Another room refused too: the site hears of it once an hour, not once per room.
    // (Its first ticket is granted, the room not having heard of the others yet; the bytes are refused.)
    const other = await join(uniqueRoom('full'), 'Bo', { site });
    other.send({ type: 'upload', id: 'b1', file: 0, name: 'shot.png', size: png.length, mime: 'image/png' });
    const ticket = await other.next((f) => (f.type === 'upload' || f.type === 'error') && f.id === 'b1');
    if (ticket.type === 'upload') {
      const refused = await fetch(`${BASE}${ticket.url}`, { method: 'PUT', body: png, headers: { 'content-type': 'image/png' } });
      assert.equal(refused.status, 507);
    } else {
      assert.equal(ticket.code, 'storage_full', JSON.stringify(ticket));
    }
    await sleep(2500);
    assert.equal(rx.accepted.length, 1, 'not once per refused upload, nor per room');
    await other.close();
    await ada.close();
  } finally {
    await rx.down();
  }
});

test('duplicate events are stored once, in the order they first appear (create and replace)', async () => {
  const { site, key } = await siteWithKey();
  const url = 'https://hooks.example.com/in';
  const created = await api(key, 'PUT', `/${site}/webhooks/dups`,
    { url, events: ['moderation', 'message.created', 'moderation', 'message.created'], secret: HOOK_SECRET });
  assert.equal(created.status, 201, created.text);
  assert.deepEqual(created.body.events, ['moderation', 'message.created']);
  assert.deepEqual((await api(key, 'GET', `/${site}/webhooks/dups`)).body.events, ['moderation', 'message.created'], 'as stored');
  const replaced = await api(key, 'PUT', `/${site}/webhooks/dups`,
    { url, events: ['message.deleted', 'message.deleted'], secret: HOOK_SECRET });
  assert.equal(replaced.status, 200, replaced.text);
  assert.deepEqual(replaced.body.events, ['message.deleted']);
  const listed = await api(key, 'GET', `/${site}/webhooks`);
  assert.deepEqual(listed.body.webhooks.map((h) => h.events), [['message.deleted']]);
});

/** A receiver that answers each delivery with `answer(event)`: a status, or null to hang (never answer). */
function scriptedReceiver(answer) {
  const got = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const event = JSON.parse(body);
      const status = answer(event);
      got.push({ event, status, at: Date.now() });
      if (status !== null) res.writeHead(status).end();
    });
  });
  const listen = () => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
  const down = () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); });
  return { got, listen, down, accepted: () => got.filter((g) => g.status >= 200 && g.status < 300) };
}

test('a room whose events the receiver refuses holds back only its own later events, not other rooms\'', { timeout: 90_000 }, async (t) => {
  const { site, key } = await siteWithKey();
  let refusing = true;
  const poison = uniqueRoom('poison');
  const rx = scriptedReceiver((e) => (refusing && e.room === poison ? 500 : 204));
  const port = await rx.listen();
  t.after(rx.down);
  const put = await api(key, 'PUT', `/${site}/webhooks/main`, { url: `http://127.0.0.1:${port}/hook`, events: ['message.created'], secret: HOOK_SECRET });
  assert.equal(put.status, 201, put.text);
  const post = async (room, message) => {
    const res = await api(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Bot', message });
    assert.equal(res.status, 201, res.text);
  };
  await post(poison, 'refused 1');
  await post(poison, 'refused 2 (held back behind 1)');
  // Let the receiver refuse a few attempts, so the poison room is in backoff.
  const refusedOnce = Date.now() + 15_000;
  while (Date.now() < refusedOnce && rx.got.filter((g) => g.event.room === poison).length < 2) await sleep(200);
  assert.ok(rx.got.filter((g) => g.event.room === poison).length >= 2, 'the poison room was attempted and retried');
  const healthy = [uniqueRoom('ok'), uniqueRoom('ok'), uniqueRoom('ok')];
  const started = Date.now();
  for (const room of healthy) await post(room, `hello from ${room}`);
  const deadline = Date.now() + 8_000;
  const arrived = () => healthy.filter((room) => rx.accepted().some((g) => g.event.room === room));
  while (Date.now() < deadline && arrived().length < healthy.length) await sleep(100);
  const latest = Math.max(...rx.accepted().filter((g) => healthy.includes(g.event.room)).map((g) => g.at - started));
  assert.deepEqual(arrived(), healthy, `every other room's event arrives while the poison room is retried (after ${latest} ms)`);
  assert.ok(latest < 5_000, `within a few seconds (${latest} ms)`);
  t.diagnostic(`the other rooms' events arrived within ${latest} ms while the poison room was retried`);
  // The poison room's second event never overtook its first.
  assert.ok(!rx.got.some((g) => g.event.data.message.startsWith('refused 2')), 'the second is held back behind the first');
  refusing = false;
  const healed = Date.now() + 40_000;
  const poisonAccepted = () => rx.accepted().filter((g) => g.event.room === poison).map((g) => g.event.data.message);
  while (Date.now() < healed && poisonAccepted().length < 2) await sleep(200);
  assert.deepEqual(poisonAccepted(), ['refused 1', 'refused 2 (held back behind 1)'], 'then both, in order');
});

test('a webhook whose receiver hangs does not delay another webhook\'s deliveries', { timeout: 90_000 }, async (t) => {
  const { site, key } = await siteWithKey();
  const hang = scriptedReceiver(() => null);
  const fast = scriptedReceiver(() => 204);
  const [hangPort, fastPort] = [await hang.listen(), await fast.listen()];
  t.after(() => Promise.all([hang.down(), fast.down()]));
  // Named so that the hanging one comes first in any by-name order.
  for (const [name, port] of [['a-hangs', hangPort], ['b-fast', fastPort]]) {
    const put = await api(key, 'PUT', `/${site}/webhooks/${name}`, { url: `http://127.0.0.1:${port}/hook`, events: ['message.created'], secret: HOOK_SECRET });
    assert.equal(put.status, 201, put.text);
  }
  const latencies = [];
  for (let i = 0; i < 4; i++) {
    const room = uniqueRoom('two');
    const sent = Date.now();
    const res = await api(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Bot', message: `m${i}` });
    assert.equal(res.status, 201, res.text);
    const deadline = sent + 15_000;
    while (Date.now() < deadline && !fast.got.some((g) => g.event.room === room)) await sleep(50);
    const got = fast.got.find((g) => g.event.room === room);
    latencies.push(got ? got.at - sent : Infinity);
    await sleep(1500);
  }
  assert.ok(hang.got.length > 0, 'the hanging receiver was tried');
  assert.ok(latencies.every((ms) => ms < 2_500), `the healthy webhook's deliveries are not held up: ${latencies.join(', ')} ms`);
  t.diagnostic(`the healthy webhook's deliveries took ${latencies.join(', ')} ms`);
  // The site owner is told why, in words of the service's own, not the runtime's.
  assert.equal(await lastError(key, site, 'a-hangs'), 'no answer within 10 s');
});

/** The `lastError` of webhook `name`'s newest delivery that has one (waits up to 20 s for it). */
async function lastError(key, site, name) {
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(250)) {
    const hook = await api(key, 'GET', `/${site}/webhooks/${name}`);
    const failed = hook.body.deliveries?.find((d) => d.lastError);
    if (failed) return failed.lastError;
  }
  return null;
}

test('a receiver that cannot be reached is told as such to the site owner (no runtime error text)', async () => {
  const { site, key } = await siteWithKey();
  // A port with nobody listening: taken, then let go.
  const closed = await new Promise((resolve) => {
    const s = http.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
  const put = await api(key, 'PUT', `/${site}/webhooks/gone`, { url: `http://127.0.0.1:${closed}/hook`, events: ['message.created'], secret: HOOK_SECRET });
  assert.equal(put.status, 201, put.text);
  const res = await api(key, 'POST', `/${site}/rooms/${uniqueRoom('gone')}/messages`, { name: 'Bot', message: 'hello?' });
  assert.equal(res.status, 201, res.text);
  assert.equal(await lastError(key, site, 'gone'), 'could not connect');
});

test('attack: a receiver that is down does not let anyone grow the site\'s queue without bound (the test server waits for 50 per webhook)', { timeout: 60_000 }, async (t) => {
  const { site, key } = await siteWithKey();
  const rx = scriptedReceiver(() => 503);
  const port = await rx.listen();
  t.after(rx.down);
  const put = await api(key, 'PUT', `/${site}/webhooks/down`, { url: `http://127.0.0.1:${port}/hook`, events: ['message.created'], secret: HOOK_SECRET });
  assert.equal(put.status, 201, put.text);
  // 60 messages in 6 rooms (the test server lets 50 wait per webhook).
  for (let r = 0; r < 6; r++) {
    const room = uniqueRoom('backlog');
    for (let i = 0; i < 10; i++) {
      const res = await api(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Bot', message: `m${r}-${i}` });
      assert.equal(res.status, 201, res.text);
    }
  }
  let hook;
  for (const end = Date.now() + 10_000; Date.now() < end; await sleep(250)) {
    hook = (await api(key, 'GET', `/${site}/webhooks/down`)).body;
    if (hook.dropped === 10) break;
  }
  assert.equal(hook.dropped, 10, 'the ten past the cap are counted, not queued');
  assert.ok(hook.deliveries.every((d) => d.status === 'pending'), 'what waits keeps waiting for the receiver');
  // Saved again (the receiver fixed), the count starts over.
  const again = await api(key, 'PUT', `/${site}/webhooks/down`, { url: `http://127.0.0.1:${port}/hook`, events: ['message.created'], secret: HOOK_SECRET });
  assert.equal(again.status, 200, again.text);
  assert.equal((await api(key, 'GET', `/${site}/webhooks/down`)).body.dropped, undefined);
});
