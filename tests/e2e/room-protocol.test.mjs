// The room service over raw WebSockets: protocol v1, history, resume,
// presence, errors and limits, against the real worker under workerd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, Client, join, sleep, uniqueRoom } from './helpers.mjs';

const send = (c, id, message) => c.send({ type: 'send', id, message });

test('a message is acked to its sender with a seq and broadcast to everyone else', async () => {
  const room = uniqueRoom();
  const clients = await Promise.all(['Ada', 'Bo', 'Cy', 'Di'].map((n) => join(room, n)));
  const [ada, ...others] = clients;
  send(ada, 'm-1', '  hello room  ');
  const ack = await ada.next('ack');
  assert.equal(ack.id, 'm-1');
  assert.equal(ack.seq, 1);
  assert.ok(Math.abs(ack.timestamp - Date.now()) < 60_000);
  for (const c of others) {
    const m = await c.next('message');
    assert.deepEqual(m, { type: 'message', seq: 1, id: 'm-1', name: 'Ada', message: 'hello room', timestamp: ack.timestamp,
      sender: ada.welcome.sender, verified: false });
  }
  await sleep(100);
  assert.equal(ada.all('message').length, 0, 'the sender does not get its own message back');
  await Promise.all(clients.map((c) => c.close()));
});

test('welcome and history on join: latest seq, online count, cleaned name, the latest 50', async () => {
  const room = uniqueRoom();
  const writers = await Promise.all([1, 2, 3].map((i) => join(room, `Writer${i}`)));
  for (let i = 1; i <= 60; i++) {
    const w = writers[Math.floor((i - 1) / 20)];
    send(w, `w${i}`, `message ${i}`);
    await w.next('ack');
  }
  const reader = await join(room, '  Rea\u200Bder\u0007 ');
  assert.equal(reader.welcome.seq, 60);
  assert.equal(reader.welcome.online, 4);
  assert.equal(reader.welcome.name, 'Reader');
  assert.equal(reader.history.messages.length, 50);
  assert.equal(reader.history.more, true);
  assert.deepEqual(reader.history.messages.map((m) => m.seq), Array.from({ length: 50 }, (_, i) => i + 11));

  // Page back to the very first message.
  reader.send({ type: 'history', before: 11, limit: 7 });
  const page = await reader.next('history');
  assert.deepEqual(page.messages.map((m) => m.seq), [4, 5, 6, 7, 8, 9, 10]);
  assert.equal(page.more, true);
  assert.equal(page.before, 11);
  reader.send({ type: 'history', before: 4, limit: 100 });
  const first = await reader.next('history');
  assert.deepEqual(first.messages.map((m) => m.seq), [1, 2, 3]);
  assert.equal(first.more, false);
  assert.equal(first.messages[0].message, 'message 1');

  reader.send({ type: 'history', after: 58 });
  const tail = await reader.next('history');
  assert.deepEqual(tail.messages.map((m) => m.seq), [59, 60]);
  assert.equal(tail.more, false);
  await Promise.all([...writers, reader].map((c) => c.close()));
});

test('a retry with the same id is acked with the original seq and stored once', async () => {
  const room = uniqueRoom();
  const ada = await join(room, 'Ada');
  const bo = await join(room, 'Bo');
  send(ada, 'retry-1', 'only once');
  const first = await ada.next('ack');
  await ada.close();
  // The sender reconnects (as after a network drop), presents its sender key and retries.
  const again = await join(room, 'Ada', { since: '0', senderKey: ada.welcome.senderKey });
  assert.deepEqual(again.history.messages.map((m) => m.id), ['retry-1']);
  send(again, 'retry-1', 'only once');
  const second = await again.next('ack');
  assert.deepEqual([second.seq, second.timestamp], [first.seq, first.timestamp]);
  send(again, 'retry-2', 'next');
  assert.equal((await again.next('ack')).seq, 2);
  const fresh = await join(room, 'Cy');
  assert.deepEqual(fresh.history.messages.map((m) => [m.seq, m.id]), [[1, 'retry-1'], [2, 'retry-2']]);
  await sleep(100);
  assert.equal(bo.all('message').length, 2, 'the retry is not broadcast again');
  await Promise.all([again.close(), bo.close(), fresh.close()]);
});

test('resume with since: nothing lost, nothing doubled while others kept sending', async () => {
  const room = uniqueRoom();
  const ada = await join(room, 'Ada');
  const bo = await join(room, 'Bo');
  for (let i = 1; i <= 5; i++) { send(ada, `a${i}`, `a${i}`); await ada.next('ack'); }
  await bo.next((f) => f.type === 'message' && f.seq === 5);
  const lastSeen = 5;
  await bo.close();
  for (let i = 6; i <= 12; i++) { send(ada, `a${i}`, `a${i}`); await ada.next('ack'); }
  const back = await join(room, 'Bo', { since: String(lastSeen) });
  assert.equal(back.welcome.seq, 12);
  assert.equal(back.history.after, lastSeen);
  assert.equal(back.history.more, false);
  assert.deepEqual(back.history.messages.map((m) => m.seq), [6, 7, 8, 9, 10, 11, 12]);
  await Promise.all([ada.close(), back.close()]);
});

