// A security review's attacks on the server's request paths, against the real
// worker. Each asserts the safe behaviour; the first four failed before their
// fixes (a ban escaped by leaving, an erasure webhooks never heard of, a
// previous identity secret outliving identity, unchecked bot names), the last
// pins a defence the review checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../../scripts/lib/server.mjs';
import { act, answer, BASE, Client, admin, createSite, join, mintToken, siteApi as api, siteWithKey, sleep, uniqueRoom, nextId, post } from './helpers.mjs';

const SECRET = 'review-attacks-signing-secret-0123456789';
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
/** Raw clients, anonymous and verified; per-address limits lifted (every client is 127.0.0.1). */
const LIMITS = { addressBurst: 1000, addressPerSec: 100, maxConnectionsPerAddress: 100 };
const site = (extra = {}) => createSite({ origins: [], allowNoOrigin: true, secret: SECRET, limits: LIMITS, ...extra }, 'rev');
const keyedSite = (extra = {}) => siteWithKey({ origins: [], allowNoOrigin: true, secret: SECRET, limits: LIMITS, ...extra }, 'rev');
const moderatorToken = (sub = 'mo-1') => mintToken(SECRET, { sub, name: 'Mo', role: 'moderator', exp: inAnHour() });
const userToken = (sub, name = sub) => mintToken(SECRET, { sub, name, exp: inAnHour() });

/** Connect, and tell whether the room let us in: `{ welcome }` or `{ code, error }` (a close). */
async function attempt(query, opts = {}) {
  const c = await Client.connect(query, opts);
  const first = await Promise.race([
    c.next((f) => f.type === 'welcome' || f.type === 'error', 8000).catch(() => null),
    c.closed.then(() => null),
  ]);
  if (first?.type === 'welcome') {
    await c.close();
    return { welcome: first };
  }
  const closed = await c.closed;
  return { code: closed.code, error: first };
}

// ----- moderation -----

test('an anonymous spammer banned after they left cannot come back from the same address with a new sender key', async (t) => {
  const s = await site();
  const room = uniqueRoom('ban-gone');
  const spammer = await join(room, 'Spammer', { site: s });
  const sender = spammer.welcome.sender;
  await post(spammer, 'buy cheap pills');
  // Spam and run: the spammer is gone before a moderator acts.
  await spammer.close();
  await sleep(300);
  const mo = await join(room, 'x', { site: s, token: moderatorToken() });
  t.after(() => mo.close());
  const id = nextId();
  mo.send({ type: 'moderate', id, action: 'ban', sender, reason: 'spam' });
  assert.equal((await answer(mo, id)).type, 'ack');
  // Same address (127.0.0.1), no sender key (a page reload): docs/protocol.md
  // says anonymous members are banned "by sender key and by the address they
  // were connected from".
  const back = await attempt({ room, site: s, v: '1', name: 'Spammer' });
  assert.equal(back.code, 4008, `the banned spammer is back in the room with a fresh sender key (${JSON.stringify(back.welcome ?? back)})`);
});

test('a muted anonymous visitor who reloads the page (a new sender key) is still muted', async (t) => {
  const s = await site();
  const room = uniqueRoom('mute-reload');
  const eve = await join(room, 'Eve', { site: s });
  const mo = await join(room, 'x', { site: s, token: moderatorToken() });
  t.after(() => mo.close());
  const id = nextId();
  mo.send({ type: 'moderate', id, action: 'mute', sender: eve.welcome.sender, seconds: 600 });
  assert.equal((await answer(mo, id)).type, 'ack');
  await eve.close();
  const again = await join(room, 'Eve', { site: s });
  t.after(() => again.close());
  assert.notEqual(again.welcome.sender, eve.welcome.sender, 'a reload is a new anonymous sender');
  assert.ok(again.welcome.mutedUntil > Date.now(), `the welcome says muted: ${JSON.stringify(again.welcome)}`);
  const sent = nextId();
  again.send({ type: 'send', id: sent, message: 'I am back' });
  const reply = await answer(again, sent);
  assert.deepEqual([reply.type, reply.code], ['error', 'muted'], JSON.stringify(reply));
});

