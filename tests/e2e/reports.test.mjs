// Reports (flags) attacked over raw WebSockets and the site API, against the
// real worker: reporting one's own message, a notice, a tombstone, another
// room's seq; floods; repeats; a member trying to dismiss or to learn who
// reported; the workshop front end never hearing of reports; reports
// surviving a restart, and going with a deleted message or an erased user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createHmac } from 'node:crypto';
import { startServer } from '../../scripts/lib/server.mjs';
import { act, admin, Client, join, mintToken, post, siteApi, siteWithKey, sleep, uniqueRoom } from './helpers.mjs';

const SECRET = 'reports-signing-secret-0123456789';
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const config = {
  origins: [], allowNoOrigin: true, secret: SECRET,
  limits: { addressBurst: 1000, addressPerSec: 100, maxConnectionsPerAddress: 100, rateBurst: 50, ratePerSec: 20 },
};
const moderatorToken = (sub = 'mo-1', name = 'Mo') => mintToken(SECRET, { sub, name, role: 'moderator', exp: inAnHour() });
const userToken = (sub, name) => mintToken(SECRET, { sub, name, exp: inAnHour() });
/** Anonymous members count once per address (a fresh key is a private window away): give each its own. */
const from = (ip) => ({ headers: { 'cf-connecting-ip': ip } });
const report = (c, target, reason = 'spam', extra = {}) => act(c, { type: 'report', target, reason, ...extra });
/** Wait until `c` has answered a fresh frame: everything sent to it before has arrived. */
const synced = async (c) => assert.equal((await act(c, { type: 'react', target: 0, emoji: '👍', on: true })).type, 'error');

test('a report is acked and told to moderators only, once per member, never naming the reporter', async () => {
  const { site } = await siteWithKey(config, 'rep');
  const room = uniqueRoom('flag');
  const ada = await join(room, 'Ada', { site });
  const bo = await join(room, 'Bo', { site }, from('192.0.2.2'));
  const cy = await join(room, 'Cy', { site }, from('192.0.2.3'));
  const mo = await join(room, 'x', { site, token: moderatorToken() });
  const workshop = await Client.connect({ room, name: 'Old', site });
  const seq = await post(ada, 'buy cheap pills');

  const ack = await report(bo, seq, 'spam', { note: 'ads, again' });
  assert.deepEqual([ack.type, ack.seq], ['ack', seq], JSON.stringify(ack));
  const told = await mo.next('reported');
  assert.deepEqual(told, { type: 'reported', target: seq, reports: 1, reasons: { spam: 1 } });
  assert.ok(!JSON.stringify(told).includes(bo.welcome.sender), 'counts, not who');

  // A repeat, under a new id, is acked and counted once.
  const again = await report(bo, seq, 'harassment');
  assert.deepEqual([again.type, again.seq, again.timestamp], ['ack', seq, ack.timestamp]);
  assert.equal((await report(cy, seq, 'harassment')).type, 'ack');
  assert.deepEqual(await mo.next('reported'), { type: 'reported', target: seq, reports: 2, reasons: { spam: 1, harassment: 1 } });

  // Members never hear of it; nor does the workshop front end.
  await Promise.all([ada, bo, cy].map(synced));
  for (const c of [ada, bo, cy]) assert.equal(c.all('reported').length, 0);
  await sleep(300);
  assert.ok(workshop.frames.every((f) => f.type === undefined && !JSON.stringify(f).includes('report')), JSON.stringify(workshop.frames));

  // A member cannot dismiss, nor learn counts from a welcome.
  const dismiss = await act(bo, { type: 'moderate', action: 'dismiss', target: seq });
  assert.equal(dismiss.code, 'not_allowed');
  const dee = await join(room, 'Dee', { site, token: userToken('dee', 'Dee') });
  assert.equal(dee.welcome.reports, undefined);
  // A moderator joining sees the open counts.
  const mo2 = await join(room, 'x', { site, token: moderatorToken('mo-2', 'Mia') });
  assert.deepEqual(mo2.welcome.reports, [{ target: seq, reports: 2, reasons: { spam: 1, harassment: 1 } }]);

  // A moderator dismisses: the moderators hear 0, members nothing.
  const done = await act(mo, { type: 'moderate', action: 'dismiss', target: seq });
  assert.deepEqual([done.type, done.seq], ['ack', seq]);
  assert.deepEqual(await mo2.next('reported'), { type: 'reported', target: seq, reports: 0, reasons: {} });
  await Promise.all([ada, bo, cy].map(synced));
  for (const c of [ada, bo, cy]) {
    assert.equal(c.all('reported').length, 0);
    assert.ok(!c.frames.some((f) => f.type === 'moderation' && f.action === 'dismiss'), 'no notice');
  }
  const mo3 = await join(room, 'x', { site, token: moderatorToken('mo-3', 'Max') });
  assert.equal(mo3.welcome.reports, undefined, 'nothing open');
  await Promise.all([ada, bo, cy, mo, mo2, mo3, dee, workshop].map((c) => c.close()));
});

