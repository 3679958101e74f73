// The site owners' API against the real worker: keys scoped to one site,
// PATCH that changes only what it names, secret rotation with grace, bot
// messages reaching live members, history, deletes and moderation from the
// server, export and erasure of a user, the room list, erasing a room,
// retention by age. (Webhooks: webhooks.test.mjs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { ADMIN_TOKEN, BASE, admin, siteApi as api, siteWithKey as newSiteWithKey, join, mintToken, refused, sleep, uniqueRoom } from './helpers.mjs';

const SECRET = 'site-api-signing-secret-0123456789';
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

/** A site without origins (raw clients), signing with SECRET, with a key of its own. */
async function siteWithKey(config = {}) {
  const made = await newSiteWithKey({ origins: [], allowNoOrigin: true, secret: SECRET, ...config });
  assert.match(made.key, /^hck_[0-9a-f]{16}_/);
  return made;
}

test('a site key works on its own site only; missing, forged and revoked keys get 401', async () => {
  const a = await siteWithKey();
  const b = await siteWithKey();
  assert.equal((await api(a.key, 'GET', `/${a.site}`)).status, 200);
  const cross = await api(a.key, 'GET', `/${b.site}`);
  assert.deepEqual([cross.status, cross.body.error], [403, 'forbidden']);
  assert.equal((await api(a.key, 'GET', `/${b.site}/rooms`)).status, 403);
  assert.equal((await api(a.key, 'POST', `/${b.site}/rooms/r/messages`, { name: 'x', message: 'y' })).status, 403);
  for (const key of [null, 'nonsense', `${a.key}x`, a.key.replace(/_[^_]+$/, '_forged'), 'dev-admin-token']) {
    const res = await api(key, 'GET', `/${a.site}`);
    assert.equal(res.status, 401, String(key));
    assert.equal(res.body.error, 'unauthorized');
  }
  // The key is shown once: the list has ids only.
  const list = await admin('GET', `/sites/${a.site}/keys`);
  assert.deepEqual(list.body.keys.map((k) => k.id), [a.keyId]);
  // (The secret is everything after the id: base64url, so it may hold '_'.)
  assert.ok(!list.text.includes(a.key.split('_').slice(2).join('_')));
  assert.equal((await admin('DELETE', `/sites/${a.site}/keys/${a.keyId}`)).status, 200);
  assert.equal((await api(a.key, 'GET', `/${a.site}`)).status, 401, 'revoked');

  // A site deleted and created again under the same id does not take the
  // old site's keys along, even where they are still cached.
  assert.equal((await api(b.key, 'GET', `/${b.site}`)).status, 200);
  assert.equal((await admin('DELETE', `/sites/${b.site}`)).status, 200);
  assert.equal((await admin('PUT', `/sites/${b.site}`, { origins: [] })).status, 201);
  assert.equal((await api(b.key, 'GET', `/${b.site}`)).status, 401, 'the old key does not open the new site');
});

test('PATCH changes only the fields it names; so does the operator\'s PUT on an existing site', async () => {
  const { site, key } = await siteWithKey({ allowAnonymous: false, limits: { rateBurst: 7 }, origins: ['https://a.example'] });
  const patched = await api(key, 'PATCH', `/${site}`, { origins: ['https://b.example'], limits: { retention: 500 } });
  assert.equal(patched.status, 200, patched.text);
  assert.deepEqual(patched.body.origins, ['https://b.example']);
  assert.equal(patched.body.allowAnonymous, false, 'absent: kept');
  assert.deepEqual([patched.body.limits.rateBurst, patched.body.limits.retention], [7, 500]);
  assert.equal(patched.body.hasSecret, true);
  assert.ok(!patched.text.includes(SECRET));
  assert.equal((await api(key, 'PATCH', `/${site}`, { secret: 'x'.repeat(20) })).status, 400, 'secrets change through /secret');
  assert.equal((await api(key, 'PATCH', `/${site}`, { colour: 'blue' })).status, 400);
  assert.equal((await api(key, 'PATCH', `/${site}`, '{not json')).status, 400);
  const put = await admin('PUT', `/sites/${site}`, { origins: ['https://c.example'] });
  assert.equal(put.status, 200);
  assert.deepEqual([put.body.allowAnonymous, put.body.limits.rateBurst, put.body.hasSecret], [false, 7, true]);
  assert.equal((await admin('PATCH', `/sites/nope-${Date.now()}`, {})).status, 404, 'PATCH never creates');
});

