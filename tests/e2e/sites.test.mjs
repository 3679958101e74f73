// Multi-tenant sites: the admin API, origin allow-lists, signed identities,
// isolation between sites and per-site limits, against the real worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, admin, createSite, join, mintToken, refused, sleep, uniqueRoom } from './helpers.mjs';

const ORIGIN = 'https://shop.example';
const SECRET = 'a-very-secret-signing-key-0123456789';
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const opts = { origin: ORIGIN };

test('admin API refuses missing and wrong tokens with a JSON 401', async () => {
  for (const token of [null, 'wrong-token', '']) {
    const res = await admin('GET', '/sites', undefined, { token });
    assert.equal(res.status, 401);
    assert.equal(res.body.error, 'unauthorized');
  }
  const put = await admin('PUT', '/sites/nope-site', { origins: [] }, { token: 'dev-admin-tokeN' });
  assert.equal(put.status, 401);
  assert.equal((await admin('GET', '/sites/nope-site')).status, 404, 'nothing was created');
});

test('a site created through the admin API works at once; its secret is write-only', async () => {
  const id = await createSite({ origins: [ORIGIN, 'http://localhost:*'], secret: SECRET });
  const got = await admin('GET', `/sites/${id}`);
  assert.equal(got.status, 200);
  assert.deepEqual(got.body.origins, [ORIGIN, 'http://localhost:*']);
  assert.equal(got.body.hasSecret, true);
  assert.ok(!got.text.includes(SECRET), 'the secret is never returned');
  const list = await admin('GET', '/sites');
  assert.ok(list.body.sites.some((s) => s.id === id));
  assert.ok(!list.text.includes(SECRET));

  const room = uniqueRoom();
  const c = await join(room, 'Ada', { site: id }, opts);
  assert.equal(c.welcome.name, 'Ada');
  await c.close();

  // Updating without "secret" keeps it; null removes it.
  assert.equal((await admin('PUT', `/sites/${id}`, { origins: [ORIGIN] })).status, 200);
  assert.equal((await admin('GET', `/sites/${id}`)).body.hasSecret, true);
  assert.equal((await admin('PUT', `/sites/${id}`, { origins: [ORIGIN], secret: null })).body.hasSecret, false);
});