test('one\'s own message, notices, tombstones, unknown seqs and other rooms\' seqs cannot be reported', async () => {
  const { site, key } = await siteWithKey(config, 'rep');
  const [roomA, roomB] = [uniqueRoom('a'), uniqueRoom('b')];
  const ada = await join(roomA, 'Ada', { site });
  const mo = await join(roomA, 'x', { site, token: moderatorToken() });
  const seqs = [];
  for (let i = 0; i < 5; i++) seqs.push(await post(ada, `a${i}`));
  const gone = await post(mo, 'to be deleted');
  assert.equal((await act(mo, { type: 'delete', target: gone })).type, 'ack');
  const lock = await act(mo, { type: 'moderate', action: 'lock' });
  await act(mo, { type: 'moderate', action: 'unlock' });

  const eve = await join(roomB, 'Eve', { site });
  const only = await post(eve, 'the only message here');
  assert.equal((await report(eve, only)).code, 'not_allowed', 'own message');
  // Room A's seqs mean nothing in room B.
  for (const target of [seqs[4], gone, lock.seq, 0, 2 ** 53 - 1]) {
    const a = await report(eve, target);
    assert.equal(a.code, 'not_found', `target ${target}: ${JSON.stringify(a)}`);
  }
  // In room A: a tombstone, a notice, an unknown seq.
  const bo = await join(roomA, 'Bo', { site });
  assert.equal((await report(bo, gone)).code, 'not_found');
  assert.equal((await report(bo, lock.seq)).code, 'not_found');
  assert.equal((await report(bo, 999)).code, 'not_found');
  assert.equal((await report(ada, seqs[0])).code, 'not_allowed');
  // Malformed: clear errors, the id kept.
  for (const bad of [{ reason: 'ugly' }, { reason: 'spam', note: 'x'.repeat(201) }, { reason: 'spam', note: 5 }]) {
    const a = await act(bo, { type: 'report', target: seqs[0], ...bad });
    assert.equal(a.code, 'bad_frame', JSON.stringify(a));
    assert.ok(a.id);
  }
  assert.equal((await siteApi(key, 'GET', `/${site}/rooms/${roomA}/reports`)).body.reports.length, 0);
  assert.equal((await siteApi(key, 'GET', `/${site}/rooms/${roomB}/reports`)).body.reports.length, 0);
  await Promise.all([ada, mo, eve, bo].map((c) => c.close()));
});

test('a flood of reports is cut at 10 a minute, and reconnecting does not reset it', async () => {
  const { site } = await siteWithKey(config, 'rep');
  const room = uniqueRoom('flood');
  const ada = await join(room, 'Ada', { site });
  const seqs = [];
  for (let i = 0; i < 25; i++) seqs.push(await post(ada, `m${i}`));
  const mo = await join(room, 'x', { site, token: moderatorToken() });
  const bot = await join(room, 'Bot', { site });
  const codes = [];
  for (const s of seqs.slice(0, 15)) {
    const a = await report(bot, s);
    codes.push(a.type === 'ack' ? 'ack' : a.code);
  }
  const acked = codes.filter((c) => c === 'ack').length;
  assert.equal(acked, 10, codes.join());
  const last = await report(bot, seqs[20]);
  assert.equal(last.code, 'rate_limited');
  assert.match(last.message, /10 reports a minute/);
  // The same sender, back on a new connection: still limited.
  const back = await join(room, 'Bot', { site }, { protocols: ['hello-chat.v1', `hc-key.${bot.welcome.senderKey}`] });
  assert.equal(back.welcome.sender, bot.welcome.sender);
  assert.equal((await report(back, seqs[21])).code, 'rate_limited');
  // Moderators heard of ten, not more.
  await synced(mo);
  assert.equal(mo.all('reported').length, 10);
  await Promise.all([ada, mo, bot, back].map((c) => c.close()));
});