test('resume after a long absence says there is more and can be paged forward', async () => {
  const room = uniqueRoom();
  // 250 messages from 13 writers, each within its burst allowance (rate limits are per connection).
  const writers = await Promise.all(Array.from({ length: 13 }, (_, i) => join(room, `W${i}`)));
  for (let i = 1; i <= 250; i++) {
    const w = writers[Math.floor((i - 1) / 20)];
    send(w, `x${i}`, `x${i}`);
    assert.equal((await w.next((f) => f.type === 'ack' || f.type === 'error')).type, 'ack');
  }
  const r = await join(room, 'R', { since: '10' });
  assert.equal(r.history.messages.length, 200);
  assert.equal(r.history.messages[0].seq, 11);
  assert.equal(r.history.more, true, 'the client must ask for the rest');
  r.send({ type: 'history', after: 210, limit: 100 });
  const rest = await r.next('history');
  assert.deepEqual([rest.messages[0].seq, rest.messages.at(-1).seq, rest.more], [211, 250, false]);
  await Promise.all([...writers, r].map((c) => c.close()));
});

test('presence: joins and leaves are announced with the online count', async () => {
  const room = uniqueRoom();
  const ada = await join(room, 'Ada');
  assert.equal(ada.welcome.online, 1);
  const bo = await join(room, 'Bo');
  const member = (c, connections) => ({ sender: c.welcome.sender, name: c.welcome.name, verified: false, connections });
  assert.deepEqual(await ada.next('presence'), { type: 'presence', online: 2, joined: 'Bo', member: member(bo, 1) });
  const cy = await join(room, 'Cy');
  assert.deepEqual(await ada.next('presence'), { type: 'presence', online: 3, joined: 'Cy', member: member(cy, 1) });
  await bo.next('presence');
  await cy.close();
  assert.deepEqual(await ada.next('presence'), { type: 'presence', online: 2, left: 'Cy', member: member(cy, 0) });
  assert.deepEqual(await bo.next('presence'), { type: 'presence', online: 2, left: 'Cy', member: member(cy, 0) });
  await Promise.all([ada.close(), bo.close()]);
});

test('typing is relayed to the others, throttled, never stored', async () => {
  const room = uniqueRoom();
  const ada = await join(room, 'Ada');
  const bo = await join(room, 'Bo');
  for (let i = 0; i < 5; i++) ada.send({ type: 'typing' });
  assert.deepEqual(await bo.next('typing'), { type: 'typing', name: 'Ada', sender: ada.welcome.sender });
  await sleep(300);
  assert.equal(bo.all('typing').length, 1, 'a burst of typing notices is relayed once');
  assert.equal(ada.all('typing').length, 0);
  const cy = await join(room, 'Cy');
  assert.equal(cy.welcome.seq, 0);
  await Promise.all([ada.close(), bo.close(), cy.close()]);
});

test('ping is answered pong', async () => {
  const c = await join(uniqueRoom(), 'P');
  c.send('ping');
  assert.deepEqual(await c.next((f) => f.raw === 'pong'), { raw: 'pong' });
  await c.close();
});

test('every error code, with the connection left open and nothing stored', async () => {
  const room = uniqueRoom();
  const c = await join(room, 'E');
  const cases = [
    ['not json', 'bad_frame'],
    ['[1,2]', 'bad_frame'],
    [{ type: 'dance' }, 'bad_frame'],
    [{ message: 'no type' }, 'bad_frame'],
    [{ type: 'send', id: 'e1', message: 42 }, 'bad_frame'],
    [{ type: 'send', id: 'bad id!', message: 'x' }, 'bad_frame'],
    [{ type: 'history', before: -1 }, 'bad_frame'],
    [{ type: 'history', before: 1, limit: 1000 }, 'bad_frame'],
    [{ type: 'history', after: 1e300 }, 'bad_frame'],
    [{ type: 'send', id: 'e2', message: ' \n\t ' }, 'empty'],
    [{ type: 'send', id: 'e3', message: 'x'.repeat(2001) }, 'too_long'],
    [{ type: 'send', id: 'e4', message: 'nul\u0000byte' }, 'bad_text'],
  ];
  for (const [frame, code] of cases) {
    c.send(frame);
    const err = await c.next('error');
    assert.equal(err.code, code, JSON.stringify(frame).slice(0, 80));
    assert.equal(typeof err.message, 'string');
    if (typeof frame === 'object' && frame.id && /^e\d$/.test(frame.id)) assert.equal(err.id, frame.id);
  }
  c.ws.send(Buffer.from('{"type":"send","message":"binary"}'), { binary: true });
  assert.equal((await c.next('error')).code, 'bad_frame');
  // Still open and working; nothing above was stored.
  send(c, 'ok-1', 'still here');
  assert.equal((await c.next('ack')).seq, 1);
  await c.close();
});

