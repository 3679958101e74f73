// A room bigger than one object: 1,500 raw v1 clients in one room, spread by
// the room's owner over five fan-out objects (this server shards past 200
// connections, 300 per object). (Fan-out at scale is measured by
// `npm run bench`; this checks that nothing is lost, doubled or reordered.) Every member must see every message once and
// in order: while members of the owner and of fan-out objects talk, and while
// one fan-out object is restarted (its members are closed with 1012, come
// back with `since` and resume exactly where they were). Half the members
// read batches (`batch=1`: several frames in one message), half do not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startServer } from '../../scripts/lib/server.mjs';
import { admin, sleep, uniqueRoom, wsBase } from './helpers.mjs';

const MEMBERS = 1500;
const SHARD_AT = 200;
const SHARD_SIZE = 300;

/** A light client: the seqs of the messages it saw, reconnecting with `since` after a restart. */
class Member {
  constructor(base, site, room, name) {
    Object.assign(this, { base, site, room, name, seqs: [], ownSeqs: new Set(), reconnects: 0, problems: [] });
  }

  open() {
    const since = this.seqs.length ? `&since=${this.seqs[this.seqs.length - 1]}` : '';
    const senderKey = this.senderKey ? `&senderKey=${encodeURIComponent(this.senderKey)}` : '';
    const batch = this.batch ? '&batch=1' : '';
    const ws = new WebSocket(`${wsBase(this.base)}/ws?site=${this.site}&room=${this.room}&name=${this.name}&v=1${since}${senderKey}${batch}`);
    this.ws = ws;
    this.joined = new Promise((resolve, reject) => {
      this.rejectJoin = reject;
      ws.on('error', reject);
      ws.on('message', (data) => {
        const parsed = JSON.parse(data.toString());
        if (Array.isArray(parsed) && !this.batch) this.problems.push('a batch without batch=1');
        for (const f of [parsed].flat()) this.frame(f, resolve);
      });
    });
    ws.on('close', (code) => {
      this.rejectJoin?.(new Error(`${this.name}: closed with ${code} before joining: ${JSON.stringify(this.problems)}`));
      if (code === 1012 && !this.leaving) {
        this.reconnects++;
        // Spread like the widget does after a restart.
        setTimeout(() => this.open(), Math.random() * 1500);
      }
    });
    return this.joined;
  }

  frame(f, joined) {
    if (f.type === 'welcome') {
      this.senderKey ??= f.senderKey;
    } else if (f.type === 'history') {
      for (const m of f.messages) this.see(m.seq);
      this.rejectJoin = null;
      joined();
    } else if (f.type === 'message') {
      this.see(f.seq);
    } else if (f.type === 'ack') {
      this.ownSeqs.add(f.seq);
      this.see(f.seq);
    } else if (f.type === 'error') {
      this.problems.push(f);
    }
  }

  /** Record `seq` once: seeing a seq twice or out of order is the failure we look for. */
  see(seq) {
    const last = this.seqs[this.seqs.length - 1] ?? 0;
    if (seq <= last) {
      if (!this.ownSeqs.has(seq)) this.problems.push(`seq ${seq} after ${last}`);
      return;
    }
    this.seqs.push(seq);
  }

  send(id, message) {
    this.ws.send(JSON.stringify({ type: 'send', id, message }));
  }
}

async function openAll(members, wave = 100) {
  for (let i = 0; i < members.length; i += wave) {
    await Promise.all(members.slice(i, i + wave).map((m) => m.open()));
  }
}

const waitFor = async (what, ok, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
};

test(`${MEMBERS} members over several fan-out objects get every message once and in order, across a restart`, { timeout: 240_000 }, async () => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'hello-chat-shard-'));
  const server = await startServer({ persistTo: state, vars: { SHARD_AT: String(SHARD_AT), SHARD_SIZE: String(SHARD_SIZE) } });
  const members = [];
  try {
    const site = 'live';
    const created = await admin('PUT', `/sites/${site}`, {
      origins: [], allowNoOrigin: true, // Every client here comes from one address.
      limits: { rateBurst: 1000, ratePerSec: 1000, maxConnections: 5000, maxConnectionsPerAddress: 5000, addressBurst: 10000, addressPerSec: 1000 },
    }, { base: server.url });
    assert.ok([200, 201].includes(created.status), created.text);
    const room = uniqueRoom('live');
    for (let i = 0; i < MEMBERS; i++) {
      const m = new Member(server.url, site, room, `m${i}`);
      m.batch = i % 2 === 1;
      members.push(m);
    }
    await openAll(members);

    // The owner kept the first ones; the rest are spread over fan-out objects.
    const counts = [];
    for (let i = 0; ; i++) {
      const res = await admin('GET', `/sites/${site}/rooms/${room}/fanout/${i}`, undefined, { base: server.url });
      assert.equal(res.status, 200);
      if (res.body.online === 0) break;
      counts.push(res.body.online);
    }
    assert.ok(counts.length >= 3, `fan-out objects in use: ${JSON.stringify(counts)}`);
    assert.equal(counts.reduce((a, b) => a + b, 0), MEMBERS - SHARD_AT, JSON.stringify(counts));
    assert.ok(counts.every((n) => n <= SHARD_SIZE), JSON.stringify(counts));

    // One sender on the owner, one on a fan-out object.
    const [onOwner, onFanout] = [members[0], members[MEMBERS - 1]];
    let sent = 0;
    const say = async (n, gapMs = 20) => {
      for (let i = 0; i < n; i++) {
        const who = i % 2 ? onFanout : onOwner;
        who.send(`k${sent}`, `message ${sent}`);
        sent++;
        await sleep(gapMs);
      }
    };
    const everyoneSaw = (n) => waitFor(`every member to see ${n} messages`, () => members.every((m) => m.seqs.length >= n), 90_000);
    await say(20);
    await everyoneSaw(20);

    // Restart the fan-out object that holds the most members, while messages flow.
    const busiest = counts.indexOf(Math.max(...counts));
    let restarted = false;
    const talking = (async () => { while (!restarted) await say(1, 30); await say(10, 30); })();
    await sleep(200);
    let restart;
    for (let attempt = 0; attempt < 3; attempt++) {
      restart = await admin('POST', `/sites/${site}/rooms/${room}/fanout/${busiest}/restart`, undefined, { base: server.url });
      if (restart.status !== 503) break;
    }
    restarted = true;
    assert.equal(restart.status, 200, restart.text);
    assert.equal(restart.body.closed, counts[busiest]);
    await talking;
    // Its members learn of the close (wrangler dev completes a close the
    // server started about 10 s later), come back and resume.
    await waitFor('the restarted members to come back', () => members.filter((m) => m.reconnects > 0).length === counts[busiest], 60_000);
    await say(10);
    await everyoneSaw(sent);

    const reconnected = members.filter((m) => m.reconnects > 0).length;
    assert.equal(reconnected, counts[busiest], 'the restarted object\'s members (and only they) came back');
    for (const m of members) {
      assert.deepEqual(m.problems, [], `${m.name}: ${JSON.stringify(m.problems.slice(0, 3))}`);
      assert.deepEqual(m.seqs, Array.from({ length: sent }, (_, i) => i + 1), `${m.name} saw every message once, in order`);
    }
  } finally {
    for (const m of members) { m.leaving = true; m.ws?.terminate(); }
    await server.stop();
    fs.rmSync(state, { recursive: true, force: true });
  }
});
