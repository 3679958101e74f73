// A security review of site changes reaching live rooms, webhooks and the
// owner API, against the real worker. Each test asserts the safe behaviour
// (those that failed before their fix say so).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, siteApi as api, siteWithKey, sleep, uniqueRoom } from './helpers.mjs';

/** Raw clients without an Origin; per-address limits lifted (every client is 127.0.0.1). */
const LIMITS = { addressBurst: 1000, addressPerSec: 100, maxConnectionsPerAddress: 100 };
const keyedSite = (extra = {}) => siteWithKey({ origins: [], allowNoOrigin: true, limits: LIMITS, ...extra }, 'atk');
let counter = 0;
const send = async (c, message) => {
  const id = `sa${++counter}`;
  c.send({ type: 'send', id, message });
  return c.next((f) => (f.type === 'ack' || f.type === 'error') && f.id === id, 10_000);
};

// Failed before its fix: a room is listed (and so told of site changes) only
// once something is written in it, so visitors connected to a room where
// nobody had written yet kept the old rules, and their first messages were
// judged by them, until someone else joined.
test('members connected to a room where nobody has written yet are held to the site\'s new rules', async () => {
  const { site, key } = await keyedSite();
  const room = uniqueRoom('quiet');
  const eve = await join(room, 'Eve', { site });
  const ann = await join(room, 'Ann', { site });
  await sleep(300);
  const patched = await api(key, 'PATCH', `/${site}`, { moderation: { words: ['spam'], filterAction: 'block' }, limits: { maxMessageChars: 40 } });
  assert.equal(patched.status, 200, patched.text);
  const rules = await ann.next('rules', 8_000).catch(() => null);
  assert.equal(rules?.maxMessageChars, 40, 'an open widget is told the new limit');
  const answer = await send(eve, 'spam spam spam');
  assert.deepEqual([answer.type, answer.code], ['error', 'blocked'], 'the new filter word applies');
  await eve.close();
  await ann.close();
});