/** A webhook receiver that keeps what it is sent. */
function receiver() {
  const got = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => { got.push({ headers: req.headers, body, event: JSON.parse(body) }); res.writeHead(204).end(); });
  });
  return { got, server, listen: () => new Promise((r) => server.listen(0, '127.0.0.1', () => r(server.address().port))) };
}

test('the site hears each report by webhook, lists them newest first, dismisses them; deleting the message removes them', async () => {
  const { site, key } = await siteWithKey(config, 'rep');
  const rx = receiver();
  const port = await rx.listen();
  const hookSecret = 'whsec-reports-0123456789';
  const put = await siteApi(key, 'PUT', `/${site}/webhooks/flags`, { url: `http://127.0.0.1:${port}/hook`, events: ['report'], secret: hookSecret });
  assert.equal(put.status, 201, put.text);
  const room = uniqueRoom('api');
  const ada = await join(room, 'Ada', { site, token: userToken('ada', 'Ada') });
  const bo = await join(room, 'Bo', { site }, from('192.0.2.2'));
  const cy = await join(room, 'Cy', { site }, from('192.0.2.3'));
  const mo = await join(room, 'x', { site, token: moderatorToken() });
  const one = await post(ada, 'first');
  const two = await post(ada, 'second');
  assert.equal((await report(bo, one, 'spam', { note: 'link farm' })).type, 'ack');
  assert.equal((await report(cy, one, 'other')).type, 'ack');
  assert.equal((await report(bo, two, 'harassment')).type, 'ack');

  const deadline = Date.now() + 15000;
  while (rx.got.length < 3 && Date.now() < deadline) await sleep(200);
  assert.equal(rx.got.length, 3, 'one event per report');
  const first = rx.got[0];
  assert.equal(first.headers['hello-chat-event'], 'report');
  const [, t, v1] = /^t=(\d+),v1=([0-9a-f]+)$/.exec(first.headers['hello-chat-signature']);
  assert.equal(createHmac('sha256', hookSecret).update(`${t}.${first.body}`).digest('hex'), v1, 'signed like every event');
  const e = first.event;
  assert.deepEqual([e.type, e.site, e.room], ['report', site, room]);
  assert.deepEqual([e.data.target, e.data.reason, e.data.note, e.data.reports], [one, 'spam', 'link farm', 1]);
  assert.deepEqual(e.data.reporter, { sender: bo.welcome.sender, name: 'Bo', verified: false });
  assert.deepEqual([e.data.message.seq, e.data.message.message, e.data.message.name, e.data.message.sender], [one, 'first', 'Ada', ada.welcome.sender]);
  assert.equal(rx.got[1].event.data.reports, 2, 'the count so far');
  assert.equal(new Set(rx.got.map((g) => g.event.id)).size, 3, 'unique delivery ids');

  // Listed newest first, paged.
  const page1 = await siteApi(key, 'GET', `/${site}/rooms/${room}/reports?limit=2`);
  assert.equal(page1.status, 200, page1.text);
  assert.deepEqual(page1.body.reports.map((r) => [r.target, r.reason]), [[two, 'harassment'], [one, 'other']]);
  assert.equal(page1.body.more, true);
  const page2 = await siteApi(key, 'GET', `/${site}/rooms/${room}/reports?limit=2&before=${page1.body.next}`);
  assert.deepEqual(page2.body.reports.map((r) => [r.target, r.reason, r.note, r.reports, r.reporter.name]), [[one, 'spam', 'link farm', 2, 'Bo']]);
  assert.equal(page2.body.more, false);
  for (const bad of ['?limit=0', '?limit=101', '?before=x']) {
    assert.equal((await siteApi(key, 'GET', `/${site}/rooms/${room}/reports${bad}`)).status, 400, bad);
  }
  assert.equal((await siteApi(key, 'POST', `/${site}/rooms/${room}/reports`, {})).status, 405);

  // Dismissed through the API: gone from the list, moderators told.
  mo.read = mo.frames.length;
  const dismissed = await siteApi(key, 'POST', `/${site}/rooms/${room}/moderation`, { action: 'dismiss', target: two });
  assert.equal(dismissed.status, 200, dismissed.text);
  assert.deepEqual(await mo.next('reported'), { type: 'reported', target: two, reports: 0, reasons: {} });
  assert.deepEqual((await siteApi(key, 'GET', `/${site}/rooms/${room}/reports`)).body.reports.map((r) => r.target), [one, one]);

  // The author deletes the message: its reports go with it.
  assert.equal((await act(ada, { type: 'delete', target: one })).type, 'ack');
  assert.deepEqual((await siteApi(key, 'GET', `/${site}/rooms/${room}/reports`)).body.reports, []);
  const mo2 = await join(room, 'x', { site, token: moderatorToken('mo-2', 'Mia') });
  assert.equal(mo2.welcome.reports, undefined);
  await Promise.all([ada, bo, cy, mo, mo2].map((c) => c.close()));
  rx.server.close();
});

