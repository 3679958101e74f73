// Load and abuse against the real worker: a flooding sender, a crowd at the
// connection cap, a stalled reader. Latencies are reported, not asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client, createSite, join, post, sleep, uniqueRoom } from './helpers.mjs';

// The server's state directory (wrangler's --persist-to), to read the sites'
// room lists (their SQLite) directly: a room only opened is not shown by the API.
const STATE = process.env.HELLO_CHAT_STATE;

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]; };

test('a flood from one sender is rate limited while the others keep chatting', async () => {
  const room = uniqueRoom('flood');
  const [flood, ada, bo] = await Promise.all(['Flood', 'Ada', 'Bo'].map((n) => join(room, n)));
  for (let i = 0; i < 300; i++) flood.send({ type: 'send', id: `f${i}`, message: `flood ${i}` });
  const latencies = [];
  for (let i = 0; i < 10; i++) {
    for (const [from, to, tag] of [[ada, bo, 'a'], [bo, ada, 'b']]) {
      const t0 = Date.now();
      from.send({ type: 'send', id: `${tag}${i}`, message: `${tag} says ${i}` });
      assert.equal((await from.next((f) => f.type === 'ack' || f.type === 'error', 10000)).type, 'ack');
      await to.next((f) => f.type === 'message' && f.message === `${tag} says ${i}`, 10000);
      latencies.push(Date.now() - t0);
    }
    await sleep(100);
  }
  const answers = [];
  for (let i = 0; i < 300; i++) answers.push(await flood.next((f) => f.type === 'ack' || f.type === 'error', 10000));
  const limited = answers.filter((f) => f.type === 'error' && f.code === 'rate_limited').length;
  assert.ok(limited >= 250, `the flood was limited (${limited} of 300 refused)`);
  assert.equal(ada.all('error').length + bo.all('error').length, 0, 'the others were never limited');
  console.log(`# flood: ${300 - limited} of 300 flood messages accepted; others' send→receive p50 ${pct(latencies, 50)} ms, p95 ${pct(latencies, 95)} ms`);
  await Promise.all([flood, ada, bo].map((c) => c.close()));
});

test('520 connections to a room capped at 500: 500 join, 20 are refused cleanly, nothing hangs', { timeout: 120_000 }, async () => {
  // Every local client shares one address: lift the per-address cap to test the room's.
  const site = await createSite({ origins: [], allowNoOrigin: true, limits: { maxConnections: 500, maxConnectionsPerAddress: 1000 } });
  const room = uniqueRoom('crowd');
  const results = [];
  const started = Date.now();
  const attempt = async (i) => {
    const c = await Client.connect({ room, site, v: '1', name: `c${i}` });
    const first = await c.next((f) => f.type === 'welcome' || f.type === 'error', 20000);
    results.push(first.type === 'welcome' ? 'joined' : first.code);
    return c;
  };
  const clients = [];
  for (let i = 0; i < 520; i += 40) {
    clients.push(...await Promise.all(Array.from({ length: Math.min(40, 520 - i) }, (_, k) => attempt(i + k))));
  }
  const joined = results.filter((r) => r === 'joined').length;
  assert.equal(joined, 500);
  assert.deepEqual([...new Set(results.filter((r) => r !== 'joined'))], ['room_full']);
  const refused = clients.filter((c) => c.frames[0]?.type === 'error');
  const codes = await Promise.all(refused.map((c) => c.closed.then((x) => x.code)));
  assert.ok(codes.every((c) => c === 1013), 'refused with 1013 (try again later)');
  // The room still works for those inside.
  const [a, b] = clients.filter((c) => c.frames[0]?.type === 'welcome');
  a.send({ type: 'send', id: 'crowd-1', message: 'hello crowd' });
  await b.next((f) => f.type === 'message' && f.message === 'hello crowd', 20000);
  console.log(`# crowd: 520 connection attempts in ${Date.now() - started} ms, 500 joined, 20 refused with 1013`);
  await Promise.all(clients.map((c) => c.ws.terminate()));
});

test('a stalled reader does not hold the others back', async () => {
  const room = uniqueRoom('stall');
  const stalled = await join(room, 'Stalled');
  stalled.ws._socket.pause(); // stops reading: the server's sends to it pile up
  const [ada, bo] = await Promise.all([join(room, 'Ada'), join(room, 'Bo')]);
  const big = 'x'.repeat(1500);
  const writers = await Promise.all([0, 1, 2, 3, 4].map((i) => join(room, `W${i}`)));
  for (let i = 0; i < 100; i++) writers[i % 5].send({ type: 'send', id: `s${i}`, message: `${i} ${big}` });
  for (const reader of [ada, bo]) {
    for (let i = 0; i < 100; i++) await reader.next((f) => f.type === 'message', 15000);
  }
  stalled.ws._socket.resume();
  await Promise.all([stalled, ada, bo, ...writers].map((c) => c.close()));
});

