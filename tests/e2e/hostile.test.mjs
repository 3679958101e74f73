// Hostile input not covered by room-protocol.test.mjs: invalid UTF-8,
// invisible and bidi characters in names, odd site ids. Each gets a clear
// answer, the server stays up, and storage holds no trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, Client, act, join, siteApi, siteWithKey, sleep, uniqueRoom } from './helpers.mjs';

test('invalid UTF-8 in a text frame is refused and stores nothing', async () => {
  const room = uniqueRoom('utf8');
  const c = await join(room, 'Bytes');
  // workerd hands the frame over with replacement characters (it does not
  // close with 1007); it is then not valid JSON for the room.
  c.ws.send(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { binary: false });
  c.ws.send(Buffer.from([0x7b, 0x22, 0x6d, 0x65, 0x73, 0x73, 0x61, 0x67, 0x65, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]), { binary: false });
  assert.equal((await c.next('error')).code, 'bad_frame');
  assert.equal((await c.next('error')).code, 'bad_frame');
  await c.close();
  const after = await join(room, 'After');
  assert.equal(after.welcome.seq, 0);
  assert.equal((await fetch(`${BASE}/health`)).status, 200);
  await after.close();
});

test('control, zero-width and bidi-override characters are removed from names', async () => {
  const room = uniqueRoom('names');
  const evil = await join(room, '\u202EnimdA\u202C\u200B \u0000\u0007Eve\u2066');
  assert.equal(evil.welcome.name, 'nimdA Eve');
  const watcher = await join(room, 'Watcher');
  evil.send({ type: 'send', id: 'n1', message: 'hi' });
  assert.equal((await watcher.next('message')).name, 'nimdA Eve');
  const blank = await join(room, '\u200B\u200D\uFEFF   ');
  assert.equal(blank.welcome.name, 'Anonymous');
  await Promise.all([evil, watcher, blank].map((c) => c.close()));
});

test('a message of invisible characters only (a blank bubble) is refused as empty, from a socket and from the site API', async () => {
  const room = uniqueRoom('blank');
  const [eve, bo] = await Promise.all([join(room, 'Eve'), join(room, 'Bo')]);
  const blanks = ['\u200b', ' \u2060\u2060 ', '\u3164', '\ufeff', '\u202e', '\u2800', '\u200b\n\u200d'];
  for (const message of blanks) {
    assert.equal((await act(eve, { type: 'send', message })).code, 'empty', JSON.stringify(message));
  }
  // Joiners within visible text are part of it (a family emoji).
  const family = '👨\u200d👩\u200d👧';
  assert.equal((await act(eve, { type: 'send', message: family })).type, 'ack');
  assert.equal((await bo.next('message')).message, family, 'the first message Bo gets is the visible one');
  const { site, key } = await siteWithKey({ origins: [], allowNoOrigin: true }, 'blank');
  const res = await siteApi(key, 'POST', `/${site}/rooms/${room}/messages`, { name: 'Bot', message: '\u200b\u200b' });
  assert.equal(res.status, 400, res.text);
  assert.equal(res.body.error, 'empty');
  await Promise.all([eve.close(), bo.close()]);
});

test('hostile ids and numbers are refused before any room is reached', async () => {
  for (const query of [
    'room=ok&v=1&site=..%2Fdemo', 'room=ok&v=1&site=demo%00', "room=ok&v=1&site=demo'--", 'room=%252E%252E&v=1',
    'room=a%5Cb&v=1', 'room=ok&v=1&since=1e400', 'room=ok&v=1&since=0x10', 'room=ok&v=1&since=%20',
  ]) {
    const err = await Client.connect(query).then(() => null, (e) => e);
    assert.equal(err?.status, 400, query);
  }
});

test('messages with HTML, SQL and script text are stored and relayed verbatim, as data', async () => {
  const room = uniqueRoom('inert');
  const a = await join(room, '<script>alert(1)</script>');
  const texts = ["'); DROP TABLE messages; --", '<img src=x onerror=alert(1)>', '{{constructor.constructor("alert(1)")()}}', '\u202Egnp.exe'];
  for (const [i, t] of texts.entries()) {
    a.send({ type: 'send', id: `h${i}`, message: t });
    await a.next('ack');
  }
  const b = await join(room, 'Reader');
  assert.deepEqual(b.history.messages.map((m) => m.message), texts);
  assert.equal(b.history.messages[0].name, '<script>alert(1)</script>');
  await sleep(50);
  await Promise.all([a.close(), b.close()]);
});