test('invalid site configurations are refused with a reason', async () => {
  for (const [path, body] of [
    ['/sites/Bad_Id', {}],
    ['/sites/ok-id', { origins: ['not-an-origin'] }],
    ['/sites/ok-id', { origins: ['https://a.com/path'] }],
    ['/sites/ok-id', { secret: 'short' }],
    ['/sites/ok-id', { colour: 'blue' }],
    ['/sites/ok-id', { limits: { maxMessageChars: 'many' } }],
    ['/sites/ok-id', '{not json'],
    // Reactions are single emoji, not words or runs of emoji.
    ['/sites/ok-id', { moderation: { emoji: ['👍', 'lol'] } }],
    ['/sites/ok-id', { moderation: { emoji: ['👍👍'] } }],
    // A filter too big to travel with each join (non-ASCII words, 5,000 characters).
    ['/sites/ok-id', { moderation: { words: Array.from({ length: 500 }, (_, i) => `слово${String(i).padStart(5, '0')}`) } }],
  ]) {
    const res = await admin('PUT', path, body);
    assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}`);
    assert.equal(res.body.error, 'bad_request');
    assert.ok(res.body.message.length > 0);
  }
  assert.equal((await admin('GET', '/sites/ok-id')).status, 404);
});

test('a reaction emoji listed twice is kept once', async () => {
  const id = await createSite({ origins: [ORIGIN], moderation: { emoji: ['👍', '🇫🇷', '👍', '👩🏽‍💻'] } });
  const saved = await admin('GET', `/sites/${id}`);
  assert.deepEqual(saved.body.moderation.emoji, ['👍', '🇫🇷', '👩🏽‍💻']);
});

test('the same room name on two sites is two rooms, in both directions', async () => {
  const a = await createSite({ origins: [ORIGIN] });
  const b = await createSite({ origins: [ORIGIN] });
  const room = uniqueRoom('shared');
  const onA = await join(room, 'A', { site: a }, opts);
  const onB = await join(room, 'B', { site: b }, opts);
  assert.equal(onA.welcome.online, 1);
  assert.equal(onB.welcome.online, 1);
  onA.send({ type: 'send', id: 'a1', message: 'secret of site A' });
  await onA.next('ack');
  onB.send({ type: 'send', id: 'b1', message: 'secret of site B' });
  await onB.next('ack');
  await sleep(200);
  assert.equal(onA.all('message').length + onB.all('message').length, 0);
  const lateA = await join(room, 'A2', { site: a }, opts);
  const lateB = await join(room, 'B2', { site: b }, opts);
  assert.deepEqual(lateA.history.messages.map((m) => m.message), ['secret of site A']);
  assert.deepEqual(lateB.history.messages.map((m) => m.message), ['secret of site B']);
  await Promise.all([onA, onB, lateA, lateB].map((c) => c.close()));
});

test('origins outside the allow-list are refused with 4003; no Origin only where allowed', async () => {
  const id = await createSite({ origins: [ORIGIN, 'http://localhost:*', 'https://*.partner.example'] });
  const room = uniqueRoom();
  for (const origin of ['https://evil.example', 'http://shop.example', 'https://shop.example:8443', 'https://partner.example']) {
    const r = await refused({ room, site: id, v: '1' }, { origin });
    assert.equal(r.code, 4003, origin);
    assert.equal(r.error.code, 'forbidden_origin');
  }
  const noOrigin = await refused({ room, site: id, v: '1' });
  assert.equal(noOrigin.code, 4003);
  for (const origin of [ORIGIN, 'http://localhost:3000', 'https://app.partner.example']) {
    const c = await join(room, 'ok', { site: id }, { origin });
    await c.close();
  }
  const bots = await createSite({ origins: [], allowNoOrigin: true });
  const bot = await join(room, 'bot', { site: bots });
  await bot.close();
});

test('an unknown site is refused with 4004 before any room wakes', async () => {
  const r = await refused({ room: 'lobby', site: 'no-such-site', v: '1' }, opts);
  assert.equal(r.code, 4004);
  assert.equal(r.error.code, 'unknown_site');
});

test('forged, expired, wrong-room and wrong-site tokens, and subs with control characters, are refused with 4001', async () => {
  const site = await createSite({ origins: [ORIGIN], secret: SECRET });
  const other = await createSite({ origins: [ORIGIN], secret: 'another-site-secret-0123456789' });
  const room = uniqueRoom();
  const claims = { sub: 'u-1', name: 'Ada Verified', exp: inAnHour() };
  const cases = [
    ['forged', mintToken('not-the-secret-at-all-000000', claims)],
    ['expired', mintToken(SECRET, { ...claims, exp: Math.floor(Date.now() / 1000) - 120 })],
    ['wrong room', mintToken(SECRET, { ...claims, room: 'another-room' })],
    ['wrong site claim', mintToken(SECRET, { ...claims, site: other })],
    ['other site secret', mintToken('another-site-secret-0123456789', claims)],
    ['alg none', mintToken(SECRET, claims, { alg: 'none' }).split('.').slice(0, 2).join('.') + '.'],
    ['garbage', 'x.y.z'],
    // A user the site API could not name to export or erase (it refuses control characters).
    ['control characters in sub', mintToken(SECRET, { ...claims, sub: 'ada\nx' })],
    ['NUL in sub', mintToken(SECRET, { ...claims, sub: 'ada\u0000' })],
  ];
  for (const [what, token] of cases) {
    const r = await refused({ room, site, v: '1', token }, opts);
    assert.equal(r.code, 4001, what);
    assert.equal(r.error.code, 'unauthorized', what);
    assert.match(r.error.message, /token/, what);
  }
});

test("a valid token's name wins over the query's name; sites may require identity", async () => {
  const site = await createSite({ origins: [ORIGIN], secret: SECRET, allowAnonymous: false });
  const room = uniqueRoom();
  const token = mintToken(SECRET, { sub: 'user-42', name: 'Ada Verified', exp: inAnHour(), room });
  const c = await join(room, 'Mallory', { site, token }, opts);
  assert.equal(c.welcome.name, 'Ada Verified');
  c.send({ type: 'send', id: 't1', message: 'signed hello' });
  await c.next('ack');
  const anon = await refused({ room, site, v: '1', name: 'Anon' }, opts);
  assert.equal(anon.code, 4001);
  assert.match(anon.error.message, /requires a signed identity/);
  const reader = await join(room, 'Reader', { site, token: mintToken(SECRET, { sub: 'r', exp: inAnHour() }) }, opts);
  assert.equal(reader.history.messages[0].name, 'Ada Verified');
  assert.equal(reader.welcome.name, 'Anonymous', 'without a name claim the user id (often an e-mail) is never shown');
  assert.equal(reader.welcome.verified, true);
  await Promise.all([c.close(), reader.close()]);
});

test('deleting a site cuts off its new connections', async () => {
  const site = await createSite({ origins: [ORIGIN] });
  const room = uniqueRoom();
  const before = await join(room, 'Early', { site }, opts);
  assert.equal((await admin('DELETE', `/sites/${site}`)).status, 200);
  const after = await refused({ room, site, v: '1' }, opts);
  assert.equal(after.code, 4004);
  assert.equal((await admin('DELETE', `/sites/${site}`)).status, 404);
  await before.close();
});

test('per-site limits: message length, rate, connections per room, retention', async () => {
  const site = await createSite({
    origins: [ORIGIN],
    limits: { maxMessageChars: 10, rateBurst: 3, ratePerSec: 0.5, maxConnections: 2, retention: 5 },
  });
  const room = uniqueRoom();
  const a = await join(room, 'A', { site }, opts);
  assert.equal(a.welcome.maxMessageChars, 10);
  a.send({ type: 'send', id: 'long', message: 'x'.repeat(11) });
  assert.equal((await a.next('error')).code, 'too_long');
  for (let i = 0; i < 4; i++) a.send({ type: 'send', id: `r${i}`, message: `r${i}` });
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push(await a.next((f) => f.type === 'ack' || f.type === 'error'));
  assert.deepEqual(answers.map((f) => f.type), ['ack', 'ack', 'ack', 'error']);
  assert.equal(answers[3].code, 'rate_limited');

  const b = await join(room, 'B', { site }, opts);
  const third = await refused({ room, site, v: '1' }, opts);
  assert.equal(third.code, 1013);
  assert.equal(third.error.code, 'room_full');
  await Promise.all([a.close(), b.close()]);

  // Retention: a roomy site keeps only the newest 5 messages of 100.
  const keep5 = await createSite({ origins: [ORIGIN], limits: { retention: 5, rateBurst: 1000, addressBurst: 1000 } });
  const w = await join(room, 'W', { site: keep5 }, opts);
  for (let i = 1; i <= 100; i++) w.send({ type: 'send', id: `k${i}`, message: `k${i}` });
  for (let i = 1; i <= 100; i++) await w.next('ack');
  let seqs = [];
  for (let tries = 0; tries < 30; tries++) {
    await sleep(500);
    const r = await join(room, 'R', { site: keep5 }, opts);
    seqs = r.history.messages.map((m) => m.seq);
    await r.close();
    if (seqs.length === 5) break;
  }
  assert.deepEqual(seqs, [96, 97, 98, 99, 100]);
  w.send({ type: 'send', id: 'k101', message: 'after clean-up' });
  assert.equal((await w.next('ack')).seq, 101, 'numbering continues after retention');
  await w.close();
});

test("a verified user's rate limit is shared by all their connections", async () => {
  const site = await createSite({ origins: [ORIGIN], secret: SECRET, limits: { rateBurst: 3, ratePerSec: 0.1 } });
  const room = uniqueRoom();
  const token = mintToken(SECRET, { sub: 'same-user', exp: inAnHour() });
  const tab1 = await join(room, 'x', { site, token }, opts);
  const tab2 = await join(room, 'x', { site, token }, opts);
  const results = [];
  for (const [tab, id] of [[tab1, 'u1'], [tab2, 'u2'], [tab1, 'u3'], [tab2, 'u4']]) {
    tab.send({ type: 'send', id, message: id });
    results.push((await tab.next((f) => f.type === 'ack' || f.type === 'error')).type);
  }
  assert.deepEqual(results, ['ack', 'ack', 'ack', 'error']);
  await Promise.all([tab1.close(), tab2.close()]);
});

test('the demo site exists out of the box for local development', async () => {
  const demo = await admin('GET', '/sites/demo');
  assert.equal(demo.status, 200);
  assert.equal(demo.body.allowAnonymous, true);
  assert.deepEqual(demo.body.origins, ['http://localhost:*', 'http://127.0.0.1:*']);
  const page = await fetch(`${BASE}/health`);
  assert.equal(page.status, 200);
});