test('a user\'s erasure removes the reports they made; moderators hear the new counts', async () => {
  const { site, key } = await siteWithKey(config, 'rep');
  const room = uniqueRoom('erase');
  const ada = await join(room, 'Ada', { site });
  const vee = await join(room, 'Vee', { site, token: userToken('vee@example.com', 'Vee') });
  const bo = await join(room, 'Bo', { site });
  const mo = await join(room, 'x', { site, token: moderatorToken() });
  const seq = await post(ada, 'hm');
  const hers = await post(vee, 'hers');
  assert.equal((await report(vee, seq, 'harassment', { note: 'Vee here' })).type, 'ack');
  assert.equal((await report(bo, seq, 'spam')).type, 'ack');
  assert.equal((await report(bo, hers, 'spam')).type, 'ack');
  await mo.next((f) => f.type === 'reported' && f.target === hers);
  const erased = await siteApi(key, 'DELETE', `/${site}/users/${encodeURIComponent('vee@example.com')}`);
  assert.equal(erased.status, 200, erased.text);
  assert.deepEqual(await mo.next((f) => f.type === 'reported' && f.target === seq), { type: 'reported', target: seq, reports: 1, reasons: { spam: 1 } });
  const left = (await siteApi(key, 'GET', `/${site}/rooms/${room}/reports`)).body.reports;
  assert.deepEqual(left.map((r) => [r.target, r.reporter.name]), [[seq, 'Bo']], 'hers and on hers gone');
  assert.ok(!JSON.stringify(left).includes('Vee'));
  await Promise.all([ada, vee, bo, mo].map((c) => c.close()));
});

test('open reports survive a SIGKILL of the server', async () => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-chat-reports-'));
  let server = await startServer({ persistTo: state });
  try {
    const site = `rep-${Date.now().toString(36)}`;
    const made = await admin('PUT', `/sites/${site}`, config, { base: server.url });
    assert.equal(made.status, 201, made.text);
    const room = uniqueRoom('durable');
    const a = await join(room, 'Ada', { site }, { base: server.url });
    const b = await join(room, 'Bo', { site }, { base: server.url });
    const seq = await post(a, 'rude');
    const first = await report(b, seq, 'harassment');
    assert.equal(first.type, 'ack');
    await server.kill();
    server = await startServer({ persistTo: state, port: server.port });
    const mo = await join(room, 'x', { site, token: moderatorToken() }, { base: server.url });
    assert.deepEqual(mo.welcome.reports, [{ target: seq, reports: 1, reasons: { harassment: 1 } }]);
    // The same member, back with its key: a repeat is still a repeat.
    const back = await join(room, 'Bo', { site }, { base: server.url, protocols: ['hello-chat.v1', `hc-key.${b.welcome.senderKey}`] });
    const again = await report(back, seq, 'spam');
    assert.deepEqual([again.type, again.timestamp], ['ack', first.timestamp]);
    await synced(mo);
    assert.equal(mo.all('reported').length, 0, 'not counted twice');
    await Promise.all([mo, back].map((c) => c.close()));
  } finally {
    await server.stop();
    fs.rmSync(state, { recursive: true, force: true });
  }
});
