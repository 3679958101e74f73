// Durability: what a room acknowledged survives a crash of the whole server
// (SIGKILL of wrangler and workerd) and numbering continues where it stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../../scripts/lib/server.mjs';
import { admin, join, sleep, uniqueRoom } from './helpers.mjs';

test('acknowledged messages survive a SIGKILL of the server; seq continues', async () => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-chat-restart-'));
  let server = await startServer({ persistTo: state });
  try {
    const room = uniqueRoom('durable');
    const ada = await join(room, 'Ada', {}, { base: server.url });
    for (let i = 1; i <= 10; i++) {
      ada.send({ type: 'send', id: `d${i}`, message: `durable ${i}` });
      assert.equal((await ada.next('ack')).seq, i);
    }
    await server.kill();
    server = await startServer({ persistTo: state, port: server.port });

    // Ada comes back with her sender key: the room (and its key) survived.
    const back = await join(room, 'Ada', { senderKey: ada.welcome.senderKey }, { base: server.url });
    assert.equal(back.welcome.seq, 10);
    assert.equal(back.welcome.sender, ada.welcome.sender);
    assert.deepEqual(back.history.messages.map((m) => m.message), Array.from({ length: 10 }, (_, i) => `durable ${i + 1}`));
    // A retry of an acknowledged message is still recognised after the restart.
    back.send({ type: 'send', id: 'd10', message: 'durable 10' });
    const ack = await back.next('ack');
    assert.equal(ack.seq, 10);
    back.send({ type: 'send', id: 'after', message: 'after restart' });
    assert.equal((await back.next('ack')).seq, 11);
    await back.close();
  } finally {
    await server.stop();
    fs.rmSync(state, { recursive: true, force: true });
  }
});

test('a room that retention by age emptied goes on numbering where it stopped, after a restart too', async () => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-chat-restart-'));
  // A "day" of 1 s: the room's two messages are past a day's retention soon.
  let server = await startServer({ persistTo: state, vars: { RETENTION_DAY_MS: '1000' } });
  try {
    const site = `aged-${Date.now().toString(36)}`;
    const made = await admin('PUT', `/sites/${site}`, { origins: [], allowNoOrigin: true, limits: { retentionDays: 1 } }, { base: server.url });
    assert.equal(made.status, 201, made.text);
    const room = uniqueRoom('aged');
    const ada = await join(room, 'Ada', { site }, { base: server.url });
    for (const id of ['a1', 'a2']) {
      ada.send({ type: 'send', id, message: `old ${id}` });
      await ada.next('ack');
    }
    await ada.close();
    let left = null;
    for (let i = 0; i < 30 && left !== 0; i++) {
      await sleep(500);
      const look = await join(room, 'Look', { site, since: '0' }, { base: server.url });
      left = look.history.messages.length;
      await look.close();
    }
    assert.equal(left, 0, 'retention by age emptied the room');
    // The room's object starts afresh from storage: its seqs still go on.
    await server.kill();
    server = await startServer({ persistTo: state, port: server.port, vars: { RETENTION_DAY_MS: '1000' } });
    const back = await join(room, 'Ada', { site }, { base: server.url });
    assert.equal(back.welcome.seq, 2, 'the latest seq survived its messages');
    back.send({ type: 'send', id: 'b1', message: 'new' });
    assert.equal((await back.next('ack')).seq, 3);
    await back.close();
  } finally {
    await server.stop();
    fs.rmSync(state, { recursive: true, force: true });
  }
});