// ----- webhooks and erasure -----

function receiver() {
  const got = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      try { got.push(JSON.parse(body)); } catch { /* ignore */ }
      res.writeHead(204).end();
    });
  });
  return {
    got,
    listen: () => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port))),
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}

test('erasing a user sends message.deleted for each of their messages to webhooks (docs/api.md)', { timeout: 60_000 }, async (t) => {
  const { site: s, key } = await keyedSite();
  const rx = receiver();
  const port = await rx.listen();
  t.after(() => rx.close());
  const put = await api(key, 'PUT', `/${s}/webhooks/mirror`, {
    url: `http://127.0.0.1:${port}/hook`, events: ['message.created', 'message.deleted'], secret: 'whsec-review-0123456789',
  });
  assert.equal(put.status, 201, put.text);
  const room = uniqueRoom('erase-hook');
  const sub = `victim-${Date.now()}`;
  const ada = await join(room, 'x', { site: s, token: userToken(sub, 'Ada') });
  t.after(() => ada.close());
  const seq = await post(ada, 'my address is 1 Main St');
  const until = Date.now() + 20_000;
  while (Date.now() < until && !rx.got.some((e) => e.type === 'message.created' && e.seq === seq)) await sleep(200);
  assert.ok(rx.got.some((e) => e.type === 'message.created'), 'the receiver got the message');
  const erased = await api(key, 'DELETE', `/${s}/users/${encodeURIComponent(sub)}`);
  assert.deepEqual([erased.status, erased.body?.erased], [200, 1], erased.text);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && !rx.got.some((e) => e.type === 'message.deleted')) await sleep(300);
  const deleted = rx.got.filter((e) => e.type === 'message.deleted');
  assert.ok(deleted.some((e) => e.data?.seq === seq),
    `a receiver mirroring messages is never told to delete the erased one; got ${JSON.stringify(rx.got.map((e) => e.type))}`);
});

// ----- internal headers from the public Internet -----

test('internal headers sent to the public Worker are ignored (join ticket, API ticket, claim, fan-out)', async () => {
  const s = await site({ allowAnonymous: true });
  const room = uniqueRoom('forge');
  const ticket = JSON.stringify({
    place: { site: s, epoch: '', room, hooks: [] },
    name: 'Forged', user: { sub: 'admin', name: 'Admin', role: 'moderator' }, sender_key: null, address: null,
    v1: true, since: null, limits: {}, policy: {}, protocol: null, batch: false,
  });
  const headers = {
    'x-hello-chat-ticket': ticket,
    'x-hello-chat-api': '{}',
    'x-hello-chat-claim': '{}',
    'x-hello-fanout-inbound': '1',
    'x-hello-fanout-join': '{}',
  };
  const c = await join(room, 'Plain', { site: s }, { headers });
  assert.equal(c.welcome.verified, false, 'a forged join ticket made a verified member');
  assert.equal(c.welcome.role, undefined, 'a forged join ticket made a moderator');
  assert.equal(c.welcome.name, 'Plain');
  await c.close();
  // A site that requires identity: a forged ticket does not stand in for a token.
  const closed = await site({ allowAnonymous: false });
  const refusedJoin = await attempt({ room, site: closed, v: '1' }, { headers });
  assert.equal(refusedJoin.code, 4001);
  // The site API: an API ticket header is no credential.
  const apiTicket = JSON.stringify({ place: { site: closed, epoch: '', room, hooks: [] }, limits: {}, policy: {} });
  const res = await fetch(`${BASE}/v1/sites/${closed}/rooms/${room}/messages`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-hello-chat-api': apiTicket },
    body: JSON.stringify({ name: 'Bot', message: 'forged' }),
  });
  assert.equal(res.status, 401);
});

// ----- identity secrets -----