test('rotating the secret keeps tokens signed with the old one valid for the grace period', async () => {
  const { site, key } = await siteWithKey();
  const room = uniqueRoom('rotate');
  const oldToken = mintToken(SECRET, { sub: 'u1', name: 'Ada', exp: inAnHour() });
  const rotated = await api(key, 'POST', `/${site}/secret`, { graceSeconds: 2 });
  assert.equal(rotated.status, 200, rotated.text);
  assert.match(rotated.body.secret, /^[0-9a-f]{64}$/, 'generated, shown once');
  assert.ok(rotated.body.previousValidUntil > Date.now());
  const fresh = mintToken(rotated.body.secret, { sub: 'u2', name: 'Bo', exp: inAnHour() });
  const during = await join(room, 'x', { site, token: oldToken });
  assert.equal(during.welcome.name, 'Ada', 'the old secret still verifies during the grace period');
  await during.close();
  await sleep(2500);
  assert.equal((await refused({ room, site, v: '1', token: oldToken })).code, 4001, 'not after it');
  const now = await join(room, 'x', { site, token: fresh });
  assert.equal(now.welcome.name, 'Bo');
  await now.close();
  const own = await api(key, 'POST', `/${site}/secret`, { secret: 'my-own-secret-0123456789', graceSeconds: 0 });
  assert.equal(own.status, 200);
  assert.equal(own.body.secret, undefined, 'a secret the caller chose is not echoed');
  assert.equal((await api(key, 'POST', `/${site}/secret`, { secret: 'short' })).status, 400);
});

test('bot messages reach live members, idempotent on id; history, deletes and moderation from the server', async () => {
  const { site, key } = await siteWithKey();
  const room = uniqueRoom('bot');
  const ada = await join(room, 'Ada', { site });
  const post = (body) => api(key, 'POST', `/${site}/rooms/${room}/messages`, body);
  const first = await post({ name: 'Helpdesk', message: 'Welcome! Ask us anything.', id: 'welcome-1' });
  assert.equal(first.status, 201, first.text);
  const live = await ada.next('message');
  assert.deepEqual([live.seq, live.name, live.role, live.message], [first.body.seq, 'Helpdesk', 'bot', 'Welcome! Ask us anything.']);
  const again = await post({ name: 'Helpdesk', message: 'Welcome! Ask us anything.', id: 'welcome-1' });
  assert.deepEqual([again.status, again.body.seq], [200, first.body.seq], 'a retry is the same message');
  assert.equal((await post({ name: 'Helpdesk', message: 'something else', id: 'welcome-1' })).status, 409);
  assert.equal((await post({ name: 'Helpdesk', message: '   ' })).status, 400);
  assert.equal((await post({ message: 'no name' })).status, 400);
  assert.equal((await post({ name: 'Helpdesk', message: 'x', replyTo: 9999 })).status, 400);

  ada.send({ type: 'send', id: 'a1', message: 'spam spam' });
  const spam = await ada.next('ack');
  const page = await api(key, 'GET', `/${site}/rooms/${room}/messages?limit=10`);
  assert.deepEqual(page.body.messages.map((m) => m.message), ['Welcome! Ask us anything.', 'spam spam']);
  const older = await api(key, 'GET', `/${site}/rooms/${room}/messages?before=${spam.seq}&limit=1`);
  assert.deepEqual([older.body.messages.length, older.body.more], [1, false]);
  assert.equal((await api(key, 'GET', `/${site}/rooms/${room}/messages?before=x`)).status, 400);

  const removed = await api(key, 'DELETE', `/${site}/rooms/${room}/messages/${spam.seq}`);
  assert.equal(removed.status, 200, removed.text);
  assert.equal((await ada.next('update')).deleted, true);
  assert.equal((await ada.next('moderation')).action, 'delete');
  assert.equal((await api(key, 'DELETE', `/${site}/rooms/${room}/messages/424242`)).status, 404);

  const mute = await api(key, 'POST', `/${site}/rooms/${room}/moderation`, { action: 'mute', sender: ada.welcome.sender, seconds: 60 });
  assert.equal(mute.status, 200, mute.text);
  ada.send({ type: 'send', id: 'a2', message: 'hello?' });
  assert.equal((await ada.next((f) => f.type === 'error' && f.id === 'a2')).code, 'muted');
  assert.equal((await api(key, 'POST', `/${site}/rooms/${room}/moderation`, { action: 'explode' })).status, 400);
  await ada.close();
});