test('a sender over its rate limit gets rate_limited; others are unaffected', async () => {
  const room = uniqueRoom();
  const flood = await join(room, 'Flood');
  const calm = await join(room, 'Calm');
  for (let i = 0; i < 40; i++) send(flood, `f${i}`, `flood ${i}`);
  const answers = [];
  for (let i = 0; i < 40; i++) answers.push(await flood.next((f) => f.type === 'ack' || f.type === 'error'));
  const limited = answers.filter((a) => a.type === 'error');
  assert.ok(limited.length >= 15, `expected many refusals, got ${limited.length}`);
  assert.ok(limited.every((e) => e.code === 'rate_limited' && e.id?.startsWith('f')));
  send(calm, 'c1', 'I can still talk');
  assert.equal((await calm.next('ack')).id, 'c1');
  await Promise.all([flood.close(), calm.close()]);
});

test('a frame over 16 KiB closes the connection with 1009', async () => {
  const c = await join(uniqueRoom(), 'Big');
  c.send({ type: 'send', id: 'big', message: 'x'.repeat(17 * 1024) });
  const closed = await c.closed;
  assert.equal(closed.code, 1009);
});

test('messages in the same millisecond all survive, with distinct seqs', async () => {
  const room = uniqueRoom();
  const clients = await Promise.all(Array.from({ length: 5 }, (_, i) => join(room, `S${i}`)));
  clients.forEach((c, i) => send(c, `same-${i}`, `same ms ${i}`));
  const acks = await Promise.all(clients.map((c) => c.next('ack')));
  assert.deepEqual(acks.map((a) => a.seq).sort(), [1, 2, 3, 4, 5]);
  const reader = await join(room, 'Reader');
  assert.equal(reader.history.messages.length, 5);
  assert.equal(new Set(reader.history.messages.map((m) => m.id)).size, 5);
  await Promise.all([...clients, reader].map((c) => c.close()));
});

test('room and parameter validation happens before any room is reached', async () => {
  for (const [query, status] of [
    ['room=a/b&v=1', 400], ['room=&v=1', 400], ['v=1', 400], [`room=${'x'.repeat(65)}&v=1`, 400],
    ['room=ok&v=2', 400], ['room=ok&v=1&since=-5', 400], ['room=ok&v=1&site=Bad%2FSite', 400],
    ['room=%2E%2E%2Fetc&v=1', 400], ["room=x'%20OR%201=1&v=1", 400],
  ]) {
    const err = await Client.connect(query).then(() => null, (e) => e);
    assert.equal(err?.status, status, query);
    assert.equal(JSON.parse(err.body).error, 'bad_request');
  }
  const plain = await fetch(`${BASE}/ws?room=ok&v=1`);
  assert.equal(plain.status, 426);
  assert.equal((await plain.json()).error, 'upgrade_required');
  const missing = await fetch(`${BASE}/nope`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error, 'not_found');
});

test('the workshop front end works unchanged: legacy frames only', async () => {
  const room = uniqueRoom();
  const modern = await join(room, 'Modern');
  send(modern, 'h1', 'history before the seed joins');
  await modern.next('ack');
  const seed = await Client.connect(`name=Seedy&room=${room}`);
  const hist = await seed.next();
  assert.deepEqual(Object.keys(hist).sort(), ['message', 'name', 'timestamp']);
  assert.equal(hist.message, 'history before the seed joins');
  assert.equal((await modern.next('presence')).joined, 'Seedy');

  seed.send({ message: 'hello from the workshop' });
  const got = await modern.next('message');
  assert.equal(got.name, 'Seedy');
  assert.equal(got.message, 'hello from the workshop');

  send(modern, 'h2', 'reply to seed');
  const reply = await seed.next((f) => f.message === 'reply to seed');
  assert.deepEqual(Object.keys(reply).sort(), ['message', 'name', 'timestamp']);
  const other = await Client.connect(`name=Other&room=${room}`);
  const joined = await seed.next((f) => f.message === 'joined the chat');
  assert.equal(joined.name, 'Other');
  await other.close();
  assert.equal((await seed.next((f) => f.message === 'left the chat')).name, 'Other');
  // Invalid frames are dropped silently: the seed UI could not show an error.
  seed.send('garbage');
  seed.send({ type: 'typing' });
  await sleep(200);
  for (const f of seed.frames) assert.deepEqual(Object.keys(f).sort(), ['message', 'name', 'timestamp']);
  await Promise.all([seed.close(), modern.close()]);
});
