// A report keeps its evidence: the text the reporter saw, whatever its
// author does to the message afterwards (an edit must not show moderators a
// clean version), and that evidence goes when its author is erased or
// purged (nothing of their text may survive in the reports). A user's GDPR
// export lists the reports they made. Real worker, raw clients; when the
// server's state directory is known (HELLO_CHAT_STATE), the rooms' SQLite
// is read too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { act, join, mintToken, post, siteApi, siteWithKey, uniqueRoom } from './helpers.mjs';

const SECRET = 'report-evidence-secret-0123456789';
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const config = {
  origins: [], allowNoOrigin: true, secret: SECRET,
  limits: { addressBurst: 1000, addressPerSec: 100, maxConnectionsPerAddress: 100, rateBurst: 50, ratePerSec: 20 },
};
const moderatorToken = () => mintToken(SECRET, { sub: 'mo-1', name: 'Mo', role: 'moderator', exp: inAnHour() });
const userToken = (sub, name) => mintToken(SECRET, { sub, name, exp: inAnHour() });
const from = (ip) => ({ headers: { 'cf-connecting-ip': ip } });
const report = (c, target, reason = 'spam', extra = {}) => act(c, { type: 'report', target, reason, ...extra });
const marker = (what) => `${what}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

const STATE = process.env.HELLO_CHAT_STATE;

/** Every row of every room's `reports` table, as text (empty without the state directory). */
function reportRows() {
  const root = STATE && path.join(STATE, 'v3', 'do');
  if (!root || !fs.existsSync(root)) return '';
  const dbs = fs.readdirSync(root, { recursive: true })
    .filter((f) => String(f).endsWith('.sqlite') && !String(f).endsWith('metadata.sqlite'))
    .map((f) => path.join(root, String(f)));
  let out = '';
  for (const db of dbs) {
    try {
      out += execFileSync('sqlite3', ['-readonly', '-cmd', '.timeout 5000', db, 'SELECT * FROM reports;'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch { /* no reports table: not a room */ }
  }
  return out;
}

test('a report keeps the text the reporter saw: an edit after it does not clean it', async () => {
  const { site, key } = await siteWithKey(config, 'evi');
  const room = uniqueRoom('edit');
  const ada = await join(room, 'Ada', { site, token: userToken('ada-evi', 'Ada') });
  const bo = await join(room, 'Bo', { site }, from('192.0.2.21'));
  const seq = await post(ada, 'you are an idiot');
  assert.equal((await report(bo, seq, 'harassment', { note: 'rude' })).type, 'ack');
  const edit = await act(ada, { type: 'edit', target: seq, message: 'have a nice day' });
  assert.equal(edit.type, 'ack', JSON.stringify(edit));

  const listed = await siteApi(key, 'GET', `/${site}/rooms/${room}/reports`);
  assert.equal(listed.status, 200, listed.text);
  const [r] = listed.body.reports;
  // Now: the clean version, marked edited; then: what Bo reported.
  assert.equal(r.message.message, 'have a nice day');
  assert.ok(r.message.edited, 'the current message says it was edited');
  assert.deepEqual(r.reported, { message: 'you are an idiot' });

  // A report made after the edit keeps the text as it is then.
  const cy = await join(room, 'Cy', { site }, from('192.0.2.22'));
  assert.equal((await report(cy, seq, 'other')).type, 'ack');
  const both = (await siteApi(key, 'GET', `/${site}/rooms/${room}/reports`)).body.reports;
  assert.deepEqual(both[0].reported, { message: 'have a nice day', edited: both[0].message.edited });
  await Promise.all([ada, bo, cy].map((c) => c.close()));
});

test('erasing or purging a message\'s author leaves nothing of their text in the reports', async () => {
  const { site, key } = await siteWithKey(config, 'evi');
  const room = uniqueRoom('gone');
  const said = marker('vee-said');
  const edited = marker('vee-edited');
  const anon = marker('anon-said');
  const vee = await join(room, 'Vee', { site, token: userToken('vee-evi', 'Vee') });
  const zed = await join(room, 'Zed', { site }, from('192.0.2.31'));
  const bo = await join(room, 'Bo', { site }, from('192.0.2.32'));
  const mo = await join(room, 'x', { site, token: moderatorToken() });
  const hers = await post(vee, said);
  const his = await post(zed, anon);
  const kept = await post(zed, 'an unrelated message');
  assert.equal((await report(bo, hers, 'spam')).type, 'ack');
  assert.equal((await act(vee, { type: 'edit', target: hers, message: edited })).type, 'ack');
  assert.equal((await report(bo, his, 'spam')).type, 'ack');
  assert.equal((await report(vee, kept, 'other', { note: 'Vee thinks so' })).type, 'ack');
  const before = JSON.stringify((await siteApi(key, 'GET', `/${site}/rooms/${room}/reports`)).body);
  for (const text of [said, edited, anon]) assert.ok(before.includes(text), `${text} listed before`);
  if (STATE) assert.ok(reportRows().includes(said), 'the evidence is in the reports table');

  const erased = await siteApi(key, 'DELETE', `/${site}/users/vee-evi`);
  assert.equal(erased.status, 200, erased.text);
  const purged = await act(mo, { type: 'moderate', action: 'purge', sender: zed.welcome.sender });
  assert.equal(purged.type, 'ack', JSON.stringify(purged));

  const after = await siteApi(key, 'GET', `/${site}/rooms/${room}/reports`);
  assert.deepEqual(after.body.reports, [], after.text);
  if (STATE) {
    const rows = reportRows();
    for (const text of [said, edited, anon, 'Vee thinks so']) assert.ok(!rows.includes(text), `${text} left in the reports table`);
  }
  await Promise.all([vee, zed, bo, mo].map((c) => c.close()));
});

test('a user\'s export lists the reports they made, room by room, and never those made about them', async () => {
  const { site, key } = await siteWithKey(config, 'evi');
  const [one, two] = [uniqueRoom('exp1'), uniqueRoom('exp2')];
  const sub = `dee-${Date.now().toString(36)}`;
  const ada1 = await join(one, 'Ada', { site, token: userToken('ada-exp', 'Ada') });
  const dee1 = await join(one, 'Dee', { site, token: userToken(sub, 'Dee') });
  const ada2 = await join(two, 'Ada', { site, token: userToken('ada-exp', 'Ada') });
  const dee2 = await join(two, 'Dee D.', { site, token: userToken(sub, 'Dee D.') });
  const bo = await join(one, 'Bo', { site }, from('192.0.2.41'));
  const a1 = await post(ada1, 'spam in one');
  const a2 = await post(ada2, 'rude in two');
  const mine = await post(dee1, 'Dee\'s own');
  const r1 = await report(dee1, a1, 'spam', { note: 'ads' });
  const r2 = await report(dee2, a2, 'harassment');
  assert.deepEqual([r1.type, r2.type], ['ack', 'ack']);
  assert.equal((await report(bo, mine, 'other', { note: 'Bo did this' })).type, 'ack');
  assert.equal((await act(ada1, { type: 'edit', target: a1, message: 'clean now' })).type, 'ack');

  const exported = await siteApi(key, 'GET', `/${site}/users/${sub}/messages`);
  assert.equal(exported.status, 200, exported.text);
  assert.deepEqual(exported.body.messages.map((m) => [m.room, m.seq, m.message]), [[one, mine, 'Dee\'s own']], 'messages as before');
  const reports = exported.body.reports.toSorted((x, y) => x.room.localeCompare(y.room));
  const expected = [
    { room: one, target: a1, reason: 'spam', note: 'ads', timestamp: r1.timestamp, name: 'Dee', reported: { message: 'spam in one' } },
    { room: two, target: a2, reason: 'harassment', timestamp: r2.timestamp, name: 'Dee D.', reported: { message: 'rude in two' } },
  ].toSorted((x, y) => x.room.localeCompare(y.room));
  assert.deepEqual(reports.map(({ id, sender, ...rest }) => rest), expected);
  for (const r of reports) assert.ok(Number.isInteger(r.id), 'each report has its id');
  assert.deepEqual(reports.map((r) => r.sender).toSorted(), [dee1.welcome.sender, dee2.welcome.sender].toSorted(), 'under their key in each room');

  // Ada's export does not say who reported her, nor that she was.
  const hers = await siteApi(key, 'GET', `/${site}/users/ada-exp/messages`);
  assert.deepEqual(hers.body.reports, []);
  assert.ok(!hers.text.includes('Bo did this') && !hers.text.includes('"reason"'), hers.text);
  await Promise.all([ada1, dee1, ada2, dee2, bo].map((c) => c.close()));
});