test('export and erase a user across the site\'s rooms; live widgets and history show the tombstones', async () => {
  const { site, key } = await siteWithKey();
  const sub = `user-${Date.now()}@example.com`;
  // A moderator: her name is also in the notices of what she did.
  const token = mintToken(SECRET, { sub, name: 'Ada', role: 'moderator', exp: inAnHour() });
  const [r1, r2] = [uniqueRoom('gdpr'), uniqueRoom('gdpr')];
  const ada1 = await join(r1, 'x', { site, token });
  const ada2 = await join(r2, 'x', { site, token });
  const watcher = await join(r1, 'Bo', { site });
  let bos;
  for (const [c, text] of [[ada1, 'my phone is 555'], [ada2, 'in the other room'], [watcher, 'not hers']]) {
    c.send({ type: 'send', id: `m-${text.length}`, message: text });
    bos = (await c.next('ack')).seq;
  }
  ada1.send({ type: 'react', id: 'r1', target: bos, emoji: '👍', on: true });
  await ada1.next((f) => f.type === 'ack' && f.id === 'r1');
  // Notices that name her: one she gave, one about her.
  ada1.send({ type: 'moderate', id: 'm1', action: 'mute', sender: watcher.welcome.sender, seconds: 60 });
  await ada1.next((f) => f.type === 'ack' && f.id === 'm1');
  const unmute = await api(key, 'POST', `/${site}/rooms/${r1}/moderation`, { action: 'unmute', sender: ada1.welcome.sender });
  assert.equal(unmute.status, 200, unmute.text);
  await sleep(200);
  const path = `/${site}/users/${encodeURIComponent(sub)}`;
  const exported = await api(key, 'GET', `${path}/messages`);
  assert.equal(exported.status, 200, exported.text);
  assert.deepEqual(exported.body.messages.map((m) => [m.room, m.message]).sort(), [[r1, 'my phone is 555'], [r2, 'in the other room']].sort());
  const erased = await api(key, 'DELETE', path);
  assert.deepEqual([erased.status, erased.body.erased, erased.body.reactions, erased.body.rooms], [200, 2, 1, 2]);
  const notice = await watcher.next((f) => f.type === 'moderation' && f.action === 'purge');
  assert.equal(notice.sender, ada1.welcome.sender);
  // Her reaction on Bo's message is taken back in the open, as an update.
  const unreact = await watcher.next((f) => f.type === 'update' && f.target === bos);
  assert.deepEqual([unreact.reaction?.on, unreact.reaction?.sender, unreact.reactions?.['👍']], [false, ada1.welcome.sender, undefined]);
  assert.ok(unreact.seq > notice.seq);
  const reader = await join(r1, 'R', { site });
  const resumer = await join(r1, 'R2', { site, since: 0 });
  const notices = resumer.history.messages.filter((e) => e.type === 'moderation');
  assert.deepEqual(notices.map((n) => [n.action, n.name ?? null, n.by]),
    [['mute', 'Bo', ''], ['unmute', null, 'Site'], ['purge', null, 'Site']], 'her name is gone from the notices too');
  assert.deepEqual(reader.history.messages.map((m) => [m.name, m.message, m.deleted ?? false, Object.keys(m.reactions ?? {}).length]),
    [['', '', true, 0], ['Bo', 'not hers', false, 0]], 'her text, name and reactions are gone');
  const after = await api(key, 'GET', `${path}/messages`);
  assert.ok(after.body.messages.every((m) => m.deleted && m.message === ''));
  await Promise.all([ada1, ada2, watcher, reader, resumer].map((c) => c.close()));
});

test('users whose sub is "." or ".." are exported and erased with ?sub= (URLs drop such path segments)', async () => {
  const { site, key } = await siteWithKey();
  const room = uniqueRoom('dots');
  for (const sub of ['.', '..']) {
    const c = await join(room, 'x', { site, token: mintToken(SECRET, { sub, name: `Dot${sub.length}`, exp: inAnHour() }) });
    c.send({ type: 'send', id: 'd1', message: `written by ${sub}` });
    await c.next('ack');
    await c.close();
  }
  const q = (sub) => `?sub=${encodeURIComponent(sub)}`;
  const exported = await api(key, 'GET', `/${site}/users/_/messages${q('..')}`);
  assert.equal(exported.status, 200, exported.text);
  assert.deepEqual(exported.body.messages.map((m) => m.message), ['written by ..'], 'only the user named by ?sub=');
  // A path naming one user never acts on another: ?sub= goes with `_` only.
  const crossed = await api(key, 'DELETE', `/${site}/users/bob${q('.')}`);
  assert.deepEqual([crossed.status, crossed.body.error], [400, 'bad_request'], crossed.text);
  const erased = await api(key, 'DELETE', `/${site}/users/_${q('.')}`);
  assert.deepEqual([erased.status, erased.body.erased], [200, 1], erased.text);
  const history = await api(key, 'GET', `/${site}/rooms/${room}/messages`);
  assert.deepEqual(history.body.messages.map((m) => [m.message, m.deleted ?? false]), [['', true], ['written by ..', false]]);
});