test('once the operator removes a site\'s identity secret, no token verifies, not even one signed with the secret before a rotation', async () => {
  const { site: s, key } = await keyedSite();
  const room = uniqueRoom('nosecret');
  const oldToken = mintToken(SECRET, { sub: 'leaked', name: 'Mallory', role: 'moderator', exp: inAnHour() });
  // The owner rotates (the default grace: an hour), then the operator turns identity off.
  const rotated = await api(key, 'POST', `/${s}/secret`, {});
  assert.equal(rotated.status, 200, rotated.text);
  const off = await admin('PATCH', `/sites/${s}`, { secret: null });
  assert.deepEqual([off.status, off.body.hasSecret], [200, false], off.text);
  const newToken = mintToken(rotated.body.secret, { sub: 'u2', exp: inAnHour() });
  const withNew = await attempt({ room, site: s, v: '1', token: newToken });
  assert.equal(withNew.code, 4001, 'the current secret is gone');
  const withOld = await attempt({ room, site: s, v: '1', token: oldToken });
  assert.equal(withOld.code, 4001,
    `a site that "does not accept identity tokens" lets in a moderator signed with its previous secret: ${JSON.stringify(withOld.welcome ?? withOld)}`);
});

// ----- upload tickets -----

/** Ask `c`'s room for an upload ticket: the `upload` frame or the `error`. */
async function askTicket(c) {
  const id = nextId();
  c.send({ type: 'upload', id, file: 0, name: 'a.png', size: 100, mime: 'image/png' });
  return c.next((f) => (f.type === 'upload' || f.type === 'error') && f.id === id);
}

/** Whether `sealed` (a ticket, `<payload>.<mac>`) is MACed under the key derived from `secret`. */
function sealedWith(sealed, secret) {
  const [payload, mac] = sealed.split('.');
  const key = createHash('sha256').update('hello-chat files\0').update(secret).digest();
  const ours = createHmac('sha256', key).update('ticket').update(Buffer.from([0])).update(payload).digest();
  return ours.subarray(0, 16).toString('base64url') === mac;
}

test('attack: an upload ticket (any visitor can ask for one) is no offline oracle for the operator\'s ADMIN_TOKEN', { timeout: 90_000 }, async () => {
  // The test server has FILES_SECRET (as npm start and the deploy guide set
  // it): a ticket's MAC is not under a key derived from the admin token.
  const c = await join(uniqueRoom('oracle'), 'Anon');
  const t = await askTicket(c);
  await c.close();
  assert.equal(t.type, 'upload', JSON.stringify(t));
  const sealed = t.url.replace('/uploads/', '');
  assert.equal(sealedWith(sealed, 'dev-files-secret-not-for-production'), true, 'the check itself works (the development FILES_SECRET)');
  assert.equal(sealedWith(sealed, 'dev-admin-token'), false, 'the admin token checks out against a ticket, offline');
  // Without FILES_SECRET and with a short admin token: no ticket at all
  // (files are off), rather than MACs a visitor can test guesses against.
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-chat-oracle-'));
  const server = await startServer({ persistTo: state, vars: { FILES_SECRET: '' } });
  try {
    const d = await join(uniqueRoom('oracle'), 'Anon', {}, { base: server.url });
    assert.equal(d.welcome.accept, '', 'the widget is not offered files that cannot be stored');
    const refused = await askTicket(d);
    await d.close();
    assert.equal(refused.type, 'error', `a ticket under a key derived from a 15-character token: ${JSON.stringify(refused)}`);
  } finally {
    await server.stop();
    fs.rmSync(state, { recursive: true, force: true });
  }
});

// ----- the site API's input validation -----

test('a bot message\'s name must be 1-32 characters after cleaning, else 400 (docs/api.md)', async () => {
  const { site: s, key } = await keyedSite();
  const room = uniqueRoom('botname');
  for (const name of ['', '\u200b\u2066', 'N'.repeat(100)]) {
    const res = await api(key, 'POST', `/${s}/rooms/${room}/messages`, { name, message: 'hi' });
    assert.equal(res.status, 400, `name ${JSON.stringify(name)} was posted as ${JSON.stringify(res.body)}`);
  }
  const history = await api(key, 'GET', `/${s}/rooms/${room}/messages`);
  assert.deepEqual(history.body.messages.map((m) => m.name), [], 'nothing was posted');
});
