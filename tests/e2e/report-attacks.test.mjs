// Reports (flags) attacked as a visitor would: raw WebSocket clients against
// the real worker. What reports.test.mjs does not cover: one visitor who
// drops their anonymous key between reports (a private window, a raw client)
// to pass for a crowd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { act, join, mintToken, post, siteApi, siteWithKey, uniqueRoom } from './helpers.mjs';

const SECRET = 'report-attacks-secret-0123456789';
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const config = {
  origins: [], allowNoOrigin: true, secret: SECRET,
  limits: { addressBurst: 1000, addressPerSec: 100, maxConnectionsPerAddress: 100, rateBurst: 50, ratePerSec: 20 },
};
const moderatorToken = () => mintToken(SECRET, { sub: 'mo-1', name: 'Mo', role: 'moderator', exp: inAnHour() });
const from = (ip) => ({ headers: { 'cf-connecting-ip': ip } });
const report = (c, target, reason = 'harassment') => act(c, { type: 'report', target, reason });
/** Wait until `c` has answered a fresh frame: everything sent to it before has arrived. */
const synced = async (c) => assert.equal((await act(c, { type: 'react', target: 0, emoji: '👍', on: true })).type, 'error');

test('one address with fresh anonymous keys counts as one reporter of a message, and is not told it was', async () => {
  const { site, key } = await siteWithKey(config, 'rpa');
  const room = uniqueRoom('sybil');
  const ada = await join(room, 'Ada', { site }, from('203.0.113.5'));
  const mo = await join(room, 'x', { site, token: moderatorToken() }, from('203.0.113.9'));
  const seq = await post(ada, 'an opinion someone dislikes');

  // One visitor, eight "members": a fresh anonymous key on every connection.
  const acks = [];
  for (let i = 0; i < 8; i++) {
    const sock = await join(room, `Sock${i}`, { site }, from('198.51.100.7'));
    const sent = Date.now();
    const a = await report(sock, seq);
    assert.equal(a.type, 'ack', JSON.stringify(a));
    acks.push({ a, sent });
    await sock.close();
  }
  // Each is acked as a first report (no telling a neighbour behind the same
  // address that someone there reported it, nor when).
  for (const { a, sent } of acks.slice(1)) assert.ok(a.timestamp >= sent - 1000, JSON.stringify(a));

  await synced(mo);
  const counts = mo.all('reported').map((f) => f.reports);
  assert.deepEqual(counts, [1], `the moderators saw the count climb: ${counts.join(', ')}`);
  const listed = (await siteApi(key, 'GET', `/${site}/rooms/${room}/reports`)).body.reports;
  assert.equal(listed.length, 1, 'one report kept');

  // Someone else (another address, or a verified user anywhere) still counts.
  const bo = await join(room, 'Bo', { site }, from('192.0.2.44'));
  assert.equal((await report(bo, seq, 'spam')).type, 'ack');
  assert.equal((await mo.next('reported')).reports, 2);
  const vee = await join(room, 'Vee', { site, token: mintToken(SECRET, { sub: 'vee', name: 'Vee', exp: inAnHour() }) }, from('198.51.100.7'));
  assert.equal((await report(vee, seq, 'spam')).type, 'ack');
  assert.deepEqual(await mo.next('reported'), { type: 'reported', target: seq, reports: 3, reasons: { harassment: 1, spam: 2 } });
  await Promise.all([ada, mo, bo, vee].map((c) => c.close()));
});