test('the room list pages through the site\'s rooms; erasing a room disconnects its members and empties it', async () => {
  const { site, key } = await siteWithKey();
  const rooms = ['list-a', 'list-b', 'list-c'];
  for (const room of rooms) {
    const r = await api(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Bot', message: `hi ${room}` });
    assert.equal(r.status, 201, r.text);
  }
  await sleep(500);
  const first = await api(key, 'GET', `/${site}/rooms?limit=2`);
  assert.equal(first.status, 200, first.text);
  assert.deepEqual(first.body.rooms.map((r) => r.room), ['list-a', 'list-b']);
  assert.ok(first.body.rooms.every((r) => r.messages === 1 && r.lastActivity > Date.now() - 60_000));
  const second = await api(key, 'GET', `/${site}/rooms?limit=2&cursor=${first.body.next}`);
  assert.deepEqual(second.body.rooms.map((r) => r.room), ['list-c']);
  assert.equal(second.body.next, undefined);

  const member = await join('list-a', 'Ada', { site });
  const gone = await api(key, 'DELETE', `/${site}/rooms/list-a`);
  assert.equal(gone.status, 200, gone.text);
  assert.equal((await member.closed).code, 4010);
  const back = await join('list-a', 'Ada', { site });
  assert.deepEqual([back.welcome.seq, back.history.messages.length], [0, 0]);
  await back.close();
  const listed = await api(key, 'GET', `/${site}/rooms`);
  assert.deepEqual(listed.body.rooms.map((r) => r.room), ['list-b', 'list-c']);
});

test('the room list refuses a watch or cursor it cannot take (400, not ignored)', async () => {
  const { site, key } = await siteWithKey();
  assert.equal((await api(key, 'POST', `/${site}/rooms/list-q/messages`, { name: 'Bot', message: 'hi' })).status, 201);
  for (const query of ['watch=yes', 'watch=true', 'watch=0', 'watch=', 'watch=11', `cursor=${'a'.repeat(65)}`,
    'cursor=a%2Fb', 'cursor=%00', `cursor=${'x'.repeat(8000)}&watch=1`]) {
    const r = await api(key, 'GET', `/${site}/rooms?${query}`);
    assert.deepEqual([r.status, r.body?.error], [400, 'bad_request'], `${query.slice(0, 40)}: ${r.text.slice(0, 200)}`);
    assert.ok(r.body.message, 'says why');
  }
  for (const query of ['watch=1', 'cursor=', 'cursor=list-a&watch=1', 'limit=1&watch=1']) {
    const r = await api(key, 'GET', `/${site}/rooms?${query}`);
    assert.equal(r.status, 200, `${query}: ${r.text}`);
  }
  // Export and erasure page through the same list with `after`.
  const bad = await api(key, 'GET', `/${site}/users/ada/messages?after=a%2Fb`);
  assert.deepEqual([bad.status, bad.body?.error], [400, 'bad_request'], bad.text);
  assert.equal((await api(key, 'GET', `/${site}/users/ada/messages?after=list-a`)).status, 200);
});

test('the room list catches up when a busy room goes quiet (a trailing report)', async () => {
  const { site, key } = await siteWithKey();
  const room = uniqueRoom('quiet');
  let last;
  for (let i = 1; i <= 4; i++) {
    last = await api(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Bot', message: `burst ${i}` });
    assert.equal(last.status, 201, last.text);
  }
  // The first post reports at once; the others fall inside the report
  // interval, and nothing more happens in the room.
  let entry;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    entry = (await api(key, 'GET', `/${site}/rooms`)).body.rooms.find((r) => r.room === room);
    if (entry?.messages === 4) break;
    await sleep(250);
  }
  assert.equal(entry?.messages, 4, JSON.stringify(entry));
  assert.ok(entry.lastActivity >= last.body.timestamp, JSON.stringify({ entry, last: last.body }));
});

test('retention by age deletes what is older than the site\'s days, the newest message too; seqs go on', async () => {
  // The test server's "day" is 2 seconds (RETENTION_DAY_MS, set by the test runner).
  const { site, key } = await siteWithKey({ limits: { retentionDays: 1 } });
  const room = uniqueRoom('age');
  await api(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Bot', message: 'old' });
  await sleep(2500);
  await api(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Bot', message: 'new' });
  let texts = [];
  for (let i = 0; i < 20; i++) {
    await sleep(500);
    texts = (await api(key, 'GET', `/${site}/rooms/${room}/messages`)).body.messages.map((m) => m.message);
    if (texts.length === 1) break;
  }
  assert.deepEqual(texts, ['new']);
  // A quiet room keeps nothing past its days, not even its last message.
  for (let i = 0; i < 20 && texts.length; i++) {
    await sleep(500);
    texts = (await api(key, 'GET', `/${site}/rooms/${room}/messages`)).body.messages.map((m) => m.message);
  }
  assert.deepEqual(texts, [], 'the newest message goes too once it is older');
  // Its seqs go on where they were, so a client resuming by `since` misses nothing new.
  const again = await api(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Bot', message: 'again' });
  assert.equal(again.status, 201, again.text);
  assert.ok(again.body.seq >= 3, `seq ${again.body.seq} follows the deleted ones`);
  const c = await join(room, 'Ada', { site, since: '2' });
  assert.deepEqual(c.history.messages.map((m) => m.message), ['again']);
  await c.close();
});

// The site's moderation rules reach a room with every API call, not only
// with a member's join: a bot post into a room nobody had opened skipped
// the word filter (stored, and sent to webhooks, as written).
test('a bot post follows the word filter even into a room no member has opened', async () => {
  const { site, key } = await newSiteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true,
    moderation: { words: ['spamword'], filterAction: 'block' } }, 'apiflt');
  const room = uniqueRoom('filter');
  const blocked = await api(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Acme Bot', message: 'buy spamword now' });
  assert.deepEqual([blocked.status, blocked.body.error], [400, 'blocked'], JSON.stringify(blocked.body));
  const fine = await api(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Acme Bot', message: 'all good' });
  assert.equal(fine.status, 201);
  const listed = await api(key, 'GET', `/${site}/rooms/${room}/messages`);
  assert.deepEqual(listed.body.messages.map((m) => m.message), ['all good']);
});

// `after` reads events: a run of reactions made a page of no message that
// still said `more` (a client following the last seq it got was stuck).
test('paging messages with after never answers an empty page while more messages come', async () => {
  const { site, key } = await newSiteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true }, 'apipg');
  const room = uniqueRoom('pages');
  for (const text of ['one', 'two', 'three']) {
    assert.equal((await api(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Bot', message: text })).status, 201);
  }
  const ada = await join(room, 'Ada', { site });
  let n = 0;
  for (const [target, emoji] of [[1, '👍'], [1, '❤️'], [2, '👍'], [2, '❤️'], [3, '👍']]) {
    ada.send({ type: 'react', id: `r${n++}`, target, emoji, on: true });
    await ada.next('ack');
  }
  await ada.close();
  const page = async (q) => (await api(key, 'GET', `/${site}/rooms/${room}/messages?${q}`)).body;
  const texts = (p) => p.messages.map((m) => m.message);
  let p = await page('after=0&limit=2');
  assert.deepEqual([texts(p), p.more], [['one', 'two'], true]);
  p = await page(`after=${p.next}&limit=2`);
  assert.deepEqual([texts(p), p.more], [['three'], false], 'the reactions after it are read past');
  p = await page('after=3&limit=2');
  assert.deepEqual([texts(p), p.more], [[], false], 'only reactions after seq 3: an empty last page');
});

test('a post or moderation body of the wrong shape is 400 bad_request, as the error table says', async () => {
  const { site, key } = await newSiteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true }, 'apishape');
  const room = uniqueRoom('shape');
  for (const body of [{ name: 'Bot', message: 5 }, { name: 'Bot' }, { name: 'Bot', message: 'x', replyTo: '1' }]) {
    const r = await api(key, 'POST', `/${site}/rooms/${room}/messages`, body);
    assert.deepEqual([r.status, r.body.error], [400, 'bad_request'], JSON.stringify(body));
  }
  const r = await api(key, 'POST', `/${site}/rooms/${room}/moderation`, { action: 'explode' });
  assert.deepEqual([r.status, r.body.error], [400, 'bad_request']);
  const list = await api(key, 'POST', `/${site}/rooms/${room}/moderation`, [{ action: 'lock' }]);
  assert.deepEqual([list.status, list.body.error, list.body.message], [400, 'bad_request', 'the body must be a JSON object']);
  const ok = await api(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Bot', message: '' });
  assert.deepEqual([ok.status, ok.body.error], [400, 'empty'], 'a refusal of the text keeps its own code');
});

test('a body naming a field it does not take is refused, not half-applied: a typo never mutes for good', async () => {
  const { site, key } = await siteWithKey();
  const room = uniqueRoom('typo');
  const path = `/${site}/rooms/${room}`;
  const bo = await join(room, 'Bo', { site });
  // "second" for "seconds": taken as a mute without an end, Bo would be muted for good.
  const typo = await api(key, 'POST', `${path}/moderation`, { action: 'mute', sender: bo.welcome.sender, second: 600 });
  assert.deepEqual([typo.status, typo.body.error], [400, 'bad_request'], JSON.stringify(typo.body));
  assert.match(typo.body.message, /"second"/, 'the message names the field');
  // A mute of no time would be announced to the room and over at once.
  const zero = await api(key, 'POST', `${path}/moderation`, { action: 'mute', sender: bo.welcome.sender, seconds: 0 });
  assert.deepEqual([zero.status, zero.body.error], [400, 'bad_request'], JSON.stringify(zero.body));
  assert.match(zero.body.message, /at least 1; leave it out for good/);
  const glance = await api(key, 'GET', path);
  assert.deepEqual(glance.body.muted, [], 'nobody was muted');
  // The id a client would send on a socket is not the API's: it would look like a retry key and not be one.
  assert.equal((await api(key, 'POST', `${path}/moderation`, { action: 'lock', id: 'lock-1' })).status, 400);
  assert.equal((await api(key, 'GET', path)).body.locked, false);
  // A post with "replyto" (lower case) would go out as no reply at all.
  const post = await api(key, 'POST', `${path}/messages`, { name: 'Bot', message: 'see above', replyto: 1 });
  assert.deepEqual([post.status, post.body.error], [400, 'bad_request'], JSON.stringify(post.body));
  assert.match(post.body.message, /"replyto"/);
  assert.deepEqual((await api(key, 'GET', `${path}/messages`)).body.messages, [], 'nothing was posted');
  // The documented fields still work.
  const ok = await api(key, 'POST', `${path}/moderation`, { action: 'mute', sender: bo.welcome.sender, seconds: 600, reason: 'cool off' });
  assert.equal(ok.status, 200);
  assert.equal((await api(key, 'POST', `${path}/messages`, { name: 'Bot', message: 'hi', id: 'b1' })).status, 201);
  await bo.close();
});

test('the key\'s scheme is case-insensitive; a 429 says when to retry', async () => {
  const { site, key } = await newSiteWithKey({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true,
    limits: { rateBurst: 1, ratePerSec: 0.1 } }, 'apihdr');
  const lower = await fetch(`${BASE}/v1/sites/${site}`, { headers: { authorization: `bearer ${key}` } });
  assert.equal(lower.status, 200, 'RFC 9110: the auth scheme is case-insensitive');
  const room = uniqueRoom('hdr');
  const post = (i) => fetch(`${BASE}/v1/sites/${site}/rooms/${room}/messages`, {
    method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Bot', message: `m${i}` }),
  });
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push(await post(i));
  const limited = answers.find((r) => r.status === 429);
  assert.ok(limited, `statuses: ${answers.map((r) => r.status)}`);
  assert.equal(limited.headers.get('retry-after'), '1');
});

test('an invalid id in a path is 400 bad_request; a well-formed id that does not exist stays 404', async () => {
  const { site, key } = await siteWithKey();
  const hook = { url: 'https://hooks.example.com/in', events: ['moderation'], secret: 'whsec-0123456789abcdef' };
  const bad = async (answer, what) => {
    const res = await answer;
    assert.deepEqual([res.status, res.body?.error], [400, 'bad_request'], `${what}: ${res.text}`);
  };
  // Room ids are [A-Za-z0-9_-]{1,64}.
  for (const room of ['bad!room', 'bad.room', 'r'.repeat(65), 'caf%C3%A9']) {
    await bad(api(key, 'GET', `/${site}/rooms/${room}/messages`), `GET messages of ${room}`);
    await bad(api(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Bot', message: 'hi' }), `POST to ${room}`);
    await bad(api(key, 'POST', `/${site}/rooms/${room}/moderation`, { action: 'lock' }), `moderate ${room}`);
    await bad(api(key, 'DELETE', `/${site}/rooms/${room}`), `DELETE ${room}`);
    await bad(api(key, 'DELETE', `/${site}/rooms/${room}/messages/1`), `DELETE a message of ${room}`);
  }
  // A seq is 1 to 2^53-1.
  for (const seq of ['abc', '0', '-1', '1.5', '9007199254740992']) {
    await bad(api(key, 'DELETE', `/${site}/rooms/lobby/messages/${seq}`), `seq ${seq}`);
  }
  // Webhook names are [a-z0-9-]{1,32}.
  for (const name of ['Bad_Name', 'h'.repeat(33), 'bad!hook']) {
    await bad(api(key, 'GET', `/${site}/webhooks/${name}`), `GET webhook ${name}`);
    await bad(api(key, 'PUT', `/${site}/webhooks/${name}`, hook), `PUT webhook ${name}`);
    await bad(api(key, 'DELETE', `/${site}/webhooks/${name}`), `DELETE webhook ${name}`);
  }
  // A site id that cannot be one: 400 for a valid key (not 403: it is no one's site), 401 without one.
  await bad(api(key, 'GET', '/Bad_Site'), 'an invalid site id');
  await bad(api(key, 'GET', `/${'s'.repeat(33)}/rooms`), 'a site id too long');
  const anonymous = await api(null, 'GET', '/Bad_Site');
  assert.deepEqual([anonymous.status, anonymous.body.error], [401, 'unauthorized'], 'the key is checked first');
  assert.equal((await api(null, 'GET', `/${site}/rooms/bad!room/messages`)).status, 401, 'the key is checked first');
  // The operator API: key ids are 16 hex digits; fan-out objects take a room id and a number.
  await bad(admin('DELETE', `/sites/${site}/keys/not-a-key-id`), 'an invalid key id');
  await bad(admin('GET', `/sites/${site}/rooms/bad!room/fanout/0`), 'fan-out of an invalid room');
  await bad(admin('GET', `/sites/${site}/rooms/lobby/fanout/x`), 'fan-out object x');

  // Well-formed ids of things that do not exist: 404 not_found.
  const missing = [
    await api(key, 'GET', `/${site}/webhooks/nope`),
    await api(key, 'DELETE', `/${site}/webhooks/nope`),
    await api(key, 'DELETE', `/${site}/rooms/lobby/messages/424242`),
    await admin('DELETE', `/sites/${site}/keys/0123456789abcdef`),
  ];
  assert.deepEqual(missing.map((r) => [r.status, r.body.error]), Array(4).fill([404, 'not_found']));
});

test('a deleted site\'s key is 401 like any key that is not valid, on every path (the site\'s past is not revealed)', async () => {
  const gone = await siteWithKey();
  const other = await siteWithKey();
  assert.equal((await api(gone.key, 'GET', `/${gone.site}`)).status, 200);
  assert.equal((await admin('DELETE', `/sites/${gone.site}`)).status, 200);
  for (const [method, path, body] of [
    ['GET', `/${gone.site}`],
    ['GET', `/${gone.site}/rooms`],
    ['POST', `/${gone.site}/rooms/lobby/messages`, { name: 'Bot', message: 'hi' }],
    ['GET', `/${gone.site}/webhooks`],
    ['GET', `/${gone.site}/rooms/bad!room/messages`],
    ['GET', `/${other.site}`],
    ['GET', '/Bad_Site'],
  ]) {
    const res = await api(gone.key, method, path, body);
    assert.deepEqual([res.status, res.body.error], [401, 'unauthorized'], `${method} ${path}: ${res.text}`);
  }
  const res = await fetch(`${BASE}/v1/sites/${gone.site}`, { headers: { authorization: `Bearer ${gone.key}` } });
  assert.equal(res.headers.get('www-authenticate'), 'Bearer');
  const unknown = await api(`hck_0123456789abcdef_${'A'.repeat(43)}`, 'GET', `/${gone.site}`);
  assert.equal(unknown.body.message, (await api(gone.key, 'GET', `/${gone.site}`)).body.message,
    'the same answer as a key that never existed');
});

test('HEAD answers as GET would, without the body, wherever GET is answered (RFC 9110)', async () => {
  const { site, key } = await siteWithKey();
  const auth = { authorization: `Bearer ${key}` };
  const room = uniqueRoom('head');
  assert.equal((await api(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Bot', message: 'hi' })).status, 201);
  for (const [path, headers] of [[`/v1/sites/${site}`, auth], [`/v1/sites/${site}/rooms/${room}/messages`, auth],
    [`/admin/sites/${site}`, { authorization: `Bearer ${ADMIN_TOKEN}` }], ['/health', {}]]) {
    const [get, head] = [await fetch(`${BASE}${path}`, { headers }), await fetch(`${BASE}${path}`, { method: 'HEAD', headers })];
    assert.equal(get.status, 200, path);
    assert.deepEqual([head.status, head.headers.get('content-type'), await head.text()], [200, get.headers.get('content-type'), ''], `HEAD ${path}`);
  }
  // What GET refuses, HEAD refuses the same way (no key: 401; a path that takes no GET: 405).
  const anonymous = await fetch(`${BASE}/v1/sites/${site}`, { method: 'HEAD' });
  assert.deepEqual([anonymous.status, anonymous.headers.get('www-authenticate')], [401, 'Bearer']);
  const secret = await fetch(`${BASE}/v1/sites/${site}/secret`, { method: 'HEAD', headers: auth });
  assert.deepEqual([secret.status, secret.headers.get('allow')], [405, 'POST']);
  // A HEAD asking to upgrade opens no socket. (wrangler dev's proxy hands such a request on as
  // a GET and then fails it with 500; on Cloudflare the Worker sees the HEAD and answers 426.)
  const upgrade = await new Promise((resolve, reject) => {
    const req = http.request(new URL(`/ws?room=${room}&v=1`, BASE), { method: 'HEAD',
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
    req.on('response', (res) => { res.resume(); resolve(res.statusCode); });
    req.on('upgrade', () => resolve(101));
    req.on('error', reject);
    req.end();
  });
  assert.notEqual(upgrade, 101);
  assert.equal((await fetch(`${BASE}/health`)).status, 200);
});

test('JSON answers, errors included, are never sniffed into another type', async () => {
  const { site, key } = await siteWithKey();
  for (const [path, token, status] of [[`/v1/sites/${site}`, key, 200], [`/v1/sites/${site}`, 'wrong', 401],
    [`/v1/sites/${site}/rooms/${'x'.repeat(300)}`, key, 400], ['/admin/sites', ADMIN_TOKEN, 200],
    [`/v1/sites/${site}/rooms/lobby/reports`, key, 200]]) {
    const res = await fetch(`${BASE}${path}`, { headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual([res.status, res.headers.get('content-type'), res.headers.get('x-content-type-options')],
      [status, 'application/json; charset=utf-8', 'nosniff'], path);
  }
});

test('every 405 names the methods the path takes in Allow (RFC 9110)', async () => {
  const { site, key } = await siteWithKey();
  const methods = (header) => (header ?? '').split(',').map((m) => m.trim()).filter(Boolean).sort();
  const check = async (method, path, token, allow) => {
    const res = await fetch(`${BASE}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
    const body = await res.json().catch(() => null);
    assert.deepEqual([res.status, body?.error], [405, 'method_not_allowed'], `${method} ${path}`);
    assert.deepEqual(methods(res.headers.get('allow')), [...allow].sort(), `Allow of ${method} ${path}`);
  };
  const v1 = `/v1/sites/${site}`;
  for (const [method, path, allow] of [
    ['POST', '', ['GET', 'HEAD', 'PATCH']],
    ['GET', '/secret', ['POST']],
    ['POST', '/rooms', ['GET', 'HEAD']],
    ['POST', '/rooms/lobby', ['GET', 'HEAD', 'DELETE']],
    ['PUT', '/rooms/lobby/messages', ['GET', 'HEAD', 'POST']],
    ['GET', '/rooms/lobby/messages/1', ['DELETE']],
    ['GET', '/rooms/lobby/moderation', ['POST']],
    ['GET', '/users/ada', ['DELETE']],
    ['DELETE', '/users/ada/messages', ['GET', 'HEAD']],
    ['POST', '/webhooks', ['GET', 'HEAD']],
    ['POST', '/webhooks/main', ['GET', 'HEAD', 'PUT', 'DELETE']],
  ]) await check(method, `${v1}${path}`, key, allow);
  for (const [method, path, allow] of [
    ['POST', '/admin/sites', ['GET', 'HEAD']],
    ['POST', `/admin/sites/${site}`, ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE']],
    ['DELETE', `/admin/sites/${site}/keys`, ['GET', 'HEAD', 'POST']],
    ['GET', `/admin/sites/${site}/keys/0123456789abcdef`, ['DELETE']],
    ['DELETE', `/admin/sites/${site}/rooms/lobby/fanout/0`, ['GET', 'HEAD']],
    ['GET', `/admin/sites/${site}/rooms/lobby/fanout/0/restart`, ['POST']],
  ]) await check(method, path, ADMIN_TOKEN, allow);
  await check('POST', '/health', null, ['GET', 'HEAD']);
  await check('POST', '/ws', null, ['GET', 'HEAD']);
  await check('POST', '/files/some-file', null, ['GET', 'HEAD']);
  await check('GET', '/uploads/some-ticket', null, ['PUT', 'OPTIONS']);
});

test('a policy change reaches a room whose members are already connected, within a few seconds', { timeout: 60_000 }, async (t) => {
  const { site, key } = await siteWithKey();
  const room = uniqueRoom('live-policy');
  const eve = await join(room, 'Eve', { site });
  let n = 0;
  const send = async (message) => {
    const id = `m${n++}`;
    eve.send({ type: 'send', id, message });
    return eve.next((f) => f.id === id && (f.type === 'ack' || f.type === 'error'));
  };
  assert.equal((await send('spam is fine for now')).type, 'ack');
  assert.equal((await send('y'.repeat(60))).type, 'ack');

  // Until when does the room judge by the old policy? `changed` is when the
  // answer to the change came back.
  const untilRefused = async (message, code) => {
    const changed = Date.now();
    let answer;
    while (Date.now() < changed + 10_000) {
      answer = await send(message);
      if (answer.type === 'error') break;
      await sleep(200);
    }
    assert.deepEqual([answer.type, answer.code], ['error', code], `${message.slice(0, 20)}: still judged by the old policy after 10 s`);
    return Date.now() - changed;
  };
  const patched = await api(key, 'PATCH', `/${site}`, { moderation: { words: ['spam'], filterAction: 'block' } });
  assert.equal(patched.status, 200, patched.text);
  const wordsMs = await untilRefused('spam again', 'blocked');
  assert.ok(wordsMs < 5_000, `the site API's new filter word applies within a few seconds (${wordsMs} ms)`);

  // The operator's API, and a limit rather than the moderation policy.
  const limited = await admin('PATCH', `/sites/${site}`, { limits: { maxMessageChars: 50 } });
  assert.equal(limited.status, 200, limited.text);
  const limitMs = await untilRefused('z'.repeat(60), 'too_long');
  assert.ok(limitMs < 5_000, `the operator's new limit applies within a few seconds (${limitMs} ms)`);
  assert.equal((await send('short and clean')).type, 'ack', 'the rest still goes through');
  t.diagnostic(`a new filter word applied after ${wordsMs} ms, a new limit after ${limitMs} ms`);

  // Loosening reaches it too.
  assert.equal((await api(key, 'PATCH', `/${site}`, { moderation: { words: [] } })).status, 200);
  const loosened = Date.now();
  let answer;
  while (Date.now() < loosened + 10_000) {
    answer = await send('spam is fine again');
    if (answer.type === 'ack') break;
    await sleep(200);
  }
  assert.equal(answer.type, 'ack', 'a word taken off the list is allowed again');
  await eve.close();
});

test('a room at a glance: who is online, its lock, slow mode, pin, and the mutes and bans in force', async () => {
  const { site, key } = await siteWithKey();
  const room = uniqueRoom('glance');
  const path = `/${site}/rooms/${room}`;
  const quiet = await api(key, 'GET', path);
  assert.equal(quiet.status, 200);
  assert.deepEqual(quiet.body, { online: 0, locked: false, slowMode: 0, pinned: null, muted: [], banned: [] });
  const eve = await join(room, 'Eve', { site });
  const bo = await join(room, 'Bo', { site });
  eve.send({ type: 'send', id: 'e1', message: 'read the rules' });
  const { seq } = await eve.next('ack');
  const moderate = async (body) => {
    const res = await api(key, 'POST', `${path}/moderation`, body);
    assert.equal(res.status, 200, JSON.stringify([body, res.body]));
  };
  const before = Date.now();
  await moderate({ action: 'mute', sender: bo.welcome.sender, seconds: 600 });
  await moderate({ action: 'ban', sender: eve.welcome.sender });
  await moderate({ action: 'slow', seconds: 30 });
  await moderate({ action: 'lock' });
  await moderate({ action: 'pin', target: seq });
  const { status, body } = await api(key, 'GET', path);
  assert.equal(status, 200);
  assert.equal(body.online, 1, 'Eve was banned out; Bo is here');
  assert.equal(body.locked, true);
  assert.equal(body.slowMode, 30);
  assert.deepEqual([body.pinned.seq, body.pinned.message, body.pinned.name], [seq, 'read the rules', 'Eve']);
  assert.equal(body.muted.length, 1);
  assert.equal(body.muted[0].sender, bo.welcome.sender);
  assert.ok(body.muted[0].until >= before + 600_000 && body.muted[0].until <= Date.now() + 600_000);
  assert.deepEqual(body.banned, [{ sender: eve.welcome.sender, until: null }], 'for good');
  await moderate({ action: 'unmute', sender: bo.welcome.sender });
  await moderate({ action: 'unlock' });
  const after = await api(key, 'GET', path);
  assert.deepEqual([after.body.muted, after.body.locked], [[], false]);
  // Another site's key cannot look.
  const other = await siteWithKey();
  assert.equal((await api(other.key, 'GET', path)).status, 403);
  await Promise.all([eve.close(), bo.close()]);
});