/** The SQLite files of the sites' room lists (RoomDirectory objects). */
function directoryDbs() {
  const root = path.join(STATE, 'v3', 'do');
  return fs.readdirSync(root).filter((d) => d.endsWith('-RoomDirectory'))
    .flatMap((d) => fs.readdirSync(path.join(root, d)).filter((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite')
      .map((f) => path.join(root, d, f)));
}

/** Whether the room list in `db` (or any, if none given) lists `room` now. */
function listed(room, db) {
  for (const file of db ? [db] : directoryDbs()) {
    const out = execFileSync('sqlite3', ['-readonly', '-cmd', '.timeout 5000', file, `SELECT count(*) FROM rooms WHERE room = '${room}';`],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    if (out.trim() === '1') return file;
  }
  return null;
}

async function until(what, check, ms = 10_000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(200)) if (check()) return;
  assert.fail(`timed out waiting until ${what}`);
}

test('attack: rooms only opened and left do not stay on the site\'s room list, each woken by every change of its rules', {
  skip: !STATE && 'needs the server\'s state directory (HELLO_CHAT_STATE, set by scripts/test.mjs)',
}, async () => {
  const site = await createSite({ origins: ['http://127.0.0.1:*'], allowNoOrigin: true }, 'opened');
  // Opened by a visitor: listed while they are there (so that the site's
  // new rules reach them), off the list once they leave.
  const opened = uniqueRoom('opened');
  const ada = await join(opened, 'Ada', { site });
  let db = null;
  await until(`${opened} is listed`, () => (db = listed(opened)));
  await ada.close();
  await until(`${opened} is off the list`, () => !listed(opened, db));
  // Opened again: listed again; two visitors, one leaving: still listed.
  const [bo, cy] = [await join(opened, 'Bo', { site }), await join(opened, 'Cy', { site })];
  await until(`${opened} is listed again`, () => listed(opened, db));
  await bo.close();
  await sleep(1500);
  assert.ok(listed(opened, db), 'listed while Cy is there');
  await cy.close();
  await until(`${opened} is off the list again`, () => !listed(opened, db));

  // A room written in stays listed after everyone left.
  const written = uniqueRoom('written');
  const dee = await join(written, 'Dee', { site });
  await post(dee, 'hello');
  await until(`${written} is listed`, () => listed(written, db));
  await dee.close();
  await sleep(1500);
  assert.ok(listed(written, db), 'a room with messages stays listed');

  // A room whose messages retention by age deleted was written in all the
  // same (its seqs go on; its erasure must still reach it): it stays listed.
  const aged = await createSite({ origins: [], allowNoOrigin: true, limits: { retentionDays: 1 } }, 'aged');
  const old = uniqueRoom('aged');
  const eve = await join(old, 'Eve', { site: aged });
  await post(eve, 'soon gone');
  await eve.close();
  let agedDb = null;
  await until(`${old} is listed`, () => (agedDb = listed(old)));
  let left = null;
  for (let i = 0; i < 40 && left !== 0; i++) {
    await sleep(500);
    const look = await join(old, 'Look', { site: aged, since: '0' });
    left = look.history.messages.length;
    await look.close();
  }
  assert.equal(left, 0, 'retention by age emptied the room');
  await sleep(1500);
  assert.ok(listed(old, agedDb), 'a room emptied by retention stays listed after its visitors left');

  // Many opened at once (each listed while someone is in it), then left: none stays.
  const many = Array.from({ length: 20 }, () => uniqueRoom('flood'));
  const visitors = await Promise.all(many.map((room) => join(room, 'V', { site })));
  await until('every opened room is listed', () => many.every((room) => listed(room, db)), 20_000);
  await Promise.all(visitors.map((v) => v.close()));
  await until('every opened room is off the list', () => many.every((room) => !listed(room, db)), 20_000);
});

test('attack: one IPv6 subscriber connecting from many /64s of its /48 cannot fill a room', { timeout: 60_000 }, async () => {
  // A room of 100, 20 per address: a /48 may hold 40 (twice an address's share; a tenth of a big room).
  const site = await createSite({ origins: [], allowNoOrigin: true, limits: { maxConnections: 100, maxConnectionsPerAddress: 20 } });
  const room = uniqueRoom('v6');
  const from = (ip) => ({ headers: { 'cf-connecting-ip': ip } });
  const attempt = async (ip, i) => {
    const c = await Client.connect({ room, site, v: '1', name: `v${i}` }, from(ip));
    const first = await c.next((f) => f.type === 'welcome' || f.type === 'error', 20000);
    return { c, result: first.type === 'welcome' ? 'joined' : first.code };
  };
  const held = [];
  for (const net of ['2001:db8:77:1', '2001:db8:77:2']) {
    held.push(...await Promise.all(Array.from({ length: 20 }, (_, i) => attempt(`${net}::${i + 1}`, i))));
  }
  assert.deepEqual([...new Set(held.map((h) => h.result))], ['joined'], 'two /64s, their 20 each');
  const third = await attempt('2001:db8:77:3::1', 99);
  assert.equal(third.result, 'too_many_connections', 'a third /64 of the same /48: the /48 holds its 40');
  assert.equal((await third.c.closed).code, 1013);
  // Someone else (another network) still gets in.
  const other = await attempt('2001:db8:78:1::1', 100);
  assert.equal(other.result, 'joined');
  await Promise.all([...held, other].map((h) => h.c.close()));
});
